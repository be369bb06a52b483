"""Rules between columns (date/number orderings, derived columns): proposed from the data, kept by construction.

``schema infer`` proposes the rules that hold in every row of the table (:func:`propose_rules`):

- ``le`` between two date columns (``diagdate <= recdate`` wherever both are present), reduced to the
  ones not implied by others (``a <= b <= c`` does not also list ``a <= c``);
- ``derived``: a number that equals the difference of two date columns (in days) or of two numbers in
  every row where all three are present (``survtime = deathdate - diagdate``);
- ``bins``: a category column that is intervals of a number in every row (``AgeGroup`` from ``Age``, a
  low-birthweight flag from the weight), with round cut points between the intervals.

They are written with ``read_from_data: true, public: false``: facts read from the data, which a DP fit
must not use until the user accepts them as public domain knowledge (``public: true``; the ledger then
lists them as public assumptions). Hand-written rules are public.

A fit keeps the rules it may use **by construction** instead of by rejection (:class:`RulePlan`): for
``a <= b`` the model learns the gap ``b - a`` (never negative) in place of ``b``, and writes ``b = a +
gap``; a derived column is not learned at all but computed from its two sources, and a binned one from its
number. Both are row-wise
transformations of the table, so they cost no privacy. A chain (``a <= b <= c``) becomes two gaps from
its root (``b - a``, ``c - a``: the durations a model links to outcomes directly) and ``b`` is clipped to
``c`` on output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.rules import _days_or_numbers, propose_rules
from medsynth.io.schema import bin_labels, category_key
from medsynth.tabular.encoding import format_days, to_resolution
from medsynth.tabular.schema import ColumnSchema, Constraint, TableSchema


@dataclass
class RulePlan:
    """How a fit keeps its rules: gaps (``b`` learned as ``b - a``) and derived columns (computed).

    Attributes:
        gaps: ``(b, a)``: column ``b`` is modelled as the gap ``b - a`` (``>= 0``; ``a`` the root of its chain).
        clips: ``(x, y)``: an ordering ``x <= y`` inside a chain, kept by ``x = min(x, y)`` at output time.
        derived: ``(c, b, a)``: column ``c`` is computed as ``b - a``.
        bins: ``(c, x)``: category column ``c`` is computed from number ``x`` (its rule's edges and labels in
            ``outputs[c]``).
        outputs: the output schema of each transformed column (its original type and date format; no
            bounds: they follow from the sources).
        columns: the table's column order.
    """

    gaps: list[tuple[str, str]] = field(default_factory=list)
    derived: list[tuple[str, str, str]] = field(default_factory=list)
    clips: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    bins: list[tuple[str, str]] = field(default_factory=list)
    onehots: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.gaps or self.derived or self.bins or self.onehots)

    def to_dict(self) -> dict[str, Any]:
        """As stored in meta.json."""
        return {"gaps": [list(g) for g in self.gaps], "derived": [list(d) for d in self.derived],
                "clips": [list(c) for c in self.clips], "outputs": self.outputs, "columns": self.columns,
                **({"bins": [list(b) for b in self.bins]} if self.bins else {}),
                **({"onehots": [[f, list(m)] for f, m in self.onehots]} if self.onehots else {})}

    def merged(self, other: RulePlan) -> RulePlan:
        """This plan and ``other`` (gaps, derived columns, clips), whose columns no rule of this one touches (applied
        after it; this plan's column order)."""
        return RulePlan(gaps=[*self.gaps, *other.gaps], derived=[*self.derived, *other.derived], clips=[*self.clips, *other.clips],
                        outputs={**self.outputs, **other.outputs}, columns=list(self.columns or other.columns),
                        bins=[*self.bins, *other.bins], onehots=[*self.onehots, *other.onehots])

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RulePlan:
        """From :meth:`to_dict`'s output (an empty plan for None)."""
        if not data:
            return cls()
        return cls(gaps=[tuple(g) for g in data.get("gaps", [])], derived=[tuple(d) for d in data.get("derived", [])],
                   clips=[tuple(c) for c in data.get("clips", [])], outputs=dict(data.get("outputs", {})),
                   columns=list(data.get("columns", [])), bins=[tuple(b) for b in data.get("bins", [])],
                   onehots=[(str(f), tuple(m)) for f, m in data.get("onehots", [])])

    @property
    def onehot_members(self) -> set[str]:
        """The columns a family column stands for (not modelled themselves)."""
        return {m for _, members in self.onehots for m in members}


def usable_rules(schema: TableSchema, *, private: bool) -> tuple[list[Constraint], list[Constraint]]:
    """(rules the fit may use, rules it must ignore): a DP fit ignores rules read from the data that the
    user has not accepted (``public: false``), and every fit the ``suggested`` ones not accepted."""
    use, skip = [], []
    for con in schema.constraints:
        (skip if (private or con.suggested) and not con.public else use).append(con)
    return use, skip


def rule_categories(schema: TableSchema, rules: list[Constraint]) -> tuple[TableSchema, set[str]]:
    """A DP fit's schema with each categorical column of an accepted ``combinations`` rule given the rule's values as
    its public categories (``missing: true``, which a public column may hold or not): the rule names every value the
    column may take, a public fact. Left to the DP category release, a rare value became ``(other)``, which no allowed
    tuple holds: strep_tb's rule pairing ``radiologic_6m`` with its score kept only the two improvement values, and
    every synthetic patient improved (300 of 300; real 59%), the fit silent (a data scientist). Returns the schema and
    the columns given categories so: a value of theirs the rule does not name is read as missing by a DP fit, as a
    value its release left out is (one such row refused the fit, naming its value: a reviewer)."""
    out = {}
    for con in rules:
        if con.kind != "combinations" or not con.public or not con.allowed:
            continue
        for j, name in enumerate(con.columns):
            col = next((c for c in schema.columns if c.name == name), None)
            if col is None or col.type != "categorical" or (col.public and col.has_domain) or name in out:
                continue
            seen: dict[str, Any] = {}
            for a in con.allowed:  # (one per category key, as the codec reads them: 1 beside '1' listed both, a reviewer)
                if a[j] is not None:
                    seen.setdefault(category_key(a[j]), a[j])
            values = list(seen.values())
            if values:
                out[name] = col.model_copy(update={"categories": values, "public": True, "missing": True,
                                                   "read_from_data": []})
    if not out:
        return schema, set()
    return schema.model_copy(update={"columns": [out.get(c.name, c) for c in schema.columns]}), set(out)


def plan_rules(schema: TableSchema, rules: list[Constraint], *, private: bool = False,
               direct: frozenset[tuple[str, str]] = frozenset()) -> RulePlan:
    """Which rules to keep by construction (each column transformed at most once; sources modelled).

    ``private``: a DP fit, whose plan is released with the model: a gapped date's format and resolution read from the
    data (``public: false``) are left out, and the date is written as its source's (released under DP). ``direct``:
    orderings ``(a, b)`` whose ``b`` is gapped from ``a`` itself, not from the root of ``a``'s chain (the two often
    equal: its gap's 0 then writes them equal)."""
    plan = RulePlan(columns=schema.names)
    types = {c.name: c for c in schema.columns}
    derived_cols: set[str] = set()
    for con in rules:
        if con.kind != "derived":
            continue
        c, b, a = con.columns
        if c in derived_cols or c in (a, b) or types[c].type not in ("continuous", "integer"):
            continue
        plan.derived.append((c, b, a))
        derived_cols.add(c)

    def known(col: ColumnSchema) -> bool:  # (a DP fit's plan is released: only a missing state declared public decides
        return not private or col.public or "missing" not in col.read_from_data  # it; one row missing turned it: a reviewer)

    gapped: set[str] = set()
    for con in rules:
        if con.kind != "le":
            continue
        a, b = con.columns
        if b in gapped or b in derived_cols or a in derived_cols or _kind(types[a]) != _kind(types[b]):
            continue
        if types[b].type not in ("datetime", "continuous", "integer"):
            continue
        if known(types[a]) and known(types[b]) and types[a].missing and not types[b].missing:  # a gap is missing
            continue  # wherever its source is: survival's cancer, wt.loss <= time (proposed, accepted), wrote time
            # missing in 10-12% of the rows (real none); checked on the sampled rows instead
        plan.gaps.append((b, a))
        gapped.add(b)
    # sources must be reconstructed before what depends on them: drop gaps that form a cycle
    chain = _gap_order(plan.gaps)
    # star form: every gapped column measures its gap from the root of its chain (a <= b <= c: b - a and
    # c - a, the durations clinicians read and a tree model links to outcomes directly); the inner
    # orderings (b <= c) are then kept by clipping b to c at output time
    source = dict(chain)
    plan.gaps, plan.clips = [], []
    for b, a in chain:
        root = a
        while root in source and (a, b) not in direct:
            root = source[root]
        plan.gaps.append((b, root))
        if root != a:
            plan.clips.append((a, b))
    plan.derived = [d for d in plan.derived if d[1] not in derived_cols and d[2] not in derived_cols]
    for con in rules:  # a category computed from a number's intervals (the number: modelled, gapped or derived)
        if con.kind != "bins":
            continue
        c, x = con.columns
        if c in plan.outputs or any(c == b for b, _ in plan.bins) or types[c].type not in ("categorical", "boolean"):
            continue
        if types[x].type not in ("continuous", "integer") or any(x == b for b, _ in plan.bins):
            continue
        plan.bins.append((c, x))
        labels = list(con.labels or [])  # (the rule's, public once accepted; the column's type and missing state, read
        # from the data, are not released: its type follows from the labels, its missing values from the number's)
        plan.outputs[c] = {"name": c, "type": "boolean" if all(isinstance(v, bool) for v in labels) else "categorical",
                           "missing": None, "edges": list(con.edges or []), "labels": labels}
    taken = {n for g in plan.gaps for n in g} | {n for d in plan.derived for n in d} | {n for b in plan.bins for n in b}
    for con in rules:  # a family of 0/1 columns modelled as the one category saying which is set (a DP fit: after its
        # domains, by its own test, tested_families; an accepted rule is then kept by redrawing the rows that break it)
        if (con.kind == "onehot" and not private and not set(con.columns) & (taken | plan.onehot_members)
                and not any(types[m].missing for m in con.columns if m in types)):  # (a member that may be missing:
            add_onehot(plan, schema, con)  # as one column every member would be missing with it; redrawn instead)
    for b, _ in plan.gaps:
        col = types[b]
        read = private and not col.public
        # a number's type read from the data (whole or not: one row of 1000.5 flips it) is not the plan's: released in
        # meta.json, it told whether any row held a fraction (adversary); the output follows the DP-decided types of the
        # gap and its source, as a derived column's does
        typed = not (read and col.type in NUMBER_KINDS and "type" in col.read_from_data)
        plan.outputs[b] = {"name": b, "type": col.type if typed else None, "format": None if read else col.format,
                           "resolution": None if read else col.resolution, "missing": None if read else col.missing,
                           "max": None if read else upper_bound(col), "min": None if read else lower_bound(col)}
    for c, _, _ in plan.derived:
        col = types[c]
        read = private and not col.public  # (a DP fit's plan is released in meta.json: nothing read from the data)
        plan.outputs[c] = {"name": c, "type": None if read else col.type, "missing": None if read else col.missing}
    return plan


#: Number types: an ordering's two columns are of one kind, a number or a date (whole or not is the data's to say).
NUMBER_KINDS = ("integer", "continuous")


def _kind(col: ColumnSchema) -> str:
    return "number" if col.type in NUMBER_KINDS else col.type


def output_spec(spec: dict[str, Any], gap: ColumnSchema | None, source: ColumnSchema | None) -> dict[str, Any]:
    """A gapped column's output spec with its type: the plan's, else (a DP fit's number whose type was read from the
    data) integer where the DP-decided gap and source are whole, else continuous."""
    return spec if spec.get("type") else {**spec, "type": derived_type(spec, gap, source)}


def _number_bound(col: ColumnSchema, end: int) -> float | None:
    """A number column's bound (``end`` 0 the lower, 1 the upper; its schema's: public or a DP output); None for a
    column without bounds, and for a date but where an atom ends its range there (days since 1970: a study's end of
    follow-up, which a censored row's gap is written past and clipped back onto; udca's last follow-ups went on past
    the study's close in 68-78% of the rows without it)."""
    if col.type == "datetime" and col.has_domain and end_atoms(col)[1 - end] is not None:
        return float(col.bounds()[end])
    if col.type not in ("integer", "continuous") or not col.has_domain:
        return None
    try:
        return float(col.bounds()[end])
    except (TypeError, ValueError):
        return None


def lower_bound(col: ColumnSchema) -> float | None:
    """A number column's lower bound, which ``b = a + gap`` is raised to where a low ``a`` left it under (a data
    scientist's breaches: the report's day below its real first in 40% of the rows, the breach's DP range reaching
    years before); None for a date or a column without bounds."""
    return _number_bound(col, 0)


def upper_bound(col: ColumnSchema) -> float | None:
    """A number column's upper bound, which ``b = a + gap`` must not pass; None for a date or a column without bounds."""
    return _number_bound(col, 1)


#: The category of a family column for rows with none of its members set (a family where at most one is).
NONE_SET = "(none)"


def family_name(stem: str, taken: set[str]) -> str:
    """The modelled name of a family column (``edlevel#onehot``), unlike any column of the table."""
    name = f"{stem}#onehot"
    while name in taken:
        name += "_"
    return name


def _binary_pair(col: ColumnSchema) -> list[Any]:
    """A 0/1 column's two values as it writes them, [zero, one] (its categories' own, else 0 and 1)."""
    from medsynth.io.schema import category_key

    if col.type == "boolean":
        return [False, True]
    by_key = {category_key(v): v for v in (col.categories or [])}
    zero = by_key.get("0", by_key.get("False", 0))
    one = by_key.get("1", by_key.get("True", 1))
    return [_native(zero), _native(one)]


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def add_onehot(plan: RulePlan, schema: TableSchema, con: Constraint) -> None:
    """Plan a "onehot" rule's family as one category column (which member is set; ``(none)`` where at most one is):
    the model learns how often each is set with the rest of the table, and every sampled row has exactly (or at most)
    one set, as in the real rows, at the members' own rates (redrawing the rows that broke it skewed the rates: the
    largest of rwm1984's education dummies from 81% to 87-91%, the smallest from 5% to 0.5%). Row-wise: no privacy
    cost. ``plan.outputs`` holds each member's type and values (from its domain: public or DP outputs), and the
    family's members and how many may be set."""
    from medsynth.io.schema import digit_families

    members = tuple(con.columns)
    cols = {c.name: c for c in schema.columns}
    stem = next(iter(digit_families(list(members), min_size=1)), members[0])
    name = family_name(stem, set(cols) | {f for f, _ in plan.onehots})
    low, high = con.ones_allowed()
    plan.onehots.append((name, members))
    plan.outputs[name] = {"name": name, "members": list(members), "ones": [low, high]}
    for m in members:
        col = cols[m]
        plan.outputs[m] = {"name": m, "type": col.type, "missing": bool(col.missing), "values": _binary_pair(col),
                           "labels": list(col.categories) if col.type == "categorical" and col.categories else None}


def onehot_column(plan: RulePlan, name: str) -> ColumnSchema:
    """The category column a family is modelled as: its members' names, and ``(none)`` where at most one is set (where
    exactly one is, a ``(none)`` cell would hold only noise); never missing (a family is planned only where no member
    may be: a stray row's value is imputed)."""
    spec = plan.outputs[name]
    cats = [*spec["members"], *([NONE_SET] if spec["ones"][0] == 0 else [])]
    return ColumnSchema(name=name, type="categorical", categories=cats, missing=False, public=False,
                        read_from_data=["missing"])


def with_onehots(schema: TableSchema, plan: RulePlan) -> TableSchema:
    """``schema`` with each planned family's members replaced by its category column (where the first member was)."""
    if not plan.onehots:
        return schema
    first = {members[0]: name for name, members in plan.onehots}
    members = plan.onehot_members
    cols = []
    for col in schema.columns:
        if col.name in first:
            cols.append(onehot_column(plan, first[col.name]))
        elif col.name not in members:
            cols.append(col)
    return schema.model_copy(update={"columns": cols})


def onehot_values(df: pd.DataFrame, plan: RulePlan) -> dict[str, np.ndarray]:
    """Each family column's values from its members' (row-wise): the member set (the first of several: the few rows the
    DP test let through, or that break an accepted rule), ``(none)`` where none is and at most one may be; missing where
    none is and one must be, or a member is missing or not 0/1 (a family is planned only where no member may be
    missing: such rows are strays, imputed)."""
    from medsynth.io.schema import binary_view

    out = {}
    for name, members in plan.onehots:
        ones = np.column_stack([binary_view(df[m]) for m in members])
        full = ~np.isnan(ones).any(axis=1)
        k = np.nansum(ones, axis=1)
        vals = np.array(members, dtype=object)[np.argmax(np.nan_to_num(ones), axis=1)]
        none_ok = plan.outputs[name]["ones"][0] == 0
        vals = np.where(k == 0, NONE_SET if none_ok else None, vals)
        out[name] = np.where(full, vals, None)
    return out


def onehot_members(values: pd.Series, plan: RulePlan, name: str) -> dict[str, Any]:
    """A sampled family column written back as its members (each in its own type and values; missing where it is)."""
    spec = plan.outputs[name]
    v = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    miss = np.array([x is None for x in v])
    out = {}
    for m in spec["members"]:
        mspec = plan.outputs[m]
        zero, one = mspec["values"]
        if mspec["type"] == "integer" or all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in (zero, one)):
            arr = pd.array(np.where(miss, 0, np.where(v == m, int(one), int(zero))).astype(np.int64), dtype="Int64")
            arr[miss] = pd.NA
            out[m] = arr
        else:
            col = np.where(v == m, one, zero).astype(object)
            col[miss] = None
            out[m] = col
    return out


