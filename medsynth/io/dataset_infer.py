"""Inferring a dataset schema from a folder of tables: primary keys, relations, time fields.

See :mod:`medsynth.io.dataset` for the schema itself. A primary key is a column given with ``--key`` or
an identifier-named column whose values are unique and present; a relation is given with
``--relation`` or inferred from names and values; each relation's time fields (``order_by``, ``within``,
``after``, ``sequence``, ``ends``) are found in the data and marked ``read_from_data``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from medsynth.core.errors import DataValidationError
from medsynth.io.dataset import (
    DatasetSchema,
    DatasetTable,
    Relation,
    RelationField,
    _example,
    canonical_keys,
    drop_orphans,
    find_cycle,
    flag_truth,
    key_problems,
    orphan_rows,
    repeated_rows,
    whole_repeats,
)
from medsynth.io.schema import (
    NUMERIC_TYPES,
    ROW_INDEX_NAMES,
    ColumnSchema,
    TableSchema,
    _name_words,
    _with_recorded_values,
    category_key,
    id_like,
    infer_schema,
)

#: Words that start the name of a time column.
TIME_WORDS = ("day", "date", "time", "start", "stop", "end", "admit", "discharge", "visit", "week", "month", "year",
              "seq", "hour", "fu", "follow", "surv", "death", "last", "los")
#: Whole words (or with a number: ``wave2``) that name a time too: a trial's numbered periods, occasions or waves, 1..4
#: in every subject (MASS::epil's seizure counts per period came out in no order, a data scientist); whole words, as
#: prefixes they took ``periodontal_depth``, ``occasional_smoker`` and ``waveform`` (a reviewer).
TIME_WHOLE_WORDS = ("period", "occasion", "wave", "session")
#: ... of which these name the end of something (a time order's last choice).
END_WORDS = ("stop", "end", "discharge", "disch", "outtime", "death", "last", "fu", "follow", "surv")


#: A word of a short prefix and "start" or "stop": an episode's ``ivstart``/``ivstop`` (survival::rhDNase's IV antibiotic
#: courses: unnamed as times, each course's stop was drawn apart from its start, 45-82% of consecutive synthetic
#: courses overlapping, a data scientist), ``tstart``/``tstop``, ``rxstop``; not ``restart``.
_PREFIXED_BOUND = re.compile(r"[a-z]{1,3}(start|stop)")
#: ... but words that say no bound (a reviewer).
_NOT_PREFIXED_BOUNDS = frozenset({"restart", "restop", "nonstop", "nonstart", "pitstop", "upstart", "endstop", "nostop",
                                  "bustop", "onstart", "ifstop", "abstop", "autostop", "autostart"})


def _prefixed_bound(word: str) -> str | None:
    """"start" or "stop" for a word of a short prefix and that bound (:data:`_PREFIXED_BOUND`), else None."""
    m = _PREFIXED_BOUND.fullmatch(word)
    return m.group(1) if m and word not in _NOT_PREFIXED_BOUNDS else None


def ends_named(name: str) -> bool:
    """Whether a column's name says it ends something (``tstop``, ``ivstop``, ``end_date``, ``futime``)."""
    return any(w.startswith(END_WORDS) or _prefixed_bound(w) == "stop" for w in _name_words(name))


def follow_up_named(name: str) -> bool:
    """Whether a column's name says the end of a patient's follow-up (``futime``, ``last_fu``, ``followup_date``,
    ``last.dt``): every time point of that patient comes before it, by definition. From the name alone (public)."""
    return ends_named(name) and any(w in ("fu", "fup", "lfu", "lastfu") or w.startswith(("futime", "follow", "last"))
                                    for w in _name_words(name))


#: ... and these the start of something (an ``after`` column's first choice: an admission time before a birth date).
START_WORDS = ("admit", "admission", "start", "begin", "entry", "enrol", "onset", "intime", "index", "baseline", "tstart")
#: A parent's first child time contradicts an ``after`` column when it comes more than this share of the child time
#: column's range before it (or the column is missing) ...
AFTER_SLACK = 0.01
#: ... and, for dates, more than this many days: MIMIC's ED labs come hours before the admission time they belong to,
#: and are drawn at it (modelled without the admission time, lab times scattered over the table's years); 1% of a DP
#: range of a century let a discharge time pass as the start of 4-day stays.
AFTER_SLACK_DAYS = 1.0


def after_slack(col: ColumnSchema, lo: float | None = None, hi: float | None = None) -> float:
    """How far before an ``after`` column a first child time may come without contradicting it: ``AFTER_SLACK`` of
    the child time column's range (its bounds, or ``lo``/``hi``), at most ``AFTER_SLACK_DAYS`` for dates."""
    if lo is None or hi is None:
        if col.min is None or col.max is None:
            return 0.0
        lo, hi = col.bounds()
    slack = AFTER_SLACK * max(float(hi) - float(lo), 0.0)
    return min(slack, AFTER_SLACK_DAYS) if col.type == "datetime" else slack


def after_contradicted(first: np.ndarray, after: np.ndarray, col: ColumnSchema, lo: float | None = None,
                       hi: float | None = None) -> np.ndarray:
    """Which first child times (``first``, of time column ``col``) contradict a parent's ``after`` time: it is
    missing, it comes more than :func:`after_slack` after the child time, or further before it than the child times'
    whole range (``col``'s bounds, or ``lo``/``hi``: a birth date decades before a few years of visits). The one rule
    of ``schema infer`` (on the data's range) and of the DP decision (on the released bounds)."""
    if lo is None or hi is None:
        lo, hi = col.bounds() if col.min is not None and col.max is not None else (-np.inf, np.inf)
    slack = after_slack(col, lo, hi) if np.isfinite(lo) and np.isfinite(hi) else 0.0
    off = first - after
    return np.isnan(off) | (off < -slack - 1e-9) | (off > float(hi) - float(lo))
#: ... or more than the child time column's whole range after it (an anchor far before the child times, as a birth date
#: before a few years of visits, models them worse than their own range does); an ``after`` column is kept when at most
#: this share of the parents (patients, under DP) contradicts it.
AFTER_CONTRADICTION_SHARE = 0.1


def starts_named(name: str) -> bool:
    """Whether a column's name says it starts something (``admittime``, ``start_date``, ``intime``, ``ivstart``)."""
    return any(w.startswith(START_WORDS) or _prefixed_bound(w) == "start" for w in _name_words(name))


#: Words ending with "time" or "date" that are no time: labs (prothrombin time, partial thromboplastin time).
NOT_TIMES = frozenset({"protime", "prothrombintime", "ptime", "pttime", "runtime", "update", "mandate", "candidate",
                       "lifetime", "overtime", "validate", "sedate"})
#: Words starting with a time word that count things: births14's prenatal ``visits`` (a visit's number is ``visit``).
COUNT_WORDS = frozenset({"visits"})


def time_named(name: str) -> bool:
    """Whether a column's name (public) says it holds a time: a word of it starting with a time word (``day``,
    ``visit_date``, ``timepoint``, ``week``, ``startday``), ``tstart``/``tstop``, or a word of six letters or more
    ending with ``time`` or ``date`` (MIMIC's ``charttime``, ``dischtime``, ``intime``... ``storetime``), a short prefix
    and "start" or "stop" (``ivstart``), but not one of :data:`NOT_TIMES` (``protime``: a lab, prothrombin time)."""
    return any((w.startswith(TIME_WORDS) and w not in COUNT_WORDS) or _prefixed_bound(w) or _ends_like_a_time(w)
               or w.rstrip("0123456789") in TIME_WHOLE_WORDS for w in _name_words(name))


#: Words that name a time point in survival tables beside :func:`time_named`'s (a study's entry and exit ages,
#: asaur::ChanningHouse).
TIME_POINT_WORDS = ("entry", "exit")
#: Whole words naming a survival time (oncology's overall, progression-, disease-, relapse-, recurrence-, event-,
#: metastasis-, leukaemia-free and disease-specific survival; time to progression): asaur's hepatoCellular ``RFS`` and
#: ``OS`` in months, their ordering RFS <= OS only suggested, broken by 21% of synthetic rows at epsilon 10.
SURVIVAL_WORDS = frozenset({"os", "pfs", "dfs", "rfs", "efs", "mfs", "lfs", "dss", "css", "ttp"})
#: Names ending with 'time' that are no time point: :data:`NOT_TIMES` but ``ptime`` (a lab's prothrombin time there,
#: mgus2's time to progression here: an ordering a lab does not hold is not kept).
NOT_POINTS = NOT_TIMES - {"ptime"}


