"""Example tables that work offline: a real clinical table that ships with scikit-learn and a simulated
admissions table the package makes.

* :func:`clinical_table`: the Wisconsin diagnostic breast cancer data (569 patients, 30 measurements,
  diagnosis), from ``sklearn.datasets.load_breast_cancer``. Its published description lists every
  feature's range (read from that text, not from the rows), so :func:`public_schema` declares the bounds
  public, rounded outwards to one significant digit; the diagnosis categories are public too. It is the
  hard case for DP at epsilon 1: 30 strongly correlated measurements of 398 training rows.
* :func:`admissions_table`: simulated hospital admissions (age, sex, admission type, diagnosis group,
  length of stay, ICU stay, creatinine band, weekday, 30-day readmission) with known dependencies, any number of rows, and
  :func:`admissions_schema` (domain knowledge, declared public). A few thousand rows of mostly discrete
  columns is what marginal-based DP synthesizers handle well.

* :func:`hospital_stays`: simulated linked tables of MIMIC's shape (patients, their admissions with admit and
  discharge times, lab results charted during each stay and stored by lab id, not in time order; a tenth of the
  stays have a first lab hours before the admission time, as ED labs do), for trying and testing times that
  depend on a parent's times.

The demo (:mod:`medsynth.demo.tabular`) and the DP audit's built-in table use these.
"""

from __future__ import annotations

TARGET = "diagnosis"


