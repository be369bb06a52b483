"""The time fields of a multi-table DP fit's relations, decided under DP (:class:`RelationDecisions`).

A folder fit (:class:`~medsynth.tabular.multi_mst.MultiTableDPMST`) decides afresh every relation field the schema does
not declare (``order_by``, ``within``, ``after``, ``sequence``, ``ends``, ``chained``, and the rules of a patient's rows:
``constant``/``copied``, ``terminal`` and its ``flag``, ``terminal_at_end``, ``once``, ``advancing``), from candidates
chosen on public names and DP-released domains and noisy counts of the patients contradicting each, a fixed share of the
relation's decision budget each (:data:`DECISION_PARTS`). What ``schema infer`` read is never used: it is a function of
every patient.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.dataset import DatasetTable, Relation, yes_no_column
from medsynth.io.dataset_infer import (
    ADVANCING_TOLERANCE,
    AFTER_CONTRADICTION_SHARE,
    ONCE_MAX_CATEGORIES,
    after_contradicted,
    age_named,
    chain_broken,
    ends_named,
    follow_up_named,
    numbering_named,
    starts_named,
    time_named,
    time_stem,
)
from medsynth.io.schema import OTHER_CATEGORY, _name_words, category_key
from medsynth.privacy.mechanisms import exponential_mechanism, gaussian_sigma
from medsynth.privacy.noise import Generators
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.encoding import TableCodec
from medsynth.tabular.multi_events import (
    CONSTANT_SUPPORT_SIGMAS,
    EVENT_COLUMN_WORDS,
    MAX_SIGMA_SHARE,
    NOT_WORDS,
    ONCE_SUPPORT_SIGMAS,
    TERMINAL_WORDS,
    YES_KEYS,
    EventDecisions,
    _beside_siblings,
    event_flag,
    value_words,
)
from medsynth.tabular.multi_features import group_rank

#: Share of the domain budget spent deciding relations' time fields under DP (all relations together) ...
DECISION_SHARE = 0.1


#: ... plus this share of the whole budget (from the models): at 10% of the domain budget alone, the noise of a
#: count on 200 patients (57) was five times the 5% threshold, and a time column reversed for every patient was
#: kept in 4 of 10 fits. (0.055 since the thirty-second session: the columns held once per parent and the terminal
#: event take ``CONSTANT_PART`` and ``TERMINAL_PART`` of a relation's decisions, and the time fields keep theirs: at
#: 0.04 a time order 800 patients kept fell back on the names in 9 of 12 fits, 2 before.)
DECISION_EXTRA = 0.055


#: The time fields of a relation that a DP fit decides.
FIELDS = ("order_by", "within", "after", "sequence", "ends", "chained")


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


def terminal_named(value: Any) -> bool:  # noqa: ANN401
    """Whether a category value's name says it ends a person's rows: a word of :data:`TERMINAL_WORDS` and none of
    :data:`NOT_WORDS`."""
    words = value_words(value)
    return bool(words & TERMINAL_WORDS) and not words & NOT_WORDS


#: ... with this share of the relation's decision budget (the other fields' shares scaled down to make room), only
#: where such a value is released.
TERMINAL_PART = 0.15


FLAG_PART = 0.05


#: Share of a relation's decision budget that decides which values a parent holds once at most (``once``), only where
#: there are candidates (the released values of the terminal candidates' columns and of columns named like an event);
#: a value is kept where the patients holding it stand ``ONCE_SUPPORT_SIGMAS`` deviations above zero and those holding
#: it twice are at most ``ONCE_SHARE`` of them plus one deviation (the second count decides; the first only keeps a
#: value too rare to tell apart: at the terminal's 6 deviations aidssi's SI switch, held by a third of 260 patients, was
#: never kept at epsilon 10, and 5-7% of synthetic patients held it twice; at 0.05 of the budget and half a deviation,
#: noise alone dropped its AIDS diagnosis in 1 fit of 3).
ONCE_PART = 0.1


#: Share of a relation's decision budget that decides whether its terminal rows lie on their parent's ``within`` time,
#: measured where the patients holding one stand this many deviations above zero (else by the names).
AT_END_PART = 0.05


#: A child column is held once per parent (``constant``) under DP where a noisy count of the patients with two rows or
#: more stands ``CONSTANT_SUPPORT_SIGMAS`` deviations above zero and the noisy count of those whose rows hold two values
#: of it is at most ``CONSTANT_HELD_SHARE`` of it plus one deviation (``CONSTANT_PART`` of the decision budget).
CONSTANT_PART = 0.1


def _counts_from_0_or_1(col: Any) -> bool:
    """Whether a column's DP domain (public) starts at 0 or 1, as a sequence's ranks do."""
    if col.type == "categorical":
        whole = [float(c) for c in col.categories or [] if re.fullmatch(r"\s*\d+(\.0*)?\s*", str(c))]
        return bool(whole) and min(whole) in (0.0, 1.0)
    low = col.bounds()[0] if col.type == "integer" else None
    return low is not None and float(low) in (0.0, 1.0)


#: Only ages may order a relation's rows (no column named like a time): they are measured up to this much noise (one
#: deviation as a share of the noisy patient count; :data:`MAX_SIGMA_SHARE` elsewhere). Every patient whose rows hold
#: one age (a single row too: no rise to see) contradicts it, so a patient's constant stands at all the patients against
#: a bar of 0.05 of them plus 2 deviations (at 0.15: 4.3 deviations short, about 1e-5 of fits, however few patients hold
#: two rows; counted over the patients with two rows or more, it passed in 16-40% where few do: a reviewer), and an
#: age most patients hold one row of is no order. ohio's 435 patients at epsilon 1 had one deviation of 0.095 of them
#: (0.13 with the file-order count beside it): nothing was measured, and 1-38% of synthetic children held ages going back.
AGE_ORDER_SIGMA_SHARE = 0.15


#: Share of a relation's order_by budget that picks, where no column is named like a time, the number its patients' rows
#: never decrease in (an exponential mechanism: candidates hundreds of patients apart need little); the rest confirms it.
STEADY_PICK_SHARE = 0.25


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


#: A relation field read from the data is kept when at most this share of patients contradicts it (noisy count) ...
CONTRADICTION_SHARE = 0.05


#: ... plus this many deviations of the count's noise: on 200 patients at epsilon 1 the noise (~57) was five times
#: the 5% (10 patients), and a time order every patient followed was dropped in half of the fits.
KEEP_SIGMAS = 2.0


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


#: What a relation left without a time order under DP is noted with (read by the fit's warning,
#: :func:`medsynth.tabular.api.release_gaps`).
NO_TIME_ORDER = "no column orders the rows"


def whole_numbers(values: list[Any] | None) -> bool:
    """Whether every value of a (released) category list is a whole number (a visit number's categories)."""
    try:
        return bool(values) and all(float(v).is_integer() for v in values)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return False

class RelationDecisions(EventDecisions):
    """Decisions of a multi-table DP fit's relation fields under DP (see the module docstring); a mixin of
    :class:`~medsynth.tabular.multi_domains.DomainsMixin`."""

    privacy: PrivacyConfig
    ledger: Any
    is_private: bool  # provided by the synthesizer (a property there)
    config: Any  # the synthesizer's config (max_children, child_numbers)

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
            ``ends``; as ``sequence`` only the time named like a numbering (``visit``), never another column (a 0/1
            column taken as a visit number capped every patient at two visits)."""
            if field == "order_by":  # (never an age: a patient's age repeated on each row is no time)
                return [c.name for c in cands if time_named(c.name) or c.type == "datetime"][:1]
            # (DP-released flag) a bound most parents lack bounds nothing, so the never-missing come first
            ranked = [c for c in cands if not c.missing] + [c for c in cands if c.missing]
            if field in ("within", "after"):  # never one whose DP range says it is not (DP ranges: public)
                ranked = [c for c in ranked if not _past_times(c, child.column(upd["order_by"]), start=field == "after")]
            if field == "within":
                return [c.name for c in ranked if ends_named(c.name)][:1]
            if field == "ends":  # named like an end, or the time column's own stem (OMOP's visit_start_datetime beside
                stem = time_stem(upd["order_by"])  # visit_start_date: the time of day of the same start); never one
                # whose DP range stops before the middle of the times' (UTIdata's follow-up month 0-24 beside days to 867
                # was taken as the visits' end on its name, and written as the day plus 1 in every row)
                return [c.name for c in cands if ((ends_named(c.name) and not follow_up_named(c.name))
                                                  or time_stem(c.name) == stem)
                        and not _past_times(c, child.column(upd["order_by"]), start=False)]
                # (a follow-up's name, futime or fup, tells a patient's end, not a row's: it bounds the rows, `within`)
            if field == "after":
                return [c.name for c in ranked if starts_named(c.name)][:1]
            if field == "sequence":  # the time itself where its name says it numbers the rows and its DP domain counts
                # from 0 or 1 past one (seizure's 47 patients: the noise hid the sequence and visits came out 3, 3, 3, 4;
                # never another column: a 0/1 flag taken as a visit number capped every patient at two visits; never a
                # wave of years, 1994-2004: a reviewer)
                return [c.name for c in cands if c.name == upd["order_by"] and numbering_named(c.name)
                        and _counts_from_0_or_1(c)][:1]
            return []

        def decide(field: str, cands: list[Any], bad_rows: Any, soft_rows: Any = None, max_share: float = MAX_SIGMA_SHARE) -> list[str]:
            """The usable candidates, in the public order; with ``soft_rows`` (a second count per candidate, the
            patients breaking a preference), those that also keep the preference come first. ``max_share``: the
            noise (one deviation) as a share of the noisy patient count above which nothing is measured."""
            if not cands:
                return []
            rho = budget * DECISION_PARTS[field] * (1 - terminal_part - constant_part)
            tests = [bad_rows] if soft_rows is None else [bad_rows, soft_rows]
            sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(cands) * len(tests)))
            share = AFTER_CONTRADICTION_SHARE if field == "after" else CONTRADICTION_SHARE
            threshold = share * n_hat + KEEP_SIGMAS * sigma
            if sigma > max_share * n_hat:  # the noise cannot tell: decided by the public names alone
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
            # a number named like an age and no time: an age at each visit orders them as a time does (geepack's ohio,
            # ages 7-10 at four yearly visits; carData's Blackmore, ages 8-18); a patient whose rows hold one age (a
            # single row too) or none contradicts it, rows out of file order only weigh against it; never taken on its
            # name alone
            ages = [] if named_times else [c for c in usable_cols(child, keys, None, False) if age_named(c.name)]

            def flat(c: Any) -> np.ndarray:  # one value on all of a patient's rows (one row too: no rise to see)
                v = pd.Series(codec_c.numbers(c, rows[c.name]))
                return v.groupby(g).transform("nunique").to_numpy() <= 1
            if named_times:
                ok = decide("order_by", named_times, untimed, unordered)
            elif ages:  # (a count per age and test, no pick: on ohio's 435 patients at epsilon 1 the steady test's pick
                # and count measured nothing, and 1-38% of the synthetic patients' ages went back)
                ok = decide("order_by", ages, lambda c: untimed(c) | flat(c), unordered, max_share=AGE_ORDER_SIGMA_SHARE)
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
                    return untimed(c) | unordered(c) | (several & flat(c))
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
            # (the time first where its name says it numbers the rows: respiratory's visit 1-4, left to the time
            # model, came out 1, 1, 2, 3 in 0-23% of the synthetic patients; a day is no candidate, its count's noise)
            time_seq = numbering_named(upd["order_by"])
            seq = [c for c in child.columns if c.name not in keys and not c.omitted
                   and (c.name != upd["order_by"] or time_seq)
                   and (c.type == "integer" or (c.type == "categorical" and whole_numbers(c.categories)))
                   and counts_past_one(c)]
            seq.sort(key=lambda c: c.name != upd["order_by"])
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