def time_point_named(name: str) -> bool:
    """A name saying a time point or a duration (a DP fit tests orderings between such columns; the evaluation checks
    them): :func:`time_named`, a word ending with ``start`` or ``stop`` (``ivstart``/``ivstop``: an intravenous
    course's days) or with ``time`` (``ptime``, mgus2's time to progression: shorter than the six letters
    ``time_named`` asks; not ``protime``, a lab: :data:`NOT_POINTS`), ``entry``/``exit``, or a survival time's
    abbreviation (``OS``, ``RFS``: :data:`SURVIVAL_WORDS`)."""
    return time_named(name) or any(w.endswith(("start", "stop")) or (w.endswith("time") and w not in NOT_POINTS)
                                   or w in TIME_POINT_WORDS or w in SURVIVAL_WORDS for w in _name_words(name))


#: Suffixes of a status column beside its event time (ebmt4's ``rec``/``rec.s``, ``srv``/``srv.s``; ``dfs``/``dfs_event``,
#: ``pfs``/``pfs.status``): joined by '.' or '_', or (the longer ones) written on.
STATUS_SUFFIXES = ("s", "ev", "event", "status", "stat", "cens", "censor", "censored", "fail")
#: (not ``flag``, ``ind``, ``d``, ``e``: imputation flags beside labs, ``income_flag``, made labs event times and crowded
#: ``tstart``/``tstop`` out of the tested columns)
STATUS_SUFFIXES_JOINED = ("event", "status", "stat", "cens", "censor", "censored")


def event_times(names: list[str]) -> set[str]:
    """The names beside which another column is named as its status (``rec`` beside ``rec.s``, ``dfs`` beside
    ``dfs_event`` or ``dfsstatus``, ``t2`` beside ``d2``): a survival table's event times, all measured from one origin and ending within the
    follow-up, so ordered among themselves, though no word says time (a data scientist found 50% of ebmt4's synthetic
    rows with a relapse after the end of follow-up). From the names alone (public)."""
    lower = {n.lower() for n in names}
    out = set()
    for n in names:
        low = n.lower()
        if any(f"{low}{sep}{suf}" in lower for sep in (".", "_") for suf in STATUS_SUFFIXES) or any(
                f"{low}{suf}" in lower for suf in STATUS_SUFFIXES_JOINED):
            out.add(n)
        # (KMsurv's convention: a time t1, ta, tc beside its indicator d1, da, dc: bmt's disease-free time t2 above
        # the survival time t1 in 35% of synthetic rows, the orderings untested, a data scientist)
        elif 2 <= len(low) <= 4 and low[0] == "t" and low[1:].isalnum() and f"d{low[1:]}" in lower:
            out.add(n)
    return out


def _ends_like_a_time(word: str) -> bool:
    """A word of six letters or more ending with ``time`` or ``date``, not one of :data:`NOT_TIMES`."""
    return len(word) >= 6 and word.endswith(("time", "date")) and word not in NOT_TIMES


#: Words (or parts of a word beside ``year``/``yr``) that make a name a duration, an age or a rate in years.
NOT_CALENDAR = frozenset({"fu", "age", "dur", "los", "time", "surv", "pack", "packs", "per", "cost", "visits",
                          "income", "rate", "salary", "wage", "mean", "avg", "total", "since", "to", "until", "num",
                          "count", "exp", "work", "service", "stay", "life", "old", "lag", "len", "length", "day",
                          "days", "month", "months", "week", "weeks"})
#: ... and beginnings of such words.
NOT_CALENDAR_STARTS = ("follow", "durat", "surviv", "tenur", "exper", "smok")


def year_named(name: str) -> bool:
    """Whether a column's name (public) says it holds calendar years: a word ``year`` or ``yr``, one starting with
    them (``yearborn``, ``yrdth``) or a longer one ending with them (``birthyear``, ``dxyr``), but not a count of years
    (``years``, ``yrs``, ``smokeyrs``) nor ``yearly``. Whether its values are calendar years is still the data's (DP)
    answer: :func:`~medsynth.privacy.locate.locate_year` looks for them on the calendar and takes the column as any
    number where none stands out."""
    def stem(w: str) -> str | None:  # what the word holds besides its year word, or None where it has none
        if w.startswith(("years", "yrs", "yearly")) or w.endswith(("years", "yrs")):
            return None
        for y in ("year", "yr"):
            if w.startswith(y):
                return w[len(y):]
            if w.endswith(y) and len(w) > len(y) + 1:
                return w[: -len(y)]
        return None

    words = _name_words(name)
    if any(w.isdigit() for w in words) or any((stem(w) or "").isdigit() for w in words):
        return False  # a value of a given year (year_1960, pop_yr2005: one column per year of a wide table)
    stems = [s for s in (stem(w) for w in words) if s is not None]
    # a duration or a rate in years (fu_yr, age_yr, los_yr, survyr, pack_yr, cost_per_yr) is no calendar year
    others = {w for w in words if stem(w) is None} | set(stems)
    return bool(stems) and not any(o in NOT_CALENDAR or o.startswith(NOT_CALENDAR_STARTS) for o in others if o)


def date_named(name: str) -> bool:
    """Whether a column's name (public) says it holds dates or times themselves: a word ``date``, ``time``,
    ``datetime``, ``timestamp``, ``dttm``, ``dt`` (``entry.dt``, ``adm_dt``: survival's rhDNase, many registries),
    ``dob`` or ``dod``, or a word of six letters or more ending with ``date`` or ``time`` (``charttime``,
    ``admitdate``), not one of :data:`NOT_TIMES`. Narrower than :func:`time_named`
    (``day_of_week``, ``visit_type``, ``discharge_location`` hold text, not dates), and not ``start``/``stop`` alone
    (text columns named ``onset`` or ``stop``, acute/chronic or yes/no, came out as empty datetimes where the noise
    could not tell)."""
    return any(w in ("date", "time", "datetime", "timestamp", "dttm", "dt", "dob", "dod") or _ends_like_a_time(w)
               for w in _name_words(name))


def clock_named(name: str) -> bool:
    """Whether a date column's name (public) says it holds a time of day too: a word ``time``, ``datetime``,
    ``timestamp`` or ``dttm``, or one of six letters or more ending with ``time`` (``charttime``, ``admittime``), not one
    of :data:`NOT_TIMES`. A date column whose format DP could not release is written with its time where the name
    says so (a lab charted at 23:00 written as the next day fell after its patient's discharge)."""
    return any(w in ("time", "datetime", "timestamp", "dttm") or (_ends_like_a_time(w) and w.endswith("time"))
               for w in _name_words(name))


def time_stem(name: str | None) -> str:
    """A time column's name without its trailing date/time word (``visit_start_datetime`` -> ``visit_start``,
    ``charttime`` -> ``chart``): columns of one stem hold one moment (OMOP's ``*_date`` beside ``*_datetime``)."""
    return re.sub(r"[_. ]?(datetime|date|time|dttm|timestamp)$|[_. ]dt$", "", (name or "").lower())


def _row_number(name: object) -> bool:
    """Whether a column's name is a row number an export wrote (``rownames``, ``Unnamed: 0``)."""
    return str(name).lower().strip() in ROW_INDEX_NAMES


def _split_ref(ref: str, tables: Mapping[str, pd.DataFrame], what: str) -> tuple[str, str]:
    """``"table.column"`` -> (table, column); the longest table name that prefixes it wins (columns may hold dots)."""
    cands = [t for t in tables if ref.startswith(f"{t}.") and len(ref) > len(t) + 1]
    if not cands:
        raise DataValidationError(f"{what} '{ref}' must look like TABLE.COLUMN with TABLE one of {list(tables)}")
    t = max(cands, key=len)
    col = ref[len(t) + 1:]
    if col not in tables[t].columns:
        raise DataValidationError(f"{what} '{ref}': column '{col}' is not in table '{t}' (columns: {list(tables[t].columns)})")
    return t, col


def parse_relation(text: str, tables: Mapping[str, pd.DataFrame]) -> tuple[str, str, str, str]:
    """``"visits.id=patients.id"`` -> (child, column, parent, parent column).

    Raises:
        DataValidationError: naming the bad part (no ``=``, unknown table or column).
    """
    if text.count("=") != 1:
        raise DataValidationError(f"--relation '{text}' must look like CHILD.COLUMN=PARENT.COLUMN, e.g. visits.id=patients.id")
    left, right = (s.strip() for s in text.split("="))
    child, col = _split_ref(left, tables, "--relation child")
    parent, pcol = _split_ref(right, tables, "--relation parent")
    if child == parent:
        raise DataValidationError(f"--relation '{text}': a table cannot be its own parent (a cycle {child} -> {child})")
    return child, col, parent, pcol


def _singular(name: str) -> str:
    low = name.lower()
    return low[:-1] if low.endswith("s") and len(low) > 3 else low


