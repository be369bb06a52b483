"""The statistics of DP auditing: from an attack's successes to a lower bound on epsilon.

Two designs, both giving a bound that holds with probability at least ``1 - alpha`` over the audit's
own randomness (if the mechanism is (epsilon, delta)-DP, the bound exceeds epsilon with probability at
most ``alpha``):

- **Distinguishing test** (Jagielski et al. 2020, Nasr et al. 2021; the threshold tests of Google's DP
  stochastic tester and DP-Auditorium): the mechanism runs many times on two neighbouring tables D and
  D'; an attack calls each output "D" or "D'". For any test, (epsilon, delta)-DP forces
  ``FPR + e^eps * FNR >= 1 - delta`` and ``FNR + e^eps * FPR >= 1 - delta``. Clopper-Pearson upper
  bounds on the two error rates (each at ``alpha / 2``) turn that into
  ``eps >= log((1 - delta - FNR_up) / FPR_up)`` (and the same with the rates swapped).
- **One-run auditing** (Steinke, Nasr and Jagielski 2023, "Privacy Auditing with One (1) Training
  Run"): m canaries, each put in the table with probability 1/2, one fit; the attack scores every
  canary, guesses "in" for the k highest scores and "out" for the k lowest and abstains on the rest.
  Under (eps, delta)-DP the number of correct guesses v among r is dominated by a Binomial(r,
  e^eps / (1 + e^eps)) up to a delta term (their Theorem 3 / Algorithm 2): the p-value is
  ``P[Bin(r, q) >= v] + 2 m delta * max_i P[v - i <= Bin(r, q) < v] / i``.

Thresholds (and guess counts k) are either fixed before the outcomes are seen or chosen on one half of
the outcomes and evaluated on the other, or a fixed grid is corrected by Bonferroni; nothing here picks
the best of many bounds without paying for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats


def clopper_pearson_upper(k: int, n: int, alpha: float) -> float:
    """One-sided upper confidence bound (level ``1 - alpha``) on a binomial rate with ``k`` of ``n``."""
    if n <= 0 or k >= n:
        return 1.0
    return float(stats.beta.ppf(1.0 - alpha, k + 1, n - k))


def clopper_pearson_lower(k: int, n: int, alpha: float) -> float:
    """One-sided lower confidence bound (level ``1 - alpha``) on a binomial rate with ``k`` of ``n``."""
    if n <= 0 or k <= 0:
        return 0.0
    return float(stats.beta.ppf(alpha, k, n - k + 1))


def _log_ratio(num: float, den: float) -> float:
    return math.log(num / den) if num > 0 and den > 0 else 0.0


@dataclass
class TestCounts:
    """Errors of a distinguishing test: ``fp`` of ``negatives`` runs on D called D', ``fn`` of
    ``positives`` runs on D' called D."""

    fp: int
    negatives: int
    fn: int
    positives: int

    def to_dict(self) -> dict[str, int]:
        """The counts under self-explaining names (for the result's details)."""
        return {"false_positives": self.fp, "runs_on_D": self.negatives, "false_negatives": self.fn,
                "runs_on_D_prime": self.positives}


def distinguishing_epsilon(counts: TestCounts, delta: float, alpha: float) -> float:
    """The epsilon lower bound (confidence ``1 - alpha``) a distinguishing test's error counts give.

    Both error rates get a Clopper-Pearson upper bound at ``alpha / 2``; on the event that both hold,
    both inequalities of (eps, delta)-DP hold, so the larger of the two bounds is valid. Never negative.
    """
    fpr = clopper_pearson_upper(counts.fp, counts.negatives, alpha / 2)
    fnr = clopper_pearson_upper(counts.fn, counts.positives, alpha / 2)
    return max(0.0, _log_ratio(1.0 - delta - fnr, fpr), _log_ratio(1.0 - delta - fpr, fnr))


def perfect_attack_epsilon(runs_per_side: int, delta: float, alpha: float) -> float:
    """The largest bound a distinguishing test with ``runs_per_side`` runs on each table can reach
    (an attack that is always right): what sizes a test so that it can refute a claim at all."""
    return distinguishing_epsilon(TestCounts(0, runs_per_side, 0, runs_per_side), delta, alpha)


