"""How the multi-table DP model sees a dataset: per-parent summaries, child rows relative to their parent.

Every table gets one DP-MST model (:mod:`medsynth.tabular.mst`) over *features*:

- the root table: its own columns, plus, for each child table, the parent-level summaries of its
  children: their number ``n:T``, for each numeric column the mean of its (unit-scaled) values
  ``mean:T:c``, for each categorical column the most frequent value ``mode:T:c``, and the time of the
  first child ``t0:T`` (on a log scale: first rows sit near the start of follow-up). One row per patient,
  so these cost what any column costs.
- a child table ``T`` (one row per kept child row): each numeric column as its deviation from the
  parent's mean ``dev:c`` (sampling adds it back, so a patient's synthetic values scatter around a
  level that the parent model drew jointly with the patient's other columns), its categorical columns,
  its position among the parent's rows ``pos:``, the time since the previous row ``gap:`` (as a share of
  the time left until the parent's ``within`` bound when the relation has one, so that times stay
  inside the parent's follow-up and increase), interval lengths ``dur:e``, the summaries of its own
  children, and, as evidence, the parent's features (prefixed ``^``). Sampling conditions on the
  evidence (:mod:`medsynth.tabular.multi_tree`).

Everything here is arithmetic on one patient's own rows, so a feature row depends on one unit only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.dataset import DatasetSchema, key_string
from medsynth.io.schema import DISCRETE_TYPES, NUMERIC_TYPES, ColumnSchema, TableSchema
from medsynth.tabular.encoding import Frame, TableCodec

EVIDENCE = "^"
POS, GAP = "pos:", "gap:"
#: Whether a row is its parent's last (a feature of a child table whose relation has a terminal event: the model learns
#: the event with it, and a parent's death falls on its last row).
LAST = "last:"
#: A gap in units of the even spacing (``TablePlan.gap == "spacing"``) is modelled up to this many spacings.
SPACING_MAX = 32.0
#: The most steps of an integer time column whose unbounded gaps are modelled as whole steps (``TablePlan.gap_whole``):
#: the fine grid's default size, so that each step keeps its own cell.
WHOLE_GAP_MAX = 64
#: Deviations from the parent's mean are modelled within +-DEV_RANGE (in unit-scaled values).
DEV_RANGE = 0.5
#: A parent's first child time ``t0:T`` is modelled as ``T0_SCALE`` times its unit-scaled time, on a log scale:
#: first rows sit near the start of follow-up (pbcseq: every patient's first visit is on day 0), and equal-width
#: cells of the unit time (a few hundred days each on a small DP budget) would decode them anywhere in the first
#: cell; on this scale the first cell of 7 spans under 2 days of a 6,000-day range.
T0_SCALE = 1e4
#: ... and with an ``after`` column and no bound, its share of the reach from it (:func:`after_room`) times this: a
#: share of years that resolves minutes (an observation 10 minutes into an encounter, in a reach of 7 years, is a share
#: of 3e-6; the first of 64 cells of T0_SCALE's grid held everything under 50 minutes).
T0_AFTER_SCALE = 1e8


def t0_scale(plan: TablePlan) -> float:
    """The scale of a parent's first-child time feature: ``T0_AFTER_SCALE`` with an ``after`` column and no ``within``
    bound, else ``T0_SCALE`` (sampling reads it back from the saved feature schema)."""
    return T0_AFTER_SCALE if plan.after and not plan.within else T0_SCALE


def n_col(t: str) -> str:
    """Name of the count-of-children feature of child table ``t``."""
    return f"n:{t}"


def mean_col(t: str, c: str) -> str:
    """Name of the parent-level mean of child column ``t.c``."""
    return f"mean:{t}:{c}"


def mode_col(t: str, c: str) -> str:
    """Name of the parent-level most frequent value of child column ``t.c``."""
    return f"mode:{t}:{c}"


def t0_col(t: str) -> str:
    """Name of the time of a parent's first child row in ``t``."""
    return f"t0:{t}"


def dev_col(c: str) -> str:
    """Name of the deviation feature of numeric column ``c``."""
    return f"dev:{c}"


def dur_col(e: str) -> str:
    """Name of the interval-length feature of end column ``e``."""
    return f"dur:{e}"


