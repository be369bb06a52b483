"""Stage 1 of a number column's DP domain: where its values lie, and what a range leaves out.

Each number is located on powers of two with its small whole values as buckets of their own (:func:`_locate_numbers`:
a first look from its share of the budget, then more looks from a reserve for those not located, in growing portions);
a small code whose keys explain too little of the rows holding a value is looked at again (:class:`_PresentRows`). After
stage 2 (:func:`~medsynth.privacy.locate.refine`), the share of a column's values its range leaves out is estimated from
the same noisy counts (:func:`_left_out`) and said where it stands out. Used by
:func:`medsynth.tabular.domain.resolve_domain` and :class:`~medsynth.tabular.domain_release.ColumnRelease`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from medsynth.io.dataset_infer import year_named
from medsynth.privacy.locate import (
    KEYS_LOOK_SIGMAS,
    KEYS_SHORT_SIGMAS,
    MAX_LOOKS,
    Location,
    keys_short,
    locate,
    locate_date,
    locate_year,
    remeasure,
)
from medsynth.privacy.mechanisms import (
    BoundsResult,
    noisy_counts,
)
from medsynth.tabular.domain_numbers import _numbers
from medsynth.tabular.domain_words import _flag_text, _text_buckets
from medsynth.tabular.schema import (
    ColumnSchema,
)

#: Least share of a number column's budget spent locating it (stage 1; the rest refines it and is its 1-way
#: marginal; see :func:`stage1_share`).
STAGE1_SHARE = 0.25


#: A column's looks from the reserve take at most this many times an even part of it (reserve / numbers) ...
RESERVE_CAP = 2.0


#: Measurements of the location histogram at most (the first, then looks paid from the reserve).
LOCATE_ROUNDS = MAX_LOOKS


def stage1_share(rho_column: float, oneway_rho: float) -> float:
    """Share of a number column's budget that locates it (stage 1): what is left once the 1-way marginal a
    model reuses (stage 2, ``oneway_rho``) is paid, and at least ``STAGE1_SHARE``. Columns that this does
    not locate get more looks from the reserve (:func:`_locate_numbers`), so stage 1 never starves the
    1-way marginal, which is what a small table's model is made of."""
    if oneway_rho <= 0:
        return STAGE1_SHARE
    return float(max(STAGE1_SHARE, 1.0 - oneway_rho / max(rho_column, 1e-300)))


def _locate_numbers(cols: list[ColumnSchema], df: pd.DataFrame, share: dict[str, float], first: dict[str, float],
                    reserve_rho: float, rng: np.random.Generator, *, total_cap: float = math.inf,
                    present: _PresentRows | None = None) -> dict[str, Location]:
    """Stage 1 for every number column (``first[name]`` of its share), then up to ``LOCATE_ROUNDS - 1``
    more looks for those not located yet. The reserve is spent in growing portions (1, 2, 4, ... parts),
    each split evenly among the columns still unlocated, no column taking more than ``RESERVE_CAP`` times
    an even part of it in all (nor more than ``total_cap``), so columns whose mass is easy to find are found
    cheaply, one hard column cannot eat the reserve, and what is not needed stays with the model. A column classified
    a small code whose keys explain too little of its present count (``present``'s rows less its noisy missing
    count; :func:`~medsynth.privacy.locate.keys_short`) gets more looks as well. Adaptive
    sequential composition: which columns get more depends only on earlier DP outputs, and every look is paid for and
    recorded."""
    out = {}
    for c in cols:
        x = _numbers(c, df[c.name])
        # text cells get a bucket of their own (not dates: their text is no flag), so a yes/no column that the
        # noisy type decision made numbers is seen as text by this same measurement
        text = None if c.type == "datetime" else _text_buckets(df[c.name], x)
        rho1 = share[c.name] * first[c.name]
        if c.type == "datetime":
            out[c.name] = locate_date(x, rho1, rng)
        elif year_named(c.name):  # calendar years: placed on the calendar first (names are public)
            out[c.name] = locate_year(x, rho1, rng, text=text)
        else:
            out[c.name] = locate(x, rho1, rng, text=text)
    parts = 2 ** (LOCATE_ROUNDS - 1) - 1
    cap = min(RESERVE_CAP * reserve_rho / max(len(cols), 1), total_cap)  # no column takes much more than its even part
    extra = dict.fromkeys(out, 0.0)
    for r in range(2, LOCATE_ROUNDS + 1):
        lost = [n for n, loc in out.items() if (loc.kind == "unlocated" or (present is not None and present.short(loc, KEYS_LOOK_SIGMAS)))
                and _flag_text(loc) is None and extra[n] < cap]
        if not lost or reserve_rho <= 0:
            break
        give = reserve_rho * 2 ** (r - 2) / parts / len(lost)
        for name in lost:
            g = min(give, cap - extra[name])
            remeasure(out[name], g, rng)
            extra[name] += g
    return out


