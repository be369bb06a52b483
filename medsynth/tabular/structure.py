"""Deciding a column's type and date format under DP, when they were read from the data.

``schema infer`` decides types from the data: an integer column holding only whole numbers, a date column
whose every value parses with one format, an identifier whose every value is distinct. Each is a fact
about *every* row, so one row flips it (True/False plus one 'yes'; ids with one duplicate; dates plus one
'unknown'), and a released model that says "this column is integer" tells whether some patient holds a
non-integral value. A DP fit therefore decides the type of every ``public: false`` column afresh, from
noisy counts only, never starting from the type ``schema infer`` wrote (which is a function of every row):

1. every column: ``#numbers - #other values`` (one count, sensitivity 1): a number column when it is
   positive (numbers include numeric text such as ``"12"``; the rest of such a column becomes missing);
2. every column, adaptively on (1): for a number column, ``#non-whole - 0.1 * #whole`` (integer when at
   most ``3 sigma``, i.e. about 10% non-whole, and ``3 sigma`` stays under half the numbers; else
   continuous: a number is never rounded on the noise's word); for any other column, a histogram of its
   values' kinds (boolean text, dates in any of :data:`DATE_FORMATS`, other): boolean or datetime when that
   kind outnumbers the rest by :data:`KIND_MARGIN` noise deviations, else categorical (which keeps any value);
3. a date column: a histogram of the format its values parse with ("day-first and month-first both" is a
   cell of its own), the best-supported format wins; text columns and columns named like identifiers (a name
   is public) holding whole numbers or text: the count of rows holding a unique value (of distinct values, for a
   name like an identifier); an identifier when at least 75% of the values are unique (for a name like an
   identifier: when the count is not 3 sigma below that, or when its noisy distinct values stand above a tenth
   of its values and above 12: a key of groups of a few rows, such as a case-control set's ``case.id``,
   :func:`~medsynth.io.schema.group_key`; for any other name, only above 20 noisy values) and ``3 sigma`` stays
   under half of them; where the noise cannot tell,
   a name like ``id``/``*_id`` makes an identifier and any other name a column of values (never regenerated
   keys on the noise's word).

Each row adds at most 1 to each column's count (or to one cell of its histogram) in each round, so a
round's L2 sensitivity is ``sqrt(columns measured)``; the rounds share ``rho`` (:data:`ROUND_SHARES`, per
column: a round a column is not measured in is not spent; :data:`DEEP_NOISE_SHARES` where round 2 could not
decide even a complete column, so the budget goes to "numbers or text"). Integer columns become categorical when their
DP range holds at most 12 values (post-processing, free); small codes among continuous numbers are still
found as buckets of their DP domain histogram (:mod:`medsynth.privacy.locate`). The log transform is
decided from the DP range estimate (:func:`medsynth.tabular.domain.resolve_domain`).
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.dataset_infer import clock_named, date_named
from medsynth.io.schema import (
    MAX_INFERRED_LEVELS,
    RESOLUTIONS,
    ROW_INDEX_NAMES,
    ZERO_PADDED,
    _name_words,
    bool_cells,
    cell_numbers,
    code_like,
    fields_read,
    format_resolution,
    group_key,
    id_like,
    resolution_counts,
    site_code_named,
)
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.mechanisms import gaussian_sigma
from medsynth.tabular.encoding import written_format
from medsynth.tabular.schema import DATE_FORMATS, ColumnSchema, TableSchema, category_keys

#: Row-number names that are words of data too: a DP fit makes such a column an identifier only where its rows are
#: unique by a noisy count (as a column under any other name), not on its distinct values or where the noise cannot
#: tell (survival::bladder1's tumour count 'number', 1-8, was regenerated as syn-0000001 at epsilon 1 and 10, a data
#: scientist; a row number modelled as a number is only useless). nlme's Dialyzer numbers each patient's 7 visits
#: ``index``, the relation's sequence: regenerated as syn-0000001... in 3 of 3 fits at epsilon 10 (a data scientist).
DATA_WORD_INDEX_NAMES = frozenset({"number", "obs", "index"})

#: Largest share of non-whole values of an integer column (the weight of a whole number in round 2).
INTEGER_SHARE = 0.02
#: The noise (3 sigma) must stay under this share of a count for a decision taken on it.
MAJORITY = 0.5
#: Smallest share of unique values of an identifier (of a noisy count of values: a column of mostly unique values
#: that is no identifier, free text, would release no category anyway; a name like an identifier needs only that
#: its count not stand 3 noise deviations below it).
UNIQUE_SHARE = 0.75


#: Two-value vocabularies of a flag: the boolean domain written as words (public knowledge, not data). Not f/t:
#: 'f' is female in a sex column (f/m), whose release gained a noise-only 't'. R's medicaldata package writes its flags
#: '0_no'/'1_yes' (code and label): indo_rct's 24 such columns came out '(other)' for one half at epsilon 1.
FLAG_WORDS = (("no", "yes"), ("n", "y"), ("false", "true"), ("0_no", "1_yes"))


#: Every spelling of a flag value that the DP category release counts as a public key (no delta threshold).
FLAG_KEYS = tuple(dict.fromkeys([w for pair in FLAG_WORDS for word in pair for w in (word, word.capitalize(), word.upper())]
                                + ["0", "1"]))


#: Category values common in clinical and demographic tables, grouped by what they name (public knowledge, named
#: before any data, like the flag words). A DP category release counts each spelling (lower, Title, UPPER) as a public
#: key: no delta threshold, only one corrected for the number of keys. On a 300-row table at epsilon 1 a value needs
#: about 5.5 noise deviations (over 200 rows) to be released as a value read from the data, so sex, race and result
#: columns came out empty; as public keys they need about 3.9.
CATEGORY_WORDS: tuple[tuple[str, ...], ...] = (
    ("female", "male"), ("alive", "dead"), ("negative", "positive"), ("absent", "present"), ("abnormal", "normal"),
    ("white", "black", "asian", "hispanic", "other"), ("married", "single", "divorced", "widowed", "separated"),
    ("none", "mild", "moderate", "severe"), ("low", "medium", "high"), ("placebo", "control", "treatment"),
    ("inpatient", "outpatient"), ("current", "former", "never"), ("unknown", "missing"),
)


def _spellings(word: str) -> tuple[str, str, str]:
    return word, word.capitalize(), word.upper()


#: Groups of public keys, one per group of :data:`CATEGORY_WORDS` and spelling (their noisy counts may be summed).
CATEGORY_GROUPS: tuple[tuple[str, ...], ...] = tuple(tuple(_spellings(w)[i] for w in group) for group in CATEGORY_WORDS
                                                     for i in range(3))
#: One-letter sex codes as R and many exports write them (pbc's f/m: 'm', 11% of 418 rows, was lost in every fit at
#: epsilon 1 as a value read from the data): in a column named like a sex (:func:`sex_named`, public) one released alone
#: takes the other at 1 sigma (:func:`~medsynth.tabular.domain_words._group_released`); not summed as groups. Elsewhere 'f'
#: may be a database's false (t/f) or a grade: an all-'f' column gained an 'm' or a 't' from noise in 30% of draws.
LETTER_PAIRS: tuple[tuple[str, str], ...] = (("f", "m"), ("F", "M"))
#: Every spelling of :data:`CATEGORY_WORDS`, the lower-case letters of :data:`LETTER_PAIRS` and a database's t/f.
CATEGORY_KEYS: tuple[str, ...] = tuple(dict.fromkeys([*(k for g in CATEGORY_GROUPS for k in g), "f", "m", "t"]))
#: One-letter codes (M/F, B/W, D/M/S, A/D, C/T): public keys too (upper case; y/n are flags).
LETTER_KEYS: tuple[str, ...] = tuple(chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in ("N", "Y"))


def sex_named(name: object) -> bool:
    """Whether a column's name (public) says it holds a sex or gender (where 'f' released alone brings 'm')."""
    return any(w in ("sex", "gender") for w in _name_words(str(name)))


