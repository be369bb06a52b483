"""Sampling a fitted multi-table DP-MST: patients, then each child table given its parents.

1. The root model draws ``n`` rows of features (the patient's columns and the summaries of their
   children), ancestrally; rows that break the root table's constraints are redrawn.
2. Each child count ``n:T`` is replaced by a draw from the DP count distribution, assigned in the order
   of the model's own values (rank-preserving: the counts keep their association with the other columns).
   The draws are systematic (stratified at the distribution's quantiles), so ``n`` parents hold each
   count's share of the distribution up to one parent, without the multinomial spread of independent draws.
3. Table by table, each parent gets its number of rows; each row is drawn from the child's model given
   its parent's features and its position (:class:`~medsynth.tabular.multi_tree.TreeSampler`), and its
   values rebuilt: numbers as the parent's level plus the row's deviation (deviations centred per
   parent, so a parent's mean is its level), times from the parent's first time and the gaps, the
   sequence column as 1, 2, .... Rows that break the table's constraints are redrawn (same evidence).
4. Keys are regenerated: every foreign key is its sampled parent's key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from medsynth.core.errors import ConfigError, DataValidationError
from medsynth.io.schema import DISCRETE_TYPES, check_constraints
from medsynth.tabular.encoding import Frame
from medsynth.tabular.multi_base import regenerate_keys
from medsynth.tabular.multi_features import (
    EVIDENCE,
    GAP,
    LAST,
    POS,
    TablePlan,
    after_room,
    companion_dates,
    dev_col,
    dur_col,
    first_time_from_share,
    group_rank,
    has_next,
    interval_ends,
    mean_col,
    n_col,
    off_col,
    rebuild_times,
    rows_to_come,
    t0_col,
)
from medsynth.tabular.multi_tree import TreeSampler, coarse_code
from medsynth.tabular.schema import TableSchema

if TYPE_CHECKING:  # pragma: no cover
    from medsynth.tabular.multi_mst import MultiTableDPMST

#: Rounds of redrawing rows that break a table's constraints before giving up.
MAX_ROUNDS = 30
#: Most rows of one child table a call builds (a count distribution released under heavy noise can give a parent
#: thousands of rows; the arrays of a larger call would not fit in memory).
MAX_SAMPLE_ROWS = 20_000_000


def _decode(model: MultiTableDPMST, table: str, frame: Frame) -> pd.DataFrame:
    """A table's own columns from model space, in schema order; identifier columns are filled without
    formatting strings per row for keys (regenerated afterwards) and as ``syn-0000001``... otherwise."""
    from medsynth.io.schema import TableSchema
    from medsynth.tabular.encoding import TableCodec

    codec = model.codecs[table]
    cache = model.__dict__.setdefault("_value_codecs", {})
    if table not in cache:
        cols = [c for c in codec.schema.columns if c.type != "identifier"]
        cache[table] = TableCodec(TableSchema(columns=cols)) if cols else None
    df = cache[table].decode(frame, rounded=model.is_private) if cache[table] is not None else pd.DataFrame(index=range(frame.n))
    keys = set(model.schema.key_columns(table))  # type: ignore[union-attr]
    out = {}
    for c in codec.schema.columns:
        if c.type != "identifier":
            out[c.name] = df[c.name]
        elif c.name in keys:
            out[c.name] = np.zeros(frame.n, dtype=np.int64)
        else:
            out[c.name] = pd.Series(np.arange(1, frame.n + 1)).map("syn-{:07d}".format).to_numpy(dtype=object)
    df = pd.DataFrame(out, columns=codec.schema.names)
    _compute_derived(df, codec.schema, model.schema.tables[table].constraints)  # type: ignore[union-attr]
    return df


def _onto_orderings(df: pd.DataFrame, schema: TableSchema, constraints: list[Any], rows: np.ndarray) -> None:
    """Rows (``rows``) still breaking an ordering ``a <= b`` after every redraw take ``b = a`` (both present, of one
    kind and format), as a single table's fit brings a row onto an accepted rule; in a chain, repeated until it holds.
    Post-processing of sampled rows (Synthea's accepted START <= STOP: 1 row in 973 still broke it after 30 redraws,
    and the whole sample was refused). Accepted derived columns are computed again on the moved values."""
    from medsynth.io.rules import _days_or_numbers

    les = [c for c in constraints if c.kind == "le" and set(c.columns) <= set(df.columns)]
    idx = df.index[rows]
    moved = False
    for _ in range(len(les)):
        changed = False
        for con in les:
            a, b = (schema.column(k) for k in con.columns)
            if (a.type == "datetime") != (b.type == "datetime"):  # (days beside numbers: not comparable)
                continue
            va = _days_or_numbers(a, df.loc[idx, a.name])
            vb = _days_or_numbers(b, df.loc[idx, b.name])
            wrong = ~(np.isnan(va) | np.isnan(vb)) & (va > vb)
            if not wrong.any():
                continue
            if a.type == "datetime" and a.format != b.format:
                # (dates of two formats, not moved onto each other: the one that may be missing is left out instead; an ED registration
                # on its DP range's first day after an admission on its own first day crashed a sample, 1 row in 1,500)
                drop = a.name if a.missing else b.name if b.missing else None
                if drop is not None:
                    df.loc[idx[wrong], drop] = None
                    changed = moved = True
                continue
            df.loc[idx[wrong], b.name] = df.loc[idx[wrong], a.name].to_numpy()
            changed = moved = True
        if not changed:
            break
    if moved:  # a derived los = outtime - intime stayed the model's until now
        _compute_derived(df, schema, constraints)


def _compute_derived(df: pd.DataFrame, schema: TableSchema, constraints: list[Any]) -> None:
    """Accepted derived columns (``c = b - a``, days for dates) computed from their sources where both are present,
    not left to the model (a folder's MIMIC-like ``los`` would disagree with its ``outtime - intime``); missing where a
    source is missing."""
    from medsynth.io.rules import _days_or_numbers
    from medsynth.io.schema import bin_labels
    from medsynth.tabular.rules import derived_values

    for con in constraints:
        if con.kind == "bins" and set(con.columns) <= set(df.columns):  # an accepted category of a number's intervals
            df[con.columns[0]] = bin_labels(_days_or_numbers(schema.column(con.columns[1]), df[con.columns[1]]), con)
            continue
        if con.kind != "derived" or not set(con.columns) <= set(df.columns):
            continue
        c, b, a = con.columns
        diff = _days_or_numbers(schema.column(b), df[b]) - _days_or_numbers(schema.column(a), df[a])
        df[c] = derived_values(diff, integer=schema.column(c).type == "integer")


def _col(model: MultiTableDPMST, table: str, name: str):  # noqa: ANN202 - a ColumnSchema
    return model.models[table].codec.schema.column(name)


def _map_counts(model: MultiTableDPMST, table: str, values: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """Replace each child count of ``table``'s rows by draws from the DP count distribution, rank-preserving."""
    codec = model.models[table].codec
    for child in model.plans[table].children:
        name = n_col(child)
        col = codec.schema.column(name)
        u = values[name]
        m = len(u)
        if m == 0:
            continue
        raw = codec.from_unit(col, np.nan_to_num(u, nan=0.0))
        order = np.lexsort((rng.random(m), raw))
        draws = np.sort(model.counts[child].sample(m, rng, stratified=True))
        out = np.empty(m)
        out[order] = draws
        values[name] = codec.to_unit(col, out.astype(float))


def _counts_of(model: MultiTableDPMST, table: str, child: str, values: dict[str, np.ndarray]) -> np.ndarray:
    codec = model.models[table].codec
    col = codec.schema.column(n_col(child))
    cm = model.counts[child]
    x = codec.from_unit(col, np.nan_to_num(values[n_col(child)], nan=0.0))
    return np.clip(np.rint(x), cm.low, cm.high).astype(np.int64)


def _feature(model: MultiTableDPMST, table: str, values: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A sampled feature of ``table``'s model in its own units (its grid's values; NaN where it was drawn missing)."""
    v = values[name]
    return np.where(np.isnan(v), np.nan, model.models[table].codec.from_unit(_col(model, table, name), np.nan_to_num(v, nan=0.0)))


def _root_own(model: MultiTableDPMST, values: dict[str, np.ndarray], m: int) -> Frame:
    """The root table's own columns (model space) from its features: its numbers and categories, and the ends of its
    own interval from its start and their lengths (:func:`~medsynth.tabular.multi_features.interval_ends`), and its
    companion dates."""
    root = model.schema.roots[0]  # type: ignore[union-attr]
    plan, codec = model.plans[root], model.codecs[root]
    own = Frame(n=m, num={c: values[c] for c in plan.numeric}, cat={c: values[c] for c in plan.discrete})
    if plan.start is not None:
        start = codec.from_unit(codec.schema.column(plan.start), own.num[plan.start])
        lengths = {dur_col(e): _feature(model, root, values, dur_col(e)) for e in plan.ends}
        for e, d in interval_ends(plan, start, lengths).items():
            own.num[e] = codec.to_unit(codec.schema.column(e), d)
        _set_companions(model, root, own, start, values)
    return own


def _set_companions(model: MultiTableDPMST, table: str, own: Frame, base: np.ndarray, values: dict[str, np.ndarray]) -> None:
    """A table's companion dates (model space) from its rows' times (days) and their offsets
    (:func:`~medsynth.tabular.multi_features.companion_dates`)."""
    plan, codec = model.plans[table], model.codecs[table]
    offsets = {off_col(c): _feature(model, table, values, off_col(c)) for c in plan.companions}
    for c, d in companion_dates(plan, base, offsets).items():
        own.num[c] = codec.to_unit(codec.schema.column(c), d)


def _sample_root(model: MultiTableDPMST, n: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], Frame, pd.DataFrame]:
    root = model.schema.roots[0]  # type: ignore[union-attr]
    mst, codec = model.models[root], model.codecs[root]
    constraints = model.schema.tables[root].constraints  # type: ignore[union-attr]
    parts: list[dict[str, np.ndarray]] = []
    got, drawn, rounds = 0, 0, 0
    while got < n or not parts:
        rate = max(got / drawn, 1e-3) if drawn else 1.0
        m = int(min(max(np.ceil((n - got) / rate * 1.1), 16), 2_000_000)) if n else 0
        frame = mst._sample_frame(m, rng)
        values = {**frame.num, **frame.cat}
        if constraints and m:
            keep = np.flatnonzero(check_constraints(_decode(model, root, _root_own(model, values, m)), codec.schema))
            values = {k: v[keep] for k, v in values.items()}
        parts.append(values)
        got += len(next(iter(values.values()))) if values else 0
        drawn += m
        rounds += 1
        if n == 0:
            break
        if rounds >= MAX_ROUNDS and got < n:
            raise DataValidationError(f"only {got} of {drawn} sampled '{root}' rows satisfy the schema's constraints; the "
                                      "model gives them too little probability: relax them or check the schema")
    values = {k: np.concatenate([p[k] for p in parts])[:n] for k in parts[0]}
    _map_counts(model, root, values, rng)
    own = _root_own(model, values, n)
    return values, own, _decode(model, root, own)


def _draw_rows(model: MultiTableDPMST, table: str, parent_values: dict[str, np.ndarray], prow: np.ndarray,
               pos: np.ndarray, rng: np.random.Generator, last: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Features of child rows given their parents' features and positions (and, where the model has it, whether each
    is its parent's last, ``last``)."""
    mst, plan = model.models[table], model.plans[table]
    sampler = TreeSampler(mst)
    # the parent's features are the same for all its rows: pass them once per parent (groups must be sorted)
    groups = np.unique(prow)
    local = np.searchsorted(groups, prow)
    group_ev = {e: coarse_code(mst, _col(model, table, e), parent_values[e[len(EVIDENCE):]][groups]) for e in plan.evidence}
    pos_u = mst.codec.to_unit(_col(model, table, POS), pos.astype(float))
    evidence = {POS: coarse_code(mst, _col(model, table, POS), pos_u)}
    last_u = None
    if LAST in plan.features and last is not None:
        last_u = mst.codec.to_unit(_col(model, table, LAST), last.astype(float))
        evidence[LAST] = coarse_code(mst, _col(model, table, LAST), last_u)
    if np.any(np.diff(prow) < 0):  # not sorted by parent: per-row evidence instead
        evidence.update({e: v[local] for e, v in group_ev.items()})
        states = sampler.sample_states(len(prow), evidence, rng)
    else:
        states = sampler.sample_states(len(prow), evidence, rng, groups=local, group_evidence=group_ev)
    wanted = [f for f in plan.features if f != POS and not (f == LAST and last_u is not None)]
    frame = sampler.decode(states, wanted, rng)
    values = {**frame.num, **frame.cat}
    values[POS] = pos_u
    if last_u is not None:
        values[LAST] = last_u
    return values


def _decode_child(model: MultiTableDPMST, table: str, values: dict[str, np.ndarray], prow: np.ndarray,
                  parent_values: dict[str, np.ndarray], parent_own: Frame, rng: np.random.Generator) -> tuple[Frame, pd.DataFrame]:
    """The child table's own columns (model space, then decoded) from its features and its parents'."""
    plan, codec, mst = model.plans[table], model.codecs[table], model.models[table]
    m = len(prow)
    own = Frame(n=m)
    durs: dict[str, np.ndarray] = {}  # (sampled interval lengths, with a time order)
    for c in [c for c in plan.numeric if not plan.deviates(c)]:
        own.num[c] = values[c]
    for c in [c for c in plan.numeric if plan.deviates(c)]:
        level = parent_values[mean_col(table, c)][prow]
        dev = mst.codec.from_unit(_col(model, table, dev_col(c)), np.nan_to_num(values[dev_col(c)], nan=0.0))
        dev = np.where(np.isnan(values[dev_col(c)]), np.nan, dev)
        ok = ~np.isnan(dev)
        n_par = len(parent_values[mean_col(table, c)])
        centre = np.bincount(prow[ok], weights=dev[ok], minlength=n_par)
        k = np.bincount(prow[ok], minlength=n_par)
        mean_dev = np.where(k > 0, centre / np.maximum(k, 1), 0.0)
        u = level + dev - mean_dev[prow]
        own.num[c] = np.where(np.isnan(u), np.nan, np.clip(u, 0.0, 1.0))
    for c in plan.discrete:
        own.cat[c] = values[c]
    if plan.order_by is not None:
        tcol = codec.schema.column(plan.order_by)
        t0c = model.models[plan.parent].codec.schema.column(t0_col(table))  # type: ignore[index]
        t0p = model.models[plan.parent].codec.from_unit(t0c, parent_values[t0_col(table)].astype(float)) / float(t0c.max)  # type: ignore[index]
        if np.isnan(t0p).any():  # a parent whose first time the model left missing: another parent's first time
            known = t0p[~np.isnan(t0p)]  # (one per parent: all its rows share it, so their times still increase)
            fill = rng.choice(known, size=int(np.isnan(t0p).sum())) if known.size else np.zeros(int(np.isnan(t0p).sum()))
            t0p = t0p.copy()
            t0p[np.isnan(t0p)] = fill
        bound = None
        pcodec = model.codecs[plan.parent]  # type: ignore[index]
        if plan.within:  # (a parent drawn without its bound: its rows at its first time, as the fit saw gaps of 0 there)
            bound = pcodec.from_unit(pcodec.schema.column(plan.within), parent_own.num[plan.within])[prow]
        t0 = codec.from_unit(tcol, t0p[prow])
        if plan.after:  # the share of the parent's time (from its after column, up to its bound or over the span)
            a = pcodec.from_unit(pcodec.schema.column(plan.after), parent_own.num[plan.after])[prow]
            if bound is not None:
                bound = np.where(np.isnan(bound), a, np.fmax(bound, a))  # released ranges may put a bound below a start
            rel_t0 = first_time_from_share(t0p[prow], a, bound, after_room(model.schema, plan))  # type: ignore[arg-type]
            # a parent drawn without its after time: at its bound, else the share read on the table's range
            t0 = np.where(np.isnan(a), t0 if bound is None else np.where(np.isnan(bound), t0, bound), rel_t0)
        if bound is not None:
            bound = np.where(np.isnan(bound), t0, bound)
        gap = _feature(model, table, values, GAP)
        # a later row's gap drawn missing is a row without a time: a parent's rows with none sort last, so theirs are the
        # only later gaps the fit saw missing (written as 0, a copy of the previous time: 12% duplicate times and none
        # missing, against 0.2% and 15% in a real lab table); chained rows always have one
        untimed = (group_rank(prow) > 0) & np.isnan(gap) if tcol.missing and not plan.chained else None
        durs = {e: _feature(model, table, values, dur_col(e)) / plan.length_scale for e in plan.ends}
        for e, d in durs.items():  # a length drawn missing where the end never is (noise in its missing cell) takes
            # another row's, not 0: Stanford heart's synthetic transplant intervals ended where they started (59.09-59.09)
            lost = np.isnan(d)
            if lost.any() and (~lost).any() and not codec.schema.column(e).missing:
                d[lost] = rng.choice(d[~lost], size=int(lost.sum()))
        gap = _redrawn_gaps(plan, prow, gap, bound is not None, rng, end_len=durs[plan.chained] if plan.chained else None,
                            missing=untimed is None)  # (a time that may be missing: its missing gaps are rows without one)
        if bound is None and not plan.gap_whole:  # lengths of time are modelled in 1 / length_scale days (hours)
            gap = gap / plan.length_scale
        top = float(codec.from_unit(tcol, np.ones(1))[0])  # the time column's released top
        days, ends = rebuild_times(plan, prow, t0, gap, durs, bound, top)
        # whole steps of the time's unit: 1 for whole gaps, or the unit the time is recorded in (egsingle's school years
        # -2.5 .. 2.5 by half years were written off it in 84% of the rows; Orthodont's ages 8-14 by 2, declared, were
        # tied by the codec's rounding to it), so the codec's rounding to the unit ties no rows drawn apart
        unit = (float(tcol.step) if tcol.step and tcol.type in ("integer", "continuous")
                else 1.0 if plan.gap_whole or tcol.type == "integer" else None)
        if unit:
            low = float(codec.from_unit(tcol, np.zeros(1))[0])  # (no row moves below its parent's first time where
            # it has a start: rows moved to the column's low wrote visits before their patient's start year, a reviewer)
            bottom = np.fmax(low, np.nan_to_num(t0, nan=low)) if plan.after else low
            days = _whole_steps(prow, days / unit, gap, top / unit, bottom / unit) * unit
        if tcol.atoms and tcol.type == "integer":
            days = _on_schedule(prow, days, gap, tcol.atoms)
        if plan.chained and len(days):  # a row's chained end is its parent's next row's time (the last keeps its length)
            nxt = has_next(prow)
            ends[plan.chained] = np.where(nxt, np.r_[days[1:], np.nan], ends[plan.chained])
            durs[plan.chained] = np.where(nxt, 0.0, durs[plan.chained])  # (present: the real rows' chained ends are)
        if untimed is not None and untimed.any():
            days = np.where(untimed, np.nan, days)
        own.num[plan.order_by] = codec.to_unit(tcol, days)
        if plan.companions:
            _set_companions(model, table, own, days, values)
        for e in plan.ends:
            e_days = np.where(np.isnan(durs[e]) | np.isnan(days), np.nan, ends[e])
            own.num[e] = codec.to_unit(codec.schema.column(e), e_days)
    if plan.sequence is not None:
        scol = codec.schema.column(plan.sequence)
        seq = group_rank(prow) + plan.seq_start
        if scol.type in DISCRETE_TYPES:
            code = {int(float(c)): i for i, c in enumerate(scol.categories or []) if _whole(c)}
            table_codes = np.full(int(seq.max(initial=0)) + 1, -1, dtype=np.int64)
            for v, i in code.items():
                if 0 <= v < table_codes.size:
                    table_codes[v] = i
            own.cat[scol.name] = table_codes[seq] if m else np.zeros(0, dtype=np.int64)
        else:
            own.num[scol.name] = codec.to_unit(scol, seq.astype(float))
    df = _decode(model, table, own)
    if plan.chained and plan.order_by is not None and len(df):
        _copy_next_times(df, prow, plan.order_by, plan.chained, codec.schema)
        _compute_derived(df, codec.schema, model.schema.tables[table].constraints)  # (on the copied times)  # type: ignore[union-attr]
    if plan.ends and plan.order_by is not None and len(df):
        _keep_lengths(df, plan, codec.schema, durs)
    return own, df


def _under_written_bound(df: pd.DataFrame, parent: pd.DataFrame, prow: np.ndarray, plan: TablePlan,
                         schema: TableSchema) -> None:
    """A child's times and interval ends (numbers) at or below its parent's ``within`` bound as both are written: each
    is decoded in its own column's unit, and mgus1's last intervals, drawn to end on the follow-up (12,226.19 days),
    were written 12,226.5 beside a follow-up written 12,226 (25-43 of 227 rows past it; real none)."""
    if not plan.within or not plan.order_by or not len(df) or plan.within not in parent.columns:
        return
    if not pd.api.types.is_numeric_dtype(parent[plan.within]):
        return
    bound = pd.to_numeric(parent[plan.within], errors="coerce").to_numpy(dtype=float)[prow]
    for c in [plan.order_by, *plan.ends]:
        col = schema.column(c)
        if c not in df.columns or col.type == "datetime" or not pd.api.types.is_numeric_dtype(df[c]):
            continue
        x = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        over = x > bound  # (NaN on either side: False)
        if over.any():
            fixed = np.where(over, _on_grid(col, bound), x)
            df[c] = fixed if df[c].dtype.kind == "f" else pd.array(np.round(fixed), dtype=df[c].dtype)


def _on_grid(col: Any, bound: np.ndarray) -> np.ndarray:  # noqa: ANN401 - a ColumnSchema
    """A bound on a number column's own grid, at or below it (an integer time under a follow-up of 100.7: 100, not 101
    by rounding, nor 100.7 in a whole-number column: a reviewer)."""
    unit = col.step if col.step else (1.0 if col.type == "integer" else None)
    return np.floor(bound / unit + 1e-9) * unit if unit else bound


def _whole_steps(prow: np.ndarray, days: np.ndarray, gap: np.ndarray, top: float,
                 bottom: float | np.ndarray = -np.inf) -> np.ndarray:
    """Times of whole steps (``TablePlan.gap_whole``), rounded, a row drawn a gap above 0 at least one step after its
    parent's previous row where that stays at or below ``top``: a parent's times shrunk to end at the top
    (:func:`rebuild_times`), and gaps decoded inside a coarse cell (few rows for the noise: a cell of 0-2 steps), became
    fractions of a step, written as the previous visit's month (ties the fit never saw). A gap drawn 0 (its own cell,
    kept where it stands out of the noise) stays a tie. Where rows meet at the top, the rows before them move down a
    step each while that stays at or above ``bottom``: a data scientist's rwm panel (years 1984-1988, one visit a year)
    had 714-1,235 synthetic visits in a year their patient already held (real none), a patient starting in 1986 with
    five visits piled on 1988."""
    out = np.round(days)
    if not len(out):
        return out
    rank = group_rank(prow)
    moved = (rank > 0) & (np.nan_to_num(gap, nan=0.0) > 0)  # (a coarse grid's cell of 0-2 steps decodes to fractions)
    for r in range(1, int(rank.max()) + 1):
        idx = np.flatnonzero(rank == r)
        prev = out[idx - 1]
        need = np.where(moved[idx] & (prev + 1.0 <= top), prev + 1.0, prev)  # (never before the previous one)
        out[idx] = np.where(np.isnan(out[idx]), np.nan, np.fmax(out[idx], need))
    has_next = np.r_[prow[1:] == prow[:-1], False]
    floor = np.broadcast_to(np.asarray(bottom, dtype=float), out.shape)  # (a row's own floor: its parent's start)
    for r in range(int(rank.max()) - 1, -1, -1):  # (from the last rows back: each stays a step below its next one)
        idx = np.flatnonzero((rank == r) & has_next)
        room = out[idx + 1] - 1.0
        down = moved[idx + 1] & (out[idx] > room) & (room >= floor[idx])
        out[idx[down]] = room[down]
        out[idx] = np.fmin(out[idx], out[idx + 1])  # (more rows than steps: a tie at the bottom, never out of order)
    return out


def _on_schedule(prow: np.ndarray, days: np.ndarray, gap: np.ndarray, schedule: list[float]) -> np.ndarray:
    """Times on a schedule (a whole-number time's ``atoms``: visit weeks 0, 2, 4, 6, 11), each at its nearest value, a
    row drawn a gap above 0 on the first value after its parent's previous row's where one is (a tie otherwise, as the
    top of a range keeps it): MASS::bacteria's synthetic visits fell on weeks 3, 5, 7-10 in 11% of rows, 27% at epsilon
    10, weeks no visit was ever held (a data scientist)."""
    grid = np.unique(np.asarray(schedule, dtype=float))
    if not len(days) or grid.size < 2:
        return days
    at = np.clip(np.searchsorted(grid, days), 1, grid.size - 1)
    near = np.where(np.abs(days - grid[at - 1]) <= np.abs(grid[at] - days), grid[at - 1], grid[at])
    out = np.where(np.isnan(days), np.nan, near)
    rank = group_rank(prow)
    moved = (rank > 0) & (np.nan_to_num(gap, nan=0.0) > 0)
    for r in range(1, int(rank.max()) + 1):
        idx = np.flatnonzero(rank == r)
        prev = out[idx - 1]
        after = grid[np.minimum(np.searchsorted(grid, prev, side="right"), grid.size - 1)]  # (NaN prev: the last)
        need = np.where(moved[idx] & (after > prev), after, prev)
        out[idx] = np.where(np.isnan(out[idx]) | np.isnan(prev), out[idx], np.fmax(out[idx], need))
    return out


def _keep_lengths(df: pd.DataFrame, plan: TablePlan, schema: TableSchema, durs: dict[str, np.ndarray]) -> None:
    """An interval of a positive sampled length that the written digits made end where it starts (a number column's
    4 significant digits: Stanford heart's 326.3-326.3, drawn 0.01 days long) ends one written step later. Dates keep
    theirs (a same-day interval is a real one)."""
    from medsynth.tabular.encoding import range_unit

    tcol = schema.column(plan.order_by)  # type: ignore[arg-type]
    if tcol.type == "datetime":
        return
    start = pd.to_numeric(df[plan.order_by], errors="coerce").to_numpy(dtype=float)
    for e in plan.ends:
        ecol = schema.column(e)
        if ecol.type == "datetime" or e not in df.columns:
            continue
        end = pd.to_numeric(df[e], errors="coerce").to_numpy(dtype=float)
        flat = (end <= start) & (np.nan_to_num(durs[e], nan=0.0) > 0)
        unit = range_unit(start, ecol)
        if flat.any() and unit is not None:
            fixed = np.where(flat, start + np.nan_to_num(unit, nan=0.0), end)
            df[e] = fixed.astype(df[e].dtype) if ecol.type != "integer" else np.round(fixed).astype(df[e].dtype)


def _copy_next_times(df: pd.DataFrame, prow: np.ndarray, time: str, end: str, schema: TableSchema) -> None:
    """Chained intervals, as written: each row's ``end`` is its parent's next row's decoded ``time`` (decoded on their
    own ranges, a start and an end of x.5 days rounded to different whole days in 2% of DP-sampled integer
    counting-process rows, a gap of 1). Dates written in two formats: the end takes the next start where its format
    writes that start exactly, else the next start takes the end where the start's format does (an end written to the
    minute beside starts written to the second: 98% of transfers had left a gap of seconds); else they stay."""
    a, b = schema.column(time), schema.column(end)
    follows = pd.Series(has_next(prow), index=df.index)  # a row with a next row
    if (a.type == "datetime") != (b.type == "datetime"):
        return
    if a.type != "datetime" or a.format == b.format:
        src, dst = df[time].to_numpy(), df[end].to_numpy()
        both = src.dtype.kind in "iuf" and dst.dtype.kind in "iuf"
        dst = dst.astype(np.result_type(src, dst) if both else object, copy=True)
        f = follows.to_numpy()
        dst[f] = src[1:][f[:-1]]
        df[end] = dst
        return
    if a.format is None or b.format is None:
        return
    starts = pd.to_datetime(df[time], format=a.format, errors="coerce")
    ends = pd.to_datetime(df[end], format=b.format, errors="coerce")
    nxt = starts.shift(-1)
    as_end = nxt.dt.strftime(b.format)
    if (pd.to_datetime(as_end[follows], format=b.format, errors="coerce") == nxt[follows]).all():
        df[end] = df[end].where(~follows, as_end)
        return
    prev_end, after = ends.shift(1), follows.shift(1, fill_value=False)
    as_start = prev_end.dt.strftime(a.format)
    if (pd.to_datetime(as_start[after], format=a.format, errors="coerce") == prev_end[after]).all():
        df[time] = df[time].where(~after, as_start)


def _redrawn_gaps(plan: TablePlan, prow: np.ndarray, gap: np.ndarray, bounded: bool, rng: np.random.Generator, *,
                  end_len: np.ndarray | None = None, missing: bool = True) -> np.ndarray:
    """A child table's gaps (``end_len``: its chained end's lengths, for chained intervals), post-processed (sampled
    values only):

    * with ``missing`` (a time that is never missing, or chained intervals), a later row's gap drawn missing (noise in its missing cell: every real later row has one) takes another later
      row's gap, not 0 (a copy of the previous time: pbcseq at epsilon 1 put a quarter of its synthetic visits on the
      day of the patient's previous visit, real none; for chained intervals, one of length 0);
    * under a bound, a row whose share of the time left is the whole of it (a time on the bound, and every later one
      too), where a row follows it, or its chained end is present, or (not chained) its share was drawn past the whole,
      takes the share of another later row that leaves room: 2% of non-private and 3-14% of DP-sampled ward transfers
      started on the bound; 10-24% of pbcseq's DP-sampled visits piled up on the patient's futime. A last row drawn at
      the bound may stay there: MIMIC's discharge row, ``intime`` at ``dischtime`` and no ``outtime``."""
    later = group_rank(prow) > 0
    out = gap.copy()
    lost = later & np.isnan(out) if missing else np.zeros(len(out), dtype=bool)
    known = out[later & ~np.isnan(out)]
    if lost.any() and known.size:
        out[lost] = rng.choice(known, size=int(lost.sum()))
    if not bounded:
        return out
    rtc = rows_to_come(prow).astype(float) if plan.gap == "spacing" else np.ones(len(out))
    share = out / rtc
    stays = ~np.isnan(end_len) if end_len is not None else share > 1.0
    full = later & (share >= 1.0) & (has_next(prow) | stays)
    room = share[later & (share < 1.0)]
    if full.any() and room.size:
        out[full] = rng.choice(room, size=int(full.sum())) * rtc[full]
    return out


def _whole(v: object) -> bool:
    try:
        return float(v).is_integer()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _terminal_rows(df: pd.DataFrame, rel: Any) -> np.ndarray | None:  # noqa: ANN401
    """Which sampled rows hold a terminal value (``rel.terminal`` in ``rel.terminal_values``), or None where none does
    (or the relation has no terminal event)."""
    col = getattr(rel, "terminal", None)
    if not col or col not in df.columns or not len(df):
        return None
    from medsynth.io.schema import category_key

    ends = {category_key(v) for v in rel.terminal_values}
    is_end = np.array([not pd.isna(v) and category_key(v) in ends for v in df[col].to_numpy(dtype=object)])
    return is_end if is_end.any() else None


def _through_terminal(df: pd.DataFrame, prow: np.ndarray, rel: Any) -> np.ndarray | None:  # noqa: ANN401
    """Which rows to keep so that each parent's rows end at its first terminal row (:func:`_terminal_rows`), rows in a
    parent's time order as generated; None where every row stays."""
    is_end = _terminal_rows(df, rel)
    if is_end is None:
        return None
    order = np.lexsort((np.arange(len(df)), prow))
    seen = pd.Series(is_end[order]).groupby(prow[order]).cumsum().to_numpy()  # terminal rows so far, this one included
    before = seen - is_end[order]  # ... before this one
    keep = np.empty(len(df), dtype=bool)
    keep[order] = before == 0
    return None if keep.all() else keep


def _once_kept(df: pd.DataFrame, prow: np.ndarray, rel: Any) -> np.ndarray | None:  # noqa: ANN401
    """Which rows to keep so that a parent holds each of ``rel.once_values`` (of ``rel.once``) on one row at most (a
    diagnosis of AIDS, a transplant): its first in the order generated, or its terminal row (:func:`_terminal_rows`)
    where one holds it (a death row is never left out: the parent's flag says it is there); None where every row
    stays."""
    col = getattr(rel, "once", None)
    if not col or col not in df.columns or not len(df):
        return None
    from medsynth.io.dataset import canonical_keys
    from medsynth.io.schema import category_key

    once = {category_key(v) for v in rel.once_values}
    keys = canonical_keys(df[col]).to_numpy(dtype=object)
    held = np.array([k is not None and not pd.isna(k) and k in once for k in keys], dtype=bool)
    if not held.any():
        return None
    ended = _terminal_rows(df, rel)
    last = ended if ended is not None else np.zeros(len(df), dtype=bool)
    frame = pd.DataFrame({"p": prow, "k": keys, "plain": ~last, "i": np.arange(len(df))})[held]
    frame = frame.sort_values(["p", "k", "plain", "i"])  # (a terminal row first, then the first generated)
    keep = np.ones(len(df), dtype=bool)
    keep[frame["i"].to_numpy()[frame.duplicated(["p", "k"]).to_numpy()]] = False
    return None if keep.all() else keep


def _renumbered(df: pd.DataFrame, prow: np.ndarray, plan: TablePlan, schema: TableSchema) -> None:
    """After rows were left out, a parent's visit numbers (``plan.sequence``) count its rows again (1, 2, ... in the order
    generated) and its chained intervals (``plan.chained``) meet again, each row's end its next row's time (a reviewer:
    a second AIDS row left out of the middle broke 6% of the patients' numbering and 18 chains of 300)."""
    if plan.sequence is not None and plan.sequence in df.columns and len(df):
        seq = group_rank(prow) + plan.seq_start
        col = schema.column(plan.sequence)
        if col.type in DISCRETE_TYPES:
            native = {int(float(c)): c for c in col.categories or [] if _whole(c)}
            df[plan.sequence] = pd.Series([native.get(int(v), np.nan) for v in seq], index=df.index, dtype=object)
        else:
            df[plan.sequence] = seq.astype(df[plan.sequence].dtype if df[plan.sequence].dtype.kind in "iuf" else float)
    if plan.chained and plan.order_by is not None and len(df):
        _copy_next_times(df, prow, plan.order_by, plan.chained, schema)


def _rows_by_parent(prow: np.ndarray) -> list[np.ndarray]:
    """Each parent's row positions, in the order generated (a parent's time order)."""
    order = np.lexsort((np.arange(len(prow)), prow))
    p_sorted = prow[order]
    return np.split(order, np.flatnonzero(p_sorted[1:] != p_sorted[:-1]) + 1) if len(prow) else []


def _terminal_rotation(df: pd.DataFrame, prow: np.ndarray, rel: Any,  # noqa: ANN401
                       rng: np.random.Generator | None = None) -> np.ndarray | None:
    """Where a parent's first terminal row (:func:`_terminal_rows`) is not its last: the row each row's values (all but
    its times) come from so that it is, the rows after it moving up one (their values together: an interval's state and
    event stay linked), rows in a parent's time order as generated; None where none moves. A terminal row still before
    the last (a second death) takes the values of a row holding none: the parent's own nearest, else, with ``rng``,
    another parent's at random; without one it is cut with the rows after it (:func:`_through_terminal`). Cutting
    alone took a data scientist's mgus patients with two events from 26.5% to 5% at epsilon 10 (the model drew
    'death, death' for 31 of 181 patients, real none)."""
    is_end = _terminal_rows(df, rel)
    if is_end is None:
        return None
    n = len(df)
    others = np.flatnonzero(~is_end)
    src = np.arange(n)
    for rows in _rows_by_parent(prow):
        at = np.flatnonzero(is_end[rows])
        if not at.size or (at.size == 1 and at[0] == rows.size - 1):
            continue
        j = int(at[0])
        base = np.r_[rows[:j], rows[j + 1:], rows[j]]  # (the first terminal row last, the rest in their order)
        plain = [i for i in range(rows.size - 1) if not is_end[base[i]]]
        moved = base.copy()
        for k in range(rows.size - 1):
            if is_end[base[k]]:
                if plain:
                    moved[k] = base[min(plain, key=lambda i: abs(i - k))]
                elif rng is not None and others.size:
                    moved[k] = int(rng.choice(others))
        src[rows] = moved
    return None if np.array_equal(src, np.arange(n)) else src


def _terminal_on_bound(df: pd.DataFrame, prow: np.ndarray, parent: pd.DataFrame, rel: Any,  # noqa: ANN401
                       schema: TableSchema, parent_schema: TableSchema) -> None:
    """Each terminal row (``rel.terminal`` in ``rel.terminal_values``, its parent's last) written at its parent's
    ``within`` time, on the time column's own grid (``rel.terminal_at_end``: a death on the day follow-up ends; a data
    scientist's myeloid: every real death on its patient's futime, 5 of 118 synthetic ones). In place."""
    time, bound_col = rel.order_by, rel.within
    if not time or not bound_col or time not in df.columns or bound_col not in parent.columns or not len(df):
        return
    ended = _terminal_rows(df, rel)
    if ended is None:
        return
    col = schema.column(time)
    if col.type == "datetime":  # (parsed with its own format: a day-first 05/02/2020 read as 2 May, a reviewer)
        from medsynth.io.schema import parse_dates

        bound = parse_dates(parent[bound_col], parent_schema.column(bound_col).format).to_numpy()[prow]
        ok = ended & ~pd.isna(bound)
        if pd.api.types.is_datetime64_any_dtype(df[time]):
            df.loc[ok, time] = bound[ok]
        else:
            df.loc[ok, time] = pd.Series(bound[ok]).dt.strftime(col.format or "%Y-%m-%d").to_numpy()
        return
    bound = pd.to_numeric(parent[bound_col], errors="coerce").to_numpy(dtype=float)[prow]
    ok = ended & np.isfinite(bound)
    x = pd.to_numeric(df[time], errors="coerce").to_numpy(dtype=float)
    fixed = np.where(ok, _on_grid(col, bound), x)
    df[time] = fixed if df[time].dtype.kind == "f" else pd.array(np.round(fixed), dtype=df[time].dtype)


def _keep_flag(df: pd.DataFrame, prow: np.ndarray, parent: pd.DataFrame, rel: Any,  # noqa: ANN401
               rng: np.random.Generator, unflag: bool = True) -> None:
    """A parent's flag and its rows agree (``rel.flag``: a death flag, and the death row ``rel.terminal`` ==
    ``rel.flag_value``), rows in a parent's time order as generated, each parent's terminal row its last
    (:func:`_through_terminal`): a flagged parent without that row has it on its last row (its value there replaced),
    and an unflagged parent's row holding it takes the value of the parent's nearest row holding no terminal value (else
    another parent's such row, at random); a flagged parent without rows is unflagged (the count model gave it none: in
    the data every flagged parent holds one) where ``unflag`` (nothing else reads the flag: no other child table, no
    rule of the parent's table). In place, the parent's flag too. A data scientist's myeloid at epsilon 1:
    166 of 237 synthetic patients flagged dead had no death row (real none)."""
    from medsynth.io.dataset import canonical_keys, flag_truth
    from medsynth.io.schema import category_key

    col = rel.terminal
    got = flag_truth(parent[rel.flag], strict=False) if rel.flag in parent.columns else None
    if got is None or col not in df.columns or not len(df):
        return
    truth, known = got
    values = df[col].to_numpy(dtype=object)
    key = canonical_keys(df[col]).to_numpy()
    is_flag = key == category_key(rel.flag_value)
    ended = _terminal_rows(df, rel)
    plain = pd.notna(key) & ~(ended if ended is not None else np.zeros(len(df), dtype=bool))
    others = np.flatnonzero(plain)
    flag_value = next((v for v in values[is_flag]), rel.flag_value)  # (as the column writes it)
    out = values.copy()
    rowless = truth & known & (np.bincount(prow, minlength=len(parent)) == 0) & unflag
    if rowless.any():
        no = parent[rel.flag].to_numpy(dtype=object)[known & ~truth]
        spelled = no[0] if no.size else (False if parent[rel.flag].dtype == bool else 0)
        flags = parent[rel.flag].to_numpy(dtype=object)
        flags[rowless] = spelled
        parent[rel.flag] = pd.Series(flags, index=parent.index).astype(parent[rel.flag].dtype, errors="ignore")
    for rows in _rows_by_parent(prow):
        p = int(prow[rows[0]])
        if not known[p]:
            continue
        held = is_flag[rows]
        if truth[p] and not held.any():
            out[rows[-1]] = flag_value
        elif not truth[p] and held.any():
            mine = rows[plain[rows]]
            for j in rows[held]:
                if mine.size:
                    out[j] = values[mine[np.argmin(np.abs(mine - j))]]
                elif others.size:
                    out[j] = values[int(rng.choice(others))]
    if not np.array_equal(out.astype(str), values.astype(str)):
        df[col] = pd.Series(out, index=df.index).astype(df[col].dtype, errors="ignore")


def _held_once(df: pd.DataFrame, prow: np.ndarray, cols: list[str], vals: dict[str, np.ndarray], own: Any) -> None:  # noqa: ANN401
    """Each parent's rows take its first row's value of ``cols`` (a relation's ``constant`` columns: a patient's age
    repeated on each visit came out nine values per patient), in the table, its model codes and its own frame (in place;
    rows a parent's in time order as generated)."""
    cols = [c for c in cols if c in df.columns]
    if not cols or not len(df):
        return
    order = np.lexsort((np.arange(len(df)), prow))
    first_pos = np.r_[True, prow[order][1:] != prow[order][:-1]]
    head = np.empty(len(df), dtype=np.int64)
    head[order] = order[np.maximum.accumulate(np.where(first_pos, np.arange(len(df)), 0))]
    for c in cols:
        df[c] = pd.Series(df[c].to_numpy()[head], index=df.index).astype(df[c].dtype, errors="ignore")
        for store in (vals, own.num, own.cat):
            if c in store:
                store[c] = store[c][head]


def _advanced(df: pd.DataFrame, prow: np.ndarray, time: str, rates: dict[str, float], schema: Any) -> None:  # noqa: ANN401
    """Each parent's rows of each ``rates`` column (a relation's ``advancing``: an age at yearly visits) take the
    parent's anchor, the median over its rows of the value less the rate times the time, plus the rate times the row's
    time (in the table, in place; whole numbers rounded). RandHIE's ages fell between a person's years for 80-84% of
    the synthetic persons."""
    cols = [c for c in rates if c in df.columns]
    if not cols or not len(df):
        return
    from medsynth.io.rules import _days_or_numbers  # (dates in days, in the column's own format)

    t = _days_or_numbers(schema.column(time), df[time]) if time in schema.names else \
        pd.to_numeric(df[time], errors="coerce").to_numpy(dtype=float)
    for c in cols:
        x = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        # each parent's anchor is the median of its rows' values less the rate times their time: a first row's alone
        # wrote the oldest ages at a woman's first year, 7-15% of the ages past the real maximum (a data scientist)
        base = pd.Series(x - rates[c] * t).groupby(prow).transform("median").to_numpy(dtype=float)
        col = schema.column(c) if c in schema.names else None  # (not clipped to the range: a first visit's age near its
        whole = col is not None and col.type == "integer"      # top goes on advancing, as a real person's would)
        if whole:  # (a median of two rows' anchors ends in .5, and rounding half to even then split a parent's rows by 1)
            base = np.floor(base + 0.5)
        v = base + rates[c] * t
        v = np.where(np.isnan(x), np.nan, np.where(np.isfinite(v), v, x))  # (missing stays; no time or first value: drawn)
        if whole:
            v = np.round(v)
        df[c] = pd.Series(v, index=df.index).astype(df[c].dtype, errors="ignore")


def held_per_parent(df: pd.DataFrame, prow: np.ndarray, parent: pd.DataFrame, rel: Any, schema: Any,  # noqa: ANN401
                    ruled: set[str], vals: dict[str, np.ndarray] | None = None, own: Any = None) -> None:  # noqa: ANN401
    """A relation's child columns held per parent, on sampled rows in each parent's time order (in place): its
    ``constant`` columns take the parent's first row's value, its ``copied`` ones the parent's, its ``advancing`` ones
    the parent's anchor plus the rate times the time; not a column a kept rule ties (``ruled``). ``vals`` and ``own``: the
    rows' model codes, moved alike (none for a model that keeps no codes, SDV's HMA)."""
    vals = {} if vals is None else vals
    own = Frame(n=0) if own is None else own
    _held_once(df, prow, [c for c in rel.constant if c not in ruled], vals, own)
    _from_parent(df, parent, prow, [c for c in rel.copied if c not in ruled], vals, own)
    if rel.advancing and rel.order_by in df.columns:
        _advanced(df, prow, rel.order_by, {c: r for c, r in rel.advancing.items() if c not in ruled}, schema)


def _from_parent(df: pd.DataFrame, parent: pd.DataFrame, prow: np.ndarray, cols: list[str], vals: dict[str, np.ndarray],
                 own: Any) -> None:  # noqa: ANN401
    """Each row takes its sampled parent's value of ``cols`` (a relation's ``copied`` columns: a patient's treatment
    repeated on each visit), in the table (in place); its model codes and own frame hold the first row's of the parent
    (:func:`_held_once`: the tables below read codes of the child's own grid)."""
    cols = [c for c in cols if c in df.columns and c in parent.columns]
    if not cols or not len(df):
        return
    _held_once(df, prow, cols, vals, own)
    for c in cols:
        df[c] = pd.Series(parent[c].to_numpy()[prow], index=df.index)


def _terminal_last(df: pd.DataFrame, prow: np.ndarray, rel: Any,  # noqa: ANN401
                   rng: np.random.Generator) -> np.ndarray | None:
    """A parent's terminal row (``rel.terminal`` in ``rel.terminal_values``: a death) is its last: where a model put
    one on an earlier row (mstate::prothr's synthetic patients died up to 13 times, with intervals after death in 72
    of 390), the parent's first terminal value moves to its last row, and each earlier terminal row takes the value of
    the parent's nearest row before it that holds none (after it, where none is before; else another parent's such row,
    at random). Rows are a parent's in time order (generated so). Returns the row each row's value now comes from (for the model's own codes
    of the column, which the tables below it are drawn from), or None where nothing moved."""
    is_end = _terminal_rows(df, rel)
    if is_end is None:
        return None
    col = rel.terminal
    values = df[col].to_numpy(dtype=object)
    n = len(df)
    others = np.flatnonzero(~is_end & pd.notna(values))
    src = np.arange(n)
    for rows in _rows_by_parent(prow):  # each parent's rows, in time order
        at = np.flatnonzero(is_end[rows])
        if not at.size or (at.size == 1 and at[0] == rows.size - 1):
            continue
        plain = np.flatnonzero(~is_end[rows])
        for j in at[at < rows.size - 1]:
            before, after = plain[plain < j], plain[plain > j]
            if before.size or after.size:
                src[rows[j]] = rows[before[-1] if before.size else after[0]]
            elif others.size:
                src[rows[j]] = int(rng.choice(others))
        src[rows[-1]] = rows[at[0]]  # (the first terminal value ends the parent's rows)
    if np.array_equal(src, np.arange(n)):
        return None
    df[col] = pd.Series(values[src], index=df.index).astype(df[col].dtype, errors="ignore")
    return src


def sample_dataset(model: MultiTableDPMST, n: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """``n`` patients with all their rows, as ``{table: DataFrame}`` with regenerated keys."""
    schema = model.schema
    order = schema.order()  # type: ignore[union-attr]
    root = order[0]
    values: dict[str, dict[str, np.ndarray]] = {}
    owns: dict[str, Frame] = {}
    out: dict[str, pd.DataFrame] = {}
    prows: dict[str, np.ndarray] = {}
    values[root], owns[root], out[root] = _sample_root(model, n, rng)
    for t in order[1:]:
        plan = model.plans[t]
        p = plan.parent
        counts = _counts_of(model, p, t, values[p])  # type: ignore[arg-type]
        total = int(np.sum(counts, dtype=np.int64))
        if total > MAX_SAMPLE_ROWS:
            raise ConfigError(
                f"sampling {n} '{root}' rows would make {total:,} '{t}' rows (the model gives a '{p}' row up to "
                f"{model.counts[t].high:,} of them), more than the {MAX_SAMPLE_ROWS:,} one call may build; ask for fewer "
                f"root rows (e.g. --n {max(1, n * MAX_SAMPLE_ROWS // max(total, 1))}) and sample in parts")
        prow = np.repeat(np.arange(len(counts)), counts)
        pos = np.minimum(group_rank(prow), max(model.counts[t].high - 1, 0))
        last = group_rank(prow) == np.asarray(counts)[prow] - 1  # (each parent's last row: prow repeats its parents)
        vals = _draw_rows(model, t, values[p], prow, pos, rng, last)  # type: ignore[index]
        own, df = _decode_child(model, t, vals, prow, values[p], owns[p], rng)  # type: ignore[index]
        constraints = schema.tables[t].constraints  # type: ignore[union-attr]
        rounds = 0
        while constraints and len(df):
            bad = np.flatnonzero(~check_constraints(df, model.codecs[t].schema))
            if bad.size == 0:
                break
            rounds += 1
            if rounds > MAX_ROUNDS:  # the last few rows are brought onto their orderings (b = a where a > b)
                _onto_orderings(df, model.codecs[t].schema, constraints, bad)
                still = np.flatnonzero(~check_constraints(df, model.codecs[t].schema))
                if still.size == 0:
                    break
                raise DataValidationError(f"{still.size} sampled '{t}' rows still break the schema's constraints after "
                                          f"{MAX_ROUNDS} redraws; relax them or check the schema")
            redo = _draw_rows(model, t, values[p], prow[bad], pos[bad], rng, last[bad])  # type: ignore[index]
            for k in vals:
                vals[k][bad] = redo[k]
            own, df = _decode_child(model, t, vals, prow, values[p], owns[p], rng)  # type: ignore[index]
        _under_written_bound(df, out[p], prow, plan, model.codecs[t].schema)  # type: ignore[index]
        rel = next((r for r in schema.relations if r.child == t and r.parent == p), None)  # type: ignore[union-attr]
        if rel is not None and rel.terminal and not schema.children_of(t):  # type: ignore[union-attr]
            # a table no other links to ends each parent's rows at its first terminal row: the rows after it are
            # left out (relabelling them broke prothr's state -> event link: an event equal to its state in 97 of
            # 835 rows, none real, a QA engineer); first the terminal row's values move to the parent's last row, the
            # times staying in place (:func:`_terminal_rotation`)
            src = _terminal_rotation(df, prow, rel, rng)
            if src is not None:  # (the columns of the table's kept rules stay with the times: moved, a derived
                ruled = [c for con in schema.tables[t].constraints for c in con.columns]  # type: ignore[union-attr]
                fixed = [c for c in dict.fromkeys((rel.order_by, rel.sequence, *(rel.ends or []), *ruled))  # duration
                         if c and c in df.columns]  # had left its start and stop behind: a reviewer)
                moved = df.iloc[src].reset_index(drop=True)
                moved[fixed] = df[fixed].to_numpy()
                df = moved.astype(df.dtypes.to_dict(), errors="ignore")
                vals = {k: (v if k in fixed else v[src]) for k, v in vals.items()}
                own = own.take(src)
            keep = _through_terminal(df, prow, rel)
            if keep is not None:
                idx = np.flatnonzero(keep)
                df, prow = df.iloc[idx].reset_index(drop=True), prow[idx]
                vals, own = {k: v[idx] for k, v in vals.items()}, own.take(idx)
            if rel.flag:  # (a leaf's rows only: the tables below another are drawn from its model codes)
                ruled = {c for con in schema.tables[p].constraints for c in con.columns}  # type: ignore[union-attr]
                _keep_flag(df, prow, out[p], rel, rng,  # (a sibling drawn from the old flag, or a rule, would disagree)
                           unflag=len(schema.children_of(p)) == 1 and rel.flag not in ruled)  # type: ignore[union-attr]
            if rel.terminal_at_end:
                _terminal_on_bound(df, prow, out[p], rel, model.codecs[t].schema, model.codecs[p].schema)
        elif rel is not None and rel.terminal:  # rows other tables link to stay: their terminal value moves instead
            src = _terminal_last(df, prow, rel, rng)
            if src is not None and rel.terminal in vals:  # (the tables below draw from the model's codes: moved too)
                vals[rel.terminal] = vals[rel.terminal][src]
                if rel.terminal in own.cat:
                    own.cat[rel.terminal] = own.cat[rel.terminal][src]
        if rel is not None and rel.once and not schema.children_of(t):  # type: ignore[union-attr]
            # a table no other links to leaves out a parent's later row of a value held once (its second AIDS diagnosis:
            # a data scientist's aidssi, 13-16% of the synthetic patients, real none); after the terminal's moves and the
            # flag's, which copy a plain row's value onto a row and may repeat one
            keep = _once_kept(df, prow, rel)
            if keep is not None:
                idx = np.flatnonzero(keep)
                df, prow = df.iloc[idx].reset_index(drop=True), prow[idx]
                vals, own = {k: v[idx] for k, v in vals.items()}, own.take(idx)
                _renumbered(df, prow, plan, model.codecs[t].schema)
        if rel is not None:  # (after the terminal's moves: a parent's first row as it stands)
            held_per_parent(df, prow, out[p], rel, model.codecs[t].schema,
                            {c for con in schema.tables[t].constraints for c in con.columns}, vals, own)  # type: ignore[union-attr]
        _map_counts(model, t, vals, rng)
        values[t], owns[t], out[t], prows[t] = vals, own, df, prow
    regenerate_keys(out, schema, prows)  # type: ignore[arg-type]
    return out


__all__ = ["held_per_parent", "sample_dataset"]
