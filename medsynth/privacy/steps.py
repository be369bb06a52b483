"""The unit a number column's values are recorded in (``step`` of a column), decided from one noisy histogram.

Recorded values sit on grids: a coinsurance rate of 0/25/50/95/100 %, blood pressures to 2 mmHg, labs to one decimal.
A model that decodes a cell uniformly writes them as any value of their range (RandHIE's five rates as 114
values). The candidates are public: 1, 2, 2.5 and 5 times a power of ten, between a hundred-thousandth and a half of
the column's (DP) range (whole units and up for an integer column). Each present value adds 1 to one bucket: zero's
own, the coarsest candidate it is a whole multiple of, or none (L2 sensitivity 1). A unit is kept, coarsest first,
where the non-zero values on it (zeros sit on every unit) stand ``3`` deviations above zero and those off it, one
deviation above their noisy count, stay within ``STEP_SLACK`` of them (as
:func:`~medsynth.tabular.structure._resolution` keeps a date's unit, more cautiously: a unit too coarse moves values,
one too fine or none only leaves them as a model decodes them). The counts are computed here and leave only as noisy
counts. Beside the unit: the atoms a range's fullest cells hold (their roundest value, a code for "unknown", or, where
a cell stands out of its neighbours, any value of it: :func:`point_atom_cells`).
"""

from __future__ import annotations

import math

import numpy as np

# (the candidate units and the codes for 'unknown' live in io.units: schema infer reads them without noise too)
from medsynth.io.units import (  # noqa: F401 - re-exported: this module's names since the steps were added
    COARSEST,
    FINEST,
    MANTISSAS,
    SENTINEL_SHARE,
    SENTINELS,
    candidates,
    on_unit,
)
from medsynth.privacy.mechanisms import BoundsResult, _union_threshold

#: Values off a unit may stand this share of the values on it (with one noise deviation above their noisy count):
#: rounded by less than half a unit.
STEP_SLACK = 0.1
#: ... where the unit leaves at least this many points on the range (rounding moves a value by at most 2.5% of it); a
#: coarser unit's off values may stand that share times its points over this many (rounding moves the values by the
#: same share of the range on average): a Ct value of 45 in 93% of 15,524 covid tests, the positives' 14.05-44.9
#: recorded to 0.01, held unit 5 with 7% off it, the range became the categories 20-60 and every positive test was
#: written as missing, or as 25, 30 ... 40.
FINE_POINTS = 20
#: ... but a unit leaving at most this many points keeps ``STEP_SLACK`` (a flag's 0 and 1 on a range [0, 2)).
FLAG_POINTS = 3
#: Noise deviations the values on a unit must stand above zero.
ON_SIGMAS = 3.0
#: Noise deviations added to the noisy count of the values off a unit before it is compared with ``STEP_SLACK`` of
#: those on it (a unit the noise cannot confirm is not kept: no rounding, as without a step).
OFF_SIGMAS = 1.0