def flag_partner(value: Any) -> Any | None:
    """The other value of a flag, in the same spelling (``'No'`` -> ``'Yes'``, ``'n'`` -> ``'y'``, ``0`` -> ``1``), or
    None when ``value`` is not a flag value. Completing a DP-released category list that holds one half of a flag is
    post-processing: it reads only the released value and this public vocabulary."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value in (0, 1):
        return 1 - int(value)
    if not isinstance(value, str):
        return None
    word = value.strip()
    for a, b in FLAG_WORDS:
        for mine, other in ((a, b), (b, a)):
            if word.lower() == mine:
                if word.isupper():
                    return other.upper()
                if word[:1].isupper():
                    return other.capitalize()
                return other
    return None


def flag_vocabulary(value: Any) -> tuple[int, str] | None:
    """Which spelling of a flag ``value`` is (its pair of :data:`FLAG_WORDS` and its case; ``(-1, "")`` for 0/1), or None."""
    if flag_partner(value) is None:
        return None
    word = str(value).strip()
    if word in ("0", "1"):
        return -1, ""
    pair = next(i for i, p in enumerate(FLAG_WORDS) if word.lower() in p)
    return pair, ("upper" if word.isupper() else "title" if word[:1].isupper() else "lower")


#: The ledger access of the type decision (:func:`decide_structure`; a multi-table view prefixes its table).
STRUCTURE_ACCESS = "column types and date formats (counts of the kinds of values, never the inferred type)"


def needs_decision(col: ColumnSchema) -> bool:
    """Whether a DP fit must decide this column's type: a ``public: false`` column whose type ``schema infer`` read
    from the data (``type`` in ``read_from_data``, which ``schema infer`` always writes). A type written by hand (a
    column without ``read_from_data``, or one whose ``type`` was taken out of it) is the user's declaration: public."""
    return not col.public and not col.omitted and "type" in col.read_from_data