def _names_match(col: str, parent: str, pk: str, own_pk: bool) -> bool:
    """Whether a child column's name says it refers to ``parent.pk``."""
    c, p, t = col.lower(), pk.lower(), {parent.lower(), _singular(parent)}
    prefixed = {f"{x}{sep}{y}" for x in t for y in (p, "id") for sep in ("_", "", ".")}
    if c in prefixed:
        return True
    if own_pk:  # a table's own key refers to another table only when its name says so (1:1 extensions)
        return False
    return c == p


def _text_keys(s: pd.Series) -> bool:
    """Whether key values are text, not numbers (UUIDs, codes): small whole numbers are among any table's 1..n keys, so a
    bare table name links only text (a labs.visit of 1-3 linked every patient's first visit to visit 1). Text keys
    are those at most half of which read as numbers: one encounter keyed "777" among UUIDs took the relation away (and
    changed the released schema: an adversary's neighbouring folders)."""
    v = s.dropna()
    return (not v.empty and not pd.api.types.is_numeric_dtype(v)
            and float(pd.to_numeric(v, errors="coerce").notna().mean()) <= 0.5)


def _unique_present(s: pd.Series) -> bool:
    """Whether a column can be a table's key: missing in at most one row or 1% of them, and its present values unique
    but for as few (a root row without a key is a person of its own to a fit, a child's gets a key of its own; a key on
    two rows keeps one of them at random in a DP fit. One such row had taken the key or the relation away, and the
    folder's DP fit then refused or released a schema without it: an adversary's neighbouring folders)."""
    missing = int(s.isna().sum())
    few = max(1, 0.01 * len(s))
    repeats = few if len(s) >= 100 else 0  # (a two-row [1, 1] is no key: a reviewer)
    return (missing <= few and int(s.notna().sum()) >= 2
            and int(canonical_keys(s.dropna()).duplicated().sum()) <= repeats)


def _shared_key(name: str, df: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> str | None:
    """A column not named like an identifier (``Subject``, ``School``) that is a key all the same: numbers (one
    Subject 1000.5 among whole ones had made the column no key, and the folder's DP fit refused: an adversary's
    neighbouring folders) or text, unique and present here, and repeated in another table whose values of the same-named column all
    appear here (but for a row or 1% of them, orphans) (patients.Subject and samples.Subject: nlme's Quinidine, lme4's sleepstudy)."""
    def whole_or_text(s: pd.Series) -> bool:  # (whole numbers or text first; a float column where nearly every value
        if not pd.api.types.is_float_dtype(s):  # is whole after: a weight on each row, a float, had become the key
            return True                         # beside the Subject, a reviewer)
        v = s.dropna().to_numpy(dtype=float)
        return v.size > 0 and int(np.sum(v != np.round(v))) <= max(1, 0.01 * v.size)

    ordered = sorted(df.columns, key=lambda c: pd.api.types.is_float_dtype(df[c]))
    for col in ordered:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_object_dtype(s)
                                                 or pd.api.types.is_string_dtype(s)) or not whole_or_text(s) or not _unique_present(s):
            continue
        own = set(canonical_keys(s))
        for other, odf in tables.items():
            if other == name or col not in odf.columns:
                continue
            ov = canonical_keys(odf[col]).dropna()
            # (all but a row or 1% of them: orphans a fit leaves out with a note; a data scientist's aidssi with one
            # event row of a patient not in the patient table got no relation, and the fit then refused the folder)
            orphans = max(1, int(0.01 * len(ov))) if len(ov) >= 100 else 0  # (a five-row table: none, a reviewer)
            if len(ov) and ov.duplicated().any() and int((~ov.isin(own)).sum()) <= orphans:
                return str(col)
    return None


def _shown(v: object) -> str:
    """A key value as a message shows it: 5, not np.int64(5); text quoted."""
    v = v.item() if isinstance(v, np.generic) else v
    return repr(v) if isinstance(v, str) else str(v)


def _duplicated_key(tables: Mapping[str, pd.DataFrame], pks: Mapping[str, str | None]) -> list[str]:
    """Key columns whose values repeat by mistake: in a table without a primary key, a column named like an identifier,
    present in every row, unique but for a few values (at most 1% of rows), whose values another table's same-named
    column repeats and holds only from here. A review saw one duplicated patient row turn the relation off silently
    and the fit ask for a relation instead."""
    out = []
    for name, df in tables.items():
        if pks.get(name):
            continue
        for col in df.columns:
            s = df[col]
            if not id_like(str(col)) or not bool(s.notna().all()) or len(s) < 2:
                continue
            keys = canonical_keys(s)
            dups = keys[keys.duplicated()]
            if dups.empty or len(dups) > max(1, 0.01 * len(s)):
                continue
            own = set(keys)
            for other, odf in tables.items():
                if other == name or col not in odf.columns:
                    continue
                ov = canonical_keys(odf[col]).dropna()
                if len(ov) and ov.duplicated().any() and ov.isin(own).all():
                    out.append(f"table '{name}': column '{col}' is the key '{other}.{col}' refers to, but {len(dups)} of its "
                               f"values appear more than once (e.g. {_shown(s[keys.duplicated()].iloc[0])}); a primary key must be "
                               f"unique: remove the duplicate rows of '{name}' (or pass --key {name}.COLUMN for another key)")
                    break
    return out


def _parent_elsewhere(col: str, name: str, tables: Mapping[str, pd.DataFrame] | None) -> bool:
    """Whether another table holds ``col`` with unique present values: a would-be parent, so a repeat here is a foreign
    key's (admissions keyed by patient_id with one readmission became keyed by it, a reviewer), not a key's mistake."""
    return tables is not None and any(
        other != name and col in odf.columns and odf[col].notna().any()
        and not canonical_keys(odf[col].dropna()).duplicated().any() for other, odf in tables.items())


def _guess_primary_key(name: str, df: pd.DataFrame, schema: TableSchema,
                       tables: Mapping[str, pd.DataFrame] | None = None) -> str | None:
    cands = [c.name for c in schema.columns if c.type == "identifier" and id_like(c.name) and _unique_present(df[c.name])
             and (not canonical_keys(df[c.name].dropna()).duplicated().any() or not _parent_elsewhere(c.name, name, tables))]
    if not cands:
        return _shared_key(name, df, tables) if tables is not None else None
    pref = {"id", f"{name.lower()}_id", f"{_singular(name)}_id", f"{name.lower()}id", f"{_singular(name)}id"}
    for c in cands:
        if c.lower() in pref:
            return c
    return cands[0]


