"""A number column's DP domain: located, refined, and post-processed into what the model writes.

Stage 1 locates each number on powers of two (:func:`_locate_numbers`, more looks from a reserve for those not
located), stage 2 refines it (:func:`~medsynth.privacy.locate.refine`); the rest here is post-processing of those DP
outputs with public facts (names, the calendar, the date of the fit): ranges cut at an age's or a year's top
(:func:`_within_lifespan`, :func:`_within_present`), a month's codes (:func:`_within_calendar`), a code's unit
(:func:`_code_step`), the unit and atoms a number's values sit on (:func:`_released_step`; a point mass at any value of
a cell denser than its neighbours: :func:`_released_point_atoms`, :func:`split_at_atoms`), codes written as large whole
numbers (:func:`_released_points`), the share of values a range leaves out (:func:`_left_out`), and the reuse of the
stage-2 histogram as the model's 1-way marginal (:class:`OneWay`). Used by
:func:`medsynth.tabular.domain.resolve_domain`.
"""


from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.dataset_infer import year_named
from medsynth.io.schema import cell_numbers
from medsynth.privacy.locate import (
    Location,
)
from medsynth.privacy.mechanisms import (
    PRESENCE_SIGMAS,
    BoundsResult,
    _union_threshold,
    gaussian_sigma,
    noisy_counts,
)
from medsynth.privacy.steps import (
    ATOM_CELLS,
    ATOM_HOLD,
    ON_SIGMAS,
    POINT_ATOM_HOLD,
    POINT_ATOM_PEAK,
    SENTINEL_CELLS,
    atom_candidates,
    candidates,
    decide_sparse,
    decide_step,
    fold_atoms,
    is_atom,
    on_unit,
    point_counts,
    sentinel_candidates,
    step_counts,
    unit_holds,
)
from medsynth.tabular.domain_words import TEXT_PAIRS, _canonical, _flag_text, _sorted_categories
from medsynth.tabular.schema import (
    EPOCH,
    ColumnSchema,
    category_key,
    category_keys,
    from_days,
    parse_dates,
)