def runs_to_refute(epsilon: float, delta: float, alpha: float, *, margin: float = 1.5, cap: int = 400) -> int:
    """Runs per side a distinguishing test needs so that an always-right attack bounds epsilon by at
    least ``margin * epsilon`` (capped at ``cap``)."""
    target = margin * epsilon
    n = 2
    while n < cap and perfect_attack_epsilon(n, delta, alpha) < target:
        n += 1
    return n


@dataclass
class ThresholdResult:
    """A threshold test on attack scores: the bound, and how it was reached."""

    epsilon: float
    threshold: float
    direction: str  # "higher means D'" or "lower means D'"
    counts: TestCounts
    details: dict[str, Any] = field(default_factory=dict)


def _counts_at(neg: np.ndarray, pos: np.ndarray, threshold: float, higher: bool) -> TestCounts:
    if higher:
        return TestCounts(int(np.sum(neg > threshold)), neg.size, int(np.sum(pos <= threshold)), pos.size)
    return TestCounts(int(np.sum(neg < threshold)), neg.size, int(np.sum(pos >= threshold)), pos.size)


def _cp_upper(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    out = np.ones(k.shape)
    ok = k < n
    out[ok] = stats.beta.ppf(1.0 - alpha, k[ok] + 1, n - k[ok])
    return out


def _best_threshold(neg: np.ndarray, pos: np.ndarray, delta: float, alpha: float) -> tuple[float, bool]:
    """The threshold and direction that maximise the bound on these scores (all candidates at once)."""
    t = np.unique(np.concatenate([neg, pos]))
    neg_s, pos_s = np.sort(neg), np.sort(pos)
    neg_le = np.searchsorted(neg_s, t, side="right")  # runs on D with score <= t
    pos_le = np.searchsorted(pos_s, t, side="right")
    neg_lt = np.searchsorted(neg_s, t, side="left")  # score < t
    pos_lt = np.searchsorted(pos_s, t, side="left")
    best = (-1.0, float(t[0]) if t.size else 0.0, True)
    for higher, fp, fn in ((True, neg.size - neg_le, pos_le), (False, neg_lt, pos.size - pos_lt)):
        fpr, fnr = _cp_upper(fp, neg.size, alpha / 2), _cp_upper(fn, pos.size, alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(1 - delta - fnr > 0, np.log(np.maximum(1 - delta - fnr, 1e-300) / fpr), 0.0)
            b = np.where(1 - delta - fpr > 0, np.log(np.maximum(1 - delta - fpr, 1e-300) / fnr), 0.0)
        eps = np.maximum(np.maximum(a, b), 0.0)
        i = int(np.argmax(eps))
        if eps[i] > best[0]:
            best = (float(eps[i]), float(t[i]), higher)
    return best[1], best[2]


def threshold_test(scores_d: np.ndarray, scores_d_prime: np.ndarray, delta: float, alpha: float,
                   rng: np.random.Generator) -> ThresholdResult:
    """Distinguishing test with a threshold learnt on half of the runs and evaluated on the other half.

    Args:
        scores_d: the attack's score of each output of the mechanism run on D.
        scores_d_prime: the same on D'.
        delta: the claimed delta.
        alpha: one minus the confidence of the bound.
        rng: splits the runs into the halves (the audit's randomness, not the mechanism's).

    Returns:
        The bound from the held-out half (threshold and direction picked on the first half, where they
        maximise the same bound).
    """
    neg, pos = np.asarray(scores_d, float), np.asarray(scores_d_prime, float)
    pn, pp = rng.permutation(neg.size), rng.permutation(pos.size)
    n1, p1 = neg.size // 2, pos.size // 2
    t, higher = _best_threshold(neg[pn[:n1]], pos[pp[:p1]], delta, alpha)
    eval_neg, eval_pos = neg[pn[n1:]], pos[pp[p1:]]
    counts = _counts_at(eval_neg, eval_pos, t, higher)
    eps = distinguishing_epsilon(counts, delta, alpha)
    return ThresholdResult(epsilon=eps, threshold=t, direction="higher means D'" if higher else "lower means D'",
                           counts=counts, details={
                               "threshold_runs": int(n1 + p1), "evaluation_runs": int(eval_neg.size + eval_pos.size),
                               "best_possible": round(distinguishing_epsilon(TestCounts(0, eval_neg.size, 0, eval_pos.size),
                                                                             delta, alpha), 4)})


# -- one-run auditing -----------------------------------------------------------------------------------
def one_run_p_value(m: int, r: int, v: int, epsilon: float, delta: float) -> float:
    """P-value of ``v`` correct guesses out of ``r`` (of ``m`` canaries) under (epsilon, delta)-DP.

    Steinke, Nasr and Jagielski 2023, Theorem 3 with the delta term of their Algorithm 2.
    """
    if r <= 0 or v <= 0:
        return 1.0
    q = float(special.expit(epsilon))
    beta = float(stats.binom.sf(v - 1, r, q))
    if delta <= 0:
        return beta
    i = np.arange(1, v + 1)
    between = stats.binom.sf(v - i - 1, r, q) - beta  # P[v - i <= Bin(r, q) < v]
    extra = float(np.max(between / i, initial=0.0))
    return min(beta + extra * delta * 2 * m, 1.0)


def one_run_epsilon(m: int, r: int, v: int, delta: float, alpha: float) -> float:
    """The largest epsilon that ``v`` correct guesses of ``r`` refute at level ``alpha`` (0 if none)."""
    if one_run_p_value(m, r, v, 0.0, delta) > alpha:
        return 0.0
    lo, hi = 0.0, 1.0
    while one_run_p_value(m, r, v, hi, delta) <= alpha and hi < 64:
        lo, hi = hi, hi * 2
    for _ in range(50):
        mid = (lo + hi) / 2
        if one_run_p_value(m, r, v, mid, delta) <= alpha:
            lo = mid
        else:
            hi = mid
    return lo


@dataclass
class OneRunResult:
    """A one-run audit: the bound, the guess count that gave it, and the most an always-right attack
    could have shown with these canaries (claims above it cannot be refuted by this audit)."""

    epsilon: float
    canaries: int
    included: int
    guesses: int
    correct: int
    grid: list[int]
    best_possible: float = 0.0


def guess_grid(m: int) -> list[int]:
    """Guess counts k (k canaries guessed "in", k "out") tried by :func:`one_run_audit`, fixed by m alone."""
    return sorted({k for k in (m // 100, m // 50, m // 20, m // 10, m // 5, m // 2) if k >= 1})


def one_run_audit(scores: np.ndarray, included: np.ndarray, delta: float, alpha: float) -> OneRunResult:
    """One-run epsilon lower bound from canary scores (higher = more likely included).

    For each k of :func:`guess_grid` (fixed before the scores are seen), guess "in" for the k highest
    and "out" for the k lowest scores; each k is tested at ``alpha / len(grid)`` (Bonferroni), and
    the largest bound is returned.
    """
    scores, included = np.asarray(scores, float), np.asarray(included, bool)
    m = scores.size
    grid = guess_grid(m)
    order = np.argsort(-scores, kind="stable")
    results = []
    for k in grid:
        top, bottom = order[:k], order[m - k:]
        correct = int(included[top].sum() + (~included[bottom]).sum())
        eps = one_run_epsilon(m, 2 * k, correct, delta, alpha / len(grid))
        results.append(OneRunResult(eps, m, int(included.sum()), 2 * k, correct, grid))
    # the best bound; when none refutes anything, the most accurate guesses (for the report)
    best = max(results, key=lambda r: (r.epsilon, r.correct / r.guesses))
    best.best_possible = max(one_run_epsilon(m, 2 * k, 2 * k, delta, alpha / len(grid)) for k in grid)
    return best


__all__ = [
    "OneRunResult",
    "TestCounts",
    "ThresholdResult",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "distinguishing_epsilon",
    "guess_grid",
    "one_run_audit",
    "one_run_epsilon",
    "one_run_p_value",
    "perfect_attack_epsilon",
    "runs_to_refute",
    "threshold_test",
]