def infer_dataset_schema(
    tables: Mapping[str, pd.DataFrame],
    *,
    relations: list[str] | None = None,
    keys: list[str] | None = None,
    infer_relations: bool = True,
    notes: list[str] | None = None,
) -> DatasetSchema:
    """Infer every table's schema, the primary keys and the relations of a dataset.

    A primary key is a column given with ``keys`` (``"table.column"``), an identifier-named column
    whose values are unique and present, or else a whole-number or text column unique and present here
    whose values repeat under the same name in another table (``Subject``). A relation is given with ``relations``
    (``"child.column=parent.column"``) or inferred: a column whose name refers to another table's
    primary key (the same name, ``<table>_id``, ``<table>_<key>``, or the bare table name when the key is named like an
    identifier: Synthea's ``PATIENT`` -> ``patients.Id``) and whose values all appear in it; one that would close a
    cycle is left out (with a note).
    Key columns get type ``identifier``. For each relation, the time fields are inferred
    (:func:`infer_time_fields`) and marked ``read_from_data``.

    Raises:
        DataValidationError: an empty table or an all-missing column (named), a bad ``--key`` or
            ``--relation``, duplicate primary keys, child keys without a parent (with an example
            value), a cycle of relations.

    ``notes`` (a list) receives what the user should know: a column that looks like a key but has missing values
    is not made a relation (its rows without a value would have no parent).
    """
    problems: list[str] = []
    schemas: dict[str, TableSchema] = {}
    tables = dict(tables)
    for name, df in list(tables.items()):  # a patient written twice, whole (an export's join): once, as a fit does
        ids = [c for c in df.columns if id_like(str(c)) and canonical_keys(df[c]).dropna().duplicated().any()]
        again = whole_repeats(df, ids)  # (the repeats must make a repeating key unique to be an export's doubling)
        if again is not None and again.any() and any(
                not canonical_keys(df.loc[~again, c]).dropna().duplicated().any() for c in ids):
            tables[name] = df.loc[~again].reset_index(drop=True)
            if notes is not None:
                notes.append(f"{int(again.sum())} row(s) of '{name}' repeat an earlier row whole (its key twice): a fit "
                             "leaves the repeats out")
    for name, df in tables.items():
        try:
            schemas[name] = infer_schema(df, unit=False)  # the relations make the root's rows the unit
        except DataValidationError as exc:
            problems.extend(f"table '{name}': {p}" for p in exc.problems)
    if problems:
        raise DataValidationError(problems, context="cannot infer a dataset schema")
    pks: dict[str, str | None] = {}
    for ref in keys or []:
        t, c = _split_ref(ref.strip(), tables, "--key")
        pks[t] = c
    rels: list[tuple[str, str, str, str]] = [parse_relation(r, tables) for r in relations or []]
    for _, _, parent, pcol in rels:
        if pks.get(parent, pcol) != pcol:
            raise DataValidationError(f"--relation names '{parent}.{pcol}' but --key gives '{parent}.{pks[parent]}' as its primary key")
        pks[parent] = pcol
    for name, df in tables.items():
        if name not in pks:
            pks[name] = _guess_primary_key(name, df, schemas[name], tables)
    if infer_relations:
        dup = _duplicated_key(tables, pks)
        if dup:
            raise DataValidationError(dup, context="cannot infer a dataset schema")
    explicit = {(c, col) for c, col, _, _ in rels}
    if infer_relations:  # names that say so first (patient_id), then bare table names (PATIENT), which may not close a cycle
        for child, df, col, bare in [(c, d, k, b) for b in (False, True) for c, d in tables.items() for k in d.columns]:
            if (child, col) in explicit or any((c, k) == (child, col) for c, k, _, _ in rels):
                continue
            found = _infer_parent(child, col, df, tables, pks, bare=bare)
            if found is None:
                continue
            missing = int(df[col].isna().sum())
            if missing > max(1, 0.01 * len(df)):  # a child row needs its parent: MIMIC's labevents.hadm_id is empty for
                # outpatient labs; a row or 1% without one is a row of no patient, left out with a note (below) as rows
                # whose key is not the parent's are (one visit without its key took the relation away and the folder's
                # DP fit refused: an adversary's neighbouring folders)
                if notes is not None:
                    notes.append(f"'{child}.{col}' looks like a key to '{found[0]}.{found[1]}' but {missing} of {len(df)} "
                                 f"rows have none, so it is not made a relation (every child row needs a parent) and "
                                 f"stays a column of '{child}'; to link the rows that have one, keep only those rows and "
                                 f"pass --relation {child}.{col}={found[0]}.{found[1]}")
                continue
            if find_cycle([Relation(child=c, column=k, parent=p, parent_column=pk)  # among inferred links (one
                           for c, k, p, pk in [*rels, (child, col, *found)] if (c, k) not in explicit]):  # with --relation: error)
                if notes is not None:  # (an inferred link that closes a loop is left out, not an error)
                    notes.append(f"'{child}.{col}' looks like a key to '{found[0]}.{found[1]}', but that relation "
                                 "would close a cycle of relations, so it is not made one; pass --relation to choose")
                continue
            rels.append((child, col, *found))
    cycle = find_cycle([Relation(child=c, column=k, parent=p, parent_column=pk) for c, k, p, pk in rels])
    if cycle:
        raise DataValidationError(f"the relations form a cycle {' -> '.join(cycle)}; each table must be a child of tables above it "
                                  "only: remove one of these relations")
    # a key missing in a row or 1% of them (_unique_present) stays the key, on a child table too: a fit gives such a row
    # a placeholder key, and nothing links to it (it had been no key, and the links to it were dropped: one admission
    # without its hadm_id left labevents a second root and the folder's DP fit refused, an adversary's neighbouring
    # folders; before that, a reviewer saw schema infer refuse the key)
    key_cols: dict[str, set[str]] = {t: ({pks[t]} if pks[t] else set()) for t in tables}
    for c, k, _, _ in rels:
        key_cols[c].add(k)
    out_tables: dict[str, DatasetTable] = {}
    children = {c for c, _, _, _ in rels}
    for name, s in schemas.items():
        cols = [ColumnSchema(name=c.name, type="identifier", read_from_data=["type"]) if c.name in key_cols[name] else c
                for c in s.columns]
        outcome = [c.name for c in cols if c.target]
        if name in children and outcome:  # a folder's outcome is a patient's: a root table's column (a visit's
            # 'outcome' was marked, evaluation then measured no utility and named no root column to use instead)
            cols = [c.model_copy(update={"target": False}) if c.target else c for c in cols]
            if notes is not None:
                notes.append(f"'{name}.{outcome[0]}' is named like an outcome, but '{name}' is a child table: a folder's "
                             "prediction target is a column of its root table (one row per patient); set target: true on "
                             "the root column you will predict")
        rules = [c for c in s.constraints if not set(c.columns) & key_cols[name]]  # (keys: regenerated, no rule)
        out_tables[name] = DatasetTable(columns=cols, constraints=rules, primary_key=pks[name])
    relation_objs = []
    for c, k, p, pk in rels:
        rel = Relation(child=c, column=k, parent=p, parent_column=pk)
        relation_objs.append(rel)
    draft = DatasetSchema(tables=out_tables, relations=relation_objs)
    # a root key missing in a row or 1% of them (_unique_present): each such row a patient of its own to a fit, which
    # gives it a placeholder key (multi_base.one_row_per_key); said, not refused
    keyless = {n: int(tables[n][draft.tables[n].primary_key].isna().sum()) for n in draft.tables
               if draft.tables[n].primary_key and tables[n][draft.tables[n].primary_key].isna().any()}
    if notes is not None:
        notes.extend((f"{k} row(s) of '{n}' have no '{draft.tables[n].primary_key}': a DP fit takes each for a patient of "
                      "its own, with no linked row, a non-private one (hma) refuses them: give them their keys")
                     if n in draft.roots else
                     (f"{k} row(s) of '{n}' have no '{draft.tables[n].primary_key}': a fit gives each a key of its own, "
                      "and no row can link to it; give them their keys") for n, k in keyless.items())
    doubled = {n: int(canonical_keys(tables[n][draft.tables[n].primary_key].dropna()).duplicated().sum())
               for n in draft.tables if draft.tables[n].primary_key}
    doubled = {n: k for n, k in doubled.items() if k}
    if notes is not None:
        def first_repeat(n: str) -> str:
            keys = tables[n][draft.tables[n].primary_key]
            return _example(keys, np.nonzero(repeated_rows(keys))[0], False)

        notes.extend(f"{k} value(s) of '{n}.{draft.tables[n].primary_key}' repeat ({first_repeat(n)}): a DP fit keeps one row of each at random "
                     "(with the rows linked to it; the patients sharing it are protected together), a non-private one "
                     "refuses them: make the key unique" for n, k in doubled.items())
    problems = key_problems(tables, draft, orphans=False, loose_keys=set(keyless) | set(doubled))
    if problems:
        raise DataValidationError(problems, context="the relations do not hold in the data")
    examples = {t: _orphan_example(tables, draft, t) for t in draft.tables} if notes is not None else {}  # (before any
    # is left out; a grandchild that lost rows only with its parent's orphans has none of its own)
    tables, lost = drop_orphans(tables, draft)
    if notes is not None:
        notes.extend(f"{n} row(s) of '{t}' have no parent row (their key is missing, or not among the parent's: e.g. "
                     f"visits of patients left out of the patient table{examples.get(t, '')}): a fit leaves them out; add their "
                     "parents to keep them" for t, n in lost.items())
    draft = _ordinal_times(draft, tables)
    timed = [infer_time_fields(r, tables, draft) for r in draft.relations]
    return DatasetSchema(tables=draft.tables, relations=timed)


def _orphan_example(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, table: str) -> str:
    """``"; 'id' e.g. 9999"``: the first key of ``table`` with no parent (for the data owner's eyes), or ``""``."""
    child = tables[table]
    for r in schema.parents_of(table):
        parent = tables.get(r.parent)
        rows = np.nonzero(orphan_rows(child, parent, r))[0] if parent is not None else np.zeros(0, dtype=np.int64)
        if rows.size:
            return f"; '{r.column}' " + ("missing" if pd.isna(child[r.column].iloc[int(rows[0])])
                                          else _example(child[r.column], rows, False))
    return ""


#: Name words of a column numbering a parent's rows (``enum``, ``visit_no``, ``seqno``, ``line``).
SEQUENCE_WORDS = ("enum", "seq", "seqno", "sequence", "num", "number", "nr", "index", "idx", "order", "rank", "visit",
                  "line", "episode", "round", "cycle", "period", "occasion", "wave", "session")  # (not 'event', 'no', 'n', 'count': a 0/1 flag's words too)


def _sequence_named(name: str) -> bool:
    """Whether a name says it numbers rows. A 0/1 column that happens to equal the row number 0, 1 (Stanford heart's
    ``transplant``, 0 on a patient's first interval and 1 on the second) is a flag, not a sequence, unless so named."""
    return any(w in SEQUENCE_WORDS or w.startswith(("seq", "enum")) for w in _name_words(name))