def _short(loc: Location, rows: float | None, rows_sigma: float | None, sigmas: float = KEYS_SHORT_SIGMAS) -> bool:
    """:func:`~medsynth.privacy.locate.keys_short` on the column's present count (``rows`` less its noisy missing
    count); False without a noisy row count."""
    if rows is None or rows_sigma is None:
        return False
    miss, sigma_miss = loc.missing_noisy()
    return keys_short(loc, float(rows) - miss, math.hypot(sigma_miss, rows_sigma), sigmas)


def _left_out(res: BoundsResult, rows: float | None, rows_sigma: float | None) -> float | None:
    """The share of a number column's values its DP range leaves out, where it is at least ``CLIP_NOTE_SHARE`` with
    confidence: the noisy rows less the noisy missing count (the values) less the range's noisy count (both stages'
    counts of its powers of two, :func:`~medsynth.privacy.locate.refine`), standing ``CLIP_NOTE_SIGMAS`` deviations above
    zero; else None. Post-processing of DP outputs (a thin tail spread
    over many powers of two never clears the cut, nor the powers of two stage 1 never located)."""
    noise = _range_noise(res, rows, rows_sigma)
    if noise is None:
        return None
    range_count, sd = noise
    values = float(rows) - max(res.missing_count, 0.0)  # (a negative noisy count of missing values adds no values)
    out = values - range_count
    if values <= 0 or out < CLIP_NOTE_SHARE * values or out < CLIP_NOTE_SIGMAS * sd:
        return None
    # the share DP is confident of (its lower bound at the same deviations), which the warning calls "at least": the
    # point estimate read 25% where 5% were left out (dengue's Xmax, a noise deviation of 10% of its values)
    return round(max(out - CLIP_BOUND_SIGMAS * sd, 0.0) / values, 3)


def _range_noise(res: BoundsResult, rows: float | None, rows_sigma: float | None) -> tuple[float, float] | None:
    """The noisy count of a number column's values inside its DP range, and the noise of the values it leaves out
    (rows less missing less that count); None without a noisy row count."""
    if res.codes is not None and len(res.counts):  # a small code's keys (a count kept 0-7 of 0-121: 11% left out)
        range_count, range_sd = float(np.sum(res.counts)), float(res.sigma) * math.sqrt(len(res.counts))
    else:
        range_count, range_sd = res.range_count, res.range_sd
    if not rows or not rows_sigma or range_count is None:
        return None
    return float(range_count), math.sqrt(rows_sigma**2 + res.sigma_missing**2 + range_sd**2)


class _PresentRows:
    """The noisy row count that a small code's keys are held against (:func:`_short`). Where ``rows`` counts only an
    upper bound of the frame's rows (a child table's one row per patient *with* rows, against the patients), a code
    short against it may be short only of the patients without rows: then the frame's rows are counted once with DP
    (noise ``rows_sigma``, paid as ``rho``) and the code is held against that count. Adaptive: measured only where a
    DP output asks for it."""

    def __init__(self, n: int, rows: float | None, rows_sigma: float | None, own: bool, rng: np.random.Generator):
        self.n, self.rows, self.rows_sigma, self.own, self.rng = n, rows, rows_sigma, own, rng
        self.count: float | None = None
        self.rho = 0.0

    def counted(self) -> tuple[float | None, float | None]:
        """The noisy count of the frame's own rows and its noise: ``rows`` where they count them, else measured once
        (as :meth:`short` does)."""
        if self.own or self.rows is None or self.rows_sigma is None:
            return self.rows, self.rows_sigma
        if self.count is None:
            self.rho = 1.0 / (2.0 * float(self.rows_sigma) ** 2)
            self.count = float(noisy_counts(np.array([float(self.n)]), float(self.rows_sigma), self.rng)[0])
        return self.count, self.rows_sigma

    def short(self, loc: Location, sigmas: float = KEYS_SHORT_SIGMAS) -> bool:
        if not _short(loc, self.rows, self.rows_sigma, sigmas):
            return False
        if self.own:
            return True
        return _short(loc, *self.counted(), sigmas)


#: The fit says which ranges leave out at least this share of a column's values (a DP estimate) ...
CLIP_NOTE_SHARE = 0.03


#: ... with confidence: the estimate stands this many deviations of its noise above zero. At 2 a 0/1 column of 1,500
#: rows, both values kept, was said to leave out 3% of its values (2.15 deviations: the noisy row count 48 above the
#: true one, every column's estimate sharing that noise), a false claim in about one column in forty; at 3 Medicaid1986's
#: ranges that left out a fifth to a third of the values (2.3-2.95 deviations) went unsaid, the worse mistake; 2.5.
CLIP_NOTE_SIGMAS = 2.5


#: ... and the share said is the estimate less this many deviations ("at least": the point estimate read 25% where 5%
#: were left out).
CLIP_BOUND_SIGMAS = 2.0