#: Share of a column's structure budget spent in each round (numbers or not; integer-ness or kind; format or uniqueness).
ROUND_SHARES = (0.5, 0.3, 0.2)
#: ... and where the noise is so deep that round 2 could not decide a complete column (wide, small tables at epsilon 1).
DEEP_NOISE_SHARES = (0.8, 0.1, 0.1)
#: Date formats that read the same text day-first and month-first: a value parsing with both is its own cell.
_DATE_PAIRS = tuple((a, b) for a in DATE_FORMATS for b in DATE_FORMATS
                    if a < b and a.replace("%d", "#").replace("%m", "%d").replace("#", "%m") == b)
#: Cells of the kind histogram of a column that is not numbers: boolean text, each date format, each pair, other.
KIND_CELLS = ("boolean", *DATE_FORMATS, *(f"{a} | {b}" for a, b in _DATE_PAIRS), "text")
#: A boolean or date kind must outnumber the other values by this many noise deviations (3 sigma of a difference of
#: 3 noisy cells): else the column is categorical, which keeps any values.
KIND_MARGIN = 3 * math.sqrt(3)
_DATEISH = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?Z?)?$"


@dataclass
class _Profile:
    """Exact counts of one column's present values (private: only their noisy versions leave this module)."""

    numbers: int = 0
    whole: int = 0
    others: int = 0
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(len(KIND_CELLS)))
    #: date-like values on a whole day, hour, minute, or none of these (:func:`~medsynth.io.schema.resolution_counts`)
    res: np.ndarray = field(default_factory=lambda: np.zeros(len(RESOLUTIONS)))


def _profile(s: pd.Series) -> _Profile:
    present = s.dropna()
    prof = _Profile()
    kinds = prof.kinds
    if present.empty:
        return prof
    if pd.api.types.is_bool_dtype(present):
        prof.others = len(present)
        kinds[0] = len(present)
        return prof
    if pd.api.types.is_datetime64_any_dtype(present):
        prof.others = len(present)
        prof.res = resolution_counts(present)
        # each timestamp in the cell of its own kind (a date at midnight, or a date and time): one row moved to 14:00
        # must not move the whole column's count (sensitivity 1)
        kinds[KIND_CELLS.index("%Y-%m-%d")] = prof.res[0]
        kinds[KIND_CELLS.index("%Y-%m-%d %H:%M:%S")] = prof.res[1:].sum()
        return prof
    if pd.api.types.is_numeric_dtype(present):
        x = present.to_numpy(dtype=float)
        finite = np.isfinite(x)
        prof.numbers = int(finite.sum())
        prof.whole = int((finite & (x == np.round(x))).sum())
        prof.others = len(x) - prof.numbers
        kinds[-1] = prof.others
        return prof
    # booleans apart: True == 1 and they hash alike, so counting distinct values merged them and the first row's kind
    # took every 1 with it (an adversary: one True as the first row made a site column of 1s boolean)
    cells = bool_cells(present)
    n_bool = 0 if cells is None else int(cells.sum())
    if cells is not None:
        present = present[~cells]
        if present.empty:
            prof.others = n_bool
            kinds[0] = n_bool
            return prof
    counts = present.value_counts(sort=False, dropna=True)
    vals = pd.Series(counts.index, dtype=object)
    n = counts.to_numpy(dtype=float)
    if all(t is str for t in pd.unique(vals.map(type))):  # the common case, vectorised (1M distinct strings)
        is_bool = np.zeros(len(vals), dtype=bool)
        is_stamp = np.zeros(len(vals), dtype=bool)
        text = vals.str.strip()
    else:
        is_bool = vals.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
        is_stamp = vals.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64, datetime.date))).to_numpy(dtype=bool)
        text = vals.map(lambda v: str(v).strip())
    low = text.str.lower()
    is_bool |= low.isin(["true", "false"]).to_numpy(dtype=bool) & ~is_stamp
    num = cell_numbers(text.where(~(is_bool | is_stamp), "").astype(object)).to_numpy(dtype=float, na_value=np.nan)
    # a code written with a leading zero ('0101') is text, as its reader keeps it (medsynth.io.schema.ZERO_PADDED)
    padded = text.astype(str).str.match(ZERO_PADDED.pattern).to_numpy(dtype=bool)
    is_num = np.isfinite(num) & ~is_bool & ~is_stamp & ~padded
    prof.numbers = int(n[is_num].sum())
    prof.whole = int(n[is_num & (num == np.round(np.where(is_num, num, 0)))].sum())
    prof.others = int(n[~is_num].sum()) + n_bool
    kinds[0] = n[is_bool].sum() + n_bool
    kinds[KIND_CELLS.index("%Y-%m-%d")] += n[is_stamp].sum()
    rest = ~(is_bool | is_stamp | is_num)
    cand = rest & text.str.match(_DATEISH).fillna(False).to_numpy(dtype=bool)
    cell = np.full(len(vals), len(KIND_CELLS) - 1)
    if cand.any():
        cell[cand], clock = _date_cells(pd.Series([str(x) for x in text[cand]], dtype=object))
        np.add.at(prof.res, clock, n[cand])
    np.add.at(kinds, cell[rest], n[rest])
    return prof