def off_col(c: str) -> str:
    """Name of the offset feature of companion date column ``c`` (from its row's time)."""
    return f"off:{c}"


@dataclass
class TablePlan:
    """What the model learns of one table, and how its rows are rebuilt (saved as ``plan.json``).

    Attributes:
        name: the table.
        parent: its primary parent (None for the root).
        numeric: own numeric columns learnt as deviations (or as values for the root).
        discrete: own categorical/boolean columns.
        order_by: the time column ordering a parent's rows, or None.
        within: the parent's column bounding the times, or None.
        after: the parent's column the times start from (a parent's first time is modelled as its offset from
            it, :func:`first_time_share`), or None (as its time in the table's range).
        ends: interval-end columns.
        sequence: the column numbering a parent's rows, regenerated, or None.
        seq_start: the number of the first row (0 or 1).
        children: child tables (their summaries are features of this table).
        bound: K, rows kept per parent row when measuring (0: all rows, non-private).
        sensitivity: rows one unit may hold among this table's measured rows.
        features: the model's own feature columns (what children see as evidence).
        evidence: the model's evidence columns (the parent's features, prefixed ``^``).
        numbers: how a child's numeric columns are learnt: "value" (the value itself, conditioned on the
            parent's level through the tree), "deviation" (from the parent's level, added back when sampling), or
            "mixed" (the columns in ``deviations`` as deviations, the rest as values).
        summarised: whether the parent carries the means and modes of this table's columns (its count and
            first time always).
        gap: with a ``within`` bound, how a row's gap is scaled: "spacing" (in units of the even spacing of the
            parent's rows still to come over the time left, :func:`time_features`) or "share" (the share of the
            time left; plans saved before 2026-12-03 have no key and read as this).
        length_scale: units per day of the modelled lengths of time (interval lengths, gaps without a bound): 24
            (hours: a 20-minute encounter is resolved on a log grid reaching decades) for new plans; plans saved
            before it read 1 (days).
        fine_start: an interval end of the time column's own name stem (OMOP's ``visit_start_datetime`` beside the
            ``visit_start_date`` that orders the rows): the other ends are measured from it, not from the time (ends
            of one date, a visit's end datetime came before its start datetime in 19-41% of synthetic visits); None
            (and in plans saved before it): every end from the time.
        start: of the root table (no parent, so no time order): a date column that starts an interval of its own row,
            ended by ``ends`` (an admissions table as root: ``admittime``, ``dischtime``); each end is modelled as its
            length from ``start`` (``dur:`` features, in 1 / ``length_scale`` days), never before it. None (and in
            plans saved before it): the root's dates are modelled each on its own.
        companions: the table's other date columns (not its time, start, ends or sequence), each modelled as its signed
            offset from the row's time (``order_by``, or the root's ``start``): ``off:`` features in 1 / ``length_scale``
            days on an asinh scale, fine near zero on both sides (an ED registration hours before its admission; on its
            own date range, years apart from it). Empty (and in plans saved before it): each on its own range.
        chained: the end at which the relation's intervals are chained (:attr:`~medsynth.io.dataset.Relation.chained`):
            a sampled row's value of it is its parent's next row's time (the last row's from its sampled length), so
            intervals neither overlap nor leave gaps. None (and in plans saved before it): not chained.
        deviations: with ``numbers == "mixed"`` (a non-private fit's ``child_numbers: auto``), the numeric columns learnt
            as deviations from the parent's level; the rest as values. Empty (and in plans saved before it).
        gap_whole: the gap (no bound, no interval ends) is a whole number of the time column's units, one cell per
            value: an integer time of at most ``WHOLE_GAP_MAX`` steps (study months 2, 4, 6, 8). In hours on a log grid,
            two thirds of the cells held gaps under one step, noise only, written as a visit on the previous one's
            month: BtheB's DP-sampled visits tied in 3-43% of rows, real none. False (and in plans saved before it).
    """

    name: str
    parent: str | None = None
    numeric: list[str] = field(default_factory=list)
    discrete: list[str] = field(default_factory=list)
    order_by: str | None = None
    within: str | None = None
    after: str | None = None
    ends: list[str] = field(default_factory=list)
    sequence: str | None = None
    seq_start: int = 1
    children: list[str] = field(default_factory=list)
    bound: int = 0
    sensitivity: float = 1.0
    features: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    numbers: str = "value"
    summarised: bool = True
    gap: str = "share"
    length_scale: float = 1.0
    fine_start: str | None = None
    start: str | None = None
    companions: list[str] = field(default_factory=list)
    chained: str | None = None
    gap_whole: bool = False
    deviations: list[str] = field(default_factory=list)
    terminal: bool = False

    def deviates(self, c: str) -> bool:
        """Whether numeric column ``c`` is learnt as its deviation from the parent's level (see ``numbers``)."""
        return c in self.deviations if self.numbers == "mixed" else self.numbers == "deviation"

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TablePlan:
        """Rebuild from :meth:`to_dict` (a boolean ``chained``, its first form, meant the first end)."""
        if isinstance(data.get("chained"), bool):
            data = {**data, "chained": (data.get("ends") or [None])[0] if data["chained"] else None}
        return cls(**data)