def step_counts(values: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Exact counts (private): ``[zero, one per unit, none]``, each present finite value in one bucket (see the
    module)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    out = np.zeros(len(units) + 2)
    zero = x == 0
    out[0] = zero.sum()
    left = x[~zero]
    for i in range(len(units) - 1, -1, -1):  # coarsest first: a value counts at the coarsest unit it is on
        on = on_unit(left, float(units[i]))
        out[1 + i] = on.sum()
        left = left[~on]
    out[-1] = left.size
    return out


def decide_step(noisy: np.ndarray, sigma: float, units: np.ndarray, *, integer: bool,
                width: float | None = None) -> float | None:
    """The coarsest unit the noisy :func:`step_counts` support (see the module), or None: an integer column's unit of
    1 and a continuous column's none are not a step. A unit leaving fewer than :data:`FINE_POINTS` points on the
    range's ``width`` (by default twice the coarsest candidate's) allows off it :data:`STEP_SLACK` times its points over
    :data:`FINE_POINTS` (the whole of it where it leaves :data:`FLAG_POINTS` or fewer)."""
    if width is None:
        width = COARSEST * float(np.max(units)) if len(units) else 0.0
    noisy = np.asarray(noisy, dtype=float)
    m = len(noisy)
    for i in range(len(units) - 1, -1, -1):
        g = float(units[i])
        if integer and g <= 1.0:
            return None
        inside = [1 + int(j) for j in np.flatnonzero(on_unit(np.asarray(units, dtype=float), g))]
        at = float(noisy[inside].sum())
        off = float(noisy[1:].sum()) - at  # (zeros sit on every unit: they tell none, and 91% zeros made $ in 50s)
        points = width / g
        # (a unit leaving three points or fewer is a flag's or a code's: a 0/1 flag on its DP range [0, 2), whose
        # whole-or-not count the noise hid, is made whole by it; with the scaled slack it held in 37-92% of draws, a
        # reviewer)
        slack = STEP_SLACK if points <= FLAG_POINTS else STEP_SLACK * min(1.0, points / FINE_POINTS)
        if unit_holds(at, len(inside), off, m - 1 - len(inside), sigma, slack=slack):
            return g
    return None


def unit_holds(on: float, n_on: int, off: float, n_off: int, sigma: float, *, slack: float = STEP_SLACK) -> bool:
    """Whether noisy sums of ``n_on`` counts on a unit and ``n_off`` off it (each count's noise ``sigma``) keep the unit:
    the values on it ``ON_SIGMAS`` deviations above zero, those off it, ``OFF_SIGMAS`` deviations above their noisy sum,
    within ``slack`` of them."""
    return bool(on > ON_SIGMAS * sigma * math.sqrt(n_on)
                and off + OFF_SIGMAS * sigma * math.sqrt(n_off) <= slack * on)


#: A whole-number column whose DP range holds at most this many points of its unit may have its values counted one by
#: one (:func:`point_counts`): a code recorded as large numbers (a study id 4001 in every row, diagnosis codes
#: 410/428/486/599) that a range's cells wrote as about 190 made-up values, or as 410-415 where 410 was.
SPARSE_POINTS = 4096
#: ... and is written as the values standing out alone (categories) where at most this many stand out ...
SPARSE_CODES = 64
#: ... and the values off them (a noisy count: the range's less theirs) are at most this share of those on them. (One
#: noise deviation allowed wrote a study id 4001 held by 88% of 600 rows, the rest spread over 2,100-4,000, as 4001 in
#: every row in 8 fits of 20: a reviewer.)
SPARSE_LEFT = 0.02


def point_counts(values: np.ndarray, lowest: int, high: float, unit: int) -> np.ndarray:
    """Exact counts (private) of the values on each point ``lowest, lowest + unit, ... <= high``: each present finite
    value within half a unit of the grid's ends adds 1 to its nearest point, any other to none (L2 sensitivity 1)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int((high - lowest) // unit) + 1
    idx = np.round((x - lowest) / unit)
    idx = idx[(idx >= 0) & (idx < n)].astype(np.int64)
    return np.bincount(idx, minlength=n).astype(float)


def decide_sparse(noisy: np.ndarray, sigma: float, range_count: float, false_rate: float = 1e-3,
                  run: int = 12) -> np.ndarray | None:
    """The indices of the points a column's values sit on, from noisy :func:`point_counts` (noise ``sigma``) and a noisy
    count of the values in the range: the points standing out of the noise (the threshold corrected for
    the points tested, ``false_rate``), where at most :data:`SPARSE_CODES` do, and they leave at most
    :data:`SPARSE_LEFT` of their count off them; else None (post-processing). More than ``run`` points (the most
    values a whole range is written as categories by) filling over half of the span between the first and the last are
    no code but a range (ages 30-90 but 33): its cells write them."""
    noisy = np.asarray(noisy, dtype=float)
    z = _union_threshold(max(noisy.size, 1), false_rate)
    on = np.flatnonzero(noisy > z * sigma)
    if not on.size or on.size > SPARSE_CODES:
        return None
    if on.size > run and on.size > 0.5 * (on[-1] - on[0] + 1):
        return None
    held = float(noisy[on].sum())
    return on if range_count - held <= SPARSE_LEFT * held else None


#: A cell of a number's DP range holding at least this share of the range's noisy count is tested for an atom (a value
#: holding the cell alone: a Ct value of 45, "not detected", in 93% of covid tests, written as values drawn across its
#: cell, 44.5-45.5, so that no synthetic test was 45 and some were above the real maximum) ...
ATOM_SHARE = 0.1
#: ... at most this many cells, the fullest ...
ATOM_CELLS = 2
#: ... and it is one where the noisy count of the cell's roundest value (:func:`roundest`) is at least this share of
#: the cell's noisy count (the rest of the cell, at most a tenth, is written as the atom: moved by less than a cell).
ATOM_HOLD = 0.9


def roundest(low: float, high: float, *, closed: bool = False) -> float | None:
    """The roundest number in [low, high) ([low, high] where ``closed``): the first multiple of the coarsest unit of
    :data:`MANTISSAS` times a power of ten that has one there (0 where the cell holds it); None for an empty cell."""
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        return None
    top = math.floor(math.log10(max(abs(low), abs(high), high - low))) + 1
    for e in range(top, top - 20, -1):
        for m in MANTISSAS[::-1]:
            g = float(f"{m}e{e}")
            q = math.ceil(low / g - 1e-9)
            v = q * g
            if v < high or (closed and v <= high + 1e-12 * abs(high)):
                decimals = max(0, -math.floor(math.log10(g)) + 2)
                return float(round(v, decimals)) if q else 0.0
    return None


def atom_candidates(edges: np.ndarray, counts: np.ndarray) -> list[tuple[int, float]]:
    """The cells of a DP range tested for an atom (:data:`ATOM_SHARE`, :data:`ATOM_CELLS`), fullest first, each with its
    roundest value (post-processing of the range's noisy cell counts)."""
    edges, counts = np.asarray(edges, dtype=float), np.asarray(counts, dtype=float)
    if edges.size < 3 or counts.size != edges.size - 1:  # (a range of one cell holds nothing to tell apart)
        return []
    mass = float(np.maximum(counts, 0.0).sum())
    out = []
    for i in np.argsort(-counts, kind="stable")[:ATOM_CELLS]:
        if mass <= 0 or counts[i] < ATOM_SHARE * mass:
            break
        v = roundest(float(edges[i]), float(edges[i + 1]), closed=i == counts.size - 1)
        if v is not None:
            out.append((int(i), v))
    return out


#: ... in at most this many cells holding at least this share of the range's noisy count: first those whose neighbours
#: each hold less than ``SENTINEL_APART`` of their count (a sentinel lies apart from the values), fullest first.
SENTINEL_CELLS = 2
SENTINEL_APART = 0.5


def sentinel_candidates(edges: np.ndarray, counts: np.ndarray, tested: list[tuple[int, float]] = ()) -> list[tuple[int, float]]:
    """The cells of a DP range tested for a sentinel atom (:data:`SENTINELS`, :data:`SENTINEL_CELLS`, :data:`SENTINEL_APART`),
    each with the first sentinel it holds (all nines before 98s, 88s and 77s), no cell already ``tested`` for a sentinel
    (a cell of openintro's china tested for its roundest value -100 had kept its -99 in 17% of the rows untested; post-processing
    of the range's noisy cell counts)."""
    edges, counts = np.asarray(edges, dtype=float), np.asarray(counts, dtype=float)
    if edges.size < 2 or counts.size != edges.size - 1:  # (a range of one cell may be the sentinel's alone: myeloid's
        return []                                        # times with 9999 for missing, released as 9830-11469)
    mass = float(np.maximum(counts, 0.0).sum())
    ranked = sorted(SENTINELS, key=lambda v: (str(int(abs(v))).rstrip("9") != "", -abs(v)))  # (nines first)
    out: list[tuple[int, float]] = []
    done = {i for i, v in tested if v in SENTINELS}  # (a cell tested for its roundest value, -100, still is for -99)
    nb = np.maximum(np.r_[-np.inf, counts[:-1]], np.r_[counts[1:], -np.inf])  # (the fuller neighbour)
    apart = nb < SENTINEL_APART * counts
    for i in np.lexsort((-counts, ~apart)):  # (cells apart from their neighbours first, then fullest first)
        if len(out) == SENTINEL_CELLS or mass <= 0:
            break
        if counts[i] < SENTINEL_SHARE * mass or i in done:
            continue
        last = i == counts.size - 1
        inside = [v for v in ranked if edges[i] <= v and (v < edges[i + 1] or (last and v <= edges[i + 1]))]
        if inside:
            out.append((int(i), inside[0]))
    return out


def is_atom(values: np.ndarray, atom: float) -> np.ndarray:
    """Whether each value is ``atom`` (to the absolute tolerance of :func:`on_unit`)."""
    x = np.asarray(values, dtype=float)
    return np.abs(x - atom) <= 1e-9 * max(abs(atom), 1e-300) + 4 * np.spacing(np.abs(x))


def fold_atoms(noisy: np.ndarray, atom_noisy: np.ndarray, atoms: list[float], units: np.ndarray) -> np.ndarray:
    """Noisy :func:`step_counts` of the values other than ``atoms`` with each atom's noisy count added to the bucket it
    would have counted in (zero's, its coarsest unit's, or none): the counts :func:`decide_step` reads (post-processing)."""
    out = np.asarray(noisy, dtype=float).copy()
    for a, c in zip(atoms, np.asarray(atom_noisy, dtype=float), strict=True):
        if a == 0:
            out[0] += c
            continue
        on = [i for i in range(len(units)) if on_unit(np.array([a]), float(units[i]))[0]]
        out[1 + on[-1] if on else -1] += c
    return out


def on_step(x: np.ndarray, step: float, low: float | None = None, high: float | None = None) -> np.ndarray:
    """``x`` rounded to whole multiples of ``step``, kept within [low, high] on the grid (and written without the
    float error of the product: 0.1 * 3 as 0.3)."""
    q = np.round(np.asarray(x, dtype=float) / step)
    first = math.ceil(low / step - 1e-9) if low is not None and math.isfinite(low) else -math.inf
    last = math.floor(high / step + 1e-9) if high is not None and math.isfinite(high) else math.inf
    if first <= last:  # (a declared unit wider than the range has no point inside it: rounded only)
        q = np.clip(q, first, last)
    decimals = max(0, -math.floor(math.log10(step)) + 2)  # (2.5e-2 needs three decimals)
    return np.round(q * step, decimals)


#: A whole-number column's fullest cells that stand out of their neighbours (:func:`point_atom_cells`) where no round
#: atom was kept are counted value by value with this share of its stage-2 budget again (paid from the model's): a
#: censoring day or a data extraction day that is no round number (MASS::Aids2's deaths on 11504, the end of follow-up,
#: in 37% of the rows; breaches' posting day in 65%) was written as values drawn across its cell, none of them on it ...
POINT_ATOM_SHARE = 0.25
#: ... where the cells hold at most this many values on the column's unit in all (wider cells: not counted) ...
POINT_ATOM_POINTS = 4096
#: ... at most this share in all of what a fit's budget leaves beyond its domains' (the model's, its rules' tests; a
#: wide table of whole numbers with a domain budget of 0.9 spent the rules' test's share on them, and the fit refused:
#: an adversary), the columns first in the table first ...
POINT_ATOM_TOTAL = 0.1
#: ... and a value is an atom where its noisy count stands out of the noise (the threshold corrected for the values
#: counted) and holds at least this share of its cell's noisy count (a point mass, not a busy stretch).
POINT_ATOM_HOLD = 0.5
#: A cell is counted so only where it holds ``ATOM_SHARE`` of the range's noisy count and its values lie at least this
#: many times as densely as its neighbours' (per unit of width; a range of one cell, or a cell beside empty ones,
#: always): the fullest cell of a spread column is no denser than the cells beside it, and its budget stays the model's.
POINT_ATOM_PEAK = 3.0


def point_atom_cells(res: BoundsResult, unit: int, kept: list[float]) -> list[tuple[int, int, int]]:
    """The cells of a whole-number column's DP range counted value by value (:data:`POINT_ATOM_SHARE`): each as (its
    index, its first value on ``unit``, how many values on ``unit`` it holds), fullest first (at most ``ATOM_CELLS``);
    none inside the range holding a ``kept`` atom (at an end it is counted: whether the range ends on it), none of one
    value only, none that is no peak (:data:`POINT_ATOM_PEAK`), and none where they
    would hold more than :data:`POINT_ATOM_POINTS` values (post-processing of the range's noisy cells)."""
    if res.edges is None or res.counts is None or res.codes is not None:
        return []
    edges, counts = np.asarray(res.edges, dtype=float), np.asarray(res.counts, dtype=float)
    mass = float(np.maximum(counts, 0.0).sum())
    density = np.maximum(counts, 0.0) / np.maximum(np.diff(edges), 1e-300)
    out = []
    for i in np.argsort(-counts, kind="stable")[:ATOM_CELLS]:
        if mass <= 0 or counts[i] < ATOM_SHARE * mass:
            break
        beside = max([float(density[j]) for j in (i - 1, i + 1) if 0 <= j < counts.size], default=0.0)
        lo, hi = float(edges[i]), float(edges[i + 1])  # (half-open, as the whole numbers of a DP range: _set_bounds)
        first = math.ceil(lo / unit - 1e-9) * unit
        n = math.ceil(hi / unit - 1e-9) - first // unit  # (the values on the unit in [lo, hi))
        end = i in (0, counts.size - 1)  # (an end cell's kept atom is counted again: whether it ends the range)
        if n >= 2 and density[i] >= POINT_ATOM_PEAK * beside and (end or not any(lo <= a < hi for a in kept)):
            out.append((int(i), int(first), int(n)))
    return out if sum(n for _, _, n in out) <= POINT_ATOM_POINTS else []


__all__ = ["POINT_ATOM_HOLD", "POINT_ATOM_PEAK", "POINT_ATOM_POINTS", "POINT_ATOM_SHARE", "POINT_ATOM_TOTAL", "point_atom_cells",
           "ATOM_CELLS", "ATOM_HOLD", "ATOM_SHARE", "SENTINELS", "SENTINEL_APART", "SENTINEL_CELLS", "SENTINEL_SHARE", "sentinel_candidates", "SPARSE_CODES", "atom_candidates", "fold_atoms", "is_atom",
           "roundest", "SPARSE_LEFT", "SPARSE_POINTS", "candidates", "decide_sparse", "decide_step", "on_step",
           "on_unit", "point_counts", "step_counts", "unit_holds"]