def _numbers(col: ColumnSchema, s: pd.Series) -> np.ndarray:
    if col.type == "datetime":
        return ((parse_dates(s, col.format) - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    return cell_numbers(s).to_numpy(dtype=float, na_value=np.nan)


#: Days since 1970-01-01 a date range released under DP is clipped to (1700-01-01 .. 2262-01-01): a public window
#: (post-processing of the release, no data), what pandas can represent (1677..2262; MIMIC-IV shifts its dates to
#: 2110..2210). A 300-row table's discharge dates (2020) once came out as [2014, 2687]: noise octaves joined to the
#: range's end, and the bounds could not be written at all (pandas' OutOfBoundsTimedelta, 1 fit in 60).
DATE_WINDOW_DAYS = (-98_615.0, 106_651.0)


#: The top of a person's age in years (public: no one has been recorded older than 122). A DP range on powers of two
#: wrote ages to 250 (mifem), 196 (SuicideChina), 126 (rwm1984): a column named an age in years stops here, where no
#: mass above it stands out of the noise (survival's nwtco holds its ages in months under the name 'age').
AGE_TOP = 120.0


#: Name words that say an age is not in years (an infant's age in days or months may pass 120; a gestational age is in
#: weeks, and whole weeks are no rule: a reviewer).
_AGE_UNITS = ("day", "days", "d", "week", "weeks", "wk", "wks", "month", "months", "mo", "mos", "hour", "hours", "h",
              "gestational", "gestation", "gest")


#: Noise deviations the stage-2 mass above :data:`AGE_TOP` must stay within for the range to be cut there.
AGE_TOP_SIGMAS = 2.0


def _age_in_years(name: str) -> bool:
    """Whether a column's name (public) says an age in years: the word ``age`` and no unit word (:data:`_AGE_UNITS`)."""
    from medsynth.io.dataset_infer import _name_words

    words = _name_words(name)
    return "age" in words and not any(w in _AGE_UNITS for w in words)


def _within_lifespan(name: str, res: BoundsResult) -> tuple[BoundsResult, bool]:
    """A number's DP range (and its stage-2 cells) cut at :data:`AGE_TOP` where its name is an age in years and its
    noisy mass above it is within the noise; and whether it was cut (post-processing of DP outputs and the name)."""
    if not _age_in_years(name):
        return res, False
    return _cut_at_top(res, AGE_TOP)


#: The ends of a pH (public: the scale's). A data scientist's smartpill: the colon's mean pH, 5.2-8.1, had a DP range
#: to 16 at epsilon 4, and 7 of 71 synthetic patients held a pH above 14.
PH_RANGE = (0.0, 14.0)


def _within_ph(name: str, res: BoundsResult) -> tuple[BoundsResult, bool]:
    """A number's DP range (and its cells) cut to :data:`PH_RANGE` where a word of its name is ``ph`` (``C.Mean.pH``,
    ``urine_ph``) and its noisy mass beyond is within the noise; and whether it was cut (post-processing)."""
    import re

    if "ph" not in re.split(r"[^a-z0-9]+", str(name).lower()):  # ('pH' is no camel case: its words, not p and h)
        return res, False
    res, top = _cut_at_top(res, PH_RANGE[1])
    res, bottom = _cut_at_bottom(res, PH_RANGE[0])
    return res, top or bottom


def year_top() -> float:
    """The top of a calendar year's DP range: the end of the fit's own year (public: no record is written in a later
    year; a whole-number year's range then ends at the fit's year)."""
    import datetime

    return float(datetime.date.today().year + 1)


def _epoch_days(year: float) -> float:
    """Days from 1970-01-01 to January 1 of ``year`` (a date column's numbers)."""
    return float((np.datetime64(f"{int(year)}-01-01", "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))


def _within_present(name: str, res: BoundsResult) -> tuple[BoundsResult, bool]:
    """A number's DP range (and its cells) cut at :func:`year_top` where its name says calendar years
    (:func:`~medsynth.io.dataset_infer.year_named`) and its noisy mass above the fit's year is within the noise; and
    whether it was cut. A data scientist's hfi (years 2008-2016, 1,166 rows at epsilon 1) had a DP range to 2047 and 10%
    of synthetic rows in 2033-2042. Post-processing of DP outputs, the name and the date of the fit."""
    return _cut_at_top(res, year_top()) if year_named(name) else (res, False)


def _cut_at_top(res: BoundsResult, top: float) -> tuple[BoundsResult, bool]:
    """A number's DP range cut at ``top``, its cells with it, where the noisy mass of its cells wholly above ``top``
    stays within ``AGE_TOP_SIGMAS`` deviations; and whether it was cut."""
    return _cut(res, top, upper=True)


def _cut_at_bottom(res: BoundsResult, bottom: float) -> tuple[BoundsResult, bool]:
    """A number's DP range cut at ``bottom`` (its first cell starting there), as :func:`_cut_at_top` at the other end."""
    return _cut(res, bottom, upper=False)


def _cut(res: BoundsResult, at: float, *, upper: bool) -> tuple[BoundsResult, bool]:
    if res.codes is not None or res.edges is None or res.counts is None or not (res.high > at > res.low):
        return res, False
    edges, counts = np.asarray(res.edges, dtype=float), np.asarray(res.counts, dtype=float)
    sig = np.full(counts.size, res.sigma) if res.count_sigmas is None else np.asarray(res.count_sigmas, dtype=float)
    # the cells wholly beyond the cut (a cell straddling it, 64-128, holds the ages of 64-92 that the evenly spread
    # count put an eighth of above 120: quinidine's ages of 42-92 kept a range of 32-255, 2% of synthetic visits older
    # than 120, and mgus's a patient of 124; a data scientist)
    part = ((edges[:-1] >= at - 1e-9) if upper else (edges[1:] <= at + 1e-9)).astype(float)
    if part.any() and float(part @ counts) > AGE_TOP_SIGMAS * math.sqrt(float(np.sum((part * sig) ** 2))):
        return res, False  # real mass beyond the cut (ages above 120: not years)
    if upper:  # cells that start below the top
        kept = slice(None, int(np.searchsorted(edges, at, side="left")))
        upd: dict[str, Any] = {"high": at, "edges": np.append(edges[kept], at)}
    else:  # cells that end above the bottom
        kept = slice(int(np.searchsorted(edges, at, side="right")) - 1, None)
        upd = {"low": at, "edges": np.append(at, edges[kept][1:])}
    upd["counts"] = counts[kept]
    if res.count_sigmas is not None:
        upd["count_sigmas"] = np.asarray(res.count_sigmas)[kept]
    return replace(res, **upd), True


#: Codes a column's name bounds (public): a month's twelve values, a quarter's four (SuicideChina's Month came out with
#: 13 in 2.8% of the rows, a key beside 12 that the noise lifted); counted from 1, or from 0 where that window holds
#: more of the code's noisy mass.
CALENDAR_CODES = {"month": 12, "quarter": 4, "qtr": 4}


def _within_calendar(name: str, res: BoundsResult) -> tuple[BoundsResult, list[int]]:
    """A small code's keys (and their counts) inside the window of values its name's calendar word allows, and the
    keys it dropped (post-processing of DP outputs and the name)."""
    from medsynth.io.dataset_infer import _name_words

    words = [w for w in _name_words(name) if w in CALENDAR_CODES]
    if len(words) != 1 or res.codes is None or res.counts is None:
        return res, []
    size = CALENDAR_CODES[words[0]]
    codes, counts = list(res.codes), np.asarray(res.counts, dtype=float)

    def mass(first: int) -> float:
        return float(sum(c for k, c in zip(codes, counts) if first <= k < first + size))

    first = 0 if mass(0) > mass(1) else 1
    keep = [i for i, k in enumerate(codes) if first <= k < first + size]
    if not keep or len(keep) == len(codes):
        return res, []
    dropped = [int(k) for i, k in enumerate(codes) if i not in keep]
    return replace(res, codes=tuple(codes[i] for i in keep), counts=counts[keep]), dropped


def _code_step(res: BoundsResult) -> float | None:
    """The unit of a small code's keys read from their released noisy counts (post-processing, no budget): the coarsest
    whole unit of :mod:`medsynth.privacy.steps` some key is off that its non-zero keys hold (:func:`unit_holds`). A
    code run from the first to the last key kept the keys between (a dose of 0/2/4/6 came out 0-6, and synthetic rows
    took 1, 3 and 5 from the noise)."""
    if res.codes is None or res.counts is None or len(res.codes) < 3:
        return None
    keys, counts = np.asarray(res.codes, dtype=float), np.asarray(res.counts, dtype=float)
    for unit in candidates(float(keys.min()), float(keys.max()), integer=True)[::-1]:
        if unit <= 1:
            return None
        grid = on_unit(keys, float(unit))
        on, off = grid & (keys != 0), ~grid
        if off.any() and unit_holds(float(counts[on].sum()), int(on.sum()), float(counts[off].sum()), int(off.sum()),
                                    float(res.sigma)):
            return float(unit)
    return None


def _keys_on(res: BoundsResult, unit: float | None) -> BoundsResult:
    """A small code's keys (and their counts) on ``unit`` only (all of them where none is, or no unit)."""
    if unit is None or res.codes is None:
        return res
    keep = np.flatnonzero(on_unit(np.asarray(res.codes, dtype=float), float(unit)))
    if not keep.size or keep.size == len(res.codes):
        return res
    return replace(res, codes=tuple(res.codes[i] for i in keep), counts=np.asarray(res.counts)[keep])


#: A small code's key whose noisy count stands under this many deviations is left out (post-processing of the released
#: counts): a code run from its first to its last key kept the keys between and beyond whatever their counts, and a
#: DP fit wrote values no row held (strep_tb's streptomycin dose, 0 or 2 g, came out 0/1/2 in 2 fits of 3 at epsilon
#: 4, 11% of the rows at 1 g; its PAS dose, 0 in every row, came out 0/1: a data scientist). At 0 an empty key is left
#: out in half the fits, and a real key of one deviation's rows in 16%. At 1 deviation, 84% and half: the seeded
#: releases of 50 real tables then lost real levels of ordinal scales in 8 (biopsy's cytology score 2, 30 of 699 rows,
#: at epsilon 1; its score 9 at epsilon 10), which the report counts as lost categories.
CODE_HOLD_SIGMAS = 0.0


def _keys_held(res: BoundsResult) -> tuple[BoundsResult, list[float]]:
    """A small code's keys whose noisy counts stand :data:`CODE_HOLD_SIGMAS` deviations up (the fullest kept where
    none does), and the keys left out."""
    if res.codes is None or res.counts is None or len(res.codes) < 2:
        return res, []
    counts = np.asarray(res.counts, dtype=float)
    keep = counts >= CODE_HOLD_SIGMAS * float(res.sigma)
    if not keep.any():
        keep[int(np.argmax(counts))] = True
    if keep.all():
        return res, []
    idx = np.flatnonzero(keep)
    return (replace(res, codes=tuple(res.codes[i] for i in idx), counts=counts[idx]),
            [res.codes[i] for i in np.flatnonzero(~keep)])


def _released_step(s: pd.Series, low: float, high: float, integer: bool, rho: float, rng: np.random.Generator,
                   res: BoundsResult | None = None, kept_counts: dict[float, float] | None = None,
                   ) -> tuple[float | None, list[float]]:
    """The unit of a number column's values on its DP range [low, high] from one noisy histogram with ``rho``
    (:mod:`medsynth.privacy.steps`), or None; and the atoms of its range's fullest cells (``res``'s noisy cells,
    :func:`~medsynth.privacy.steps.atom_candidates`): the values equal to a cell's roundest value count in a bucket of
    their own in the same histogram (each value still in one bucket: L2 sensitivity 1), an atom where that count holds
    ``ATOM_HOLD`` of the cell's; so do the sentinels of cells holding one (999, -99: :func:`sentinel_candidates`), an
    atom where it holds that share less one deviation of the two counts' noise (a sentinel lies apart from the values,
    alone in its cell: at 10,000 rows a -99 in 5% of them, its cell's count 520 and the noise 64, failed the bare share
    in about one fit of three)."""
    units = candidates(float(low), float(high), integer=integer)
    cands, sentinels = [], []
    if res is not None and res.edges is not None and res.counts is not None and res.codes is None:
        edges = np.asarray(res.edges, dtype=float)
        counts = np.asarray(res.counts, dtype=float)
        # (a whole-number cell of two values is no place for a roundest value's or a sentinel's atom: the one or the
        # other holds about half, and the noise of the count made a smooth age's 70 or 77 an atom in 3 fits of 10 once
        # cells lay on the whole numbers, two values each)
        cands = [(i, v) for i, v in atom_candidates(edges, counts) if not integer or edges[i + 1] - edges[i] > 2]
        sentinels = [(i, v) for i, v in sentinel_candidates(edges, counts, cands) if not integer or edges[i + 1] - edges[i] > 2]
        cands += sentinels
    if not units.size and not cands:
        return None, []
    x = cell_numbers(s).to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    taken = np.zeros(x.size, dtype=bool)
    buckets = ATOM_CELLS + SENTINEL_CELLS  # (always this many buckets, empty where fewer cells are tested: how many
    exact = np.zeros(buckets)              # noise draws a fit makes does not hang on its noisy cells)
    for j, (_, v) in enumerate(cands):
        hit = is_atom(x, v) & ~taken
        exact[j] = float(hit.sum())
        taken |= hit
    sigma = gaussian_sigma(rho)
    noisy = noisy_counts(np.r_[step_counts(x[~taken], units) if units.size else np.zeros(0), exact], sigma, rng)
    noisy_units, noisy_atoms = noisy[: noisy.size - buckets], noisy[noisy.size - buckets:][: len(cands)]
    n_round = len(cands) - len(sentinels)
    # (a sentinel's count is left out of the unit's decision: written as itself, it need not sit on the unit, and a
    # 999 in 6% of the rows held a unit of 5 off, the atom with it)
    step = decide_step(fold_atoms(noisy_units, noisy_atoms[:n_round], [v for _, v in cands[:n_round]], units), sigma,
                       units, integer=integer, width=float(high) - float(low)) if units.size else None
    cell_sd = (np.full(len(res.counts), float(res.sigma)) if res is None or res.count_sigmas is None  # type: ignore[union-attr]
               else np.asarray(res.count_sigmas, dtype=float)) if cands else np.zeros(0)
    kept = [v for j, ((i, v), c) in enumerate(zip(cands, noisy_atoms, strict=True))
            if c > ON_SIGMAS * sigma and (step is None or j >= n_round or on_unit(np.array([v]), float(step))[0])
            and c >= ATOM_HOLD * float(res.counts[i])  # type: ignore[union-attr]
            - (math.hypot(sigma, ATOM_HOLD * float(cell_sd[i])) if j >= n_round else 0.0)]
    if kept_counts is not None:  # (each kept atom's noisy count: a DP output, for a code's category of it)
        kept_counts.update({v: float(c) for (_, v), c in zip(cands, noisy_atoms, strict=True) if v in kept})
    return step, kept


#: A whole-number column whose range's cells do not write its values one by one, and look like a code's (a wide cell
#: holding most of the values, or a few full cells apart: post-processing of stage 2), has its
#: values counted on each point of its range with this share of its stage-2 budget again (paid from the model's, and only
#: by such columns; :func:`medsynth.privacy.steps.decide_sparse`).
SPARSE_SHARE = 0.5


#: Noise deviations a stage-2 cell stands above zero to count as full ...
SPARSE_FULL_SIGMAS = 3.0


#: ... the full cells hold this share of the values at least (a spread column's cells under the noise hold much) ...
SPARSE_HELD = 0.8


#: ... and fill at most this share of the cells from the first full one to the last (or one wide cell holds them).
SPARSE_OCCUPIED = 0.5


def _maybe_sparse(res: BoundsResult, unit: int) -> bool:
    """Whether a whole-number column's stage-2 cells (post-processing) look like a code's values: see SPARSE_SHARE."""
    if res.edges is None or res.counts is None or len(res.counts) == 0:
        return False
    counts = np.asarray(res.counts, dtype=float)
    sd = np.full(counts.size, res.sigma) if res.count_sigmas is None else np.asarray(res.count_sigmas, dtype=float)
    snapped = np.ceil(np.asarray(res.edges, dtype=float) - 1e-9) - 0.5  # (cells holding no whole value: none, as
    keep = np.diff(snapped) > 0                                           # _numeric_oneway; half-unit cells alternate)
    counts, sd, widths = counts[keep], sd[keep], np.diff(snapped)[keep]
    if not counts.size:
        return False
    full = counts > SPARSE_FULL_SIGMAS * sd
    if not full.any() or widths[full].max() <= unit:  # (cells of one value each already write the values)
        return False
    total = float(counts.sum())  # (signed: the noise of empty cells cancels)
    if total <= 0 or float(counts[full].sum()) < SPARSE_HELD * total:  # much mass in cells under the noise: spread
        return False
    at = np.flatnonzero(full)
    if at.size == 1:
        return bool(widths[at[0]] >= 4 * unit)
    return bool(at.size <= SPARSE_OCCUPIED * (at[-1] - at[0] + 1))


def _released_points(s: pd.Series, lowest: int, high: int, unit: int, rho: float, res: BoundsResult,
                     rng: np.random.Generator, atoms: dict[float, float] | None = None,
                     ) -> tuple[list[int], np.ndarray, float, float] | None:
    """The values a whole-number column sits on, from one noisy count per point of its DP range (``rho``): the values,
    their noisy counts, noise and the count a value needs to stand out, or None where they are no code (:func:`~medsynth.privacy.steps.decide_sparse`).
    The values equal to a kept atom (``atoms``: its noisy count) are not counted on the points, and the range's count
    is taken less theirs (a 999 for "not taken" beside blood pressures in steps of 10 came out as a category 1000)."""
    sigma = gaussian_sigma(rho)
    x = cell_numbers(s).to_numpy(dtype=float)
    for a in atoms or {}:
        x = x[~is_atom(x, a)]
    noisy = noisy_counts(point_counts(x, lowest, high, unit), sigma, rng)
    rest = float(res.range_count) - sum((atoms or {}).values())
    on = decide_sparse(noisy, sigma, rest, run=MAX_LEVELS)  # (the caller asks for a range_count)
    if on is None:
        return None
    return [int(lowest + unit * int(i)) for i in on], noisy[on], sigma, _union_threshold(len(noisy)) * sigma


def _as_code(res: BoundsResult, mechanism: str, rho: float, rounds: int) -> tuple[dict[str, Any], dict[str, Any], OneWay]:
    """A number column released as a code (``res.codes`` and their noisy ``counts``, noise ``sigma``): its schema update,
    its ledger detail and its 1-way marginal (the missing count has its own noise: it sums text buckets too)."""
    cats = list(res.codes or ())
    upd = {"type": "categorical", "categories": cats, "min": None, "max": None, "missing": res.missing, "transform": "none"}
    detail = {"mechanism": mechanism, "rho": rho, "rounds": rounds, "categories": cats, "missing": res.missing}
    counts, sigmas = np.asarray(res.counts, dtype=float), np.full(len(cats), float(res.sigma))
    if res.missing:
        counts, sigmas = np.append(counts, res.missing_count), np.append(sigmas, res.sigma_missing)
    return upd, detail, OneWay(counts, sigmas)


def _set_bounds(col: ColumnSchema, lo: float, hi: float, *, half_open: bool = False) -> dict[str, Any]:
    if col.type == "integer" and half_open:  # the integers inside [lo, hi) (DP ranges are unions of half-open bins),
        # from the one nearest lo: a column DP typed whole numbers may hold fractions (up to a tenth and the noise:
        # infants' ages 0.1-0.9 of 11,643 tests), whose range [0.097, 99) made whole ages from 1 and clipped the infants
        first = int(math.floor(lo + 0.5))
        return {"min": first, "max": max(int(math.ceil(hi - 1e-9)) - 1, first)}
    if col.type == "integer":
        return {"min": int(math.floor(lo)), "max": int(math.ceil(hi))}
    if col.type == "datetime":
        w0, w1 = DATE_WINDOW_DAYS
        lo, hi = (max(lo, w0), min(hi, w1)) if min(hi, w1) > max(lo, w0) else (w0, w1)
        return {"min": from_days(math.floor(lo)), "max": from_days(math.ceil(hi))}
    return {"min": float(lo), "max": float(hi)}


#: An integer column whose DP range holds at most this many values is modelled as categorical.
MAX_LEVELS = 12


@dataclass
class OneWay:
    """A noisy 1-way marginal measured while releasing a column's domain, reusable by a model
    (post-processing): counts of the released categories in schema order, or of the cells of a number's
    grid inside its DP range, then (when the column keeps a missing state) of missing values.

    Attributes:
        counts: noisy counts (categories or cells..., missing).
        sigma: their noise scales (one per count).
        edges: a number's cell edges (in the column's units: days for dates), else None.
    """

    counts: np.ndarray
    sigma: np.ndarray
    edges: np.ndarray | None = None


#: A number's grid is reused as its 1-way marginal only with at least this many cells inside its range.
MIN_REUSED_CELLS = 4


def _numeric_oneway(col: dict[str, Any], res: Any) -> OneWay | None:
    """The stage-2 histogram of :func:`dp_bounds` as the 1-way marginal of the column as resolved (integer
    cells snapped to half-integers so each holds whole values), or None when too coarse to reuse."""
    if res.edges is None:
        return None
    edges, counts = np.asarray(res.edges, dtype=float), np.asarray(res.counts, dtype=float)
    sig = np.full(counts.size, res.sigma) if res.count_sigmas is None else np.asarray(res.count_sigmas, dtype=float)
    if col["type"] in ("integer", "categorical"):
        snapped = np.ceil(edges - 1e-9) - 0.5
        keep = np.diff(snapped) > 0
        edges = np.append(snapped[:-1][keep], snapped[-1])
        counts, sig = counts[keep], sig[keep]
    if col["type"] == "categorical":  # a small integer range: reusable when each cell is one value
        if not (np.all(np.diff(edges) == 1) and counts.size == len(col["categories"] or [])):
            return None
    elif counts.size < MIN_REUSED_CELLS:
        return None
    if col["missing"]:
        counts = np.append(counts, res.missing_count)
        sig = np.append(sig, res.sigma_missing)
    return OneWay(counts, sig, None if col["type"] == "categorical" else edges)


#: A flag's text found in a number column's stage 1 must stand out again in the measurement of its two values (their
#: sum, this many of its noise deviations) before the column is released as that flag.
CONFIRM_SIGMAS = 2.0


def _retyped_flag(col: ColumnSchema, s: pd.Series, loc: Location, rho: float, rng: np.random.Generator,
                  ) -> tuple[dict[str, Any], OneWay] | None | bool:
    """A column DP decided was numbers whose location histogram found no number but a flag pair's text bucket
    above the noise: the pair is its categories, and ``rho`` measures the two values and the missing ones
    (one row in one cell), combined with the pair's stage-1 total by least squares (post-processing). None
    when the text found is not a flag's (``rho`` unspent); False when the measurement (``rho`` spent) does not
    confirm the text."""
    i = _flag_text(loc)
    if i is None:
        return None
    a, b = TEXT_PAIRS[i]
    keys = category_keys(s.dropna()).to_numpy(dtype=str)
    sigma2 = gaussian_sigma(rho)
    counts = np.array([float((keys == a).sum()), float((keys == b).sum()), float(s.isna().sum())])
    y = noisy_counts(counts, sigma2, rng)
    if y[0] + y[1] <= CONFIRM_SIGMAS * math.sqrt(2) * sigma2:
        # the second measurement does not confirm the text: stage 1's bucket stood out by noise alone (a number
        # column of 312 patients was released as FALSE/TRUE in 2 of 10 fits of a folder: a false rate per column and
        # look, compounded over a table's columns and looks). Both must stand out for a flag.
        return False
    w1, w2 = 1 / loc.sigma**2, 1 / (2 * sigma2**2)  # the pair's total: stage 1's bucket, and the sum of the two values
    total = (w1 * loc.text_noisy[i] + w2 * (y[0] + y[1])) / (w1 + w2)
    diff = y[0] - y[1]
    va, vb = (total + diff) / 2, (total - diff) / 2
    sigma_ab = math.sqrt((1 / (w1 + w2) + 2 * sigma2**2) / 4)
    missing = bool(y[2] > PRESENCE_SIGMAS * sigma2)
    by_key = {a: va, b: vb}
    cats = _sorted_categories([_canonical(k) for k in (a, b)])
    vals = [by_key[category_key(c)] for c in cats]
    sig = [sigma_ab, sigma_ab]
    if missing:
        vals.append(float(y[2]))
        sig.append(sigma2)
    upd = {"type": "categorical", "categories": cats, "min": None, "max": None, "missing": missing, "transform": "none"}
    return upd, OneWay(np.array(vals, dtype=float), np.array(sig, dtype=float))


#: The values of a point atom's cell beyond it are taken as none where their noisy sum stays under this many of its
#: noise deviations (a censoring day has nothing after it; a day beside a third of the rows after it, breaches'
#: posting day, is far above: at 3, a pure-noise sum passed it in 1 fit of 3 and a study's end date was lost).
EMPTY_SIGMAS = 5.0


@dataclass
class PointAtom:
    """A point atom's noisy count and its noise, and whether the values of its cell above (below) it stand within
    the noise (their noisy sum under ``EMPTY_SIGMAS`` deviations of it): nothing there, so the atom can end the range."""

    count: float
    sigma: float
    empty_above: bool
    empty_below: bool


def _released_point_atoms(values: np.ndarray, res: BoundsResult, cells: list[tuple[int, int, int]], unit: int,
                          rho: float, rng: np.random.Generator) -> dict[float, PointAtom]:
    """The atoms of a whole-number or date column's ``cells`` (:func:`~medsynth.privacy.steps.point_atom_cells`) from
    one noisy count of each value on ``unit`` in them (``rho``; :func:`~medsynth.privacy.steps.point_counts`, each value
    in at most one count: L2 sensitivity 1), an
    atom where a value's count stands out of the noise (threshold corrected for the values counted) and holds
    :data:`~medsynth.privacy.steps.POINT_ATOM_HOLD` of its cell's noisy count, :data:`~medsynth.privacy.steps.POINT_ATOM_PEAK`
    times the mean of its other values' noisy counts. ``values``: the column's numbers (a
    date's days since 1970)."""
    exact = [point_counts(values, first, first + unit * (n - 1), unit) for _, first, n in cells]
    sigma = gaussian_sigma(rho)
    noisy = noisy_counts(np.concatenate(exact), sigma, rng)
    z = _union_threshold(noisy.size)
    out, at = {}, 0
    for (i, first, n), _ in zip(cells, exact, strict=True):
        part = noisy[at: at + n]
        at += n
        j = int(np.argmax(part))
        cell = float(res.counts[i])  # type: ignore[index]
        # (and POINT_ATOM_PEAK times as many as the other values of its cell each hold on average: of a cell's two values
        # one always holds half, and a smooth age's 75 was made an atom beside an empty 74 in 1 fit of 3)
        if (part[j] > z * sigma and part[j] >= POINT_ATOM_HOLD * cell
                and part[j] >= POINT_ATOM_PEAK * float(np.delete(part, j).mean())):
            above, below = part[j + 1:], part[:j]
            out[float(first + unit * j)] = PointAtom(
                float(part[j]), sigma, float(above.sum()) <= EMPTY_SIGMAS * sigma * math.sqrt(max(above.size, 1)),
                float(below.sum()) <= EMPTY_SIGMAS * sigma * math.sqrt(max(below.size, 1)))
    return out


def _ended_at_atoms(res: BoundsResult, atoms: dict[float, PointAtom]) -> tuple[BoundsResult, list[str]]:
    """A DP range ended at a point atom: at its highest where the range's noisy mass lies below it, nothing of its
    cell stands above it and no cell beyond holds more than the noise (:func:`_cut_at_top`); else at its lowest, the
    other way round; one end at most (both cut at one atom left breaches' posting days a single day in 1 fit of 2). A
    censoring day is the last value of its column (Aids2's 11504, written to 11605 by the range's cell; the model then
    writes ``b = a + gap`` up to it, and the clip at the top puts the rows past it on it); which end moved."""
    edges, counts = np.asarray(res.edges, dtype=float), np.asarray(res.counts, dtype=float)
    top, bottom = max(atoms), min(atoms)
    below = float(np.maximum(counts, 0.0)[edges[1:] <= top].sum())  # (cells wholly below the highest atom ...)
    above = float(np.maximum(counts, 0.0)[edges[:-1] > bottom].sum())  # (... wholly above the lowest)
    # (a range of one cell holds no cell beyond either: the end the atom lies nearer; breaches' first posting day in
    # [16056, 16384), its later days after it, was taken as a top and 96-98% of the postings came out on it)
    upward = below > above or (below == above and res.high - top <= bottom - res.low)
    if upward and atoms[top].empty_above:
        res, cut = _cut_at_top(res, top + 1)  # (whole values in [low, top + 1): top the last, whatever the unit)
        return res, ["top"] if cut else []
    if not upward and atoms[bottom].empty_below:
        res, cut = _cut_at_bottom(res, bottom)
        return res, ["bottom"] if cut else []
    return res, []


def split_at_atoms(ow: OneWay, atoms: dict[float, PointAtom]) -> OneWay:
    """A whole-number column's reused 1-way marginal (cells snapped to half-integers) with each atom's value a cell of its
    own, its count the atom's noisy count, and the rest of the cell holding it split between the two sides by width
    (post-processing): the model writes a cell an atom holds alone as the atom, and the rest of the cell stays spread."""
    if ow.edges is None or not atoms:
        return ow
    g = ow.edges.size - 1
    edges, counts, sig = list(ow.edges), list(ow.counts[:g]), list(ow.sigma[:g])
    for a, atom in sorted(atoms.items()):
        c, s = atom.count, atom.sigma
        j = int(np.searchsorted(np.asarray(edges), a, side="right") - 1)
        if not 0 <= j < len(counts):
            continue
        lo, hi = edges[j], edges[j + 1]
        left, right = max(a - 0.5 - lo, 0.0), max(hi - (a + 0.5), 0.0)
        rest, rest_sd = max(counts[j] - c, 0.0), math.hypot(sig[j], s)  # (the atom's count may pass its cell's)
        parts = [(lo, left), (a - 0.5, 1.0), (a + 0.5, right)]
        new_e = [p for p, w in parts if w > 1e-12]
        share = [w / (left + right) if left + right > 0 else 0.0 for w in (left, right)]
        new_c = ([rest * share[0]] if left > 1e-12 else []) + [c] + ([rest * share[1]] if right > 1e-12 else [])
        new_s = ([rest_sd * share[0]] if left > 1e-12 else []) + [s] + ([rest_sd * share[1]] if right > 1e-12 else [])
        edges[j: j + 1] = new_e
        counts[j: j + 1], sig[j: j + 1] = new_c, new_s
    return OneWay(np.array(counts + list(ow.counts[g:]), dtype=float), np.array(sig + list(ow.sigma[g:]), dtype=float),
                  np.asarray(edges, dtype=float))  # (the missing count, where there is one, last as before)
