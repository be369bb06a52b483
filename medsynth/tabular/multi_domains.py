"""How the multi-table DP model settles each table's schema: domains under DP, relation fields confirmed.

A mixin of :class:`~medsynth.tabular.multi_mst.MultiTableDPMST` (steps 2 of its budget): each table's
fields read from the data are re-decided and its domains estimated with DP on one random row per
patient (sensitivity 1), measuring the 1-way marginals of the root's model and of its direct children's models
too (reused by them: see ``MultiTableDPMST._domain_oneways``); relation fields read from the data are kept only when a noisy count of
patients contradicting them is small (:mod:`medsynth.tabular.multi_decisions` and :mod:`medsynth.tabular.multi_events`,
its bases); time fields whose columns DP omitted or re-typed are dropped.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.dataset import DatasetSchema, DatasetTable, Relation
from medsynth.io.dataset_infer import (
    age_named,
    ends_named,
    schedule,
    starts_named,
    time_named,
)
from medsynth.io.schema import TableSchema
from medsynth.privacy.mechanisms import gaussian_sigma
from medsynth.privacy.noise import Generators
from medsynth.privacy.spans import span_widened
from medsynth.tabular.base import COUNT_SHARE
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.domain import LOCATE_RESERVE, reopen_inferred_omissions, resolve_domain
from medsynth.tabular.encoding import TableCodec
from medsynth.tabular.multi_base import primary_parent
from medsynth.tabular.multi_counts import LedgerView, one_per_group
from medsynth.tabular.multi_decisions import (
    CONTRADICTION_SHARE,
    DECISION_SHARE,
    KEEP_SIGMAS,
    RelationDecisions,
)
from medsynth.tabular.multi_events import MAX_SIGMA_SHARE
from medsynth.tabular.orderings import tested_orderings
from medsynth.tabular.structure import needs_decision

#: A number or date column named like a time gets this many times its type's share of its table's domain budget: a
#: child table's time carries each patient's order, gaps and follow-up (zero-config pbcseq: visits.day, spread over
#: 0-5,000 days, was left empty in 8 of 12 fits at epsilon 1 with an even share, and the visits had no time order).
TIME_WEIGHT = 3.0
#: Share of a child table's domain budget that measures the spans of its numbers named like a time
#: (:func:`span_widened`): the domain release sees one random row per patient, and a schedule's first and last times
#: are each one row of many (sleepstudy's 18 subjects on days 0-9: 1.8 patients a day), so the released range came out
#: cut short in every fit at epsilon 10 ([2, 7], [3, 5], [6, 7]) and the sampler piled the visits on its ends.
SPAN_PART = 0.15


#: At most this many (start, end) pairs of the root table's dates are candidates for its own interval.
ROOT_PAIRS = 6


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


class DomainsMixin(RelationDecisions):
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
                upd = _set_bounds(col, na, nb)
                if col.transform == "log" and na < 0:  # (an end widened to times before 0 leaves the log scale: a fit
                    upd["transform"] = "none"          # crashed on its schema, lmec's UTIdata at epsilon 10)
                cols = [c.model_copy(update=upd) if c.name == name else c for c in out[t].columns]
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
                                                rng=gens.noise, floor=not dated, log_scale=col.transform == "log")
            self.ledger.record(f"table '{t}': span of '{name}' (each patient's first and last value beyond its DP range)",
                               "Gaussian mechanism (zCDP): two noisy histograms of distances beyond the range's ends, "
                               "sensitivity sqrt(2)", rho=each, columns=[name], **info)
            if info["widened"]:
                upd = _set_bounds(col, new_lo, new_hi)
                if col.atoms:  # (a schedule's released times: a run of every whole value stretches with the range,
                    # others take the new ends; left behind, the sampler put the widened days back on the old ends)
                    whole = col.type == "integer" and [float(a) for a in col.atoms] == list(  # type: ignore[arg-type]
                        np.arange(float(col.min), float(col.max) + 1))
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