def _gap_order(gaps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Gaps in an order where each source is known before its gap is applied (cycles dropped)."""
    out: list[tuple[str, str]] = []
    pending = list(gaps)
    targets = {b for b, _ in gaps}
    done: set[str] = set()
    while pending:
        ready = [g for g in pending if g[1] not in targets or g[1] in done]
        if not ready:
            break
        for g in ready:
            out.append(g)
            done.add(g[0])
            pending.remove(g)
    return out


def gap_type(col: ColumnSchema) -> str:
    """The type of column ``col``'s gap from its source: a number of days between dates, whole for dates and any for
    date-times (kept as "datetime", a non-private fit gave it date bounds and sampled every gap empty); a number's
    gap has the number's type."""
    return ("integer" if "%H" not in (col.format or "") else "continuous") if col.type == "datetime" else col.type


def gap_top(col: ColumnSchema, src: ColumnSchema) -> float:
    """The largest gap of ``col`` from ``src`` their bounds allow: ``col``'s top less ``src``'s bottom (whole for a
    whole gap; not positive where the bounds leave no room)."""
    top = float(col.bounds()[1] - src.bounds()[0])
    return int(np.ceil(top)) if gap_type(col) == "integer" else top


def end_atoms(col: ColumnSchema) -> tuple[float | None, float | None]:
    """A column's atoms that end its range: the one on its top and the one on its bottom (None where none is): a
    study's end of follow-up, a first extraction day (a DP fit ends a range at such an atom)."""
    atoms = col.atom_numbers()
    if not atoms or col.min is None or col.max is None:
        return None, None
    lo, hi = col.bounds()
    top, bottom = max(atoms), min(atoms)
    return (top if abs(top - hi) <= 1e-9 * max(abs(hi), 1.0) else None,
            bottom if abs(bottom - lo) <= 1e-9 * max(abs(lo), 1.0) else None)


def model_schema(schema: TableSchema, plan: RulePlan) -> TableSchema:
    """The schema the model learns: gap columns (numbers, ``min: 0``) in place of ``b``, derived columns
    left out, the rules kept by construction removed from the constraints."""
    if not plan:
        return schema
    types = {c.name: c for c in schema.columns}
    derived = {c for c, _, _ in plan.derived} | {c for c, _ in plan.bins}
    cols = []
    for col in with_onehots(schema, plan).columns:
        if col.name in derived:
            continue
        gap = next((a for b, a in plan.gaps if b == col.name), None)
        if gap is None:
            cols.append(col)
            continue
        src = types[gap]
        kind = gap_type(col)
        public = col.public and src.public and col.has_domain and src.has_domain
        cols.append(ColumnSchema(name=col.name, type=kind, min=0 if public else None, max=gap_top(col, src) if public else None,
                                 missing=col.missing or src.missing,
                                 public=public, read_from_data=[] if public else ["type", "missing", "min", "max"]))
    kept = [c for c in schema.constraints if not _kept(c, plan)]
    return schema.model_copy(update={"columns": cols, "constraints": kept})


def _kept(con: Constraint, plan: RulePlan) -> bool:
    if con.kind == "le":
        return (con.columns[1], con.columns[0]) in plan.gaps or tuple(con.columns) in plan.clips
    if con.kind == "derived":
        return tuple(con.columns) in plan.derived
    if con.kind == "bins":
        return tuple(con.columns) in plan.bins
    if con.kind == "onehot":
        return tuple(con.columns) in [m for _, m in plan.onehots]
    return False


def to_model(df: pd.DataFrame, schema: TableSchema, plan: RulePlan, *, ends: bool = True) -> pd.DataFrame:
    """The table as the model learns it (row-wise: no privacy cost). ``ends``: rows of a gapped column on an atom ending
    its range are written as the gap's end (only where the schema's bounds and atoms are DP outputs or public, or the
    fit is not private: on a DP fit's input schema, read from the data, whether it fired hung on one row: a reviewer)."""
    if not plan:
        return df
    types = {c.name: c for c in schema.columns}
    out = df.copy()
    for b, a in plan.gaps:
        vb, va = _days_or_numbers(types[b], df[b]), _days_or_numbers(types[a], df[a])
        gap = np.maximum(vb - va, 0.0)  # a row that breaks an accepted rule: brought onto it
        top, bottom = end_atoms(types[b]) if ends else (None, None)
        if top is not None:  # b on the atom ending its range (a censoring day): the gap's top, which from_model clips
            gap = np.where(np.abs(vb - top) <= 1e-9, float(gap_top(types[b], types[a])), gap)  # back onto the atom
        if bottom is not None:  # ... on the one starting it: 0, which from_model raises to it
            gap = np.where(np.abs(vb - bottom) <= 1e-9, 0.0, gap)
        out[b] = np.where(np.isnan(va), np.nan, gap)  # (no source: no gap)
    for name, values in onehot_values(df, plan).items():
        out[name] = values
    return out.drop(columns=[c for c, _, _ in plan.derived] + [c for c, _ in plan.bins] + sorted(plan.onehot_members))


def from_model(df: pd.DataFrame, internal: TableSchema, plan: RulePlan) -> pd.DataFrame:
    """Undo :func:`to_model` on sampled rows: ``b = a + gap``, derived columns computed, column order restored."""
    if not plan:
        return df
    types = {c.name: c for c in internal.columns}
    out = df.copy()
    values: dict[str, np.ndarray] = {}

    def value(name: str) -> np.ndarray:
        if name not in values:
            values[name] = _days_or_numbers(types[name], out[name])
        return values[name]

    for b, a in plan.gaps:
        spec = output_spec(plan.outputs[b], types.get(b), types.get(a))
        base = values[a] if a in values else value(a)
        gap = np.maximum(pd.to_numeric(df[b], errors="coerce").to_numpy(float), 0.0)
        x = base + gap
        gcol = types.get(b)
        if (spec.get("max") is not None and gcol is not None and gcol.type in ("integer", "continuous")
                and end_atoms(gcol)[0] is not None):
            # b's range ends on an atom (to_model wrote its rows' gaps as the gap's top): other rows past the end are
            # reflected below it, not piled on it (Aids2: 3-6% of the deaths came out on the censoring day, real 0)
            top = float(spec["max"])
            on = np.abs(gap - max(gcol.atom_numbers())) <= 1e-6 * max(abs(top), 1.0)
            x = np.where(~on & (x > top), np.maximum(2 * top - x, base), x)
        if (spec.get("min") is not None and gcol is not None and gcol.type in ("integer", "continuous")
                and spec.get("bottom_atom", end_atoms(gcol)[1] is not None)):  # (saved before the flag: gap atom 0)
            # ... and on one starting it (to_model wrote its rows' gaps as 0): other rows under the start are reflected
            # above it, not raised onto it (breaches' posting day, 65% of the rows, came out 73-82%)
            low = float(spec["min"])
            x = np.where((gap > 0) & (x < low), 2 * low - x, x)
        if spec.get("max") is not None:  # b's own top (the gap's range is b's top less a's bottom: a high a plus a
            # long gap went past it, Weather's high humidity to 196% on a range up to 119), never under a (the order)
            x = np.where(np.isnan(x), x, np.minimum(x, np.maximum(float(spec["max"]), base)))
        if spec.get("min") is not None:  # ... and its own bottom (raised to it, b stays at or above a: a is under it)
            x = np.where(np.isnan(x), x, np.maximum(x, float(spec["min"])))
        values[b] = x
        out[b] = _write(x, spec, types.get(a))
    for x, y in plan.clips:  # an inner ordering of a chain: x = min(x, y) where both are present
        vx, vy = values[x] if x in values else value(x), values[y] if y in values else value(y)
        both = ~(np.isnan(vx) | np.isnan(vy))
        if np.any(both & (vx > vy)):
            vx = np.where(both & (vx > vy), vy, vx)
            values[x] = vx
            src = next((a for b, a in plan.gaps if b == x), x)  # a gapped column is written as its chain's root
            spec = output_spec(plan.outputs[x], types.get(x), types.get(src)) if x in plan.outputs else {
                "type": types[x].type, "format": types[x].format}
            out[x] = _write(vx, spec, types.get(src))
    for c, b, a in plan.derived:
        vb = values[b] if b in values else value(b)
        va = values[a] if a in values else value(a)
        values[c] = vb - va  # (a bins rule may cut it)
        out[c] = derived_values(vb - va, integer=derived_type(plan.outputs[c], types.get(b), types.get(a)) == "integer")
    for c, x in plan.bins:
        spec = plan.outputs[c]
        rule = Constraint(kind="bins", columns=[c, x], edges=spec["edges"], labels=spec["labels"])
        out[c] = bin_labels(values[x] if x in values else value(x), rule)
    for name, _ in plan.onehots:
        for m, col in onehot_members(out[name], plan, name).items():
            out[m] = col
    return out[plan.columns]


def derived_type(spec: dict[str, Any], b: ColumnSchema | None, a: ColumnSchema | None) -> str:
    """A derived column's type: its own where the plan holds it (public, or a non-private fit's), else its sources'
    (DP-decided) types say it: whole where both are whole numbers or dates (days), else continuous."""
    if spec.get("type"):
        return str(spec["type"])
    whole = all(s is not None and (s.type == "integer" or (s.type == "datetime" and "%H" not in (s.format or "")))
                for s in (b, a))
    return "integer" if whole else "continuous"


def derived_values(diff: np.ndarray, *, integer: bool) -> Any:
    """A derived column's values from its sources' difference (days for dates): whole numbers (nullable) for an
    integer column, missing where a source is missing."""
    if not integer:
        return diff
    arr = pd.array(np.where(np.isnan(diff), 0, np.round(diff)).astype(np.int64), dtype="Int64")
    arr[np.isnan(diff)] = pd.NA
    return arr


def _write(x: np.ndarray, spec: dict[str, Any], source: ColumnSchema | None) -> Any:
    if spec["type"] == "datetime":  # in its own format and resolution, else its source's (one release)
        own = spec.get("format") is not None
        fmt = spec["format"] if own else (source.format if source is not None else None) or "%Y-%m-%d"
        res = spec.get("resolution") if own else (source.resolution if source is not None else None)
        miss = np.isnan(x)
        text = format_days(to_resolution(np.where(miss, 0.0, x), fmt, res), fmt)
        text[miss] = None
        return text
    if spec["type"] == "integer":
        arr = pd.array(np.where(np.isnan(x), 0, np.round(x)).astype(np.int64), dtype="Int64")
        arr[np.isnan(x)] = pd.NA
        return arr
    return x


def output_schema(internal: TableSchema, original_constraints: list[Constraint], plan: RulePlan) -> TableSchema:
    """The schema of the sampled table (for checking constraints): transformed columns in their output
    types, without bounds."""
    if not plan:
        return internal
    cols = {c.name: c for c in internal.columns}
    sources = {c: (cols.get(b), cols.get(a)) for c, b, a in plan.derived}
    sources.update({b: (cols.get(b), cols.get(a)) for b, a in plan.gaps})  # (a gap is modelled under its column's name)
    for name, _ in plan.onehots:
        cols.pop(name, None)
    for name, spec in plan.outputs.items():
        if "members" in spec:  # (a family column: written as its members)
            continue
        if name in sources:
            spec = output_spec(spec, *sources[name])
        fmt = spec.get("format")
        if spec["type"] == "datetime" and not fmt:
            src = next((a for b, a in plan.gaps if b == name), None)
            fmt = cols[src].format if src in cols else None
        cols[name] = ColumnSchema(name=name, type=spec["type"], format=fmt, missing=True, categories=spec.get("labels"))
    return TableSchema(columns=[cols[n] for n in plan.columns if n in cols], constraints=list(original_constraints))


__all__ = ["end_atoms", "NONE_SET", "NUMBER_KINDS", "RulePlan", "add_onehot", "family_name", "onehot_column", "onehot_members", "onehot_values",
           "with_onehots", "derived_type", "output_spec", "derived_values", "from_model", "gap_top", "gap_type", "model_schema", "output_schema", "plan_rules", "propose_rules", "to_model",
           "upper_bound", "usable_rules"]
