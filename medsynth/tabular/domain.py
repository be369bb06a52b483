"""Completing a schema's domains before a fit: declared public, read from the data, or estimated with DP.

Differential privacy covers everything taken from the data. For a DP fit, a column whose domain is
public (``public: true`` with bounds or categories) costs nothing. A column whose domain was read
from the data (``public: false``, what ``schema infer`` writes) or is incomplete gets its domain
re-estimated with DP from ``privacy.domain_budget`` of the budget: numbers by staged noisy histograms
(:mod:`medsynth.privacy.locate`: located on powers of two with small whole codes as buckets of their
own, looked at again from a reserve while unlocated, then refined; a small code becomes categorical),
category lists by a thresholded noisy histogram (:func:`~medsynth.privacy.mechanisms.dp_categories`). Whether such a column has missing
values is read from the data too, so it is released with DP as well: the count of missing values is
one more bucket of the same noisy histogram (no extra cost) and the column keeps a "missing" state
only when that count stands ``PRESENCE_SIGMAS`` noise deviations above zero. When it does not, the
few missing values (and, likewise, values of unreleased rare categories) are imputed at random within
the domain before training (see :meth:`~medsynth.tabular.encoding.TableCodec.fill_unmodelled`), so
the model never spends mass on a state that DP could not confirm. A column whose domain is public
keeps the missingness its schema declares. With ``domain_budget: 0`` the fit refuses and says how to
declare the domains public. Non-DP fits read domains from the data freely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from medsynth.core.errors import DataValidationError, PrivacyBudgetError
from medsynth.io.dataset_infer import year_named
from medsynth.io.schema import OTHER_CATEGORY, boolean_keys, cell_numbers, fields_read
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.locate import (
    FLAG_PARTNER_SIGMAS,
    KEYS_LOOK_SIGMAS,
    KEYS_SHORT_SIGMAS,
    MAX_LOOKS,
    Location,
    keys_short,
    locate,
    locate_by_family,
    locate_date,
    locate_present,
    locate_year,
    refine,
    remeasure,
    share_family_scale,
)
from medsynth.privacy.mechanisms import (
    PRESENCE_SIGMAS,
    BoundsResult,
    _union_threshold,
    category_threshold,
    dp_category_counts,
    gaussian_sigma,
    noisy_counts,
)
from medsynth.privacy.steps import (
    ATOM_CELLS,
    ATOM_HOLD,
    ON_SIGMAS,
    SENTINEL_CELLS,
    SENTINEL_SHARE,
    SENTINELS,
    SPARSE_LEFT,
    SPARSE_POINTS,
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
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.schema import (
    DISCRETE_TYPES,
    EPOCH,
    NUMERIC_TYPES,
    ColumnSchema,
    TableSchema,
    category_key,
    category_keys,
    from_days,
    parse_dates,
)
from medsynth.tabular.structure import (
    CATEGORY_GROUPS,
    CATEGORY_KEYS,
    FLAG_KEYS,
    FLAG_WORDS,
    LETTER_KEYS,
    LETTER_PAIRS,
    ROUND_SHARES,
    STRUCTURE_ACCESS,
    decide_structure,
    flag_partner,
    flag_vocabulary,
    name_families,
    needs_decision,
    sex_named,
)

#: The update of a column about which DP released nothing: every field read from the data is cleared too
#: (bounds, categories, transform, missingness), so the released schema holds nothing of it.
OMITTED: dict[str, Any] = {"omitted": True, "min": None, "max": None, "categories": None, "transform": "none",
                           "missing": False, "resolution": None}


def _numbers(col: ColumnSchema, s: pd.Series) -> np.ndarray:
    if col.type == "datetime":
        return ((parse_dates(s, col.format) - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    return cell_numbers(s).to_numpy(dtype=float, na_value=np.nan)


def _native_categories(s: pd.Series, keys: list[str]) -> list[Any]:
    """Map released keys back to the column's own values (first occurrence), in key order."""
    first: dict[str, Any] = {}
    for v in s.dropna().unique():
        first.setdefault(category_key(v), v)
    out = []
    for k in keys:
        v = first[k]
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating, float)):
            v = int(v) if float(v).is_integer() else float(v)
        elif isinstance(v, np.bool_):
            v = bool(v)
        out.append(v)
    return out


