"""Noise mechanisms and zCDP accounting on numpy: Gaussian histograms, DP bounds, DP category lists.

Accounting is in zero-concentrated DP (zCDP, "rho"): a Gaussian mechanism with L2 sensitivity 1 and
noise ``sigma`` is ``1 / (2 sigma^2)``-zCDP, rhos add up under composition, and
:func:`cdp_rho` / :func:`cdp_epsilon` convert to and from (epsilon, delta) with the conversion of
Canonne, Kamath and Steinke (2020), as in the private-pgm (mbi) library.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from medsynth.core.errors import PrivacyBudgetError


@functools.lru_cache(maxsize=4096)  # pure, and called on every ledger conversion
def cdp_delta(rho: float, epsilon: float) -> float:
    """The smallest delta such that rho-zCDP implies (epsilon, delta)-DP (CKS 2020, Prop. 12)."""
    if rho < 0 or epsilon < 0:
        raise PrivacyBudgetError(f"rho {rho} and epsilon {epsilon} must be non-negative")
    if rho == 0:
        return 0.0
    amin, amax = 1.01, (epsilon + 1) / (2 * rho) + 2
    alpha = amin
    for _ in range(200):
        alpha = (amin + amax) / 2
        derivative = (2 * alpha - 1) * rho - epsilon + math.log1p(-1.0 / alpha)
        if derivative < 0:
            amin = alpha
        else:
            amax = alpha
    log_delta = (alpha - 1) * (alpha * rho - epsilon) + alpha * math.log1p(-1 / alpha) - math.log(alpha - 1.0)
    return min(math.exp(min(log_delta, 0.0)), 1.0)


@functools.lru_cache(maxsize=4096)  # pure, and called on every ledger conversion
def cdp_rho(epsilon: float, delta: float) -> float:
    """The largest rho such that rho-zCDP implies (epsilon, delta)-DP."""
    if epsilon <= 0 or not math.isfinite(epsilon):
        raise PrivacyBudgetError(f"epsilon {epsilon} must be a positive finite number")
    if not 0 < delta < 1:
        raise PrivacyBudgetError(f"delta {delta} must be in (0, 1)")
    lo, hi = 0.0, epsilon + 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if cdp_delta(mid, epsilon) <= delta:
            lo = mid
        else:
            hi = mid
    return lo


@functools.lru_cache(maxsize=4096)  # pure, and called on every ledger conversion
def cdp_epsilon(rho: float, delta: float) -> float:
    """The smallest epsilon such that rho-zCDP implies (epsilon, delta)-DP."""
    if rho <= 0:
        return 0.0
    lo, hi = 0.0, rho + 2 * math.sqrt(rho * math.log(1 / delta)) + 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if cdp_delta(rho, mid) <= delta:
            hi = mid
        else:
            lo = mid
    return hi


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """Noise scale of a Gaussian mechanism that is ``rho``-zCDP for the given L2 sensitivity."""
    if rho <= 0:
        raise PrivacyBudgetError(f"rho {rho} must be positive")
    return sensitivity / math.sqrt(2 * rho)


def noisy_counts(counts: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Counts plus N(0, sigma^2) noise (the Gaussian mechanism on a histogram; sensitivity 1)."""
    return counts.astype(float) + rng.normal(0.0, sigma, size=counts.shape)


def noisy_count(n: int, rho: float, rng: np.random.Generator) -> float:
    """The Gaussian mechanism on a count (sensitivity 1 under add/remove): ``n + N(0, 1 / (2 rho))``.

    Under the add/remove relation the number of rows is private; models that need it (sampling rates,
    grids) use this DP estimate instead."""
    return float(n) + float(rng.normal(0.0, gaussian_sigma(rho)))


#: Noisy counts above this many standard deviations of the noise count as "present" (a missing-value
#: state, an occupied order of magnitude): pure noise passes it with probability 0.13%.
PRESENCE_SIGMAS = 3.0


