"""A number column's DP domain in stages: locate (and re-measure while unlocated), then refine.

:func:`~medsynth.privacy.mechanisms.dp_bounds` in steps a caller can interleave over many columns, so
that the budget follows need (sequential composition under zCDP: rhos add, and each step may depend
on earlier DP outputs):

1. :func:`locate` (stage 1): one noisy histogram per column on a data-independent grid, each row in
   exactly one bucket (L2 sensitivity 1): signed powers of two for most values, one bucket per whole
   value -1..15 (small codes: flags, grades, stages), and one for missing values. The column is a
   **small code** when some keys stand above the noise (threshold corrected for the 17 keys) and no
   power of two does; it is a **number** when powers of two (or blocks of them, see
   :func:`~medsynth.privacy.mechanisms._detect`) stand above the noise; else it is **unlocated**.
   Thresholds hold pure noise to a false-positive rate of ``FALSE_RATE`` (1e-3) per column over all
   scales and looks (union bound), and only the run of detected
   buckets holding the most mass sets the range (contiguity), so a bound never comes from a noise-only
   bucket away from the data. A date is located by :func:`locate_date`: a noisy histogram of its years
   first, then this histogram of its days after a day before the years holding them (a DP output: public).
2. :func:`remeasure` (optional, for an unlocated column): the same histogram measured again with more
   budget, combined with the first by inverse-variance weights (the sum of two Gaussian measurements
   is a sufficient statistic; the cost is the sum of the two rhos); detection is run again.
3. :func:`refine` (stage 2): a number's occupied powers of two are cut into linear cells and measured
   once more, with the powers of two beside them (and a one-signed run's mirror across zero, and zero) in
   coarse cells of the same histogram, and the missing cells in one more (averaged with stage 1's count of them);
   a neighbour joins where both stages' counts of it, averaged, stand above the noise (:func:`_grown_run`: stage
   1's coarse look misses shoulders of a few hundred rows); each end of the range is trimmed only where DP is
   confident the cut holds less than 2% of the mass (:func:`_confident_trim`), so heavy noise leaves the located
   powers of two whole instead of clipping the bulk, and little noise refines inside them. A small code's keys
   (and its missing cells) are measured once more and averaged with stage 1; its categories are the keys from the
   first to the last that stand above the noise in the run holding the mass (a key far from it only well above the
   noise). The stage-2 counts are a noisy 1-way marginal a model may reuse (post-processing).

This replaces the separate "is it a small code?" pre-measurement (which spent 40% of a column's budget
before locating it): the codes are buckets of the location histogram, so the check is free.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from medsynth.core.errors import PrivacyBudgetError
from medsynth.privacy.mechanisms import (
    _LOG_MAX,
    _LOG_MIN,
    LOG_OCTAVES,
    PRESENCE_SIGMAS,
    SMALL_INTEGERS,
    BoundsResult,
    _log_bucket_edges,
    _log_bucket_index,
    _significant_cells,
    _union_threshold,
    gaussian_sigma,
    noisy_counts,
)

_KMAX = _LOG_MAX - _LOG_MIN + 1
_N_OCT = 2 * _KMAX + 1
_N_KEYS = len(SMALL_INTEGERS)


@dataclass
class Location:
    """Stage-1 state of one column (noisy counts are DP outputs; ``values`` stay private in memory).

    Attributes:
        values: the column's finite values (private; used by later stages only).
        counts: the true stage-1 histogram (private).
        noisy: its noisy counts (octaves..., keys..., missing).
        sigma: their noise scale (after any re-measurement).
        rho: budget spent so far on this column.
        kind: "number", "code" or "unlocated".
        octaves: located power-of-two bucket indices (first, last) for a number.
        keys: indices of keys standing above the noise.
        rounds: how many stage-1 measurements were combined.
        tentative: located by :func:`locate_present` (no block stood above the noise) or :func:`locate_by_family`,
            to be confirmed by stage 2.
        origin: a public day subtracted from a date column's values before it is located (:func:`locate_date`), or a
            public year from a year column's (:func:`locate_year`); 0 for other numbers: ``values`` and every grid
            are relative to it, and :func:`refine` adds it back to the range (and to a year column's codes).
        by_family: located by :func:`locate_by_family`.
        unconfirmed: located by its family's run without stage 2's confirmation (a caller's choice, where DP says the
            column holds values: :func:`family_fits`).
        family_keys: the keys of its family's scale (:func:`share_family_scale`), for a code located alone.
    """

    values: np.ndarray
    counts: np.ndarray
    noisy: np.ndarray
    sigma: float
    rho: float
    sensitivity: float = 1.0
    codes: bool = True
    kind: str = "unlocated"
    octaves: tuple[int, int] | None = None
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rounds: int = 1
    tentative: bool = False
    text_counts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    text_noisy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    origin: float = 0.0
    by_family: bool = False
    unconfirmed: bool = False
    family_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def text_found(self) -> np.ndarray:
        """Indices of the text buckets whose noisy count stands above the noise (threshold corrected for their
        number, false rate ``FALSE_RATE``)."""
        if self.text_noisy.size == 0:
            return np.zeros(0, dtype=np.int64)
        return np.nonzero(self.text_noisy > _union_threshold(self.text_noisy.size, FALSE_RATE) * self.sigma)[0]

    def text_as_missing(self) -> tuple[float, int]:
        """The noisy count of text a model sees as missing (a number column holds no text): the last text bucket
        (the caller's "any other text") and the other text buckets that stand above the noise; and how many buckets
        (each of noise ``sigma``) it sums."""
        if self.text_noisy.size == 0:
            return 0.0, 0
        found = self.text_missing_buckets()
        return float(self.text_noisy[found].sum()), int(found.size)

    def text_missing_buckets(self) -> np.ndarray:
        """The text buckets :meth:`text_as_missing` sums (chosen by DP outputs only)."""
        if self.text_noisy.size == 0:
            return np.zeros(0, dtype=np.int64)
        return np.union1d(self.text_found(), [self.text_noisy.size - 1]).astype(np.int64)

    def key_counts(self) -> np.ndarray:
        """The noisy counts of the located keys (small whole values standing above the noise)."""
        return self.noisy[_N_OCT + np.asarray(self.keys, dtype=np.int64)] if self.keys.size else np.zeros(0)

    def missing_noisy(self) -> tuple[float, float]:
        """The noisy count of cells a model sees as missing (missing values and :meth:`text_as_missing`) and its
        noise scale."""
        text, k = self.text_as_missing()
        return float(self.noisy[-1]) + text, self.sigma * math.sqrt(1.0 + k)


def _histogram(values: np.ndarray, n_missing: int, codes: bool) -> np.ndarray:
    if codes:
        is_key = (values == np.round(values)) & (values >= SMALL_INTEGERS[0]) & (values <= SMALL_INTEGERS[-1])
        keys = np.bincount((values[is_key] - SMALL_INTEGERS[0]).astype(np.int64), minlength=_N_KEYS)
        rest = values[~is_key]
    else:
        keys, rest = np.zeros(_N_KEYS, dtype=np.int64), values
    octs = np.bincount(_log_bucket_index(rest) + _KMAX, minlength=_N_OCT)
    return np.concatenate([octs, keys, [n_missing]]).astype(float)


def _key_octave(i: int) -> int:
    return int(_log_bucket_index(np.array([float(SMALL_INTEGERS[i])]))[0] + _KMAX)


#: Most stage-1 looks at one column (each re-tests the buckets: the false-positive budget is split over them).
MAX_LOOKS = 4
#: Chance that a column holding no values at all is located by noise, over all scales and looks.
FALSE_RATE = 1e-3
_WIDTHS = (1, 2, 4, 8, 16)
_KEY_WIDTHS = (1, 2, 4)
_PER_TEST = FALSE_RATE / ((len(_WIDTHS) + len(_KEY_WIDTHS)) * MAX_LOOKS)  # each width of each part, at each look


def _block_starts(first: int, stop: int, width: int) -> np.ndarray:
    """Starts of the blocks of ``width`` adjacent buckets in ``[first, stop)``, at aligned and half-shifted offsets
    (every half width), so that a mass straddling two aligned blocks is seen whole."""
    return np.arange(first, stop, max(width // 2, 1))


def _detect_strict(noisy: np.ndarray, sigma: float, widths: tuple[int, ...] = _WIDTHS) -> np.ndarray:
    """Buckets standing above pure noise, as :func:`~medsynth.privacy.mechanisms._detect` (single buckets,
    then blocks of adjacent ones, each width at aligned and half-shifted offsets so that a mass straddling
    two blocks is seen whole), each width's test at ``_PER_TEST`` (union bound over all its blocks)."""
    for width in widths:
        starts = _block_starts(0, noisy.size, width)
        sizes = np.minimum(starts + width, noisy.size) - starts
        sums = np.array([noisy[a : a + w].sum() for a, w in zip(starts, sizes, strict=True)])
        hit = np.nonzero(sums > _union_threshold(starts.size, _PER_TEST) * sigma * np.sqrt(sizes))[0]
        if hit.size:
            return np.unique(np.concatenate([np.arange(starts[h], starts[h] + sizes[h]) for h in hit]))
    return np.zeros(0, dtype=np.int64)


#: Stage 2 cuts the located range into about (noisy mass) / (this many noise deviations) cells.
MASS_PER_CELL = 1.0
#: Cell-by-cell significance may drop at most this share of the noisy mass (else the noise is too heavy).
CUT_MAX = 0.1
#: ... and drops no whole power of two whose count (both stages') stands this many deviations above zero.
REAL_SIGMAS = 5.0
#: A tail beyond an end of the cut joins the range (coarse: :func:`_coarse_tail`) while it holds more than this share
#: of the noisy mass ...
TAIL_SHARE = 0.01
#: ... and stands this many deviations of its noise above zero.
TAIL_PIECE_SIGMAS = 2.5
#: Stage 2 cuts an end of the range only where it is confident the cut holds less than this share of the mass.
TRIM_SHARE = 0.02
#: ... confident: the cut's noisy sum plus this many deviations of its noise stays below that share.
TRIM_SIGMAS = 2.0
#: The other value of a code released as 0 alone or 1 alone joins it when its noisy count stands this many
#: deviations above zero (a flag's minority value; a pure-noise count passes 16% of the time, and the model then
#: learns its mass from that count).
FLAG_PARTNER_SIGMAS = 1.0
#: A 1 released alone takes 2 as its partner instead of 0 where 2's count exceeds 0's by this many deviations of their
#: difference (a 1/2-coded sex; else a 0/1 flag).
FLAG_TWO_SIGMAS = 1.5
#: A small code's key more than two keys from the run holding its mass is released only above this many deviations.
FAR_KEY_SIGMAS = 6.0
#: A date's cut (``_cut(..., sure=True)``) is confident of the dropped mass in this many cells next to the range on each side.
SURE_CELLS = 8
#: ... at this many deviations of their noise.
SURE_SIGMAS = 2.0
#: Detected powers of two at most this many apart belong to one run of mass (see :func:`_main_run`).
MAX_GAP = 3


#: A run of detected powers of two apart from the main one, on its side of zero, joins it (the range spans both) when
#: it holds this share of the main run's noisy mass ...
SECOND_RUN_SHARE = 0.1
#: ... and its noisy mass stands this many deviations above zero (a bucket that noise lifted over the detection
#: threshold, about 4.5 deviations, does not reach it: the contiguity rule still keeps such a bucket out).
SECOND_RUN_SIGMAS = 6.0


def _main_run(found: np.ndarray, octs: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The run of detected buckets (neighbours at most ``MAX_GAP`` apart) holding the most noisy mass: a
    bucket that cleared the threshold by noise far from the data (probability 1e-3 per scale) cannot
    stretch the range to it (contiguity with the mass). A run on the other side of zero joins it when its
    magnitudes meet the main run's (within ``MAX_GAP`` powers of two) and it holds at least a quarter of
    its mass: a signed column (a change, a difference) keeps both signs. A run on the same side joins where it
    is a second mode of the data, not noise (``SECOND_RUN_SHARE`` of the main run's mass, ``SECOND_RUN_SIGMAS``
    deviations of its noise ``sd``): codes 1-8 for 70% of rows and 100-2,000 for the rest had the rest clipped to
    127."""
    runs = np.split(found, np.nonzero(np.diff(found) > MAX_GAP)[0] + 1)
    mass = [float(octs[r].sum()) for r in runs]
    main = int(np.argmax(mass))
    out = runs[main]

    def low_mag(r: np.ndarray) -> int:
        return int(np.min(np.abs(r - _KMAX)))

    for k, r in enumerate(runs):
        if k == main:
            continue
        opposite = (r[0] - _KMAX) * (runs[main][0] - _KMAX) < 0
        if opposite and mass[k] >= mass[main] / 4 and abs(low_mag(r) - low_mag(runs[main])) <= MAX_GAP:
            out = np.union1d(out, r)
        # (zero's bucket is on every side: a run holding it joins a run of either sign, and a run of either sign joins
        # it: a cost 0 for 37% of 1,600 rows and 300-100,000 for the rest was left unlocated, its zeros outweighing any
        # one run of powers of two, and a column 60% zeros was a code {0})
        same_side = not opposite
        if same_side and mass[k] >= SECOND_RUN_SHARE * mass[main] and (
                mass[k] > SECOND_RUN_SIGMAS * float(np.sqrt(np.sum(sd[r] ** 2)))):
            out = np.union1d(out, np.arange(min(out[0], r[0]), max(out[-1], r[-1]) + 1))
    # a run across zero keeps its lighter sign only where that sign's own count stands out as stage 2's mirror must
    # (MIRROR_SIGMAS, MIRROR_SHARE of the other sign's): a block of the detection straddling zero, or buckets within
    # MAX_GAP of each other, gave breast-cancer concavity (0-0.43, 2% zeros) the range -2^-7..0.5 on a noise count of
    # 31 (sigma 60), and negative synthetic values; stage 2's mirror still finds a real other sign
    neg, pos = out[out < _KMAX], out[out > _KMAX]
    if neg.size and pos.size:
        light, heavy = sorted((neg, pos), key=lambda r: float(octs[r].sum()))
        mass_light = float(octs[light].sum())
        if not (mass_light >= MIRROR_SHARE * float(octs[heavy].sum())
                and mass_light > MIRROR_SIGMAS * float(np.sqrt(np.sum(sd[light] ** 2)))):
            out = np.setdiff1d(out, light)
    return out


#: Powers of two around the small codes (|x| in [2^-4, 16)): values there that are not whole codes make a
#: column a number, not a code.
_NEAR_KEYS = np.r_[np.arange(_KMAX - 12, _KMAX - 4), np.arange(_KMAX + 5, _KMAX + 13)]


def _fractions_near_keys(loc: Location) -> bool:
    """Whether the values that are not whole codes, in the powers of two around the codes, stand above the
    noise (their sum, at ``PRESENCE_SIGMAS`` deviations): e.g. bilirubin 0.3-28 whose whole values alone
    would look like a code 1..15."""
    if not loc.codes or not loc.keys.size:
        return False
    part = loc.noisy[_NEAR_KEYS]
    return bool(part.sum() > PRESENCE_SIGMAS * loc.sigma * math.sqrt(part.size))


#: Powers of two beyond the small codes on each side (|x| in [16, 2^16)): mass there makes a column no code.
_BEYOND_KEYS = (np.arange(_KMAX - 24, _KMAX - 12), np.arange(_KMAX + 13, _KMAX + 25))
#: ... and past them (|x| in [2^16, 2^28)): a home's value, 0 for 40% of 1,300 owners and renters and 2^16-2^21 for
#: the rest, came out a code {0} where no power of two stood out alone.
_FAR_KEYS = (np.arange(_KMAX - 36, _KMAX - 24), np.arange(_KMAX + 25, _KMAX + 37))


def _mass_beyond_keys(loc: Location) -> bool:
    """Whether the values beyond the small codes on one side (their sum over the powers of two from 16 to 2^16, or
    from 2^16 to 2^28, each at ``PRESENCE_SIGMAS`` deviations) stand above the noise where no power of two does alone: pbcseq's visit days, 0
    for a sixth of the visits and spread over 16-5,000 otherwise, came out a code with the one category 0."""
    return bool(loc.codes) and max(_beyond_keys_z(loc), _beyond_keys_z(loc, _FAR_KEYS)) > PRESENCE_SIGMAS


def _beyond_keys_z(loc: Location, sides: tuple[np.ndarray, ...] = _BEYOND_KEYS) -> float:
    """How many deviations of its stage-1 noise the larger side of the values beyond the small codes stands above zero
    (their sum over the powers of two from 16 to 2^16 on each side of zero; ``_FAR_KEYS``: from 2^16 to 2^28). The
    far sides are for classifying only: a flag's partner and a code's shortfall weigh against the near ones (the
    largest of four noisy sums is biased upwards: a review saw flags keep their minority value less often)."""
    return max(float(loc.noisy[side].sum()) / (loc.sigma * math.sqrt(side.size)) for side in sides)


def _classify(loc: Location) -> None:
    octs, keys = loc.noisy[:_N_OCT], loc.noisy[_N_OCT : _N_OCT + _N_KEYS]
    found = _detect_strict(octs, loc.sigma)
    loc.keys = _detect_strict(keys, loc.sigma, _KEY_WIDTHS) if loc.codes else np.zeros(0, dtype=np.int64)
    key_octs = np.array(sorted({_key_octave(int(k)) for k in loc.keys}), dtype=np.int64)
    cand = np.union1d(found, key_octs)
    loc.kind, loc.octaves = "unlocated", None
    if cand.size == 0:
        return
    run = _main_run(cand, *_octave_totals(loc))
    if np.isin(run, found).any() or _fractions_near_keys(loc):
        loc.kind, loc.octaves = "number", (int(run[0]), int(run[-1]))
        loc.keys = np.array([k for k in loc.keys if run[0] <= _key_octave(int(k)) <= run[-1]], dtype=np.int64)
    elif loc.keys.size and not _mass_beyond_keys(loc):  # (else unlocated: more looks may find the numbers)
        loc.kind = "code"


def locate(values: np.ndarray, rho: float, rng: np.random.Generator, *, sensitivity: float = 1.0,
           codes: bool = True, text: np.ndarray | None = None) -> Location:
    """Stage 1: the noisy location histogram of a column with ``rho``-zCDP (see the module docstring).

    Args:
        values: the column as floats (NaN = missing).
        codes: whether whole values -1..15 get buckets of their own (False for dates).
        text: counts of the NaN in ``values`` that are cells holding something other than a number (text), in
            buckets of the caller's public partition of text (e.g. one per flag vocabulary, then the last one for
            any other text, which always counts as missing to the model):
            they are measured in those buckets instead of the missing one (each row still lands in one bucket),
            so a caller can tell a text column that DP decided was numbers (:meth:`Location.text_found`).
    """
    values = np.asarray(values, dtype=float)
    text_counts = np.zeros(0) if text is None else np.asarray(text, dtype=float)
    n_missing = int(np.sum(np.isnan(values))) - int(text_counts.sum())
    finite = values[np.isfinite(values)]
    counts = _histogram(finite, n_missing, codes)
    sigma = gaussian_sigma(rho, sensitivity)
    loc = Location(finite, counts, noisy_counts(counts, sigma, rng), sigma, rho, sensitivity, codes)
    loc.text_counts = text_counts
    loc.text_noisy = noisy_counts(text_counts, sigma, rng) if text_counts.size else np.zeros(0)
    _classify(loc)
    return loc


#: Dates are first placed on a calendar: a noisy histogram of their years over this public span (one cell per year;
#: a date outside it counts in the first or last year), with this share of the date's stage-1 budget.
DATE_YEARS = (1700, 2300)
DATE_YEAR_SHARE = 0.3
_YEAR_WIDTHS = (1, 2, 4, 8, 16, 32, 64)
#: Detected years at most this many years apart belong to one run of dates.
YEAR_GAP = 3


#: A year column whose values off the calendar stand this many deviations above zero is located as any number (a
#: false alarm costs only the calendar's placement; at 3 deviations 30% zeros on 2,000 rows were missed 1 fit in 3).
OFF_CALENDAR_SIGMAS = 2.0


def _year_run(years: np.ndarray, rho: float, rng: np.random.Generator, sensitivity: float, *,
              outside: bool = False) -> tuple[int, int] | None:
    """The first and last calendar year of the run holding the mass of ``years`` (whole years), from their noisy
    histogram over ``DATE_YEARS`` with ``rho`` (L2 sensitivity ``sensitivity``); None when no year or block of years
    stands above the noise (thresholds corrected for the number of blocks, as for powers of two). Values outside
    ``DATE_YEARS`` count in no cell, or with ``outside`` in one cell of their own (the same histogram: each value in
    one cell), and a run is then None where that cell's noisy count stands ``OFF_CALENDAR_SIGMAS`` above zero (a year
    column coding "never" as 0: its zeros are no year)."""
    first, last = DATE_YEARS
    years = np.asarray(years, dtype=float)
    years = years[np.isfinite(years)]
    cal = (years >= first) & (years < last)
    inside = years[cal].astype(np.int64) - first
    sigma = gaussian_sigma(rho, sensitivity)
    counts = np.bincount(inside, minlength=last - first).astype(float)
    noisy = noisy_counts(np.append(counts, float((~cal).sum())) if outside else counts, sigma, rng)
    if outside:
        if noisy[-1] > OFF_CALENDAR_SIGMAS * sigma:
            return None
        noisy = noisy[:-1]
    # the narrowest width that detects anything (a wider block holding a year's mass would stretch the run by its
    # width), its detections merged across gaps of up to YEAR_GAP years: a few single years standing out of dates spread
    # over a decade put the origin inside the data, and the first year was clipped
    found = _detect_strict(noisy, sigma, _YEAR_WIDTHS)
    if found.size == 0:
        return None
    runs = np.split(found, np.nonzero(np.diff(found) > YEAR_GAP + 1)[0] + 1)
    run = max(runs, key=lambda r: float(noisy[r[0] : r[-1] + 1].sum()))
    return first + int(run[0]), first + int(run[-1])


def _year_origin(days: np.ndarray, rho: float, rng: np.random.Generator, sensitivity: float) -> float | None:
    """A day before the run of calendar years holding the dates' mass by the least power of two of days at least as long
    as the run, in days since 1970-01-01 (:func:`_year_run` on the dates' years); None when no year stands out."""
    first, last = DATE_YEARS
    day = np.floor(days).astype("int64").astype("timedelta64[D]") + np.datetime64("1970-01-01", "D")
    years = np.clip(day.astype("datetime64[Y]").astype(np.int64) + 1970, first, last - 1)
    found = _year_run(years, rho, rng, sensitivity)
    if found is None:
        return None
    start = np.datetime64(f"{found[0]}-01-01", "D")
    stop = np.datetime64(f"{found[1] + 1}-01-01", "D")
    # the run's L days lie in [P, P + L) days after it, P the least power of two of at least L: one power of two (from
    # L before the run, a year lay across 256-512 and 512-1024 days: two powers of two, 2.1 years that heavy noise never
    # trimmed; 8-20% of synthetic deaths of 1849's cholera were in another year, a data scientist)
    span = int((stop - start).astype(np.int64))
    origin = start - np.timedelta64(1 << max(span - 1, 1).bit_length(), "D")
    return float((origin - np.datetime64("1970-01-01", "D")).astype(np.int64))


def locate_date(values: np.ndarray, rho: float, rng: np.random.Generator, *, sensitivity: float = 1.0,
                text: np.ndarray | None = None) -> Location:
    """Stage 1 for a date column (``values`` in days since 1970-01-01): :func:`locate` on the days after a day placed
    before the years holding the dates (:func:`_year_origin`, with ``DATE_YEAR_SHARE`` of ``rho``; a DP output, so the
    origin is public), instead of on the days since 1970 (where no year stands out, as before). Powers of two of days
    since 1970 cut the calendar at 1992-06-06 and 2014-11-09: on 450 patients, whose follow-up ended in 1992, the
    released range was 1992-06-06 to 2014-11-10 (too few rows to refine inside a power of two of 22 years) and the 10%
    of dates before June 1992 were clipped. After the origin, the run's dates lie in one power of two of days."""
    values = np.asarray(values, dtype=float)
    rho_year = DATE_YEAR_SHARE * rho
    origin = _year_origin(values[np.isfinite(values)], rho_year, rng, sensitivity)
    loc = locate(values - (origin or 0.0), rho - rho_year, rng, sensitivity=sensitivity, codes=False, text=text)
    loc.rho += rho_year
    loc.origin = origin or 0.0
    return loc


#: Share of a year column's stage-1 budget that places it on the calendar (:func:`locate_year`).
YEAR_SHARE = 0.5


def locate_year(values: np.ndarray, rho: float, rng: np.random.Generator, *, sensitivity: float = 1.0,
                text: np.ndarray | None = None) -> Location:
    """Stage 1 for a number column whose name says it holds calendar years
    (:func:`~medsynth.io.dataset_infer.year_named`): placed on the calendar as a date's years are (:func:`_year_run`
    with ``YEAR_SHARE`` of ``rho``; a DP output, so its origin is public), then :func:`locate` on the offsets from the
    year before the run, where up to 15 years are small codes of their own: a survey's year (2016-2017) becomes its
    years. On the powers of two a year lies in [1024, 2048), whose cells were a century wide at a wide table's noise:
    89% of Weather's synthetic years in one fit were not 2016-2017, and a constant 2018 came out as any year from 1069.
    Where no year stands out (two-digit years, a study year 1-3, or too few rows), or values off the calendar (0 for
    "never") stand above the noise, it is :func:`locate` on the values."""
    values = np.asarray(values, dtype=float)
    rho_year = YEAR_SHARE * rho
    finite = values[np.isfinite(values)]
    run = _year_run(np.floor(finite), rho_year, rng, sensitivity, outside=True)
    origin = 0.0 if run is None else float(run[0] - 1)
    loc = locate(values - origin, rho - rho_year, rng, sensitivity=sensitivity, text=text)
    loc.rho += rho_year
    loc.origin = origin
    return loc


def remeasure(loc: Location, rho: float, rng: np.random.Generator) -> Location:
    """Stage 1 again with ``rho`` more, averaged with what was measured (inverse-variance weights)."""
    s2 = gaussian_sigma(rho, loc.sensitivity)
    fresh = noisy_counts(loc.counts, s2, rng)
    w1, w2 = 1 / loc.sigma**2, 1 / s2**2
    loc.noisy = (w1 * loc.noisy + w2 * fresh) / (w1 + w2)
    if loc.text_counts.size:  # the same histogram: its text buckets are measured again too
        loc.text_noisy = (w1 * loc.text_noisy + w2 * noisy_counts(loc.text_counts, s2, rng)) / (w1 + w2)
    loc.sigma = 1 / math.sqrt(w1 + w2)
    loc.rho += rho
    loc.rounds += 1
    _classify(loc)
    return loc


def _octave_totals(loc: Location) -> tuple[np.ndarray, np.ndarray]:
    """Stage-1 count of each power of two with its keys folded in, and that sum's noise scale."""
    tot = loc.noisy[:_N_OCT].copy()
    cells = np.ones(_N_OCT)
    for k in range(_N_KEYS):
        i = _key_octave(k)
        tot[i] += loc.noisy[_N_OCT + k] if loc.codes else 0.0
        cells[i] += 1 if loc.codes else 0
    return tot, loc.sigma * np.sqrt(cells)


def _confident_trim(noisy: np.ndarray, sigma: float) -> tuple[int, int]:
    """The cells kept after trimming each end while DP is confident that what is cut holds less than
    ``TRIM_SHARE`` of the mass: a run of ``m`` end cells is cut when its noisy sum plus ``TRIM_SIGMAS``
    deviations of its noise (``sigma * sqrt(m)``) stays below ``TRIM_SHARE`` of the noisy total. The burden
    of proof is on the cut: under heavy noise the range stays the located powers of two (coarse, nothing
    clipped); with little noise empty cells and thin tails are cut and the range is refined inside the
    powers of two."""
    mass = max(float(np.sum(np.maximum(noisy, 0.0))), 1.0)
    limit = TRIM_SHARE * mass
    first, cum = 0, 0.0
    for i in range(noisy.size - 1):
        cum += noisy[i]
        if cum + TRIM_SIGMAS * sigma * math.sqrt(i + 1) >= limit:
            break
        first = i + 1
    last, cum = noisy.size - 1, 0.0
    for j, i in enumerate(range(noisy.size - 1, first, -1)):
        cum += noisy[i]
        if cum + TRIM_SIGMAS * sigma * math.sqrt(j + 1) >= limit:
            break
        last = i - 1
    return first, last


def _cut(noisy: np.ndarray, sigma: float, dropped: Callable[[int, int], tuple[float, bool]] | None = None, *,
         sure: bool = False) -> tuple[int, int]:
    """Stage 2's range (first and last cell kept): the cells covered by blocks standing above the noise
    (:func:`~medsynth.privacy.mechanisms._significant_cells`: the bulk cell by cell, a sparse tail as a
    wider block) when what that drops holds at most ``CUT_MAX`` of the noisy mass (empty cells and thin
    tails) and no power of two standing out on its own (``dropped(first, last)`` gives both, by default the dropped
    cells' noisy sum and no such power); otherwise the noise is too heavy for cell-by-cell significance, which would
    clip the bulk, and only the cuts DP is confident about are made (:func:`_confident_trim`)."""
    covered = _significant_cells(noisy, sigma)
    if covered.any():
        hit = np.nonzero(covered)[0]
        first, last = int(hit[0]), int(hit[-1])
        mass = max(float(np.sum(np.maximum(noisy, 0.0))), 1.0)
        lost, real = dropped(first, last) if dropped else (float(noisy[:first].sum() + noisy[last + 1 :].sum()), False)
        if real:
            return _confident_trim(noisy, sigma)
        if sure:  # confident of it: its noisy sum plus SURE_SIGMAS deviations of the noise of the SURE_CELLS dropped
            # cells next to the range on each side (where a real shoulder hides; far empty cells would only widen it)
            near = min(first, SURE_CELLS) + min(noisy.size - 1 - last, SURE_CELLS)
            lost += SURE_SIGMAS * sigma * math.sqrt(near)
        if lost <= CUT_MAX * mass:
            return first, last
    return _confident_trim(noisy, sigma)


def _coarse_tail(first: int, last: int, side: int, kept_oct: np.ndarray, noisy: np.ndarray, sigma: float,
                 combined: Callable, mass: float, *, log_scale: bool = False) -> list[tuple[int, int, float, float]]:
    """The tail beyond one end of a cut (``side`` -1: below ``first``, 1: above ``last``) that DP is sure of, as pieces
    (first cell, last cell, noisy count, its noise), innermost first: the rest of the end's power of two, then each
    whole power of two beyond it. A piece joins while what lies from it outwards stands above both ``TAIL_SHARE`` of
    the mass and ``TAIL_PIECE_SIGMAS`` deviations of its noise, each counted the least noisy way (a whole power of two by
    both stages' count of it; the rest of one by its cells' sum or by its count less its other cells'). A thin tail is
    many fine cells each within the noise, so the significance cut dropped it: flchain's lambda lost its upper 8% (2.4
    to 26.6) at the budget of an 11-column table, more with more budget (finer cells, each further within the noise).
    Its pieces stay coarse, one cell each, counted where the fine cells would be noise; empty cells beyond an end sum to
    noise under the bound, and stretch nothing. Whole powers of two, and the rest of one in halves, only on a log scale
    (``log_scale``); on a linear one the rest's pieces grow from the inside, 1, 1, 2, 4 ... cells. Post-processing of
    the stage-1 and stage-2 counts."""
    idx = np.arange(kept_oct.size)
    end = last if side > 0 else first
    k = int(kept_oct[end])
    own = idx[kept_oct == k]
    rest = own[own > last] if side > 0 else own[own < first]
    pieces: list[tuple[int, int, float, float]] = []
    first_rest = None  # the whole rest of the end's power of two, counted the least noisy way
    if rest.size:
        by_cells, var_cells = float(noisy[rest].sum()), sigma**2 * rest.size
        others = np.setdiff1d(own, rest)
        whole, whole_sd = combined([k])
        by_whole, var_whole = whole - float(noisy[others].sum()), whole_sd**2 + sigma**2 * others.size
        first_rest = (by_cells, var_cells) if var_cells <= var_whole else (by_whole, var_whole)
        inward = rest if side > 0 else rest[::-1]  # innermost first: on a log scale in halves (half, a quarter, ...),
        # on a linear one growing from the inside (1, 1, 2, 4 ... cells: a date's half-power-of-two piece put synthetic
        # dates 353 days before any real one in 2 draws of 8, its mass all at the inner end)
        size = 1
        while inward.size:
            take = (inward.size + 1) // 2 if log_scale else min(size, inward.size)
            part, inward = inward[:take], inward[take:]
            pieces.append((int(part.min()), int(part.max()), float(noisy[part].sum()), sigma**2 * part.size))
            size = size if len(pieces) < 2 else 2 * size
    n_rest = len(pieces)
    # whole powers of two beyond only on a log scale, where one is a tail's natural piece (log-uniform in it); on a
    # linear one a neighbour holding a dense mass's shoulder would spread it over the whole power of two (sodium 113-128
    # written 64-128: sodium 70 no patient has), so its values stay clipped to the range's end as before
    octs = np.unique(kept_oct[kept_oct > k] if side > 0 else kept_oct[kept_oct < k]) if log_scale else np.zeros(0, int)
    for i in (octs if side > 0 else octs[::-1]):
        cells = idx[kept_oct == i]
        est, sd = combined([int(i)])
        pieces.append((int(cells.min()), int(cells.max()), est, sd**2))
    out: list[tuple[int, int, float, float]] = []
    for j, (a, b, est, var) in enumerate(pieces):
        beyond = sum(p[2] for p in pieces[j:])
        beyond_var = sum(p[3] for p in pieces[j:])
        if j == 0 and first_rest is not None:  # (all of the rest of its power of two: the less noisy count of it)
            beyond = first_rest[0] + sum(p[2] for p in pieces[n_rest:])
            beyond_var = first_rest[1] + sum(p[3] for p in pieces[n_rest:])
        beyond_sd = math.sqrt(beyond_var)
        if beyond <= max(TAIL_SHARE * mass, TAIL_PIECE_SIGMAS * beyond_sd):
            break
        out.append((a, b, max(est, 0.0), math.sqrt(var)))
    return out


def locate_present(loc: Location, present: float, present_sd: float) -> bool:
    """Locate an unlocated column tentatively where its values are known to exist: when ``present`` (a noisy count
    of its non-missing values, e.g. noisy rows less :meth:`Location.missing_noisy`, noise ``present_sd``) stands
    ``PRESENT_SIGMAS`` deviations above zero, the block of 1-16 adjacent powers of two (small whole values folded
    in) whose noisy sum stands out most becomes its run, marked ``tentative`` for stage 2 to confirm (a thin
    column spread over many powers of two: bilirubin 0.3-28 on one visit per patient of 312, each power of two
    within 3.3 deviations, no block clearing the corrected threshold). Post-processing of DP outputs only.
    Returns whether the column was located."""
    if loc.kind != "unlocated" or present <= PRESENT_SIGMAS * present_sd:
        return False
    tot, sd = _octave_totals(loc)
    c_tot, c_var = np.r_[0.0, np.cumsum(tot)], np.r_[0.0, np.cumsum(sd**2)]
    best, best_z = None, -np.inf
    for width in _WIDTHS:
        starts = _block_starts(0, _N_OCT, width)
        ends = np.minimum(starts + width, _N_OCT)
        z = (c_tot[ends] - c_tot[starts]) / np.sqrt(c_var[ends] - c_var[starts])
        z[(starts < _KMAX) & (ends > _KMAX + 1)] = -np.inf  # one sign (the zero bucket on either side)
        k = int(np.argmax(z))
        if z[k] > best_z:
            best, best_z = (int(starts[k]), int(ends[k]) - 1), float(z[k])
    loc.kind, loc.octaves, loc.tentative = "number", best, True
    loc.keys = np.array([k for k in range(_N_KEYS) if loc.codes and best[0] <= _key_octave(k) <= best[1]
                         and loc.noisy[_N_OCT + k] > 0], dtype=np.int64)
    return True


#: A small code's keys leave too much of its values unexplained when the present count less their noisy mass stands
#: this many deviations above zero (to take it for a number after every look; a look more is taken at
#: ``KEYS_LOOK_SIGMAS``: a real code is seldom sent for one, and the look is what gives the test its power) ...
KEYS_SHORT_SIGMAS = 3.0
KEYS_LOOK_SIGMAS = 2.0
#: ... and is at least this share of the present count. The keys' mass counts every key within ``KEYS_NEAR`` of
#: those standing above the noise (a code's small categories often do not: stage 1-4 on 312 rows showed 3-4 alone).
KEYS_SHORT_SHARE = 0.2
KEYS_NEAR = 2
#: ... or of zeros alone (a cost or a count most rows hold none of): this share. RandHIE's inpatient dollars, 91% zeros
#: and the rest $50-19,000 over 6,000 rows, came out the code {0, 1} at epsilon 1 (4% of synthetic stays cost $1, the
#: mean 0.04 against 95); a code of several values keeps the larger share (a sentinel 99 beside 0-4 is no number).
ZERO_SHORT_SHARE = 0.05


def keys_short(loc: Location, present: float, present_sd: float, sigmas: float = KEYS_SHORT_SIGMAS) -> bool:
    """Whether a column classified a small code leaves much of its values outside its keys: ``present`` (a noisy count
    of its non-missing values, noise ``present_sd``) less the noisy mass of its keys and those near them stands ``KEYS_SHORT_SIGMAS`` deviations
    above zero and is ``KEYS_SHORT_SHARE`` of it (``ZERO_SHORT_SHARE`` for zeros alone; its deviations combined with those of the powers of two beyond the
    keys, the larger side, whose noise is independent). The sum of the powers of two beyond the keys (:func:`_mass_beyond_keys`)
    misses a mass spread thinly over many of them: pbcseq's visit days on one visit per patient (a quarter 0, the rest
    16-5,000, about 2.9 deviations over 12 powers of two) came out the code {0, 1} in 2 zero-config fits of 40, and the
    synthetic visits then fell on one day (74%). Such a column gets more looks, as an unlocated one, and after them is
    located tentatively as a number (:func:`locate_present`). Post-processing of DP outputs only."""
    if loc.kind != "code" or not loc.keys.size:
        return False
    near = np.arange(max(int(loc.keys.min()) - KEYS_NEAR, 0), min(int(loc.keys.max()) + KEYS_NEAR, _N_KEYS - 1) + 1)
    gap = present - float(loc.noisy[_N_OCT + near].sum())
    z_gap = gap / math.hypot(present_sd, loc.sigma * math.sqrt(near.size))
    # the same mass seen in the powers of two beyond the keys (independent noise): the two deviations combined
    z_beyond = _beyond_keys_z(loc)
    share = ZERO_SHORT_SHARE if loc.keys.size == 1 and SMALL_INTEGERS[int(loc.keys[0])] == 0 else KEYS_SHORT_SHARE
    return bool((z_gap + max(z_beyond, 0.0)) / math.sqrt(2) > sigmas and gap > share * present)


#: A code located by its family (:func:`locate_by_family`) is kept when the member's own counts (both stages) on the
#: family's keys sum to this many noise deviations of that sum.
FAMILY_CONFIRM_SIGMAS = 3.0


#: A member's own stage-1 mass off its family's code (other keys, non-whole or larger values) that stands this many
#: deviations above zero keeps it from taking the code (it is left to its own guesses). At 2.5 a count 1-40 took the
#: code 1-5 in 3 of 10 paired fits where alone it was located whole; at 2 it matched families off in 10 of 10.
FAMILY_OFF_SIGMAS = 2.0


def _unlike_code(loc: Location, keys: np.ndarray) -> bool:
    """Whether the member's own noisy stage-1 histogram holds mass off the family's code ``keys``: on other keys, on
    the powers of two around the keys (fractions, negatives below -1) or beyond them (16 and up), each sum at
    ``FAMILY_OFF_SIGMAS`` deviations. A count 1-40 half of whose values lie past 5, or a code 1-4 beside a family of
    0/1 flags, took the family's code and lost the rest of its values. Post-processing of its noisy counts."""
    other = np.setdiff1d(np.arange(_N_KEYS), keys)
    parts = [loc.noisy[_N_OCT + other], loc.noisy[_NEAR_KEYS], *(loc.noisy[side] for side in _BEYOND_KEYS)]
    return any(bool(p.sum() > FAMILY_OFF_SIGMAS * loc.sigma * math.sqrt(p.size)) for p in parts if p.size)


def _family(locs: list[Location]) -> Location | None:
    """The family's average stage-1 histogram (noise ``sqrt(sum sigma_i^2) / k``) classified as one column's; a code's
    run of keys grown by neighbours (up to two keys away) standing 3 deviations above zero, as a code's run does in
    stage 2 (an item's rarest answer, a tenth of the rows, missed the corrected threshold). None where the members'
    histograms differ in shape or hold no codes (post-processing of their noisy counts)."""
    if not locs or any(loc.noisy.shape != locs[0].noisy.shape or not loc.codes for loc in locs):
        return None
    k = len(locs)
    avg = np.mean([loc.noisy for loc in locs], axis=0)
    fam = Location(np.zeros(0), np.zeros_like(avg), avg, math.sqrt(sum(loc.sigma**2 for loc in locs)) / k, 0.0)
    _classify(fam)
    if fam.kind == "code":
        keys = fam.noisy[_N_OCT : _N_OCT + _N_KEYS]
        got = {int(i) for i in fam.keys}
        grown = True
        while grown:
            grown = False
            for i in sorted(got):
                for j in (i - 2, i - 1, i + 1, i + 2):
                    if 0 <= j < _N_KEYS and j not in got and keys[j] > PRESENCE_SIGMAS * fam.sigma:
                        got.add(j)
                        grown = True
        fam.keys = np.array(sorted(got), dtype=np.int64)
    return fam


def share_family_scale(locs: list[Location]) -> list[Location]:
    """Members of a family of codes (questionnaire items: names that differ only in their numbers) located alone as
    codes take their family's scale: the run of adjacent keys holding the mass of the family's average histogram
    (``sqrt(k)`` times less noise than one member's, :func:`_family`). In stage 2 (:func:`refine`) a family key joins a
    member's codes where the member's own noisy count of it is above zero, and the member's codes stay within the
    family's first and last key. Alone, a
    25-item questionnaire of 1-6 answers on 2,240 rows at epsilon 1 lost an end answer held by 2-5% of the rows in 13
    items and took an answer no one gave (-1 and 0, 5% of the synthetic rows) in one. A member with mass off the
    family's code (:func:`_unlike_code`) keeps its own. Post-processing of DP outputs and public names only. Returns
    the members given the scale."""
    coded = [loc for loc in locs if loc.kind == "code" and not loc.origin and not loc.by_family]
    fam = _family(locs) if coded and len(locs) >= 2 else None
    if fam is None or fam.kind != "code" or not fam.keys.size:
        return []
    # the scale is the run of adjacent keys holding the family's mass: a key apart from it may be one member's own
    # (a '9 = unknown' in 30% of one item stood out in the average of five, and would have joined the other four)
    runs = np.split(fam.keys, np.nonzero(np.diff(fam.keys) > 1)[0] + 1)
    keys = fam.noisy[_N_OCT : _N_OCT + _N_KEYS]
    scale = max(runs, key=lambda r: float(keys[r].sum()))
    shared = [loc for loc in coded if not _unlike_code(loc, scale)]
    for loc in shared:
        loc.family_keys = scale.copy()
    return shared


def locate_by_family(locs: list[Location], *, kinds: tuple[str, ...] = ("number", "code"),
                     unconfirmed: Callable[[Location], bool] | None = None) -> list[Location]:
    """Locate the unlocated members of a family of number columns (names that differ only in their numbers, each
    located alone by :func:`locate` with its own budget) where the family's average stage-1 histogram locates: the
    mean of the members' noisy histograms (noise ``sqrt(sum sigma_i^2) / k``, ``sqrt(k)`` times lower than one
    member's) classified as one column's. An unlocated member takes the family's kind, powers of two and keys,
    marked ``tentative``: stage 2 confirms it on the member's own values alone (a number's block, as for
    :func:`locate_present`; for a code, the member's own counts on the family's keys summed, ``FAMILY_CONFIRM_SIGMAS``
    deviations, see :func:`refine`), so a member unlike its family is left unlocated rather than given the family's
    domain; a member whose own histogram shows mass off the family's code (:func:`_unlike_code`) never takes it.
    ``kinds``: the family kinds acted on (a caller may take only codes first). ``unconfirmed``: take the run only for
    the members it accepts (given the run), without stage 2's confirmation (``unconfirmed`` set; :func:`family_fits`);
    the others stay unlocated. Each member keeps its own noisy counts (its stage 2 combines them, no family average in
    its marginal). Post-processing of DP outputs and public names only. Returns the members located this way."""
    lost = [loc for loc in locs if loc.kind == "unlocated" and not loc.origin and not loc.text_found().size]
    fam = _family(locs) if lost else None
    if fam is None or fam.kind not in kinds:
        return []
    if fam.kind == "code":
        lost = [loc for loc in lost if not _unlike_code(loc, fam.keys)]
    taken = []
    for loc in lost:
        loc.kind, loc.octaves, loc.keys, loc.tentative, loc.by_family = fam.kind, fam.octaves, fam.keys.copy(), True, True
        if unconfirmed is not None:
            if not unconfirmed(loc):
                loc.kind, loc.octaves, loc.keys, loc.tentative, loc.by_family = (
                    "unlocated", None, np.zeros(0, dtype=np.int64), False, False)
                continue
            loc.tentative, loc.unconfirmed = False, True
        taken.append(loc)
    return taken


def family_fits(loc: Location) -> bool:
    """Whether a member located by its family (:func:`locate_by_family`) holds more of its own stage-1 noisy mass inside
    the family's run than outside it (keys folded in): a member of the other sign, or on another scale, does not take
    the run without stage 2's confirmation (a reviewer: negatives -999..-1 in a family of counts came out in [0, 127]).
    Post-processing of its noisy counts."""
    if loc.octaves is None:
        return False
    tot, _ = _octave_totals(loc)
    inside = float(tot[loc.octaves[0] : loc.octaves[1] + 1].sum())
    return inside > 0 and inside > float(tot.sum()) - inside


#: Stage 2 also measures this many powers of two beyond each end of the located run ...
NEIGHBOURS = 4
#: ... and one joins the range when both stages' count of it (inverse-variance average) stands this many deviations
#: above zero: a false one widens the range by a power of two (about 6% of ends), a missed one clips its values to the edge (at
#: epsilon 1 on a 1,367-row table with 47 columns, stage 1 alone left futime's 233- and 290-row shoulders out in
#: most draws, clipping 23% of its values on average).
NEIGHBOUR_SIGMAS = 1.5
#: ... or when the powers of two from it outwards (``NEIGHBOURS`` of them, each both stages averaged) stand this many
#: deviations above zero together: a long thin tail (bilirubin's 2-28 on 312 rows, each power of two 1-2 deviations)
#: is reached through a power of two that noise made look empty.
TAIL_SIGMAS = 2.5
#: A small code's run of keys grows by a declining tail (``TAIL_SIGMAS``) only when it holds at least this many keys.
TAIL_MIN_KEYS = 3
#: A key next to an end of a small code's run joins when its own count stands ``PRESENCE_SIGMAS`` above zero (a rare
#: third type of 6% beside 1-2 on 1,500 rows: at the higher threshold below it was lost in 6 fits of 20, at 3 in 2);
#: a key two past an end, a -1 below a run from 0, or a key beside a flag's 0/1 must stand this many: the union bound's
#: threshold over the four keys tried at the two ends (false rate 1e-3 a column). A false key is no mere widening: the
#: code then writes a value no row holds, in as many synthetic rows as its noisy count says (flchain's 0/1 ``death``
#: took -1 in about 1 fit of 60 at 3 deviations, 35 of 5,511 rows, and the TSTR model, seeing three classes, scored
#: AUROC 0.19; medpar's 0/1 ``hmo`` a 2 and a 3, 71 rows).
KEY_NEIGHBOUR_SIGMAS = _union_threshold(4)
#: A code's run continues by a declining tail (``TAIL_SIGMAS``) past an end only where it declines there: the end key's
#: count under this share of the run's largest. A flat code's end is a cliff, not a tail, and the tail rule there joined
#: noise, writing a value no row holds (flchain's ``flc.grp`` 1-10, ten deciles, took an 11 or a 0 in about 1 fit of 30).
TAIL_END_SHARE = 0.5
#: A neighbouring power of two joins past an end of the range whose outer quarter of cells holds no mass (its noisy sum
#: under this many deviations) only when it, or the tail beyond, stands ``APART_SIGMAS`` above zero: at 1.5 deviations
#: alone, noise joined an empty power of two in about one column side in fourteen, and a wide table's synthetic heights
#: (143-198 cm, located in 128-256) reached 384 cm, 10.7% of them past the real range (nhefs, 68 columns, epsilon 1);
#: 18 draws of 300 doubled such a range, 9-11 now. At 1 deviation (5-9 of 300) a log-normal lab's real upper tail was
#: clipped by more than a tenth in 46 draws of 100 (40 before).
EDGE_SIGMAS = 0.5
APART_SIGMAS = 3.0
#: A column located at zeros alone whose range grew by at most this many powers of two each side (|x| < 1/64) is the
#: value 0 (:func:`refine`).
ZERO_ONLY_OCTAVES = 2
#: Cells of each neighbouring power of two in stage 2 (few: their sum decides whether it joins, and each cell
#: adds its noise to that sum; a joined neighbour is a tail, coarse cells suffice).
NEIGHBOUR_CELLS = 2
#: A one-signed run's other sign joins when its mirror (alone, or with ``NEIGHBOURS`` beyond it) stands this many
#: deviations above zero and holds at least ``MIRROR_SHARE`` of the run's count; the range then grows on that side as on
#: the run's: a change column keeps both signs (the sum of the whole other side diluted bili_change's 40% of positive
#: values below 3 deviations; a search of every block of the side, at about 4.7 deviations, kept both signs of nhefs's
#: weight changes, 32% negative, in 47 of 100 draws at its wide table's noise, of its smoking changes in 13 of 76; the two
#: blocks at 3.0: 73 of 100 and 28 of 76). At 2.5 the tests' one-signed columns took negative ranges from noise. The
#: share was 0.1: a crack-use index 6% negative on 6,000 rows (abortion data) kept only its positive side, clipping them.
MIRROR_SIGMAS = 3.0
MIRROR_SHARE = 0.03
#: ... and, in a table of many number columns, at least the deviations at which pure noise passes in any of them with
#: this probability (a union bound over their mirror tests; the columns' count is the DP type decision's): at
#: MIRROR_SIGMAS alone each one-signed column took a noise mirror in about 1 fit in 300, so a wide table had one in about
#: 1 fit in 10 (breast-cancer features, 31 columns and 569 rows at epsilon 1: perimeters from -256, symmetries from -2,
#: in 4 fits of 30; 3 now, and nhefs's weight and smoking changes kept both signs in 19 fits of 60 against 21).
MIRROR_TABLE_RATE = 0.05
#: A one-signed run joins zero (its range starts or ends there) when the count at zero (exact zeros and |x| < 2^-8)
#: stands this many deviations above zero and holds at least ``ZERO_SHARE`` of the run's: a day offset, a length
#: of stay or a count with many zeros far below its other values (day 0 of every first visit, 2^7 days and more for
#: the rest) keeps its zeros instead of clipping them to the bottom of the run.
ZERO_SIGMAS = 4.0
ZERO_SHARE = 0.02
#: (A run of zeros alone measures every power of two on both sides in stage 2, and the block of them standing out most
#: on a side joins by the mirror's rule: day 0 of 91 first visits located, the 221 later ones spread over 2^7-2^12.)
#: An unlocated column whose present values (noisy rows less its noisy missing count) stand this many deviations above
#: zero is located tentatively at the block of powers of two that stands out most (:func:`locate_present`) ...
PRESENT_SIGMAS = 4.0
#: ... and kept only when stage 2's count of that block stands this many deviations above zero (stage 2 alone: stage 1
#: chose the block, so its count there is biased upwards, and both together confirmed a noise block in ~10% of
#: all-missing columns; a block noise made the best one holds nothing in stage 2, and the column is left empty).
CONFIRM_SIGMAS = 3.0


def _candidate_octaves(lo_i: int, hi_i: int) -> tuple[int, int, set[int]]:
    """The span of powers of two stage 2 measures (a contiguous range of stage-1 indices) and the mirror of a
    one-signed run: ``NEIGHBOURS`` beyond each end on the run's side of zero (the zero bucket included), the
    run's magnitudes on the other side and ``NEIGHBOURS`` beyond them; for a run of zeros alone, everything."""
    if lo_i == hi_i == _KMAX:  # zeros alone: every power of two on both sides (one cell each, see _grown_run)
        return 0, _N_OCT - 1, set()
    first, last = max(lo_i - NEIGHBOURS, 0), min(hi_i + NEIGHBOURS, _N_OCT - 1)
    mirror: set[int] = set()
    if lo_i >= _KMAX:  # positive run (zero may be in it)
        first = max(first, _KMAX)
        mirror = {2 * _KMAX - i for i in range(max(lo_i, _KMAX + 1), hi_i + 1)}
    elif hi_i <= _KMAX:  # negative run
        last = min(last, _KMAX)
        mirror = {2 * _KMAX - i for i in range(lo_i, min(hi_i, _KMAX - 1) + 1)}
    if mirror:  # the mirror and NEIGHBOURS beyond its outer end (the other sign may reach further out)
        first = max(min(first, *mirror) - (NEIGHBOURS if lo_i >= _KMAX else 0), 0)
        last = min(max(last, *mirror) + (NEIGHBOURS if hi_i <= _KMAX else 0), _N_OCT - 1)
    return first, last, mirror


#: Stage 2 also measures (a cell each) the powers of two out to the farthest one on the run's side of zero whose stage-1
#: count stands this many deviations above zero: a second mode past ``NEIGHBOURS`` of the run (mstate's ebmt4: days to
#: recovery, most within a month, 14% of them censored at 2,048-4,096 days, 3.3 deviations; the range stopped at 2,047
#: and left out 22% of the values). It joins only where the growth of the run reaches it (:func:`_grown_run`).
FAR_OCTAVE_SIGMAS = 3.0


def _far_octaves(loc: Location, lo_i: int, hi_i: int, first: int, last: int) -> tuple[int, int]:
    """Stage 2's span of powers of two (:func:`_candidate_octaves`) widened to the far powers of two standing
    ``FAR_OCTAVE_SIGMAS`` out in stage 1 on the run's side of zero (post-processing of stage 1)."""
    octs, sd = _octave_totals(loc)
    far = np.flatnonzero(octs > FAR_OCTAVE_SIGMAS * sd)
    if lo_i >= _KMAX:  # (a one-signed run: its side; the other sign is the mirror's business)
        far = far[far >= _KMAX]
    elif hi_i <= _KMAX:
        far = far[far <= _KMAX]
    if far.size:
        first, last = min(first, int(far.min())), max(last, int(far.max()))
    return first, last


def _combiner(loc: Location, noisy: np.ndarray, cell_oct: np.ndarray, sigma2: float):  # noqa: ANN202
    """A function giving the count of a set of powers of two and its noise scale: per power of two, stage 1's count
    (small whole values folded in) and the sum of its stage-2 cells, inverse-variance weighted (post-processing)."""
    octs, octs_sd = _octave_totals(loc)

    def combined(idx: list[int] | range) -> tuple[float, float]:
        est, var = 0.0, 0.0
        for i in idx:
            cells = cell_oct == i
            if not cells.any():
                continue
            w1, w2 = 1 / octs_sd[i] ** 2, 1 / (sigma2**2 * int(cells.sum()))
            est += (w1 * octs[i] + w2 * float(noisy[cells].sum())) / (w1 + w2)
            var += 1 / (w1 + w2)
        return est, math.sqrt(var)

    return combined


def _grown_run(tentative: bool, lo_i: int, hi_i: int, mirror: set[int], combined: Callable, cell_oct: np.ndarray,
               noisy: np.ndarray, sigma2: float, columns: int = 1) -> tuple[int, int] | None:
    """The located run grown by the neighbouring powers of two, the mirror and zero that stage 2 shows holding
    mass (``combined``: each power of two's count from both stages, see :func:`_combiner`; post-processing);
    None for a tentative run that stage 2 does not confirm."""
    run_mass, _ = combined(list(range(lo_i, hi_i + 1)))
    if tentative:  # stage 2 alone confirms: stage 1 picked the block, so its counts there are biased upwards
        cells = (cell_oct >= lo_i) & (cell_oct <= hi_i)
        if float(noisy[cells].sum()) <= CONFIRM_SIGMAS * sigma2 * math.sqrt(int(cells.sum())):
            return None
    lowest, highest = int(cell_oct.min()), int(cell_oct.max())
    def best_block(side: range) -> tuple[int, int, float] | None:
        """The block of 1-16 adjacent powers of two of ``side`` standing out most, when it stands MIRROR_SIGMAS
        (at least; the threshold corrected for the blocks tried, FALSE_RATE) above zero and holds MIRROR_SHARE of the
        run's count: (first, last, count)."""
        best, best_z, tested = None, -np.inf, 0
        for width in _WIDTHS:
            for a in _block_starts(side.start, side.stop, width):
                a = int(a)
                est, sd = combined(range(a, min(a + width, side.stop)))
                tested += 1
                if sd > 0 and est / sd > best_z:
                    best, best_z = (a, min(a + width, side.stop) - 1, est), est / sd
        z = max(MIRROR_SIGMAS, _union_threshold(max(tested, 1), FALSE_RATE))  # the search's blocks, union bound
        return best if best is not None and best_z > z and best[2] >= MIRROR_SHARE * run_mass else None

    def mirror_block(side: range) -> tuple[int, int, float] | None:
        """The other sign's mass, tested on two blocks chosen before looking (the run's mirror, and the mirror with what
        stage 2 measured beyond it): the one standing out most, when it stands ``MIRROR_SIGMAS`` above zero (at least;
        corrected for the two) and holds ``MIRROR_SHARE`` of the run's count.
        The search over every block of the side (about 100 blocks, a threshold near 4.7 deviations) lost a third of
        nhefs's weight changes (their negatives spread over 7 powers of two) and a quarter of its smoking changes."""
        lo_m, hi_m = min(mirror), max(mirror)
        outward = range(side.start, hi_m + 1) if side.stop <= _KMAX else range(lo_m, side.stop)
        best, best_z = None, -np.inf
        for blk in (range(lo_m, hi_m + 1), outward):
            blk = range(max(blk.start, side.start), min(blk.stop, side.stop))
            if not len(blk):
                continue
            est, sd = combined(blk)
            if sd > 0 and est / sd > best_z:
                best, best_z = (blk.start, blk.stop - 1, est), est / sd
        z = max(MIRROR_SIGMAS, _union_threshold(2 * max(columns, 1), MIRROR_TABLE_RATE))  # (two blocks a column)
        return best if best is not None and best_z > z and best[2] >= MIRROR_SHARE * run_mass else None

    if mirror:  # the other sign: the block standing out most on the other side of zero
        positive = lo_i >= _KMAX
        block = mirror_block(range(lowest, _KMAX) if positive else range(_KMAX + 1, highest + 1))
        z_est, z_sd = combined([_KMAX])
        if block is not None:  # the mirror joins (and the zero bucket between); beyond it, powers of two join one by one
            lo_i, hi_i = min(lo_i, *mirror), max(hi_i, *mirror)
        elif positive:  # a positive run grows down to the zero bucket at most
            lowest = max(lowest, _KMAX)
            if z_est > ZERO_SIGMAS * z_sd and z_est >= ZERO_SHARE * run_mass:
                lo_i = _KMAX
        else:
            highest = min(highest, _KMAX)
            if z_est > ZERO_SIGMAS * z_sd and z_est >= ZERO_SHARE * run_mass:
                hi_i = _KMAX

    if lo_i == hi_i == _KMAX:  # zeros alone: the block standing out most on each side joins (as the other sign does)
        for side in (range(lowest, _KMAX), range(_KMAX + 1, highest + 1)):
            block = best_block(side)
            if block is not None:
                lo_i, hi_i = min(lo_i, block[0]), max(hi_i, block[1])

    def reaches(end: int, upper: bool) -> bool:
        """Whether the mass reaches the outer edge of power of two ``end`` (its outer quarter of stage-2 cells stands
        EDGE_SIGMAS above zero): a tail continues past an edge it reaches."""
        cells = np.flatnonzero(cell_oct == end)
        if cells.size < 4:  # a coarse power of two (one or two cells): its count says nothing of its edge
            return True
        edge = cells[-(cells.size // 4):] if upper else cells[: cells.size // 4]
        return float(noisy[edge].sum()) > EDGE_SIGMAS * sigma2 * math.sqrt(edge.size)

    def joins(nxt: int, beyond: range, end: int) -> bool:
        one, tail = combined([nxt]), combined([i for i in beyond if lowest <= i <= highest])
        if not reaches(end, nxt > end):  # contiguity with the mass: past an empty edge only a clear count joins
            return one[0] > APART_SIGMAS * one[1] or tail[0] > APART_SIGMAS * tail[1]
        return one[0] > NEIGHBOUR_SIGMAS * one[1] or tail[0] > TAIL_SIGMAS * tail[1]

    while lo_i - 1 >= lowest and joins(lo_i - 1, range(lo_i - NEIGHBOURS, lo_i), lo_i):
        lo_i -= 1
    while hi_i + 1 <= highest and joins(hi_i + 1, range(hi_i + 1, hi_i + NEIGHBOURS + 1), hi_i):
        hi_i += 1
    return lo_i, hi_i


def _missing_both(loc: Location, sigma2: float, rng: np.random.Generator) -> tuple[bool, float, float]:
    """Stage 2's noisy count (noise ``sigma2``) of the cells a model sees as missing (missing values and the text
    buckets :meth:`Location.text_as_missing` sums), averaged with stage 1's by inverse-variance weights: whether it
    stands ``PRESENCE_SIGMAS`` above zero, the count and its noise scale."""
    miss1, sigma1 = loc.missing_noisy()
    true = float(loc.counts[-1])
    if loc.text_counts.size:
        true += float(loc.text_counts[loc.text_missing_buckets()].sum())
    miss2 = float(noisy_counts(np.array([true]), sigma2, rng)[0])
    w1, w2 = 1.0 / sigma1**2, 1.0 / sigma2**2
    miss, sigma = (w1 * miss1 + w2 * miss2) / (w1 + w2), 1.0 / math.sqrt(w1 + w2)
    return bool(miss > PRESENCE_SIGMAS * sigma), miss, sigma


def _range_count(first: int, last: int, kept_oct: np.ndarray, noisy: np.ndarray, sigma: float,
                 combined: Callable) -> tuple[float, float]:
    """A noisy count of the values in cells ``first..last`` and its noise: a power of two kept whole by both stages'
    count of it (:func:`_combiner`), one cut by the sum of its kept cells or by its count less its dropped cells,
    whichever is less noisy (a hundred cells' sum has ten times one cell's noise). Post-processing."""
    est, var = 0.0, 0.0
    idx = np.arange(kept_oct.size)
    for i in np.unique(kept_oct):
        cells = idx[kept_oct == i]
        kept = cells[(cells >= first) & (cells <= last)]
        if not kept.size:
            continue
        whole, whole_sd = combined([int(i)])
        if kept.size == cells.size:
            est, var = est + whole, var + whole_sd**2
            continue
        cut = np.setdiff1d(cells, kept)
        by_kept, var_kept = float(noisy[kept].sum()), sigma**2 * kept.size
        by_cut, var_cut = whole - float(noisy[cut].sum()), whole_sd**2 + sigma**2 * cut.size
        est, var = (est + by_kept, var + var_kept) if var_kept <= var_cut else (est + by_cut, var + var_cut)
    return est, math.sqrt(var)


#: A time's keys standing out alone that hold less than this share of its (clipped) noisy mass are joined by the blocks
#: of keys standing out (:func:`refine` with ``time``).
TIME_KEYS_SHARE = 0.5


def _whole_cells(idx: int, cells: int) -> int:
    """Cells of power of two ``idx`` for whole numbers: each a power of two wide (at least 1), so that every cell holds
    the same whole values, and at most ``cells`` (more, finer cells make an empty stretch's noise harder to trim: a
    uniform 38-73 kept the whole 32-127 in 16 of 30 fits at epsilon 1 with one cell per value, 11 before). Equal
    cells not on the whole numbers (64-128 in 52 cells of 1.23) held one or two values each once snapped to whole
    values, so a cell's count spread over them made a saw, and the two-value cells fed atoms (azcabgptca's 75 beside an
    empty 74 at epsilon 1). A range starting inside a cell still spreads its count over the cell's values (64 beside
    65, which no row holds)."""
    lo, hi = _log_bucket_edges(idx)
    width = hi - lo
    if width < 2:  # (a power of two below 2 holds one whole value at most: one cell, not sub-unit cells of noise)
        return 1
    if cells <= 1:
        return cells
    step = 2.0 ** max(0, math.ceil(math.log2(width / cells) - 1e-9))
    return max(1, int(width / step))


#: A count's tail (:func:`_code_tail`) reaches past 15: its values from 16 on stand this many deviations above zero.
FAR_TAIL_SIGMAS = 2.5
#: ... in the first this many of them together (the best of 1-4).
FAR_TAIL_OCTAVES = 4
#: Powers of two of the values past the small codes on the positive side (|x| in [16, 2^16)).
_PAST_KEYS = np.arange(_KMAX + 13, _KMAX + 25)


def _code_tail(loc: Location, keys: np.ndarray, sigma: float, lo: int, hi: int, sigma2: float,
               rng: np.random.Generator) -> tuple[float, float, list[tuple[int, int, float, float]]] | None:
    """The tail past a count's run of keys ``lo..hi`` (keys from 0): its noisy count, its noise and its cells (first
    value, last value, noisy count, its noise), or None where it is no count's tail. Stage 2 counts the values in each
    power of two from 16 to 2^16 afresh (buckets of the same histogram as the keys and the missing values: each row in
    one, L2 sensitivity 1), averaged with stage 1's. A tail continues the run: the run falls towards ``hi``
    (``TAIL_END_SHARE`` of its peak), the keys past it and the power of two 16-31 together stand ``TAIL_PIECE_SIGMAS``
    deviations above zero (a 99 or 999 code far from 1-5 answers is none), its values from 16 on ``FAR_TAIL_SIGMAS`` (the
    keys past the run alone may hold the run's own last key, hidden by the noise: a code 0-5 took a tail in 1.7% of
    draws without it), in the best of the first 1-4 powers of two, and the whole ``TAIL_PIECE_SIGMAS``
    deviations and ``TAIL_SHARE`` of the mass. Its cells:
    the keys past ``hi`` as one, then the powers of two up to the last before the next three within the noise."""
    run = keys[lo : hi + 1]
    peak = float(run.max()) if run.size else 0.0
    if peak <= 0 or keys[hi] >= TAIL_END_SHARE * peak:
        return None
    fresh = noisy_counts(loc.counts[_PAST_KEYS].astype(float), sigma2, rng)
    w1, w2 = 1 / loc.sigma**2, 1 / sigma2**2
    octs = (w1 * loc.noisy[_PAST_KEYS] + w2 * fresh) / (w1 + w2)
    sd_o = 1 / math.sqrt(w1 + w2)
    above = keys[hi + 1 :]
    near = float(above.sum()) + float(octs[0])
    if near <= TAIL_PIECE_SIGMAS * math.sqrt(sigma**2 * above.size + sd_o**2):
        return None
    # (a tail reaches past the keys: the keys past the run alone may be the run's own last key the noise hid, 5 of a
    # code 0-5) its values from 16 on, in the first 1-4 powers of two (a thin tail spreads over them), stand out
    z = [float(octs[:k].sum()) / (sd_o * math.sqrt(k)) for k in range(1, FAR_TAIL_OCTAVES + 1)]
    if max(z) <= FAR_TAIL_SIGMAS:
        return None
    top = int(np.argmax(z))
    while top + 1 < octs.size and float(octs[top + 1 : top + 4].sum()) > PRESENCE_SIGMAS * sd_o * math.sqrt(
            octs[top + 1 : top + 4].size):
        top += 1
    est = float(above.sum()) + float(octs[: top + 1].sum())
    sd = math.sqrt(sigma**2 * above.size + sd_o**2 * (top + 1))
    mass = float(np.maximum(run, 0.0).sum()) + max(est, 0.0)
    if est <= max(TAIL_SHARE * mass, TAIL_PIECE_SIGMAS * sd):
        return None
    cells: list[tuple[int, int, float, float]] = []
    if above.size:
        cells.append((SMALL_INTEGERS[hi] + 1, SMALL_INTEGERS[-1], float(above.sum()), sigma * math.sqrt(above.size)))
    cells += [(2 ** (t + 4), 2 ** (t + 5) - 1, float(octs[t]), sd_o) for t in range(top + 1)]
    return est, sd, cells


def refine(loc: Location, rho: float, rng: np.random.Generator, *, max_cells: int = 128,
           time: bool = False, columns: int = 1, whole: bool = False, tail: bool = False) -> BoundsResult:
    """Stage 2 with ``rho``: the range of a located number, or the categories of a small code (with ``time``, a column
    that may order a parent's rows, its keys also where blocks of them stand out). ``columns``: the number columns the
    fit locates (public, or a DP output: the DP type decision's), over which a one-signed run's test of the other sign
    is corrected (``MIRROR_TABLE_RATE``). ``whole``: the column holds whole numbers (its DP type): its cells lie on
    them (:func:`_whole_cells`). ``tail``: a small code of counts (keys from 0, at least 0-2) whose values past its keys
    continue it and stand out (:func:`_code_tail`) is a range, one cell per key and coarse cells for the tail (a count of doctor visits
    0-121, 11% of them past 7, was written as the codes 0-10 and its mean fell from 3.1 to 1.9).

    Returns:
        A :class:`~medsynth.privacy.mechanisms.BoundsResult` whose ``rho`` is everything this column
        spent (stages 1 and 2); for a small code ``codes`` holds the released keys and ``counts`` their
        noisy counts (``edges`` is None).

    Raises:
        PrivacyBudgetError: for an unlocated column (nothing stands above the noise), its ``rho_spent``
            attribute saying what stage 1 spent; or for a tentative location (:func:`locate_present`) that stage 2
            does not confirm, ``rho_spent`` then counting both stages.
    """
    if loc.kind == "unlocated":
        err = PrivacyBudgetError(f"cannot locate the values with DP: nothing stands above the noise (sigma {loc.sigma:.1f})")
        err.rho_spent = loc.rho  # type: ignore[attr-defined]
        raise err
    sigma2 = gaussian_sigma(rho, loc.sensitivity)
    if loc.kind == "code":
        keyhist = loc.counts[_N_OCT : _N_OCT + _N_KEYS]  # the keys (then the missing cells: _missing_both)
        fresh = noisy_counts(keyhist, sigma2, rng)
        w1, w2 = 1 / loc.sigma**2, 1 / sigma2**2
        keys = (w1 * loc.noisy[_N_OCT : _N_OCT + _N_KEYS] + w2 * fresh) / (w1 + w2)
        sigma = 1 / math.sqrt(w1 + w2)
        # the missing cells and text both stages counted (text was stage 1's alone, its noise undamped: a 45%-missing
        # code of 620 rows stood under 3 sigma)
        missing, miss, sigma_miss = _missing_both(loc, sigma2, rng)
        sig = np.nonzero(keys > _union_threshold(_N_KEYS) * sigma)[0]
        if time and float(keys[sig].sum()) < TIME_KEYS_SHARE * max(float(np.maximum(keys, 0.0).sum()), 1.0):
            # a time whose values standing out alone hold under half its mass: blocks of keys standing out too (a child
            # table counted on one row per patient: dietox's weeks 1-12 of 54 pigs, 4-5 rows a week, were released as
            # one week in 1 fit of 3 at epsilon 10, every synthetic visit then in it, or as weeks 1-3); where they hold
            # most of it, a schedule's gaps stay (weeks 0, 2, 4, 6, 11 of 120 patients)
            blocks = np.flatnonzero(_significant_cells(keys, sigma))
            while blocks.size and keys[blocks[0]] <= sigma:  # (a block's end key within the noise: not a time of its
                blocks = blocks[1:]                          # own, as a -1 beside weeks 1-12)
            while blocks.size and keys[blocks[-1]] <= sigma:
                blocks = blocks[:-1]
            sig = np.union1d(sig, blocks)
        if loc.by_family:  # keys its family's histogram located: its own counts on them together must stand out
            fk = np.asarray(loc.keys, dtype=np.int64)
            if fk.size == 0 or keys[fk].sum() <= FAMILY_CONFIRM_SIGMAS * sigma * math.sqrt(fk.size):
                err = PrivacyBudgetError("cannot locate the values with DP: its own counts on the keys its family "
                                         f"located do not stand out (sigma {sigma:.1f})")
                err.rho_spent = loc.rho + rho  # type: ignore[attr-defined]
                raise err
            sig = np.union1d(sig, fk[keys[fk] > 0])  # (a family key its own counts put at or below zero is not its)
        elif sig.size == 0:  # the average lost what stage 1 saw: keep stage 1's keys (already DP)
            sig = loc.keys
        fk = loc.family_keys
        if fk.size:  # its family's scale (share_family_scale): a key of it joins where its own count stands a deviation
            # above zero (at zero, a 1-5 item among 1-6 items took a 6 in 18 draws of 100)
            sig = np.union1d(sig, fk[keys[fk] > FLAG_PARTNER_SIGMAS * sigma])
        # the run of significant keys (at most two apart) holding the most mass, and the keys further away that stand
        # FAR_KEY_SIGMAS above zero (a real '9 = unknown' beside 1-2, a 0/3 code): a key the noise lifted just over the
        # threshold cannot stretch the codes to it (a 0/1 flag became the codes 0-15 when 15 came out at 4 deviations)
        runs = np.split(np.asarray(sig), np.nonzero(np.diff(sig) > 2)[0] + 1)
        m = max(range(len(runs)), key=lambda j: float(keys[runs[j]].sum()))
        lo, hi = int(runs[m][0]), int(runs[m][-1])

        def far_joins(run: np.ndarray, gap: np.ndarray) -> bool:  # well above the noise, or mass in between (a tail)
            return bool(keys[run].sum() > FAR_KEY_SIGMAS * sigma * math.sqrt(run.size)
                        or keys[gap].sum() > PRESENCE_SIGMAS * sigma * math.sqrt(max(gap.size, 1)))

        for r in runs[m + 1:]:
            if not far_joins(r, np.arange(hi + 1, r[0])):
                break
            hi = int(r[-1])
        for r in runs[:m][::-1]:
            if not far_joins(r, np.arange(r[-1] + 1, lo)):
                break
            lo = int(r[0])
        def z_key(k: int, step: int) -> float:  # (KEY_NEIGHBOUR_SIGMAS: two away, a -1 below 0, beside a 0/1 flag)
            wary = step > 1 or (SMALL_INTEGERS[k] < 0 <= SMALL_INTEGERS[lo]) or (
                {SMALL_INTEGERS[lo], SMALL_INTEGERS[hi]} <= {0, 1} and not loc.origin)  # (a year's code 1: no flag)
            return KEY_NEIGHBOUR_SIGMAS if wary else PRESENCE_SIGMAS

        grown = True
        while grown:  # neighbours up to two keys away join standing out alone
            grown = False
            for step in (1, 2):
                if hi + step < keys.size and keys[hi + step] > z_key(hi + step, step) * sigma:
                    hi, grown = hi + step, True
                    break
            for step in (1, 2):
                if lo - step >= 0 and keys[lo - step] > z_key(lo - step, step) * sigma:
                    lo, grown = lo - step, True
                    break
            # a declining tail whose keys are each within the noise (visit numbers 4-9 of a 1,400-visit table) joins
            # key by key while the next NEIGHBOURS keys together stand TAIL_SIGMAS above zero, as powers of two do, where
            # the run declines towards that end (TAIL_END_SHARE) (a run of one or two keys, a flag, has no tail to
            # continue: noise tails joined a flag in about a fifth of ten-flag tables, its synthetic rows then holding a 2
            # or a -1)
            up, down = keys[hi + 1 : hi + 1 + NEIGHBOURS], keys[max(lo - NEIGHBOURS, 0) : lo]
            tails = hi - lo + 1 >= TAIL_MIN_KEYS
            peak = float(keys[lo : hi + 1].max())
            if tails and 0 < peak and keys[hi] < TAIL_END_SHARE * peak and up.size and up.sum() > TAIL_SIGMAS * sigma * math.sqrt(up.size):
                hi, grown = hi + 1, True
            # (a count's tail stops at 0: -1 is a sentinel's code, joining by its own count above; Medicaid1986's visits
            # 0-50 took -1 from the noise and 5% of its synthetic rows held it)
            if (tails and 0 < peak and keys[lo] < TAIL_END_SHARE * peak and down.size and SMALL_INTEGERS[lo - 1] >= 0
                    and down.sum() > TAIL_SIGMAS * sigma * math.sqrt(down.size)):
                lo, grown = lo - 1, True
        if fk.size:  # ... and its codes stay within the family's scale (the family sees its ends with less noise),
            # but for keys of its own standing FAR_KEY_SIGMAS out (review: an item's '9 = unknown' in 10-20% of its rows
            # was cut off in half the draws), and never where its run lies apart from the scale
            strong = [k for k in range(lo, hi + 1) if keys[k] > FAR_KEY_SIGMAS * sigma]
            c_lo, c_hi = max(lo, int(fk.min())), min(hi, int(fk.max()))
            if c_lo <= c_hi:
                lo, hi = min([c_lo, *strong]), max([c_hi, *strong])
        # a code released as 0 alone or 1 alone is half of a flag: its other value joins when its noisy count (of this
        # same histogram over a fixed grid, so post-processing) stands FLAG_PARTNER_SIGMAS above zero; at 3 sigma a
        # yes/no column held by a fifth of 300 rows (2-2.5 deviations) came out constant in most fits
        if lo == hi and SMALL_INTEGERS[lo] in (0, 1) and not loc.origin:  # (years after an origin are no flag)
            other = SMALL_INTEGERS.index(1 - SMALL_INTEGERS[lo])
            if SMALL_INTEGERS[lo] == 1:  # a 1 alone may be half of a 1/2 code (R's and SAS's sex, inherit): its partner
                two = SMALL_INTEGERS.index(2)  # is 2 where it is counted FLAG_TWO_SIGMAS deviations of the difference more
                # than 0 (survival's cgd0 wrote sex 0 in a fifth of its rows where the 2s stood under the noise; 2 on any
                # excess made a 0/1 flag with 20 zeros of 300 a 1/2 code in 30 draws of 300, a reviewer found)
                if keys[two] - keys[other] > FLAG_TWO_SIGMAS * math.sqrt(2) * sigma:
                    other = two
                elif keys[two] >= keys[other]:  # (neither stands out of the other: no partner, no made-up value)
                    other = None
            # ... unless the values beyond the keys stand out more than it: zeros beside a thin spread of amounts are a
            # cost most rows hold none of, not a flag (RandHIE's inpatient dollars wrote $1 in 4% of synthetic rows)
            if other is not None and keys[other] > FLAG_PARTNER_SIGMAS * sigma and keys[other] / sigma > _beyond_keys_z(loc):
                lo, hi = min(lo, other), max(hi, other)
        if (tail and not loc.origin and not loc.by_family and not fk.size and SMALL_INTEGERS[lo] == 0
                and SMALL_INTEGERS[hi] >= 2):
            counted = _code_tail(loc, keys, sigma, lo, hi, sigma2, rng)
            if counted is not None:  # a count with a tail: a range of whole numbers (post-processing of this stage's
                # noisy counts, the fresh ones of the values from 16 on among them)
                est, sd, cells = counted
                first = SMALL_INTEGERS[lo]
                edges = [*range(first, SMALL_INTEGERS[hi] + 1), *(a for a, _, _, _ in cells), cells[-1][1] + 1]
                counts = np.r_[keys[lo : hi + 1], [c for _, _, c, _ in cells]]
                sds = np.r_[np.full(hi - lo + 1, sigma), [d for _, _, _, d in cells]]
                return BoundsResult(low=float(first), high=float(edges[-1]), rho=loc.rho + rho, missing=missing,
                                    edges=np.asarray(edges, dtype=float), counts=counts.astype(float), sigma=sigma,
                                    count_sigmas=sds, missing_count=miss, sigma_missing=sigma_miss,
                                    range_count=float(keys[lo : hi + 1].sum()) + est,
                                    range_sd=math.sqrt(sigma**2 * (hi - lo + 1) + sd**2))
        shift = int(loc.origin)  # a year column's codes are years after its origin (locate_year)
        return BoundsResult(low=float(SMALL_INTEGERS[lo] + shift), high=float(SMALL_INTEGERS[hi] + shift),
                            rho=loc.rho + rho, missing=missing, counts=keys[lo : hi + 1].copy(), sigma=sigma,
                            missing_count=miss, sigma_missing=sigma_miss,
                            codes=tuple(k + shift for k in SMALL_INTEGERS[lo : hi + 1]))
    octs = loc.noisy[:_N_OCT]
    sigma1 = loc.sigma
    lo_i, hi_i = loc.octaves  # type: ignore[misc]
    while lo_i > 0 and lo_i != _KMAX and octs[lo_i - 1] > 2 * sigma1:  # shoulders of the mass (on its side of
        lo_i -= 1                                                         # zero: the other sign joins in _grown_run)
    while hi_i < octs.size - 1 and hi_i != _KMAX and octs[hi_i + 1] > 2 * sigma1:
        hi_i += 1
    span = hi_i - lo_i + 1
    mass1 = float(np.sum(np.maximum(octs[lo_i : hi_i + 1], 0.0))) + float(np.sum(np.maximum(loc.noisy[_N_OCT + loc.keys], 0.0)))
    # as many cells as the noisy mass fills at about one noise deviation each (a model's adaptive grid), at
    # least one per power of two: a small table's marginal is not spread over cells the noise would swamp
    total_cells = int(np.clip(mass1 / (MASS_PER_CELL * sigma2), span, max(max_cells, span)))
    cells_per_octave = max(1, total_cells // span)
    # stage 2 also measures the powers of two next to the located ones and, for a one-signed run, its mirror
    # across zero (where stage 1's coarse noise may have hidden a shoulder or the other sign); which of them
    # join is decided below from both stages' counts (post-processing), so no more budget is spent
    first_o, last_o, mirror = _candidate_octaves(lo_i, hi_i)
    first_o, last_o = _far_octaves(loc, lo_i, hi_i, first_o, last_o)
    near = {*range(lo_i - NEIGHBOURS, hi_i + NEIGHBOURS + 1)}
    if mirror:
        near |= {*range(min(mirror) - NEIGHBOURS, max(mirror) + NEIGHBOURS + 1)}
    per_oct = {}  # stage-2 cells of each power of two: fine in the run, a few beside it and its mirror, one elsewhere
    for i in range(first_o, last_o + 1):
        per_oct[i] = 1 if i == _KMAX else cells_per_octave if lo_i <= i <= hi_i else NEIGHBOUR_CELLS if i in near else 1
        if whole and i != _KMAX:
            per_oct[i] = _whole_cells(i - _KMAX, per_oct[i])
    # (the bucket at zero, |x| < 2^-8, is one cell: a one-signed range that reaches it starts or ends at 0 there)
    cell_oct = np.concatenate([np.full(per_oct[i], i) for i in range(first_o, last_o + 1)])
    edges = np.unique(np.concatenate([np.linspace(*_log_bucket_edges(i - _KMAX), per_oct[i] + 1)
                                      for i in range(first_o, last_o + 1)]))
    fine = np.histogram(np.clip(loc.values, edges[0], edges[-1]), bins=edges)[0]
    noisy_all = noisy_counts(fine, sigma2, rng)
    # the same histogram's bucket of the rows a model sees as missing (no finite value, so in no cell above: each row
    # still lands in one bucket, at no extra cost), averaged with stage 1's count of them: on a 1,367-row table at
    # epsilon 1, stage 1 alone (noise 100) left 16-31%-missing columns without a missing state in most fits
    missing, miss, sigma_miss = _missing_both(loc, sigma2, rng)
    combined = _combiner(loc, noisy_all, cell_oct, sigma2)
    grown = _grown_run(loc.tentative, lo_i, hi_i, mirror, combined, cell_oct, noisy_all, sigma2, columns)
    if grown is None:
        err = PrivacyBudgetError(f"cannot locate the values with DP: the block of powers of two that stood out most "
                                 f"(sigma {loc.sigma:.1f}) was not confirmed by a second measurement")
        err.rho_spent = loc.rho + rho  # type: ignore[attr-defined]
        raise err
    lo_i, hi_i = grown
    exact_zeros = loc.codes and loc.noisy[_N_OCT + SMALL_INTEGERS.index(0)] > loc.noisy[_KMAX]  # (not tiny values)
    if (loc.octaves == (_KMAX, _KMAX) and exact_zeros and not loc.origin and _KMAX - ZERO_ONLY_OCTAVES <= lo_i
            and hi_i <= _KMAX + ZERO_ONLY_OCTAVES):  # zeros alone, nothing but noise-sized slivers beside them: the value
        # 0 (a range around the zero bucket, -1/256..1/256, wrote a 0/1 flag whose ones the noise hid as 180 floats)
        zero, zero_sd = combined([_KMAX])
        return BoundsResult(low=0.0, high=0.0, rho=loc.rho + rho, missing=missing, counts=np.array([zero]), sigma=zero_sd,
                            missing_count=miss, sigma_missing=sigma_miss, codes=(0,))
    keep = (cell_oct >= lo_i) & (cell_oct <= hi_i)
    c0, c1 = int(np.argmax(keep)), int(keep.size - np.argmax(keep[::-1]))
    edges, noisy_fine = edges[c0 : c1 + 1].copy(), noisy_all[c0:c1]
    if lo_i == _KMAX and hi_i > _KMAX:  # a positive range that reaches zero: its first cell (zero's) starts at 0
        edges[0] = 0.0
    elif hi_i == _KMAX and lo_i < _KMAX:  # a negative one: its last cell (zero's) ends at 0
        edges[-1] = 0.0
    key_octs = {_key_octave(int(k)) for k in loc.keys}
    positive = [i for i in range(lo_i, hi_i + 1) if i > _KMAX and (octs[i] > 2 * sigma1 or i in key_octs)]
    log_scale = bool(lo_i >= _KMAX and positive and positive[-1] - positive[0] + 1 >= LOG_OCTAVES)
    kept_oct = cell_oct[c0:c1]

    def dropped(first: int, last: int) -> tuple[float, bool]:
        """What a cut drops: a whole power of two by both stages' count of it, cells of a partly cut one by their
        noisy counts (eight cells holding 358 rows of a lab summed to -28 by noise, and their cut clipped a third of
        its values; stage 1 counted that power of two at 236); and whether a whole power of two it drops stands
        ``REAL_SIGMAS`` deviations above zero in that count: real values, not noise. A Ct value of 45 in 95% of 10,723
        covid tests, the positives' 14-44 spread thin over the fine cells: no cell stood out, the 5.5% dropped passed
        under CUT_MAX, and every synthetic test was 45 (a data scientist); the power of two 16-32 alone held 324 of
        them, 20 deviations of its noise."""
        out, real = 0.0, False
        for i in np.unique(kept_oct):
            cells = np.flatnonzero(kept_oct == i)
            if cells[-1] < first or cells[0] > last:
                count, sd = combined([int(i)])
                out += count
                real = real or count > REAL_SIGMAS * sd
            else:
                out += float(noisy_fine[cells[cells < first]].sum() + noisy_fine[cells[cells > last]].sum())
        return out, real

    first, last = _cut(noisy_fine, sigma2, dropped, sure=bool(loc.origin))
    mass = max(float(np.sum(np.maximum(noisy_fine, 0.0))), 1.0)
    scale = log_scale and not loc.origin  # (a date or year located after an origin is linear: see below)
    low_tail = _coarse_tail(first, last, -1, kept_oct, noisy_fine, sigma2, combined, mass, log_scale=scale)
    high_tail = _coarse_tail(first, last, 1, kept_oct, noisy_fine, sigma2, combined, mass, log_scale=scale)
    fine_edges = edges[first : last + 2]
    cell_counts, cell_sigmas = noisy_fine[first : last + 1], np.full(last - first + 1, sigma2)
    if low_tail or high_tail:  # each tail piece one cell: its count from both stages, where the fine cells are noise
        pieces_lo, pieces_hi = low_tail[::-1], high_tail
        fine_edges = np.r_[[edges[a] for a, _, _, _ in pieces_lo], fine_edges, [edges[b + 1] for _, b, _, _ in pieces_hi]]
        cell_counts = np.r_[[c for *_, c, _ in pieces_lo], cell_counts, [c for *_, c, _ in pieces_hi]]
        cell_sigmas = np.r_[[sd for *_, sd in pieces_lo], cell_sigmas, [sd for *_, sd in pieces_hi]]
        first = pieces_lo[0][0] if pieces_lo else first
        last = pieces_hi[-1][1] if pieces_hi else last
    inside, inside_sd = _range_count(first, last, kept_oct, noisy_fine, sigma2, combined)
    low, high = float(edges[first]), float(edges[last + 1])
    # (the bucket at zero reaches below it: a log scale needs a range that does not, bili_change went to -1/256)
    if loc.origin:  # located relative to a public day or year (locate_date, locate_year): range and cells back
        low, high, fine_edges = low + loc.origin, high + loc.origin, fine_edges + loc.origin
        log_scale = False
    return BoundsResult(low=low, high=high, rho=loc.rho + rho, missing=missing, log_scale=log_scale and low >= 0,
                        edges=np.array(fine_edges, dtype=float), counts=np.array(cell_counts, dtype=float), sigma=sigma2,
                        count_sigmas=np.array(cell_sigmas, dtype=float), missing_count=miss, sigma_missing=sigma_miss,
                        range_count=inside, range_sd=inside_sd)


__all__ = ["family_fits", "Location", "locate", "locate_by_family", "locate_date", "locate_present", "locate_year", "refine",
           "remeasure", "share_family_scale"]
