"""The release of a table's column domains under DP, column by column (:class:`ColumnRelease`).

:func:`medsynth.tabular.domain.resolve_domain` plans it (the type decisions, the budget split by need, the location of
every number, the families' category lists), then hands each column to :meth:`ColumnRelease.release`: a number is
refined and written as a whole-number time, a code or a range with its unit and atoms
(:mod:`medsynth.tabular.domain_numbers`), a category column gets a thresholded noisy histogram
(:mod:`medsynth.tabular.domain_words`), and :meth:`ColumnRelease.finish` writes the ledger's notes and its record of the
spend. Everything a column's release decides reads DP outputs and public facts only (names, types, the budget).
"""


from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from medsynth.core.errors import PrivacyBudgetError
from medsynth.io.dataset_infer import year_named
from medsynth.io.schema import OTHER_CATEGORY, boolean_keys, cell_numbers, format_resolution, from_days, yyyymmdd_days
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.locate import (
    FLAG_PARTNER_SIGMAS,
    Location,
    refine,
)
from medsynth.privacy.mechanisms import (
    PRESENCE_SIGMAS,
    BoundsResult,
    category_threshold,
    gaussian_sigma,
    noisy_counts,
)
from medsynth.privacy.steps import (
    POINT_ATOM_HOLD,
    POINT_ATOM_SHARE,
    SPARSE_LEFT,
    SPARSE_POINTS,
    point_atom_cells,
)
from medsynth.tabular.domain_locate import CLIP_NOTE_SIGMAS, _left_out, _PresentRows, _range_noise
from medsynth.tabular.domain_numbers import (
    AGE_TOP,
    AGE_TOP_SIGMAS,
    MAX_LEVELS,
    PH_RANGE,
    SPARSE_SHARE,
    OneWay,
    PointAtom,
    _age_in_years,
    _as_code,
    _code_step,
    _cut_at_top,
    _ended_at_atoms,
    _epoch_days,
    _keys_held,
    _keys_on,
    _maybe_sparse,
    _numbers,
    _numeric_oneway,
    _released_point_atoms,
    _released_points,
    _released_step,
    _retyped_flag,
    _set_bounds,
    _within_calendar,
    _within_lifespan,
    _within_ph,
    _within_present,
    split_at_atoms,
    year_top,
)
from medsynth.tabular.domain_words import (
    FAMILY_LIST_SHARE,
    PUBLIC_KEY_COLUMNS,
    PUBLIC_KEYS,
    TEXT_CODE_SHARE,
    FamilyList,
    _flag_text,
    _text_beside_code,
    canonical_categories,
    family_counts,
    hand_written,
    other_rows,
    thresholded_release,
)
from medsynth.tabular.schema import (
    NUMERIC_TYPES,
    ColumnSchema,
    category_key,
    category_keys,
)
from medsynth.tabular.structure import (
    sex_named,
)

#: The update of a column about which DP released nothing: every field read from the data is cleared too
#: (bounds, categories, transform, missingness), so the released schema holds nothing of it.
OMITTED: dict[str, Any] = {"omitted": True, "min": None, "max": None, "categories": None, "transform": "none",
                           "missing": False, "resolution": None}


#: Share of a located number's stage-2 budget that measures the unit its values are recorded in
#: (:mod:`medsynth.privacy.steps`: a coinsurance rate of 0/25/50/95/100 was written as 114 values).
STEP_SHARE = 0.1


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


MECH_NUMBER = ("noisy histogram on powers of two + small whole values -1..15 (+ missing): located, re-measured "
               "while unlocated, then refined linearly (a small code's values become categories)")


#: A number column whose cells that are no numbers (stage 1's noisy count of other text) reach this share of the rows
#: is named in the ledger and the fit's warning: yrbss's hours of TV, '<1', '5+' and 'do not watch' beside 1-4 (42% of
#: 13,583 rows), were written as missing with no word of it.
TEXT_NOTE_SHARE = 0.01


#: ... and stands this many deviations above zero (at 3 a clean 0/1 column of a 45-column table was said to write
#: 7% of its rows' text as missing: one column in twenty at that noise; yrbss's 41% stand dozens of deviations out).
TEXT_NOTE_SIGMAS = 4.0


def _share(x: float) -> str:
    return f"{x:.0%}" if x >= 0.1 else f"{x:.1%}"


def _span(a: object, b: object) -> str:
    """``a-b``, or ``a`` alone where the two read alike (a ledger said 'needs about 59-59 (42%-42%)')."""
    return f"{a}" if f"{a}" == f"{b}" else f"{a}-{b}"