def clinical_table():  # -> pd.DataFrame
    """The breast cancer table with a readable target column (``diagnosis``: malignant/benign)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame = frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame[TARGET] = frame.pop("target").map({0: "malignant", 1: "benign"})
    return frame


def published_bounds() -> dict[str, tuple[float, float]]:
    """Each feature's (min, max) as printed in the dataset's published description (its DESCR text).

    These are public: they are part of the dataset's documentation, read here from the text, never
    computed from the rows the model is fitted on.
    """
    import re

    from sklearn.datasets import load_breast_cancer

    from medsynth.core.errors import DataValidationError

    kinds = {"mean": "mean_{}", "standard error": "{}_error", "worst": "worst_{}"}
    bounds = {}
    for feature, kind, lo, hi in re.findall(r"^([a-z ]+) \((mean|standard error|worst)\):\s+([\d.]+)\s+([\d.]+)\s*$",
                                            load_breast_cancer().DESCR, flags=re.M):
        bounds[kinds[kind].format(feature.strip().replace(" ", "_"))] = (float(lo), float(hi))
    if len(bounds) != 30:
        raise DataValidationError(f"expected 30 published feature ranges in the breast cancer description, found {len(bounds)}")
    return bounds


def _round_out(value: float, up: bool) -> float:
    """``value`` rounded outwards to one significant digit (2501 -> 3000 up, 143.5 -> 100 down)."""
    import math

    if value <= 0:
        return 0.0
    scale = 10.0 ** math.floor(math.log10(value))
    return (math.ceil if up else math.floor)(value / scale) * scale


def public_schema(df):  # -> TableSchema
    """Published ranges rounded outwards to one significant digit, no missing values (the description
    says so), public categories.

    The description's ranges are the extremes of the very rows the demo trains on, so declaring them
    (or them widened by a fixed fraction, which can be undone) as bounds would release each extreme
    patient's value exactly. Rounded outwards to one significant digit, the bounds say only the order
    of magnitude of each feature: the kind of range a clinician would declare from domain knowledge."""
    from medsynth.core.errors import DataValidationError
    from medsynth.tabular.schema import ColumnSchema, TableSchema

    bounds = published_bounds()
    missing = [c for c in df.columns if c != TARGET and c not in bounds]
    if missing:
        raise DataValidationError(f"no published range for columns {missing}")
    cols = []
    for name in df.columns:
        if name == TARGET:
            cols.append(ColumnSchema(name=name, type="categorical", categories=["benign", "malignant"], public=True))
            continue
        lo, hi = bounds[name]
        cols.append(ColumnSchema(name=name, type="continuous", min=_round_out(lo, up=False), max=_round_out(hi, up=True),
                                 public=True))
    return TableSchema(columns=cols)


ADMISSIONS_TARGET = "readmitted_30d"
_DIAGNOSES = ["cardiac", "respiratory", "infection", "trauma", "digestive", "renal", "neoplasm", "other"]


def admissions_table(n: int = 4000, seed: int = 0):  # -> pd.DataFrame
    """Simulated hospital admissions with known dependencies (no real patient is in them).

    Columns: ``age`` (18-99), ``sex``, ``admission_type`` (emergency / elective / urgent, depends on
    age), ``diagnosis`` (8 groups, depends on age and admission type), ``length_of_stay`` (days, 1-60,
    depends on diagnosis and age), ``icu`` (yes / no, depends on diagnosis and stay), ``creatinine``
    (normal / raised / high band, higher with age and in renal disease), ``weekday`` of admission and
    ``readmitted_30d`` (yes / no, depends on age, stay,
    ICU and diagnosis).

    Args:
        n: number of admissions.
        seed: seeds the simulation (the same seed gives the same table).
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(62, 17, n), 18, 99).round().astype(int)
    sex = rng.choice(["F", "M"], n, p=[0.48, 0.52])
    p_emerg = np.clip(0.35 + 0.006 * (age - 18), 0.35, 0.8)
    u = rng.random(n)
    adm = np.where(u < p_emerg, "emergency", np.where(u < p_emerg + 0.15, "urgent", "elective"))
    base = np.array([0.18, 0.14, 0.12, 0.10, 0.14, 0.06, 0.12, 0.14])
    diag = np.empty(n, dtype=object)
    for i in range(n):
        w = base.copy()
        old = age[i] >= 70
        w[0] *= 1.8 if old else 0.8
        w[3] *= 0.6 if old else 1.6
        w[6] *= 1.9 if adm[i] == "elective" else 0.7
        w[2] *= 1.5 if adm[i] == "emergency" else 0.7
        diag[i] = _DIAGNOSES[rng.choice(len(w), p=w / w.sum())]
    scale = {"cardiac": 5, "respiratory": 6, "infection": 7, "trauma": 4, "digestive": 4, "renal": 6, "neoplasm": 9, "other": 3}
    los = np.array([rng.gamma(2.0, scale[d] / 2.0) for d in diag]) * (1 + 0.01 * (age - 60).clip(0))
    los = np.clip(np.ceil(los), 1, 60).astype(int)
    p_icu = np.clip(0.05 + 0.012 * los + np.isin(diag, ["cardiac", "respiratory", "trauma"]) * 0.12, 0, 0.9)
    icu = np.where(rng.random(n) < p_icu, "yes", "no")
    # creatinine as the lab reports its band (normal / raised / high), higher with age and in renal disease
    creat = rng.lognormal(np.log(0.9) + 0.004 * (age - 60) + np.where(diag == "renal", 0.9, 0.0), 0.3)
    creat_band = np.where(creat < 1.2, "normal", np.where(creat < 2.0, "raised", "high"))
    weekday = rng.choice(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], n, p=[0.17, 0.16, 0.16, 0.15, 0.15, 0.1, 0.11])
    logit = -3.6 + 0.04 * (age - 60) + 0.12 * los + 1.2 * (icu == "yes") + np.isin(diag, ["cardiac", "renal", "neoplasm"]) * 1.0
    readm = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return pd.DataFrame({"age": age, "sex": sex, "admission_type": adm, "diagnosis": diag.astype(str),
                         "length_of_stay": los, "icu": icu, "creatinine": creat_band, "weekday": weekday, ADMISSIONS_TARGET: readm})


def admissions_schema():  # -> TableSchema
    """The admissions table's domain, declared from domain knowledge (not read from the rows): ages 18-100,
    stays 1-60 days (the simulation's cap), the categories."""
    from medsynth.tabular.schema import ColumnSchema, TableSchema

    cat = {"sex": ["F", "M"], "admission_type": ["elective", "emergency", "urgent"], "diagnosis": sorted(_DIAGNOSES),
           "icu": ["no", "yes"], "creatinine": ["high", "normal", "raised"],
           "weekday": ["Fri", "Mon", "Sat", "Sun", "Thu", "Tue", "Wed"], ADMISSIONS_TARGET: ["no", "yes"]}
    cols = [ColumnSchema(name="age", type="integer", min=18, max=100, public=True)]
    cols += [ColumnSchema(name=c, type="categorical", categories=cat[c], public=True) for c in ("sex", "admission_type", "diagnosis")]
    cols.append(ColumnSchema(name="length_of_stay", type="integer", min=1, max=60, public=True))
    cols.append(ColumnSchema(name="icu", type="categorical", categories=cat["icu"], public=True))
    cols += [ColumnSchema(name=c, type="categorical", categories=cat[c], public=True) for c in ("creatinine", "weekday")]
    cols.append(ColumnSchema(name=ADMISSIONS_TARGET, type="categorical", categories=cat[ADMISSIONS_TARGET], public=True))
    return TableSchema(columns=cols)


