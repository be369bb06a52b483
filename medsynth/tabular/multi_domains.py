"""How the multi-table DP model settles each table's schema: domains under DP, relation fields confirmed.

A mixin of :class:`~medsynth.tabular.multi_mst.MultiTableDPMST` (steps 2 of its budget): each table's
fields read from the data are re-decided and its domains estimated with DP on one random row per
patient (sensitivity 1), measuring the 1-way marginals of the root's model and of its direct children's models
too (reused by them: see ``MultiTableDPMST._domain_oneways``); relation fields read from the data are kept only when a noisy count of
patients contradicting them is small; time fields whose columns DP omitted or re-typed are dropped.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.dataset import DatasetSchema, DatasetTable, Relation
from medsynth.io.schema import TableSchema
from medsynth.privacy.mechanisms import gaussian_sigma
from medsynth.privacy.noise import Generators
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.domain import LOCATE_RESERVE, reopen_inferred_omissions, resolve_domain
from medsynth.tabular.encoding import TableCodec
from medsynth.tabular.multi_base import primary_parent
from medsynth.tabular.multi_counts import LedgerView, one_per_group
from medsynth.tabular.multi_features import group_rank
from medsynth.tabular.structure import needs_decision

#: Share of the domain budget spent confirming relation fields read from the data (all relations together).
DECISION_SHARE = 0.1
#: A relation field read from the data is kept when at most this share of patients contradicts it (noisy count) ...
CONTRADICTION_SHARE = 0.05
#: ... plus this many deviations of the count's noise: on 200 patients at epsilon 1 the noise (~57) was five times
#: the 5% (10 patients), and a time order every patient followed was dropped in half of the fits.
KEEP_SIGMAS = 2.0


#: Words that start the name of a time column.
TIME_WORDS = ("day", "date", "time", "start", "stop", "admit", "visit", "week", "month", "year", "seq")


def time_named(name: str) -> bool:
    """Whether a column's name (public) says it holds a time: a word of it starting with a time word (``day``,
    ``visit_date``, ``timepoint``, ``week``, ``startday``), or ``tstart``/``tstop``; not ``protime`` (a lab: prothrombin
    time), whose one word only ends with one."""
    from medsynth.io.schema import _name_words

    return any(w.startswith(TIME_WORDS) or w in ("tstart", "tstop") for w in _name_words(name))


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
            upd.update({"order_by": None, "within": None, "ends": []})
        elif rel.within and not ok(rel.parent, rel.within):
            upd["within"] = None
        if rel.ends and "ends" not in upd and not all(ok(rel.child, e) for e in rel.ends):
            upd["ends"] = [e for e in rel.ends if ok(rel.child, e)]
        if rel.sequence and not ok(rel.child, rel.sequence, ("integer", "categorical", "continuous")):
            upd["sequence"] = None
        if upd and self.ledger is not None:
            self.ledger.notes.append(f"relation {rel.label}: {sorted(upd)} not used (their columns were omitted or "
                                     "re-typed when their domains were estimated with DP)")
        return rel.model_copy(update=upd) if upd else rel

    def _domain_weight(self, tab: DatasetTable, keys: list[str]) -> int:
        plain = self._plain(tab, keys)
        return len(plain.private_domain_columns()) + sum(needs_decision(c) for c in plain.columns)

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
        n_cat = {t: sum(c.type == "categorical" for c in self._plain(schema.tables[t], schema.key_columns(t)).modelled
                        if c.name in self._plain(schema.tables[t], schema.key_columns(t)).private_domain_columns())
                 for t in tables}
        out = {}
        for t in schema.order():
            tab = schema.tables[t]
            plain = self._plain(tab, schema.key_columns(t))
            if private:
                plain = reopen_inferred_omissions(plain)  # "holds no value" is read from the data: DP re-decides it
                rows = tables[t] if t not in unit or t == schema.roots[0] else tables[t].iloc[one_per_group(unit[t], gens.noise)]
                share = self.privacy.domain_budget * rho_total * tables_share * weights[t] / max(total_w, 1)
                view = LedgerView(led, share / max(self.privacy.domain_budget, 1e-12), label=f"table '{t}'",  # type: ignore[arg-type]
                                  delta_share=n_cat[t] / max(sum(n_cat.values()), 1))
                # as a single table's fit: numbers not located at first get more looks from a reserve (only what is
                # used is spent; the rest stays with the models), and a table's domain release doubles as its model's
                # 1-way marginals, paid for here with the model's 1-way budget: the root's (the same rows, weight 1)
                # and a direct child's (one row per patient, sensitivity 1: its model reuses them when K = 1, where its
                # rows weigh 1 per patient in all, see _build)
                free = self._planned_models(schema, rho_total, n_hat)
                reserve = min(LOCATE_RESERVE * rho_total, free / 3) * weights[t] / max(total_w, 1)
                reuse = self._domain_reusable(schema, t)
                oneway_rho = self._root_oneway_rho(schema, free) if reuse else 0.0
                self.table_oneways[t] = {}
                res = resolve_domain(plain, rows.reset_index(drop=True), privacy=self.privacy, ledger=view,  # type: ignore[arg-type]
                                     rng=gens.noise, rows=n_hat, oneway_rho=oneway_rho, reserve_rho=reserve,
                                     oneways=self.table_oneways[t] if reuse else None)
            else:
                res = resolve_domain(plain, tables[t], privacy=PrivacyConfig(), ledger=led, rng=gens.noise)  # type: ignore[arg-type]
            keys = set(schema.key_columns(t))
            cols = [c.model_copy(update={"public": False}) if c.name in keys and not tab.column(c.name).public else c
                    for c in res.columns]
            out[t] = DatasetTable(columns=cols, constraints=res.constraints, primary_key=tab.primary_key)
        return out

    def _planned_models(self, schema: DatasetSchema, rho_total: float, n_hat: float) -> float:
        """The models' budget as planned before the domains are released (public facts only: the budget, the noisy
        patient count, the schema): what the patient count, the domain budget and the counts leave. The locate
        reserve (at most a third of it, only what is used is spent) and the root's 1-way marginals (at most a third)
        come out of it, so the counts and the models always keep their share."""
        from medsynth.tabular.base import COUNT_SHARE

        relations = len(schema.relations)
        count_share = self._count_share(relations, rho_total, n_hat) if relations else 0.0  # type: ignore[attr-defined]
        return rho_total * max(1.0 - COUNT_SHARE - self.privacy.domain_budget - count_share, 0.0)

    def _domain_reusable(self, schema: DatasetSchema, t: str) -> bool:
        """Whether table ``t``'s domain release measures its model's 1-way marginals (public facts only): the root,
        and a direct child of the root whose model may see one row-equivalent per patient (K = 1: ``max_children``
        null or 1) with its numbers as values (``child_numbers: value``, so its features carry the columns' names).
        A grandchild's rows weigh less than one per patient in all (its parents' weights times its own), so the
        histogram of one row per patient is not its model's."""
        root = schema.roots[0]
        if t == root:
            return True
        if primary_parent(schema, t) != root or self.config.child_numbers != "value":
            return False
        k = self.config.max_children
        k = k.get(t) if isinstance(k, dict) else k
        return k is None or int(k) == 1

    def _root_oneway_rho(self, schema: DatasetSchema, planned: float) -> float:
        """The rho of one 1-way marginal of a table's model (the root's, or a direct child's): a third of the ``planned`` models' budget over
        every modelled column of every table, as a single table's DP-MST spends it."""
        from medsynth.tabular.mst import DPMST

        columns = sum(len(self._plain(schema.tables[t], schema.key_columns(t)).modelled) for t in schema.tables)
        return DPMST.oneway_share * planned / max(columns, 1)

    def _decide_order_by(self, rel: Relation, tables: dict[str, pd.DataFrame], resolved: dict[str, DatasetTable],
                         pidx: dict[str, np.ndarray], unit: dict[str, np.ndarray], keys: set[str], rho: float,
                         n_hat: float, gens: Generators) -> Relation:
        """Decide afresh, under DP, the child column that orders a parent's rows in time (``order_by`` read from the
        data: which column never decreases within a parent, a fact about every patient, so one patient could
        switch it). Every date column of the child and every number column named like a time (:func:`time_named`; types as decided
        under DP; keys excluded; among all number columns a lab was chosen on pbcseq, where the noise of twelve
        counts hid its disorder) gets a noisy count of the patients whose rows it does not order in the file (a
        decrease, or a missing value); a column is usable when that count is at most ``CONTRADICTION_SHARE`` of the
        patients (plus ``KEEP_SIGMAS`` deviations of its noise), and the usable one with the smallest count is
        chosen. None usable: no ``order_by`` (nor the fields measured from it). Sensitivity: one patient adds at most
        1 to each count."""
        from medsynth.io.schema import NUMERIC_TYPES

        child = resolved[rel.child]
        rows = tables[rel.child]
        codec = TableCodec(child.table_schema())
        cands = [c for c in child.columns if c.name not in keys and not c.omitted and c.type in NUMERIC_TYPES
                 and (c.type == "datetime" or time_named(c.name))]
        drop = {"order_by": None, "within": None, "sequence": None, "ends": []}
        if not cands or rho <= 0:
            if rel.order_by:
                self.ledger.notes.append(f"relation {rel.label}: 'order_by' read from the data is not used (no budget "  # type: ignore[union-attr]
                                         "or no number column to confirm it under DP)")
            return rel.model_copy(update=drop)
        g = pidx[rel.child]
        order = np.argsort(g, kind="stable")  # each parent's rows, in file order
        same = g[order][1:] == g[order][:-1]
        units = unit[rel.child]
        true = []
        for c in cands:
            t = codec.numbers(c, rows[c.name])[order]
            bad = np.isnan(t)
            bad[1:] |= same & (t[1:] < t[:-1])
            true.append(float(len(np.unique(units[order][bad]))))
        sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(cands)))
        noisy = np.asarray(true) + gens.noise.normal(0.0, sigma, len(cands))
        usable = [(c, v) for c, v in zip(cands, noisy, strict=True) if v <= CONTRADICTION_SHARE * n_hat + KEEP_SIGMAS * sigma]
        usable.sort(key=lambda cv: cv[1])
        chosen = usable[0][0].name if usable else None
        self.ledger.record(f"relation {rel.label}: patients whose rows each number column does not order "  # type: ignore[union-attr]
                           "(the time column, decided under DP)", "Gaussian mechanism (zCDP), one count per column",
                           rho=rho, sigma=sigma, columns=[c.name for c in cands], chosen=chosen)
        if chosen is None:
            self.ledger.notes.append(f"relation {rel.label}: no column orders the rows of most parents under DP; "  # type: ignore[union-attr]
                                     "the child rows are modelled without a time order")
            return rel.model_copy(update=drop)
        if chosen != rel.order_by:
            return rel.model_copy(update={**drop, "order_by": chosen})  # the fields read with another order: dropped
        return rel

    def _decide_relation(self, rel: Relation, tables: dict[str, pd.DataFrame], resolved: dict[str, DatasetTable],
                         pidx: dict[str, np.ndarray], unit: dict[str, np.ndarray], rho_total: float, n_decide: int,
                         total_w: int, n_hat: float, gens: Generators, keys: set[str] | None = None) -> Relation:
        """Decide ``order_by`` afresh under DP (when ``schema infer`` read it), then keep ``within``/``sequence``/``ends``
        read from the data only when few patients contradict them."""
        share_all = self.privacy.domain_budget * rho_total * DECISION_SHARE / max(n_decide, 1)
        if "order_by" in rel.read_from_data:
            rest = bool(set(rel.read_from_data) & {"within", "sequence", "ends"})
            rel = self._decide_order_by(rel, tables, resolved, pidx, unit, keys or set(), share_all / 2 if rest else share_all,
                                        n_hat, gens)
            share_all = share_all / 2 if rest else 0.0
        child, parent = resolved[rel.child], resolved[rel.parent]
        codec_c = TableCodec(child.table_schema())
        rows = tables[rel.child]
        t = codec_c.numbers(child.column(rel.order_by), rows[rel.order_by]) if rel.order_by else None  # type: ignore[arg-type]
        checks: dict[str, np.ndarray] = {}
        if rel.within and "within" in rel.read_from_data and t is not None:
            b = TableCodec(parent.table_schema()).numbers(parent.column(rel.within), tables[rel.parent][rel.within])
            checks["within"] = t > b[pidx[rel.child]] + 1e-9
        if rel.sequence and "sequence" in rel.read_from_data and t is not None:
            order = np.lexsort((t, pidx[rel.child]))
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = group_rank(pidx[rel.child][order])
            v = pd.to_numeric(rows[rel.sequence], errors="coerce").to_numpy(dtype=float)
            checks["sequence"] = ~(np.isclose(v, rank + 1) | np.isclose(v, rank))
        for e in rel.ends if "ends" in rel.read_from_data and t is not None else []:
            ev = codec_c.numbers(child.column(e), rows[e])
            checks[f"ends:{e}"] = ev < t - 1e-9  # type: ignore[operator]
        if not checks:
            return rel
        units = unit[rel.child]
        true = np.array([len(np.unique(units[bad])) for bad in checks.values()], dtype=float)  # patients contradicting
        share = share_all
        if share <= 0:  # no domain budget: nothing read from the data can be confirmed
            self.ledger.notes.append(f"relation {rel.label}: {sorted(checks)} read from the data are not used "  # type: ignore[union-attr]
                                     "(privacy.domain_budget is 0, so they cannot be confirmed under DP)")
            return rel.model_copy(update={"within": None if "within" in checks else rel.within,
                                          "sequence": None if "sequence" in checks else rel.sequence,
                                          "ends": [e for e in rel.ends if f"ends:{e}" not in checks]})
        sigma = gaussian_sigma(share, sensitivity=math.sqrt(len(checks)))
        noisy = true + gens.noise.normal(0.0, sigma, true.size)
        keep = {k: bool(v <= CONTRADICTION_SHARE * n_hat + KEEP_SIGMAS * sigma) for k, v in zip(checks, noisy, strict=True)}
        self.ledger.record(f"relation {rel.label}: patients contradicting {sorted(checks)} read from the data",  # type: ignore[union-attr]
                           "Gaussian mechanism (zCDP), one count per field", rho=share, sigma=sigma, kept=keep)
        upd: dict[str, Any] = {}
        if "within" in keep and not keep["within"]:
            upd["within"] = None
        if "sequence" in keep and not keep["sequence"]:
            upd["sequence"] = None
        dropped = [e for e in rel.ends if f"ends:{e}" in keep and not keep[f"ends:{e}"]]
        if dropped:
            upd["ends"] = [e for e in rel.ends if e not in dropped]
        for what in [*upd]:
            self.ledger.notes.append(f"relation {rel.label}: '{what}' read from the data was not confirmed under DP "  # type: ignore[union-attr]
                                     "(too many patients contradict it); it is not used")
        return rel.model_copy(update=upd)

