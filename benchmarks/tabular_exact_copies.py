"""How often ``exact_copy_share`` flags honest synthetic tables, and how often it catches verbatim copies.

The metric judges the share of synthetic rows identical to a training row by the one-sided 95% lower bound of its
excess over natural duplicates (:class:`medsynth.evaluation.tabular_privacy.ExactCopies`). This measures its verdicts
on real data, beside the two earlier rules it replaced (computed from the same report's details):

- ``point``: the share minus the synthetic rows' holdout copies scaled to the training set, judged as it is;
- ``scaled_null``: the same excess less 1.645 standard errors of that scaled rate alone (0 where no synthetic row met a
  holdout row);
- ``current``: the report's verdict (the larger of that rate and the holdout rows' own share of training copies, with
  that baseline's standard error).

Tables from ``flchain`` (7,874 rows, shared data): ``all`` (every column: no natural duplicates), ``three`` (kappa,
futime, chapter: about 1% of fresh rows equal a training row), ``coarse`` (sex, flc.grp, mgus, death, chapter: most
rows have twins). Per split (seeded): the rows are shuffled, train and holdout taken at 70/30 or 90/10 of 4,800 rows,
and the synthetic table is ``n`` real rows from the 3,074 left (an honest generator drawing from the population), of
which a share ``copied`` is replaced by training rows (a copier). A verdict is "flagged" when it is REVIEW or FAIL.

Run: ``PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/tabular_exact_copies.py [--splits 40]`` (a few minutes).
Writes ``benchmarks/results/tabular_exact_copies.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATA = Path(os.environ.get("MEDSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data")) / "tabular"
COLUMNS = {"all": None, "three": ["kappa", "futime", "chapter"], "coarse": ["sex", "flc.grp", "mgus", "death", "chapter"]}
POOL = 4800


def _verdict(excess: float, review: float, fail: float) -> str:
    return "fail" if excess > fail else "review" if excess > review else "pass"


def one(df: pd.DataFrame, split: float, n: int, copied: float, seed: int) -> dict[str, str]:
    from medsynth.evaluation import EvaluationConfig, evaluate_tabular

    rows = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    cut = int(POOL * split)
    train, holdout, rest = rows.iloc[:cut], rows.iloc[cut:POOL], rows.iloc[POOL:]
    k = int(round(copied * n))
    synthetic = pd.concat([rest.iloc[: n - k], train.sample(k, random_state=seed)], ignore_index=True)
    cfg = EvaluationConfig(metrics=["exact_copies"])
    m = evaluate_tabular(train.reset_index(drop=True), holdout.reset_index(drop=True), synthetic, mode="audit",
                         config=cfg).metric("exact_copy_share")
    th = cfg.privacy.exact_copy_share
    scaled = m.details["scaled_holdout_copy_share"]
    scale = len(train) / len(holdout)
    se = math.sqrt(max(scaled * (1 - scaled + scale), 0.0) / n)
    return {"current": m.verdict, "point": _verdict(m.value - scaled, th.review, th.fail),
            "scaled_null": _verdict(m.value - scaled - 1.645 * se, th.review, th.fail)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=40)
    args = ap.parse_args(argv)
    path = DATA / "flchain.csv"
    if not path.is_file():
        print(f"{path} is absent: set MEDSYNTH_SHARED_DATA", file=sys.stderr)
        return 2
    from medsynth.io.tables import read_table

    full = read_table(path)
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    for table, cols in COLUMNS.items():
        df = full if cols is None else full[cols]
        for split in (0.7, 0.9):
            for n in (500, 3000):
                for copied in (0.0, 0.01, 0.03, 0.05):
                    runs = [one(df, split, n, copied, seed) for seed in range(args.splits)]
                    row: dict[str, Any] = {"table": table, "train_share": split, "synthetic_rows": n, "copied": copied,
                                           "splits": args.splits}
                    for rule in ("current", "point", "scaled_null"):
                        v = [r[rule] for r in runs]
                        row[rule] = {"flagged": round(sum(x != "pass" for x in v) / len(v), 3),
                                     "fail": round(sum(x == "fail" for x in v) / len(v), 3)}
                    results.append(row)
                    print(json.dumps(row), flush=True)
    out = {"protocol": __doc__, "machine": {"cpu_cores": os.cpu_count(), "seconds": round(time.perf_counter() - t0, 1)},
           "results": results}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tabular_exact_copies.json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
