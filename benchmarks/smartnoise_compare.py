"""Peer comparison: smartnoise-synth MST and DP-CTGAN at epsilon 1 on flchain/death (issue 3).

Runs in its OWN venv, never the project's: smartnoise-synth 1.0.8 pins opacus 0.14 (the project uses
opacus 1.6), so this script does not import medsynth. Setup, from the local mirror (about 1 min)::

    python3 -m venv /tmp/sn-venv && . /tmp/sn-venv/bin/activate
    pip install torch==2.13.0            # first: any other torch pulls GBs of CUDA wheels
    pip install smartnoise-synth scikit-learn pandas   # resolves opacus 0.14.0, mbi 1.1.0, pac-synth
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/smartnoise_compare.py [--repeats 3] [--ctgan-repeats 1]

Same protocol as ``benchmarks/tabular.py`` (data, split and classifier imported from there):

- data ``$MEDSYNTH_SHARED_DATA/tabular/flchain.csv`` (default ``../shared/data``), target ``death``,
  the 8 baseline covariates age, sex, sample.yr, kappa, lambda, flc.grp, creatinine, mgus;
- ``train_test_split(test_size=0.3, random_state=0, stratify=death)``; the synthesizer is fitted on
  the 70% (9 columns) and sampled to the same number of rows;
- TSTR: ``HistGradientBoostingClassifier(random_state=0)`` trained on the synthetic rows (sex coded
  M=1, everything numeric, NaN kept: HGB handles missing values) and scored by AUROC on the real 30%,
  beside the same classifier trained on the real 70% (TRTR);
- domains are public, read from the whole table (as ``public_schema`` in tabular.py): numeric bounds
  = the table's min/max, categories = the table's values; so no budget goes to bounds
  (``preprocessor_eps=0``); epsilon 1, delta 1e-5 (the value tabular.py passes).

smartnoise's own choices are kept (its defaults, which its users get): MST bins continuous columns
into BinTransformer's default 10 equal-width bins and decodes a bin to its midpoint; DP-CTGAN uses
its defaults (epochs 300, batch 500, sigma 5, per-layer clipping 1.0) and stops at the first epoch
whose *start* finds the RDP epsilon above the target, so it can overspend by up to one epoch: the
spent epsilon it reports (its last ``epsilon_list`` entry) is written beside the target. MST's noise
comes from OpenDP's sampler, which takes no seed, so MST is repeated (``--repeats``) and all runs are
written; the comparison uses their mean.

Writes ``benchmarks/results/smartnoise_flchain.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# The protocol's data, split and classifier come from tabular.py itself (it imports no medsynth at
# module level), so the two benchmarks cannot drift apart.
from tabular import COVARIATES, RESULTS, TARGET, auroc, flchain_split  # noqa: E402

CATEGORICAL = ["sex", "sample.yr", "flc.grp", "mgus", TARGET]
CONTINUOUS = ["age", "kappa", "lambda", "creatinine"]
EPSILON, DELTA = 1.0, 1e-5


def constraints(full: pd.DataFrame, style: str) -> dict[str, Any]:
    """Public bounds for the continuous columns (nullable where the table has missing values)."""
    from snsynth.transform import BinTransformer, MinMaxTransformer

    out: dict[str, Any] = {}
    for c in CONTINUOUS:
        lo, hi, nullable = float(full[c].min()), float(full[c].max()), bool(full[c].isna().any())
        out[c] = (BinTransformer(lower=lo, upper=hi, nullable=nullable) if style == "cube"
                  else MinMaxTransformer(lower=lo, upper=hi, nullable=nullable))
    return out


def to_frame(rows: Any, columns: list[str]) -> pd.DataFrame:
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=columns)
    df.columns = columns
    return df.replace({None: np.nan})


def run(name: str, train: pd.DataFrame, test: pd.DataFrame, full: pd.DataFrame, trtr: float, rep: int) -> dict[str, Any]:
    import torch
    from snsynth import Synthesizer

    np.random.seed(rep)
    torch.manual_seed(rep)
    style = "cube" if name == "mst" else "gan"
    kwargs: dict[str, Any] = {"delta": DELTA}
    if name == "dpctgan":
        kwargs.update(cuda=False, verbose=False)
    synth = Synthesizer.create(name, epsilon=EPSILON, **kwargs)
    data = train.astype(object).where(train.notna(), None)
    t0 = time.perf_counter()
    synth.fit(data, categorical_columns=list(CATEGORICAL), continuous_columns=list(CONTINUOUS),
              transformer=constraints(full, style), preprocessor_eps=0.0, nullable=True)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    syn = to_frame(synth.sample(len(train)), list(train.columns))
    sample_s = time.perf_counter() - t0
    spent = None
    if name == "dpctgan" and getattr(synth, "epsilon_list", None):
        spent = float(synth.epsilon_list[-1])  # RDP epsilon at the start of the last epoch it began
    elif name == "mst":
        spent = EPSILON  # zCDP rho calibrated to exactly (epsilon, delta) by OpenDP's binary search
    a = auroc(syn, test)
    r = {"model": f"smartnoise-{name}", "repeat": rep, "epsilon_target": EPSILON, "delta": DELTA,
         "epsilon_spent": None if spent is None else round(spent, 4),
         "epochs_run": len(getattr(synth, "epsilon_list", [])) or None,
         "fit_seconds": round(fit_s, 2), "sample_seconds": round(sample_s, 2),
         "rows_per_second": round(len(train) / sample_s), "tstr_auroc": round(a, 4),
         "tstr_over_trtr": round(a / trtr, 4)}
    print(json.dumps(r), flush=True)
    return r


def main(argv: list[str] | None = None) -> int:
    import torch

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="MST runs (its noise takes no seed)")
    ap.add_argument("--ctgan-repeats", type=int, default=1)
    ap.add_argument("--out", type=Path, default=RESULTS / "smartnoise_flchain.json")
    args = ap.parse_args(argv)
    from importlib.metadata import version

    full, train, test = flchain_split()
    trtr = auroc(train, test)
    rows = [run("mst", train, test, full, trtr, i) for i in range(args.repeats)]
    rows += [run("dpctgan", train, test, full, trtr, i) for i in range(args.ctgan_repeats)]
    summary = {}
    for m in ("smartnoise-mst", "smartnoise-dpctgan"):
        a = [r["tstr_auroc"] for r in rows if r["model"] == m]
        if a:
            summary[m] = {"runs": len(a), "tstr_auroc_mean": round(float(np.mean(a)), 4),
                          "tstr_auroc_min": min(a), "tstr_auroc_max": max(a)}
    out = {"dataset": "flchain", "target": TARGET, "covariates": COVARIATES, "split": "70/30 stratified, seed 0",
           "classifier": "sklearn HistGradientBoostingClassifier(random_state=0)", "train_rows": len(train),
           "trtr_auroc": round(trtr, 4), "domains": "public (bounds/categories of the whole table)",
           "machine": {"cpu_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                       "platform": platform.platform(), "python": platform.python_version()},
           "versions": {p: version(p) for p in ("smartnoise-synth", "opacus", "torch", "mbi", "scikit-learn", "pandas")},
           "results": rows, "summary": summary}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