#: Where a date-like string's shape (digits written as 0) holds its hour, minute and second.
_CLOCK_SHAPE = re.compile(r"[ T](0{1,2}):(00)(?::(00))?")


def _format_shape(fmt: str) -> re.Pattern[str]:
    """The shape of the text a date format writes, digits written as 0 (``%d/%m/%Y`` -> ``0{1,2}/0{1,2}/0{4}``)."""
    out, i = "", 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            out += "0{4}" if fmt[i + 1] == "Y" else "0{1,2}"
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return re.compile(f"^{out}$")


_SHAPES = {f: _format_shape(f) for f in DATE_FORMATS}


def _date_cells(strings: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The kind cell of each distinct date-like string: the first format that parses it, the day/month pair's cell
    when both of a pair do, else "text"; and its clock cell (0: no time or midnight, 1: a whole hour, 2: a whole
    minute, 3: seconds). Each string is parsed only with the formats of its shape (1M distinct date-times took 17 s
    with all 13 formats on every string), and its clock digits are read at its shape's positions."""
    out = np.full(len(strings), len(KIND_CELLS) - 1)
    clock = np.zeros(len(strings), dtype=np.int64)
    shapes = strings.str.replace(r"\d", "0", regex=True).to_numpy(dtype=object)
    for shape in pd.unique(shapes):
        rows = np.flatnonzero(shapes == shape)
        group = strings.iloc[rows]
        at = _CLOCK_SHAPE.search(shape)
        if at is not None:  # hour, minute and (where written) second: nonzero digits at their places
            nonzero = [np.zeros(len(rows), dtype=bool) if at.span(k)[0] < 0 else
                       (group.str.slice(*at.span(k)) != "0" * (at.span(k)[1] - at.span(k)[0])).to_numpy()
                       for k in (1, 2, 3)]
            clock[rows] = np.where(nonzero[2], 3, np.where(nonzero[1], 2, np.where(nonzero[0], 1, 0)))
        fmts = [f for f in DATE_FORMATS if _SHAPES[f].match(shape)]
        if not fmts:
            continue
        bits = np.zeros(len(rows), dtype=np.int64)
        for k, f in enumerate(fmts):
            bits |= pd.to_datetime(group, format=f, errors="coerce").notna().to_numpy().astype(np.int64) << k
        for code in np.unique(bits):
            if code == 0:
                continue
            ok = [f for k, f in enumerate(fmts) if code >> k & 1]
            pair = next((p for p in _DATE_PAIRS if set(ok) == set(p)), None)
            out[rows[bits == code]] = KIND_CELLS.index(f"{pair[0]} | {pair[1]}") if pair else KIND_CELLS.index(ok[0])
    return out, clock


def _unique_rows(s: pd.Series) -> int:
    """Rows whose value no other row holds (adding or removing a row changes it by at most 1)."""
    counts = category_keys(s.dropna()).value_counts()
    return int((counts == 1).sum())


def _distinct_values(s: pd.Series) -> int:
    """How many values the rows hold (adding or removing a row changes it by at most 1)."""
    return int(category_keys(s.dropna()).nunique())


#: Share of a datetime's round-3 budget that measures its resolution (the rest its format), when the format has a time.
RESOLUTION_SHARE = 0.25
#: A date column's format decision gets at least enough budget for its noise to be this share of the (noisy) rows:
#: at a column's plain share of round 3 (noise ~250 on lymph_node's 515 rows at epsilon 1) the best of the 13 formats
#: was one no value parses (a date-time) in about a third of the fits, and the column came out empty ...
FORMAT_NOISE_SHARE = 0.1
#: ... taking at most this share of the fit's budget per date column (from the domains' part, as the rest of the
#: structure decision).
FORMAT_MAX_SHARE = 0.01
#: A resolution is kept where the values finer than it stand at most this share of the values at it, plus
#: ``RESOLUTION_SIGMAS`` noise deviations: a few seconds among whole minutes are written to the minute.
RESOLUTION_SLACK = 0.02
#: (At 3 deviations, 1,000 of 2,000 times with seconds beside 1,000 midnights were written as dates in 15 fits of 40;
#: at 1, a column whose finer values stand 3 deviations out is coarsened about 2% of the time, and an exact
#: resolution is found about 84% of the time: else its times are written to the second.)
RESOLUTION_SIGMAS = 1.0


def _resolution(noisy: np.ndarray, sigma: float, fmt: str) -> str | None:
    """The coarsest unit (of a noisy :func:`~medsynth.io.schema.resolution_counts`) whose values stand 3 deviations
    above zero and whose finer values stay within ``RESOLUTION_SIGMAS`` deviations of ``RESOLUTION_SLACK`` of them,
    where it is coarser than ``fmt`` writes; None where the noise cannot tell (a sparse column keeps its seconds
    rather than lose its times to noise)."""
    finest = RESOLUTIONS.index(format_resolution(fmt))
    for u in range(finest):
        at, finer = float(noisy[: u + 1].sum()), float(noisy[u + 1 :].sum())
        if at > 3 * sigma * math.sqrt(u + 1) and (
                finer - RESOLUTION_SLACK * at <= RESOLUTION_SIGMAS * sigma * math.sqrt(len(RESOLUTIONS) - u - 1)):
            return RESOLUTIONS[u]
    return None


#: A date format of a column that is a datetime on its name's word is taken from the noisy histogram only when its
#: support stands this many of its noise deviations above zero (a pure-noise pick over the 13 formats clears it about
#: 1 time in 2,000, where the argmax was a coin toss); else pandas reads the column.
FORMAT_SIGMAS = 4.0


def _date_support(noisy: np.ndarray, sigma: float) -> tuple[float, str]:
    """The best-supported date format of a noisy kind histogram: its cell plus its day/month-ambiguous cells, in
    deviations of that sum's noise (``sigma`` per cell: a format summing more cells carries more noise)."""
    best, fmt = -math.inf, DATE_FORMATS[0]
    for f in DATE_FORMATS:
        cells = [KIND_CELLS.index(f), *(KIND_CELLS.index(f"{a} | {b}") for a, b in _DATE_PAIRS if f in (a, b))]
        v = float(sum(noisy[c] for c in cells)) / (sigma * math.sqrt(len(cells)))
        if v > best:
            best, fmt = v, f
    return best, fmt


def name_family(name: str) -> str | None:
    """The family stem of a column name (its runs of digits as ``#``: ``emp12`` -> ``emp#``), or None without
    digits. Columns of one stem (weekly flags, questionnaire items, repeated labs) usually share their kind and
    domain. Reads only the name (public)."""
    stem = re.sub(r"\d+", "#", name)
    return stem if stem != name else None


#: Columns of one :func:`name_family` stem form a family when at least this many are decided or released together.
FAMILY_MIN = 4


def name_families(cols: list[ColumnSchema], types: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """The families among ``cols``: :data:`FAMILY_MIN` or more columns of one :func:`name_family` stem (of ``types``
    where given), no declared target, by stem. Depends only on names, types and the target flag."""
    groups: dict[str, list[str]] = {}
    for c in cols:
        stem = name_family(c.name) if (types is None or c.type in types) and not c.target else None
        if stem is not None:
            groups.setdefault(stem, []).append(c.name)
    return {stem: names for stem, names in groups.items() if len(names) >= FAMILY_MIN}


def _family_means(todo: list[ColumnSchema], d: np.ndarray, sigma: float) -> dict[str, float]:
    """For each column of a family (:func:`name_families`) whose own noisy numbers-minus-text count ``d`` is within 3
    noise deviations of zero: the family's mean count where the family's sum (noise ``sqrt(k) sigma``) stands 3
    deviations from zero. Post-processing of released noisy counts and public names."""
    where = {c.name: i for i, c in enumerate(todo)}
    out: dict[str, float] = {}
    for names in name_families(todo).values():
        idx = [where[n] for n in names]
        total = float(d[idx].sum())
        if abs(total) >= 3 * sigma * math.sqrt(len(idx)):
            out.update({todo[i].name: total / len(idx) for i in idx if abs(d[i]) < 3 * sigma})
    return out


def decide_structure(schema: TableSchema, df: pd.DataFrame, *, rho: float, rows: float,
                     rng: np.random.Generator, ledger: PrivacyLedger) -> tuple[TableSchema, set[str], float, list[str]]:
    """Decide the type (and date format) of every ``public: false`` column with at most ``rho`` of zCDP.

    The type ``schema infer`` wrote is never used (it is a function of every row): only noisy counts and public
    facts (the column's name) decide. Returns the schema with the decisions applied, the names of integer
    columns whose categorical-vs-integer choice is left to their DP range (``<= 12`` values: categorical),
    the rho spent (a round a column is not measured in is not spent; a number column round 2 could not decide is
    measured again in rounds 1-2 where that may decide it, so the spent rho may exceed ``rho`` by those looks),
    and the number columns whose whole-or-not count the noise could not decide (modelled as continuous here; their
    DP range may still make them whole, :func:`~medsynth.tabular.domain.resolve_domain`).
    """
    todo = [c for c in schema.columns if needs_decision(c)]
    small_ints: set[str] = set()
    if not todo:
        return schema, small_ints, 0.0, []
    per_col = rho / len(todo)
    shares = ROUND_SHARES
    if 3 * gaussian_sigma(ROUND_SHARES[1] * per_col) > MAJORITY * rows:  # rounds 2-3 could decide nothing even on a
        shares = DEEP_NOISE_SHARES  # full column: spend on what still decides, numbers or text (public facts only)
    rho_r = [share * per_col for share in shares]
    sig = [gaussian_sigma(r) for r in rho_r]  # per column and round (sensitivity 1 each)
    prof = {c.name: _profile(df[c.name]) for c in todo}
    spent = 0.0
    # round 1: numbers or not
    d = np.array([prof[c.name].numbers - prof[c.name].others for c in todo], dtype=float) + rng.normal(0, sig[0], len(todo))
    spent += rho_r[0] * len(todo)
    by_family = _family_means(todo, d, sig[0])  # a column the noise hides alone takes its family's sign (its own
    # count stays its lower bound of numbers and of present values below: a mostly missing member is not decided on it)
    # round 2: integer-ness of numbers, kind of the rest (one count, or one histogram, per column)
    decided: dict[str, dict[str, Any]] = {}
    text_count: dict[str, float] = {}  # noisy count of the other-text values of a non-number column (round 2)
    undecided_numbers: list[str] = []
    second_look: list[str] = []  # numbers whose whole-or-not counts, or kinds of values, were measured twice
    unsure_kind: list[str] = []
    unsure_format: list[str] = []
    by_name: set[str] = set()  # datetimes on their name's word (their dates did not clear the margin)
    for col, dv in zip(todo, d, strict=True):
        p = prof[col.name]
        if abs(dv) < 3 * sig[0] and col.name not in by_family:
            unsure_kind.append(col.name)
        if by_family.get(col.name, dv) > 0:
            n_hat = max(dv, 0.0)  # numbers minus the rest: a lower bound of the numbers, released
            f = (p.numbers - p.whole) - INTEGER_SHARE * p.whole + rng.normal(0, sig[1])
            s1 = sig[1]
            if 3 * s1 > MAJORITY * n_hat and 3 * s1 / math.sqrt(2) <= MAJORITY * (n_hat + 2 * sig[0]):
                # undecided, but a second look at both counts may decide (adaptive: only such columns pay for it): on
                # 1,000 rows the first look left a quarter of whole-number columns continuous (educ 5-17 written as
                # 12.16, its 5 and 8 clipped off), as the noisy count of numbers fell under the bar by noise alone
                dv2 = p.numbers - p.others + rng.normal(0, sig[0])
                f2 = (p.numbers - p.whole) - INTEGER_SHARE * p.whole + rng.normal(0, sig[1])
                spent += rho_r[0] + rho_r[1]
                dv, f, s1 = (dv + dv2) / 2, (f + f2) / 2, sig[1] / math.sqrt(2)
                d[todo.index(col)] = dv  # (round 3's present count too)
                n_hat = max(dv, 0.0)
                second_look.append(col.name)
            if 3 * s1 > MAJORITY * n_hat:  # the noise cannot tell "none" from "most": never round on its word
                undecided_numbers.append(col.name)
                decided[col.name] = {"type": "continuous"}
            elif f <= 3 * s1:
                decided[col.name] = {"type": "integer"}
                small_ints.add(col.name)
            else:
                decided[col.name] = {"type": "continuous"}
        else:
            exact = np.array([p.kinds[0], p.kinds[1:-1].sum(), p.kinds[-1]])  # boolean text, dates, other
            h = exact + rng.normal(0, sig[1], 3)
            margin = KIND_MARGIN * sig[1]  # never a boolean or a date on the noise's word
            top = int(np.argmax(h))
            if top < 2 and not h[top] > max(h[1 - top], 0.0) + h[2] + margin and margin / math.sqrt(2) < rows:
                # (only where the averaged margin is under the noisy row count: in deeper noise a second look decides
                # nothing, and twenty x/z flags of 300 rows at epsilon 0.3 paid for it with their category lists)
                # booleans or dates the largest cell, short of the margin: a second look (adaptive: only such columns
                # pay for it; the two averaged). lymph_node's diagdateb (dd-mm-yyyy, 515 rows, epsilon 1; its name ends
                # with a letter, no date word) became a category of unique dates, left empty, in 9 of 24 fits
                h = (h + exact + rng.normal(0, sig[1], 3)) / 2
                margin /= math.sqrt(2)
                spent += rho_r[1]
                second_look.append(col.name)
            if h[0] > max(h[1], 0.0) + h[2] + margin:
                decided[col.name] = {"type": "boolean", "categories": [False, True]}
            elif h[1] > max(h[0], 0.0) + h[2] + margin:
                decided[col.name] = {"type": "datetime"}
            elif date_named(col.name) and h[1] + margin > max(h[0], h[2]):
                # a name saying date or time (public) turns the burden of proof: such a text column is a datetime unless its
                # other values clearly outnumber its dates (on 300 patients at epsilon 1 the margin, ~1,500, outgrew
                # every count, and admittime, dischtime and charttime became categories of unique values, left empty)
                decided[col.name] = {"type": "datetime"}
                by_name.add(col.name)
            else:
                decided[col.name] = {"type": "categorical"}
            text_count[col.name] = max(float(h[2]), 0.0)
        spent += rho_r[1]
    # round 3: the format of a date column (a histogram of the formats its values parse with: the best-supported)
    rho_fmt = (1 - RESOLUTION_SHARE) * rho_r[2]
    need = 0.5 / (FORMAT_NOISE_SHARE * max(rows, 1.0)) ** 2  # (rows: the noisy count, a DP output)
    rho_fmt = max(rho_fmt, min(need, FORMAT_MAX_SHARE * ledger.rho_budget))
    sig_fmt, sig_res = gaussian_sigma(rho_fmt), gaussian_sigma(RESOLUTION_SHARE * rho_r[2])
    resolutions: dict[str, str | None] = {}
    for col in todo:
        if decided[col.name]["type"] == "datetime":
            spent += rho_fmt
            z, fmt = _date_support(prof[col.name].kinds + rng.normal(0, sig_fmt, len(KIND_CELLS)), sig_fmt)
            # a datetime on its name's word: a format the noise picked would read every value as missing, so below
            # FORMAT_SIGMAS each value is read on its own (io.schema.parse_dates without a format), written as ISO dates
            # (with the time where the name says one: encoding.written_format)
            decided[col.name]["format"] = fmt if z > FORMAT_SIGMAS or col.name not in by_name else None
            if decided[col.name]["format"] is None:
                unsure_format.append(col.name)
            written = decided[col.name]["format"] or written_format(col.name)
            if format_resolution(written) != "day":  # a time is written: to the second, or to the unit DP confirms
                spent += RESOLUTION_SHARE * rho_r[2]
                res = _resolution(prof[col.name].res + rng.normal(0, sig_res, len(RESOLUTIONS)), sig_res, written)
                if res is None and date_named(col.name) and not clock_named(col.name):  # the noise cannot tell: a name
                    # like a date, not a clock time, is a day (epa2021's release_date, written 'T00:00:00Z' in every real
                    # row, came out with a time of day in 97% of the synthetic rows at epsilon 1: a data scientist)
                    res = "day"
                resolutions[col.name] = res
                if res is not None:
                    decided[col.name]["resolution"] = res
    # ... or unique values (text, and whole numbers or text under a name like an identifier)
    third = [c for c in todo if decided[c.name]["type"] == "categorical"
             or (id_like(c.name) and decided[c.name]["type"] == "integer")
             or (id_like(c.name) and c.name in undecided_numbers)]
    undecided_ids: list[str] = []
    for col in third:
        spent += rho_r[2]
        ident = id_like(col.name) and not code_like(col.name)  # a code's name (visit_concept_id) is no identity
        if ident and str(col.name).lower().strip() in DATA_WORD_INDEX_NAMES:  # (see DATA_WORD_INDEX_NAMES)
            ident = False
        if ident and str(col.name).lower().strip() in ROW_INDEX_NAMES and decided[col.name]["type"] == "categorical":
            # an export's row number holds whole numbers: under such a name, text is data (Gestation's 'number' of
            # cigarettes, 'never' .. '30+', came out regenerated as syn-0000001 where the noise could not tell)
            ident = False
        # an identity's name: its distinct values (a key of groups repeats: a case and its controls); else unique rows
        u = (_distinct_values(df[col.name]) if ident else _unique_rows(df[col.name])) + rng.normal(0, sig[2])
        present = text_count.get(col.name)
        if present is None:  # a number column: numbers minus the rest (released in round 1)
            present = float(max(d[todo.index(col)], 0.0))
        if 3 * sig[2] > MAJORITY * present:
            if ident:
                decided[col.name] = {"type": "identifier"}
            elif code_like(col.name) and decided[col.name]["type"] in ("integer", "continuous"):
                decided[col.name] = {"type": "categorical"}  # codes (gender_concept_id 8507/8532: never 8519)
                small_ints.discard(col.name)
            else:
                undecided_ids.append(col.name)
        elif (u + 3 * sig[2] if ident else u) >= UNIQUE_SHARE * present and (ident or present > 20):
            decided[col.name] = {"type": "identifier"}
        elif ident and group_key(col.name, u, present, MAX_INFERRED_LEVELS):
            # groups of a few rows: as codes, thousands of values DP drops. On the noisy count itself, not 3 sigma below
            # it (review: 750 values on 3,000 rows at epsilon 1 fell back to codes in 19% of draws): either mistake
            # loses the column, a code taken for a key as a key taken for codes
            decided[col.name] = {"type": "identifier"}
        elif id_like(col.name) and decided[col.name]["type"] in ("integer", "continuous"):
            # whole numbers under a name like an id that are no identifier are codes (MIMIC's itemid: 8 lab items
            # numbered 50868..51301 came out as any integer of that range): categories, released by the DP list
            decided[col.name] = {"type": "categorical"}
            small_ints.discard(col.name)
    for col in todo:  # whole numbers under a place's name are its codes (the name is public): rhDNase's inst 1-51
        if decided[col.name]["type"] == "integer" and site_code_named(col.name):
            decided[col.name] = {"type": "categorical"}
            small_ints.discard(col.name)
    decisions = {c.name: decided[c.name]["type"] + (f" ({decided[c.name]['format']})" if decided[c.name].get("format") else "")
                 + (f", to the {decided[c.name]['resolution']}" if decided[c.name].get("resolution") else "") for c in todo}
    ledger.record(
        STRUCTURE_ACCESS,
        "Gaussian mechanism (zCDP), per column: numbers minus the rest; then non-whole numbers, or a histogram of kinds; "
        "then a histogram of date formats, or rows holding a unique value (distinct values under a name like an "
        "identifier)", rho=spent, columns=[c.name for c in todo],
        sigma={"kind": sig[0], "integer_or_kinds": sig[1], "format_or_unique": sig[2], "date_format": sig_fmt,
               "time_resolution": sig_res}, decisions=decisions, time_resolutions=resolutions,
        undecided_numbers=undecided_numbers, second_look=second_look, unsure_kind=unsure_kind, unsure_format=unsure_format,
        kind_by_family=sorted(by_family),
    )
    if by_family:
        ledger.notes.append(
            f"columns {sorted(by_family)}: alone, the noise hid whether they hold numbers or text; their family's (columns "
            "whose names differ only in their numbers) noisy counts summed did not, and they took its answer")
    if unsure_kind:
        ledger.notes.append(
            f"columns {unsure_kind}: at this budget the noise (3 sigma = {3 * sig[0]:.0f}) is larger than the count that "
            "tells numbers from text; their type was taken on that count's sign and may be wrong. Declare their types "
            "public (public: true with bounds or categories), or give more budget")
    if undecided_numbers:
        ledger.notes.append(
            f"columns {undecided_numbers}: at this budget the noise (3 sigma = {3 * sig[1]:.0f}) exceeds half the noisy "
            "count of their numbers, so DP cannot confirm that they hold whole numbers; they are modelled as continuous "
            "where their DP range is narrow (small codes such as flags are still found by their DP domain histogram). "
            "Declare their types public to keep them integer")
    named_only = [c for c in unsure_format if c in by_name and c in unsure_kind]
    if named_only:  # (survival's futime, smartpill's GE.Time: follow-up days the notes below said were written as dates)
        ledger.notes.append(
            f"columns {named_only}: at this budget DP could not tell numbers, dates and text apart in them (3 sigma = "
            f"{3 * sig[0]:.0f}), and their names say a time, so they are taken as dates read value by value; a duration "
            "or a day count (a follow-up in days) then reads as missing values (a whole number like 2000 as a year). Declare the type in the "
            "schema (type: integer or continuous, or datetime with its format, and public: true) to keep them")
    unsure_format = [c for c in unsure_format if c not in named_only]
    if unsure_format:
        ledger.notes.append(
            f"columns {unsure_format}: at this budget the noise ({FORMAT_SIGMAS:.0f} sigma = {FORMAT_SIGMAS * sig_fmt:.0f}) hides their date format; they "
            "are read value by value (ISO 8601, else pandas' parser) and written as ISO dates (YYYY-MM-DD; with the time, "
            "YYYY-MM-DD HH:MM:SS, where the name says a time, as charttime). Declare the format public (format: in the "
            "schema) to keep it")
    if undecided_ids:
        ledger.notes.append(
            f"columns {undecided_ids}: at this budget the noise (3 sigma = {3 * sig[2]:.0f}) exceeds half the noisy "
            "count of their values, so DP cannot tell whether their values are unique (an identifier); they are modelled "
            "as values of their DP type (categories, or numbers where DP found numbers), as a column of a few values is "
            "anyway: only a true identifier among them is affected, and its synthetic values repeat and join nothing. "
            "Declare an identifier's type public (type: identifier) to keep it")
    cols = []
    for c in schema.columns:
        upd = decided.get(c.name)
        if upd is None:
            cols.append(c)
            continue
        # a new column from the decision and public facts only (name, target mark): nothing that schema infer read
        # (bounds, categories, missingness, transform, format, nor its list of fields read) reaches the release
        fresh = ColumnSchema(name=c.name, target=c.target, **upd)
        cols.append(fresh.model_copy(update={"read_from_data": fields_read(fresh)}))
    return schema.model_copy(update={"columns": cols}), small_ints, spent, undecided_numbers


__all__ = ["decide_structure", "flag_partner", "flag_vocabulary", "id_like", "name_families", "name_family", "needs_decision"]
