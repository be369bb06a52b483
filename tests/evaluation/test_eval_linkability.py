"""Linkability (Anonymeter's third attack) in the tabular audit: known answers on both sides of the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medsynth.core.errors import ConfigError
from medsynth.evaluation import evaluate_tabular
from medsynth.evaluation.config import EvaluationConfig
from medsynth.evaluation.tabular_linkability import random_link_rate, split_columns


def _linkability(train, holdout, synthetic, **tabular) -> dict:
    cfg = EvaluationConfig(metrics=["linkability"])
    for k, v in tabular.items():
        setattr(cfg.tabular, k, v)
    report = evaluate_tabular(train, holdout, synthetic, config=cfg, mode="audit")
    (m,) = report.results
    assert m.name == "linkability_risk"
    return {"value": m.value, "verdict": m.verdict, **m.details}


def test_random_link_rate_matches_simulation() -> None:
    rng = np.random.default_rng(0)
    n, k, trials = 40, 3, 20000
    hits = sum(bool(set(rng.choice(n, k, replace=False)) & set(rng.choice(n, k, replace=False))) for _ in range(trials))
    p = random_link_rate(n, k)
    assert abs(hits / trials - p) < 4 * np.sqrt(p * (1 - p) / trials)
    assert random_link_rate(10, 1) == pytest.approx(0.1) and random_link_rate(5, 5) == 1.0 and random_link_rate(0, 1) == 0.0


def test_split_is_seeded_disjoint_and_complete() -> None:
    cols = list("abcdefg")
    a, b = split_columns(cols, np.random.default_rng(3))
    assert sorted(a + b) == cols and not set(a) & set(b) and len(a) == 4
    assert (a, b) == split_columns(cols, np.random.default_rng(3))


def test_copied_rows_fail_and_an_independent_sample_passes(small_tables: dict[str, pd.DataFrame]) -> None:
    t = small_tables
    copied = _linkability(t["train"], t["holdout"], t["copied"])
    # Half the synthetic rows copy a training row; a 2-column half of 5 columns often ties, so not every copy links.
    assert copied["verdict"] == "fail" and copied["risk_lower_95"] > 0.10
    assert copied["success_rate_train"] > copied["success_rate_holdout"] + 0.1
    independent = _linkability(t["train"], t["holdout"], t["independent"])
    assert independent["verdict"] == "pass" and independent["risk_lower_95"] < 0.05


def test_holdout_as_synthetic_links_the_control_not_the_members(small_tables: dict[str, pd.DataFrame]) -> None:
    t = small_tables
    r = _linkability(t["train"], t["holdout"], t["holdout"])
    assert r["success_rate_holdout"] > r["success_rate_train"] + 0.1 and r["value"] == 0.0 and r["verdict"] == "pass"


def test_declared_columns_are_used_and_bad_ones_named(small_tables: dict[str, pd.DataFrame]) -> None:
    t = small_tables
    r = _linkability(t["train"], t["holdout"], t["copied"], linkability_columns=(["age", "sex"], ["lab", "stage"]))
    assert r["columns_a"] == ["age", "sex"] and r["columns_b"] == ["lab", "stage"]
    with pytest.raises(ConfigError, match="unknown: \\['weight'\\]"):
        _linkability(t["train"], t["holdout"], t["copied"], linkability_columns=(["age", "weight"], ["lab"]))
    with pytest.raises(ConfigError, match="distinct columns"):
        _linkability(t["train"], t["holdout"], t["copied"], linkability_columns=(["age"], ["age", "lab"]))


def test_flchain_half_copied_fails_and_independent_passes(flchain_split) -> None:
    tr, ho = pd.read_csv(flchain_split["train"]), pd.read_csv(flchain_split["holdout"])
    copied = _linkability(tr, ho, pd.read_csv(flchain_split["copied"]))
    independent = _linkability(tr, ho, pd.read_csv(flchain_split["independent"]))
    assert copied["verdict"] == "fail" and independent["verdict"] == "pass"
    assert copied["success_rate_train"] > independent["success_rate_train"] + 0.2
