"""How the multi-table DP model settles each table's schema: domains under DP, relation fields confirmed.

A mixin of :class:`~medsynth.tabular.multi_mst.MultiTableDPMST` (steps 2 of its budget): each table's
fields read from the data are re-decided and its domains estimated with DP on one random row per
patient (sensitivity 1), measuring the 1-way marginals of the root's model and of its direct children's models
too (reused by them: see ``MultiTableDPMST._domain_oneways``); relation fields read from the data are kept only when a noisy count of
patients contradicting them is small; time fields whose columns DP omitted or re-typed are dropped.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.dataset import DatasetSchema, DatasetTable, Relation, canonical_keys, yes_no_column
from medsynth.io.dataset_infer import (
    ADVANCING_TOLERANCE,
    AFTER_CONTRADICTION_SHARE,
    ONCE_MAX_CATEGORIES,
    after_contradicted,
    age_named,
    chain_broken,
    ends_named,
    follow_up_named,
    schedule,
    starts_named,
    time_named,
    time_stem,
)
from medsynth.io.schema import OTHER_CATEGORY, TableSchema, _name_words, category_key
from medsynth.privacy.mechanisms import exponential_mechanism, gaussian_sigma
from medsynth.privacy.noise import Generators
from medsynth.privacy.spans import span_widened
from medsynth.tabular.base import COUNT_SHARE
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.domain import LOCATE_RESERVE, reopen_inferred_omissions, resolve_domain
from medsynth.tabular.encoding import TableCodec
from medsynth.tabular.multi_base import primary_parent
from medsynth.tabular.multi_counts import LedgerView, one_per_group
from medsynth.tabular.multi_features import group_rank
from medsynth.tabular.orderings import tested_orderings
from medsynth.tabular.structure import needs_decision

#: Share of the domain budget spent deciding relations' time fields under DP (all relations together) ...
DECISION_SHARE = 0.1
#: ... plus this share of the whole budget (from the models): at 10% of the domain budget alone, the noise of a
#: count on 200 patients (57) was five times the 5% threshold, and a time column reversed for every patient was
#: kept in 4 of 10 fits. (0.055 since the thirty-second session: the columns held once per parent and the terminal
#: event take ``CONSTANT_PART`` and ``TERMINAL_PART`` of a relation's decisions, and the time fields keep theirs: at
#: 0.04 a time order 800 patients kept fell back on the names in 9 of 12 fits, 2 before.)
DECISION_EXTRA = 0.055
#: A number or date column named like a time gets this many times its type's share of its table's domain budget: a
#: child table's time carries each patient's order, gaps and follow-up (zero-config pbcseq: visits.day, spread over
#: 0-5,000 days, was left empty in 8 of 12 fits at epsilon 1 with an even share, and the visits had no time order).
TIME_WEIGHT = 3.0
#: The time fields of a relation that a DP fit decides.
FIELDS = ("order_by", "within", "after", "sequence", "ends", "chained")
#: Share of a child table's domain budget that measures the spans of its numbers named like a time
#: (:func:`span_widened`): the domain release sees one random row per patient, and a schedule's first and last times
#: are each one row of many (sleepstudy's 18 subjects on days 0-9: 1.8 patients a day), so the released range came out
#: cut short in every fit at epsilon 10 ([2, 7], [3, 5], [6, 7]) and the sampler piled the visits on its ends.
SPAN_PART = 0.15
#: Category values whose name says they end a person's rows (public words): a DP fit tests each such value of a child
#: category column (released by the DP category list) for a terminal event, a parent's rows never going on after it.
TERMINAL_WORDS = frozenset({"death", "dead", "died", "deceased", "expired", "censor", "censored", "censoring"})
#: ... of which these say a death: no row of a person follows one (public knowledge), so a value holding one (``death``,
#: ``relapse_or_death``) is kept where the noise cannot tell (:meth:`MultiTableDPMST._decide_terminal`) unless the
#: patients going on after it stand ``TERMINAL_OFF_SIGMAS`` deviations above ``TERMINAL_GO_SHARE`` of its holders: a data
#: scientist's myeloid (517 patients, 253 deaths) needed 349 holders for the support test at epsilon 1, and its
#: synthetic patients died up to four times in every fit.
DEATH_WORDS = frozenset({"death", "dead", "died", "deceased"})
TERMINAL_OFF_SIGMAS = 2.0
#: Words that turn a value's end word around (``no_death``, ``not dead``, ``alive``) or make it another person's
#: (``parent_died``, ``death_in_family``: a reviewer): no candidate.
NOT_WORDS = frozenset({"no", "not", "non", "without", "alive", "free", "survived", "parent", "parents", "family",
                       "spouse", "partner", "husband", "wife", "mother", "father", "sibling", "brother", "sister",
                       "relative", "relatives"})
#: Words that join others in a value's name (``relapse_or_death``): shared, they name nothing.
JOIN_WORDS = frozenset({"or", "and", "of", "the", "in", "at", "to", "by", "with"})


#: Words naming a child's yes/no column whose yes says the patient's event happened on that row (a counting-process
#: table's ``event`` or ``status``, a ``died`` column): its yes value is a terminal candidate, as a value named like an
#: end is. A data scientist's jasa heart folder (intervals with ``event`` 0/1, 1 on a dying patient's last row): no
#: candidate, and 23-48% of synthetic patients died twice at epsilon 10 (real none).
EVENT_COLUMN_WORDS = TERMINAL_WORDS | {"event", "status", "fustat", "outcome", "endpoint", "fail", "failure"}
#: The keys of a yes/no column's yes.
YES_KEYS = frozenset({"1", "True"})


def yes_value(col: Any) -> Any:  # noqa: ANN401 - a ColumnSchema; a category value
    """The yes value of a yes/no column (:func:`~medsynth.io.dataset.yes_no_column`) as its schema holds it, else None."""
    if not yes_no_column(col):
        return None
    return True if col.type == "boolean" else next((v for v in col.categories if category_key(v) in YES_KEYS), None)


def event_column(name: str) -> bool:
    """Whether a column's name says it records a person's events (a word of :data:`EVENT_COLUMN_WORDS`, none of
    :data:`NOT_WORDS`: ``event``, ``event_type``)."""
    words = set(_name_words(name))
    return bool(words & EVENT_COLUMN_WORDS) and not words & NOT_WORDS


#: Words beside :data:`EVENT_COLUMN_WORDS` that a yes/no column's name may hold and still say a person's own end
#: (``vital_status``).
VITAL_WORDS = frozenset({"vital", "vstatus"})


def event_flag(name: str) -> bool:
    """Whether a yes/no column's name says the person's own event and nothing else: every word of it in
    :data:`EVENT_COLUMN_WORDS` or :data:`VITAL_WORDS` (``event``, ``status``, ``fustat``, ``died``, ``vital_status``;
    not ``hiv_status``, ``smoking_status``: a reviewer saw a random ``hiv_status`` taken as the death flag on the names
    in 3 fits of 5)."""
    words = set(_name_words(name))
    return bool(words) and words <= (EVENT_COLUMN_WORDS | VITAL_WORDS)


def death_named(column: str, value: Any) -> bool:  # noqa: ANN401 - a category value of any type
    """Whether a terminal candidate names a death: its value (``death``, ``relapse_or_death``), or a yes in a column
    named so (``died`` = 1)."""
    if value_words(value) & DEATH_WORDS:
        return True
    words = set(_name_words(column))
    return bool(words & DEATH_WORDS) and not words & NOT_WORDS and category_key(value) in YES_KEYS


def event_value(column: str, value: Any) -> bool:  # noqa: ANN401 - a category value of any type
    """Whether a terminal candidate names a person's event: a death (:func:`death_named`), or a yes in a column named
    for one (:func:`event_flag`: ``event`` = 1)."""
    return death_named(column, value) or (event_flag(column) and category_key(value) in YES_KEYS)


def _names_one(flag: str, value: Any) -> bool:  # noqa: ANN401 - a category value of any type
    """Whether a yes/no column's name and a terminal value's name say the same thing (``death`` and ``death``,
    ``died`` and ``death``, ``relapse_or_death`` and ``relapse_or_death``): a word in common, or both a death word."""
    a, b = value_words(flag) - JOIN_WORDS, value_words(value) - JOIN_WORDS
    return bool(a & b or (a & DEATH_WORDS and b & DEATH_WORDS))


def value_words(value: Any) -> set[str]:  # noqa: ANN401 - a category value of any type
    """The lower-case words of a category value (split at anything not a letter or digit): ``relapse_or_death`` ->
    {relapse, or, death}."""
    return {w for w in re.split(r"[^0-9a-z]+", str(value).strip().lower()) if w}


def terminal_named(value: Any) -> bool:  # noqa: ANN401
    """Whether a category value's name says it ends a person's rows: a word of :data:`TERMINAL_WORDS` and none of
    :data:`NOT_WORDS`."""
    words = value_words(value)
    return bool(words & TERMINAL_WORDS) and not words & NOT_WORDS
#: ... with this share of the relation's decision budget (the other fields' shares scaled down to make room), only
#: where such a value is released.
TERMINAL_PART = 0.15
#: ... kept where the patients holding it stand this many deviations above zero, and those whose rows go on after it
#: are at most this share of them plus half a deviation (a value 29% of its holders go on after is kept in about a
#: quarter of fits at 6 deviations of holders, in 8% at 10; a true terminal value in about 86%).
TERMINAL_SUPPORT_SIGMAS = 6.0
TERMINAL_GO_SHARE = 0.1
#: A parent's yes/no column is the flag of a terminal value (``flag``: a death flag and the death row) under DP where the
#: noisy count of the patients whose flag disagrees with their rows is at most this share of the noisy patients plus
#: this many deviations, with this share of the relation's decision budget (only where the parent has such a column).
FLAG_SHARE = 0.05
FLAG_SIGMAS = 1.0
FLAG_PART = 0.05
#: Share of a relation's decision budget that decides which values a parent holds once at most (``once``), only where
#: there are candidates (the released values of the terminal candidates' columns and of columns named like an event);
#: a value is kept where the patients holding it stand ``ONCE_SUPPORT_SIGMAS`` deviations above zero and those holding
#: it twice are at most ``ONCE_SHARE`` of them plus one deviation (the second count decides; the first only keeps a
#: value too rare to tell apart: at the terminal's 6 deviations aidssi's SI switch, held by a third of 260 patients, was
#: never kept at epsilon 10, and 5-7% of synthetic patients held it twice; at 0.05 of the budget and half a deviation,
#: noise alone dropped its AIDS diagnosis in 1 fit of 3).
ONCE_PART = 0.1
ONCE_SHARE = 0.05
ONCE_SUPPORT_SIGMAS = 4.0
#: Share of a relation's decision budget that decides whether its terminal rows lie on their parent's ``within`` time,
#: measured where the patients holding one stand this many deviations above zero (else by the names).
AT_END_PART = 0.05
AT_END_SUPPORT_SIGMAS = 3.0
#: A child column is held once per parent (``constant``) under DP where a noisy count of the patients with two rows or
#: more stands ``CONSTANT_SUPPORT_SIGMAS`` deviations above zero and the noisy count of those whose rows hold two values
#: of it is at most ``CONSTANT_SHARE`` of it plus one deviation (``CONSTANT_PART`` of the decision budget).
CONSTANT_PART = 0.1
CONSTANT_SUPPORT_SIGMAS = 10.0
#: Share of a relation's order_by budget that picks, where no column is named like a time, the number its patients' rows
#: never decrease in (an exponential mechanism: candidates hundreds of patients apart need little); the rest confirms it.
STEADY_PICK_SHARE = 0.25
CONSTANT_SHARE = 0.05
#: A child column of its parent's column's name is a copy of it unless the noisy count of the patients whose rows differ
#: from the parent's stands this many deviations above ``CONSTANT_SHARE`` of those holding both.
COPY_OFF_SIGMAS = 2.0
#: A child number named like an age (:func:`age_named`) advances with the time order at a rate (``advancing``) under DP
#: where, for the first of :data:`~medsynth.io.dataset_infer.ADVANCING_RATES` in their order, a noisy count of the
#: patients contradicting it (two rows or more whose value less the rate times the time differs by more than 1 for whole
#: numbers, or than a 1e-5 share of the column's DP scale; or that stays while the rate moves it by a whole unit) is at
#: most ``CONTRADICTION_SHARE`` of the noisy count of the patients holding two such rows plus ``KEEP_SIGMAS``
#: deviations, that count standing ``ADVANCING_SUPPORT_SIGMAS`` deviations above zero (``ADVANCING_PART`` of the
#: decision budget, taken only where a candidate is). geepack's muscatine (3,400 children, an age two years apart at each
#: of three surveys): schema infer's order by age was decided anew as the survey's occasion, and 70% of the synthetic
#: children held two visits at one age at epsilon 10 (a data scientist).
ADVANCING_PART = 0.05
ADVANCING_SUPPORT_SIGMAS = 10.0
#: Fixed split of a relation's decision budget (public, whatever the schema declares; unused parts go to the models).
DECISION_PARTS = {"order_by": 0.35, "within": 0.2, "after": 0.2, "sequence": 0.1, "ends": 0.08, "chained": 0.07}
#: A decision is made only where the noise of its counts is at most this share of the patients, so that a column half
#: of the patients contradict passes in under 0.1% of fits (at 0.6 x n for the threshold, a 0/1 column was taken as
#: pbcseq's visit number in one of 20 fits and capped every patient at two visits: count TVD 0.83). Otherwise names
#: decide (``named`` in ``_decide_relation``: the time column, a bound named like an end, a start named like one; no
#: ``sequence``; declare them: a follow-up time bounding the visits is public knowledge).
MAX_SIGMA_SHARE = 0.08
#: At most this many (start, end) pairs of the root table's dates are candidates for its own interval.
ROOT_PAIRS = 6
#: A relation field read from the data is kept when at most this share of patients contradicts it (noisy count) ...
CONTRADICTION_SHARE = 0.05
#: ... plus this many deviations of the count's noise: on 200 patients at epsilon 1 the noise (~57) was five times
#: the 5% (10 patients), and a time order every patient followed was dropped in half of the fits.
KEEP_SIGMAS = 2.0


def _holding(rows: pd.DataFrame, cands: list[tuple[str, Any]]) -> list[np.ndarray]:
    """For each (column, value) candidate, which rows hold it (keys read once per column by
    :func:`~medsynth.io.dataset.canonical_keys`; a missing value holds none)."""
    keys = {col: canonical_keys(rows[col]).to_numpy(dtype=object) for col in {c for c, _ in cands}}
    return [keys[col] == category_key(value) for col, value in cands]


def _past_times(bound: Any, time: Any, *, start: bool) -> bool:
    """Whether a parent column's DP range says it cannot be the start (``start``) or the end of a child time's: a start
    whose range begins past the middle of the times' (most times would come before every start) or ends a whole span of
    theirs past their last, an end whose range stops before their middle. dietox's starting weight, ``Start``, 15-35 kg (DP range 8-64), was taken on its name as the start
    of the visits' weeks 1-12, and every synthetic visit of a pig fell in one week. Coarse DP ranges overlap where the
    columns do (an admission's and its labs' times): the middle, not the ends. Numbers only (a date's range is of
    another kind); post-processing of DP outputs."""
    if "datetime" in (bound.type, time.type):
        return False
    try:
        (b_lo, b_hi), (t_lo, t_hi) = (float(x) for x in bound.bounds()), (float(x) for x in time.bounds())
    except (TypeError, ValueError):
        return False
    middle, span = (t_lo + t_hi) / 2, max(t_hi - t_lo, 0.0)
    if start:  # (... or whose top lies a whole span of the times past their last: a start before its times cannot)
        return b_lo > middle or b_hi > t_hi + span
    return b_hi < middle


def _fullest_column(ok: list[tuple[tuple[str, Any], float]]) -> tuple[str, list[Any]]:
    """Of kept (column, value) candidates with their noisy holders, the column whose values most patients hold, and its
    values (post-processing of the noisy counts)."""
    by_col: dict[str, float] = {}
    for (c, _), hh in ok:
        by_col[c] = by_col.get(c, 0.0) + float(hh)
    col = max(by_col, key=lambda c: by_col[c])
    return col, [v for (c, v), _ in ok if c == col]


def _beside_siblings(g: np.ndarray) -> np.ndarray:
    """Whether each child row's parent (``g``) holds two rows or more: where an order, or a value held once per
    parent, can be seen at all."""
    gs = pd.Series(g)
    return gs.map(gs.value_counts()).to_numpy() > 1


#: What a relation left without a time order under DP is noted with (read by the fit's warning,
#: :func:`medsynth.tabular.api.release_gaps`).
NO_TIME_ORDER = "no column orders the rows"


def whole_numbers(values: list[Any] | None) -> bool:
    """Whether every value of a (released) category list is a whole number (a visit number's categories)."""
    try:
        return bool(values) and all(float(v).is_integer() for v in values)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return False


def _elapsed_named(name: str) -> bool:
    """A name saying a time (:func:`~medsynth.io.dataset_infer.time_named`) other than by a count of visits or a
    sequence alone (``visit``, ``seq``: a visit number is no time to borrow a follow-up range for; ``visit_date`` is)."""
    from medsynth.io.dataset_infer import TIME_WORDS, _ends_like_a_time, _name_words

    words = tuple(w for w in TIME_WORDS if w not in ("visit", "seq"))
    return any(w.startswith(words) or w in ("tstart", "tstop") or _ends_like_a_time(w) for w in _name_words(name))


def _schedule(col: Any, df: pd.DataFrame) -> Any:  # noqa: ANN401
    """A child's whole-number time named like one that takes a few values with gaps between them (a trial's visit weeks
    0, 2, 4, 6, 11) with those values as its ``atoms``: the times its rows are written at (non-private fits; a DP fit
    takes its released keys). MASS::bacteria's synthetic visits fell on weeks 3, 5, 7-10 in 11% of rows (a data
    scientist)."""
    if col.type != "integer" or col.atoms is not None or not time_named(col.name) or col.name not in df.columns:
        return col
    v = schedule(pd.to_numeric(df[col.name], errors="coerce").to_numpy(dtype=float))
    if v is None:
        return col
    return col.model_copy(update={"atoms": [int(k) for k in v], "read_from_data": sorted({*col.read_from_data, "atoms"})})


class DomainsMixin:
    """Schema decisions of a multi-table DP fit (see the module docstring)."""

    privacy: PrivacyConfig
    ledger: Any
    is_private: bool  # provided by the synthesizer (a property there)
    config: Any  # the synthesizer's config (max_children, child_numbers)
    table_oneways: dict[str, dict[str, Any]]  # per table: its domain release, reused as its model's 1-way marginals

    def _usable(self, rel: Relation, tables: dict[str, DatasetTable]) -> Relation:
        """The relation without time fields whose columns a DP fit omitted or re-typed (no longer numbers)."""
        from medsynth.io.schema import NUMERIC_TYPES

        def ok(table: str, col: str | None, kinds: tuple[str, ...] = NUMERIC_TYPES) -> bool:
            c = tables[table].column(col) if col else None
            return c is not None and not c.omitted and c.type in kinds

        upd: dict[str, Any] = {}
        if rel.order_by and not ok(rel.child, rel.order_by):
            upd.update({"order_by": None, "within": None, "after": None, "ends": [], "chained": None})
        else:
            if rel.within and not ok(rel.parent, rel.within):
                upd["within"] = None
            dated = rel.order_by is not None and tables[rel.child].column(rel.order_by).type == "datetime"
            if rel.after and not ok(rel.parent, rel.after, ("datetime",) if dated else ("continuous", "integer")):
                upd["after"] = None
        if rel.ends and "ends" not in upd and not all(ok(rel.child, e) for e in rel.ends):
            upd["ends"] = [e for e in rel.ends if ok(rel.child, e)]
            if rel.chained not in upd["ends"]:
                upd["chained"] = None
        if rel.sequence and not ok(rel.child, rel.sequence, ("integer", "categorical", "continuous")):
            upd["sequence"] = None
        if rel.flag and not ok(rel.parent, rel.flag, ("boolean", "categorical")):
            upd.update({"flag": None, "flag_value": None})
        if rel.once and not ok(rel.child, rel.once, ("boolean", "categorical")):
            upd.update({"once": None, "once_values": []})
        if rel.advancing:  # (a rule read from the data is used by a DP fit once accepted, as a table's rules are; said
            # nowhere public: that it was read is the data's, the run's private/fit.json shows it to the user)
            read = self.is_private and "advancing" in rel.read_from_data
            kept = {c: r for c, r in rel.advancing.items() if ok(rel.child, c, ("integer", "continuous")) and not read}
            if kept != rel.advancing:
                upd["advancing"] = kept
        # (only fields the schema set and did not read: whether schema infer found one is the data's, and naming a
        # field it left unset, or flag_value beside a flag it read, told it: an adversary)
        said = sorted(f for f in upd if f not in ("flag_value", "once_values") and getattr(rel, f)
                      and f not in rel.read_from_data)  # (saying
        if said and self.ledger is not None:                        # it was dropped told a boundary fact, an adversary)
            self.ledger.notes.append(f"relation {rel.label}: {said} not used (their columns were omitted or "
                                     "re-typed when their domains were estimated with DP)")
        return rel.model_copy(update=upd) if upd else rel

    def _borrow_time_ranges(self, tables: dict[str, DatasetTable], schema: DatasetSchema) -> dict[str, DatasetTable]:
        """A child's number column named like a time (``day``) whose DP range release found nothing takes its range from
        its parent's number column named like an end of follow-up (``futime``): from 0 (or that column's minimum, if
        below) to that column's maximum. Post-processing of a DP output, chosen by public names only. On pbcseq at
        epsilon 1 (312 patients, one visit each for the domains) ``day`` came out empty in 3 of 4 fits and the visits
        lost their order; a visit time past the follow-up's end is what the relation's ``within`` bound forbids anyway.
        A child time below 0 (before the start) is clipped to 0: the ledger says so."""
        from medsynth.tabular.domain_numbers import _set_bounds

        out = dict(tables)
        borrowed: list[str] = []
        for rel in schema.relations:
            child, parent = out.get(rel.child), out.get(rel.parent)
            if child is None or parent is None:
                continue
            keys = set(schema.key_columns(rel.child))
            # (or a small code of the one value 0: pbcseq's day, 0 at every patient's first visit, was released as [0])
            lost = [c for c in child.columns if _elapsed_named(c.name) and c.name not in keys and (
                    c.omitted and c.type in ("continuous", "integer")
                    or c.type == "categorical" and c.categories is not None and len(c.categories) == 1
                    and not isinstance(c.categories[0], bool) and c.categories[0] == 0)]
            ends = [c for c in parent.columns if not c.omitted and c.type in ("continuous", "integer") and ends_named(c.name)
                    and time_named(c.name) and c.min is not None and c.max is not None]
            if not lost or not ends:
                continue
            lo, hi = ends[0].bounds()
            lo = min(0.0, lo)
            if not hi > lo:
                continue
            cols = [c.model_copy(update={"omitted": False, "transform": "none", "missing": c.missing and not c.omitted,
                                         "type": "continuous", "categories": None,
                                         **_set_bounds(c.model_copy(update={"type": "continuous"}), lo, hi)})
                    if c in lost else c for c in child.columns]
            out[rel.child] = child.model_copy(update={"columns": cols})
            for c in lost:  # (a code's counts from the domain release are no 1-way of the borrowed range)
                getattr(self, "table_oneways", {}).get(rel.child, {}).pop(c.name, None)
            borrowed += [f"'{rel.child}.{c.name}' from '{rel.parent}.{ends[0].name}'" for c in lost]
        if borrowed and self.ledger is not None:
            self.ledger.notes.append(
                f"time ranges {borrowed}: no range of the child's times stood above the noise, so each takes its parent's "
                "follow-up range (0 to the released maximum of the column named like an end; post-processing, chosen by "
                "names): child times below 0 are clipped to 0")
        return out

    def _align_times(self, tables: dict[str, DatasetTable], relations: list[Relation], order: list[str]) -> dict[str, DatasetTable]:
        """Post-processing of the released ranges, which DP releases column by column: an interval end's range covers
        its start's, and a child's time range covers its parent's ``after`` minimum (unless that lies further below it
        than its own span: a birth date) and ``within`` maximum (a
        DP maximum of dischtime below admittime's drew stays that ended before they began, and labs clipped to the
        maximum of their own range piled up there)."""
        from medsynth.tabular.domain_numbers import _set_bounds

        out = dict(tables)
        changed: list[str] = []

        def widen(t: str, name: str, lo: float | None = None, hi: float | None = None) -> None:
            col = out[t].column(name)
            if col.min is None or col.max is None or col.omitted or (col.public and not col.read_from_data):
                return  # (a range declared public is a fact: Stanford heart's starts, declared up to 310, were widened to
                # the follow-up's 1,799 and 30-40% of later intervals started past 310; a verification on the real data)
            a, b = col.bounds()
            na, nb = min(a, lo) if lo is not None else a, max(b, hi) if hi is not None else b
            if (na, nb) != (a, b):
                cols = [c.model_copy(update=_set_bounds(c, na, nb)) if c.name == name else c for c in out[t].columns]
                out[t] = out[t].model_copy(update={"columns": cols})
                changed.append(f"{t}.{name}")

        def ok(t: str, name: str | None) -> bool:
            if not name:
                return False
            c = out[t].column(name)
            return c.min is not None and c.max is not None and not c.omitted

        for r in sorted(relations, key=lambda r: order.index(r.child) if r.child in order else len(order)):
            if not ok(r.child, r.order_by):
                continue
            c_lo, c_hi = out[r.child].column(r.order_by).bounds()  # type: ignore[arg-type]
            lo = out[r.parent].column(r.after).bounds()[0] if ok(r.parent, r.after) else None
            if lo is not None and c_lo - lo > c_hi - c_lo:  # a far anchor (a birth date): the times do not reach it
                lo = None
            hi = out[r.parent].column(r.within).bounds()[1] if ok(r.parent, r.within) else None
            widen(r.child, r.order_by, lo, hi)  # type: ignore[arg-type]
            bottom, top = out[r.child].column(r.order_by).bounds()  # type: ignore[arg-type]
            for e in r.ends:  # an interval's end spans its start's range (and its own)
                if ok(r.child, e):
                    widen(r.child, e, bottom, top)
        root_start = getattr(self, "root_start", None)
        if root_start and order and ok(order[0], root_start):
            bottom, top = out[order[0]].column(root_start).bounds()
            for e in getattr(self, "root_ends", []):
                if ok(order[0], e):
                    widen(order[0], e, bottom, top)
        if changed and self.ledger is not None:
            self.ledger.notes.append(f"time ranges {changed} widened to cover the times they follow or bound (post-processing "
                                     "of the released ranges)")
        return out

    def _steady_number(self, rel: Relation, cands: list[Any], bad_rows: Any, units: np.ndarray, several: np.ndarray,
                       rho: float, n_hat: float, gens: Generators) -> list[str]:
        """The child number that orders a relation's rows where no column is named like a time: ``STEADY_PICK_SHARE`` of
        ``rho`` picks the candidate fewest patients contradict (``bad_rows``) by the exponential mechanism (a patient
        changes each count by at most one: sensitivity 1); the rest measures, in one Gaussian release (sensitivity sqrt(2)),
        that count and the patients with two rows or more (``several``: the only ones an order can be seen in). It is
        used where the latter stands ``CONSTANT_SUPPORT_SIGMAS`` deviations up and the former is at most
        ``CONTRADICTION_SHARE`` of it plus ``KEEP_SIGMAS`` deviations: against every patient, any complete lab value
        passed where most patients had one row (a review: 'hb' or 'crp' taken in 3 of 4 fits). None where the noise
        cannot tell (``MAX_SIGMA_SHARE``): a number is never taken on its name."""
        if not cands or rho <= 0:
            return []
        sigma = gaussian_sigma((1 - STEADY_PICK_SHARE) * rho, sensitivity=math.sqrt(2))
        if sigma > MAX_SIGMA_SHARE * n_hat:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: no column is named like a time, and at this budget a noisy count cannot tell "
                "whether one of its numbers orders each patient's rows; none is used (nothing measured; declare "
                "order_by in the schema)")
            return []
        bad = np.array([float(len(np.unique(units[bad_rows(c)]))) for c in cands])
        pick = exponential_mechanism(-bad, math.sqrt(8 * STEADY_PICK_SHARE * rho), 1.0, gens.noise)
        noisy, support = np.array([bad[pick], float(len(np.unique(units[several])))]) + gens.noise.normal(0.0, sigma, 2)
        ok = [cands[pick].name] if (support >= CONSTANT_SUPPORT_SIGMAS * sigma
                                    and noisy <= CONTRADICTION_SHARE * support + KEEP_SIGMAS * sigma) else []
        self.ledger.record(  # type: ignore[union-attr]
            f"relation {rel.label}: the number ordering each patient's rows, where no column is named like a time "
            "(decided under DP)", "exponential mechanism on the patients contradicting each candidate (a missing "
            "value, one below the one before in file order, one value on all of a patient's rows), then a Gaussian "
            "release of the chosen one's count and of the patients with two rows or more (zCDP)", rho=rho, sigma=sigma,
            columns=[c.name for c in cands], chosen=cands[pick].name, usable=ok)
        return ok

    def _decision_pool(self, rho_total: float) -> float:
        """The zCDP budget of every DP decision of time fields together (relations and the root's own interval):
        ``DECISION_SHARE`` of the domain budget plus ``DECISION_EXTRA`` of the whole; none without a domain budget."""
        return (self.privacy.domain_budget * DECISION_SHARE + DECISION_EXTRA) * rho_total if self.privacy.domain_budget > 0 else 0.0

    @staticmethod
    def declared_root_interval(tab: DatasetTable, *, private: bool) -> list[tuple[str, str]]:
        """The (start, end) pairs of the root table's rules ``le`` between two modelled dates that the fit may use: the
        public ones (declared, or accepted: ``public: true``), and in a non-private fit every one."""
        dates = {c.name for c in tab.modelled if c.type == "datetime"}
        return [(c.columns[0], c.columns[1]) for c in tab.constraints
                if c.kind == "le" and (c.public or not private) and set(c.columns) <= dates]

    @staticmethod
    def root_interval_candidates(tab: DatasetTable, keys: set[str]) -> list[tuple[str, str]]:
        """Public candidates for the root table's own interval (start, end): an end named like one (``dischtime``,
        ``end.dt``) and another date column, starts named like one first (``admittime``), then the schema's order."""
        dates = [c for c in tab.modelled if c.type == "datetime" and c.name not in keys]
        ends = [c.name for c in dates if ends_named(c.name)]
        starts = sorted((c.name for c in dates if not ends_named(c.name)), key=lambda n: not starts_named(n))
        return [(a, b) for b in ends for a in starts][:ROOT_PAIRS]

    def _root_interval(self, root: str, df: pd.DataFrame, tab: DatasetTable, keys: set[str], rho: float, n_hat: float,
                       gens: Generators) -> tuple[str | None, list[str]]:
        """The root table's own interval: a start column and the ends that follow it in (almost) every row, modelled as
        lengths from it (``TablePlan.start``). A rule ``le`` between two of its dates that the fit may use decides it
        (:meth:`declared_root_interval`: nothing measured). Otherwise candidates are public (:meth:`root_interval_candidates`); a pair is
        contradicted by a row whose end is before its start, or that holds the end without the start (its end could not
        be rebuilt). Non-private: at most ``CONTRADICTION_SHARE`` of the rows contradict it. DP: a noisy count of the
        patients (root rows) contradicting each pair (sensitivity ``sqrt(pairs)``), kept below that share plus
        ``KEEP_SIGMAS`` deviations; where the noise cannot tell (``MAX_SIGMA_SHARE``), the pairs of a start and an end
        both named so. The start is the first usable pair's; the ends, every usable end of that start."""
        declared = self.declared_root_interval(tab, private=self.is_private)
        if declared:
            return declared[0][0], [b for a, b in declared if a == declared[0][0]]
        pairs = self.root_interval_candidates(tab, keys)
        if not pairs:
            return None, []
        codec = TableCodec(tab.table_schema())
        days = {c: codec.numbers(tab.column(c), df[c]) for c in {x for p in pairs for x in p}}

        def bad(a: str, b: str) -> int:
            return int(np.sum((days[b] < days[a] - 1e-9) | (np.isnan(days[a]) & ~np.isnan(days[b]))))

        if not self.is_private:
            ok = [p for p in pairs if bad(*p) <= CONTRADICTION_SHARE * len(df)]
        elif rho <= 0:
            return None, []
        else:
            sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(pairs)))
            if sigma > MAX_SIGMA_SHARE * n_hat:
                ok = [(a, b) for a, b in pairs if starts_named(a)]
                self.ledger.notes.append(  # type: ignore[union-attr]
                    f"table '{root}': at this budget a noisy count cannot tell which of its dates start and end an interval; "
                    + (f"{ok} taken on their names" if ok else "none is used") + " (nothing measured; declare a rule "
                    "(kind: le, public: true) in the schema to choose)")
            else:
                noisy = np.array([bad(a, b) for a, b in pairs], dtype=float) + gens.noise.normal(0.0, sigma, len(pairs))
                ok = [p for p, v in zip(pairs, noisy, strict=True) if v <= CONTRADICTION_SHARE * n_hat + KEEP_SIGMAS * sigma]
                self.ledger.record(f"table '{root}': rows whose end comes before each candidate start (decided under DP)",  # type: ignore[union-attr]
                                   "Gaussian mechanism (zCDP), one count per candidate (start, end) pair", rho=rho,
                                   sigma=sigma, columns=sorted({x for p in pairs for x in p}), usable=[list(p) for p in ok])
        if not ok:
            return None, []
        start = ok[0][0]
        return start, [b for a, b in ok if a == start]

    def _domain_weight(self, tab: DatasetTable, keys: list[str]) -> int:
        """A table's weight in the domain budget: its columns whose domain or type a DP fit decides (a type read from
        the data counts twice), from public facts only: an identifier or an empty column schema infer read counts as
        the column it may be (an adversary: one patient's only value of a column moved the budget, in the ledger)."""
        plain = self._open(tab, keys)
        return self._private_count(tab, keys) + sum(needs_decision(c) for c in plain.columns)

    def _private_count(self, tab: DatasetTable, keys: list[str]) -> int:
        """The columns of a table whose domain or type a DP fit decides, from public facts only (:meth:`_open`)."""
        plain = self._open(tab, keys)
        names = set(plain.private_domain_columns())
        return sum(needs_decision(c) or c.name in names for c in plain.columns)

    def _open(self, tab: DatasetTable, keys: list[str]) -> TableSchema:
        """:meth:`_plain`, with what schema infer read as omitted reopened in a DP fit (DP decides it anew)."""
        plain = self._plain(tab, keys)
        return reopen_inferred_omissions(plain) if self.is_private else plain

    @staticmethod
    def _plain(tab: DatasetTable, keys: list[str]) -> TableSchema:
        """The table schema with its key columns declared (identifiers named by the relations: public)."""
        cols = [c.model_copy(update={"public": True}) if c.name in keys else c for c in tab.columns]
        return TableSchema(columns=cols, constraints=tab.constraints)

    @staticmethod
    def _relation(schema: DatasetSchema, child: str, parent: str) -> Relation:
        return next(r for r in schema.parents_of(child) if r.parent == parent)

    def _resolve_domains(self, tables: dict[str, pd.DataFrame], schema: DatasetSchema, unit: dict[str, np.ndarray],
                         weights: dict[str, int], n_decide: int, rho_total: float, n_hat: float,
                         gens: Generators) -> dict[str, DatasetTable]:
        private, led = self.is_private, self.ledger
        total_w = sum(weights.values())
        tables_share = (1 - DECISION_SHARE) if n_decide else 1.0
        # each table's part of the delta its category lists reserve: by the columns that may release one, from public
        # facts only (a type DP decides counts whatever schema infer read; a declared category column counts)
        n_cat = {}
        for t in tables:
            plain = self._open(schema.tables[t], schema.key_columns(t))
            names = set(plain.private_domain_columns())
            n_cat[t] = sum(needs_decision(c) or (c.type == "categorical" and c.name in names) for c in plain.columns)
        out = {}
        for t in schema.order():
            tab = schema.tables[t]
            plain = self._open(tab, schema.key_columns(t))  # ("holds no value" is read from the data: DP re-decides it)
            if private:
                rows = tables[t] if t not in unit or t == schema.roots[0] else tables[t].iloc[one_per_group(unit[t], gens.noise)]
                share = self.privacy.domain_budget * rho_total * tables_share * weights[t] / max(total_w, 1)
                spans = [] if t not in unit or t == schema.roots[0] else [  # (names only: public)
                    c.name for c in plain.columns if c.name not in schema.key_columns(t) and not c.public
                    and (c.type in ("integer", "continuous") or "type" in c.read_from_data)
                    and (time_named(c.name) or age_named(c.name))]
                # (a type read from the data is no public fact: only a declared type other than a number's is skipped,
                # else one patient's unparsable date changed the spans' budget, in the ledger: an adversary; a declared
                # public range is never widened: a reviewer)
                # as a single table's fit: numbers not located at first get more looks from a reserve (only what is
                # used is spent; the rest stays with the models), and a table's domain release doubles as its model's
                # 1-way marginals, paid for here with the model's 1-way budget: the root's (the same rows, weight 1)
                # and a direct child's (one row per patient, sensitivity 1: its model reuses them when K = 1, where its
                # rows weigh 1 per patient in all, see _build)
                free = self._planned_models(schema, rho_total, n_hat)
                reserve = min(LOCATE_RESERVE * rho_total, free / 3) * weights[t] / max(total_w, 1)
                span_rho = SPAN_PART * (share + reserve) if spans else 0.0  # (the reserve's part from the models')
                if spans:
                    share, reserve = (1 - SPAN_PART) * share, (1 - SPAN_PART) * reserve
                view = LedgerView(led, share / max(self.privacy.domain_budget, 1e-12), label=f"table '{t}'",  # type: ignore[arg-type]
                                  delta_share=n_cat[t] / max(sum(n_cat.values()), 1))
                reuse = self._domain_reusable(schema, t)
                oneway_rho = self._root_oneway_rho(schema, free) if reuse else 0.0
                self.table_oneways[t] = {}
                res = resolve_domain(plain, rows.reset_index(drop=True), privacy=self.privacy, ledger=view,  # type: ignore[arg-type]
                                     rng=gens.noise, rows=n_hat, oneway_rho=oneway_rho, reserve_rho=reserve,
                                     oneways=self.table_oneways[t] if reuse else None,
                                     # n_hat counts the root's rows; a child's sample is one row per patient *with* rows,
                                     # at most n_hat: there the present count only bounds them from above, so more
                                     # unlocated columns are tried tentatively, and stage 2 alone confirms each
                                     # (bili and day of pbcseq's visits came out empty in most zero-config fits without)
                                     rows_sigma=self.rows_sigma,  # type: ignore[attr-defined]
                                     time_weight=TIME_WEIGHT, other=t == schema.roots[0],
                                     # a child's number named like a time or an age may order its parent's rows: a
                                     # visit numbered 1-4, a child's age 7-10 at a yearly visit stays a number (as
                                     # categories no visit order could be decided); by the names alone (the types
                                     # schema infer read are the data's: 12 values or 13 flipped this set)
                                     times=frozenset() if t == schema.roots[0] else frozenset(
                                         c.name for c in plain.columns if time_named(c.name) or age_named(c.name)))
                if spans:
                    res = self._span_ranges(t, res, tables[t], unit[t], spans, span_rho, gens)
                if self.privacy.orderings:  # tested on the rows the domains saw: one per patient (sensitivity 1)
                    taken = {n for con in res.constraints for n in con.columns}
                    # Its budget is a share of the whole for up to two tables (at half, a child table of 190 patients
                    # could not keep ivstart <= ivstop at epsilon 1), split beyond, so a folder spends at most about
                    # 10% on orderings. Every kept ordering is redrawn against, a <= b beside a <= m <= b too (checked
                    # where m is missing): no transitive reduction.
                    part = LedgerView(led, rho_total * min(1.0, 2.0 / max(len(tables), 1)), label=f"table '{t}'")  # type: ignore[arg-type]
                    found = tested_orderings(rows.reset_index(drop=True), res, taken=taken, ledger=part,  # type: ignore[arg-type]
                                             rng=gens.noise, reduce=False)
                    kept = [*found.gapped, *found.redrawn]
                    if kept:
                        res = res.model_copy(update={"constraints": [*res.constraints, *kept]})
                        self.rules_tested[t] = [list(c.columns) for c in kept]
            else:
                res = resolve_domain(plain, tables[t], privacy=PrivacyConfig(), ledger=led, rng=gens.noise)  # type: ignore[arg-type]
                if t != schema.roots[0]:  # a child's time kept on its schedule (as a DP fit's released keys do)
                    res = res.model_copy(update={"columns": [_schedule(c, tables[t]) for c in res.columns]})
            keys = set(schema.key_columns(t))
            cols = [c.model_copy(update={"public": False}) if c.name in keys and not tab.column(c.name).public else c
                    for c in res.columns]
            out[t] = DatasetTable(columns=cols, constraints=self._typed_rules(t, cols, res.constraints), primary_key=tab.primary_key)
        return out

    def _span_ranges(self, t: str, res: TableSchema, df: pd.DataFrame, units: np.ndarray, names: list[str], rho: float,
                     gens: Generators) -> TableSchema:
        """Each number or date column of ``names`` (named like a time) whose DP range was released, widened by
        :func:`span_widened` with an equal part of ``rho`` (a date in whole days; a column omitted or made categories
        leaves its part unspent). Its reused 1-way marginal, if any, is dropped where the range moved (its cells no longer
        cover it)."""
        from medsynth.io.rules import _days_or_numbers
        from medsynth.tabular.domain_numbers import _set_bounds

        cols = {c.name: c for c in res.columns}
        each = rho / len(names)
        for name in names:
            col = cols.get(name)
            if (col is None or col.omitted or col.type not in ("integer", "continuous", "datetime") or col.min is None
                    or col.max is None):
                continue
            lo, hi = col.bounds()
            dated = col.type == "datetime"
            x = _days_or_numbers(col, df[name])
            new_lo, new_hi, info = span_widened(x, units, lo, hi, whole=col.type == "integer" or dated, rho=each,
                                                rng=gens.noise, floor=not dated)
            self.ledger.record(f"table '{t}': span of '{name}' (each patient's first and last value beyond its DP range)",
                               "Gaussian mechanism (zCDP): two noisy histograms of distances beyond the range's ends, "
                               "sensitivity sqrt(2)", rho=each, columns=[name], **info)
            if info["widened"]:
                upd = _set_bounds(col, new_lo, new_hi)
                if col.atoms:  # (a schedule's released times: a run of every whole value stretches with the range,
                    # others take the new ends; left behind, the sampler put the widened days back on the old ends)
                    whole = [float(a) for a in col.atoms] == list(np.arange(float(col.min), float(col.max) + 1))
                    upd["atoms"] = (list(range(int(upd["min"]), int(upd["max"]) + 1)) if whole and col.type == "integer"
                                    else sorted({*col.atoms, upd["min"], upd["max"]}))
                cols[name] = col.model_copy(update=upd)
                getattr(self, "table_oneways", {}).get(t, {}).pop(name, None)
        return res.model_copy(update={"columns": [cols[c.name] for c in res.columns]})

    def _typed_rules(self, table: str, cols: list[Any], rules: list[Any]) -> list[Any]:
        """The accepted rules whose columns the DP domains left modelled and of a type they need (an ordering or a
        derived column between numbers or dates), with a note on the others: a column re-typed or left empty under
        DP had made the fit crash with a raw validation error (1 fit in 30 at epsilon 1 on 300 patients)."""
        from medsynth.io.schema import NUMERIC_TYPES

        by = {c.name: c for c in cols}
        keep, dropped = [], []
        for con in rules:
            ok = all(k in by and not by[k].omitted for k in con.columns)
            if ok and con.kind in ("le", "derived", "range"):
                ok = all(by[k].type in NUMERIC_TYPES for k in con.columns)
            (keep if ok else dropped).append(con)
        if dropped and self.ledger is not None:
            self.ledger.notes.append(f"table '{table}': rules {[f'{c.kind} {c.columns}' for c in dropped]} are not used: "
                                     "their columns were left empty or re-typed when their domains were estimated with DP")
        return keep

    def _planned_models(self, schema: DatasetSchema, rho_total: float, n_hat: float) -> float:
        """The models' budget as planned before the domains are released (public facts only: the budget, the noisy
        patient count, the schema): what the patient count, the domain budget and the counts leave. The locate
        reserve (at most a third of it, only what is used is spent) and the root's 1-way marginals (at most a third)
        come out of it, so the counts and the models always keep their share."""
        relations = len(schema.relations)
        count_share = self._count_share(relations, rho_total, n_hat) if relations else 0.0  # type: ignore[attr-defined]
        return rho_total * max(1.0 - COUNT_SHARE - self.privacy.domain_budget - count_share, 0.0)

    def _domain_reusable(self, schema: DatasetSchema, t: str) -> bool:
        """Whether table ``t``'s domain release measures its model's 1-way marginals (public facts only): the root,
        and a direct child of the root whose model may see one row-equivalent per patient (K = 1: ``max_children``
        null or 1) with its numbers as values (``child_numbers: value``, or ``auto`` under DP, so its features carry the
        columns' names).
        A grandchild's rows weigh less than one per patient in all (its parents' weights times its own), so the
        histogram of one row per patient is not its model's."""
        root = schema.roots[0]
        if t == root:
            return True
        if primary_parent(schema, t) != root or self.config.child_numbers == "deviation" or not self.is_private:
            return False
        k = self.config.max_children
        k = k.get(t) if isinstance(k, dict) else k
        return k is None or int(k) == 1

    def _root_oneway_rho(self, schema: DatasetSchema, planned: float) -> float:
        """The rho of one 1-way marginal of a table's model (the root's, or a direct child's): a third of the ``planned`` models' budget over
        every modelled column of every table, as a single table's DP-MST spends it."""
        from medsynth.tabular.mst import DPMST

        columns = sum(self._modelled_count(schema.tables[t], schema.key_columns(t)) for t in schema.tables)
        return DPMST.oneway_share * planned / max(columns, 1)

    def _modelled_count(self, tab: DatasetTable, keys: list[str]) -> int:
        """The columns a fit may model, from public facts only: the modelled ones and those whose type a DP fit decides
        (an identifier or an empty column schema infer read may be neither: one patient's value would move the count)."""
        plain = self._open(tab, keys)
        return len({c.name for c in plain.modelled} | {c.name for c in plain.columns if needs_decision(c)})

    def _decide_constant(self, rel: Relation, child: DatasetTable, rows: pd.DataFrame, prow: pd.DataFrame,
                         g: np.ndarray, units: np.ndarray, taken: set[str], rho: float, n_hat: float,
                         gens: Generators, parent_ok: set[str]) -> tuple[list[str], list[str]]:
        """The child columns held once per parent and those copied from the parent's column of the same name, decided
        under DP (``CONSTANT_*``): one noisy count of the patients (root units) with a parent holding two rows or
        more, and one per candidate (every modelled column but keys and the time order: public names) of those whose
        parent's rows hold two values of it; for each candidate the parent holds too (same name, public), one count
        of the patients with a row holding both and one of those whose row differs from its parent's. Sensitivity
        ``sqrt(1 + k + 2m)``. A data scientist's quinidine: the age, weight and smoking a patient's visits repeat
        came out nine values per patient; respiratory's treatment differed from the patient's on half the visits."""
        from medsynth.io.dataset_infer import as_text, varying_groups

        cands = [c.name for c in child.columns if c.name not in taken and not c.omitted and c.name in rows.columns]
        same = [n for n in cands if n in prow.columns and n in parent_ok]  # (the parent's modelled columns, not keys)
        if not cands or rho <= 0:
            return [], []
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(1 + len(cands) + 2 * len(same)))
        if CONSTANT_SUPPORT_SIGMAS * sigma > n_hat:  # (nothing measured: not even every patient could tell)
            # where the noise cannot tell, the names do, as for the time fields: a child column of its parent's
            # column's name holds the parent's value (respiratory's 111 patients at epsilon 10: treat, sex and age
            # repeated on each visit varied within up to every patient)
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: at this budget a noisy count cannot tell which of its columns a parent's rows hold "
                "one value of (a patient's age repeated on each visit): "
                + (f"{same} take the parent's value of the column of their name, on the names alone; the others' are "
                   if same else "each row's is ") + "drawn on their own (nothing measured; declare them, constant: "
                "[COLUMN, ...] or copied: [COLUMN, ...] on the relation)")
            return [], same

        def patients(mask: np.ndarray) -> float:
            return float(len(np.unique(units[mask])))
        multi = _beside_siblings(g)
        support = patients(multi) + float(gens.noise.normal(0.0, sigma))
        bad = [patients(np.isin(g, varying_groups(rows[n], g))) for n in cands]
        noisy = np.asarray(bad) + gens.noise.normal(0.0, sigma, len(cands))
        constant = [n for n, b in zip(cands, noisy, strict=True)
                    if support >= CONSTANT_SUPPORT_SIGMAS * sigma and b <= CONSTANT_SHARE * support + sigma]
        if support < CONSTANT_SUPPORT_SIGMAS * sigma:  # (measured, and too few patients with two rows stood out:
            # said, as where nothing is measured; ebmt's site, one per patient, came out two values or more for 82% of
            # synthetic patients without a word)
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: at this budget the noisy count of patients with two rows or more stood under "
                f"{CONSTANT_SUPPORT_SIGMAS:g} deviations of its noise, so no column is taken as held once per patient "
                "(a patient's age repeated on each visit): each row's is drawn on its own, but for a column of the "
                "parent's name the names still copy (declare them, constant: [COLUMN, ...] or copied: [COLUMN, ...] on "
                "the relation)")
        copied = []
        for n in same:
            c, p = as_text(rows[n]).to_numpy(), as_text(prow[n]).to_numpy()[g]
            both = pd.notna(c) & pd.notna(p)
            held = patients(both) + float(gens.noise.normal(0.0, sigma))
            off = patients(both & (c != p)) + float(gens.noise.normal(0.0, sigma))
            # the name says a copy: kept unless the counts say otherwise (those differing stand COPY_OFF_SIGMAS
            # above the tolerance); asking the counts to confirm it dropped HELPfull's GROUP in about a third of its
            # fits at epsilon 10, where the names alone (epsilon 1) kept it in every fit (a QA engineer)
            if off <= CONSTANT_SHARE * max(held, 0.0) + COPY_OFF_SIGMAS * sigma:
                copied.append(n)
        self.ledger.record(f"relation {rel.label}: patients whose rows hold two values of each candidate constant "  # type: ignore[union-attr]
                           "column, patients with two rows or more, and for each column of the parent's name the "
                           "patients holding it and those whose rows differ from the parent's (decided under DP)",
                           "Gaussian mechanism (zCDP), one count per candidate column and one of the patients; two "
                           "per column of the parent's name", rho=rho, sigma=sigma, columns=cands,
                           usable=[n for n in constant if n not in copied], copied=copied)
        return [n for n in constant if n not in copied], copied

    def _decide_terminal(self, rel: Relation, rows: pd.DataFrame, g: np.ndarray, units: np.ndarray, t: np.ndarray,
                         cands: list[tuple[str, Any]], rho: float, gens: Generators) -> tuple[str | None, list[Any]]:
        """The terminal event under DP: for each candidate (a child category column's released value named like an
        end), a noisy count of the patients holding it and one of those whose rows go on after it (or hold it twice);
        sensitivity ``sqrt(2k)``. A value is kept where its holders stand ``TERMINAL_SUPPORT_SIGMAS`` deviations above
        zero and those going on are at most ``TERMINAL_GO_SHARE`` of them plus half a deviation (a rare value named
        'expired' that 29% of its holders went on after passed a threshold on all the patients: a reviewer); the column
        whose kept values most patients hold is the terminal one."""
        if rho <= 0:
            return None, []
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(2 * len(cands)))
        last_t = pd.Series(t).groupby(g).transform("max").to_numpy()
        followed = t < last_t - 1e-9
        holders, goers = [], []
        for held in _holding(rows, cands):
            twice = pd.Series(held).groupby(g).transform("sum").to_numpy() > 1
            holders.append(float(len(np.unique(units[held]))))
            goers.append(float(len(np.unique(units[held & (followed | twice)]))))
        h = np.asarray(holders) + gens.noise.normal(0.0, sigma, len(cands))
        go = np.asarray(goers) + gens.noise.normal(0.0, sigma, len(cands))
        ok, by_name = [], []
        for c, hh, gg in zip(cands, h, go, strict=True):
            if hh >= TERMINAL_SUPPORT_SIGMAS * sigma and gg <= TERMINAL_GO_SHARE * hh + 0.5 * sigma:
                ok.append((c, hh))
            elif death_named(*c) and gg <= TERMINAL_GO_SHARE * max(hh, 0.0) + TERMINAL_OFF_SIGMAS * sigma:
                ok.append((c, max(hh, 0.0)))  # (the noise cannot tell: a death ends a person's rows, by its name)
                by_name.append(f"{c[0]}={c[1]}")
        self.ledger.record(f"relation {rel.label}: patients holding each candidate terminal value, and those whose rows go "  # type: ignore[union-attr]
                           "on after it (decided under DP)", "Gaussian mechanism (zCDP), two counts per candidate value",
                           rho=rho, sigma=sigma, columns=sorted({c for c, _ in cands}),
                           candidates=[f"{c}={v}" for c, v in cands], usable=[f"{c}={v}" for (c, v), _ in ok],
                           by_name=by_name)
        if by_name:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: {', '.join(by_name)} ends a patient's rows by its name (a death: no row follows "
                "one); the noise of the counts could not confirm it, nor showed rows after it")
        if not ok:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: no value named like an end ({', '.join(f'{c}={v}' for c, v in cands)}) is kept as "
                "a terminal event (the noisy counts did not show it ends its patients' rows): synthetic patients may "
                "hold it twice or have rows after it; declare it in the relation (terminal, terminal_values) where it "
                "is public knowledge")
            return None, []
        return _fullest_column(ok)

    def _decide_once(self, rel: Relation, rows: pd.DataFrame, g: np.ndarray, units: np.ndarray,
                     cands: list[tuple[str, Any]], rho: float, gens: Generators) -> tuple[str | None, list[Any]]:
        """The values a parent holds once at most under DP: for each candidate (a released value of a column of the
        terminal candidates or named like an event), a noisy count of the patients holding it and one of those holding
        it on two rows; sensitivity ``sqrt(2k)``. Kept where the holders stand ``ONCE_SUPPORT_SIGMAS`` deviations
        above zero and those holding it twice are at most ``ONCE_SHARE`` of them plus one deviation; the column whose
        kept values most patients hold is the one. A data scientist's aidssi at epsilon 10: 15-25% of synthetic
        patients held an event twice (an AIDS diagnosis in 13-16%), real none."""
        if rho <= 0:
            return None, []
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(2 * len(cands)))
        holders, doubles = [], []
        for held in _holding(rows, cands):
            twice = pd.Series(held).groupby(g).transform("sum").to_numpy() > 1
            holders.append(float(len(np.unique(units[held]))))
            doubles.append(float(len(np.unique(units[held & twice]))))
        h = np.asarray(holders) + gens.noise.normal(0.0, sigma, len(cands))
        d = np.asarray(doubles) + gens.noise.normal(0.0, sigma, len(cands))
        ok = [(c, hh) for c, hh, dd in zip(cands, h, d, strict=True)
              if hh >= ONCE_SUPPORT_SIGMAS * sigma and dd <= ONCE_SHARE * hh + sigma]
        self.ledger.record(f"relation {rel.label}: patients holding each candidate value held once, and those holding it "  # type: ignore[union-attr]
                           "on two rows (decided under DP)", "Gaussian mechanism (zCDP), two counts per candidate value",
                           rho=rho, sigma=sigma, columns=sorted({c for c, _ in cands}),
                           candidates=[f"{c}={v}" for c, v in cands], usable=[f"{c}={v}" for (c, v), _ in ok])
        if not ok:
            return None, []
        return _fullest_column(ok)

    def _decide_at_end(self, rel: Relation, rows: pd.DataFrame, parent: pd.DataFrame, g: np.ndarray, units: np.ndarray,
                       t: np.ndarray, terminal: str, values: list[Any], within: str, codec_p: Any, pschema: Any,  # noqa: ANN401
                       rho: float, n_hat: float, gens: Generators) -> bool:
        """Whether the terminal rows lie on their parent's ``within`` time under DP: a noisy count of the patients
        holding a terminal value and one of those whose terminal row is not on it (sensitivity ``sqrt(2)``); kept where
        the holders stand ``AT_END_SUPPORT_SIGMAS`` deviations above zero and the second is at most ``CONSTANT_SHARE``
        of them plus one deviation; where they do not (or the noise is above ``MAX_SIGMA_SHARE`` of the patients), by
        the names: a death value and a bound named like the end of follow-up (:func:`follow_up_named`), unless the
        count off it stands ``TERMINAL_OFF_SIGMAS`` out. A data scientist's myeloid at epsilon 1: every real death on its
        patient's futime (253 of 253), 5 of 118 synthetic ones."""
        if rho <= 0:
            return False
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(2))
        named = bool(follow_up_named(within) and any(death_named(terminal, v) for v in values))
        gate = sigma > MAX_SIGMA_SHARE * n_hat  # (the noise cannot tell: the names decide, a death at the end of follow-up)
        off_note = (f"relation {rel.label}: the terminal rows ({terminal}) are not written on their parent's '{within}' "
                    "({why}): a synthetic patient's last row may fall before the end of their follow-up; declare "
                    "terminal_at_end: true in the relation where a death or the end of follow-up is recorded on that day "
                    "(public knowledge)")
        if gate and not named:
            self.ledger.notes.append(off_note.format(why="at this budget a noisy count cannot tell, and no name says it"))  # type: ignore[union-attr]
            return False
        bound = codec_p.numbers(pschema.column(within), parent[within])[g]
        ended = canonical_keys(rows[terminal]).isin([category_key(v) for v in values]).to_numpy(dtype=bool)
        off = ended & ~(np.abs(t - bound) <= 1e-9)
        h = float(len(np.unique(units[ended]))) + float(gens.noise.normal(0.0, sigma))
        o = float(len(np.unique(units[off]))) + float(gens.noise.normal(0.0, sigma))
        # (measured where the holders stand out of the noise, else by the names unless the count off it stands out:
        # with no floor, noise alone moved every death onto the follow-up in 6 of 10 fits of 200 patients, a reviewer)
        by_name = gate or h < AT_END_SUPPORT_SIGMAS * sigma
        ok = (named and o <= CONSTANT_SHARE * max(h, 0.0) + TERMINAL_OFF_SIGMAS * sigma if by_name
              else o <= CONSTANT_SHARE * max(h, 0.0) + sigma)
        self.ledger.record(f"relation {rel.label}: patients holding a terminal value, and those whose terminal row is "  # type: ignore[union-attr]
                           f"not on their parent's '{within}' (decided under DP)", "Gaussian mechanism (zCDP), two counts",
                           rho=rho, sigma=sigma, columns=[terminal, within], usable=bool(ok), by_name=by_name)
        if by_name and ok:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: at this budget a noisy count cannot tell whether the terminal rows lie on "
                f"'{within}'; they are written there on the names (a death at the end of follow-up; the count off it did "
                "not stand out; declare terminal_at_end in the relation to choose)")
        elif not ok:  # (said whatever schema infer read: a data scientist's aidssi deaths, every one on its patient's
            # futime, came off it in 81-93% of synthetic patients, and only a ledger entry's 'usable: false' said so)
            self.ledger.notes.append(off_note.format(why="the noisy counts did not show them there"))  # type: ignore[union-attr]
        return bool(ok)

    def _decide_flag(self, rel: Relation, rows: pd.DataFrame, parent: pd.DataFrame, g: np.ndarray, units: np.ndarray,
                     terminal: str, values: list[Any], cands: list[str], rho: float, n_hat: float,
                     gens: Generators) -> tuple[str | None, Any]:
        """The parent's flag of a terminal value under DP: for each candidate (a yes/no column of the parent, as
        released) and terminal value, a noisy count of the patients with a parent row whose flag disagrees with its
        holding a row of that value (a missing flag disagrees); sensitivity ``sqrt(k)`` for ``k`` pairs. A pair is
        usable where that count is at most ``FLAG_SHARE`` of the noisy patients plus ``FLAG_SIGMAS`` deviations; the
        fewest disagreements win. A data scientist's myeloid at epsilon 1: 35-230 of 517 synthetic patients flagged
        dead without a death row, or with one and not flagged (real none)."""
        from medsynth.io.dataset import flag_truth
        from medsynth.io.schema import category_key

        pairs = [(c, v) for c in cands for v in values]
        if rho <= 0 or not pairs:
            return None, None
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(pairs)))
        by_name = sigma > MAX_SIGMA_SHARE * n_hat
        if by_name:  # the noise cannot tell (a random 0/1 column was taken at 200 patients in 3-5 of 10 fits, a
            # reviewer): only a flag naming the value's death or sharing its words, or one named for the person's event
            # (fustat) beside a value naming a death or an event column's yes (event = 1), is a candidate, kept unless its
            # count of disagreeing patients stands out
            pairs = [(c, v) for c, v in pairs if _names_one(c, v) or (event_flag(c) and event_value(terminal, v))]
            if not pairs:
                return None, None
            sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(pairs)))
        text = canonical_keys(rows[terminal]).to_numpy()
        off = []
        for c, v in pairs:
            truth, known = flag_truth(parent[c], strict=False) or (np.zeros(0, bool), np.zeros(0, bool))  # (each row
            # judged on its own: one patient changes each pair's count by at most one)
            holds = np.zeros(len(parent), dtype=bool)
            holds[g[text == category_key(v)]] = True
            bad = ~known | (truth != holds)
            off.append(float(len(np.unique(units[bad]))))
        noisy = np.asarray(off) + gens.noise.normal(0.0, sigma, len(pairs))
        limit = FLAG_SHARE * max(n_hat, 0.0) + (TERMINAL_OFF_SIGMAS if by_name else FLAG_SIGMAS) * sigma
        ok = [k for k in range(len(pairs)) if noisy[k] <= limit]
        self.ledger.record(f"relation {rel.label}: patients whose parent's flag disagrees with their rows' terminal "  # type: ignore[union-attr]
                           "value, for each candidate flag (decided under DP)", "Gaussian mechanism (zCDP), one count "
                           "per candidate flag and terminal value", rho=rho, sigma=sigma, columns=sorted({c for c, _ in pairs}),
                           candidates=[f"{c}={v}" for c, v in pairs], usable=[f"{pairs[k][0]}={pairs[k][1]}" for k in ok],
                           by_name=by_name)
        if by_name and ok:
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: at this budget a noisy count cannot tell which of the parent's yes/no columns "
                f"says a patient holds a terminal value; {pairs[ok[0]][0]}={pairs[ok[0]][1]} is taken on the names (its "
                "count of disagreeing patients did not stand out; declare flag and flag_value in the relation to choose)")
        if not ok:
            return None, None
        best = min(ok, key=lambda k: noisy[k])
        return pairs[best]

    def _decide_relation(self, rel: Relation, tables: dict[str, pd.DataFrame], resolved: dict[str, DatasetTable],
                         pidx: dict[str, np.ndarray], unit: dict[str, np.ndarray], rho_total: float, n_decide: int,
                         n_hat: float, gens: Generators, keys: set[str] | None = None,
                         parent_keys: set[str] | None = None, leaf: bool = True) -> Relation:
        """A DP fit decides every time field of a relation that the schema does not declare (a field with a value
        that is not in ``read_from_data``), afresh, from public candidates and noisy counts; what ``schema infer``
        read (or did not find) is never used: it is a function of every patient (one patient out of order, with a
        missing time, or with visit numbers out of step switched it between neighbours in every draw).

        In order, each with a fixed share of the relation's budget (``DECISION_PARTS``; public, whatever is
        declared): ``order_by`` among the child's date columns and number columns named like a time
        (:func:`time_named`; where none is, among its other numbers: :meth:`_steady_number`); ``within`` among the
        parent's date or time-named columns of the same kind (numbers or
        dates); ``after`` among the parent's other such columns; ``sequence`` among the child's other whole-number
        columns; ``ends`` among the child's other date or time-named columns. Each candidate gets a noisy count of
        the patients contradicting it (a missing time; a child time above the bound or a missing bound; a first child
        time :func:`after_contradicted` by the start; a number not the row's rank; an end before its start), one count per patient and candidate (sensitivity ``sqrt(k)``); a candidate is
        usable at most ``CONTRADICTION_SHARE`` (``after``: ``AFTER_CONTRADICTION_SHARE``) of the patients plus
        ``KEEP_SIGMAS`` noise deviations, and the first usable in a public order (a name like a time first, a name
        like an end last, then the schema's column order; for ``after`` a name like a start first) is chosen (every
        usable one for ``ends``). ``order_by`` gets a second count per candidate, the patients whose rows the file
        does not hold in its order: the usable ones that keep the file's order come first (the model sorts a
        parent's rows by the time, so an unsorted file, as MIMIC's labevents by lab id, still has its time)."""
        from medsynth.io.schema import NUMERIC_TYPES

        keys = keys or set()
        # (a field the schema declares absent is declared: none, decided no more)
        absent = set(rel.absent)
        declared = {f for f in (*FIELDS, "constant", "copied", "once", "advancing") if getattr(rel, f)
                    and f not in rel.read_from_data}
        declared |= absent & {*FIELDS, "constant", "copied", "once", "advancing"}
        budget = self._decision_pool(rho_total) / max(n_decide, 1)
        empty = {"ends": [], "constant": [], "copied": []}
        upd: dict[str, Any] = {f: (getattr(rel, f) if f in declared - absent else empty.get(f))
                               for f in (*FIELDS, "constant", "copied")}
        upd["read_from_data"] = []
        terminal_declared = bool(rel.terminal) and "terminal" not in rel.read_from_data and "terminal" not in absent
        flag_declared = (bool(rel.flag) and "flag" not in rel.read_from_data) or "flag" in absent
        upd["flag"], upd["flag_value"] = (rel.flag, rel.flag_value) if flag_declared and "flag" not in absent else (None, None)
        at_end_declared = (rel.terminal_at_end and "terminal_at_end" not in rel.read_from_data) or "terminal_at_end" in absent
        upd["terminal_at_end"] = at_end_declared and "terminal_at_end" not in absent
        once_declared = "once" in declared
        upd["once"], upd["once_values"] = (rel.once, list(rel.once_values)) if once_declared and "once" not in absent else (None, [])
        if terminal_declared:
            upd["terminal"], upd["terminal_values"] = rel.terminal, list(rel.terminal_values)
        else:  # which value ends every patient's rows is a fact about every patient: decided under DP below, among the
            # released values whose name says an end (public words), whatever schema infer read (what it read, and
            # whether it found one at all, is the data's: said in the owner's record only, a reviewer saw a rare value
            # in the ledger)
            upd["terminal"], upd["terminal_values"] = None, []
            if rel.terminal:
                getattr(self, "private_meta", {}).setdefault("terminal_events_read", []).append(
                    f"relation {rel.label}: its terminal event as read from the data ('{rel.terminal}' in "
                    f"{rel.terminal_values}) is decided anew under DP, among the values named like an end "
                    f"({', '.join(sorted(TERMINAL_WORDS))}); to keep it as read, take terminal out of the relation's "
                    "read_from_data (public knowledge)")
        if budget <= 0:
            self.ledger.notes.append(f"relation {rel.label}: time fields not declared in the schema are not used "  # type: ignore[union-attr]
                                     "(privacy.domain_budget is 0, so they cannot be decided under DP)")
            self._declared_advancing(rel, upd)
            return rel.model_copy(update=upd)
        child, parent = resolved[rel.child], resolved[rel.parent]
        rows, prow = tables[rel.child], tables[rel.parent]
        # terminal candidates: a child category column's released values named like an end (public words, DP outputs)
        # and the yes of a yes/no column named like a person's event (event, status, died: public words)
        ends_cands = [] if terminal_declared or "terminal" in absent else [
            (c.name, v) for c in child.columns if c.type in ("categorical", "boolean") and not c.omitted
            and c.name not in keys for v in (c.categories or []) if terminal_named(v)]
        ends_cands += [] if terminal_declared or "terminal" in absent else [
            (c.name, yes_value(c)) for c in child.columns if not c.omitted and c.name not in keys
            and event_flag(c.name) and yes_value(c) is not None and (c.name, yes_value(c)) not in ends_cands]
        # (their shares only where decided here: a declared field leaves its share to the time fields)
        terminal_part = TERMINAL_PART if ends_cands else 0.0
        constant_part = 0.0 if {"constant", "copied"} & declared else CONSTANT_PART
        # flag candidates: the parent's yes/no columns as DP released them (booleans, or categories 0 and 1), where a
        # terminal event may be decided or is declared
        # (sampling keeps them in a table no other links to: elsewhere neither is decided nor paid for, a reviewer)
        flag_cands = [] if flag_declared or not leaf or not (ends_cands or terminal_declared) else [
            c.name for c in parent.columns if not c.omitted and c.name not in (parent_keys or set())
            and c.name != rel.parent_column and yes_no_column(c)]
        flag_part = FLAG_PART if flag_cands else 0.0
        # values held once: the released values of the terminal candidates' columns (or the declared terminal's) and of
        # category columns named like an event, but the terminal candidates themselves (public names, DP outputs)
        event_cols = {c for c, _ in ends_cands} | ({rel.terminal} if terminal_declared else set()) | {
            c.name for c in child.columns if event_column(c.name)}
        ending = {(c, category_key(v)) for c, v in ends_cands} | (
            {(rel.terminal, category_key(v)) for v in rel.terminal_values} if terminal_declared else set())
        once_cands = [] if once_declared or not leaf else [
            (c.name, v) for c in child.columns if c.name in event_cols and c.type in ("categorical", "boolean")
            and not c.omitted and c.name not in keys and len(c.categories or []) <= ONCE_MAX_CATEGORIES
            for v in (c.categories or []) if (c.name, category_key(v)) not in ending and category_key(v) != OTHER_CATEGORY]
        if once_cands and ONCE_SUPPORT_SIGMAS * gaussian_sigma(budget * ONCE_PART, math.sqrt(2 * len(once_cands))) > n_hat:
            self.ledger.notes.append(  # (the noise cannot tell: no count is taken, nor budget set aside; an adversary)
                f"relation {rel.label}: at this budget noisy counts cannot tell which values a patient holds on one row at "
                "most; synthetic patients may hold an event twice (declare once and once_values in the relation where "
                "it is public knowledge)")
            once_cands = []
        once_part = ONCE_PART if once_cands else 0.0
        # numbers named like an age that may advance with the time (public names and DP-released types)
        adv_cands = [] if "advancing" in declared or not leaf else [
            c.name for c in child.columns if not c.omitted and c.name not in keys and c.type in ("integer", "continuous")
            and age_named(c.name)]
        advancing_part = ADVANCING_PART if adv_cands else 0.0
        at_end_part = AT_END_PART if (ends_cands or terminal_declared) and leaf and not (
            at_end_declared or "ends" in declared) else 0.0
        terminal_part += flag_part + at_end_part + once_part + advancing_part  # (the other fields' shares make room for them as for the
        # terminal's)
        codec_c, codec_p = TableCodec(child.table_schema()), TableCodec(parent.table_schema())
        g = pidx[rel.child]
        units = unit[rel.child]
        pkeys = (parent_keys or set()) | {rel.parent_column}

        def usable_cols(table: DatasetTable, names: set[str], kind: str | None, need_time: bool) -> list[Any]:
            cols = [c for c in table.columns if c.name not in names and not c.omitted and c.type in NUMERIC_TYPES
                    and (kind is None or (c.type == "datetime") == (kind == "datetime"))
                    and (not need_time or c.type == "datetime" or time_named(c.name))]
            def span(c: Any) -> float:  # (a number's DP range: a visit's day before its study month 6-24, as schema
                if c.type == "datetime":  # infer; dates keep the schema's order: OMOP's visit_start_date, then its
                    return 0.0            # datetime, whose time of day widens the range by a day)
                try:
                    width = float(c.bounds()[1]) - float(c.bounds()[0])
                except (TypeError, ValueError):
                    return 0.0
                return -width if math.isfinite(width) else 0.0
            return sorted(cols, key=lambda c: (not time_named(c.name), ends_named(c.name), span(c)))  # then schema order

        def named(field: str, cands: list[Any]) -> list[str]:
            """Where the noise cannot tell: the first candidate ``order_by``; the first named like an end (``dischtime``,
            ``futime``) ``within`` and the first named like a start (``admittime``) ``after``, among columns the DP
            domain release found never missing first, then among the others (the flag is a noisy count at 3 deviations:
            a false one left labs without their admission as start, 44% of them before it); those named like an end
            ``ends``; no ``sequence`` (a 0/1 column taken as a visit number capped every patient at two visits)."""
            if field == "order_by":
                return [cands[0].name]
            # (DP-released flag) a bound most parents lack bounds nothing, so the never-missing come first
            ranked = [c for c in cands if not c.missing] + [c for c in cands if c.missing]
            if field in ("within", "after"):  # never one whose DP range says it is not (DP ranges: public)
                ranked = [c for c in ranked if not _past_times(c, child.column(upd["order_by"]), start=field == "after")]
            if field == "within":
                return [c.name for c in ranked if ends_named(c.name)][:1]
            if field == "ends":  # named like an end, or the time column's own stem (OMOP's visit_start_datetime beside
                stem = time_stem(upd["order_by"])  # visit_start_date: the time of day of the same start)
                return [c.name for c in cands if ends_named(c.name) or time_stem(c.name) == stem]
            if field == "after":
                return [c.name for c in ranked if starts_named(c.name)][:1]
            return []

        def decide(field: str, cands: list[Any], bad_rows: Any, soft_rows: Any = None) -> list[str]:
            """The usable candidates, in the public order; with ``soft_rows`` (a second count per candidate, the
            patients breaking a preference), those that also keep the preference come first."""
            if not cands:
                return []
            rho = budget * DECISION_PARTS[field] * (1 - terminal_part - constant_part)
            tests = [bad_rows] if soft_rows is None else [bad_rows, soft_rows]
            sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(cands) * len(tests)))
            share = AFTER_CONTRADICTION_SHARE if field == "after" else CONTRADICTION_SHARE
            threshold = share * n_hat + KEEP_SIGMAS * sigma
            if sigma > MAX_SIGMA_SHARE * n_hat:  # the noise cannot tell: decided by the public names alone
                ok = named(field, cands)
                if field == "chained":  # no name says it: a start/stop pair is as often a drug's overlapping course
                    self.ledger.notes.append(
                        f"relation {rel.label}: at this budget a noisy count cannot tell whether its intervals are "
                        "chained (each starting where the previous one ended); they are modelled as not chained "
                        "(nothing measured; to keep them chained, declare chained: END, the end column where the next starts, and "
                        "take chained out of the "
                        "relation's read_from_data)")
                    return ok
                self.ledger.notes.append(
                    f"relation {rel.label}: at this budget a noisy count cannot tell which column is its {field}; "
                    + (f"{ok} taken on their names" if ok else "none is used") + " (nothing measured; declare it "
                    f"in the schema to choose, or list it in the relation's absent: [{field}] where it has none)")
                return ok
            noisy = [np.array([float(len(np.unique(units[test(c)]))) for c in cands])  # patients, by root unit
                     + gens.noise.normal(0.0, sigma, len(cands)) for test in tests]
            ok = [c.name for c, v in zip(cands, noisy[0], strict=True) if v <= threshold]
            if soft_rows is not None:
                kept = {c.name for c, v in zip(cands, noisy[1], strict=True) if v <= threshold}
                ok = [c for c in ok if c in kept] + [c for c in ok if c not in kept]
            self.ledger.record(f"relation {rel.label}: patients contradicting each candidate {field} (decided under DP)",  # type: ignore[union-attr]
                               "Gaussian mechanism (zCDP), " + ("one count per candidate column" if soft_rows is None
                                                                else "two counts per candidate column (missing; out of file order)"),
                               rho=rho, sigma=sigma, columns=[c.name for c in cands], usable=ok)
            return ok

        # 1. order_by: a time every row has (the model sorts a parent's rows by it), one that orders the rows in the
        # file first (a time-named number that does not is often no time: a week of the year), then the public order
        # (MIMIC's labevents are stored by lab id, not chart time, within an admission: its charttime is still taken)
        if "order_by" not in declared:
            order = np.argsort(g, kind="stable")  # each parent's rows, in file order
            same = g[order][1:] == g[order][:-1]

            def untimed(c: Any) -> np.ndarray:
                return np.isnan(codec_c.numbers(c, rows[c.name]))

            def unordered(c: Any) -> np.ndarray:
                ts = codec_c.numbers(c, rows[c.name])[order]
                back = np.zeros(len(ts), dtype=bool)
                back[order[1:]] = same & (ts[1:] < ts[:-1])
                return back
            named_times = usable_cols(child, keys, None, True)
            if named_times:
                ok = decide("order_by", named_times, untimed, unordered)
            else:
                # no column named like a time: the child's other numbers, each held to what a time does (a missing
                # value, a value below the one before in file order, or one value on all of a patient's two or more
                # rows, a patient's constant, contradicts it); never taken on its name alone. wages' visits ordered
                # by 'exper' (years of experience, which schema infer found) came out in random order for 92% of
                # patients at epsilon 1 and 88% at epsilon 10. One candidate is picked by the exponential mechanism
                # on the patients contradicting each (sensitivity 1 however many: one count per candidate, each
                # with noise sqrt(k) times larger, could not tell at epsilon 1), then its count is measured once
                several = _beside_siblings(g)

                def unsteady(c: Any) -> np.ndarray:
                    v = pd.Series(codec_c.numbers(c, rows[c.name]))
                    flat = several & (v.groupby(g).transform("nunique").to_numpy() <= 1)
                    return untimed(c) | unordered(c) | flat
                ok = self._steady_number(rel, usable_cols(child, keys, None, False), unsteady, units, several,
                                         budget * DECISION_PARTS["order_by"] * (1 - terminal_part - constant_part),
                                         n_hat, gens)
            upd["order_by"] = ok[0] if ok else None
        t = codec_c.numbers(child.column(upd["order_by"]), rows[upd["order_by"]]) if upd["order_by"] else None
        # 1b. constant: columns a parent's rows hold one value of (a patient's age repeated on each visit)
        if constant_part:
            upd["constant"], upd["copied"] = self._decide_constant(
                rel, child, rows, prow, g, units, keys | {upd["order_by"]} - {None}, budget * constant_part, n_hat, gens,
                {c.name for c in parent.columns if not c.omitted and c.name not in pkeys})
        # 1c. once: the values a parent holds on one row at most (an AIDS diagnosis, a transplant; no time needed)
        if once_cands:
            upd["once"], upd["once_values"] = self._decide_once(rel, rows, g, units, once_cands, budget * once_part, gens)
        if t is None:  # no time order: the fields measured from it stay as declared (or unused), but an after
            if "order_by" not in declared:  # needs one
                self.ledger.notes.append(f"relation {rel.label}: {NO_TIME_ORDER} of most parents under DP; "  # type: ignore[union-attr]
                                         "the child rows are modelled without a time order"
                                         + (f" (the declared after '{upd['after']}' is not used)" if upd["after"] else ""))
            upd["after"] = None
            self._declared_advancing(rel, upd)
            return rel.model_copy(update=upd)
        kind = child.column(upd["order_by"]).type
        if upd["after"] and (parent.column(upd["after"]).type == "datetime") != (kind == "datetime"):
            self.ledger.notes.append(f"relation {rel.label}: the declared after '{upd['after']}' is not used: the time "  # type: ignore[union-attr]
                                     f"order decided under DP, '{upd['order_by']}', is not of its kind (dates or numbers)")
            upd["after"] = None
        # 2. within: a parent column every child time of that parent stays at or below
        if "within" not in declared:
            def above(c: Any) -> np.ndarray:
                b = codec_p.numbers(c, prow[c.name])[g]
                return np.isnan(b) | (t > b + 1e-9)
            # (an end's name first: the first usable is taken, and a start every time stays below, as dietox's starting
            # weight, was taken before a follow-up end by the columns' order, an adversary found; and none named like a
            # start, which bounds its times from below: dietox's Start taken as the weeks' end made them fractions of it,
            # and 93-100% of the synthetic pigs had two visits in one week)
            cands = sorted((c for c in usable_cols(parent, pkeys, kind, True)
                            if ends_named(c.name) or not starts_named(c.name)), key=lambda c: not ends_named(c.name))
            ok = decide("within", cands, above)
            upd["within"] = ok[0] if ok else None
        # 2b. after: a parent column a parent's first child time is at or after (its offset is modelled from it)
        if "after" not in declared:
            tord = np.lexsort((t, g))
            is_first = np.zeros(len(t), dtype=bool)
            is_first[tord[group_rank(g[tord]) == 0]] = True
            tcol = child.column(upd["order_by"])

            def before(c: Any) -> np.ndarray:  # on the (DP) bounds of the child time: public here
                return is_first & after_contradicted(t, codec_p.numbers(c, prow[c.name])[g], tcol)
            cands = [c for c in usable_cols(parent, pkeys | {upd["within"]} - {None}, kind, True) if not ends_named(c.name)]
            cands.sort(key=lambda c: not starts_named(c.name))  # stable: the public order next (no end: a discharge)
            ok = decide("after", cands, before)
            upd["after"] = ok[0] if ok else None
        # 3. sequence: a whole-number child column equal to the row's rank (from 1 or 0) in time order
        rank = np.empty(len(t), dtype=np.int64)
        tord = np.lexsort((t, g))
        rank[tord] = group_rank(g[tord])
        if "sequence" not in declared:
            def off(c: Any) -> np.ndarray:  # a parent's rows all on one base: a 0/1 flag mostly 1 (mgus's event
                v = pd.to_numeric(rows[c.name], errors="coerce").to_numpy(dtype=float)  # status) passed row by row, its
                on0, on1 = np.isclose(v, rank), np.isclose(v, rank + 1)  # rows 1, 1 read as ranks 0+1 and 1+0, and
                all0 = pd.Series(on0).groupby(g).transform("all").to_numpy(dtype=bool)  # was then overwritten
                all1 = pd.Series(on1).groupby(g).transform("all").to_numpy(dtype=bool)  # with each row's rank
                return ~(all0 | all1)

            def counts_past_one(c: Any) -> bool:  # (on its DP domain: a flag is no count of rows)
                top = c.max if c.type == "integer" else max(float(v) for v in c.categories) if c.categories else None
                return top is None or float(top) >= 2
            seq = [c for c in child.columns if c.name not in keys | {upd["order_by"]} and not c.omitted
                   and (c.type == "integer" or (c.type == "categorical" and whole_numbers(c.categories)))
                   and counts_past_one(c)]
            ok = decide("sequence", seq, off)
            upd["sequence"] = ok[0] if ok else None
        # 4. ends: child times never before the start
        if "ends" not in declared:
            def early(c: Any) -> np.ndarray:
                return codec_c.numbers(c, rows[c.name]) < t - 1e-9  # type: ignore[operator]
            taken = keys | {upd["order_by"], upd["sequence"]} - {None}
            upd["ends"] = decide("ends", usable_cols(child, taken, kind, True), early)
        # 5. chained: an end each row's time equals its parent's previous row's value of (candidates: the ends)
        if "chained" not in declared and upd["ends"]:
            def unchained(c: Any) -> np.ndarray:  # (the name fallback never chains: nothing names it)
                return chain_broken(t, codec_c.numbers(c, rows[c.name]), g)[2]
            ok = decide("chained", [child.column(e) for e in upd["ends"]], unchained)
            upd["chained"] = ok[0] if ok else None
        if upd["chained"] not in upd["ends"]:
            upd["chained"] = None
        # 6. terminal: a released value named like an end that no row of its parent follows (nor a second one)
        if ends_cands:
            upd["terminal"], upd["terminal_values"] = self._decide_terminal(
                rel, rows, g, units, t, ends_cands, budget * TERMINAL_PART, gens)
        # 7. terminal_at_end: the terminal rows on their parent's within time (a death on the day follow-up ends)
        if at_end_part and upd["terminal"] and upd["within"] and not upd["ends"] and t is not None:
            upd["terminal_at_end"] = self._decide_at_end(
                rel, rows, prow, g, units, t, upd["terminal"], upd["terminal_values"], upd["within"], codec_p,
                parent, budget * at_end_part, n_hat, gens)
        # 8. flag: the parent's yes/no column that says whether it holds a row of a terminal value
        if flag_cands and upd["terminal"]:
            upd["flag"], upd["flag_value"] = self._decide_flag(
                rel, rows, prow, g, unit[rel.parent], upd["terminal"], upd["terminal_values"], flag_cands,
                budget * flag_part, n_hat, gens)
        # (a column held once per parent is none of its times: decided before them, one may have become an end)
        upd["constant"] = [c for c in upd["constant"] if c not in (upd["sequence"], *upd["ends"])]
        upd["copied"] = [c for c in upd["copied"] if c not in (upd["sequence"], *upd["ends"])]
        # 9. advancing: an age that moves with the time at a rate (an age at yearly, or two-yearly, surveys)
        held = {upd["order_by"], upd["sequence"], *upd["ends"], *upd["constant"], *upd["copied"]}
        adv = [c for c in adv_cands if c not in held]
        if adv:  # (a date order in days: an age's rate is 1/365.25 a day)
            upd["advancing"] = self._decide_advancing(rel, child, rows, g, units, t, adv, budget * advancing_part, gens)
        self._declared_advancing(rel, upd)
        return rel.model_copy(update=upd)

    def _declared_advancing(self, rel: Relation, upd: dict[str, Any]) -> None:
        """A declared ``advancing`` kept where the fields decided under DP leave it a column to advance: with a time
        order, and not one of the relation's times nor a column held once (an adversary: a declared age that DP found
        held once per patient failed the fitted schema's check after the budget was spent); else dropped, said."""
        if not rel.advancing or "advancing" in rel.read_from_data:
            return
        held = {upd.get("order_by"), upd.get("sequence"), *(upd.get("ends") or []), *(upd.get("constant") or []),
                *(upd.get("copied") or [])}
        # (its rate is per unit of the schema's order: kept only where the fit orders by that same column, a reviewer)
        kept = {c: r for c, r in rel.advancing.items()
                if upd.get("order_by") and upd.get("order_by") == rel.order_by and c not in held}
        if kept != rel.advancing:
            upd["advancing"] = kept
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"relation {rel.label}: the declared advancing {sorted(set(rel.advancing) - set(kept))} is not used (the "
                "time order decided under DP is not the schema's, or its column was decided one of the relation's times "
                "or held once)")

    def _decide_advancing(self, rel: Relation, child: DatasetTable, rows: pd.DataFrame, g: np.ndarray,
                          units: np.ndarray, t: np.ndarray, cands: list[str], rho: float,
                          gens: Generators) -> dict[str, float]:
        """The rate each candidate column advances at with the time ``t`` under DP (see :data:`ADVANCING_PART`): per
        column, one noisy count of the patients holding two rows of it, and per rate one of those contradicting it and
        one of those it does not fit exactly (whole numbers: off by half a unit or more); sensitivity ``sqrt(k (2R + 1))``
        over all the counts. Of the rates that hold, the one the fewest patients are off: whole ages two years apart at
        two surveys are within 1 of a rate of 1 too (a reviewer: 51% of the synthetic children then held two visits at
        one age). ``{column: rate}`` for the columns a rate holds in."""
        from medsynth.io.dataset_infer import ADVANCING_RATES

        if rho <= 0:
            return {}
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(cands) * (2 * len(ADVANCING_RATES) + 1)))
        out: dict[str, float] = {}
        usable: list[str] = []
        for name in cands:
            col = child.column(name)
            x = pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(t)
            several = ok & (pd.Series(ok).groupby(g).transform("sum").to_numpy() > 1)
            frame = pd.DataFrame({"g": g[several], "u": units[several], "x": x[several], "t": t[several]})
            per = frame.groupby("g")
            moved = (per["x"].transform("max") - per["x"].transform("min")).to_numpy()
            span = (per["t"].transform("max") - per["t"].transform("min")).to_numpy()
            lo, hi = col.bounds()
            whole = col.type == "integer"
            tol = 1.0 + 1e-9 if whole else ADVANCING_TOLERANCE * max(1.0, abs(float(lo)), abs(float(hi)))
            support = float(frame["u"].nunique()) + float(gens.noise.normal(0.0, sigma))
            bad, loose = [], []
            for rate in ADVANCING_RATES:
                rest = frame["x"] - rate * frame["t"]
                wide = (rest.groupby(frame["g"]).transform("max") - rest.groupby(frame["g"]).transform("min")).to_numpy()
                off = (wide > tol) | ((rate * span >= 1.0) & (moved == 0))
                bad.append(float(frame["u"][off].nunique()))
                loose.append(float(frame["u"][wide >= (0.5 if whole else tol)].nunique()))
            noisy = np.asarray(bad) + gens.noise.normal(0.0, sigma, len(bad))
            inexact = np.asarray(loose) + gens.noise.normal(0.0, sigma, len(loose))
            if support < ADVANCING_SUPPORT_SIGMAS * sigma:
                continue
            fits = [i for i, b in enumerate(noisy) if b <= CONTRADICTION_SHARE * support + KEEP_SIGMAS * sigma]
            if fits:
                best = min(fits, key=lambda i: (inexact[i], i))
                out[name] = float(ADVANCING_RATES[best])
                usable.append(f"{name} at {ADVANCING_RATES[best]:g}")
        self.ledger.record(f"relation {rel.label}: patients contradicting each rate a column named like an age may "  # type: ignore[union-attr]
                           "advance at with the time (decided under DP)",
                           "Gaussian mechanism (zCDP), a count of the patients with two rows and two per candidate rate "
                           "(contradicting it; not on it exactly)",
                           rho=rho, sigma=sigma, columns=cands, rates=[float(r) for r in ADVANCING_RATES], usable=usable)
        return out

