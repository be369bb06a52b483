"""Patient-level DP for multi-table fits: budget views with a sensitivity, per-parent child counts, bounds.

**The unit of privacy is a row of the root table** (a patient) with every row linked to it. Adding or
removing a patient changes each histogram over a child table by as many rows as the patient has
there, so a child table's contributions are bounded: each parent keeps at most ``K`` rows of each child
table (chosen at random with the DP noise generator, never the first ones), and a patient then holds at
most ``s = K_1 * K_2 * ...`` rows of a table ``s`` levels of bounds down. Every mechanism on such rows is
run with its sensitivity scaled by ``s``.

:class:`LedgerView` does that scaling for mechanisms written for sensitivity 1 (the domain estimates
and DP-MST of :mod:`medsynth.tabular`): it shows them a zCDP budget of ``rho / s**2`` and records
``s**2`` times what they spend. For a Gaussian mechanism, noise ``sigma = sqrt(1 / (2 rho'))`` on data
whose L2 sensitivity is ``s`` costs ``s**2 / (2 sigma**2) = rho``; for the exponential mechanism with
``epsilon'`` on a score of sensitivity ``s``, ``(s epsilon')**2 / 8`` in zCDP; both are what it records.

:func:`dp_count_distribution` releases the distribution of the number of children per parent: a DP
range (two-stage noisy histogram of :func:`~medsynth.privacy.mechanisms.dp_bounds`), then one noisy
count per value inside it, smoothed (post-processing) by a Whittaker smoother whose order and strength
minimise Mallows' Cp for the known noise variance. :func:`choose_bound` picks ``K`` from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.mechanisms import _union_threshold, gaussian_sigma

#: Counts below this get one histogram cell each; above, cells of growing width (8-11, 12-15, 16-23, ...: the groups
#: that find the support), one noise draw each. With a cell per count up to 1,023, a wide distribution (nafld's labs,
#: 0-124 per patient, median 16, 175 patients) spread its mass over cells each below the noise, no group cleared the
#: threshold and the release kept counts 0-5: TVD 0.83 at 55% of epsilon 1 (40 draws); 0.42 with these cells (pbcseq's
#: visits 0.134 -> 0.124, cgd, bladder1 and nafld's events unchanged).
EXACT_COUNTS = 8
#: Default public bound on the children of one parent (larger counts are counted as this).
MAX_COUNT = 1 << 16
#: A cell next to the support joins it when its noisy count exceeds this many noise deviations.
EXTEND_SIGMAS = 1.0
#: ... but parents with no child join it above this many, next to the support or not (a state of their own, not the
#: foot of a curve: at 1 deviation, 1 release in 6 of pbcseq's, where every patient has a visit, gave 2-9% of
#: patients none; and 6% of 312 patients with none, beside a bulk from 2 children, never joined across the thin 1).
ZERO_SIGMAS = 2.0
#: A run of next groups joins the support when their noisy sums together exceed this many of its noise deviations
#: (corrected for the ~25 run lengths tried) ...
RUN_SIGMAS = 4.0
#: ... and its last group alone exceeds this many of its own.
RUN_END_SIGMAS = 2.0
#: Groups clearing the support threshold split into runs (consecutive groups, up to CORE_GAP groups apart); the run
#: of the largest noisy sum is the support's core, and another run joins it (with every group between) only when its
#: noisy sum stands FAR_SIGMAS deviations above zero. Spanning the first to the last group that cleared made one
#: pure-noise group far up (0.1% of draws) a support of 1..65,536 visits: release TVD 0.65-0.90 on pbcseq, and a
#: fit's visits-per-patient TVD of 0.31 in one of 20.
CORE_GAP = 4
FAR_SIGMAS = 5.0
#: Where no group of counts stands out of the noise, the support is the strongest group of counts below this.
FALLBACK_COUNTS = 16
#: Largest number of histogram cells of a count distribution (wider ranges are measured in equal bins).
MAX_COUNT_CELLS = 512
#: Share of a count distribution's budget that finds its support; the rest counts each value in it (at half, the
#: support of nafld's labs, 0-124 per patient, was lost at a quarter of epsilon 1 in 1 draw of 8, 1 in 20 before).
COUNT_SUPPORT_SHARE = 0.7
#: A cell's values take their own counts' shape where those differ from an even spread by this many deviations of the
#: spread a pure-noise cell shows (a chi-square on the cell's values).
UNEVEN_SIGMAS = 3.0


class LedgerView:
    """A share of a ledger's zCDP budget, seen by mechanisms of sensitivity 1 on data of sensitivity ``s``.

    Args:
        ledger: the fit's ledger (entries are recorded there).
        rho: the share of the budget this view may spend (in the real, unscaled units).
        sensitivity: rows one unit contributes to the data the mechanisms see (``s``).
        label: prefix of the recorded accesses (e.g. "table visits").
        delta_share: share of the ledger's reserved delta this view may spend (category thresholds).
    """

    def __init__(self, ledger: PrivacyLedger, rho: float, *, sensitivity: float = 1.0, label: str = "",
                 delta_share: float = 0.0) -> None:
        self.ledger = ledger
        self.rho = float(rho)
        self.sensitivity = float(sensitivity)
        self.label = label
        self.delta_share = float(delta_share)
        self.spent = 0.0

    @property
    def private(self) -> bool:
        """Whether the underlying ledger is private."""
        return self.ledger.private

    @property
    def notes(self) -> list[str]:
        """The ledger's notes (shared)."""
        return self.ledger.notes

    @property
    def entries(self) -> list[Any]:
        """The ledger's entries (shared; this view's accesses carry its label)."""
        return self.ledger.entries

    @property
    def rho_budget(self) -> float:
        """The budget in the units of a sensitivity-1 mechanism: ``rho / s**2``."""
        return self.rho / self.sensitivity**2

    @property
    def reserved_delta(self) -> float:
        """The extra delta this view may spend (thresholds of released category lists)."""
        return self.ledger.reserved_delta * self.delta_share

    def rho_remaining(self) -> float:
        """What is left, in the units of a sensitivity-1 mechanism."""
        return max(self.rho - self.spent, 0.0) / self.sensitivity**2

    def record(self, access: str, mechanism: str, *, rho: float | None = None, delta: float | None = None,
               columns: list[str] | None = None, **details: Any) -> Any:
        """Record an access in the ledger, its rho scaled by ``s**2`` (the cost at the true sensitivity)."""
        real = None if rho is None else rho * self.sensitivity**2
        if real is not None:
            self.spent += real
        if self.sensitivity != 1.0 and self.ledger.private:
            details = {**details, "sensitivity_rows_per_unit": self.sensitivity}
        name = f"{self.label}: {access}" if self.label else access
        return self.ledger.record(name, mechanism, rho=real, delta=delta, columns=columns, **details)