def _yyyymmdd_day(v: int, *, last: bool) -> str:
    """The calendar day a whole number written YYYYMMDD names, as an ISO date; where it names none, the first day after
    it (a low end: ``last`` false) or the last day before it (a high end)."""
    y, m, d = v // 10000, (v // 100) % 100, v % 100
    if not 1 <= m <= 12:
        return (f"{y + 1:04d}-01-01" if m > 12 else f"{y:04d}-01-01") if not last else (
            f"{y:04d}-12-31" if m > 12 else f"{y - 1:04d}-12-31")
    first = pd.Timestamp(year=y, month=m, day=1)
    end = (first + pd.offsets.MonthEnd(0)).day
    if 1 <= d <= end:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if d < 1:
        return first.strftime("%Y-%m-%d") if not last else (first - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    return (first + pd.offsets.MonthBegin(1)).strftime("%Y-%m-%d") if not last else f"{y:04d}-{m:02d}-{end:02d}"


def _as_yyyymmdd(col: ColumnSchema, res: BoundsResult) -> dict[str, Any] | None:
    """The schema update of a number column DP typed (its type read from the data) whose DP range lies among dates
    written YYYYMMDD (:data:`~medsynth.io.schema.YYYYMMDD_RANGE`): a date of format ``%Y%m%d`` on that range, else None.
    Post-processing of DP outputs and a public convention: breaches' report and incident days, whole numbers 20140123
    and 20140630, came out 85-97% no calendar day at epsilon 1 and 10 (a data scientist)."""
    from medsynth.io.schema import YYYYMMDD_RANGE

    lo, hi = YYYYMMDD_RANGE
    if col.type != "integer" or "type" not in col.read_from_data or res.codes is not None:
        return None
    if not (lo <= res.low and res.high <= hi + 1):
        return None
    # (the range holds the whole numbers of [low, high): DP ranges are unions of half-open cells)
    low = _yyyymmdd_day(int(np.ceil(res.low)), last=False)
    high = _yyyymmdd_day(int(np.ceil(res.high - 1e-9)) - 1, last=True)
    if not low <= high:
        return None
    return {"type": "datetime", "format": "%Y%m%d", "min": low, "max": high, "transform": "none", "step": None,
            "atoms": None, "categories": None, "resolution": None}


#: A number column whose DP range lies among dates written YYYYMMDD is written as dates where the noisy count of its
#: values that are no calendar day is at most this share of its range's count plus ``PRESENCE_SIGMAS`` deviations.
YYYYMMDD_OFF_SHARE = 0.02


@dataclass(kw_only=True)
class ColumnRelease:
    """One table's column domains released under DP, as planned by :func:`~medsynth.tabular.domain.resolve_domain`.

    The plan (read-only here): the frame and the noise generator, the noisy row count and its noise (``rows``,
    ``rows_sigma``; ``other`` where they count the frame's own rows), the 1-way marginals to fill (``oneways``), the
    columns kept whole-number times (``times``), each column's rho (``share``) and stage-1 share of it (``first``), the
    numbers' locations (``located``, ``tentative``, ``present``), the category lists' count and delta (``n_cat``,
    ``delta_cat``), the families' released lists (``families``, ``family_of``), and what the type decision left
    (``small_ints``, ``text_codes``, ``undecided``, ``unsure_kind``). What it fills: ``updates`` (each column's schema
    update), ``detail`` and ``spent`` (the ledger's), and what the notes say.
    """

    df: pd.DataFrame
    rng: np.random.Generator
    ledger: PrivacyLedger
    rows: float | None
    rows_sigma: float | None
    other: bool
    oneways: dict[str, OneWay] | None
    times: frozenset[str]
    share: dict[str, float]
    first: dict[str, float]
    located: dict[str, Location]
    tentative: list[str]
    present: _PresentRows
    n_cat: int
    delta_cat: float
    families: dict[str, list[str]]
    family_of: dict[str, FamilyList]
    small_ints: set[str]
    text_codes: set[str]
    undecided: list[str]
    unsure_kind: set[str]
    #: at most this much rho in all for the point atoms' counts (POINT_ATOM_TOTAL: paid from the model's)
    point_cap: float = math.inf
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)
    #: rows a value needs to stand above the noise, per category column and small code
    floors: list[float] = field(default_factory=list)
    #: missing values a column written without any may have held (3 noise deviations)
    miss_floors: list[float] = field(default_factory=list)
    #: values a number's range may leave out before the fit can tell (CLIP_NOTE_SIGMAS)
    range_floors: list[float] = field(default_factory=list)
    #: number columns whose text cells (noisy count) become missing values
    texted: dict[str, int] = field(default_factory=dict)
    #: undecided numbers written as whole numbers on their DP range's width
    made_whole: list[str] = field(default_factory=list)
    #: continuous numbers whose DP-decided unit is whole
    stepped_whole: list[str] = field(default_factory=list)
    #: number columns whose range leaves out a share of their values (DP estimate)
    clipped: dict[str, float] = field(default_factory=dict)
    #: flags of which DP released one value: the other joined
    completed: list[str] = field(default_factory=list)
    #: flags of which DP released neither value alone, but both together
    paired: list[str] = field(default_factory=list)
    #: number columns located where their family's average histogram located, confirmed
    by_family: list[str] = field(default_factory=list)
    #: ... and those given their family's run without a confirmation of their own
    family_range: list[str] = field(default_factory=list)
    #: decided numbers, released as a flag's categories (text stood above the noise)
    retyped: list[str] = field(default_factory=list)
    #: small codes released as category lists (text stood beside their keys)
    text_coded: list[str] = field(default_factory=list)
    #: columns given "(other)": the DP estimate of its share of the rows
    lumped: dict[str, float] = field(default_factory=dict)
    #: whole numbers whose DP range lies among dates written YYYYMMDD, written as dates
    dated: list[str] = field(default_factory=list)

    def categories(self, col: ColumnSchema, s: pd.Series, rho: float, delta: float,
                   family: FamilyList | None = None) -> dict[str, Any] | None:
        """A thresholded noisy histogram of the column's values (flag spellings public keys, no threshold) and its
        missing bucket: the schema update, or None when no category stands above the noise. A member of a
        ``family`` (:func:`release_family_lists`) counts its values on the family's released list instead (keys
        released already, no threshold) with ``rho``, the rest of its share."""
        sigma = gaussian_sigma(rho)
        if family is None:
            self.floors.append(category_threshold(sigma, delta))
            keys = category_keys(s.dropna()).to_numpy(dtype=str)
            released, noisy_of, noisy_missing, with_partner, grouped = thresholded_release(
                keys, int(s.isna().sum()), rho, delta, self.rng, allowed=hand_written(col),
                rate_scale=min(1.0, PUBLIC_KEY_COLUMNS / max(self.n_cat, 1)), sex=sex_named(col.name),
                unsure=col.name in self.unsure_kind)
            if with_partner:
                self.completed.append(col.name)
            if grouped:
                self.paired.append(col.name)
            entry = {"mechanism": "thresholded noisy histogram (+ missing bucket)", "rho": rho, "delta": delta}
        else:
            allowed = hand_written(col)  # (never a list read from the data: it would tell which family values it holds)
            released = [k for k in family.keys if allowed is None or k in allowed or k in PUBLIC_KEYS]
            # (every family value stays the member's: its own noisy counts of a value it does not hold are near zero
            # in its marginal; dropping values whose own count stood under 1 deviation lost a real value in most of
            # 300-row items, 32 of 72 kept all three)
            noisy_of, noisy_missing = family_counts(s, released, sigma, self.rng)
            entry = {"mechanism": "noisy counts on its family's category list (+ missing bucket)",
                     "rho": rho / (1 - FAMILY_LIST_SHARE), "rho_family_list": rho / (1 - FAMILY_LIST_SHARE) - rho,
                     "family": family.stem, "family_columns": family.size}
        missing = bool(noisy_missing > PRESENCE_SIGMAS * sigma) or (
            family is not None and family.missing and noisy_missing > 0)
        if not missing:
            self.miss_floors.append(PRESENCE_SIGMAS * sigma)
        self.detail[col.name] = {**entry, "released": len(released), "missing": missing}
        # a column none of whose values stands out alone is "(other)" where its rows together do (who's country, iso2 and
        # iso3, 219 values of 33 rows each and never missing, were written all blank), else it is left empty
        cats = canonical_categories(released)
        upd: dict[str, Any] = {"missing": missing, "categories": cats}
        if released and set(released) <= {"False", "True"}:  # booleans' keys (public): written back as booleans
            cats = [False, True]
            upd = {"type": "boolean", "missing": missing, "categories": cats}
        counts = [noisy_of[category_key(c)] for c in cats]
        sigmas = [sigma] * len(counts)
        # (a column the noise decided was text, numbers and text within 3 deviations, is no lump of rare values where
        # none stood out: mgus1's age and creat, 223 rows at epsilon 1, came out '(other)' in every row; left empty)
        rest = other_rows(float(self.rows), self.rows_sigma, counts, noisy_missing, sigma) if (
            self.other and self.rows is not None and self.rows_sigma is not None and upd.get("type") != "boolean"
            and OTHER_CATEGORY not in cats and (released or col.name not in self.unsure_kind)) else None  # (a table that holds
        # "(other)" itself: already the lump)
        if rest is None and not released:
            return None
        if rest is not None:
            cats = [*cats, OTHER_CATEGORY]
            upd["categories"] = cats
            counts.append(rest[0])
            sigmas.append(rest[1])
            self.lumped[col.name] = rest[0] / max(float(self.rows), 1.0)  # type: ignore[arg-type]
            self.detail[col.name]["other"] = True
        if self.oneways is not None:
            counts += [noisy_missing] if missing else []
            sigmas += [sigma] if missing else []
            self.oneways[col.name] = OneWay(np.array(counts, dtype=float), np.array(sigmas, dtype=float))
        return upd

    def release(self, col: ColumnSchema) -> None:
        """Release one column's domain: its schema update (:attr:`updates`), ledger detail, spend, and where it is
        reused its 1-way marginal."""
        s = self.df[col.name]
        rho_each = self.share[col.name]
        self.spent[col.name] = rho_each
        upd = self._number(col, s, rho_each) if col.type in NUMERIC_TYPES else self._listed(col, s, rho_each)
        if upd is not None:
            self.updates[col.name] = upd

    def _text_code(self, col: ColumnSchema, s: pd.Series, loc: Location, rho_each: float) -> None:
        """DP decided numbers, a small code, but text stands beside its keys in the same histogram: the text answers
        would be written as missing (yrbss: 41% of hours of TV). The rest of its share releases the column's category
        list, numbers and text alike."""
        rest = rho_each * (1 - self.first[col.name])
        self.spent[col.name] = loc.rho + rest
        as_cat = col.model_copy(update={"type": "categorical", "min": None, "max": None, "categories": None,
                                        "transform": "none", "step": None, "atoms": None})
        upd = self.categories(as_cat, s, rest, self.delta_cat)
        if upd is None:
            self.updates[col.name] = dict(OMITTED)
            self.ledger.notes.append(f"column '{col.name}': its text answers stood out beside its numbers, but no "
                                     "value is frequent enough to release with DP at this budget; the synthetic "
                                     "column is empty (declare its categories public, or give more budget)")
            return
        self.detail[col.name] = {**self.detail.get(col.name, {}), "mechanism": MECH_NUMBER + "; text stood above the "
                                 "noise beside its keys: released as a category list", "rho": self.spent[col.name]}
        self.updates[col.name] = {"type": "categorical", "min": None, "max": None, "transform": "none",
                                  "step": None, "atoms": None, **upd}
        self.text_coded.append(col.name)

    def _retyped(self, col: ColumnSchema, s: pd.Series, loc: Location, rho_each: float) -> bool:
        """DP decided numbers, but no number stands above the noise and a flag's text does (the same histogram): a
        yes/no column of a small, wide table whose type the noise got wrong. The rest of its share measures the flag's
        two values (public keys, no delta); a type written by hand is kept (the caller's test). Whether it was released
        (or omitted) so."""
        rest = rho_each * (1 - self.first[col.name])
        got = _retyped_flag(col, s, loc, rest, self.rng)
        if got is False:
            self.spent[col.name] = loc.rho + rest
            self.updates[col.name] = dict(OMITTED)
            self.ledger.notes.append(
                f"column '{col.name}': no value range stands above the DP noise at this budget, and the flag text "
                "its first measurement showed was not confirmed by a second; the synthetic column is empty "
                "(declare its bounds public, or give more budget)")
            self.detail[col.name] = {"mechanism": MECH_NUMBER + "; a flag pair's text bucket stood above the noise but "
                                     "its two values' measurement did not confirm it", "rho": self.spent[col.name],
                                     "rounds": loc.rounds, "omitted": True}
            return True
        if got is not None:
            self.spent[col.name] = loc.rho + rest
            self.updates[col.name], ow = got
            if self.oneways is not None:
                self.oneways[col.name] = ow
            self.detail[col.name] = {"mechanism": MECH_NUMBER + "; a flag pair's text bucket stood above the "
                                     "noise: its two values and missing ones measured", "rho": self.spent[col.name],
                                     "categories": self.updates[col.name]["categories"]}
            self.retyped.append(col.name)
            return True
        return False

    def _number(self, col: ColumnSchema, s: pd.Series, rho_each: float) -> dict[str, Any] | None:
        """A number column's release: located, refined, and written as a whole-number time, a code or a range (with
        its unit and atoms); its schema update, or None where it set one itself."""
        loc = self.located[col.name]
        if col.name in self.text_codes and loc.kind == "code" and _text_beside_code(loc):
            self._text_code(col, s, loc, rho_each)
            return None
        if (loc.kind == "unlocated" and _flag_text(loc) is not None and "type" in col.read_from_data
                and self._retyped(col, s, loc, rho_each)):
            return None
        rest = rho_each * (1 - self.first[col.name])
        rho_step = STEP_SHARE * rest if (loc.kind == "number" and col.type in ("integer", "continuous")
                                         and col.step is None and (col.name not in self.times or col.type == "continuous")) else 0.0
        try:
            res = refine(loc, rest - rho_step, self.rng, time=col.name in self.times, columns=len(self.located),
                             whole=col.type == "integer", tail=col.type == "integer" and col.name not in self.times)
        except PrivacyBudgetError as err:
            self.spent[col.name] = getattr(err, "rho_spent", loc.rho)  # stage 2 was spent where it refused a tentative block
            self.updates[col.name] = dict(OMITTED)
            self.ledger.notes.append(f"column '{col.name}': no value range stands above the DP noise at this budget "
                                     f"({loc.rounds} measurement(s) to locate it, rho {self.spent[col.name]:.3g} in all); the synthetic column is "
                                     "empty (declare its bounds public, or give more budget)")
            self.detail[col.name] = {"mechanism": MECH_NUMBER, "rho": self.spent[col.name], "rounds": loc.rounds, "omitted": True}
            return None
        self.spent[col.name] = res.rho
        if not res.missing and res.sigma_missing > 0:
            self.miss_floors.append(PRESENCE_SIGMAS * float(res.sigma_missing))
        other_text = float(loc.text_noisy[-1]) if loc.text_noisy.size else 0.0  # (stage 1's bucket of other text)
        if self.rows and other_text > TEXT_NOTE_SIGMAS * loc.sigma and other_text >= TEXT_NOTE_SHARE * self.rows:
            self.texted[col.name] = round(other_text)
        # (a time's code is written as the whole range between its ends: its keys' counts hold all of its values where
        # they run on without a gap; Milk's weeks 1-19 came out 1-10, 41% of the rows left out, and nothing said)
        consecutive = res.codes is not None and len(res.codes) == int(res.codes[-1]) - int(res.codes[0]) + 1
        left_out = (_left_out(res, self.rows, self.rows_sigma)
                    if res.codes is None or col.name not in self.times or consecutive else None)
        if left_out is not None and not self.present.own:  # (rows count the patients, an upper bound of a child table's
            # one row per patient with rows: nothing is said below it, and above it the rows are counted; a data
            # scientist's rwm visits wrote doctor visits 0-121 as a code 0-11, 6% of the values out, and said nothing)
            left_out = _left_out(res, *self.present.counted())
        if left_out is not None:
            self.clipped[col.name] = left_out
        noise = _range_noise(res, self.rows, self.rows_sigma) if self.present.own and res.codes is None else None
        if noise is not None:  # what a range may leave out unseen (a data scientist: ais's weights cut to 64-80, half
            # the values out, Pima's ages to 16-29, and the fit said nothing: the note cannot tell under this noise)
            self.range_floors.append(CLIP_NOTE_SIGMAS * noise[1])
        if loc.by_family:
            (self.family_range if loc.unconfirmed else self.by_family).append(col.name)
        if col.name in self.tentative:
            self.ledger.notes.append(f"column '{col.name}': no block of its values stood above the noise alone; located where "
                                     "they stand out most, as most rows hold a value, and confirmed by a second measurement "
                                     "(a coarse range)")
        if res.codes is not None and col.name in self.times and len(res.codes) >= 2:  # a time: whole numbers
            upd = {"type": "integer", "categories": None, "min": int(res.codes[0]), "max": int(res.codes[-1]),
                   "missing": res.missing, "transform": "none"}
            if len(res.codes) < int(res.codes[-1]) - int(res.codes[0]) + 1:  # a schedule (weeks 0, 2, 4, 6, 11):
                upd["atoms"] = [int(k) for k in res.codes]  # its released keys are the times rows are written at
            self.detail[col.name] = {"mechanism": MECH_NUMBER, "rho": res.rho, "rounds": loc.rounds,
                                     "min": upd["min"], "max": upd["max"], "missing": res.missing}
            self.updates[col.name] = upd
            return None
        if res.codes is not None:  # a small code: its values are categories
            self.floors.append(PRESENCE_SIGMAS * float(res.sigma))  # (a value beside the run's; a lone one needs more)
            res, dropped = _within_calendar(col.name, res)
            if year_named(col.name) and res.codes is not None and res.counts is not None:  # no year after the fit's
                # where its count is within the noise (as a range's cells: a reviewer)
                late = [k >= year_top() and float(c) <= AGE_TOP_SIGMAS * float(res.sigma)
                        for k, c in zip(res.codes, res.counts, strict=True)]
                keep = [i for i, x in enumerate(late) if not x]
                if keep and len(keep) < len(res.codes):
                    self.ledger.notes.append(f"column '{col.name}': code(s) {[int(k) for k, x in zip(res.codes, late, strict=True) if x]} "
                                             "after the year of the fit left out (a calendar year by its name; within the noise)")
                    res = replace(res, codes=tuple(res.codes[i] for i in keep),
                                  counts=np.asarray(res.counts, dtype=float)[keep])
            if dropped:
                self.ledger.notes.append(f"column '{col.name}': code(s) {dropped} left out: outside the values its name "
                                         "allows (a calendar's), lifted by the noise")
            # the keys on a unit only: a declared one (public), or one their released counts say
            res = _keys_on(res, col.step if col.step is not None else _code_step(res))
            res, unheld = _keys_held(res)
            if unheld:
                self.ledger.notes.append(f"column '{col.name}': code(s) {[float(k) if k % 1 else int(k) for k in unheld]} "
                                         "left out: their noisy counts stood below zero (values few or no rows hold: a "
                                         "rare real value is lost so, as a rare category is)")
            self.updates[col.name], self.detail[col.name], ow = _as_code(res, MECH_NUMBER, res.rho, loc.rounds)
            if self.oneways is not None:
                self.oneways[col.name] = ow
            return None
        return self._range(col, s, loc, res, rest, rho_step)

    def _range(self, col: ColumnSchema, s: pd.Series, loc: Location, res: BoundsResult, rest: float,
               rho_step: float) -> dict[str, Any] | None:
        """A located number written as a range: cut at its name's top, made whole where its width or unit says so, its
        unit and atoms measured (``rho_step``), and a code written as large whole numbers counted one by one."""
        res, cut = _within_lifespan(col.name, res)
        if cut:
            self.ledger.notes.append(f"column '{col.name}': its DP range stops at {AGE_TOP:g} (an age in years by its "
                                     "name; no mass above it stood out of the noise)")
        res, cut = _within_ph(col.name, res)
        if cut:
            self.ledger.notes.append(f"column '{col.name}': its DP range stays within a pH's {PH_RANGE[0]:g}-{PH_RANGE[1]:g} "
                                     "(a pH by its name; no mass beyond stood out of the noise)")
        res, cut = _within_present(col.name, res)
        if cut:
            self.ledger.notes.append(f"column '{col.name}': its DP range stops at the year of the fit, {res.high - 1:g} (a "
                                     "calendar year by its name; no mass above it stood out of the noise)")
        dated = _as_yyyymmdd(col, res) if rho_step > 0 else None
        if dated is not None:  # whole numbers whose DP range lies among dates written YYYYMMDD: the unit's share of
            # the budget counts the values that are no calendar day (a reviewer: eight-digit codes and amounts there
            # were made dates on their range alone, their values lost); dates where that count is within the noise
            sigma = gaussian_sigma(rho_step)
            x = cell_numbers(s).to_numpy(dtype=float, na_value=np.nan)
            x = x[np.isfinite(x)]
            off = float(noisy_counts(np.array([float(np.isnan(yyyymmdd_days(x)).sum())]), sigma, self.rng)[0])
            self.spent[col.name] = res.rho + rho_step
            held = float(res.range_count) if res.range_count is not None else 0.0
            if off <= YYYYMMDD_OFF_SHARE * max(held, 0.0) + PRESENCE_SIGMAS * sigma:
                self.detail[col.name] = {"mechanism": MECH_NUMBER + "; its DP range lies among dates written YYYYMMDD "
                                         "and a noisy count of its values that are no calendar day is within the noise: "
                                         "written as dates", "rho": self.spent[col.name], "rho_step": rho_step,
                                         "rounds": loc.rounds, "min": dated["min"], "max": dated["max"],
                                         "missing": res.missing}
                self.dated.append(col.name)
                return {**dated, "missing": res.missing}
            rho_step = 0.0  # (spent on the count: no unit measured)
        if col.type == "datetime":  # dates likewise stop at the end of the fit's year (epa2021's release dates of
            # 2020-2021 were written to 2024-2026 in 3 fits of 3 at epsilon 1: a data scientist)
            res, cut = _cut_at_top(res, _epoch_days(year_top()))
            if cut:
                self.ledger.notes.append(f"column '{col.name}': its DP date range stops at the end of the fit's year, "
                                         f"{int(year_top()) - 1} (no mass after it stood out of the noise)")
        if (col.name in self.undecided and col.type == "continuous" and (not res.log_scale or res.low >= WHOLE_LOG_LOW)
                and res.high - res.low >= (WHOLE_AGE_WIDTH if _age_in_years(col.name) else WHOLE_WIDTH)):
            col = col.model_copy(update={"type": "integer"})  # see WHOLE_WIDTH (post-processing of DP outputs)
            self.made_whole.append(col.name)
        step, atoms, atom_counts = None, [], {}
        if rho_step:
            whole = col.type == "integer" or col.name in self.made_whole
            step, atoms = _released_step(s, res.low, res.high, whole, rho_step, self.rng, res, atom_counts)
            self.spent[col.name] = res.rho + rho_step
            if (step is not None and not whole and float(step).is_integer() and not res.log_scale
                    and "type" in col.read_from_data):  # (a type written by hand stays)
                # the values sit on a unit of whole numbers: whole numbers (a 0/1 flag whose whole-or-not count
                # the noise hid was written with 230 fractional values up to 1.997); post-processing of DP outputs
                col = col.model_copy(update={"type": "integer"})
                self.stepped_whole.append(col.name)
        upd = _set_bounds(col, res.low, res.high, half_open=True)
        upd["missing"] = res.missing
        if col.name in self.made_whole or col.name in self.stepped_whole:
            upd["type"] = "integer"
        upd["transform"] = "log" if res.log_scale and col.type != "datetime" else "none"
        declared = col.step if col.step is not None and float(col.step).is_integer() else None
        unit = int(step if step is not None else declared or 1) if col.type == "integer" else 1
        lowest = -(-int(upd["min"]) // unit) * unit if col.type == "integer" else 0
        n_points = (int(upd["max"]) - lowest) // unit + 1 if col.type == "integer" else 0
        points = list(range(lowest, int(upd["max"]) + 1, unit)) if 0 < n_points <= MAX_LEVELS else []
        sparse = None
        if (col.name not in self.times and col.type == "integer" and MAX_LEVELS < n_points <= SPARSE_POINTS
                and not res.log_scale and res.range_count is not None and _maybe_sparse(res, unit)):
            rho_sparse = SPARSE_SHARE * rest
            self.spent[col.name] += rho_sparse
            off_grid = {a: c for a, c in atom_counts.items() if (a - lowest) % unit}  # (kept atoms off the points)
            sparse = _released_points(s, lowest, int(upd["max"]), unit, rho_sparse, res, self.rng, off_grid)
        if sparse is not None:  # a code recorded as large whole numbers: its values are categories
            cats, counts, sigma_p, needs = sparse
            if off_grid:  # (a kept atom off the points: a category of its own, its count the step histogram's)
                pairs = sorted([*zip(cats, counts), *((int(a), c) for a, c in off_grid.items())])
                cats, counts = [k for k, _ in pairs], np.array([c for _, c in pairs], dtype=float)
            self.floors.append(needs)
            self.ledger.notes.append(f"column '{col.name}': its values counted one by one on its DP range stand out as "
                                     f"{len(cats)} value(s) (a code); the values off them, at most about "
                                     f"{SPARSE_LEFT:.0%} of its values by a noisy count, are written as missing")
            code = replace(res, codes=tuple(cats), counts=counts, sigma=sigma_p, edges=None, count_sigmas=None)
            self.updates[col.name], self.detail[col.name], ow = _as_code(
                code, MECH_NUMBER + "; its values counted one by one on its range (a code)", self.spent[col.name], loc.rounds)
            if self.oneways is not None:
                self.oneways[col.name] = ow
            return None
        cells: list[tuple[int, int, int]] = []
        point_atoms: dict[float, PointAtom] = {}
        spent_point = 0.0
        if (col.name not in self.times and col.type == "integer" and points
                and (col.name in self.small_ints or col.name in self.stepped_whole or unit > 1)):
            upd = {"type": "categorical", "categories": points, "min": None, "max": None, "missing": res.missing,
                   "transform": "none"}  # (a few whole values: categories, as a small code's)
        else:
            if step is not None:
                upd["step"] = step
            days = col.type == "datetime" and (col.resolution or format_resolution(col.format)) == "day"
            cells = (point_atom_cells(res, unit, [*atoms, *col.atom_numbers()])
                     if col.name not in self.times and (col.type == "integer" or days) and rest > 0 else [])
            rho_point = POINT_ATOM_SHARE * rest
            if cells and rho_point <= self.point_cap:  # (the fullest cells without a round atom, counted value by
                self.point_cap -= rho_point             # value: see POINT_ATOM_SHARE; within the cap, in table order)
                self.spent[col.name] += rho_point
                spent_point = rho_point
                point_atoms = _released_point_atoms(_numbers(col, s), res, cells, unit, rho_point, self.rng)
                atoms = [*atoms, *point_atoms]
                if point_atoms:
                    said = [from_days(a) if days else int(a) for a in point_atoms]
                    self.ledger.notes.append(
                        f"column '{col.name}': value(s) {said} each hold at least {POINT_ATOM_HOLD:.0%} of their cell of "
                        "its DP range by a noisy count of its values one by one: written as themselves (atoms), the rest "
                        "of the cell spread")
                    res, ends = _ended_at_atoms(res, point_atoms)
                    if ends:  # (post-processing: the same noisy counts)
                        upd.update(_set_bounds(col, res.low, res.high, half_open=True))
                        if days:  # (whole days: [low, high) ends on the day before high)
                            upd["max"] = from_days(res.high - 1)
                        self.ledger.notes.append(
                            f"column '{col.name}': its DP range ends at its atom ({', '.join(ends)}): no value beyond it "
                            "stood out of the noise (a study's end of follow-up, a first extraction day)")
            if atoms and col.type == "datetime":  # (a date column's atoms are dates)
                upd["atoms"] = sorted({from_days(a) for a in [*atoms, *col.atom_numbers()]})
            elif atoms:  # (with any declared by hand: public)
                upd["atoms"] = sorted({*atoms, *(col.atoms or [])})
        self.detail[col.name] = {"mechanism": MECH_NUMBER + ("; its unit from a noisy count of the values on each "
                                                             "candidate unit, and the atoms of its fullest cells from "
                                                             "a noisy count of their roundest values" if rho_step else ""),
                                 "rho": self.spent[col.name], "rounds": loc.rounds,
                                 **({"rho_step": rho_step} if rho_step and self.spent[col.name] > res.rho else {}),
                                 **({"rho_point": spent_point, "point_count": "the values of its fullest cells denser "
                                     "than their neighbours, counted one by one (atoms where one holds half its cell)"}
                                    if spent_point else {}),
                                 **{k: v for k, v in upd.items() if v is not None}}
        if self.oneways is not None:
            ow = _numeric_oneway({**col.model_dump(), **upd}, res)
            if ow is not None:
                self.oneways[col.name] = split_at_atoms(ow, point_atoms) if point_atoms else ow
        return upd

    def _listed(self, col: ColumnSchema, s: pd.Series, rho_each: float) -> dict[str, Any] | None:
        """A boolean's or a category column's release (alone, or on its family's list)."""
        sigma = gaussian_sigma(rho_each)
        n_missing = int(s.isna().sum())
        if col.type == "boolean":
            cats = col.categories or [False, True]
            keys = boolean_keys(s.dropna())  # 'true'/'FALSE' text too: the type decision counted it as boolean
            counts = np.array([float((keys == category_key(c)).sum()) for c in cats] + [float(n_missing)])
            noisy = noisy_counts(counts, sigma, self.rng)
            missing = bool(noisy[-1] > PRESENCE_SIGMAS * sigma)
            if not missing:
                self.miss_floors.append(PRESENCE_SIGMAS * sigma)
            upd = {"missing": missing, "categories": cats}
            if self.oneways is not None:
                kept = noisy if missing else noisy[:-1]
                self.oneways[col.name] = OneWay(kept, np.full(kept.size, sigma))
            self.detail[col.name] = {"mechanism": "noisy counts of the two values and of missing values", "rho": rho_each,
                                     "missing": missing}
        elif (fam := self.family_of.get(col.name)) is not None and not fam.keys:
            self.spent[col.name] = FAMILY_LIST_SHARE * rho_each  # (the rest of its share stays with the model)
            self.updates[col.name] = dict(OMITTED)
            self.detail[col.name] = {"mechanism": "its family's pooled category list", "rho": self.spent[col.name],
                                     "family": fam.stem, "family_columns": fam.size, "released": 0}
            self.ledger.notes.append(
                f"column '{col.name}': no category of its family ('{fam.stem}', {fam.size} columns, released "
                "together) is frequent enough to release with DP at this budget; the synthetic column is empty "
                "(declare its categories public, or give more budget)")
            return None
        else:
            own = rho_each * (1 - FAMILY_LIST_SHARE) if fam is not None else rho_each
            upd = self.categories(col, s, own, self.delta_cat, fam)
            if upd is None:
                self.updates[col.name] = dict(OMITTED)
                self.ledger.notes.append(
                    f"column '{col.name}': no category is frequent enough to release with DP at this budget; the "
                    "synthetic column is empty (declare its categories public, or give more budget)")
                return None
        return upd

    def finish(self, todo: list[ColumnSchema], pool: float, reserve_rho: float, n_lists: int) -> None:
        """The ledger's notes on what the release kept, merged and left out, and its record of the spend."""
        if self.families:
            listed = ", ".join(f"'{stem}' ({len(names)})" for stem, names in self.families.items())
            self.ledger.notes.append(
                f"column families {listed}: category columns whose names differ only in their numbers had one category "
                f"list released for the family (a histogram of all their values, noise scaled to the family's size; "
                f"{FAMILY_LIST_SHARE:.0%} of their budget), then each column's counts on that list")
        if self.by_family:
            self.ledger.notes.append(
                f"columns {self.by_family}: no value range stood above the noise in their own histogram; located where the average "
                "histogram of their family (number columns whose names differ only in their numbers) did, and confirmed by "
                "a second measurement of their own values")
        if self.family_range:
            self.ledger.notes.append(
                f"columns {self.family_range}: no value range stood above the noise in their own histogram, nor did a "
                "second measurement confirm one: DP counts say they hold values, so they take the range where the average "
                "histogram of their family (number columns whose names differ only in their numbers) stands out, a "
                "coarse range; compare them with what you know (or declare their bounds public)")
        if self.text_coded:
            self.ledger.notes.append(
                f"columns {self.text_coded}: DP decided that they hold a small code of whole numbers, but text stood above the "
                f"noise beside them (at least {TEXT_CODE_SHARE:.0%} of the values): released as category lists, numbers "
                "and text alike, so that text answers are not written as missing")
        if self.retyped:
            self.ledger.notes.append(
                f"columns {self.retyped}: DP decided that they hold numbers, but their domain histogram found no number above "
                "the noise and text above it; their flag values (no/yes, n/y, false/true) were released as categories")
        if self.paired:
            self.ledger.notes.append(
                f"columns {self.paired}: neither value of a flag (no/yes, n/y, false/true, 0/1), or of a group of common words "
                "(female/male, negative/positive, race, marital status...), stood above the noise alone but the group "
                "together did, or one word did and the other words of its group stood 1 noise deviation above zero "
                "(public keys counted in the same release): kept")
        if self.lumped:
            shares = ", ".join(f"'{k}' ({min(v, 1.0):.0%})" for k, v in self.lumped.items())  # (noisy: 111% was written)
            self.ledger.notes.append(
                f"columns {shares}: values of categories too rare to release with DP hold rows (a DP estimate of their share, "
                f"from the released counts); they are written as the category '{OTHER_CATEGORY}' instead of missing values")
        if self.completed:
            self.ledger.notes.append(
                f"columns {self.completed}: DP released one value of a flag (no/yes, n/y, false/true, 0/1) and the other, "
                f"a public key counted in the same release, stood {FLAG_PARTNER_SIGMAS:g} noise deviation above zero: both kept")
        if self.texted and self.rows:
            listed = ", ".join(f"'{c}' (about {n} rows, {_share(n / self.rows)})" for c, n in self.texted.items())
            self.ledger.notes.append(
                f"columns {listed}: DP typed them numbers, and their cells that are no numbers (text such as '<1', '5+', "
                "'do not watch') are written as missing values; declare such a column categorical in the schema (type: "
                "categorical, public: true, with its categories) to keep its text answers")
        if self.clipped:
            listed = ", ".join(f"'{c}' (at least about {_share(v)})" for c, v in self.clipped.items())
            self.ledger.notes.append(
                f"columns {listed}: their DP ranges leave out that share of their values or more (a DP estimate's lower bound, "
                "the noisy rows less the noisy counts of missing values and of the range; low where values lie past the "
                "powers of two measured); the synthetic values stay inside the range, so those real values have no "
                "counterpart: at this budget the noise hides a thin tail; declare their bounds public in the schema (a data dictionary's ranges cost no budget) or give "
                "a larger epsilon")
        if self.made_whole:
            self.ledger.notes.append(
                f"columns {self.made_whole}: DP could not confirm whether they hold whole numbers; as their DP ranges span "
                f"{WHOLE_WIDTH:.0f} units or more ({WHOLE_AGE_WIDTH:.0f} for an age in years), they are written as whole numbers "
                f"(rounding moves a value by at most 1% of its range, or 3% of it on a log scale from {WHOLE_LOG_LOW:g} up, or "
                "half a year of an age). To keep decimals, declare the type: take 'type' out of the column's read_from_data (type: "
                "continuous) or set public: true with public bounds")
        if self.dated:
            self.ledger.notes.append(
                f"columns {self.dated}: DP typed them whole numbers, their DP ranges lie between 18000101 and 21991231 "
                "and a noisy count of their values that are no calendar day stood within the noise: read and written as "
                "dates YYYYMMDD (a value that is no calendar day is read as missing); "
                "declare the type (type: integer, taken out of read_from_data) to keep them numbers")
        miss_floor = [round(min(self.miss_floors)), round(max(self.miss_floors))] if self.miss_floors and self.rows else None
        range_floor = [round(min(self.range_floors)), round(max(self.range_floors))] if self.range_floors and self.rows else None
        if miss_floor:
            self.ledger.notes.append(
                f"missing values: at this budget a column needs about {_span(*miss_floor)} of them "
                f"({_span(_share(miss_floor[0] / self.rows), _share(miss_floor[1] / self.rows))} of about {round(self.rows)} rows) for DP to confirm "
                "that it has any; a column written without missing values may have held up to that many (declare "
                "missing: true in the schema where the data dictionary says a value may be absent)")
        floor = None
        if self.floors and self.rows:
            floor = [round(min(self.floors)), round(max(self.floors))]
            held = "rows" if self.present.own else "patients' rows (a child table's values are counted on one random row of each patient)"
            self.ledger.notes.append(
                f"category lists: at this budget a category (or a small code's value) needs about {_span(*floor)} {held} "
                f"({_span(_share(floor[0] / self.rows), _share(floor[1] / self.rows))} of about {round(self.rows)}) to stand above the noise; rarer "
                f"values are left out of the synthetic columns (written '{OTHER_CATEGORY}' where their rows together stand out)")
        self.ledger.record(
            "domains of columns read from the data (ranges, category lists, whether values are missing)",
            "Gaussian noisy histograms (zCDP), budget split by need; category lists thresholded (extra delta)",
            rho=sum(self.spent.values()) + self.present.rho, delta=self.delta_cat * n_lists if n_lists else None, columns=[c.name for c in todo],
            per_column=self.detail, planned_rho=pool, locate_reserve_rho=reserve_rho,
            **({"rows_with_values": {"mechanism": "Gaussian noisy count of the rows measured (a code's keys, or a range's values, were short of "
                                                  "the patients)", "rho": self.present.rho}} if self.present.rho else {}),
            reused_as_one_way_marginals=sorted(self.oneways) if self.oneways else [],
            **({"category_floor_rows": floor} if floor else {}),
            **({"missing_floor_rows": miss_floor} if miss_floor else {}),
            **({"range_floor_rows": range_floor} if range_floor else {}),
            **({"rows_noisy": round(float(self.rows))} if floor or miss_floor or range_floor else {}),
            **({"text_as_missing": self.texted} if self.texted else {}),
            **({"range_leaves_out": self.clipped} if self.clipped else {}),
            **({"whole_by_range": self.made_whole} if self.made_whole else {}),
        )
