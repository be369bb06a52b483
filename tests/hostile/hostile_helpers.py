"""Helpers of the hostile-input tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medsynth.cli.main import main


def small_table(n: int = 64, seed: int = 0) -> pd.DataFrame:
    """A small EHR-like table with an id column, integers, a category and a skewed lab."""
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 90, n)
    return pd.DataFrame({
        "id": np.arange(1, n + 1),
        "age": age,
        "sex": rng.choice(["F", "M"], n),
        "bili": np.round(rng.lognormal(0.0, 0.8, n), 2),
        "death": (rng.random(n) < 1 / (1 + np.exp(-(age - 70) / 8))).astype(int),
    })


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run ``medsynth ARGS`` in this process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err
