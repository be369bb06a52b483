"""Helpers of the tabular tests: a small mixed-type clinical table and its public schema."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsynth.tabular.schema import ColumnSchema, Constraint, TableSchema


def make_table(n: int = 64, seed: int = 0) -> pd.DataFrame:
    """A small EHR-like table: ID, integer age, sex, skewed lab with missing values, two dates
    (admit <= discharge), a 0/1 outcome that depends on age."""
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 90, n)
    admit = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    stay = rng.integers(0, 20, n)
    lab = np.round(rng.lognormal(0.0, 0.8, n), 2)
    lab[rng.random(n) < 0.15] = np.nan
    death = (rng.random(n) < 1 / (1 + np.exp(-(age - 70) / 8))).astype(int)
    return pd.DataFrame({
        "patient_id": [f"P{i:04d}" for i in range(n)],
        "age": age,
        "sex": rng.choice(["F", "M"], n),
        "creatinine": lab,
        "admit": admit.strftime("%d/%m/%Y"),
        "discharge": (admit + pd.to_timedelta(stay, unit="D")).strftime("%d/%m/%Y"),
        "death": death,
    })


def make_schema() -> TableSchema:
    return TableSchema(columns=[
        ColumnSchema(name="patient_id", type="identifier"),
        ColumnSchema(name="age", type="integer", min=18, max=100, public=True),
        ColumnSchema(name="sex", type="categorical", categories=["F", "M"], public=True),
        ColumnSchema(name="creatinine", type="continuous", min=0.0, max=15.0, missing=True, public=True, transform="log"),
        ColumnSchema(name="admit", type="datetime", format="%d/%m/%Y", min="2019-06-01", max="2021-06-30", public=True),
        ColumnSchema(name="discharge", type="datetime", format="%d/%m/%Y", min="2019-06-01", max="2021-06-30", public=True),
        ColumnSchema(name="death", type="categorical", categories=[0, 1], public=True),
    ], constraints=[Constraint(kind="le", columns=["admit", "discharge"])])


class Killed(Exception):
    """Stands for a kill -9 in the middle of training."""


def killed_at_first_checkpoint(monkeypatch, df: pd.DataFrame, out, cfg, schema: TableSchema | None = None) -> None:
    """Fit into ``out`` and stand for a kill -9 right after the first training checkpoint is written."""
    import pytest

    from medsynth.tabular import base
    from medsynth.tabular.run import fit_run

    original = base.TabularSynthesizer._checkpoint

    def die(self, state):
        original(self, state)
        raise Killed

    monkeypatch.setattr(base.TabularSynthesizer, "_checkpoint", die)
    with pytest.raises(Killed):
        fit_run(df, out, cfg, schema=schema if schema is not None else make_schema())
    monkeypatch.setattr(base.TabularSynthesizer, "_checkpoint", original)