def key_array(s: pd.Series) -> np.ndarray:
    """Key values as comparable numbers or canonical strings (1, 1.0 and "1" match)."""
    if pd.api.types.is_integer_dtype(s):
        return s.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(s) and s.notna().all() and np.all(np.mod(s.to_numpy(), 1) == 0):
        return s.to_numpy(dtype=np.float64).astype(np.int64)
    return s.map(key_string).to_numpy(dtype=object)  # ('001' and 1: one key)


def parent_index(child: pd.Series, parent: pd.Series) -> np.ndarray:
    """Row index in the parent table of each child row's parent (-1 where none)."""
    ck, pk = key_array(child), key_array(parent)
    if ck.dtype != pk.dtype:
        ck, pk = child.map(key_string).to_numpy(dtype=object), parent.map(key_string).to_numpy(dtype=object)
    return pd.Index(pk).get_indexer(ck)


def group_rank(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within runs of equal (sorted) group codes."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    return np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))


def rows_to_come(groups: np.ndarray) -> np.ndarray:
    """For each row of sorted group codes, the rows of its group from it to the last, plus one (``n - rank + 1``):
    its rank counted from the group's end, plus two."""
    return group_rank(np.asarray(groups)[::-1])[::-1] + 2


def has_next(groups: np.ndarray) -> np.ndarray:
    """For each row of sorted group codes, whether the next row is of its group."""
    groups = np.asarray(groups)
    return np.r_[groups[1:] == groups[:-1], False] if len(groups) else np.zeros(0, dtype=bool)


def group_starts(groups: np.ndarray) -> np.ndarray:
    """For each row of sorted group codes, the index of its group's first row."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    return np.repeat(start, np.diff(np.r_[start, n]))


def summaries(frame: Frame, parents: np.ndarray, n_parents: int, plan: TablePlan, codec: TableCodec,
              t_unit: np.ndarray | None) -> dict[str, np.ndarray]:
    """The parent-level summaries of a child table (model-space values, one per parent row).

    Args:
        frame: the child's own columns in model space, rows sorted by parent then time.
        parents: the parent row of each child row.
        n_parents: rows of the parent table.
        plan: the child's plan.
        codec: the child's codec.
        t_unit: the child's time column, unit-scaled, or None.
    """
    t = plan.name
    out: dict[str, np.ndarray] = {n_col(t): np.bincount(parents, minlength=n_parents).astype(float)}
    for c in plan.numeric if plan.summarised else []:
        u = frame.num[c]
        ok = ~np.isnan(u)
        s = np.bincount(parents[ok], weights=u[ok], minlength=n_parents)
        k = np.bincount(parents[ok], minlength=n_parents)
        out[mean_col(t, c)] = np.where(k > 0, s / np.maximum(k, 1), np.nan)
    for c in plan.discrete if plan.summarised else []:
        codes = frame.cat[c]
        k = codec.n_categories(c)
        ok = codes >= 0
        table = np.bincount(parents[ok] * k + codes[ok], minlength=n_parents * k).reshape(n_parents, k)
        out[mode_col(t, c)] = np.where(table.sum(axis=1) > 0, table.argmax(axis=1), -1).astype(np.int64)
    if t_unit is not None:
        first = np.full(n_parents, np.nan)
        if len(parents):
            starts = np.r_[0, np.flatnonzero(np.diff(parents)) + 1]
            first[parents[starts]] = t_unit[starts]
        out[t0_col(t)] = first * t0_scale(plan)
    return out


def summary_columns(plan: TablePlan, codec: TableCodec, count_low: int, count_high: int) -> list[ColumnSchema]:
    """Schemas of a child table's parent-level summaries (domains known by construction: public)."""
    t = plan.name
    cols = [ColumnSchema(name=n_col(t), type="integer", min=count_low, max=max(count_high, count_low), public=True)]
    for c in plan.numeric if plan.summarised else []:
        cols.append(ColumnSchema(name=mean_col(t, c), type="continuous", min=0.0, max=1.0, missing=True, public=True))
    for c in plan.discrete if plan.summarised else []:
        k = codec.n_categories(c)
        cols.append(ColumnSchema(name=mode_col(t, c), type="categorical", categories=list(range(k)), missing=True, public=True))
    if plan.order_by is not None:  # (0 an atom: a time counted from each patient's start puts every first row on it;
        # decoded inside the log grid's first cell, quinidine's first doses, all at hour 0, came out at 1.6e-4 and
        # never 0, at epsilon 10 too; where no first row is on it the atom's cell holds little but noise)
        cols.append(ColumnSchema(name=t0_col(t), type="continuous", min=0.0, max=t0_scale(plan), transform="log", missing=True,
                                 public=True, atoms=[0.0]))
    return cols


def time_span(schema: DatasetSchema, plan: TablePlan) -> float:
    """Span of the time column in days (at least 1), from the schema's (DP) bounds."""
    lo, hi = schema.tables[plan.name].column(plan.order_by).bounds()  # type: ignore[arg-type]
    return max(hi - lo, 1.0)


def own_columns(plan: TablePlan, schema: DatasetSchema, *, root: bool, pos_max: int = 0) -> list[ColumnSchema]:
    """Schemas of a table's own features (before its children's summaries); ``pos_max``: the largest
    position of a row among its parent's rows (the largest count of the DP support, minus one)."""
    tab = schema.tables[plan.name]
    cols: list[ColumnSchema] = []
    for c in plan.numeric:
        base = tab.column(c)
        if root or not plan.deviates(c):
            cols.append(base.model_copy(update={"public": True, "read_from_data": []}))
        else:
            cols.append(ColumnSchema(name=dev_col(c), type="continuous", min=-DEV_RANGE, max=DEV_RANGE,
                                     missing=base.missing, public=True))
    for c in plan.discrete:
        cols.append(tab.column(c).model_copy(update={"public": True, "read_from_data": []}))
    if not root:
        cols.append(ColumnSchema(name=POS, type="integer", min=0, max=max(int(pos_max), 0), public=True))
    if not root and plan.terminal:
        cols.append(ColumnSchema(name=LAST, type="integer", min=0, max=1, public=True))
    base = plan.start if root else plan.order_by  # the row's time: a child's order, the root's own interval start
    for c in plan.companions if base is not None else []:  # signed offsets from the row's time, in hours
        b_lo, b_hi = tab.column(base).bounds()
        c_lo, c_hi = tab.column(c).bounds()
        cols.append(ColumnSchema(name=off_col(c), type="continuous", min=(c_lo - b_hi) * plan.length_scale,
                                 max=max(c_hi - b_lo, c_lo - b_hi + 1.0) * plan.length_scale,
                                 missing=tab.column(c).missing or tab.column(base).missing, public=True, transform="asinh"))
    if plan.order_by is not None and not root:
        span = time_span(schema, plan)
        if plan.within and plan.gap == "spacing":
            cols.append(ColumnSchema(name=GAP, type="continuous", min=0.0, max=SPACING_MAX, missing=True, public=True,
                                     transform="log"))
        elif plan.within:
            cols.append(ColumnSchema(name=GAP, type="continuous", min=0.0, max=1.0, missing=True, public=True))
        elif plan.gap_whole:  # whole steps of the time column, one cell each
            cols.append(ColumnSchema(name=GAP, type="integer", min=0, max=int(math.ceil(span)), missing=True, public=True))
        else:  # in hours (length_scale), on a log scale: a lab's gap of hours and a follow-up visit's of years in one column
            cols.append(ColumnSchema(name=GAP, type="continuous", min=0.0, max=span * plan.length_scale, missing=True,
                                     public=True, transform="log"))
    for e in plan.ends if base is not None else []:  # interval lengths in hours, on a log scale (a 20-minute visit or a
        lo = tab.column(base).bounds()[0]              # 4-day stay over years)
        cols.append(ColumnSchema(name=dur_col(e), type="continuous", min=0.0,
                                 max=max(tab.column(e).bounds()[1] - lo, 1.0) * plan.length_scale,
                                 missing=tab.column(e).missing or tab.column(base).missing, public=True, transform="log"))
    return cols


def after_room(schema: DatasetSchema, plan: TablePlan) -> float:
    """The reach of a first child time from its parent's ``after`` time without a ``within`` bound: from the after
    column's minimum to the child time's maximum (the schema's public or DP bounds), at least the child time's span
    (an anchor decades before the child times, a birth date, keeps every offset inside [0, 1])."""
    span = time_span(schema, plan)
    if plan.after is None or plan.parent is None:
        return span
    a = schema.tables[plan.parent].column(plan.after)
    c = schema.tables[plan.name].column(plan.order_by)  # type: ignore[arg-type]
    if a.min is None or c.max is None:
        return span
    return max(float(c.bounds()[1] - a.bounds()[0]), span, 1.0)


def first_time_share(days: np.ndarray, after: np.ndarray, within: np.ndarray | None, span: float) -> np.ndarray:
    """A child time as a share of its parent's time: ``(t - after) / (within - after)`` with a ``within`` bound, else
    ``(t - after) / span`` (``span``: :func:`after_room`), clipped to [0, 1] (a time before ``after`` counts as
    at it; 0 where the parent's bound is not after its start; NaN where ``after`` is missing). The parent-level
    ``t0:T`` of a relation with ``after`` is this share of its first row (on the log grid of ``T0_AFTER_SCALE``): a lab's
    first time within its admission, not its date in the decades of the table."""
    room = (within - after) if within is not None else np.full(len(after), float(span))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip((days - after) / np.where(room > 0, room, 1.0), 0.0, 1.0)
    return np.where(room > 0, share, np.where(np.isnan(after), np.nan, 0.0))


def first_time_from_share(share: np.ndarray, after: np.ndarray, within: np.ndarray | None, span: float) -> np.ndarray:
    """Days of a parent's first child time from its share (inverse of :func:`first_time_share`; NaN where ``after``
    is missing; at ``after`` where the bound is missing or not after it, as the share was 0 there)."""
    room = np.nan_to_num(np.maximum(within - after, 0.0), nan=0.0) if within is not None else float(span)
    return after + share * room


def time_features(days: np.ndarray, parents: np.ndarray, plan: TablePlan, *, bound: np.ndarray | None,
                  ends: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``gap:`` and ``dur:e`` of rows sorted by parent then time (NaN gap on each parent's first row).

    With a ``within`` bound, the gap is the share of the time left until the parent's bound
    (``(t_i - t_{i-1}) / (bound - t_{i-1})``), and with ``plan.gap == "spacing"`` that share times ``n - i + 1``
    (the parent's rows still to come, this one included, plus the step to the bound): 1 for rows spread evenly up to
    the bound, whatever their number (at most ``SPACING_MAX``). A bare share treats a patient's 25th lab like its 2nd:
    drawn independently of the position, shares left nafld2's rows bunched at the end of follow-up (median day 1,185
    against -538 in the real table). With interval ends the gap runs from the previous row's end;
    otherwise from the previous row's time. Negative gaps (overlaps) count as 0.
    """
    n = len(days)
    first = np.r_[True, parents[1:] != parents[:-1]] if n else np.zeros(0, dtype=bool)
    prev_t = np.r_[np.nan, days[:-1]] if n else days
    out: dict[str, np.ndarray] = {}
    if bound is not None:
        left = bound - prev_t
        gap = np.clip(np.where(left > 0, (days - prev_t) / np.where(left > 0, left, 1.0), 0.0), 0.0, 1.0)
        gap = np.where(np.isnan(days) | np.isnan(prev_t), np.nan, gap)  # a row without a time, or after one: unknown
        if plan.gap == "spacing":
            gap = np.minimum(gap * rows_to_come(parents), SPACING_MAX)
        out[GAP] = np.where(first, np.nan, gap)
    else:
        prev_end = np.r_[np.nan, ends[plan.ends[0]][:-1]] if plan.ends and n else prev_t
        ref = np.where(np.isnan(prev_end), prev_t, prev_end)
        scale = 1.0 if plan.gap_whole else plan.length_scale
        out[GAP] = np.where(first, np.nan, np.maximum(days - ref, 0.0) * scale)
    return {**out, **interval_lengths(plan, days, ends)}


def interval_lengths(plan: TablePlan, days: np.ndarray, ends: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Interval lengths (``dur:`` features, in 1 / ``length_scale`` days) of ends (days) from the rows' times ``days``
    (a child's order, the root's interval start; other ends from the fine start, :func:`_end_base`): NaN where either
    is missing, an end before its start a length of 0."""
    return {dur_col(e): np.maximum(ends[e] - _end_base(plan, e, days, ends), 0.0) * plan.length_scale for e in plan.ends}


def companion_offsets(plan: TablePlan, base: np.ndarray, dates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each companion date's offset from its row's time (``off:`` features, in 1 / ``length_scale`` days, signed)."""
    return {off_col(c): (dates[c] - base) * plan.length_scale for c in plan.companions}


def companion_dates(plan: TablePlan, base: np.ndarray, offsets: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Undo :func:`companion_offsets`: each companion date (days) from its row's time and its offset."""
    return {c: base + offsets[off_col(c)] / plan.length_scale for c in plan.companions}


def interval_ends(plan: TablePlan, days: np.ndarray, lengths: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Undo :func:`interval_lengths` (no bound): each end (days) from the rows' times and its length (NaN where the
    length is missing)."""
    durs = {e: lengths[dur_col(e)] / plan.length_scale for e in plan.ends}
    ends = _rebuild_ends(plan, days, durs, None)
    return {e: np.where(np.isnan(durs[e]), np.nan, ends[e]) for e in plan.ends}


def _end_base(plan: TablePlan, e: str, days: np.ndarray, ends: dict[str, np.ndarray]) -> np.ndarray:
    """Where end ``e``'s interval is measured from: the fine start (where present) for every other end, else the time."""
    if plan.fine_start is None or e == plan.fine_start or plan.fine_start not in ends:
        return days
    fine = ends[plan.fine_start]
    return np.where(np.isnan(fine), days, fine)


def rebuild_times(plan: TablePlan, parents: np.ndarray, t0: np.ndarray, gap: np.ndarray, durs: dict[str, np.ndarray],
                  bound: np.ndarray | None, top: float | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Times (days) of rows sorted by parent, from each parent's first time and the sampled gaps.

    With a bound: ``bound - t_i = (bound - t_0) * prod_{k <= i} (1 - share_k)`` (times increase and stay at or
    below the bound; ``share_k`` is the gap, or with ``plan.gap == "spacing"`` the gap over ``n - k + 1``). Otherwise times add the gaps (and the previous interval's length when the relation
    has interval ends). Either way, a parent whose times run past ``top`` (the time column's largest value, where
    given; a bound may lie above it) has its gaps and lengths shrunk by one factor so that its last time is ``top``
    (:func:`_within_top`). Returns the times and the interval ends.
    """
    n = len(parents)
    starts = group_starts(parents)
    first = np.arange(n) == starts
    g = np.where(first | np.isnan(gap), 0.0, gap)
    if bound is not None and plan.gap == "spacing":
        g = g / rows_to_come(parents)
    if bound is not None:
        t0c = np.minimum(t0, bound)
        step = np.log1p(-np.clip(g, 0.0, 1.0 - 1e-12))
        cs = np.cumsum(step)
        cs = cs - (cs[starts] - step[starts])
        days = bound - (bound - t0c) * np.exp(cs)
        if plan.ends:  # a parent whose interval ends run past its bound is shrunk towards its first time, ends and all:
            # clipping each end to the bound made intervals end where they started (Stanford heart's transplant
            # intervals 79.61-79.61 in 40% of rows, none real; a zero-length interval is invalid survival data)
            raw = _rebuild_ends(plan, days, durs, None)
            reach = dict(raw)  # (a chained end before the parent's next row becomes that row's time: only the last's counts)
            if plan.chained in reach and n:
                reach[plan.chained] = np.where(np.r_[parents[1:] == parents[:-1], False], np.nan, reach[plan.chained])
            days, ends = _within_top(parents, days, raw, bound, reach=reach)
            ends = {e: np.minimum(v, np.maximum(bound, days)) for e, v in ends.items()}  # (rounding's last ulp)
        else:
            ends = {}
        return _within_top(parents, days, ends, top) if top is not None else (days, ends)
    if plan.ends:
        d0 = np.nan_to_num(durs[plan.ends[0]])
        prev_len = np.r_[0.0, d0[:-1]] if n else d0
        step = g + np.where(first, 0.0, prev_len)
    else:
        step = g
    cs = np.cumsum(step)
    cs = cs - (cs[starts] - step[starts])
    days = t0 + cs
    ends = _rebuild_ends(plan, days, durs, None)
    return _within_top(parents, days, ends, top) if top is not None else (days, ends)


def _within_top(parents: np.ndarray, days: np.ndarray, ends: dict[str, np.ndarray], top: float | np.ndarray, *,
                reach: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Times and interval ends of the parents whose times run past ``top``, shrunk towards their first time by one
    factor per parent (``(top - t_0) / (t_last - t_0)``), so that the last time is ``top``: order, chained intervals
    (a start at the previous end) and gaps of 0 are kept. Clipping each column on its own (the decoder's range) put
    every late time at ``top``, before the previous interval's end: 38% of cgd's chained infection intervals
    overlapped (real: none) and 15% of them started on the last day of the range (real: 1%). ``top`` may be per row
    (each parent's bound, the same on its rows); ``reach``: interval ends whose latest, with the times, is brought to it."""
    n = len(days)
    if n == 0:
        return days, ends
    starts = group_starts(parents)
    first = days[starts]
    heads = np.unique(starts)
    latest = np.nan_to_num(days, nan=-np.inf)
    for v in (reach or {}).values():
        latest = np.maximum(latest, np.nan_to_num(v, nan=-np.inf))
    last = np.repeat(np.maximum.reduceat(latest, heads), np.diff(np.r_[heads, n]))
    over = (last > top) & (first < top)
    if not over.any():
        return days, ends
    f = np.where(over, (top - first) / np.where(over, last - first, 1.0), 1.0)
    return (first + (days - first) * f), {e: first + (v - first) * f for e, v in ends.items()}


def _rebuild_ends(plan: TablePlan, days: np.ndarray, durs: dict[str, np.ndarray], top: np.ndarray | None) -> dict[str, np.ndarray]:
    """Interval ends from their lengths: the fine start first (from the time), the others from it (see
    :func:`_end_base`); at most ``top`` where given (the bound)."""
    ends: dict[str, np.ndarray] = {}
    for e in sorted(plan.ends, key=lambda e: e != plan.fine_start):
        base = _end_base(plan, e, days, {k: np.where(np.isnan(durs[k]), np.nan, v) for k, v in ends.items()})
        v = base + np.nan_to_num(durs[e])
        ends[e] = np.minimum(v, top) if top is not None else v
    return {e: ends[e] for e in plan.ends}


def is_numeric(col: ColumnSchema) -> bool:
    """Whether a column is numeric (incl. dates)."""
    return col.type in NUMERIC_TYPES


def is_discrete(col: ColumnSchema) -> bool:
    """Whether a column is categorical or boolean."""
    return col.type in DISCRETE_TYPES


def model_schema(columns: list[ColumnSchema]) -> TableSchema:
    """A TableSchema over feature columns."""
    return TableSchema(columns=columns)


__all__ = ["EVIDENCE", "GAP", "LAST", "POS", "T0_AFTER_SCALE", "WHOLE_GAP_MAX", "T0_SCALE", "TablePlan", "after_room", "dev_col", "dur_col", "first_time_from_share", "first_time_share",
           "companion_dates", "companion_offsets", "interval_ends", "interval_lengths", "off_col",
           "group_rank", "group_starts", "has_next", "key_array",
           "mean_col", "mode_col", "model_schema", "n_col", "own_columns", "parent_index", "rebuild_times", "rows_to_come",
           "summaries", "summary_columns", "t0_col", "t0_scale", "time_features", "time_span"]
