"""Linkability: can a synthetic table link two pieces of what an attacker knows about one real person?

Anonymeter's third attack (Giomi et al., 2023). The attacker holds two datasets about real people
that share no column, e.g. a hospital's demographics (columns A) and a lab's results (columns B),
and wants to know which rows are the same person. For each target, the attacker looks up its nearest
synthetic rows on A and, separately, on B; when the two lookups share a synthetic row, the two
pieces are linked. A synthetic table that reproduces training rows links training rows (members)
more often than real people it never saw (the holdout: an independent real sample of the same
population, the control). The risk is Anonymeter's
``(success on members - success on holdout) / (1 - success on holdout)``, judged on its 95% lower
confidence bound; a random guess's success rate is shown as the naive baseline.

Distances are the evaluation's mixed encoding (numeric columns scaled by their real range, one-hot
categories), restricted to each half's columns.
"""

from __future__ import annotations

from math import comb
from typing import Any

import numpy as np
import pandas as pd

from medsynth.core.errors import ConfigError
from medsynth.evaluation.results import MetricResult, judge, skipped
from medsynth.evaluation.tabular_data import MixedEncoder, TabularData, nearest
from medsynth.evaluation.tabular_privacy import SECTION, TabularContext, excess_risk

DESCRIPTION = (
    "Risk that the synthetic data lets an attacker link two records of one person held in two datasets with "
    "disjoint columns (Anonymeter's linkability): both halves of a training row find the same nearest synthetic "
    "row, beyond the rate for holdout rows: (success on training rows - success on holdout rows) / "
    "(1 - success on holdout rows)."
)


def random_link_rate(n_synthetic: int, k: int) -> float:
    """Chance that two independent random draws of ``k`` of ``n_synthetic`` rows share a row (the naive baseline)."""
    k = min(k, n_synthetic)
    if n_synthetic <= 0 or k <= 0:
        return 0.0
    return 1.0 - comb(n_synthetic - k, k) / comb(n_synthetic, k)


def split_columns(columns: list[str], rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """A seeded random split of ``columns`` into two halves (the attacker's two datasets)."""
    order = [columns[i] for i in rng.permutation(len(columns))]
    half = (len(order) + 1) // 2
    return sorted(order[:half], key=columns.index), sorted(order[half:], key=columns.index)


def link_success(enc_a: MixedEncoder, enc_b: MixedEncoder, targets: pd.DataFrame, X_a: np.ndarray, X_b: np.ndarray,
                 k: int, chunk: int) -> np.ndarray:
    """Per target row: True when its ``k`` nearest synthetic rows on columns A and on columns B share a row."""
    _, idx_a = nearest(enc_a.transform(targets), X_a, k, chunk=chunk)
    _, idx_b = nearest(enc_b.transform(targets), X_b, k, chunk=chunk)
    if k == 1:
        return idx_a[:, 0] == idx_b[:, 0]
    return np.array([bool(set(a) & set(b)) for a, b in zip(idx_a.tolist(), idx_b.tolist())], dtype=bool)


class Linkability:
    """Anonymeter-style linkability attack with the holdout as control."""

    name = "linkability"
    direction = "minimize"
    section = SECTION

    def compute(self, real: TabularData, synthetic: pd.DataFrame, *, context: TabularContext) -> list[MetricResult]:
        """Attack training rows and as many holdout rows; one ``linkability_risk`` result (skipped when too small)."""
        cfg = context.config
        tc = cfg.tabular
        cols = real.columns
        if tc.linkability_columns is not None:
            a, b = (list(x) for x in tc.linkability_columns)
            unknown = [c for c in a + b if c not in real.types]
            if unknown or not a or not b or set(a) & set(b):
                raise ConfigError(
                    f"tabular.linkability_columns {tc.linkability_columns}: give two non-empty lists of distinct columns "
                    f"of the evaluated table{f' (unknown: {unknown})' if unknown else ''}; columns are {cols}"
                )
        else:
            if len(cols) < 2:
                return [skipped("linkability_risk", SECTION, "minimize", DESCRIPTION, "needs at least 2 columns")]
            a, b = split_columns(cols, context.rng("linkability-split"))
        n = min(len(real.train), len(real.holdout), tc.linkability_attacks)
        if n < 1 or len(synthetic) < 1:
            return [skipped("linkability_risk", SECTION, "minimize", DESCRIPTION, "needs training, holdout and synthetic rows")]
        rng = context.rng("linkability")
        members = real.train.iloc[np.sort(rng.choice(len(real.train), n, replace=False))]
        control = real.holdout.iloc[np.sort(rng.choice(len(real.holdout), n, replace=False))]
        k = min(tc.linkability_neighbors, len(synthetic))
        enc_a, enc_b = MixedEncoder(real, a), MixedEncoder(real, b)
        X_a, X_b = enc_a.transform(synthetic), enc_b.transform(synthetic)
        hits_m = link_success(enc_a, enc_b, members, X_a, X_b, k, tc.chunk_rows)
        hits_c = link_success(enc_a, enc_b, control, X_a, X_b, k, tc.chunk_rows)
        r = excess_risk(float(hits_m.sum()), n, float(hits_c.sum()), n)
        naive = random_link_rate(len(synthetic), k)
        details: dict[str, Any] = {
            "columns_a": a, "columns_b": b, "neighbours": k, "attacks": n,
            "success_rate_train": r["attack_rate"], "success_rate_holdout": r["control_rate"],
            "success_rate_random_guess": naive, "risk_lower_95": r["risk_lower_95"],
            "links_train": int(hits_m.sum()), "links_holdout": int(hits_c.sum()),
        }
        note = "judged on the 95% lower confidence bound of the risk"
        if r["attack_rate"] <= naive:
            note += "; the attack did no better than a random guess, so this table gives no linkability signal"
        return [judge("linkability_risk", SECTION, r["risk"], "minimize", DESCRIPTION, threshold=cfg.privacy.linkability_risk,
                      baseline=0.0, enough=n >= cfg.min_samples_for_verdict, judged=r["risk_lower_95"], note=note,
                      details=details)]


__all__ = ["Linkability", "link_success", "random_link_rate", "split_columns"]