#: Name words of a unit of time: a column named with one is a time, whatever else its name says (``visit_day``).
_UNIT_WORDS = ("day", "date", "time", "week", "month", "year", "hour", "minute", "second")


def numbering_named(name: str) -> bool:
    """Whether a name says it numbers rows and names no unit of time (``Occasion``, ``period``, ``visit``; not
    ``visit_day``, ``visit_min``)."""
    return _sequence_named(name) and not any(w.startswith(_UNIT_WORDS) or w in ("min", "mins", "sec", "secs")
                                             for w in _name_words(name))


def age_named(name: str) -> bool:
    """Whether a column's name (public) says an age (``age``, ``AgeYrs``, ``age2``: HLMdiag's autism, a child's age at
    each of five visits, 0-11, was left a category and its visits in no order)."""
    return any(w.rstrip("0123456789") in ("age", "ages", "ageyrs", "ageyears") for w in _name_words(name))


def _rises_within(groups: np.ndarray, t: np.ndarray) -> bool:
    """Whether times ``t`` never decrease within a parent (``groups``, one key per row) in file order and rise
    somewhere."""
    codes = pd.factorize(groups)[0]
    order = np.argsort(codes, kind="stable")  # each parent's rows, in file order
    same = codes[order][1:] == codes[order][:-1]
    ts = t[order]
    a, b = ts[:-1][same], ts[1:][same]
    return bool(np.all(b >= a) and np.any(b > a))


def _ordinal_times(schema: DatasetSchema, tables: Mapping[str, pd.DataFrame]) -> DatasetSchema:
    """A child column named like a time (:func:`time_named`) or an age that a few whole-number values made categorical
    (a visit numbered 1-4: HSAUR's respiratory; a child's age 7-10 at a yearly visit: geepack's ohio) is retyped integer
    where it never decreases within a parent in file order and rises somewhere, with no missing value and at least three
    values: it then orders the parent's rows (``order_by``) or numbers them (``sequence``), where as categories each
    synthetic visit drew its number on its own (visits 3, 1, 3 of one patient; ohio's ages repeated for 203 of 430
    children and out of order for 90, a data scientist). Read from the data, like the types."""
    out = dict(schema.tables)
    for rel in schema.relations:
        df, ts = tables[rel.child], out[rel.child]
        groups = canonical_keys(df[rel.column]).to_numpy()
        if not df[rel.column].duplicated().any():
            continue
        cols = list(ts.columns)
        for i, c in enumerate(cols):
            cats = c.categories or []
            whole = len(cats) >= 3 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in cats)
            if (c.type != "categorical" or not whole or not (time_named(c.name) or age_named(c.name))
                    or df[c.name].isna().any()):
                continue
            if _rises_within(groups, pd.to_numeric(df[c.name], errors="coerce").to_numpy(dtype=float)):
                num = c.model_copy(update={"type": "integer", "categories": None, "min": min(cats), "max": max(cats)})
                num = _with_recorded_values(num, df[c.name])  # (its unit: Orthodont's ages 8-14 by 2)
                cols[i] = num.model_copy(update={"read_from_data": sorted(
                    {*c.read_from_data, "min", "max", *(["step"] if num.step is not None else [])} - {"categories"})})
        retyped = {c.name for c, old in zip(cols, ts.columns, strict=True) if c.type != old.type}
        # (a bins rule read from the data computes a category column: Oxboys' Occasion from the standardised age, a fit
        # of its 9 values to 9 ages, not domain knowledge; once Occasion is a number the rule is invalid, and schema
        # infer stopped with a pydantic error)
        rules = [r for r in ts.constraints if not (r.kind == "bins" and r.columns[0] in retyped)]
        out[rel.child] = ts.model_copy(update={"columns": cols, "constraints": rules})
    return schema.model_copy(update={"tables": out})


def _infer_parent(child: str, col: str, df: pd.DataFrame, tables: Mapping[str, pd.DataFrame],
                  pks: Mapping[str, str | None], *, bare: bool = False) -> tuple[str, str] | None:
    """The (parent, key) a child column refers to, by name and by values, or None.

    By name: :func:`_names_match` (half of the values in the parent's key at least: the rest are orphans, named as an
    error), or with ``bare`` the bare name of the parent table when its key is named like an identifier, both hold text
    (not numbers) and every value is in it (Synthea's ``encounters.PATIENT`` -> ``patients.Id``, UUIDs).

    A row number an export wrote (``rownames``, ``Unnamed: 0``) refers to nothing: R's write.csv gives every table
    one, and survival's nafld1.rownames (unique, 1..17549) "appears" in nafld3.rownames (1..34340), a relation
    that made a cycle with nafld3.id -> nafld1.id and stopped ``schema infer``."""
    if _row_number(col):
        return None
    values = canonical_keys(df[col]).dropna()
    if values.empty:
        return None
    best: tuple[float, str, str] | None = None
    for parent, pdf in tables.items():
        pk = pks.get(parent)
        if parent == child or pk is None or _row_number(pk):
            continue
        named = not bare and _names_match(col, parent, pk, own_pk=col == pks.get(child))
        if not (named or (bare and col != pks.get(child) and col.lower() in {parent.lower(), _singular(parent)} and id_like(pk)
                          and _text_keys(df[col]) and _text_keys(pdf[pk]))):
            continue
        share = float(values.isin(set(canonical_keys(pdf[pk]).dropna())).mean())
        if (share >= 0.5 if named else share == 1.0) and (best is None or share > best[0]):
            best = (share, parent, pk)
    # a partly matching key is a relation with orphans: it is returned and key_problems names them
    return (best[1], best[2]) if best is not None else None