@dataclass(frozen=True)
class BoundsResult:
    """DP bounds of a numeric column, and whether it holds missing values (released with the same noise).

    Attributes:
        low: lower bound.
        high: upper bound.
        rho: zCDP cost.
        missing: whether the noisy count of missing values passed ``PRESENCE_SIGMAS`` standard deviations.
        log_scale: whether the values are non-negative and span at least ``LOG_OCTAVES`` occupied powers
            of two (a factor 32), by the same noisy stage-1 histogram (post-processing, free): such a
            column is better modelled on a log scale.
    """

    low: float
    high: float
    rho: float
    missing: bool = False
    log_scale: bool = False


_LOG_MIN, _LOG_MAX = -8, 40  # buckets cover |x| in [2^-8, 2^41)
#: Occupied powers of two from which a non-negative column is modelled on a log scale (a factor 32).
LOG_OCTAVES = 5


def _log_bucket_index(values: np.ndarray) -> np.ndarray:
    a = np.abs(values)
    e = np.floor(np.log2(np.maximum(a, 2.0**_LOG_MIN)))
    k = np.clip(e, _LOG_MIN, _LOG_MAX).astype(int) - _LOG_MIN + 1  # 1..K
    k[a < 2.0**_LOG_MIN] = 0
    return np.sign(values).astype(int) * k


def _union_threshold(buckets: int, false_rate: float = 1e-3) -> float:
    """Standard deviations a noisy count of zero exceeds in any of ``buckets`` with probability ``false_rate``."""
    return float(math.sqrt(2) * special.erfinv(1 - 2 * false_rate / buckets))


def _log_bucket_edges(idx: int) -> tuple[float, float]:
    if idx == 0:
        return -(2.0**_LOG_MIN), 2.0**_LOG_MIN
    k = abs(idx) - 1 + _LOG_MIN
    lo, hi = 2.0**k, 2.0 ** (k + 1)
    return (lo, hi) if idx > 0 else (-hi, -lo)


def dp_bounds(values: np.ndarray, rho: float, rng: np.random.Generator, *, bins: int = 64, tail: float = 0.002) -> BoundsResult:
    """Estimate a numeric column's range (and whether it has missing values) with ``rho``-zCDP.

    Stage 1 (rho/2): a noisy histogram over signed powers of two finds the occupied orders of
    magnitude; missing values (NaN) are one more bucket of the same histogram (each row lands in one
    bucket, so this costs nothing extra), released as "the column has missing values" when its noisy
    count clears ``PRESENCE_SIGMAS`` standard deviations. Stage 2 (rho/2): a noisy ``bins``-bin
    histogram inside that range (bins that cannot be told from noise set to zero) gives the range holding all but a
    fraction ``tail`` of the mass at each end. Outliers in
    sparse tails are cut off (they are clipped when encoded), which is the point: DP cannot reveal them;
    noise only spreads mass outwards, so the bulk of the data is kept.

    Raises:
        PrivacyBudgetError: when no bucket clears the threshold (too few rows for the budget).
    """
    values = np.asarray(values, dtype=float)
    n_missing = int(np.sum(np.isnan(values)))
    values = values[np.isfinite(values)]
    sigma = gaussian_sigma(rho / 2)
    kmax = _LOG_MAX - _LOG_MIN + 1
    idx = _log_bucket_index(values) + kmax
    counts = np.append(np.bincount(idx, minlength=2 * kmax + 1), n_missing)  # last bucket: missing
    noisy = noisy_counts(counts, sigma, rng)
    missing = bool(noisy[-1] > PRESENCE_SIGMAS * sigma)
    noisy = noisy[:-1]
    # ~100 value buckets are tested at once: a per-bucket threshold of 3 sigma would let a pure-noise
    # bucket (e.g. at 2^40) through for about 1 column in 8; this one lets it through for 1 in 1000
    keep = np.nonzero(noisy > _union_threshold(noisy.size) * sigma)[0]
    if keep.size == 0:
        raise PrivacyBudgetError(
            f"cannot estimate a range with DP: no value bucket stands above the noise (sigma {sigma:.1f}); "
            "declare min/max with public: true in the schema, or give more budget or more rows"
        )
    positive = keep[keep > kmax]  # buckets of values >= 2^-8
    log_scale = bool(keep[0] >= kmax and positive.size and positive[-1] - positive[0] + 1 >= LOG_OCTAVES)
    low = _log_bucket_edges(int(keep[0]) - kmax)[0]
    high = _log_bucket_edges(int(keep[-1]) - kmax)[1]
    edges = np.linspace(low, high, bins + 1)
    fine = np.histogram(np.clip(values, low, high), bins=edges)[0]
    noisy_fine = noisy_counts(fine, sigma, rng)
    # bins whose noisy count cannot be told from noise carry no mass: else the noise of ~60 empty bins
    # outweighs the tail trim and the range never tightens inside the power of two
    mass = np.where(noisy_fine > _union_threshold(bins) * sigma, noisy_fine, 0.0)
    if mass.sum() > 0:  # trim the outer `tail` of the noisy mass (noise only widens the result)
        cum = np.cumsum(mass) / mass.sum()
        first = int(np.searchsorted(cum, tail, side="right"))
        last = int(np.searchsorted(cum, 1 - tail, side="left"))
        low, high = float(edges[min(first, bins - 1)]), float(edges[min(last, bins - 1) + 1])
    return BoundsResult(low=float(low), high=float(high), rho=rho, missing=missing, log_scale=log_scale)


