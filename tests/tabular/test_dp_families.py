"""Families of category columns (names that differ only in their numbers: weekly flags, questionnaire items) get one
DP category list per family: a small wide table at epsilon 1 keeps them instead of leaving most empty
(carData::Rossi, 432 rows, emp1 ... emp52: 16 of 63 columns empty before)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medsynth.privacy.noise import insecure_noise_for_audit
from medsynth.tabular.schema import ColumnSchema, infer_schema


def _items(n: int = 300, k: int = 24, seed: int = 0) -> pd.DataFrame:
    rs = np.random.default_rng(seed)
    df = pd.DataFrame({f"item{i + 1}": rs.choice(["low", "mid", "high"], n, p=[0.3, 0.4, 0.3]) for i in range(k)})
    for i in range(k):  # more missing for later items (drop-outs)
        df.loc[rs.random(n) < 0.05 + 0.01 * i, f"item{i + 1}"] = None
    df["age"] = rs.integers(30, 80, n)
    df["score"] = rs.normal(50, 10, n).round(1)
    return df


def _kept(df: pd.DataFrame, seeds: range, k: int) -> tuple[int, list]:
    from medsynth.core.registry import SYNTHESIZERS, resolve

    kept, models = 0, []
    for seed in seeds:
        with insecure_noise_for_audit(4100 + seed):
            m = resolve(SYNTHESIZERS, "dp-mst")(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
        kept += sum(m.schema.column(f"item{i + 1}").categories == ["high", "low", "mid"] for i in range(k))
        assert m.ledger.rho_spent == pytest.approx(m.ledger.rho_budget, rel=1e-6)
        models.append(m)
    return kept, models


def test_a_family_of_items_keeps_its_categories_where_columns_alone_lose_them(monkeypatch):
    """24 three-level items on 300 rows at epsilon 1: released as a family, every item keeps its three values in
    nearly every fit; released one by one (families switched off), most of them lose values or are left empty."""
    import medsynth.tabular.domain as domain
    import medsynth.tabular.structure as structure

    df = _items()
    kept, models = _kept(df, range(3), 24)
    assert kept >= 3 * 22, kept
    m = models[0]
    assert any("column families" in note and "'item#' (24)" in note for note in m.ledger.notes), [n for n in m.ledger.notes if 'famil' in n]
    entry = next(e for e in m.ledger.entries if e.access.startswith("domains"))
    assert entry.details["per_column"]["item3"]["family"] == "item#"
    out = m.sample(300, seed=0)
    assert set(out["item1"].dropna()) <= {"low", "mid", "high"}
    monkeypatch.setattr(domain, "FAMILY_MIN", 10**6)
    monkeypatch.setattr(structure, "FAMILY_MIN", 10**6)
    alone, _ = _kept(df, range(3), 24)
    assert alone <= kept - 3 * 8, (alone, kept)


def test_a_value_one_row_holds_in_every_member_is_not_released():
    """A row adds up to k counts to the pooled histogram: its threshold is k + sigma z, so a value one patient wrote
    in all 8 columns (count 8) is never released, even at a budget where the noise is tiny (with sensitivity 1 it
    would clear 1 + sigma z)."""
    from medsynth.tabular.domain import release_family_lists

    rs = np.random.default_rng(0)
    df = pd.DataFrame({f"v{i}": rs.choice(["a", "b"], 200) for i in range(8)})
    df.loc[0, :] = "zzz"
    rng = np.random.default_rng(1)
    for rho in (1.0, 100.0, 1e4):
        lists = release_family_lists(df, {"v#": list(df.columns)}, {"v#": rho}, 1e-7, rng)
        assert set(lists["v0"].keys) == {"a", "b"}, (rho, lists["v0"].keys)
        assert lists["v7"].sigma == pytest.approx(8 / np.sqrt(2 * rho))


def test_families_come_from_names_and_types_only():
    from medsynth.tabular.domain import FAMILY_MIN, category_families, name_family

    assert name_family("emp12") == "emp#" and name_family("q_01a") == "q_#a" and name_family("age") is None
    cols = [ColumnSchema(name=f"emp{i}", type="categorical") for i in range(1, FAMILY_MIN + 1)]
    cols += [ColumnSchema(name="lab1", type="continuous"), ColumnSchema(name="lab2", type="continuous"),
             ColumnSchema(name="lab3", type="continuous"), ColumnSchema(name="lab4", type="continuous")]
    assert category_families(cols) == {"emp#": [f"emp{i}" for i in range(1, FAMILY_MIN + 1)]}
    assert category_families(cols[:FAMILY_MIN - 1]) == {}
    target = [c.model_copy(update={"target": c.name == "emp1"}) for c in cols]
    assert category_families(target) == {}