def _times(df: pd.DataFrame, col: ColumnSchema) -> np.ndarray:
    from medsynth.io.schema import EPOCH, parse_dates

    if col.type == "datetime":
        return ((parse_dates(df[col.name], col.format) - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(df[col.name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _by_key(values: np.ndarray, keys: np.ndarray) -> pd.Series:
    """A parent column's values indexed by the parent's keys, a key written on several rows taking its first row's (as
    a fit keeps one; a data scientist's aidssi with one patient written twice, other values in the second row, made
    ``schema infer`` die with pandas' 'cannot reindex on an axis with duplicate labels')."""
    out = pd.Series(values, index=keys)
    return out[~out.index.duplicated()]


def _infer_after(t: np.ndarray, groups: np.ndarray, tcol: ColumnSchema, parent: pd.DataFrame,
                 ps: DatasetTable, pkeys: np.ndarray, exclude: set[str | None]) -> str | None:
    """The parent column of the child times' kind that the parents' first child times contradict
    (:func:`after_contradicted`, on the data's range) for at most ``AFTER_CONTRADICTION_SHARE`` of the parents, and is
    closest to (median offset), a name like a start first."""
    first = pd.Series(t).groupby(groups).min()
    lo, hi = (float(np.nanmin(t)), float(np.nanmax(t))) if np.isfinite(t).any() else (0.0, 0.0)
    best: tuple[bool, float] | None = None
    after = None
    for pc in ps.columns:
        if (pc.name in exclude or pc.type not in NUMERIC_TYPES or (pc.type == "datetime") != (tcol.type == "datetime")
                or ends_named(pc.name)):  # a discharge or follow-up end is no start
            continue
        if pc.type != "datetime" and not time_named(pc.name):
            continue
        a = _by_key(_times(parent, pc), pkeys).reindex(first.index).to_numpy(dtype=float)
        off = first.to_numpy(dtype=float) - a
        bad = after_contradicted(first.to_numpy(dtype=float), a, tcol, lo, hi)
        if not len(off) or bad.mean() > AFTER_CONTRADICTION_SHARE:
            continue
        rank = (not starts_named(pc.name), float(np.median(np.abs(off[~bad]))))
        if best is None or rank < best:
            after, best = pc.name, rank
    return after


def infer_time_fields(rel: Relation, tables: Mapping[str, pd.DataFrame], schema: DatasetSchema) -> Relation:
    """Find ``order_by``, ``within``, ``after``, ``sequence`` and ``ends`` of a relation in the data (each marked
    read_from_data).

    ``order_by``: a numeric/date child column without missing values that never decreases within a
    parent in file order (else a date column, or one named like a time); ``within``: a parent column of
    the same kind that every child time of that parent stays at or below (the closest such column); ``after``: a
    parent date column (or number named like a time) that the parent's first child time is at or after
    (:func:`_infer_after`);
    ``sequence``: an integer child column equal to 1, 2, ... (or 0, 1, ...) in ``order_by`` order;
    ``ends``: date/numeric child columns never below ``order_by`` (interval ends, e.g. ``tstop``; a number only under a
    name saying a time or an end).
    """
    child, parent = tables[rel.child], tables[rel.parent]
    cs, ps = schema.tables[rel.child], schema.tables[rel.parent]
    keys = set(schema.key_columns(rel.child))
    groups = canonical_keys(child[rel.column]).to_numpy()
    cands = [c for c in cs.columns if c.name not in keys and c.type in NUMERIC_TYPES and child[c.name].notna().all()]
    order_by: str | None = None
    if cands and child[rel.column].duplicated().any():
        sorted_cols = [c for c in cands if _rises_within(groups, _times(child, c))]
        ranked = sorted_cols or [c for c in cands if c.type == "datetime"] or [
            c for c in cands if time_named(c.name)]
        # dates first, then numbers named like times (a visit numbered 1-4 beside its date is the date's sequence)
        # (and a column numbering the rows after any other rising number: Oxboys' Occasion 1-9 beside the boy's age)
        # ... then a start before an end (tstart, not tstop), then the finest (a visit's day before its study month
        # 6/12/18/24: HELPfull's TIME ordered the visits, its follow-up in days bounding months, a data scientist)
        # ... and an age before another number (Oxboys' height, which rises as the boys grow, was taken over their age)
        ranked.sort(key=lambda c: (c.type != "datetime", numbering_named(c.name), not time_named(c.name),
                                   not age_named(c.name), ends_named(c.name),
                                   0 if c.type == "datetime" else -int(child[c.name].nunique())))
        # (dates keep the file's order: OMOP's visit_start_date before its datetime, the time of day a companion)
        order_by = ranked[0].name if ranked else None
    others = [c.name for c in cs.columns if c.name not in keys and c.name != order_by]
    copied = copied_columns(child, parent, groups, canonical_keys(parent[rel.parent_column]).to_numpy(),
                            [n for n in others if n in ps.names and n not in set(schema.key_columns(rel.parent))])
    constant = [n for n in constant_columns(child, groups, others) if n not in copied]
    if order_by is None:
        if constant or copied:
            rel = rel.model_copy(update={"constant": constant, "copied": copied, "read_from_data": sorted(
                {*rel.read_from_data, *(["constant"] if constant else []), *(["copied"] if copied else [])})})
        once, once_values = _infer_once(child, cs, groups, keys | set(constant) | set(copied), None, []) if (
            not schema.children_of(rel.child)) else (None, [])
        if once is not None:
            rel = rel.model_copy(update={"once": once, "once_values": once_values,
                                         "read_from_data": sorted({*rel.read_from_data, "once"})})
        if cands and child[rel.column].duplicated().any():  # "no column orders the rows" is read from the data too:
            return rel.model_copy(update={"read_from_data": sorted({*rel.read_from_data, "order_by"})})  # DP re-decides
        return rel
    found: list[RelationField] = ["order_by"]
    tcol = cs.column(order_by)
    t = _times(child, tcol)
    pkeys = canonical_keys(parent[rel.parent_column]).to_numpy()
    within = None
    best_slack = np.inf
    for pc in ps.columns:
        kind_ok = (pc.type == "datetime") == (tcol.type == "datetime") and pc.type in NUMERIC_TYPES
        # an age bounds no child time (visit numbers 1-4 all stay below the patient's age, which is no follow-up); a
        # number named otherwise may (a length of stay, a duration)
        kind_ok = kind_ok and (pc.type == "datetime" or time_point_named(pc.name) or not age_named(pc.name))
        # ... and a number only one named like a time, an end or a time point: MASS::epil's baseline seizure count
        # (6-151) bounded its periods as a follow-up would, Theoph's body weight (kg) its sampling hours (a data scientist)
        kind_ok = kind_ok and (pc.type == "datetime" or time_named(pc.name) or ends_named(pc.name)
                               or time_point_named(pc.name))
        if not kind_ok or pc.name == rel.parent_column or parent[pc.name].isna().any():
            continue
        b = _by_key(_times(parent, pc), pkeys).reindex(groups).to_numpy(dtype=float)
        if np.all(t <= b + 1e-9):
            slack = float(np.nanmedian(b - t))
            if slack > 0 and starts_named(pc.name) and not ends_named(pc.name):  # a start bounds its times from below
                # (after); from above only where they sit on it (OMOP's conditions on their visit's start day): dietox's
                # starting weight, ``Start`` (15-35 kg), stayed above every pig's weeks 1-12 and was written as their end
                continue
            if slack < best_slack:
                within, best_slack = pc.name, slack
    if within is not None:
        found.append("within")
    after = _infer_after(t, groups, tcol, parent, ps, pkeys, exclude={rel.parent_column, within})
    if after is not None:
        found.append("after")
    seq = None
    order = np.lexsort((t, pd.factorize(groups)[0]))
    codes_sorted = pd.factorize(groups)[0][order]
    rank = pd.Series(codes_sorted).groupby(codes_sorted).cumcount().to_numpy()
    # (the time itself may number the rows: respiratory's visit 1-4, every patient's 1, 2, 3, 4; left to the time model
    # it was written 1, 1, 2, 3 for 0-23% of the synthetic patients, a data scientist: a sequence is computed)
    for c in sorted(cs.columns, key=lambda c: c.name != order_by):
        if c.name in keys or c.type not in ("integer", "categorical", "continuous"):
            continue
        v = pd.to_numeric(child[c.name], errors="coerce").to_numpy(dtype=float)[order]
        if np.isnan(v).any():
            continue
        for start in (1, 0):
            if np.array_equal(v, rank + start) and (v.max(initial=0) > 1 or _sequence_named(c.name)):
                seq = c.name
                break
        if seq:
            break
    if seq is not None:
        found.append("sequence")
    ends = []
    for c in cs.columns:
        if c.name in keys or c.name in (order_by, seq) or c.type not in NUMERIC_TYPES or (c.type == "datetime") != (tcol.type == "datetime"):
            continue
        if c.type != "datetime" and not (time_point_named(c.name) or ends_named(c.name)):
            # (a number is an end by its name too: KosteckiDillon's dos, days since the study began, never below the
            # diary's own day, was taken for every entry's end, and each patient's diary ended on day 99)
            continue
        e = _times(child, c)
        ok = ~np.isnan(e)
        if ok.sum() >= max(2, 0.5 * len(e)) and np.all(e[ok] >= t[ok]) and np.any(e[ok] > t[ok]):
            ends.append(c.name)
    if ends:
        found.append("ends")
    codes = pd.factorize(groups)[0]
    chained = next((e for e in ends if _chained(t, _times(child, cs.column(e)), codes)), None)
    if chained is not None:
        found.append("chained")
    terminal, terminal_values = None, []
    best = 0
    for c in cs.columns:  # the category column whose terminal values most parents hold
        if c.name in keys or c.type not in ("categorical", "boolean") or not c.categories:
            continue
        text = np.array([None if pd.isna(x) else category_key(x) for x in child[c.name]], dtype=object)
        ends_here = terminal_keys(groups, t, text)
        held = int(pd.Series(groups[np.isin(text, np.array(ends_here, dtype=object))]).nunique()) if ends_here else 0
        if held > best:
            native = {category_key(x): x for x in c.categories}
            terminal, terminal_values, best = c.name, [native.get(k, k) for k in ends_here], held
    if terminal is not None:
        found.append("terminal")
    flag, flag_value = terminal_flag(parent, ps, set(schema.key_columns(rel.parent)), groups,
                                     canonical_keys(parent[rel.parent_column]).to_numpy(), child[terminal],
                                     terminal_values) if terminal is not None else (None, None)
    if flag is not None:
        found.append("flag")
    at_end = False
    if terminal is not None and within is not None and not ends:  # every terminal row on its parent's within time
        b = _by_key(_times(parent, ps.column(within)), pkeys).reindex(groups).to_numpy(dtype=float)
        ended = canonical_keys(child[terminal]).isin([category_key(v) for v in terminal_values]).to_numpy(dtype=bool)
        at_end = bool(ended.any() and np.all(np.abs(t[ended] - b[ended]) <= 1e-9))
    if at_end:
        found.append("terminal_at_end")
    constant = [c for c in constant if c not in (seq, *ends)]
    copied = [c for c in copied if c not in (seq, *ends)]
    found += [f for f, v in (("constant", constant), ("copied", copied)) if v]  # type: ignore[misc]
    advancing = advancing_columns(child, groups, t, [c.name for c in cs.columns if c.type in ("integer", "continuous")
                                                     and c.name not in {*keys, order_by, seq, *ends, *constant, *copied}])
    if advancing:
        found.append("advancing")
    once, once_values = _infer_once(child, cs, groups, keys | set(constant) | set(copied), terminal, terminal_values) if (
        not schema.children_of(rel.child)) else (None, [])
    if once is not None:
        found.append("once")
    return rel.model_copy(update={"order_by": order_by, "within": within, "after": after, "sequence": seq, "ends": ends,
                                  "chained": chained, "terminal": terminal, "terminal_values": terminal_values,
                                  "flag": flag, "flag_value": flag_value, "terminal_at_end": at_end,
                                  "once": once, "once_values": once_values,
                                  "constant": constant, "copied": copied, "advancing": advancing, "read_from_data": found})


def _infer_once(child: pd.DataFrame, cs: DatasetTable, groups: np.ndarray, skip: set[str], terminal: str | None,
                terminal_values: list[Any]) -> tuple[str | None, list[Any]]:
    """The category column (not in ``skip``: keys, columns held once per parent) whose values held once per parent
    (:func:`once_keys`; its terminal values aside) most parents hold, with those values; (None, []) where none is. Only
    for a table no other links to (sampling keeps them there)."""
    once, once_values, best = None, [], 0
    for c in cs.columns:
        if c.name in skip or c.type not in ("categorical", "boolean") or not c.categories or (
                len(c.categories) > ONCE_MAX_CATEGORIES):
            continue
        text = canonical_keys(child[c.name]).to_numpy(dtype=object)
        ending = {category_key(v) for v in terminal_values} if c.name == terminal else set()
        held_once = [k for k in once_keys(groups, text) if k not in ending]
        held = int(pd.Series(groups[np.isin(text, np.array(held_once, dtype=object))]).nunique()) if held_once else 0
        if held > best:
            native = {category_key(x): x for x in c.categories}
            once, once_values, best = c.name, [native.get(k, k) for k in held_once], held
    return once, once_values


#: A category value is held once per parent (``once``, :func:`once_keys`) where no parent holds it on two rows and at
#: least this many parents with two rows or more hold it ...
ONCE_MIN_PARENTS = 5
#: ... in a column of at most this many categories (a column of near-unique text, a note or an unlinked id, holds each
#: value once by chance) ...
ONCE_MAX_CATEGORIES = 30
#: ... where, were the rows' values drawn independently at the value's share, at least this many parents would hold it
#: twice (a value of 3% of the rows is held once by chance: a reviewer's 20 wards drawn at random took 7 of them).
ONCE_EXPECTED_TWICE = 3.0


def once_keys(groups: np.ndarray, keys: np.ndarray) -> list[str]:
    """The values (text keys, ``keys``; None for missing) of a child category column that no parent (``groups``) holds
    on two rows, each held by at least :data:`ONCE_MIN_PARENTS` parents with two rows or more and common enough that
    chance would have given :data:`ONCE_EXPECTED_TWICE` parents two (an AIDS diagnosis, a transplant: a data scientist's
    aidssi synthetic patients had theirs twice in 13-16%); none in a column of numbers (a visit number is held once by
    each parent, as a code of grades may be)."""
    ok = pd.notna(keys)
    if not ok.any():
        return []
    g, v = groups[ok], keys[ok]
    if np.isfinite(pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(dtype=float)).all():
        return []
    several = pd.Series(groups).duplicated(keep=False).to_numpy()[ok]  # rows of parents with two rows or more
    twice = pd.DataFrame({"g": g, "v": v}).duplicated(keep=False).to_numpy()
    sizes = pd.Series(g).value_counts().to_numpy(dtype=float)  # each parent's rows holding a value
    out = []
    for key in pd.unique(v):
        at = v == key
        if twice[at].any() or np.unique(g[at & several]).size < ONCE_MIN_PARENTS:
            continue
        r = float(at.mean())  # (independent rows at this share: the parents expected to hold it twice)
        expected = float(np.sum(1.0 - (1.0 - r) ** sizes - sizes * r * (1.0 - r) ** np.maximum(sizes - 1.0, 0.0)))
        if expected >= ONCE_EXPECTED_TWICE:
            out.append(str(key))
    return sorted(out)


#: The share of the parents that may break a rule of a parent's rows and leave it read from the data (a rate, a copy).
CONSTANT_SHARE = 0.05
#: A child column is held once per parent (``constant``) where at most this share of the parents with two rows or more
#: holding it have two values of it (quinidine's ages repeated on each visit: 3% of the patients had a birthday between
#: visits; 6.4% in a data scientist's 80% of them, over 0.05, and the synthetic ages then changed between the visits of
#: 96-100% of the patients, at epsilon 100 too: a few real changes lost weigh less than every patient's age jumping) ...
CONSTANT_COLUMN_SHARE = 0.10
#: ... and at least this many such parents hold it.
CONSTANT_MIN_PARENTS = 5


def as_text(s: pd.Series) -> pd.Series:
    """A column's values as text (None for missing): what tells two of a parent's rows (or a row and its parent) apart."""
    return s.where(s.notna(), None).astype(object).map(lambda v: None if v is None else str(v))


def varying_groups(values: pd.Series, groups: np.ndarray) -> np.ndarray:
    """The groups (of ``groups``) whose rows hold two present values or more of ``values``."""
    per = pd.DataFrame({"g": groups, "v": as_text(values).to_numpy()}).dropna().groupby("g")["v"].nunique()
    return per.index[per.to_numpy() > 1].to_numpy()


def constant_columns(child: pd.DataFrame, groups: np.ndarray, names: list[str]) -> list[str]:
    """The child columns (of ``names``) that hold one value per parent (``groups``) but for :data:`CONSTANT_COLUMN_SHARE` of
    the parents with two rows or more, at least :data:`CONSTANT_MIN_PARENTS` of them holding a value, and more than one
    value across parents (a patient's attributes an export repeats on each visit: quinidine's Age, Weight, Smoke came
    out 9 values per patient)."""
    codes = pd.factorize(groups)[0]
    multi = pd.Series(codes).map(pd.Series(codes).value_counts()).to_numpy() > 1
    if multi.sum() < 2:
        return []
    out = []
    for name in names:
        present = child[name].notna().to_numpy() & multi
        held = np.unique(codes[present])
        if held.size < CONSTANT_MIN_PARENTS or as_text(child[name][present]).nunique() < 2:
            continue
        if varying_groups(child[name][multi], codes[multi]).size <= CONSTANT_COLUMN_SHARE * held.size:
            out.append(name)
    return out


#: A child time is a schedule where its values are whole, at most this many, with gaps between them: nlswork's 15 survey
#: years between 68 and 88 and Spruce's 13 measurement days were drawn between them (28% and 85% of a non-private fit's
#: rows off the schedule, a data scientist) at the 12 of a category list.
SCHEDULE_VALUES = 40


def schedule(values: np.ndarray) -> np.ndarray | None:
    """The distinct values of a time (``values``, NaN ignored) where they are a schedule (:data:`SCHEDULE_VALUES`
    whole values with a gap between the first and the last: a trial's weeks 0, 2, 4, 6, 11), else None. The one reading
    of a non-private fit's schedule and of the report's ``off_schedule_share``."""
    x = np.asarray(values, dtype=float)
    v = np.unique(x[np.isfinite(x)])
    if not 2 <= v.size <= SCHEDULE_VALUES or not np.all(v == np.round(v)) or v.size == v[-1] - v[0] + 1:
        return None
    return v


#: Rates a column may advance at per unit of its rows' time (public): the same unit (a year's age at yearly visits),
#: and years, months or weeks per day, week or month, and back; then surveys two to five years apart, or half a year
#: (geepack's muscatine: ages 2 years apart at occasions 1, 2, 3), tried last.
ADVANCING_RATES = (1.0, 1 / 365.25, 12 / 365.25, 7 / 365.25, 1 / 7, 1 / 12, 1 / 52.1775, 12 / 52.1775, 365.25, 7.0, 12.0,
                   52.1775, 2.0, 3.0, 4.0, 5.0, 0.5)
#: ... where a column's value less the rate times the time varies within a parent by at most this share of its scale
#: (whole numbers: by 1, where they change in ``ADVANCING_MOVED_SHARE`` of the parents whose rows span a whole unit).
ADVANCING_TOLERANCE = 1e-5
ADVANCING_MOVED_SHARE = 0.9


def advancing_columns(child: pd.DataFrame, groups: np.ndarray, t: np.ndarray, names: list[str]) -> dict[str, float]:
    """The child number columns (of ``names``) that advance with the time ``t`` at one of :data:`ADVANCING_RATES` within
    every parent but :data:`CONSTANT_SHARE` of those with two rows holding it (its value less the rate times the time
    one value per parent, to ``ADVANCING_TOLERANCE``), and change within :data:`CONSTANT_MIN_PARENTS` parents at least:
    ``{column: rate}``. RandHIE's ``xage`` at yearly visits (rate 1): synthetic persons' ages fell between their years
    for 80-84% of them (a data scientist). A column held once is no advancing one (``constant``)."""
    out: dict[str, float] = {}
    codes = pd.factorize(groups)[0]
    for name in names:
        x = pd.to_numeric(child[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(x) & np.isfinite(t)
        if ok.sum() < 2:
            continue
        frame = pd.DataFrame({"g": codes[ok], "x": x[ok], "t": t[ok]})
        sizes = frame.groupby("g")["x"].transform("size").to_numpy()
        frame = frame[sizes > 1]
        moved = frame.groupby("g")["x"].agg(lambda v: v.max() - v.min())
        if int((moved > 0).sum()) < CONSTANT_MIN_PARENTS:
            continue
        scale = max(1.0, float(np.nanmax(np.abs(frame["x"].to_numpy()))))
        whole = bool(np.all(frame["x"].to_numpy() == np.round(frame["x"].to_numpy())))
        # (whole numbers recorded at a visit, an age at interview, sit a year either side of a birthday: within 1, where
        # they advance in nine parents of ten whose rows span a whole unit; a flag that flips is no age: a data
        # scientist's nlswork, 22% of the women with two values of age less year)
        tol = 1.0 + 1e-9 if whole else ADVANCING_TOLERANCE * scale
        g = frame.groupby("g")
        held: list[tuple[int, int, float]] = []  # (parents off the rate by half a unit or more, order, rate)
        for i, rate in enumerate(ADVANCING_RATES):
            rest = (frame["x"] - rate * frame["t"]).groupby(frame["g"]).agg(lambda v: v.max() - v.min())
            if int((rest > tol).sum()) > CONSTANT_SHARE * len(rest):
                continue
            if whole:
                span = rate * (g["t"].max() - g["t"].min())
                wide = span >= 1.0
                if int(wide.sum()) < CONSTANT_MIN_PARENTS or float((moved[wide] > 0).mean()) < ADVANCING_MOVED_SHARE:
                    continue
            # (whole ages two years apart at two surveys are within 1 of a rate of 1 too: the rate they sit on exactly
            # in the most parents is theirs, a reviewer)
            held.append((int((rest >= (0.5 if whole else tol)).sum()), i, float(rate)))
        if held:
            out[name] = min(held)[2]
    return out


def copied_columns(child: pd.DataFrame, parent: pd.DataFrame, groups: np.ndarray, parent_keys: np.ndarray,
                   names: list[str]) -> list[str]:
    """The child columns (of ``names``) that hold their parent's value of the column of the same name (names are
    public: a patient's sex, treatment or age repeated on each visit), in all but :data:`CONSTANT_SHARE` of the parents
    whose rows hold both (geepack's respiratory: treat, sex and age on each visit came out varying within 37-100% of
    the patients and differing from the patient's on half the rows)."""
    at = pd.Series(np.arange(len(parent)), index=parent_keys)
    at = at[~at.index.duplicated()]  # (a key written twice: its first row, as the fit keeps one)
    pos = at.reindex(groups).to_numpy()
    ok = ~pd.isna(pos)
    pos = np.where(ok, pos, 0).astype(np.int64)
    out = []
    for name in names:
        if name not in parent.columns:
            continue
        c, p = as_text(child[name]).to_numpy(), as_text(parent[name]).to_numpy()[pos]
        both = ok & pd.notna(c) & pd.notna(p)
        held = np.unique(groups[both])
        if held.size < CONSTANT_MIN_PARENTS:
            continue
        if np.unique(groups[both & (c != p)]).size <= CONSTANT_SHARE * held.size:
            out.append(name)
    return out


#: A category value is a terminal event (:func:`terminal_keys`) where at least this many parents hold it with a row
#: before it.
TERMINAL_MIN_PARENTS = 5


def terminal_flag(parent: pd.DataFrame, ps: DatasetTable, keys: set[str], groups: np.ndarray, parent_groups: np.ndarray,
                  event: pd.Series, values: list[Any]) -> tuple[str | None, Any]:
    """The parent's yes/no column (:func:`~medsynth.io.dataset.flag_truth`, never missing, not constant) that is yes
    exactly for the parents holding a row of one of the terminal ``values`` (a patient's death flag and their death row),
    with that value; (None, None) where none is. ``groups`` are the child rows' parent keys, ``parent_groups`` the
    parent rows'."""
    text = canonical_keys(event).to_numpy()
    for c in ps.columns:
        if c.name in keys or c.type not in ("boolean", "categorical", "integer") or c.name not in parent.columns:
            continue
        got = flag_truth(parent[c.name])
        if got is None or not got[1].all() or got[0].all() or not got[0].any():
            continue
        for v in values:
            holders = groups[text == category_key(v)]
            if np.array_equal(np.isin(parent_groups, holders), got[0]):
                return c.name, v
    return None, None


def terminal_keys(groups: np.ndarray, t: np.ndarray, keys: np.ndarray) -> list[str]:
    """The values (text keys, ``keys``; None for missing) of a child category column that end their parent's rows
    (``groups``, times ``t``): held once per parent at most, never followed by a later row of the parent, by at least
    :data:`TERMINAL_MIN_PARENTS` parents with a row before it; none where no other value is followed by a row (every
    value of a column of one row per parent would be), nor in a column of numbers that fall within at most one parent or
    1% of them (a visit number's highest values end its rows)."""
    ok = np.isfinite(t) & pd.notna(keys)
    if not ok.any():
        return []
    g, tt, v = pd.factorize(groups[ok])[0], t[ok], keys[ok]
    num = pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(dtype=float)
    # (a 0/1 column whose 0 a parent holds twice is no rank but a flag: a counting-process table's event, 1 on a dying
    # patient's last interval, never falls either; a data scientist's jasa heart folder had no terminal event)
    flag = bool(np.isin(num, (0.0, 1.0)).all()) and bool(pd.Series(g[num == 0]).duplicated().any())
    if np.isfinite(num).all() and not flag:  # numbers that fall within at most one parent or 1% of them in time order are a count or
        order = np.lexsort((tt, g))  # a visit number (its highest values end its rows; no event; one patient's visits
        same = g[order][1:] == g[order][:-1]  # numbered out of step made visit 5 a terminal event, a reviewer)
        falls = np.unique(g[order][1:][same & (np.diff(num[order]) < 0)]).size
        if falls <= max(1, 0.01 * np.unique(g).size):
            return []
    frame = pd.DataFrame({"g": g, "t": tt})
    last = frame.groupby("g")["t"].transform("max").to_numpy()
    first = frame.groupby("g")["t"].transform("min").to_numpy()
    followed = tt < last - 1e-9
    if not followed.any():
        return []
    out = []
    for key in pd.unique(v):
        at = v == key
        held = g[at]
        if followed[at].any() or np.unique(held).size < held.size:
            continue
        if np.unique(held[tt[at] > first[at] + 1e-9]).size >= TERMINAL_MIN_PARENTS:
            out.append(str(key))
    return sorted(out)


#: Fewest consecutive pairs of rows (of one parent) that make intervals chained.
CHAINED_MIN_PAIRS = 5


def previous_end(t: np.ndarray, end: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, whether a row comes before it in its group's time order (``t``), and that row's ``end`` (NaN
    where none): what a chained interval starts at. ``schema infer``, the DP decision of ``chained`` and the
    evaluation of interval order all read it."""
    order = np.lexsort((t, groups))
    same = groups[order][1:] == groups[order][:-1]
    follows = np.zeros(len(t), dtype=bool)
    follows[order[1:][same]] = True
    prev = np.full(len(t), np.nan)
    prev[order[1:][same]] = np.asarray(end, dtype=float)[order[:-1][same]]
    return follows, prev


def chain_broken(t: np.ndarray, end: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`previous_end` (rows with a previous row, its end) and, of those rows, the ones that do not start at it."""
    follows, prev = previous_end(t, end, groups)
    return follows, prev, follows & ~np.isclose(t, prev, rtol=0.0, atol=1e-6)


def _chained(t: np.ndarray, end: np.ndarray, codes: np.ndarray) -> bool:
    """Whether, in every parent, each row's time equals the previous row's end (in time order), over at least
    ``CHAINED_MIN_PAIRS`` pairs."""
    follows, _, broken = chain_broken(t, end, codes)
    return int(follows.sum()) >= CHAINED_MIN_PAIRS and not broken.any()


__all__ = ["AFTER_CONTRADICTION_SHARE", "AFTER_SLACK", "ONCE_EXPECTED_TWICE", "ONCE_MAX_CATEGORIES", "ONCE_MIN_PARENTS", "AFTER_SLACK_DAYS", "after_contradicted", "after_slack", "age_named", "chain_broken", "clock_named", "infer_dataset_schema", "infer_time_fields", "once_keys", "parse_relation", "schedule", "previous_end", "event_times", "starts_named", "time_point_named", "time_stem"]