def dp_categories(keys: np.ndarray, rho: float, delta: float, rng: np.random.Generator) -> list[str]:
    """Release the categories of a column with DP (a thresholded noisy histogram over seen values).

    Each seen value gets a Gaussian-noised count (``rho``-zCDP); values whose noisy count exceeds
    ``1 + sigma * z(1 - delta)`` are released. A value held by one person is released with
    probability at most ``delta``, the extra delta of the stability-based histogram.

    Returns:
        The released category keys, most frequent first.
    """
    sigma = gaussian_sigma(rho)
    uniq, counts = np.unique(np.asarray(keys, dtype=str), return_counts=True)
    noisy = noisy_counts(counts, sigma, rng)
    threshold = 1.0 + sigma * math.sqrt(2) * special.erfinv(1 - 2 * delta)
    order = np.argsort(-noisy)
    return [str(uniq[i]) for i in order if noisy[i] > threshold]


def dp_presence(count: int, rho: float, rng: np.random.Generator) -> bool:
    """Whether a count (e.g. of a column's missing values) stands above Gaussian noise.

    The count gets noise of scale ``gaussian_sigma(rho)`` and is released as "present" when it exceeds
    ``PRESENCE_SIGMAS`` standard deviations (pure noise passes with probability 0.13%). Meant as one
    more bucket of a histogram of the same column that already pays ``rho`` (e.g. "missing" beside the
    category counts of :func:`dp_categories`): each row lands in one bucket, so the joint L2
    sensitivity stays 1 and the bucket costs nothing extra. It is a fixed key, so it needs no delta.
    """
    sigma = gaussian_sigma(rho)
    return bool(noisy_counts(np.array([count]), sigma, rng)[0] > PRESENCE_SIGMAS * sigma)


def exponential_mechanism(scores: np.ndarray, epsilon: float, sensitivity: float, rng: np.random.Generator) -> int:
    """Pick an index with probability proportional to exp(epsilon * score / (2 * sensitivity))."""
    s = 0.5 * epsilon / sensitivity * (scores - scores.max())
    p = np.exp(s - special.logsumexp(s))
    return int(rng.choice(scores.size, p=p / p.sum()))


__all__ = [
    "PRESENCE_SIGMAS",
    "BoundsResult",
    "cdp_delta",
    "cdp_epsilon",
    "cdp_rho",
    "dp_bounds",
    "dp_categories",
    "dp_presence",
    "exponential_mechanism",
    "gaussian_sigma",
    "noisy_count",
    "noisy_counts",
]