@dataclass
class CountModel:
    """The distribution of children per parent of one relation (a DP output when the fit is private).

    Attributes:
        low: smallest count of the support.
        width: counts per cell (1 unless the range is wider than ``MAX_COUNT_CELLS``).
        probs: probability of each cell ``[low + i * width, low + (i + 1) * width)``.
        parents: estimated number of parent rows (noisy for a DP fit).
        bound: K, the most rows a parent keeps when the child rows are measured (set by the fit).
    """

    low: int
    width: int
    probs: np.ndarray
    parents: float
    bound: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def high(self) -> int:
        """Largest count of the support."""
        return self.low + self.width * len(self.probs) - 1

    def values(self) -> np.ndarray:
        """The count at the left edge of each cell."""
        return self.low + self.width * np.arange(len(self.probs))

    def expected_min(self, k: int) -> float:
        """E[min(count, k)] under the distribution (cell centres)."""
        centres = self.values() + (self.width - 1) / 2
        return float(np.sum(self.probs * np.minimum(centres, k)))

    def quantile(self, q: float) -> int:
        """The smallest count whose cumulative probability reaches ``q``."""
        cum = np.cumsum(self.probs)
        i = int(np.searchsorted(cum, q * cum[-1] - 1e-12))
        return int(self.low + self.width * min(i, len(self.probs) - 1) + self.width - 1)

    def sample(self, n: int, rng: np.random.Generator, *, stratified: bool = False) -> np.ndarray:
        """``n`` counts drawn from the distribution (uniform within a cell).

        ``stratified``: systematic sampling, the ``n`` cells at the quantiles ``(i + u) / n`` for one uniform
        ``u`` (each draw still follows the distribution, but the ``n`` of them hold each cell's share up to
        one, without the multinomial spread of independent draws; returned in random order).
        """
        p = self.probs / self.probs.sum()
        if stratified and n > 0:
            cum = np.cumsum(p)
            cell = np.minimum(np.searchsorted(cum, (np.arange(n) + rng.random()) / n, side="right"), len(p) - 1)
            cell = rng.permutation(cell)
        else:
            cell = rng.choice(len(p), size=n, p=p)
        off = rng.integers(0, self.width, size=n) if self.width > 1 else 0
        return (self.low + self.width * cell + off).astype(np.int64)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for saving."""
        return {"probs": self.probs, "meta": np.array([self.low, self.width, self.bound, self.parents], dtype=float)}

    @classmethod
    def from_arrays(cls, probs: np.ndarray, meta: np.ndarray) -> CountModel:
        """Rebuild from :meth:`to_arrays`."""
        return cls(low=int(meta[0]), width=int(meta[1]), probs=np.asarray(probs, float), parents=float(meta[3]),
                   bound=int(meta[2]))


def whittaker(h: np.ndarray, sigma: float, orders: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """Smooth a noisy histogram ``h`` (Gaussian noise ``sigma`` per cell): ``f = argmin ||h - f||^2 +
    lam ||D_k f||^2`` (differences of order ``k``), ``k`` and ``lam`` minimising Mallows' Cp
    ``||h - f||^2 + 2 sigma^2 tr(H)`` for the known noise. Post-processing of DP counts.

    Both orders compete under the same criterion: first differences suit flat runs of counts (pbcseq's visits
    per patient: count-release TVD 0.097 vs 0.103 with second differences alone, at 55% of epsilon 1, 1,000
    draws), second differences smooth slopes (Poisson-like counts), and Cp picks per release.
    """
    n = h.size
    if n < 4 or sigma <= 0:
        return h.astype(float).copy()
    best, best_f = np.inf, h.astype(float).copy()
    for order in orders:
        d = np.diff(np.eye(n), n=order, axis=0)
        evals, evecs = np.linalg.eigh(d.T @ d)
        evals = np.maximum(evals, 0.0)
        coef = evecs.T @ h
        for lam in np.geomspace(1e-4, 1e8, 49):
            shrink = 1.0 / (1.0 + lam * evals)
            f = evecs @ (shrink * coef)
            cp = float(np.sum((h - f) ** 2) + 2 * sigma**2 * shrink.sum())
            if cp < best:
                best, best_f = cp, f
    return best_f


def count_cells(cap: int = MAX_COUNT) -> np.ndarray:
    """Left edges of the cells of a count histogram: one cell per count below ``EXACT_COUNTS``, then
    cells of width ``EXACT_COUNTS / 2`` doubling every two cells, up to ``cap`` (a public bound)."""
    edges = list(range(min(EXACT_COUNTS, cap + 1)))
    edge, width = EXACT_COUNTS, EXACT_COUNTS // 2
    while edge <= cap:
        for _ in range(2):
            if edge <= cap:
                edges.append(edge)
            edge += width
        width *= 2
    return np.asarray(edges, dtype=np.int64)


def _group_of(values: np.ndarray) -> np.ndarray:
    """Group of a count for finding the support: 0, 1, 2, 3, then groups doubling every two (4-5, 6-7,
    8-11, 12-15, ...)."""
    v = np.asarray(values, dtype=np.int64)
    out = v.copy()
    big = v >= 4
    k = np.floor(np.log2(np.maximum(v, 1))).astype(np.int64)
    half = (v >= (3 * (1 << k)) // 2).astype(np.int64)
    out[big] = 4 + 2 * (k[big] - 2) + half[big]
    return out


def _run_beyond(gsum: np.ndarray, gsig: np.ndarray) -> int:
    """The fewest next groups whose noisy sums together stand ``RUN_SIGMAS`` deviations above zero (0: none).

    A spike of parents without children and the bulk of the counts further up, with low groups between (nafld's
    labs: 12% of patients with none, the rest 8-124): no single group next to the spike clears, but the run of them
    up to the bulk does (post-processing of the noisy group sums)."""
    s = np.cumsum(gsum)
    sd = np.sqrt(np.cumsum(gsig**2))
    # the run ends in a group of its own standing out (the bulk it reaches): a random walk of pure-noise sums crossed
    # 3.5 deviations somewhere along 25 groups often enough to stretch pbcseq's visits to 4,095 per patient
    hits = np.flatnonzero((s > RUN_SIGMAS * sd) & (gsum > RUN_END_SIGMAS * gsig))
    return int(hits[0]) + 1 if hits.size else 0


def _core_span(core: np.ndarray, gsum: np.ndarray, gsig: np.ndarray) -> tuple[int, int]:
    """First and last group of the support's core: the run of cleared groups (gaps up to ``CORE_GAP``) holding the
    largest noisy sum, widened to every other run whose noisy sum stands ``FAR_SIGMAS`` deviations above zero
    (post-processing of the noisy group sums)."""
    breaks = np.flatnonzero(np.diff(core) > CORE_GAP + 1) + 1
    runs = np.split(core, breaks)
    main = max(runs, key=lambda r: float(gsum[r].sum()))
    first, last = int(main[0]), int(main[-1])
    for r in runs:
        if gsum[r].sum() > FAR_SIGMAS * math.sqrt(float(np.sum(gsig[r] ** 2))):
            first, last = min(first, int(r[0])), max(last, int(r[-1]))
    return first, last


def _support(edges: np.ndarray, noisy: np.ndarray, sigma: float) -> tuple[np.ndarray, int]:
    """The cells of a count histogram's support (noisy counts ``noisy``, noise ``sigma`` each) and, where parents with
    no child joined it across a gap, the first count of the rest (else 0): see :func:`dp_count_distribution`
    (post-processing)."""
    group = _group_of(edges)
    n_groups = int(group.max()) + 1
    gsum = np.bincount(group, weights=noisy, minlength=n_groups)
    gsig = sigma * np.sqrt(np.bincount(group, minlength=n_groups).clip(min=1))
    core = np.flatnonzero(gsum > _union_threshold(n_groups) * gsig)
    if core.size == 0:  # nothing clears the threshold (few parents for the noise): the strongest group of few counts
        # (pure noise picks any of ~30 groups alike: on cgd split into centers -> patients -> infections the
        # grandchild count got the group of 8,192-12,287 infections per patient, and sampling ran out of memory)
        small = int(_group_of(np.array([FALLBACK_COUNTS - 1]))[0]) + 1
        core = np.array([int(np.argmax(gsum[:small] / gsig[:small]))])
    first, last = _core_span(core, gsum, gsig)
    while first > 1 and gsum[first - 1] > EXTEND_SIGMAS * gsig[first - 1]:
        first -= 1
    apart = 0  # where zero joined across a gap: the first count of the rest (the counts between are not in the support)
    if first > 0 and gsum[0] > ZERO_SIGMAS * gsig[0]:  # no child: joins on its own noisy count, next to the rest or not
        apart = int(edges[np.flatnonzero(group == first)[0]]) if first > 1 else 0
        first = 0
    while last < n_groups - 1:
        if gsum[last + 1] > EXTEND_SIGMAS * gsig[last + 1]:
            last += 1
            continue
        run = _run_beyond(gsum[last + 1:], gsig[last + 1:])
        if run == 0:
            break
        last += run
    return np.flatnonzero((group >= first) & (group <= last)), apart


def dp_count_distribution(counts: np.ndarray, rho: float | None, rng: np.random.Generator, *,
                          sensitivity: float = 1.0, cap: int = MAX_COUNT, weights: np.ndarray | None = None) -> CountModel:
    """The distribution of children per parent, with ``rho``-zCDP (``None``: exact, non-private).

    Two noisy histograms, ``COUNT_SUPPORT_SHARE`` of ``rho`` and the rest. The first has one cell per count below
    ``EXACT_COUNTS`` and wider cells above, up to the public ``cap`` (counts above it count as ``cap``); its cells are
    summed into groups of growing width (0, 1, 2, 3, 4-5, 6-7, 8-11, ...), whose noisy sums stand out of the noise
    better than single cells, and the support is the span of groups that clear the threshold pure noise passes in any
    group with probability 0.1%; the run of them holding the most, widened to other runs standing ``FAR_SIGMAS`` above
    zero, :func:`_core_span` (as in :func:`~medsynth.privacy.mechanisms.dp_bounds`; if none does, the largest of the
    groups below ``FALLBACK_COUNTS``: a public prior of few rows per parent), widened by neighbouring groups whose noisy
    sum exceeds ``EXTEND_SIGMAS`` of its noise, or upwards by the fewest next groups whose sums together exceed
    ``RUN_SIGMAS`` of theirs, ending in a group above ``RUN_END_SIGMAS`` of its own (:func:`_run_beyond`,
    :func:`_support`). The second counts each value of a support holding wider cells (a cell's values take the shape
    of their own counts where it is uneven beyond the noise, ``UNEVEN_SIGMAS``), or, for a support of single values,
    the same cells again (averaged in, and the support found again). Inside the support the values are smoothed by
    :func:`whittaker`.

    Args:
        counts: one count per parent row.
        rho: zCDP cost at the true sensitivity.
        rng: the DP noise generator.
        sensitivity: parent rows one unit holds (1 for children of the root table).
        cap: public bound on the count.
        weights: optional weight of each parent row (a unit's parent rows weighing at most ``sensitivity``).
    """
    counts = np.minimum(np.asarray(counts, dtype=np.int64), cap)
    w = None if weights is None else np.asarray(weights, dtype=float)
    if rho is None:
        lo, hi = (int(counts.min()), int(counts.max())) if counts.size else (0, 0)
        width = max(1, math.ceil((hi - lo + 1) / MAX_COUNT_CELLS))
        cells = (np.clip(counts, lo, hi) - lo) // width
        probs = np.bincount(cells, weights=w, minlength=(hi - lo) // width + 1).astype(float)
        return CountModel(low=lo, width=width, probs=probs / max(probs.sum(), 1e-12), parents=float(len(counts) if w is None else w.sum()),
                          details={"mechanism": "exact (non-private)"})
    edges = count_cells(cap)
    widths = np.diff(np.r_[edges, cap + 1])
    sigma = gaussian_sigma(COUNT_SUPPORT_SHARE * rho, sensitivity=sensitivity)
    sigma_b = gaussian_sigma((1 - COUNT_SUPPORT_SHARE) * rho, sensitivity=sensitivity)
    true = np.bincount(np.searchsorted(edges, counts, side="right") - 1, weights=w, minlength=edges.size)
    noisy = true + rng.normal(0.0, sigma, edges.size)
    cells, apart = _support(edges, noisy, sigma)
    lo, hi = int(edges[cells[0]]), int(edges[cells[-1]] + widths[cells[-1]] - 1)
    sigma_support = sigma
    if not (widths[cells] > 1).any():  # counts of one value each: the rest measures the cells again, averaged in (one
        # measurement with the whole budget, as before), and the support is found again from both
        w_a, w_b = 1 / sigma**2, 1 / sigma_b**2
        noisy = (w_a * noisy + w_b * (true + rng.normal(0.0, sigma_b, edges.size))) / (w_a + w_b)
        sigma = 1 / math.sqrt(w_a + w_b)
        cells, apart = _support(edges, noisy, sigma)
        lo, hi = int(edges[cells[0]]), int(edges[cells[-1]] + widths[cells[-1]] - 1)
        per_value = np.concatenate([np.full(widths[i], noisy[i] / widths[i]) for i in cells])
        width = max(1, math.ceil(per_value.size / MAX_COUNT_CELLS))
        per_value = np.r_[per_value, np.zeros((-per_value.size) % width)].reshape(-1, width).sum(axis=1)
        noise = sigma * math.sqrt(width) / float(np.median(widths[cells]))
        parents = float(noisy[cells].sum())
    # the rest of the budget counts each value of the support once (a cell of several values spread its count evenly
    # over them: sleepstudy's 10 days a subject and dietox's 12 weeks a pig came out 8-11 and 12-15 visits alike, at any
    # epsilon), combined with the first count of its cell by least squares (each value's count, adjusted so that the
    # cell's values add up with both measurements' weights); beyond MAX_COUNT_CELLS values, the cells counted again
    elif hi - lo + 1 <= MAX_COUNT_CELLS:
        inside = (counts >= lo) & (counts <= hi)  # (each parent in one cell at most: sensitivity as the first's)
        exact = np.bincount(counts[inside] - lo, weights=None if w is None else w[inside], minlength=hi - lo + 1)
        fresh = exact + rng.normal(0.0, sigma_b, exact.size)
        per_value, var = np.zeros(hi - lo + 1), np.zeros(hi - lo + 1)
        for i in cells:
            a, n = int(edges[i]) - lo, int(widths[i])
            b = fresh[a : a + n]
            # the values' own counts shape the cell only where they differ from an even spread beyond their noise (a
            # spike, a schedule); a smooth cell keeps the even spread of both counts of it (a wide distribution's
            # values, each within the noise, made its shape worse: nafld's labs at a quarter of epsilon 1)
            uneven = n > 1 and float(np.sum((b - b.mean()) ** 2)) / sigma_b**2 > (n - 1) + UNEVEN_SIGMAS * math.sqrt(2 * (n - 1))
            if n == 1 or uneven:
                gain = sigma_b**2 / (n * sigma_b**2 + sigma**2)
                per_value[a : a + n] = b + (noisy[i] - b.sum()) * gain
                var[a : a + n] = sigma_b**2 * (1 - gain)
            else:
                total_var = 1 / (1 / sigma**2 + 1 / (n * sigma_b**2))
                per_value[a : a + n] = (noisy[i] / sigma**2 + b.sum() / (n * sigma_b**2)) * total_var / n
                var[a : a + n] = total_var / n**2
        width, noise = 1, float(np.sqrt(np.median(var)))
        parents = float(per_value.sum())
    else:  # (a wide support: its cells measured again and averaged, one measurement with the whole budget)
        w_a, w_b = 1 / sigma**2, 1 / sigma_b**2
        both = (w_a * noisy[cells] + w_b * (true[cells] + rng.normal(0.0, sigma_b, cells.size))) / (w_a + w_b)
        per_value = np.concatenate([np.full(widths[i], v / widths[i]) for i, v in zip(cells, both, strict=True)])
        width = max(1, math.ceil(per_value.size / MAX_COUNT_CELLS))
        per_value = np.r_[per_value, np.zeros((-per_value.size) % width)].reshape(-1, width).sum(axis=1)
        noise = math.sqrt(width) / math.sqrt(w_a + w_b) / float(np.median(widths[cells]))
        parents = float(both.sum())
    if lo == 0 and width == 1 and per_value.size > 1:
        # parents with no child are a state of their own, not the foot of the counts' curve: smoothed with them, a
        # zero cell that joined the support by noise (1 sigma, about 1 release in 6) took a share of the one-child
        # parents (pbcseq, every patient with a visit: 5% of synthetic patients without one, in 1 fit of 6); a real
        # spike (nafld: 12% of patients with no lab) keeps its noisy mass instead of being blurred into 1
        # (and across a gap, the counts between it and the rest hold nothing: noise there made 9% of parents 1-49
        # children where every real one had 50-100)
        rest = max(apart, 1)
        smooth = np.r_[max(float(per_value[0]), 0.0), np.zeros(rest - 1), np.maximum(whittaker(per_value[rest:], noise), 0.0)]
    else:
        smooth = np.maximum(whittaker(per_value, noise), 0.0)
    if smooth.sum() <= 0:
        smooth = np.ones_like(per_value)
    return CountModel(low=lo, width=width, probs=smooth / smooth.sum(), parents=max(parents, 1.0),
                      details={"mechanism": "noisy histogram of counts (support from noisy group sums), then a noisy "
                                            "count of each value of the support; Whittaker-smoothed", "rho": rho,
                                 "sigma": sigma, "sigma_support": sigma_support, "sigma_values": sigma_b,
                                 "support": [lo, hi]})


def choose_bound(model: CountModel, *, quantile: float, sigma_unit: float, cells: int = 100) -> int:
    """K: the ``quantile`` of the counts, lowered where fewer rows per parent measure better.

    With ``K`` rows kept per parent, a child table's histograms hold ``S(K) = parents * E[min(count, K)]``
    rows and noise of scale ``K * sigma_unit``; a typical cell (share ``1 / cells``) then has relative
    squared error ``(K^2 sigma_unit^2 + S(K) / cells) / S(K)^2`` (noise plus sampling). K is the minimiser of
    that error below the quantile (post-processing of the DP count distribution and the noise plan).
    """
    top = max(1, model.quantile(quantile))
    best_k, best = top, np.inf
    for k in range(1, top + 1):
        s = model.parents * model.expected_min(k)
        if s <= 0:
            continue
        err = (k**2 * sigma_unit**2 + s / cells) / s**2
        if err < best * (1 - 1e-9):
            best_k, best = k, err
    return int(best_k)


def bound_rows(groups: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask keeping at most ``k`` rows of each group, chosen uniformly at random.

    ``groups`` are integer group codes per row. The choice uses ``rng`` (the DP noise generator for a DP
    fit: which rows of a patient are measured is part of the mechanism, independent across patients).
    """
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=bool)
    key = rng.random(n)
    order = np.lexsort((key, groups))
    g = groups[order]
    start = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    rank = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
    keep = np.zeros(n, dtype=bool)
    keep[order[rank < k]] = True
    return keep


def one_per_key(keys: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask keeping one row of each key (rows sharing a value of ``keys``, already canonical), chosen at
    random with ``rng``; a row without a key is a group of its own. A person's rows in a single table (its ``unit``),
    a patient's root rows in a folder."""
    codes = pd.factorize(keys)[0]  # missing: -1
    alone = codes < 0
    codes[alone] = codes.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    return bound_rows(codes, 1, rng)


def one_per_group(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of one row per group, chosen at random (a sensitivity-1 view of a child table)."""
    return np.flatnonzero(bound_rows(groups, 1, rng))


__all__ = ["CountModel", "LedgerView", "bound_rows", "choose_bound", "dp_count_distribution", "one_per_group", "one_per_key",
           "whittaker"]