__all__ = ["ADMISSIONS_TARGET", "TARGET", "admissions_schema", "admissions_table", "clinical_table", "public_schema", "published_bounds"]


def hospital_stays(n: int = 500, seed: int = 0) -> dict:  # -> dict[str, pd.DataFrame]
    """``{"patients", "admissions", "labevents"}``: ``n`` patients with 1-3 admissions each (stays of about 4 days,
    log-normal; 30-700 days apart), 2-8 labs per admission charted during the stay (a tenth of the admissions have
    their first lab 1-6 hours before the admission time), labs shuffled (stored by lab id). Dates are written
    ``YYYY-MM-DD HH:MM:SS`` in the 2150s, as MIMIC's shifted dates are."""
    import numpy as np
    import pandas as pd

    day = pd.Timedelta(days=1)
    rng = np.random.default_rng(seed)
    patients = pd.DataFrame({"subject_id": np.arange(10001, 10001 + n), "gender": rng.choice(["F", "M"], n),
                             "anchor_age": rng.integers(20, 90, n)})
    adm, labs = [], []
    hadm = 20000001
    for sid in patients["subject_id"]:
        t = pd.Timestamp("2150-01-01") + rng.uniform(0, 3650) * day
        for _ in range(int(rng.integers(1, 4))):
            los = float(np.exp(rng.normal(np.log(4.0), 0.6)))
            admit, disch = t, t + los * day
            adm.append({"hadm_id": hadm, "subject_id": sid, "admittime": admit.floor("min"), "dischtime": disch.floor("min"),
                        "admission_type": rng.choice(["EW EMER.", "ELECTIVE", "URGENT"])})
            times = np.sort(rng.uniform(0.02, 0.9, int(rng.integers(2, 9)))) * los
            if rng.random() < 0.1:
                times[0] = -rng.uniform(1, 6) / 24
            for x in times:
                labs.append({"hadm_id": hadm, "charttime": (admit + x * day).floor("min"),
                             "itemid": int(rng.choice([50912, 50971, 51301])), "valuenum": round(float(rng.lognormal(0, 0.4)), 2)})
            hadm += 1
            t = disch + rng.uniform(30, 700) * day
    labevents = pd.DataFrame(labs).sample(frac=1.0, random_state=seed).reset_index(drop=True)  # not in time order
    labevents.insert(0, "labevent_id", np.arange(1, len(labevents) + 1))
    fmt = "%Y-%m-%d %H:%M:%S"
    admissions = pd.DataFrame(adm)
    for c in ("admittime", "dischtime"):
        admissions[c] = admissions[c].dt.strftime(fmt)
    labevents["charttime"] = labevents["charttime"].dt.strftime(fmt)
    return {"patients": patients, "admissions": admissions, "labevents": labevents}


def lab_times(tables: dict):  # -> pd.DataFrame
    """Each lab of :func:`hospital_stays`-shaped tables: days since its admission's admit time (``after``) and until
    its discharge (``left``; negative after it), and the stay's length (``stay``)."""
    import pandas as pd

    day = pd.Timedelta(days=1)
    a = tables["admissions"]
    a = a.assign(admit=pd.to_datetime(a["admittime"]), disch=pd.to_datetime(a["dischtime"]))
    m = tables["labevents"].merge(a[["hadm_id", "admit", "disch"]], on="hadm_id")
    t = pd.to_datetime(m["charttime"])
    return pd.DataFrame({"after": (t - m["admit"]) / day, "left": (m["disch"] - t) / day, "stay": (m["disch"] - m["admit"]) / day})