def _sorted_categories(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


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
    if res.codes is not None or res.edges is None or res.counts is None or not (res.high > top > res.low):
        return res, False
    edges, counts = np.asarray(res.edges, dtype=float), np.asarray(res.counts, dtype=float)
    sig = np.full(counts.size, res.sigma) if res.count_sigmas is None else np.asarray(res.count_sigmas, dtype=float)
    # the cells wholly above the top (a cell straddling it, 64-128, holds the ages of 64-92 that the evenly spread
    # count put an eighth of above 120: quinidine's ages of 42-92 kept a range of 32-255, 2% of synthetic visits older
    # than 120, and mgus's a patient of 124; a data scientist)
    part = (edges[:-1] >= top - 1e-9).astype(float)
    if part.any() and float(part @ counts) > AGE_TOP_SIGMAS * math.sqrt(float(np.sum((part * sig) ** 2))):
        return res, False  # real mass above the top (ages above 120: not years)
    keep = int(np.searchsorted(edges, top, side="left"))  # cells that start below the top
    upd: dict[str, Any] = {"high": top, "edges": np.append(edges[:keep], top), "counts": counts[:keep]}
    if res.count_sigmas is not None:
        upd["count_sigmas"] = np.asarray(res.count_sigmas)[:keep]
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
        cands = [(i, v) for i, v in atom_candidates(edges, counts) if not integer or edges[i + 1] - edges[i] > 1]
        sentinels = [(i, v) for i, v in sentinel_candidates(edges, counts, cands) if not integer or edges[i + 1] - edges[i] > 1]
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


def complete_from_data(schema: TableSchema, df: pd.DataFrame) -> TableSchema:
    """Fill missing bounds/categories from the data (non-private fits only), and the unit a number's values are
    recorded in where every value sits on one (:func:`exact_step`)."""
    cols = []
    for col in schema.columns:
        upd: dict[str, Any] = {}
        if col.type in NUMERIC_TYPES and not col.has_domain:
            x = _numbers(col, df[col.name])
            lo = col.bounds()[0] if col.min is not None else float(np.nanmin(x))
            hi = col.bounds()[1] if col.max is not None else float(np.nanmax(x))
            upd = _set_bounds(col, lo, hi)
        if col.type == "continuous" and col.atoms is None and col.name in df.columns:
            atoms = exact_atoms(_numbers(col, df[col.name]))
            if atoms:
                upd["atoms"] = atoms
                upd["read_from_data"] = sorted({*col.read_from_data, "atoms"})
        if col.type in ("continuous", "integer") and col.step is None and col.name in df.columns:
            lo, hi = (upd["min"], upd["max"]) if "min" in upd else col.bounds()
            step = exact_step(_numbers(col, df[col.name]), lo, hi, integer=col.type == "integer")
            if step is not None:
                upd["step"] = step
                upd["read_from_data"] = sorted({*upd.get("read_from_data", col.read_from_data), "step"})
        elif col.type in DISCRETE_TYPES and not col.has_domain:
            keys = sorted({category_key(v) for v in df[col.name].dropna()})
            upd = {"categories": _sorted_categories(_native_categories(df[col.name], keys))}
        if col.type != "identifier" and df[col.name].isna().any() and not col.missing:
            upd["missing"] = True
        cols.append(col.model_copy(update=upd) if upd else col)
    return schema.model_copy(update={"columns": cols})


#: A non-private fit's atoms (:func:`exact_atoms`): at most this many values, each held by this share of the values
#: (exact counts: no noise to stand above, unlike a DP fit's ``ATOM_CELLS`` and ``ATOM_SHARE``).
EXACT_ATOMS = 8
EXACT_ATOM_SHARE = 0.05


def exact_atoms(x: np.ndarray) -> list[float]:
    """The values a non-private fit writes as themselves (``atoms``) in a continuous column: at most
    ``EXACT_ATOMS`` values each held by ``EXACT_ATOM_SHARE`` of the present values, the commonest first, and the
    :data:`SENTINELS` held by ``SENTINEL_SHARE`` and ten times a typical value's count. RandHIE's 23% zero spending came
    out as values drawn across the model's lowest cell (0.003-0.15): no synthetic row spent nothing, and a flag of any
    spending disagreed with the amount in a quarter of the rows; DoctorContacts' log coinsurance of 4 values (41%, 32%,
    20%, 7%) was written as hundreds (data scientists)."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    vals, counts = np.unique(v, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:EXACT_ATOMS]
    out = {float(vals[i]) for i in order if counts[i] >= EXACT_ATOM_SHARE * v.size}
    typical = float(np.median(counts))  # (a sentinel stands out: 1 value in 100 distinct ones holds 1% too)
    out |= {float(a) for a, c in zip(vals, counts, strict=True)
            if a in SENTINELS and c >= SENTINEL_SHARE * v.size and c >= 10 * typical}
    return sorted(out)


def exact_step(x: np.ndarray, low: float, high: float, *, integer: bool) -> float | None:
    """The coarsest public candidate unit (:func:`~medsynth.privacy.steps.candidates`) every finite value of ``x`` is a
    whole multiple of, or None (an integer's unit of 1 is none): a non-private fit writes its numbers in it. They were
    written unrounded: day counts recorded as 748.0 and 6777.5 came out 12226.187793 (past the follow-up of 12,226
    they ended), a first time of 0 as 2.5e-05, a bmi of two decimals with eight, Karnofsky scores of tens as 89.48 (data
    scientists). A copy of a real value stays exact."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v) & (v != 0)]
    if v.size < 2 or not (math.isfinite(low) and math.isfinite(high)):
        return None
    for g in candidates(low, high, integer=integer)[::-1]:
        if integer and g <= 1.0:
            return None
        if bool(on_unit(v, float(g)).all()):
            return float(g)
    return None


def _without_read_values(schema: TableSchema) -> TableSchema:
    """The schema without the units (``step``) and atoms read from the data (a non-private fit's, listed in
    ``read_from_data``): no declaration, and a DP fit decides them anew (an adversary reused a non-private model's schema,
    and the DP model kept an exact value DP never measured)."""
    read = ("atoms", "step")
    return schema.model_copy(update={"columns": [c.model_copy(update={
        **{f: None for f in read if f in c.read_from_data},
        "read_from_data": [f for f in c.read_from_data if f not in read]})
        if set(read) & set(c.read_from_data) else c for c in schema.columns]})


def reopen_inferred_omissions(schema: TableSchema) -> TableSchema:
    """A DP fit does not take "this column holds no value" from the data: ``schema infer`` marks an entirely
    missing column ``omitted`` (read from the data), and one row with a value would change that, so a DP fit
    makes it a private number again and lets its domain release decide (nothing stands above the noise:
    it is left empty, with a ledger note, as any unlocatable column)."""
    cols = [ColumnSchema(name=c.name, type="continuous", missing=True, target=c.target,
                         read_from_data=fields_read(ColumnSchema(name=c.name, type="continuous")))
            if c.omitted and "omitted" in c.read_from_data and not c.public else c for c in schema.columns]
    return schema.model_copy(update={"columns": cols})


def plan_domain_budget(schema: TableSchema, *, privacy: PrivacyConfig, ledger: PrivacyLedger) -> None:
    """Reserve the delta that DP category lists need (their threshold), before any rho is budgeted."""
    if privacy.private and privacy.domain_budget > 0 and (
            schema.private_domain_columns() or any(needs_decision(c) for c in schema.columns)):
        ledger.reserve_delta(privacy.delta * privacy.domain_budget / 2)


#: Least share of the domain budget spent re-deciding types and formats read from the data ...
STRUCTURE_SHARE = 0.25
#: Share of a located number's stage-2 budget that measures the unit its values are recorded in
#: (:mod:`medsynth.privacy.steps`: a coinsurance rate of 0/25/50/95/100 was written as 114 values).
STEP_SHARE = 0.1
#: ... and most, when a small table needs more for its decisions to stand above the noise.
STRUCTURE_MAX_SHARE = 0.5
#: An integer column whose DP range holds at most this many values is modelled as categorical.
MAX_LEVELS = 12

#: A number column whose whole-or-not count the noise hid (a small table: 200 ICU rows at epsilon 1, where 3 sigma of
#: that count was 730) is written as whole numbers when its DP range is at least this wide and linear: rounding then
#: moves a value by at most 1% of the range (ages 32-96, pulse 64-128 had been written as 89.6 and 117.3), while a
#: narrow range (pH, creatinine, temperature) keeps its decimals. Post-processing of DP outputs (the range, the
#: undecided mark); the ledger says which columns it made whole.
WHOLE_WIDTH = 50.0
#: ... or on a log scale, from at least this low end (rounding moves a value by at most 3% of it: myeloid's days to
#: relapse, 32-1024 on a log scale at epsilon 1, were written as 146.6 and 90% fractional).
WHOLE_LOG_LOW = 16.0
#: ... or, named like an age in years (:func:`_age_in_years`), at least this wide: an age is recorded in whole years
#: more often than not, and rounding a fractional one moves it by half a year (a data scientist's indo_rct, 481 rows at
#: epsilon 1: ages 16-64 written 43.27, 99% of them fractional, the range under 50 wide).
WHOLE_AGE_WIDTH = 10.0
#: A category held by this share of the rows should survive the DP category release (budget by need).
SURVIVE_SHARE = 0.03
#: Least share of a number column's budget spent locating it (stage 1; the rest refines it and is its 1-way
#: marginal; see :func:`stage1_share`).
STAGE1_SHARE = 0.25
#: Most of a fit's budget (share of rho) that columns not located by stage 1 may share for more looks.
LOCATE_RESERVE = 0.4
#: ... and at most this share of what the model keeps after its 1-way marginals (a larger domain_budget shrinks it).
RESERVE_MODEL_SHARE = 0.75
#: A column's looks from the reserve take at most this many times an even part of it (reserve / numbers) ...
RESERVE_CAP = 2.0
#: ... and at most this many times an even share of the whole budget (budget / modelled columns): with few
#: number columns among many (indo_rct: 3 of 34), the first cap let a column 95% missing take 27% of the
#: fit's budget in looks and still be left empty.
RESERVE_CAP_TOTAL = 2.0
#: Measurements of the location histogram at most (the first, then looks paid from the reserve).
LOCATE_ROUNDS = MAX_LOOKS
MECH_NUMBER = ("noisy histogram on powers of two + small whole values -1..15 (+ missing): located, re-measured "
               "while unlocated, then refined linearly (a small code's values become categories)")
#: Most budget a category list gets, in multiples of an even share of the domain budget.
MAX_NEED_FACTOR = 4.0
#: The prediction target's (``target: true``) weight is this many times its type's: a model that lost its
#: outcome (a binary class below the noise) is useless to the user whatever else it keeps.
TARGET_WEIGHT = 4.0
#: ... and, for a categorical target where that is less, what lets a class of ``TARGET_SURVIVE_SHARE`` of the rows
#: through the category threshold (as a category list's need, :data:`SURVIVE_SHARE`), up to ``TARGET_MAX_SHARE`` of
#: the pool: on a small wide table 4 even shares are
#: little (modeldata::ad_data, 333 rows, 132 columns, epsilon 1: the target Class kept only 'Control', its threshold
#: ~138 rows against the 91 of 'Impaired'), and a model that cannot tell the classes apart is useless for the
#: prediction it was marked for. On a table with rows enough (the 1,367-row wide table) 4 shares already do it, and
#: a fixed fifth there cost the other columns' 1-way marginals (2-way TVD 0.389 vs 0.372, 6 fits each).
TARGET_SURVIVE_SHARE = 0.2
TARGET_MAX_SHARE = 0.2


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


def _allocate(todo: list[ColumnSchema], pool: float, rows: float, z_cat: float, time_weight: float = 1.0) -> dict[str, float]:
    """Split ``pool`` (rho) over the columns by need: an even share each, and category lists (whose
    threshold must let a category of ``SURVIVE_SHARE`` of the rows through) up to ``MAX_NEED_FACTOR``
    times as much, the prediction target ``TARGET_WEIGHT`` times its type's weight (or, for a categorical target where
    that is less, what lets a class of ``TARGET_SURVIVE_SHARE`` of the rows through, up to ``TARGET_MAX_SHARE`` of the
    pool), a number or date named like a time (:func:`~medsynth.io.dataset_infer.time_named`) ``time_weight`` times. Depends only on public
    facts (types, names, the target flag, the noisy row count, the budget)."""
    from medsynth.io.dataset_infer import time_named

    even = pool / len(todo)
    weights = {}
    for col in todo:
        w = 1.0
        if col.type == "categorical":
            # (no delta reserved for categories, z_cat infinite: a column the DP type decision made categorical where
            # none was planned; only public keys can be released, at the most a column may get)
            sigma_need = max(SURVIVE_SHARE * rows - 1.0, 1.0) / (z_cat + 1.5) if math.isfinite(z_cat) else 0.0
            w = float(np.clip(1.0 / (2 * sigma_need**2) / even, 1.0, MAX_NEED_FACTOR)) if sigma_need > 0 else MAX_NEED_FACTOR
        timed = time_weight if col.type in ("continuous", "integer", "datetime") and time_named(col.name) else 1.0
        weights[col.name] = w * (TARGET_WEIGHT if col.target else 1.0) * timed
    # a categorical target's share of the pool by need (its classes through the category threshold), capped; the
    # targets' shares are set together against the other columns' weights (order-free, exact after normalising)
    boost = {c.name: min(1.0 / (2 * (max(TARGET_SURVIVE_SHARE * rows - 1.0, 1.0) / (z_cat + 1.5)) ** 2) / pool,
                         TARGET_MAX_SHARE)
             for c in todo if c.target and c.type == "categorical" and math.isfinite(z_cat) and z_cat > 0}
    rest = sum(w for k, w in weights.items() if k not in boost)
    if boost and rest > 0 and sum(boost.values()) < 1:
        scale = rest / (1 - sum(boost.values()))
        for name, want in boost.items():
            weights[name] = max(weights[name], want * scale)
    total = sum(weights.values())
    return {k: pool * w / total for k, w in weights.items()}


def _flag_keys_released(released: list[str], noisy_of: dict[str, float], sigma: float,
                        threshold: float = math.inf) -> tuple[list[str], bool]:
    """Post-processing of a category release whose flag spellings were public keys (counted whatever the data): a
    flag word released beside other categories stays only with its partner above the noise, or above ``threshold``
    (the one other categories pass: 'F' of a sex column stays), so 'FALSE' from noise alone does not join a sex
    column; where every released value is a flag word, a kept one brings its partner when that stands
    ``FLAG_PARTNER_SIGMAS`` above zero, and only the spelling of the largest count stays (no 'false' beside No/Yes).
    Reads only noisy counts and the public vocabulary. Returns the keys and whether a partner joined."""
    def partner_key(k: str) -> str | None:
        p = flag_partner(_canonical(k))
        return None if p is None else category_key(p)

    def strong(k: str | None) -> bool:
        return k is not None and noisy_of.get(k, 0.0) > FLAG_PARTNER_SIGMAS * sigma

    others = [k for k in released if k not in FLAG_KEYS]
    public = [k for k in released if k in FLAG_KEYS
              and (not others or strong(partner_key(k)) or noisy_of.get(k, 0.0) > threshold)]
    if not others and public:  # one spelling: that of the largest count ('false' from noise never joins No/Yes)
        top = flag_vocabulary(_canonical(max(public, key=lambda k: noisy_of.get(k, 0.0))))
        public = [k for k in public if flag_vocabulary(_canonical(k)) == top]
    partners = [pk for k in public if not others and (pk := partner_key(k)) is not None and pk not in public
                and strong(pk)]  # only where every released value is a flag word
    return others + public + list(dict.fromkeys(partners)), bool(partners)


#: False-positive rates of the tests that release public keys (values named before any data, no delta), per column:
#: a flag spelling alone; a flag pair (both values of one spelling) on its two noisy counts together, where neither
#: value passed alone; a common word alone; a group of words on their noisy counts together; a one-letter code.
#: Together (union bound) a value that no row holds is released in at most ~1.2% of columns: the review of a first
#: version (1% + 1% + 0.5% x 3) found one in 3-5% of columns of rare codes (FEMALE/MALE in a column of 100 codes).
FLAG_FALSE_RATE = 0.005
PAIR_FALSE_RATE = 0.003
WORD_FALSE_RATE = 0.0015
GROUP_FALSE_RATE = 0.001
LETTER_FALSE_RATE = 0.0015


#: Every (value, partner) pair of :data:`FLAG_KEYS` in one spelling ('no'/'yes', 'No'/'Yes', ..., '0'/'1').
FLAG_PAIRS: tuple[tuple[str, str], ...] = tuple(dict.fromkeys(
    [*((f(a), f(b)) for a, b in FLAG_WORDS for f in (str, str.capitalize, str.upper)), ("0", "1")]))
#: The flag pairs written as words: the text buckets of a number column's location histogram (then one for any
#: other text).
TEXT_PAIRS = tuple(pr for pr in FLAG_PAIRS if set(pr) != {"0", "1"} and not any("_" in k for k in pr))  # (not 0_no/1_yes:
# a bucket more spreads the noise of a number column's text over one more cell, for a spelling no number column holds)


def _group_by_sum(groups: tuple[tuple[str, ...], ...], rate: float, noisy_of: dict[str, float],
                  sigma: float) -> tuple[str, ...] | None:
    """The group of public keys whose noisy counts sum highest, when that sum (noise ``sqrt(k) sigma``) clears the
    threshold corrected for the number of groups (false-positive rate ``rate``), else None. Post-processing of
    noisy counts of public keys (each released already) and a public vocabulary."""
    z = math.sqrt(2) * float(special.erfinv(1 - 2 * rate / len(groups)))
    score, best = max(((sum(noisy_of.get(k, 0.0) for k in g) / math.sqrt(len(g)), g) for g in groups),
                      key=lambda t: t[0])
    return best if score > z * sigma else None


def _flag_pair_released(noisy_of: dict[str, float], sigma: float, scale: float = 1.0) -> list[str]:
    """Where no value of a category release cleared its threshold: the flag pair released on its two noisy counts
    together (:func:`_group_by_sum`), most frequent first, or []. A yes/no column of 302 rows split 130/132 at noise
    39 released neither half (3.3 sigma each against 3.26) about half the time; their sum stands 4.8 deviations of
    its noise above zero."""
    best = _group_by_sum(FLAG_PAIRS, PAIR_FALSE_RATE * scale, noisy_of, sigma)
    return [] if best is None else sorted(best, key=lambda k: -noisy_of.get(k, 0.0))


#: The flags' false-positive rates (a flag key alone, a flag pair on its sum) hold per column up to this many category
#: columns in a table, and are shared beyond (each scaled by this over the columns): a sparse number column the noise
#: typed categorical got TRUE/FALSE or y/n from noise alone in 1.3% of releases (quinidine's conc, a data scientist's
#: folder), so a wide table of such columns had one in a few fits. Words and letters keep their rates: scaled too,
#: 20 x/z columns of 300 rows at epsilon 0.3 lost their second letter and the fit released nothing usable.
PUBLIC_KEY_COLUMNS = 10
#: A word of a group of three or more released on the group's sum stands this many noise deviations above zero.
GROUP_MEMBER_SIGMAS = 2.0
#: Every public key of a category release.
PUBLIC_KEYS = frozenset(FLAG_KEYS) | frozenset(CATEGORY_KEYS) | frozenset(LETTER_KEYS)
#: The public keys of a category release beyond the flags, with their false-positive rates.
PUBLIC_GROUPS: tuple[tuple[tuple[str, ...], float], ...] = ((CATEGORY_KEYS, WORD_FALSE_RATE),
                                                            (LETTER_KEYS, LETTER_FALSE_RATE))

#: A word (public, counted whatever the data) of another group than every value released beside it that stands this sure
#: out (the union bound's threshold over every word and letter at this false rate) stays only as sure: its group's own
#: rate (0.15% over 114 words) lets noise through in about 1 column of 600, and beside an established value nothing
#: struck it out again: flchain's F/M took 'divorced', 'HIGH' or 'Never' in 3 of 3,000 draws (about 1.5% of the
#: synthetic rows each, 4.4 noise deviations). A word of a sure value's own group keeps its group's rate (for every
#: word, a rare 'asian' beside white/black was kept half as often, a reviewer found), so a noise letter beside F/M
#: ('W', 'P': 3 of 3,000) still may join; a hand-written list's values are never struck.
SURE_FALSE_RATE = 1e-4
SURE_WORD_SIGMAS = math.sqrt(2) * float(special.erfinv(1 - 2 * SURE_FALSE_RATE / (len(CATEGORY_KEYS) + len(LETTER_KEYS))))

def unsure_kinds(entries: list[Any]) -> list[str]:
    """The columns whose kind (numbers or text) a DP fit's type decisions among ``entries`` (ledger entries) took on the
    noise's word (numbers minus the rest within 3 deviations of zero: :func:`~medsynth.tabular.structure.decide_structure`)."""
    return [c for e in entries if e.access.endswith(STRUCTURE_ACCESS) for c in (e.details or {}).get("unsure_kind") or []]


def _word_group(k: str) -> tuple[str, ...] | None:
    if k in LETTER_KEYS:
        return LETTER_KEYS
    return next((g for g in CATEGORY_GROUPS if k in g), None)


def _words_kept(released: list[str], noisy_of: dict[str, float], threshold: float) -> list[str]:
    """Post-processing of a category release with public words and letters (:data:`PUBLIC_GROUPS`): a word
    released alone from its group beside other released values (flags, values read from the data, another group)
    stays only above ``threshold`` (the one values read from the data pass), so a noise-only 'F' does not join a
    yes/no column; where only words were released, the group of the largest noisy total stays whole."""
    words = [k for k in released if _word_group(k) is not None]
    if not words:
        return released
    others = [k for k in released if k not in words]
    by_group: dict[tuple[str, ...], list[str]] = {}
    for k in words:
        by_group.setdefault(_word_group(k), []).append(k)  # type: ignore[arg-type]
    home = None if others else max(by_group, key=lambda g: sum(noisy_of.get(k, 0.0) for k in by_group[g]))
    keep = {k for g, ks in by_group.items() for k in ks
            if g == home or len(ks) >= 2 or noisy_of.get(k, 0.0) > threshold}
    return [k for k in released if k in others or k in keep]


def _group_released(released: list[str], noisy_of: dict[str, float], sigma: float, scale: float = 1.0, *,
                    sex: bool = False) -> list[str]:
    """Post-processing of a category release with the public words of :data:`CATEGORY_GROUPS`. Where nothing was
    released, the group (one spelling) whose noisy counts sum to more than the union-corrected threshold of that sum
    (noise ``sqrt(k) sigma``) is: both words of a pair, or the words of a larger group standing
    ``GROUP_MEMBER_SIGMAS`` above zero (at least its largest). Where the one released value is a word of a pair, the
    other word joins when it stands ``FLAG_PARTNER_SIGMAS`` above zero ('female' released alone brings 'male'; 'f'
    brings 'm' in a column named like a sex, ``sex``); a
    larger group is not filled (an absent race word passed 1 sigma in 30% of columns). Reads only noisy counts of
    public keys and the vocabulary."""
    if released:
        pairs = [g for g in CATEGORY_GROUPS if len(g) == 2] + (list(LETTER_PAIRS) if sex else [])
        pair = [g for g in pairs if len(released) == 1 and released[0] in g]
        if not pair:
            return released
        other = next(k for k in pair[0] if k not in released)
        return released + [other] if noisy_of.get(other, 0.0) > FLAG_PARTNER_SIGMAS * sigma else released
    best = _group_by_sum(CATEGORY_GROUPS, GROUP_FALSE_RATE * scale, noisy_of, sigma)
    if best is None:
        return []
    ranked = sorted(best, key=lambda k: -noisy_of.get(k, 0.0))
    if len(best) == 2:
        return ranked
    return [k for i, k in enumerate(ranked) if i == 0 or noisy_of.get(k, 0.0) > GROUP_MEMBER_SIGMAS * sigma]


#: Share of each family member's budget spent on the family's pooled category list; the rest counts the member's
#: own values on that list (its 1-way marginal and missing bucket). The list's noise, per member, is
#: ``1 / sqrt(FAMILY_LIST_SHARE * k)`` of what the member's whole share buys alone: a gain from 4 members up.
FAMILY_LIST_SHARE = 0.5


def category_families(cols: list[ColumnSchema]) -> dict[str, list[str]]:
    """The families of category columns among ``cols`` (:func:`~medsynth.tabular.structure.name_families`)."""
    return name_families(cols, ("categorical",))


def number_families(cols: list[ColumnSchema]) -> dict[str, list[str]]:
    """The families of number columns, integer or continuous, among ``cols``
    (:func:`~medsynth.privacy.locate.locate_by_family`)."""
    return name_families(cols, ("integer", "continuous"))


@dataclass(frozen=True)
class FamilyList:
    """The category list DP released for a family of columns (:func:`release_family_lists`).

    Attributes:
        stem: the family's name stem.
        size: how many columns it pools.
        keys: the released category keys (most frequent first), maybe none.
        sigma: the noise of the pooled counts.
        missing: whether the pooled noisy count of missing values stands ``PRESENCE_SIGMAS`` above zero (then
            every member whose own noisy count of them is positive keeps a missing state; that count is its rate).
    """

    stem: str
    size: int
    keys: tuple[str, ...]
    sigma: float
    missing: bool = False


def hand_written(col: ColumnSchema) -> set[str] | None:
    """The keys of a category list written by hand (not read from the data: ``categories`` not in
    ``read_from_data``), which may filter a DP release; None for none or one read from the data (which would tell
    which values the table holds)."""
    if col.categories and "categories" not in col.read_from_data:
        return {category_key(c) for c in col.categories}
    return None


def thresholded_release(keys: np.ndarray, n_missing: int, rho: float, delta: float, rng: np.random.Generator, *,
                        sensitivity: float = 1.0, allowed: set[str] | None = None, rate_scale: float = 1.0,
                        sex: bool = False, unsure: bool = False) -> tuple[list[str], dict[str, float], float, bool, bool]:
    """A category release (:func:`~medsynth.privacy.mechanisms.dp_category_counts`, flag spellings and common words
    public keys) and its post-processing of public words and flags (:func:`_words_kept`, :func:`_flag_keys_released`,
    :func:`_flag_pair_released`, :func:`_group_released`); ``allowed`` (a list written by hand) filters the values read
    from the data first. One column (``sensitivity`` 1) or a family's pooled histogram (``sensitivity`` k). ``unsure``:
    the noise decided the column's kind (numbers or text), so its public keys (words, letters or flag spellings, counted
    whatever the data; not 0 and 1, a number column's values too) stay only where together they stand
    ``SURE_WORD_SIGMAS`` deviations of their sum out:
    smartpill's Age (95 rows) was written 'T' in every row, cytomegalovirus's CD34.dose 'Treatment' or 'yes', in 2-3 of
    16-22 fits.

    Returns:
        (released keys, noisy counts by key, noisy missing count, whether a flag partner joined, whether a flag pair
        or word group was released on its counts together).
    """
    sigma = gaussian_sigma(rho, sensitivity)
    released, noisy_of, noisy_missing = dp_category_counts(keys, n_missing, rho, delta, rng, sensitivity=sensitivity,
                                                           public_keys=FLAG_KEYS, public_rate=FLAG_FALSE_RATE * rate_scale,
                                                           public_groups=PUBLIC_GROUPS)
    if allowed is not None:  # a public key is released or not on its noisy count alone
        released = [k for k in released if k in allowed or k in PUBLIC_KEYS]
    threshold = category_threshold(sigma, delta, sensitivity)
    sure = max(threshold, SURE_WORD_SIGMAS * sigma)
    homes = {_word_group(k) for k in released if noisy_of.get(k, 0.0) > sure}  # (None: a value read from the data)
    if homes:  # a faint word of another group than every sure value's (flag words: _flag_keys_released)
        released = [k for k in released if k in FLAG_KEYS or k not in PUBLIC_KEYS or noisy_of.get(k, 0.0) > sure
                    or _word_group(k) in homes or (allowed is not None and k in allowed)]
    released = _words_kept(released, noisy_of, threshold)
    released, with_partner = _flag_keys_released(released, noisy_of, sigma, threshold)
    paired = False
    if not released:
        released = _flag_pair_released(noisy_of, sigma, rate_scale)
        paired = bool(released)
    grown = _group_released(released, noisy_of, sigma, sex=sex)
    public = [k for k in grown if k in PUBLIC_KEYS and k not in ("0", "1")]
    if unsure and public and sum(noisy_of.get(k, 0.0) for k in public) <= sure * math.sqrt(len(public)):
        # (the public keys together: a sex column's female/male, each near the threshold, stand out as a pair; the
        # keys 0 and 1 are a number column's values too, so a 0/1 column whose kind the noise decided keeps them at their
        # flag threshold: cytomegalovirus's agvhd, cgvhd, donor.cmv)
        grown = [k for k in grown if k not in public]
        released = [k for k in released if k in grown]
        # (what the notes say of a flag's partner or a pair released together holds for what is kept: a reviewer)
        with_partner = with_partner and any(k in FLAG_KEYS for k in grown)
        paired = paired and bool(grown)
    return grown, noisy_of, noisy_missing, with_partner, paired or len(grown) > len(released)


def release_family_lists(df: pd.DataFrame, families: dict[str, list[str]], rho_of: dict[str, float], delta: float,
                         rng: np.random.Generator) -> dict[str, FamilyList]:
    """One thresholded noisy histogram per family over the values of all its ``k`` columns together (flag spellings
    and common words public keys, as for one column), at ``rho_of[stem]``: a row adds up to ``k`` counts, so the
    histogram's L2 sensitivity is ``k`` (noise ``k / sqrt(2 rho)``), a value held by one row clears the threshold
    ``k + sigma z(1 - delta)`` with probability at most ``delta`` and one row holds at most ``k`` such values: the
    family's delta is ``k * delta``, as for its ``k`` columns released one by one. Signal grows ``k`` times, noise
    ``k / sqrt(k)``: a value common to the family stands ``sqrt(k)`` times higher above the noise at the family's
    summed budget. The same post-processing as one column's release (flags, word groups). Returns each member
    column's :class:`FamilyList`."""
    out: dict[str, FamilyList] = {}
    for stem, names in families.items():
        k = len(names)
        rho = rho_of[stem]
        sigma = gaussian_sigma(rho, k)  # (thresholded_release's)
        keys = np.concatenate([category_keys(df[n].dropna()).to_numpy(dtype=str) for n in names])
        n_missing = int(sum(int(df[n].isna().sum()) for n in names))
        released, _, noisy_missing, _, _ = thresholded_release(keys, n_missing, rho, delta, rng, sensitivity=float(k))
        got = FamilyList(stem, k, tuple(released), sigma, bool(noisy_missing > PRESENCE_SIGMAS * sigma))
        out.update({n: got for n in names})
    return out


def family_counts(s: pd.Series, keys: list[str], sigma: float,
                  rng: np.random.Generator) -> tuple[dict[str, float], float]:
    """Noisy counts (noise ``sigma``, one row one bucket: sensitivity 1) of a column's values on a released list of
    keys and of its missing values; values off the list are not counted. Returns (noisy count by key, noisy missing)."""
    seen, n = np.unique(category_keys(s.dropna()).to_numpy(dtype=str), return_counts=True)
    by_key = dict(zip(seen.tolist(), n.tolist()))
    counts = np.array([float(by_key.get(k, 0)) for k in keys] + [float(s.isna().sum())])
    noisy = noisy_counts(counts, sigma, rng)
    return dict(zip(keys, noisy[:-1].tolist())), float(noisy[-1])


def _text_buckets(s: pd.Series, numbers: np.ndarray) -> np.ndarray:
    """Counts of a column's cells that are no numbers, on a public partition: one bucket per flag pair of
    :data:`TEXT_PAIRS`, then the rest (private; measured by :func:`~medsynth.privacy.locate.locate`)."""
    is_text = np.isnan(numbers) & s.notna().to_numpy()
    keys = category_keys(s[is_text]).to_numpy(dtype=str) if is_text.any() else np.zeros(0, dtype=str)
    counts = np.array([float(np.isin(keys, pr).sum()) for pr in TEXT_PAIRS] + [0.0])
    counts[-1] = keys.size - counts[:-1].sum()
    return counts


def _flag_text(loc: Location) -> int | None:
    """The index (in :data:`TEXT_PAIRS`) of the flag whose text bucket is the largest of those standing above the
    noise in a number column's location histogram, or None (no text found, or the largest is other text)."""
    found = loc.text_found()
    if found.size == 0:
        return None
    i = int(found[np.argmax(loc.text_noisy[found])])
    return i if i < len(TEXT_PAIRS) else None


#: A small code's text (:func:`_text_beside_code`) makes it a category list where it holds at least this share of the
#: column's values (numbers and text, noisy counts) and stands this many noise deviations above zero.
TEXT_CODE_SHARE = 0.05
TEXT_CODE_SIGMAS = 3.0


def _text_beside_code(loc: Location) -> bool:
    """Whether a number column located as a small code holds text beside its keys: the noisy count of its text cells
    (:meth:`~medsynth.privacy.locate.Location.text_as_missing`) clears ``TEXT_CODE_SIGMAS`` deviations and
    ``TEXT_CODE_SHARE`` of the keys' and the text's counts (post-processing of stage 1)."""
    text, k = loc.text_as_missing()
    if k == 0 or not text > TEXT_CODE_SIGMAS * loc.sigma * math.sqrt(1.0 + k):
        return False
    keys = float(np.maximum(loc.key_counts(), 0.0).sum())
    return text >= TEXT_CODE_SHARE * (text + keys)


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


def resolve_domain(
    schema: TableSchema, df: pd.DataFrame, *, privacy: PrivacyConfig, ledger: PrivacyLedger, rng: np.random.Generator,
    rows: float | None = None, oneway_rho: float = 0.0, oneways: dict[str, OneWay] | None = None,
    reserve_rho: float = 0.0, rows_sigma: float | None = None, time_weight: float = 1.0, other: bool = False,
    times: frozenset[str] = frozenset(),
) -> TableSchema:
    """Return the schema with every modelled column's domain complete, recording the cost in ``ledger``.

    For a DP fit, ``public: false`` columns get their type and date format re-decided under DP
    (:func:`~medsynth.tabular.structure.decide_structure`), then their domain estimated with DP; the
    log transform comes from the DP range estimate (post-processing). The budget is split by need
    (:func:`_allocate`): category lists get enough for categories of 3% of the rows to be released; a
    number's share pays its location (stage 1) and its 1-way marginal (stage 2, reused by the model), and
    numbers not located by stage 1 share ``reserve_rho`` for more looks (:func:`_locate_numbers`). The
    ledger records what was spent (a column omitted after its looks pays only for them).
    A column about which nothing can be released at the budget is omitted from the model (the
    synthetic table holds it empty) with a note in the ledger: the fit never refuses for it.

    Args:
        rows: the noisy row count of a DP fit (decision thresholds are shares of it).
        oneway_rho: rho per column that a marginal model would spend on its 1-way marginal; added to the
            domain measurement, whose noisy counts (categories or grid cells, and missing values) the
            model then reuses as that marginal (``oneways`` receives them).
        oneways: filled with the reusable 1-way measurements (when given).
        reserve_rho: rho that number columns not located by their first measurement may share for a
            second one (only what they use is spent and recorded; the rest stays with the model).
        rows_sigma: the noise of ``rows``, a noisy count of ``df``'s rows or of more (the patients, for a child
            table's one row per patient with rows): a number still unlocated after its looks whose present count
            (rows less its noisy missing count) stands out is then located tentatively, and kept where stage 2 alone
            confirms it (:func:`~medsynth.privacy.locate.locate_present`); None never guesses.
        time_weight: the budget weight of a number or date column named like a time, in multiples of its type's (a
            multi-table fit's times carry each patient's order, gaps and follow-up; 1 for a single table).
        other: ``rows`` counts ``df``'s own rows (not a child table's sample): a released category list gets
            :data:`~medsynth.io.schema.OTHER_CATEGORY` where the rows its released counts and missing count leave
            over stand above their noise (:func:`other_rows`), so values of unreleased categories keep their mass
            instead of becoming missing values.
        times: number columns that stay whole numbers over their range where DP finds a small code (a child
            table's visit numbered 1-4, which may order a patient's rows), not categories; their 1-way marginal is
            then the model's own.

    Raises:
        PrivacyBudgetError: for a DP fit with domains read from the data when ``domain_budget`` is 0.
    """
    if not privacy.private:
        ledger.record("domains (bounds, categories, missingness) read from the data", "none (non-private fit)",
                      columns=schema.names)
        return complete_from_data(schema, df)
    schema = _without_read_values(_without_read_formats(schema, ledger))
    needs_struct = [c for c in schema.columns if needs_decision(c)]
    todo = [schema.column(n) for n in schema.private_domain_columns()]
    if not todo and not needs_struct:
        return schema
    needs_domain = [c for c in todo if c.type != "boolean"]  # a boolean's domain {False, True} is known
    if privacy.domain_budget <= 0:
        if needs_domain or needs_struct:
            raise PrivacyBudgetError(
                "a differentially private fit cannot use types or domains read from the data, and domain_budget is 0. "
                f"Columns {[c.name for c in (needs_domain or needs_struct)]} have public: false (or no bounds/categories). "
                "Either declare them public in the schema (set the type, min/max or categories from public knowledge, "
                "e.g. clinical reference ranges, and public: true), or set privacy.domain_budget (e.g. 0.1) to estimate "
                "them with DP from the budget."
            )
        # only booleans: their missingness is not released; the model learns its rate under DP
        return _with_missing(schema, {c.name for c in todo})
    rho_domain = privacy.domain_budget * ledger.rho_budget
    small_ints: set[str] = set()
    unsure_kind: set[str] = set()  # columns whose kind (numbers or text) the noise decided
    undecided: list[str] = []  # numbers whose whole-or-not count the noise hid (their DP range decides)
    if needs_struct:
        # by need: enough for 3 noise deviations to stay under half the (noisy) row count, so "whole numbers or
        # not" is decided rather than left to the noise (ages 18-95 on 400 rows were written with decimals), at least
        # STRUCTURE_SHARE of the domain budget, at most STRUCTURE_MAX_SHARE of what the domains may spend: it and the 1-way
        # marginals the domain release pays for (a column's type matters more than its 1-way marginal's precision;
        # depends only on the noisy count and the schema)
        n_struct = float(rows or len(df))
        need = 1.2 * 18.0 * len(needs_struct) / (ROUND_SHARES[1] * max(n_struct, 1.0) ** 2)
        base = rho_domain + oneway_rho * len(needs_struct)
        rho_struct = STRUCTURE_SHARE * rho_domain
        if need <= STRUCTURE_MAX_SHARE * base:  # more only where more buys the decision (else it is undecided anyway)
            rho_struct = max(rho_struct, need)
        before = len(ledger.entries)
        schema, small_ints, spent_struct, undecided = decide_structure(schema, df, rho=rho_struct, rows=n_struct,
                                                                       rng=rng, ledger=ledger)
        unsure_kind = set(unsure_kinds(ledger.entries[before:]))
        # what the type decision took beyond the domain budget came out of the 1-way marginals of the columns it
        # decided; where many became identifiers (not modelled, no marginal) the pool below keeps a floor, paid from
        # the model's budget (its rho_left), so the release never gets a negative budget (14 text ids on 500 rows)
        rho_domain -= spent_struct
        todo = [schema.column(n) for n in schema.private_domain_columns()]
    if not todo:
        return schema
    n_rows = float(rows or len(df))
    n_cat = sum(c.type == "categorical" for c in todo)
    # small whole-number codes whose type was read from the data may hold text answers beside their numbers (yrbss'
    # hours of TV 1-4 beside "<1", "do not watch" and "5+" in 41% of the rows): each may release a category list
    # (:data:`TEXT_CODE_SHARE`), so their delta is reserved with the category columns' (public facts only)
    text_codes = {c.name for c in todo if c.type == "integer" and c.name in small_ints and "type" in c.read_from_data}
    n_lists = n_cat + len(text_codes)
    delta_cat = ledger.reserved_delta / n_lists if n_lists else 0.0
    z_cat = math.sqrt(2) * float(special.erfinv(1 - 2 * delta_cat)) if n_lists else 0.0
    pool = max(rho_domain + oneway_rho * len(todo), STRUCTURE_SHARE * privacy.domain_budget * ledger.rho_budget)
    share = _allocate(todo, pool, n_rows, z_cat, time_weight)
    updates: dict[str, dict[str, Any]] = {}
    detail: dict[str, Any] = {}
    spent: dict[str, float] = {}
    floors: list[float] = []  # rows a value needs to stand above the noise, per category column and small code
    miss_floors: list[float] = []  # missing values a column written without any may have held (3 noise deviations)
    range_floors: list[float] = []  # values a number's range may leave out before the fit can tell (CLIP_NOTE_SIGMAS)
    texted: dict[str, int] = {}  # number columns whose text cells (noisy count) become missing values
    made_whole: list[str] = []  # undecided numbers written as whole numbers on their DP range's width
    stepped_whole: list[str] = []  # continuous numbers whose DP-decided unit is whole
    clipped: dict[str, float] = {}  # number columns whose range leaves out a share of their values (DP estimate)
    families = category_families(todo)
    family_of = release_family_lists(
        df, families, {stem: FAMILY_LIST_SHARE * sum(share[n] for n in names) for stem, names in families.items()},
        delta_cat, rng) if families else {}
    numbers = [c for c in todo if c.type in NUMERIC_TYPES]
    completed: list[str] = []  # flags of which DP released one value: the other joined
    paired: list[str] = []  # flags of which DP released neither value alone, but both together
    by_family: list[str] = []  # number columns located where their family's average histogram located, confirmed
    retyped: list[str] = []  # decided numbers, released as a flag's categories (text stood above the noise)
    text_coded: list[str] = []  # small codes released as category lists (text stood beside their keys)
    lumped: dict[str, float] = {}  # columns given "(other)": the DP estimate of its share of the rows
    first = {c.name: stage1_share(share[c.name], oneway_rho) for c in numbers}
    present = _PresentRows(len(df), rows, rows_sigma, other, rng)
    located = _locate_numbers(numbers, df, share, first, reserve_rho, rng,
                              total_cap=RESERVE_CAP_TOTAL * ledger.rho_budget / max(len(todo), 1),
                              present=present)
    families_n = number_families(numbers)
    for names in families_n.values():  # a family of codes (questionnaire items) locates its unlocated members first,
        locate_by_family([located[n] for n in names], kinds=("code",))  # and its members share its scale
        share_family_scale([located[n] for n in names])
    tentative = []  # unlocated after every look, but DP says most rows hold a value: the block standing out most
    if rows is not None and rows_sigma is not None:  # (the noisy count of df's rows and its noise; none, no guess)
        for name, loc in located.items():
            if present.short(loc):  # still a code whose keys leave most values out: a number, tentatively
                loc.kind, loc.keys = "unlocated", np.zeros(0, dtype=np.int64)
                loc.family_keys = np.zeros(0, dtype=np.int64)  # (no longer a code: no family scale)
            if loc.kind == "unlocated" and _flag_text(loc) is None:
                miss, sigma_miss = loc.missing_noisy()
                if locate_present(loc, float(rows) - miss, math.hypot(sigma_miss, rows_sigma)):
                    tentative.append(name)
    for names in families_n.values():  # members still unlocated after all that: where their family is
        locate_by_family([located[n] for n in names])

    def release_categories(col: ColumnSchema, s: pd.Series, rho: float, delta: float,
                           family: FamilyList | None = None) -> dict[str, Any] | None:
        """A thresholded noisy histogram of the column's values (flag spellings public keys, no threshold) and its
        missing bucket: the schema update, or None when no category stands above the noise. A member of a
        ``family`` (:func:`release_family_lists`) counts its values on the family's released list instead (keys
        released already, no threshold) with ``rho``, the rest of its share."""
        sigma = gaussian_sigma(rho)
        if family is None:
            floors.append(category_threshold(sigma, delta))
            keys = category_keys(s.dropna()).to_numpy(dtype=str)
            released, noisy_of, noisy_missing, with_partner, grouped = thresholded_release(
                keys, int(s.isna().sum()), rho, delta, rng, allowed=hand_written(col),
                rate_scale=min(1.0, PUBLIC_KEY_COLUMNS / max(n_cat, 1)), sex=sex_named(col.name),
                unsure=col.name in unsure_kind)
            if with_partner:
                completed.append(col.name)
            if grouped:
                paired.append(col.name)
            entry = {"mechanism": "thresholded noisy histogram (+ missing bucket)", "rho": rho, "delta": delta}
        else:
            allowed = hand_written(col)  # (never a list read from the data: it would tell which family values it holds)
            released = [k for k in family.keys if allowed is None or k in allowed or k in PUBLIC_KEYS]
            # (every family value stays the member's: its own noisy counts of a value it does not hold are near zero
            # in its marginal; dropping values whose own count stood under 1 deviation lost a real value in most of
            # 300-row items, 32 of 72 kept all three)
            noisy_of, noisy_missing = family_counts(s, released, sigma, rng)
            entry = {"mechanism": "noisy counts on its family's category list (+ missing bucket)",
                     "rho": rho / (1 - FAMILY_LIST_SHARE), "rho_family_list": rho / (1 - FAMILY_LIST_SHARE) - rho,
                     "family": family.stem, "family_columns": family.size}
        missing = bool(noisy_missing > PRESENCE_SIGMAS * sigma) or (
            family is not None and family.missing and noisy_missing > 0)
        if not missing:
            miss_floors.append(PRESENCE_SIGMAS * sigma)
        detail[col.name] = {**entry, "released": len(released), "missing": missing}
        # a column none of whose values stands out alone is "(other)" where its rows together do (who's country, iso2 and
        # iso3, 219 values of 33 rows each and never missing, were written all blank), else it is left empty
        cats = _sorted_categories([_canonical(k) for k in released])
        upd: dict[str, Any] = {"missing": missing, "categories": cats}
        if released and set(released) <= {"False", "True"}:  # booleans' keys (public): written back as booleans
            cats = [False, True]
            upd = {"type": "boolean", "missing": missing, "categories": cats}
        counts = [noisy_of[category_key(c)] for c in cats]
        sigmas = [sigma] * len(counts)
        # (a column the noise decided was text, numbers and text within 3 deviations, is no lump of rare values where
        # none stood out: mgus1's age and creat, 223 rows at epsilon 1, came out '(other)' in every row; left empty)
        rest = other_rows(float(rows), rows_sigma, counts, noisy_missing, sigma) if (
            other and rows is not None and rows_sigma is not None and upd.get("type") != "boolean"
            and OTHER_CATEGORY not in cats and (released or col.name not in unsure_kind)) else None  # (a table that holds
        # "(other)" itself: already the lump)
        if rest is None and not released:
            return None
        if rest is not None:
            cats = [*cats, OTHER_CATEGORY]
            upd["categories"] = cats
            counts.append(rest[0])
            sigmas.append(rest[1])
            lumped[col.name] = rest[0] / max(float(rows), 1.0)  # type: ignore[arg-type]
            detail[col.name]["other"] = True
        if oneways is not None:
            counts += [noisy_missing] if missing else []
            sigmas += [sigma] if missing else []
            oneways[col.name] = OneWay(np.array(counts, dtype=float), np.array(sigmas, dtype=float))
        return upd

    for col in todo:
        s = df[col.name]
        rho_each = share[col.name]
        spent[col.name] = rho_each
        if col.type in NUMERIC_TYPES:
            loc = located[col.name]
            if col.name in text_codes and loc.kind == "code" and _text_beside_code(loc):
                # DP decided numbers, a small code, but text stands beside its keys in the same histogram: the text
                # answers would be written as missing (yrbss: 41% of hours of TV). The rest of its share releases the
                # column's category list, numbers and text alike.
                rest = rho_each * (1 - first[col.name])
                spent[col.name] = loc.rho + rest
                as_cat = col.model_copy(update={"type": "categorical", "min": None, "max": None, "categories": None,
                                                "transform": "none", "step": None, "atoms": None})
                upd = release_categories(as_cat, s, rest, delta_cat)
                if upd is None:
                    updates[col.name] = dict(OMITTED)
                    ledger.notes.append(f"column '{col.name}': its text answers stood out beside its numbers, but no "
                                        "value is frequent enough to release with DP at this budget; the synthetic "
                                        "column is empty (declare its categories public, or give more budget)")
                    continue
                detail[col.name] = {**detail.get(col.name, {}), "mechanism": MECH_NUMBER + "; text stood above the "
                                    "noise beside its keys: released as a category list", "rho": spent[col.name]}
                updates[col.name] = {"type": "categorical", "min": None, "max": None, "transform": "none",
                                     "step": None, "atoms": None, **upd}
                text_coded.append(col.name)
                continue
            if loc.kind == "unlocated" and _flag_text(loc) is not None and "type" in col.read_from_data:
                # DP decided numbers, but no number stands above the noise and a flag's text does (the same
                # histogram): a yes/no column of a small, wide table whose type the noise got wrong. The rest of its
                # share measures the flag's two values (public keys, no delta). A type written by hand is kept.
                rest = rho_each * (1 - first[col.name])
                got = _retyped_flag(col, s, loc, rest, rng)
                if got is False:
                    spent[col.name] = loc.rho + rest
                    updates[col.name] = dict(OMITTED)
                    ledger.notes.append(
                        f"column '{col.name}': no value range stands above the DP noise at this budget, and the flag text "
                        "its first measurement showed was not confirmed by a second; the synthetic column is empty "
                        "(declare its bounds public, or give more budget)")
                    detail[col.name] = {"mechanism": MECH_NUMBER + "; a flag pair's text bucket stood above the noise but "
                                        "its two values' measurement did not confirm it", "rho": spent[col.name],
                                        "rounds": loc.rounds, "omitted": True}
                    continue
                if got is not None:
                    spent[col.name] = loc.rho + rest
                    updates[col.name], ow = got
                    if oneways is not None:
                        oneways[col.name] = ow
                    detail[col.name] = {"mechanism": MECH_NUMBER + "; a flag pair's text bucket stood above the "
                                        "noise: its two values and missing ones measured", "rho": spent[col.name],
                                        "categories": updates[col.name]["categories"]}
                    retyped.append(col.name)
                    continue
            rest = rho_each * (1 - first[col.name])
            rho_step = STEP_SHARE * rest if (loc.kind == "number" and col.type in ("integer", "continuous")
                                             and col.step is None and col.name not in times) else 0.0
            try:
                res = refine(loc, rest - rho_step, rng, time=col.name in times)
            except PrivacyBudgetError as err:
                spent[col.name] = getattr(err, "rho_spent", loc.rho)  # stage 2 was spent where it refused a tentative block
                updates[col.name] = dict(OMITTED)
                ledger.notes.append(f"column '{col.name}': no value range stands above the DP noise at this budget "
                                    f"({loc.rounds} measurement(s) to locate it, rho {spent[col.name]:.3g} in all); the synthetic column is "
                                    "empty (declare its bounds public, or give more budget)")
                detail[col.name] = {"mechanism": MECH_NUMBER, "rho": spent[col.name], "rounds": loc.rounds, "omitted": True}
                continue
            spent[col.name] = res.rho
            if not res.missing and res.sigma_missing > 0:
                miss_floors.append(PRESENCE_SIGMAS * float(res.sigma_missing))
            other_text = float(loc.text_noisy[-1]) if loc.text_noisy.size else 0.0  # (stage 1's bucket of other text)
            if rows and other_text > TEXT_NOTE_SIGMAS * loc.sigma and other_text >= TEXT_NOTE_SHARE * rows:
                texted[col.name] = round(other_text)
            left_out = _left_out(res, rows, rows_sigma) if res.codes is None or col.name not in times else None
            if left_out is not None and not present.own:  # (rows count the patients, an upper bound of a child table's
                # one row per patient with rows: nothing is said below it, and above it the rows are counted; a data
                # scientist's rwm visits wrote doctor visits 0-121 as a code 0-11, 6% of the values out, and said nothing)
                left_out = _left_out(res, *present.counted())
            if left_out is not None:
                clipped[col.name] = left_out
            noise = _range_noise(res, rows, rows_sigma) if present.own and res.codes is None else None
            if noise is not None:  # what a range may leave out unseen (a data scientist: ais's weights cut to 64-80, half
                # the values out, Pima's ages to 16-29, and the fit said nothing: the note cannot tell under this noise)
                range_floors.append(CLIP_NOTE_SIGMAS * noise[1])
            if loc.by_family:
                by_family.append(col.name)
            if col.name in tentative:
                ledger.notes.append(f"column '{col.name}': no block of its values stood above the noise alone; located where "
                                    "they stand out most, as most rows hold a value, and confirmed by a second measurement "
                                    "(a coarse range)")
            if res.codes is not None and col.name in times and len(res.codes) >= 2:  # a time: whole numbers
                upd = {"type": "integer", "categories": None, "min": int(res.codes[0]), "max": int(res.codes[-1]),
                       "missing": res.missing, "transform": "none"}
                if len(res.codes) < int(res.codes[-1]) - int(res.codes[0]) + 1:  # a schedule (weeks 0, 2, 4, 6, 11):
                    upd["atoms"] = [int(k) for k in res.codes]  # its released keys are the times rows are written at
                detail[col.name] = {"mechanism": MECH_NUMBER, "rho": res.rho, "rounds": loc.rounds,
                                    "min": upd["min"], "max": upd["max"], "missing": res.missing}
                updates[col.name] = upd
                continue
            if res.codes is not None:  # a small code: its values are categories
                floors.append(PRESENCE_SIGMAS * float(res.sigma))  # (a value beside the run's; a lone one needs more)
                res, dropped = _within_calendar(col.name, res)
                if year_named(col.name) and res.codes is not None and res.counts is not None:  # no year after the fit's
                    # where its count is within the noise (as a range's cells: a reviewer)
                    late = [k >= year_top() and float(c) <= AGE_TOP_SIGMAS * float(res.sigma)
                            for k, c in zip(res.codes, res.counts, strict=True)]
                    keep = [i for i, x in enumerate(late) if not x]
                    if keep and len(keep) < len(res.codes):
                        ledger.notes.append(f"column '{col.name}': code(s) {[int(k) for k, x in zip(res.codes, late, strict=True) if x]} "
                                            "after the year of the fit left out (a calendar year by its name; within the noise)")
                        res = replace(res, codes=tuple(res.codes[i] for i in keep),
                                      counts=np.asarray(res.counts, dtype=float)[keep])
                if dropped:
                    ledger.notes.append(f"column '{col.name}': code(s) {dropped} left out: outside the values its name "
                                        "allows (a calendar's), lifted by the noise")
                # the keys on a unit only: a declared one (public), or one their released counts say
                res = _keys_on(res, col.step if col.step is not None else _code_step(res))
                updates[col.name], detail[col.name], ow = _as_code(res, MECH_NUMBER, res.rho, loc.rounds)
                if oneways is not None:
                    oneways[col.name] = ow
                continue
            res, cut = _within_lifespan(col.name, res)
            if cut:
                ledger.notes.append(f"column '{col.name}': its DP range stops at {AGE_TOP:g} (an age in years by its "
                                    "name; no mass above it stood out of the noise)")
            res, cut = _within_present(col.name, res)
            if cut:
                ledger.notes.append(f"column '{col.name}': its DP range stops at the year of the fit, {res.high - 1:g} (a "
                                    "calendar year by its name; no mass above it stood out of the noise)")
            if col.type == "datetime":  # dates likewise stop at the end of the fit's year (epa2021's release dates of
                # 2020-2021 were written to 2024-2026 in 3 fits of 3 at epsilon 1: a data scientist)
                res, cut = _cut_at_top(res, _epoch_days(year_top()))
                if cut:
                    ledger.notes.append(f"column '{col.name}': its DP date range stops at the end of the fit's year, "
                                        f"{int(year_top()) - 1} (no mass after it stood out of the noise)")
            if (col.name in undecided and col.type == "continuous" and (not res.log_scale or res.low >= WHOLE_LOG_LOW)
                    and res.high - res.low >= (WHOLE_AGE_WIDTH if _age_in_years(col.name) else WHOLE_WIDTH)):
                col = col.model_copy(update={"type": "integer"})  # see WHOLE_WIDTH (post-processing of DP outputs)
                made_whole.append(col.name)
            step, atoms, atom_counts = None, [], {}
            if rho_step:
                whole = col.type == "integer" or col.name in made_whole
                step, atoms = _released_step(s, res.low, res.high, whole, rho_step, rng, res, atom_counts)
                spent[col.name] = res.rho + rho_step
                if (step is not None and not whole and float(step).is_integer() and not res.log_scale
                        and "type" in col.read_from_data):  # (a type written by hand stays)
                    # the values sit on a unit of whole numbers: whole numbers (a 0/1 flag whose whole-or-not count
                    # the noise hid was written with 230 fractional values up to 1.997); post-processing of DP outputs
                    col = col.model_copy(update={"type": "integer"})
                    stepped_whole.append(col.name)
            upd = _set_bounds(col, res.low, res.high, half_open=True)
            upd["missing"] = res.missing
            if col.name in made_whole or col.name in stepped_whole:
                upd["type"] = "integer"
            upd["transform"] = "log" if res.log_scale and col.type != "datetime" else "none"
            declared = col.step if col.step is not None and float(col.step).is_integer() else None
            unit = int(step if step is not None else declared or 1) if col.type == "integer" else 1
            lowest = -(-int(upd["min"]) // unit) * unit if col.type == "integer" else 0
            n_points = (int(upd["max"]) - lowest) // unit + 1 if col.type == "integer" else 0
            points = list(range(lowest, int(upd["max"]) + 1, unit)) if 0 < n_points <= MAX_LEVELS else []
            sparse = None
            if (col.name not in times and col.type == "integer" and MAX_LEVELS < n_points <= SPARSE_POINTS
                    and not res.log_scale and res.range_count is not None and _maybe_sparse(res, unit)):
                rho_sparse = SPARSE_SHARE * rest
                spent[col.name] += rho_sparse
                off_grid = {a: c for a, c in atom_counts.items() if (a - lowest) % unit}  # (kept atoms off the points)
                sparse = _released_points(s, lowest, int(upd["max"]), unit, rho_sparse, res, rng, off_grid)
            if sparse is not None:  # a code recorded as large whole numbers: its values are categories
                cats, counts, sigma_p, needs = sparse
                if off_grid:  # (a kept atom off the points: a category of its own, its count the step histogram's)
                    pairs = sorted([*zip(cats, counts), *((int(a), c) for a, c in off_grid.items())])
                    cats, counts = [k for k, _ in pairs], np.array([c for _, c in pairs], dtype=float)
                floors.append(needs)
                ledger.notes.append(f"column '{col.name}': its values counted one by one on its DP range stand out as "
                                    f"{len(cats)} value(s) (a code); the values off them, at most about "
                                    f"{SPARSE_LEFT:.0%} of its values by a noisy count, are written as missing")
                code = replace(res, codes=tuple(cats), counts=counts, sigma=sigma_p, edges=None, count_sigmas=None)
                updates[col.name], detail[col.name], ow = _as_code(
                    code, MECH_NUMBER + "; its values counted one by one on its range (a code)", spent[col.name], loc.rounds)
                if oneways is not None:
                    oneways[col.name] = ow
                continue
            if (col.name not in times and col.type == "integer" and points
                    and (col.name in small_ints or col.name in stepped_whole or unit > 1)):
                upd = {"type": "categorical", "categories": points, "min": None, "max": None, "missing": res.missing,
                       "transform": "none"}  # (a few whole values: categories, as a small code's)
            else:
                if step is not None:
                    upd["step"] = step
                if atoms:  # (with any declared by hand: public)
                    upd["atoms"] = sorted({*atoms, *(col.atoms or [])})
            detail[col.name] = {"mechanism": MECH_NUMBER + ("; its unit from a noisy count of the values on each "
                                                            "candidate unit, and the atoms of its fullest cells from "
                                                            "a noisy count of their roundest values" if rho_step else ""),
                                "rho": spent[col.name], "rounds": loc.rounds,
                                **({"rho_step": rho_step} if rho_step and spent[col.name] > res.rho else {}),
                                **{k: v for k, v in upd.items() if v is not None}}
            if oneways is not None:
                ow = _numeric_oneway({**col.model_dump(), **upd}, res)
                if ow is not None:
                    oneways[col.name] = ow
        else:
            sigma = gaussian_sigma(rho_each)
            n_missing = int(s.isna().sum())
            if col.type == "boolean":
                cats = col.categories or [False, True]
                keys = boolean_keys(s.dropna())  # 'true'/'FALSE' text too: the type decision counted it as boolean
                counts = np.array([float((keys == category_key(c)).sum()) for c in cats] + [float(n_missing)])
                noisy = noisy_counts(counts, sigma, rng)
                missing = bool(noisy[-1] > PRESENCE_SIGMAS * sigma)
                if not missing:
                    miss_floors.append(PRESENCE_SIGMAS * sigma)
                upd = {"missing": missing, "categories": cats}
                if oneways is not None:
                    kept = noisy if missing else noisy[:-1]
                    oneways[col.name] = OneWay(kept, np.full(kept.size, sigma))
                detail[col.name] = {"mechanism": "noisy counts of the two values and of missing values", "rho": rho_each,
                                    "missing": missing}
            elif (fam := family_of.get(col.name)) is not None and not fam.keys:
                spent[col.name] = FAMILY_LIST_SHARE * rho_each  # (the rest of its share stays with the model)
                updates[col.name] = dict(OMITTED)
                detail[col.name] = {"mechanism": "its family's pooled category list", "rho": spent[col.name],
                                    "family": fam.stem, "family_columns": fam.size, "released": 0}
                ledger.notes.append(
                    f"column '{col.name}': no category of its family ('{fam.stem}', {fam.size} columns, released "
                    "together) is frequent enough to release with DP at this budget; the synthetic column is empty "
                    "(declare its categories public, or give more budget)")
                continue
            else:
                own = rho_each * (1 - FAMILY_LIST_SHARE) if fam is not None else rho_each
                upd = release_categories(col, s, own, delta_cat, fam)
                if upd is None:
                    updates[col.name] = dict(OMITTED)
                    ledger.notes.append(
                        f"column '{col.name}': no category is frequent enough to release with DP at this budget; the "
                        "synthetic column is empty (declare its categories public, or give more budget)")
                    continue
        updates[col.name] = upd
    if families:
        listed = ", ".join(f"'{stem}' ({len(names)})" for stem, names in families.items())
        ledger.notes.append(
            f"column families {listed}: category columns whose names differ only in their numbers had one category "
            f"list released for the family (a histogram of all their values, noise scaled to the family's size; "
            f"{FAMILY_LIST_SHARE:.0%} of their budget), then each column's counts on that list")
    if by_family:
        ledger.notes.append(
            f"columns {by_family}: no value range stood above the noise in their own histogram; located where the average "
            "histogram of their family (number columns whose names differ only in their numbers) did, and confirmed by "
            "a second measurement of their own values")
    if text_coded:
        ledger.notes.append(
            f"columns {text_coded}: DP decided that they hold a small code of whole numbers, but text stood above the "
            f"noise beside them (at least {TEXT_CODE_SHARE:.0%} of the values): released as category lists, numbers "
            "and text alike, so that text answers are not written as missing")
    if retyped:
        ledger.notes.append(
            f"columns {retyped}: DP decided that they hold numbers, but their domain histogram found no number above "
            "the noise and text above it; their flag values (no/yes, n/y, false/true) were released as categories")
    if paired:
        ledger.notes.append(
            f"columns {paired}: neither value of a flag (no/yes, n/y, false/true, 0/1), or of a group of common words "
            "(female/male, negative/positive, race, marital status...), stood above the noise alone but the group "
            "together did, or one word did and the other words of its group stood 1 noise deviation above zero "
            "(public keys counted in the same release): kept")
    if lumped:
        shares = ", ".join(f"'{k}' ({min(v, 1.0):.0%})" for k, v in lumped.items())  # (noisy: 111% was written)
        ledger.notes.append(
            f"columns {shares}: values of categories too rare to release with DP hold rows (a DP estimate of their share, "
            f"from the released counts); they are written as the category '{OTHER_CATEGORY}' instead of missing values")
    if completed:
        ledger.notes.append(
            f"columns {completed}: DP released one value of a flag (no/yes, n/y, false/true, 0/1) and the other, "
            f"a public key counted in the same release, stood {FLAG_PARTNER_SIGMAS:g} noise deviation above zero: both kept")
    if texted and rows:
        listed = ", ".join(f"'{c}' (about {n} rows, {_share(n / rows)})" for c, n in texted.items())
        ledger.notes.append(
            f"columns {listed}: DP typed them numbers, and their cells that are no numbers (text such as '<1', '5+', "
            "'do not watch') are written as missing values; declare such a column categorical in the schema (type: "
            "categorical, public: true, with its categories) to keep its text answers")
    if clipped:
        listed = ", ".join(f"'{c}' (at least about {_share(v)})" for c, v in clipped.items())
        ledger.notes.append(
            f"columns {listed}: their DP ranges leave out that share of their values or more (a DP estimate's lower bound, "
            "the noisy rows less the noisy counts of missing values and of the range; low where values lie past the "
            "powers of two measured); the synthetic values stay inside the range, so those real values have no "
            "counterpart: at this budget the noise hides a thin tail; declare their bounds public in the schema (a data dictionary's ranges cost no budget) or give "
            "a larger epsilon")
    if made_whole:
        ledger.notes.append(
            f"columns {made_whole}: DP could not confirm whether they hold whole numbers; as their DP ranges span "
            f"{WHOLE_WIDTH:.0f} units or more ({WHOLE_AGE_WIDTH:.0f} for an age in years), they are written as whole numbers "
            f"(rounding moves a value by at most 1% of its range, or 3% of it on a log scale from {WHOLE_LOG_LOW:g} up, or "
            "half a year of an age). To keep decimals, declare the type: take 'type' out of the column's read_from_data (type: "
            "continuous) or set public: true with public bounds")
    miss_floor = [round(min(miss_floors)), round(max(miss_floors))] if miss_floors and rows else None
    range_floor = [round(min(range_floors)), round(max(range_floors))] if range_floors and rows else None
    if miss_floor:
        ledger.notes.append(
            f"missing values: at this budget a column needs about {_span(*miss_floor)} of them "
            f"({_span(_share(miss_floor[0] / rows), _share(miss_floor[1] / rows))} of about {round(rows)} rows) for DP to confirm "
            "that it has any; a column written without missing values may have held up to that many (declare "
            "missing: true in the schema where the data dictionary says a value may be absent)")
    floor = None
    if floors and rows:
        floor = [round(min(floors)), round(max(floors))]
        held = "rows" if present.own else "patients' rows (a child table's values are counted on one random row of each patient)"
        ledger.notes.append(
            f"category lists: at this budget a category (or a small code's value) needs about {_span(*floor)} {held} "
            f"({_span(_share(floor[0] / rows), _share(floor[1] / rows))} of about {round(rows)}) to stand above the noise; rarer "
            f"values are left out of the synthetic columns (written '{OTHER_CATEGORY}' where their rows together stand out)")
    ledger.record(
        "domains of columns read from the data (ranges, category lists, whether values are missing)",
        "Gaussian noisy histograms (zCDP), budget split by need; category lists thresholded (extra delta)",
        rho=sum(spent.values()) + present.rho, delta=delta_cat * n_lists if n_lists else None, columns=[c.name for c in todo],
        per_column=detail, planned_rho=pool, locate_reserve_rho=reserve_rho,
        **({"rows_with_values": {"mechanism": "Gaussian noisy count of the rows measured (a code's keys, or a range's values, were short of "
                                              "the patients)", "rho": present.rho}} if present.rho else {}),
        reused_as_one_way_marginals=sorted(oneways) if oneways else [],
        **({"category_floor_rows": floor} if floor else {}),
        **({"missing_floor_rows": miss_floor} if miss_floor else {}),
        **({"range_floor_rows": range_floor} if range_floor else {}),
        **({"rows_noisy": round(float(rows))} if floor or miss_floor or range_floor else {}),
        **({"text_as_missing": texted} if texted else {}),
        **({"range_leaves_out": clipped} if clipped else {}),
        **({"whole_by_range": made_whole} if made_whole else {}),
    )
    cols = []
    for c in schema.columns:
        if c.name not in updates:
            cols.append(c)
            continue
        data = c.model_dump()
        data.update(updates[c.name])
        cols.append(ColumnSchema.model_validate(data))
    out = schema.model_copy(update={"columns": cols})
    if oneways is not None:  # a column that changed kind or was omitted cannot reuse its counts
        for name in list(oneways):
            c = out.column(name)
            if c.omitted or (c.type in DISCRETE_TYPES) != (oneways[name].edges is None):
                oneways.pop(name)
    _check_complete(out)
    return out


#: A number column whose cells that are no numbers (stage 1's noisy count of other text) reach this share of the rows
#: is named in the ledger and the fit's warning: yrbss's hours of TV, '<1', '5+' and 'do not watch' beside 1-4 (42% of
#: 13,583 rows), were written as missing with no word of it.
TEXT_NOTE_SHARE = 0.01
#: ... and stands this many deviations above zero (at 3 a clean 0/1 column of a 45-column table was said to write
#: 7% of its rows' text as missing: one column in twenty at that noise; yrbss's 41% stand dozens of deviations out).
TEXT_NOTE_SIGMAS = 4.0
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


def _share(x: float) -> str:
    return f"{x:.0%}" if x >= 0.1 else f"{x:.1%}"


def _span(a: object, b: object) -> str:
    """``a-b``, or ``a`` alone where the two read alike (a ledger said 'needs about 59-59 (42%-42%)')."""
    return f"{a}" if f"{a}" == f"{b}" else f"{a}-{b}"


def other_rows(rows: float, rows_sigma: float, counts: list[float], noisy_missing: float,
               sigma: float) -> tuple[float, float] | None:
    """The rows of a column's unreleased categories, estimated from DP outputs alone (post-processing): the noisy
    row count less the released categories' noisy counts and the noisy count of missing values, with its noise
    scale; None unless it stands ``PRESENCE_SIGMAS`` deviations above zero. The released counts passed a threshold,
    so they lean high and the estimate low: "(other)" appears only where DP is sure of it."""
    rest = rows - float(np.sum(counts)) - noisy_missing
    sd = math.sqrt(rows_sigma**2 + sigma**2 * (len(counts) + 1))
    return (rest, sd) if rest > PRESENCE_SIGMAS * sd else None


def _without_read_formats(schema: TableSchema, ledger: PrivacyLedger) -> TableSchema:
    """A DP fit's datetimes whose type is declared (not re-decided under DP) but whose ``format`` or ``resolution``
    ``schema infer`` read from the data: those fields are left out (values are read one by one and written as ISO
    dates, to the second), with a ledger note; one row can change what was read."""
    cols, dropped = [], []
    for c in schema.columns:
        read = {k for k in ("format", "resolution") if k in c.read_from_data and getattr(c, k) is not None}
        if c.type == "datetime" and not c.public and not c.omitted and not needs_decision(c) and read:
            cols.append(c.model_copy(update=dict.fromkeys(read)))
            dropped.append(c.name)
        else:
            cols.append(c)
    if not dropped:
        return schema
    ledger.notes.append(
        f"columns {dropped}: their type is declared, but their date format or resolution was read from the data, which a "
        "DP fit does not use: values are read one by one and written as ISO dates to the second (take format and "
        "resolution out of read_from_data, or set public: true, to declare them)")
    return schema.model_copy(update={"columns": cols})


def _canonical(key: str) -> Any:
    """A released category in its canonical spelling (a number when the key is one), never a row's own."""
    try:
        f = float(key)
    except ValueError:
        return key
    if not math.isfinite(f):
        return key
    return int(f) if f.is_integer() else f


def _with_missing(schema: TableSchema, names: set[str]) -> TableSchema:
    cols = [c.model_copy(update={"missing": True, "categories": c.categories or [False, True]}) if c.name in names else c
            for c in schema.columns]
    return schema.model_copy(update={"columns": cols})


def _check_complete(schema: TableSchema) -> None:
    bad = [c.name for c in schema.modelled if not c.has_domain]
    if bad:
        raise DataValidationError([f"column '{b}' still has no domain" for b in bad])


__all__ = ["OneWay", "complete_from_data", "plan_domain_budget", "resolve_domain"]
