"""DP-MST on a folder of tables: patient-level differential privacy for parent/child EHR data.

The unit of privacy is a row of the root table (a patient) with every row linked to it. The budget
(zCDP ``rho`` of the target (epsilon, delta)) is spent, in order, on:

1. a noisy count of patients (2%), used wherever the number of patients shapes the model and for the
   delta < 1/n check;
2. domains (``privacy.domain_budget``): each table's schema fields read from the data are re-decided
   and its domains estimated with DP (:func:`~medsynth.tabular.domain.resolve_domain`) on **one random
   row per patient**, so those mechanisms keep sensitivity 1; relation fields read from the data (a
   ``within`` bound, a ``sequence`` column, interval ``ends``) are kept only when a noisy count of
   patients contradicting them is small; the domain release of the root table and of each direct child of it
   measures its model's 1-way marginals too (with their budget added), reused by the model (a child's when K = 1:
   a patient's rows weigh 1 in all there, as the one row per patient of the release) instead of measured twice;
3. the distribution of children per parent of each relation (``count_share``, by default most of the budget on
   a few hundred patients and 5% on many thousands;
   :func:`~medsynth.tabular.multi_counts.dp_count_distribution`), from which the contribution bound K
   of each child table is chosen (:func:`~medsynth.tabular.multi_counts.choose_bound`) unless given;
4. one DP-MST per table over its features (:mod:`medsynth.tabular.multi_features`), split by the number
   of features. A parent row contributes at most K row-equivalents to a child table's model, with every
   mechanism's sensitivity scaled to the K a patient may hold (:class:`~medsynth.tabular.multi_counts.LedgerView`):
   by default (``contribution: weights``) *every* child row is measured with weight ``min(1, K / n)`` for a
   parent with ``n`` rows (its rows add up to at most K in every histogram, so the L2 sensitivity is K, as
   for K kept rows, but no row is thrown away: on pbcseq K = 1 keeps 1,945 visits at weight 1/n instead of
   312 random ones); ``contribution: sample`` keeps at most K random rows per parent instead. With K = 1 a
   child model reuses its parent model's noisy 1-ways of the parent features it sees (the same histogram) and
   measures only its own columns' 1-ways. A child model's tree joins the parent's declared target
   (``target: true``) to each of the child's own numbers before selection (public structure), and to its own
   category columns too where the selection cannot tell edges apart (on a few hundred patients the picks are near
   uniform whatever it costs; on thousands a category such as a lab's test name is left free to join the numbers
   it qualifies); a tenth of the tree budget picks the other edges.

Sampling draws patients with their summaries from the root model, maps each child count onto the DP
count distribution (rank-preserving), then, table by table, each child row from its model conditioned
on its parent's features and its position (:class:`~medsynth.tabular.multi_tree.TreeSampler`), and
rebuilds values (parent level + deviation) and times (first time + gaps, inside the parent's bound).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.core.errors import DataValidationError
from medsynth.io.dataset import DatasetSchema
from medsynth.io.dataset_infer import ends_named, time_stem
from medsynth.io.schema import TableSchema, category_key
from medsynth.privacy.mechanisms import gaussian_sigma, noisy_count
from medsynth.privacy.noise import Generators
from medsynth.tabular.base import COUNT_SHARE
from medsynth.tabular.config import MAX_DOMAIN_BUDGET
from medsynth.tabular.encoding import Frame, TableCodec
from medsynth.tabular.multi_base import MultiTableSynthesizer, primary_parent
from medsynth.tabular.multi_counts import (
    COUNT_SUPPORT_SHARE,
    CountModel,
    LedgerView,
    bound_rows,
    choose_bound,
    dp_count_distribution,
)
from medsynth.tabular.multi_decisions import DECISION_EXTRA
from medsynth.tabular.multi_domains import DomainsMixin
from medsynth.tabular.multi_features import (
    EVIDENCE,
    GAP,
    LAST,
    POS,
    WHOLE_GAP_MAX,
    TablePlan,
    after_room,
    companion_offsets,
    dev_col,
    dur_col,
    first_time_share,
    group_rank,
    interval_lengths,
    mean_col,
    n_col,
    off_col,
    own_columns,
    parent_index,
    summaries,
    summary_columns,
    t0_col,
    time_features,
    time_span,
)

#: Lengths of time (interval lengths, gaps without a bound) are modelled in hours: on a log grid of days reaching
#: decades, the first of 64 fine cells held everything under 4 hours, and Synthea's 20-minute encounters came out
#: 2-3 hours long.
LENGTH_SCALE = 24.0
#: ``child_numbers: auto`` without DP: a child number is learnt as its deviation from the parent's level where the
#: parents' levels hold at least this share of its variance ...
DEVIATION_SHARE = 0.5
#: ... and its commonest value holds less than this share of its values.
POINT_MASS_SHARE = 0.2
#: Share of one relation's part of the decision budget that decides the root table's own interval (a start and its
#: ends among its dates, e.g. admittime and dischtime of an admissions table with no patients table above it: each
#: date on its own, half of the synthetic stays ended before they began, non-private too).
ROOT_INTERVAL_PART = 0.3
#: count_share null: the share of the budget that gives a count cell noise of this share of the patients ...
COUNT_NOISE = 0.01
#: ... kept within this range.
COUNT_SHARE_RANGE = (0.05, 0.55)
#: ... whose top falls to this when no modelled column's domain is declared public (the domains need the budget:
#: zero-config pbcseq at epsilon 1, 218 patients, 3 draws each: 55% left 3-4 of 6 patient columns empty (patient
#: marginal distance 0.67-0.83), 25% 1 (0.28-0.30), children-per-parent TVD 0.12-0.26 vs 0.17-0.19).
PRIVATE_DOMAINS_COUNT_SHARE = 0.25
#: A private folder's fit refuses a plan leaving its models less than this share of the budget (:meth:`_check_plan`).
MIN_MODEL_SHARE = 0.1
#: summaries "auto": a parent carries its children's means and modes when its noisy number of rows is at
#: least this many times the noise of its model's 1-way marginals.
SUMMARY_SNR = 50.0


class MultiDPMSTConfig(ConfigModel):
    """DP-MST on a folder of tables.

    Attributes:
        bins: coarse bins per numeric feature of every table's DP-MST (see DPMSTConfig).
        fine_bins: fine grid of numeric features.
        ipf_iters: proportional-fitting iterations per edge.
        adaptive_bins: coarser grids where the noise would swamp fine ones (0 turns it off).
        max_children: K, the row-equivalents a parent row contributes to a child table's model (its rows'
            weights add up to at most K; with ``contribution: sample``, the rows kept): one number for every
            table, ``{table: K}``, or null to choose it from the DP distribution of children per parent (see
            max_children_quantile).
        contribution: how a parent with more than K rows is bounded: "weights" (every row measured with weight
            ``min(1, K / n)``) or "sample" (K of its rows chosen at random, the others not measured).
        max_children_quantile: with max_children null, K is at most this quantile of the children per
            parent, lowered where fewer rows per parent measure better at the noise level.
        count_share: share of the budget spent on the distributions of children per parent; null ("auto"):
            what keeps the noise of each count cell near ``COUNT_NOISE`` of the (noisy) number of patients,
            between ``COUNT_SHARE_RANGE`` (most of it on small tables such as pbcseq's 312 patients, where the
            count histogram is the one release that noise does not swamp; 5% on large ones); the top of the range
            falls towards ``PRIVATE_DOMAINS_COUNT_SHARE`` with the share of modelled columns whose domains are read
            from the data (they need the budget: with every domain private, most columns came out empty at 55%).
        evidence: "all": a child row's model sees every feature of its parent; "related": only the
            parent's summaries of this child table (fewer columns, less noise each).
        max_count: public bound on the children of one parent (larger counts count as this).
        child_numbers: "value": a child's numeric column is learnt as its value, tied to the parent's level
            (``mean:T:c``) through the tree; "deviation": as its deviation from that level, added back when
            sampling (a parent's synthetic mean is then its level exactly, but point masses such as 0 smear); "auto"
            (default): values under DP, and without DP a deviation for each number whose parents' levels hold most of
            its variance and no point mass (:meth:`MultiTableDPMST._choose_deviations`).
        summaries: whether a parent's model carries the means and modes of its children's columns (they tie
            a patient's rows together, and cost one column each): "all", "none", or "auto" (where the
            parent's model measures them well enough, see SUMMARY_SNR; always for a non-private fit).
        selection_share: share of each table model's budget after its 1-way marginals spent on picking its
            tree (the rest measures the tree's edges). On a few hundred patients the exponential mechanism's
            picks are close to uniform whatever the share, so a small one buys less noisy edges.
        target_edges: a child table's tree joins the parent's declared target (``target: true`` in the
            schema, seen as evidence) to some of the child's own columns before any selection (a public
            structure); the selection picks the remaining edges. "numbers" (default): to each own number, and to
            each own category column only where the selection cannot tell edges apart (few patients for the budget:
            :data:`~medsynth.tabular.mst.SELECTION_INFORMATIVE`); True: to every own column; False: none. No effect
            without a declared target. A tree joined to every own column cannot hold an edge between two of them:
            on a long-format lab table (survival's nafld2: ``test``, ``value``) every test's values came from one
            pooled distribution; a category column of a child table often says what its numbers mean (the test,
            the unit, the event type), so it is left to the selection.
        qualifier_edges: a child table's tree joins a number holding a measurement's result to the category column
            saying what was measured, before any selection (public structure: names and types, no data): a number
            named like a value (``value``, ``valuenum``, ``value_as_number``, ``result``) to the first category named
            like a measured item (``test``, ``itemid``, ``measurement_concept_id``, ``label``; :data:`VALUE_WORDS`,
            :data:`QUALIFIER_WORDS`). At epsilon 1 on survival's nafld (4,000 patients, a zero-config folder) the selection joined
            ``test`` to the time gap and ``value`` to the patient's mean in 3 fits of 3, and every test's values came
            from one pooled distribution (chol, hdl, sbp and dbp medians 51-55; real 48 and 136).
        root_target_pairs: a DP-MST root model measures the 2-way marginal of its declared target (``target:
            true``) with every column besides its tree (public structure; the tree's budget is shared by all its
            measurements). A tree joins a rare outcome to one or two columns picked by L1 scores that its small
            mass keeps low: on survival's nafld the root joined status to age in one fit of three.
        time_gaps: how a child row's gap to the previous one is modelled under a ``within`` bound: "spacing" (in
            units of the even spacing of the parent's rows still to come over the time left: 1 for rows spread
            evenly up to the bound) or "share" (the share of the time left, the former default: drawn independently
            of the position, shares bunch long sequences at the end of follow-up).
        decode: how each table model decodes its numbers from the noisy fine 1-ways: "clipped" (the noisy counts
            clipped at 0: on a few hundred units most real cells sit within the noise) or "project" (their projection
            onto non-negative counts of the same total, the single-table models' decoding; on pbcseq at epsilon 1,
            14 fits each, TSTR 0.67 vs 0.64 and visit 2-way TVD 0.41 vs 0.39: within the spread).
        empty_sigmas: no longer used (kept so run folders saved before 2026-12-03 load): cells below this many
            deviations were counted as empty; ``decode`` replaces it.
        root_model: the model of the root table (the patients; sampled unconditionally, so any marginal model fits):
            "dp-mst" (a tree), "dp-aim" (AIM's adaptive 2-/3-way marginals, with the declared target's 3-way
            marginals in its workload), or "auto" (dp-aim when the root table declares a target, ``target: true``,
            else dp-mst). Child tables keep DP-MST (their sampling conditions a tree on the parent's features). The
            root model gets the same budget either way (the split by features, its 1-way share, the reused 1-ways).
        reuse_parent_oneways: with K = 1, a child model takes the 1-way marginals of its evidence columns
            from its parent's model (the same histogram: a parent's measured rows weigh 1 in all) instead of
            measuring them again, and spends their budget on its own columns.
    """

    bins: int = Field(12, ge=2, le=256)
    fine_bins: int = Field(64, ge=4, le=4096)
    ipf_iters: int = Field(50, ge=1)
    adaptive_bins: float = Field(1.0, ge=0)
    max_children: int | dict[str, int] | None = None
    max_children_quantile: float = Field(0.9, gt=0, le=1)
    contribution: Literal["weights", "sample"] = "weights"
    count_share: float | None = Field(None, ge=0.01, lt=0.9)
    evidence: Literal["all", "related"] = "all"
    max_count: int = Field(65536, ge=1)
    child_numbers: Literal["auto", "value", "deviation"] = "auto"
    summaries: Literal["auto", "all", "none"] = "auto"
    selection_share: float = Field(0.1, ge=0.01, le=0.99)
    reuse_parent_oneways: bool = True
    target_edges: bool | Literal["numbers"] = "numbers"
    decode: Literal["clipped", "project"] = "clipped"
    time_gaps: Literal["spacing", "share"] = "spacing"
    root_target_pairs: bool = True
    qualifier_edges: bool = True
    empty_sigmas: float = Field(0.0, ge=0.0)
    root_model: Literal["auto", "dp-mst", "dp-aim"] = "dp-mst"


#: Name words of a number holding a measurement's result (a word, or a word's start: ``valuenum``) ...
VALUE_WORDS = ("value", "result", "val", "reading")
#: ... and of the category column saying what was measured (long-format labs, vitals, observations), the specific ones
#: first (``test_name`` before ``lab_site``'s ``lab``; a ``code`` or ``name`` only where nothing says more) ...
QUALIFIER_WORDS = (("test", "itemid", "analyte", "assay", "parameter", "measurement", "observation", "component", "vital"),
                   ("lab", "item", "label", "variable", "measure", "concept", "code", "name"))
#: ... but not a column whose name says something else of the row: its unit, type, place or who took it
#: (``unit_concept_id``, ``measurement_type_concept_id``, ``lab_site``, ``provider_name``: a reviewer).
NOT_QUALIFIER_WORDS = frozenset({"unit", "units", "uom", "type", "site", "provider", "ward", "source", "status", "flag",
                                 "range", "ref", "reference", "priority", "specimen", "fluid"})


def qualifier_pairs(numbers: list[str], categories: list[str]) -> list[tuple[str, str]]:
    """(category, number) pairs of a long-format table: each number named like a result (:data:`VALUE_WORDS`; not one
    named like a time, ``reading_time``) with the category named most specifically like a measured item
    (:data:`QUALIFIER_WORDS`, none of :data:`NOT_QUALIFIER_WORDS`), the first of its rank. Public structure: names only
    (a table's only number and its only category are no pair by their shape: a visit's lab and its grade may be
    unrelated, and the forced edge would take the place of one the selection needs)."""
    from medsynth.io.dataset_infer import time_named
    from medsynth.io.schema import _name_words

    def valued(c: str) -> bool:
        return not time_named(c) and any(w == v or (w.startswith(v) and v != "val")
                                         for w in _name_words(c) for v in VALUE_WORDS)

    def rank(c: str) -> int | None:
        words = set(_name_words(c))
        if words & NOT_QUALIFIER_WORDS:
            return None
        return next((i for i, group in enumerate(QUALIFIER_WORDS) if words & set(group)), None)

    ranked = sorted((r, i, c) for i, c in enumerate(categories) if (r := rank(c)) is not None)
    return [(ranked[0][2], n) for n in numbers if valued(n)] if ranked else []


def plan_discrete_names(tab: Any, modelled: set[str]) -> set[str]:  # noqa: ANN401
    """The modelled category columns of a table (a terminal event's column must be one)."""
    return {c.name for c in tab.columns if c.name in modelled and c.type in ("categorical", "boolean")}


class MultiTableDPMST(DomainsMixin, MultiTableSynthesizer):
    """DP-MST over a folder of related tables, with patient-level DP (``epsilon: null``: non-private)."""

    name: ClassVar[str] = "dp-mst"
    private: ClassVar[bool] = True
    allows_non_private: ClassVar[bool] = True
    Config: ClassVar[type[ConfigModel]] = MultiDPMSTConfig
    config: MultiDPMSTConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plans: dict[str, TablePlan] = {}
        self.models: dict[str, Any] = {}
        self.counts: dict[str, CountModel] = {}
        self.codecs: dict[str, TableCodec] = {}
        self.table_oneways: dict[str, dict[str, Any]] = {}  # per table: its domain release's 1-way marginals
        self.rules_tested: dict[str, list[list[str]]] = {}  # per table: the orderings a DP test kept (a DP output)
        self.private_domain_share = 0.0  # share of the modelled columns whose domains a DP fit estimates
        self.rows_sigma: float | None = None  # the noise of the noisy patient count (a DP fit)

    # -- fit -------------------------------------------------------------------------------------
    def _fit_checked(self, tables: dict[str, pd.DataFrame], schema: DatasetSchema, gens: Generators) -> None:
        private, led = self.is_private, self.ledger
        roots = schema.roots
        if len(roots) != 1:
            raise DataValidationError(
                f"a multi-table dp-mst fit needs exactly one root table (the unit of privacy: a patient); tables {roots} "
                "have no parent. Relate them (--relation CHILD.COL=PARENT.COL) or fit them separately")
        root = roots[0]
        order = schema.order()
        primaries = {t: primary_parent(schema, t) for t in order}
        others = [t for t in order if t != root]
        led.unit = f"one row of '{root}' with every row linked to it" + (f" ({', '.join(others)})" if others else "")  # type: ignore[union-attr]
        led.neighbouring = (f"add/remove one '{root}' row together with all its linked rows (the rows sharing a root key are "  # type: ignore[union-attr]
                            "one patient; a change to a patient's rows is a removal and an addition)")
        # each table's time fields come from the relation to its primary parent (the one it is generated under; public:
        # the schema's relations); another relation's are not modelled, so not decided (deciding them read the other
        # parent's rows with the primary parent's row numbers: an IndexError on OMOP's condition_occurrence)
        decide = [r for r in schema.relations if private and primaries[r.child] is not None
                  and r == self._relation(schema, r.child, primaries[r.child])]
        weights = {t: self._domain_weight(schema.tables[t], schema.key_columns(t)) for t in order}
        # (public facts only: a column whose type schema infer read counts as modelled and private whatever it read,
        # an identifier or an empty column too, as in the tables' weights)
        private_cols = sum(self._private_count(schema.tables[t], schema.key_columns(t)) for t in order)
        modelled = sum(self._modelled_count(schema.tables[t], schema.key_columns(t)) for t in order)
        self.private_domain_share = private_cols / modelled if private and modelled else 0.0
        if private and self.privacy.domain_budget > 0 and any(weights.values()):
            led.reserve_delta(self.privacy.delta * self.privacy.domain_budget / 2)  # type: ignore[union-attr]
        rho_total = led.rho_budget if private else 0.0  # type: ignore[union-attr]
        n_root = len(tables[root])
        if private:
            rho = COUNT_SHARE * rho_total
            n_hat = max(1.0, noisy_count(n_root, rho, gens.noise))
            self.rows_sigma = gaussian_sigma(rho)
            led.record(f"number of rows of '{root}' (patients)", "Gaussian mechanism (zCDP)", rho=rho,  # type: ignore[union-attr]
                       sigma=gaussian_sigma(rho), released="rows_noisy in meta.json")
            if led.take_delta_level(n_hat, gaussian_sigma(rho), unit=f"'{root}' rows (patients)"):  # type: ignore[union-attr]
                self.privacy = self.privacy.model_copy(update={"delta": led.target_delta})  # type: ignore[union-attr]
            rho_total = led.rho_budget  # type: ignore[union-attr]  # a lower delta level's (smaller) budget
            self.meta["rows_noisy"] = round(n_hat)
            self.meta["rows_note"] = f"noisy count of '{root}' rows (DP, charged to the ledger): the exact counts are private"
        else:
            n_hat = float(n_root)
        # where each row belongs: its parent's row and its unit (root row)
        pidx: dict[str, np.ndarray] = {}
        unit: dict[str, np.ndarray] = {root: np.arange(n_root)}
        for t in others:
            rel = self._relation(schema, t, primaries[t])  # type: ignore[arg-type]
            pk = schema.tables[rel.parent].primary_key
            pidx[t] = parent_index(tables[t][rel.column], tables[rel.parent][pk])  # type: ignore[index]
            unit[t] = unit[rel.parent][pidx[t]]
        # the root table's own interval (a start and its ends: public candidates by name) takes ROOT_INTERVAL_PART of a
        # relation's share of the decision budget (public: whether its names could hold an end and a start)
        root_keys = set(schema.key_columns(root))
        names = [c.name for c in schema.tables[root].modelled if c.name not in root_keys]
        # (a rule le the fit may use decides it unmeasured: its being declared is public, its columns' types may not be)
        declared = any(c.kind == "le" and (c.public or not private) for c in schema.tables[root].constraints)
        interval_part = ROOT_INTERVAL_PART if any(ends_named(n) for n in names) and len(names) > 1 and not declared else 0.0
        n_dec = len(decide) + interval_part
        if private:
            self._check_plan(schema, rho_total, n_hat, bool(n_dec), any(weights.values()))
        # domains, on one random row per patient
        resolved = self._resolve_domains(tables, schema, unit, weights, n_dec, rho_total, n_hat, gens)  # type: ignore[arg-type]
        if private:
            resolved = self._borrow_time_ranges(resolved, schema)
        schema = schema.model_copy(update={"relations": [self._usable(r, resolved) for r in schema.relations]})
        decide = [r for r in schema.relations if private and primaries[r.child] is not None
                  and r == self._relation(schema, r.child, primaries[r.child])]
        if not self.root_interval_candidates(resolved[root], root_keys):  # no two dates after all (DP types): the
            interval_part = 0.0                                              # relations keep their whole share
        n_dec = len(decide) + interval_part
        relations = [(self._decide_relation(r, tables, resolved, pidx, unit, rho_total, n_dec, n_hat, gens,  # type: ignore[arg-type]
                                            set(schema.key_columns(r.child)), set(schema.key_columns(r.parent)),
                                            leaf=not schema.children_of(r.child))
                      if r in decide else self._untimed(r, primaries[r.child]))
                     if private else r for r in schema.relations]
        relations = [r if r.order_by or not r.terminal else r.model_copy(update={"terminal": None, "terminal_values": []})
                     for r in relations]  # (a terminal row is the last by the time: none without one)
        relations = [r if not r.terminal_at_end or (r.terminal and r.within and not r.ends)
                     else r.model_copy(update={"terminal_at_end": False}) for r in relations]
        relations = [r if not r.flag or (r.terminal and category_key(r.flag_value) in {category_key(v) for v in r.terminal_values})
                     else r.model_copy(update={"flag": None, "flag_value": None}) for r in relations]  # (a flag of its value)
        self.root_start, self.root_ends = self._root_interval(
            root, tables[root], resolved[root], root_keys, self._decision_pool(rho_total) * interval_part / max(n_dec, 1),
            n_hat, gens) if interval_part or declared else (None, [])
        self.schema = DatasetSchema(tables=self._align_times(resolved, relations, order), relations=relations)
        self._build(tables, unit, pidx, primaries, order, rho_total, n_hat, gens)

    def _untimed(self, rel: Any, primary: str | None) -> Any:
        """A relation to a parent other than the table's primary one, without time fields (not modelled: the table's
        rows are generated under ``primary``), with a ledger note where it had any."""
        declared = [f for f in ("order_by", "within", "after", "sequence", "ends", "chained", "terminal", "flag",
                                  "terminal_at_end", "constant", "copied", "once")
                    if getattr(rel, f) and f not in rel.read_from_data]
        if not declared and not rel.read_from_data:
            return rel
        if declared:  # (fields schema infer read are the data's: whether there were any is a boundary fact about one
            # person, and the note had told it in the released ledger: an adversary's neighbouring folders)
            self.ledger.notes.append(f"relation {rel.label}: its time fields are not used (the rows of '{rel.child}' "  # type: ignore[union-attr]
                                     f"are generated under '{primary}', and their times follow that relation)")
        return rel.model_copy(update={"order_by": None, "within": None, "after": None, "sequence": None, "ends": [],
                                      "chained": None, "terminal": None, "terminal_values": [], "flag": None,
                                      "flag_value": None, "terminal_at_end": False, "constant": [], "copied": [],
                                      "once": None, "once_values": [], "read_from_data": []})

    # -- plans, features, models -------------------------------------------------------------------
    def _make_plan(self, t: str, parent: str | None, children: list[str]) -> TablePlan:
        schema = self.schema
        codec = self.codecs[t]
        rel = self._relation(schema, t, parent) if parent else None  # type: ignore[arg-type]
        plan = TablePlan(name=t, parent=parent, children=children, numbers=self.config.child_numbers, gap=self.config.time_gaps,
                         length_scale=LENGTH_SCALE)
        tab = schema.tables[t]  # type: ignore[union-attr]
        modelled = {c.name for c in tab.modelled}
        if rel is not None and rel.order_by in modelled:
            plan.order_by = rel.order_by
            plan.ends = [e for e in rel.ends if e in modelled]
            plan.fine_start = next((e for e in plan.ends if time_stem(e) == time_stem(plan.order_by)), None)
            plan.chained = rel.chained if rel.chained in plan.ends else None
            ptab = schema.tables[parent]  # type: ignore[index,union-attr]
            if rel.within and rel.within in {c.name for c in ptab.modelled}:
                plan.within = rel.within
            if rel.after and rel.after in {c.name for c in ptab.modelled}:
                plan.after = rel.after
            plan.terminal = bool(rel.terminal) and rel.terminal in plan_discrete_names(tab, modelled)
        if parent is None and getattr(self, "root_start", None) in modelled:  # the root row's own interval
            plan.start = self.root_start
            plan.ends = [e for e in getattr(self, "root_ends", []) if e in modelled]
        if plan.order_by and not plan.within and not plan.ends and tab.column(plan.order_by).type == "integer":
            plan.gap_whole = time_span(schema, plan) <= min(WHOLE_GAP_MAX, self.config.fine_bins)
        if rel is not None and rel.sequence in modelled:
            plan.sequence = rel.sequence
            col = tab.column(rel.sequence)
            low = col.bounds()[0] if col.type != "categorical" else min(float(c) for c in col.categories or [1])  # type: ignore[arg-type]
            plan.seq_start = 0 if low == 0 else 1
        base = plan.start if parent is None else plan.order_by
        if base is not None and tab.column(base).type == "datetime":  # other dates: offsets from the row's time
            plan.companions = [c.name for c in codec.numeric if c.type == "datetime" and c.name in modelled
                               and c.name not in {base, plan.sequence, *plan.ends}]
        skip = {plan.order_by, plan.sequence, *plan.ends, *plan.companions}
        plan.numeric = [c.name for c in codec.numeric if c.name not in skip]
        plan.discrete = [c.name for c in codec.discrete if c.name not in skip]
        return plan

    def _build(self, tables: dict[str, pd.DataFrame], unit: dict[str, np.ndarray], pidx: dict[str, np.ndarray],
               primaries: dict[str, str | None], order: list[str], rho_total: float, n_hat: float, gens: Generators) -> None:
        private, schema, led, cfg = self.is_private, self.schema, self.ledger, self.config
        root = order[0]
        for t in order:
            codec = TableCodec(schema.tables[t].table_schema())  # type: ignore[union-attr]
            if private:
                codec.unknown_as_missing = set(self._plain(schema.tables[t], schema.key_columns(t)).private_domain_columns())  # type: ignore[union-attr]
            self.codecs[t] = codec
        self.plans = {t: self._make_plan(t, primaries[t], [c for c in order if primaries[c] == t]) for t in order}
        # rows sorted by parent then time; frames of own columns (all rows)
        rows: dict[str, np.ndarray] = {root: np.arange(len(tables[root]))}
        prow: dict[str, np.ndarray] = {}
        own: dict[str, Frame] = {}
        days: dict[str, np.ndarray] = {}
        for t in order:
            plan, codec, df = self.plans[t], self.codecs[t], tables[t]
            if plan.parent is not None:
                inv = np.empty(len(rows[plan.parent]), dtype=np.int64)
                inv[rows[plan.parent]] = np.arange(len(rows[plan.parent]))
                p_unsorted = inv[pidx[t]]
                tkey = codec.numbers(codec.schema.column(plan.order_by), df[plan.order_by]) if plan.order_by else np.arange(len(df), dtype=float)
                rows[t] = np.lexsort((np.nan_to_num(tkey, nan=np.inf), p_unsorted))
                prow[t] = p_unsorted[rows[t]]
                if plan.order_by:
                    days[t] = tkey[rows[t]]
            frame = codec.encode(df.iloc[rows[t]])
            codec.fill_unmodelled(frame, gens.noise)
            own[t] = frame
            if plan.parent is not None and cfg.child_numbers == "auto":
                self._choose_deviations(plan, frame, prow[t])
        # summaries of each child table, per parent row
        summ: dict[str, dict[str, np.ndarray]] = {t: {} for t in order}
        for t in order[1:]:
            plan = self.plans[t]
            t_unit = self._first_times(t, own[t], days.get(t), prow[t], rows[plan.parent], tables[plan.parent])  # type: ignore[index]
            summ[plan.parent].update(summaries(own[t], prow[t], len(rows[plan.parent]), plan, self.codecs[t], t_unit))  # type: ignore[index]
        # plan the budget of the models (by number of feature columns), then counts and bounds top-down
        rels = order[1:]
        rho_counts = self._count_share(len(rels), rho_total, n_hat) * rho_total if private and rels else 0.0
        rho_models = max(rho_total - (led.rho_spent if private else 0.0) - rho_counts, 0.0) * (1 - 1e-9)  # type: ignore[union-attr]
        self._decide_summaries(order, rho_models, n_hat)
        n_feat = {t: self._n_features(t) for t in order}
        self.meta["summaries"] = {t: self.plans[t].summarised for t in rels}
        rho_model = {t: rho_models * n_feat[t] / max(sum(n_feat.values()), 1) for t in order}
        # which rows each model measures, and with what weight: a unit's rows of table t weigh at most sens[t]
        weighted = cfg.contribution == "weights"
        measured: dict[str, np.ndarray] = {root: np.ones(len(rows[root]), dtype=bool)}
        weight: dict[str, np.ndarray] = {root: np.ones(len(rows[root]))}
        sens: dict[str, float] = {root: 1.0}
        est_rows: dict[str, float] = {root: n_hat}
        for t in rels:
            plan = self.plans[t]
            p = plan.parent
            n_children = np.bincount(prow[t], minlength=len(rows[p]))  # type: ignore[index]
            counts = n_children[measured[p]]  # type: ignore[index]
            pw = weight[p][measured[p]]  # type: ignore[index]
            cm = dp_count_distribution(counts, rho_counts / len(rels) if private else None, gens.noise,
                                       sensitivity=sens[p], cap=cfg.max_count, weights=None if np.all(pw == 1) else pw)  # type: ignore[index]
            if private:
                led.record(f"table '{t}': number of rows per '{p}' row",  # type: ignore[union-attr]
                           "two Gaussian noisy histograms (zCDP): cells of growing width for the support "
                           f"({COUNT_SUPPORT_SHARE:.0%}), then each value of it (or the same cells again, averaged); smoothed",
                           rho=rho_counts / len(rels), sensitivity_rows_per_unit=sens[p], support=cm.details.get("support"),  # type: ignore[index]
                           sigma_support=cm.details.get("sigma_support"), sigma_values=cm.details.get("sigma_values"))
            cm.parents = cm.parents if private else float(pw.sum())
            cm = self._cap_by_sequence(plan, cm)
            k = self._bound(t, cm, n_feat[t], rho_model[t], private, counts)
            cm.bound = k
            self.counts[t] = cm
            cand = measured[p][prow[t]]  # type: ignore[index]
            if weighted:  # every row, weighing min(1, K / rows of its parent) times its parent's weight
                measured[t] = cand
                weight[t] = np.where(cand, weight[p][prow[t]] * np.minimum(1.0, k / np.maximum(n_children[prow[t]], 1)), 0.0)  # type: ignore[index]
            else:  # at most K random rows per parent, weight 1
                keep = np.zeros(len(prow[t]), dtype=bool)
                keep[cand] = bound_rows(prow[t][cand], k, gens.noise)
                measured[t] = keep
                weight[t] = keep.astype(float)
            sens[t] = sens[p] * k  # type: ignore[index]
            plan.bound, plan.sensitivity = k, sens[t]
            est_rows[t] = max(est_rows[p] * cm.expected_min(k), 1.0)  # type: ignore[index]
        how = ("every row measured, a parent's n rows weighing min(1, K/n) each" if weighted
               else "at most K random rows per parent measured")
        if private:
            led.contribution_bound = "; ".join(  # type: ignore[union-attr]
                f"'{t}': K = {self.plans[t].bound} row-equivalent(s) per '{self.plans[t].parent}' row ({how}; L2 sensitivity "
                f"{self.plans[t].sensitivity:g} rows per patient)" for t in rels) or "1 row per patient"
            # (stated whatever the data: root rows sharing a key are one patient, one_row_per_key)
            led.contribution_bound += "; root rows sharing a key are one patient: one of them, chosen at random"  # type: ignore[union-attr]
        self.meta["contribution_bounds"] = {
            t: {"max_children": self.plans[t].bound, "rows_per_patient": self.plans[t].sensitivity,
                "contribution": cfg.contribution, "rows_measured": "all" if weighted else f"at most {self.plans[t].bound} per parent"}
            for t in rels}
        # features in model space, then one DP-MST per table
        full: dict[str, dict[str, np.ndarray]] = {}
        for t in order:
            plan = self.plans[t]
            schema_t, values = self._features(t, own[t], summ, prow.get(t), days.get(t), rows, tables, full)
            if not schema_t.columns:
                from medsynth.core.errors import PrivacyBudgetError

                omitted = [c.name for c in self.schema.tables[t].columns if c.omitted]  # type: ignore[union-attr]
                raise PrivacyBudgetError(
                    f"nothing can be modelled in table '{t}': "
                    + (f"DP could release nothing about columns {omitted}" if omitted else "it holds only key columns")
                    + " at this budget. Declare their types and bounds/categories public in the schema (public: true), "
                    "or raise --epsilon or privacy.domain_budget")
            frame = Frame(n=int(measured[t].sum()))
            idx = np.flatnonzero(measured[t])
            for c in schema_t.columns:
                v = values[c.name][idx]
                (frame.cat if c.type in ("categorical", "boolean") else frame.num)[c.name] = v
            full[t] = {c: values[c] for c in plan.features}
            view = LedgerView(led, rho_model[t], sensitivity=sens[t], label=f"table '{t}'")  # type: ignore[arg-type]
            w = weight[t][idx]
            reuse = self._parent_oneways(t, schema_t) if private and plan.parent is not None and plan.bound == 1 else {}
            if private:
                reuse.update(self._domain_oneways(t, schema_t))
            kind = self._root_kind(schema_t) if plan.parent is None else "dp-mst"
            self.models[t] = self._fit_mst(schema_t, frame, view, est_rows[t], gens, None if np.all(w == 1) else w, reuse,
                                           *self._target_edge_split(t, schema_t), kind=kind,
                                           target_star=plan.parent is None and self.config.root_target_pairs,
                                           trim=self._day_features(t, schema_t))
            if private and view.spent > view.rho * (1 + 1e-9):
                raise RuntimeError(f"table '{t}': its model spent rho {view.spent:.6g} of its share {view.rho:.6g}")
        self.meta["tables"] = {t: {"features": len(self.plans[t].features), "evidence": len(self.plans[t].evidence),
                                   "model": self.models[t].name} for t in order}
        self.meta["root_model"] = self.models[root].name
        if self.rules_tested:
            self.meta["rules_tested"] = self.rules_tested
        if self.models[root].name == "dp-aim":
            self.meta["root_aim"] = self.models[root].meta.get("aim")

    def _day_features(self, t: str, schema: TableSchema) -> tuple[str, ...]:
        """Table ``t``'s features in days on a log grid, whose 1-ways are cut above and below their core
        (:func:`~medsynth.tabular.marginals.cut_tail`): interval lengths and gaps (in its children's models too, as
        evidence). On hospital stays a DP date range of a century left noise in the empty top cells: a tenth of the
        synthetic stays lasted over 60 days (real: under 9). Gaps in units of the spacing up to a bound (pbcseq's,
        nafld2's) were left whole (cut above only, nafld2's 2-way TVD rose from 0.10 to 0.12, 3 fits); cut on both
        sides, zero-config pbcseq put 3.7% of its visits on or past the follow-up's end (16.7% before; real none) and
        nafld2's TVD stayed 0.108 (10 fits each, ``multitable_zeroconfig.json``, ``multitable_nafld.json``)."""
        def days(plan: TablePlan) -> list[str]:  # (and companion dates' offsets, on an asinh grid: cut on both sides)
            return ([dur_col(e) for e in plan.ends] + ([GAP] if plan.order_by else [])
                    + [off_col(c) for c in plan.companions])

        plan = self.plans[t]
        out = days(plan) + ([EVIDENCE + f for f in days(self.plans[plan.parent])] if plan.parent else [])
        names = {c.name for c in schema.columns}
        return tuple(f for f in out if f in names)

    def _first_times(self, t: str, own: Frame, days: np.ndarray | None, prow: np.ndarray, prows: np.ndarray,
                     parent: pd.DataFrame) -> np.ndarray | None:
        """Per sorted row of child table ``t``: its time as the parent-level first time sees it (the unit-scaled time, or
        with ``after`` its share of the parent's time, :func:`first_time_share`); None without a time order."""
        plan = self.plans[t]
        if plan.order_by is None:
            return None
        if plan.after is None:
            return own.num[plan.order_by]
        pcodec = self.codecs[plan.parent]  # type: ignore[index]
        a = pcodec.numbers(pcodec.schema.column(plan.after), parent[plan.after].iloc[prows])[prow]
        w = pcodec.numbers(pcodec.schema.column(plan.within), parent[plan.within].iloc[prows])[prow] if plan.within else None
        return first_time_share(days, a, w, after_room(self.schema, plan))  # type: ignore[arg-type]

    def _check_plan(self, schema: DatasetSchema, rho_total: float, n_hat: float, decisions: bool, domains: bool) -> None:
        """Refuse, before any domain is measured, a plan that leaves the models less than ``MIN_MODEL_SHARE`` of the
        budget: the patient count, the domain budget, the time decisions' extra and the counts' share (post-processing
        of the noisy patient count). A domain budget of 0.95 had measured every domain and then refused with 'would take
        the composed epsilon to 1.03'; 0.6 with count_share 0.4 planned the models nothing, and they were left only what
        the domain release happened not to spend."""
        relations = len(schema.relations)
        counts = self._count_share(relations, rho_total, n_hat) if relations else 0.0
        extra = DECISION_EXTRA if decisions and self.privacy.domain_budget > 0 else 0.0
        left = 1.0 - COUNT_SHARE - (self.privacy.domain_budget if domains else 0.0) - extra - counts
        if domains and (self.privacy.domain_budget > MAX_DOMAIN_BUDGET or left < MIN_MODEL_SHARE - 1e-9):
            most = math.floor(100 * max(0.0, min(MAX_DOMAIN_BUDGET, 1.0 - COUNT_SHARE - extra - counts - MIN_MODEL_SHARE)) + 1e-6) / 100
            from medsynth.core.errors import ConfigError

            raise ConfigError(
                f"privacy.domain_budget {self.privacy.domain_budget} leaves the models {max(left, 0.0):.0%} of the budget "
                f"(the patient count takes {COUNT_SHARE:.0%}, the numbers of rows per parent {counts:.0%}"
                + (f", deciding time fields {extra:.0%}" if extra else "") + f"); they need at least {MIN_MODEL_SHARE:.0%}. "
                f"Give at most {most:.2f} (--set privacy.domain_budget={most:.2f})"
                + ("" if self.config.count_share is None else " or a smaller count_share")
                + ", or declare public domains in the schema (public: true)")

    def _count_share(self, relations: int, rho_total: float, n_hat: float) -> float:
        """The configured ``count_share``, or (null) the share whose noise per count cell is ``COUNT_NOISE * n_hat``
        for each relation, within ``COUNT_SHARE_RANGE`` (post-processing of the noisy patient count)."""
        if self.config.count_share is not None:
            return self.config.count_share
        need = relations / (2 * (COUNT_NOISE * max(n_hat, 1.0)) ** 2) / max(rho_total, 1e-300)
        top = COUNT_SHARE_RANGE[1] - (COUNT_SHARE_RANGE[1] - PRIVATE_DOMAINS_COUNT_SHARE) * self.private_domain_share
        share = float(min(max(need, COUNT_SHARE_RANGE[0]), top))
        self.meta["count_share"] = round(share, 4)
        return share

    def _cap_by_sequence(self, plan: TablePlan, cm: CountModel) -> CountModel:
        """A parent's rows are numbered 1, 2, ... up to the most its count distribution gives it: a sequence column's
        domain stretches to that number (its values are the rows' ranks, never modelled: post-processing of the DP
        count distribution). Capping the counts at the sequence's DP domain instead left survival's cgd patients one or
        two infections where real ones had up to 8 (its ``enum`` 3-8 too rare a value to release)."""
        if plan.sequence is None:
            return cm
        from medsynth.tabular.multi_sampling import _whole  # (the sampler's reading of a whole-number category)

        tab = self.schema.tables[plan.name]  # type: ignore[union-attr]
        col = tab.column(plan.sequence)
        whole = [int(float(c)) for c in col.categories or [] if _whole(c)]
        top = max(whole, default=0) if col.type == "categorical" else col.bounds()[1]  # type: ignore[arg-type]
        last = cm.high - 1 + plan.seq_start
        if top is None:
            return cm
        if col.public:  # a declared domain is public knowledge: the counts stop at it (a reviewer: 'enum' declared 1-8
            # numbered visits to 11)
            cap = int(math.floor(float(top))) - plan.seq_start + 1
            if cap < cm.high and cap >= cm.low:
                keep = (cap - cm.low) // cm.width + 1
                probs = cm.probs[:keep]
                cm.probs = probs / probs.sum() if probs.sum() > 0 else np.ones(keep) / keep
            return cm
        have = set(whole)
        if col.type == "categorical" and have >= set(range(plan.seq_start, last + 1)):
            return cm
        if col.type != "categorical" and last <= int(math.floor(float(top))):
            return cm
        # (a DP output now, not the declared domain: no longer labelled public, an adversary saw a widened declared
        # range released as public: true beside the ledger's public assumption of the old one)
        if col.type == "categorical":  # every rank a number, the released values' gaps too (1, 2, 3, 5: rank 4 was
            # written missing, a reviewer)
            as_text = bool(col.categories) and all(isinstance(c, str) for c in col.categories or [])
            more = [str(k) if as_text else k for k in range(plan.seq_start, last + 1) if k not in have]
            wider = col.model_copy(update={"categories": [*(col.categories or []), *more], "public": False})
        else:
            wider = col.model_copy(update={"max": max(last, float(top)), "public": False})
        if self.is_private:
            self.ledger.notes.append(f"table '{plan.name}': the visit numbers in '{plan.sequence}' run to {last}, the most "  # type: ignore[union-attr]
                                     "rows the DP count distribution gives a parent (post-processing)")
        self.schema.tables[plan.name] = tab.model_copy(  # type: ignore[union-attr]
            update={"columns": [wider if c.name == plan.sequence else c for c in tab.columns]})
        unknown = self.codecs[plan.name].unknown_as_missing
        self.codecs[plan.name] = TableCodec(self.schema.tables[plan.name].table_schema())  # type: ignore[union-attr]
        self.codecs[plan.name].unknown_as_missing = unknown
        return cm

    def _n_features(self, t: str) -> int:
        plan = self.plans[t]
        n = len(plan.numeric) + len(plan.discrete)
        if plan.parent is not None:
            n += 1 + (1 + len(plan.ends) if plan.order_by else 0)
            n += self._n_features_own(plan.parent) if self.config.evidence == "all" else self._n_summaries(t)
        return n + sum(self._n_summaries(c) for c in plan.children)

    def _n_features_own(self, t: str) -> int:
        plan = self.plans[t]
        n = len(plan.numeric) + len(plan.discrete)
        if plan.parent is not None:
            n += 1 + (1 + len(plan.ends) if plan.order_by else 0)
        return n + sum(self._n_summaries(c) for c in plan.children)

    def _n_summaries(self, t: str) -> int:
        plan = self.plans[t]
        return 1 + (len(plan.numeric) + len(plan.discrete) if plan.summarised else 0) + (1 if plan.order_by else 0)

    def _decide_summaries(self, order: list[str], rho_models: float, n_hat: float) -> None:
        """``summaries: auto``: parents carry their children's means and modes only where the parent's model
        would still measure them well: ``n_hat / sigma >= SUMMARY_SNR`` for the noise ``sigma`` of its 1-way
        marginals with them (public budget plan and the noisy count: post-processing)."""
        mode = self.config.summaries
        for t in order[1:]:
            self.plans[t].summarised = mode != "none"
        if mode != "auto" or not self.is_private:
            return
        for t in order[1:]:
            parent = self.plans[t].parent
            d_parent = self._n_features(parent)  # type: ignore[arg-type]
            d_total = sum(self._n_features(x) for x in order)
            rho = rho_models * d_parent / max(d_total, 1)
            sigma = math.sqrt(d_parent / (2 * max(rho / 3, 1e-300)))
            self.plans[t].summarised = n_hat / sigma >= SUMMARY_SNR
        for t in order[1:]:
            if not self.plans[t].summarised:
                self.plans[t].numbers, self.plans[t].deviations = "value", []

    def _choose_deviations(self, plan: TablePlan, own: Frame, prow: np.ndarray) -> None:
        """``child_numbers: auto``: a DP fit learns every child number as its value (the tree ties it to the parent's
        level); a non-private fit learns as its deviation from the parent's level each number whose parents' levels
        hold at least ``DEVIATION_SHARE`` of its variance and which has no point mass (its commonest value under
        ``POINT_MASS_SHARE`` of its values: a deviation smears a mass at 0). As values, Oxboys' heights (between-boy
        share 0.81) lost their trajectories: within-boy correlation of age and height 0.16 (real 0.99); as deviations
        0.95 (a data scientist)."""
        if self.is_private:
            plan.numbers, plan.deviations = "value", []
            return
        chosen = []
        for c in plan.numeric:
            x = own.num[c]
            ok = ~np.isnan(x)
            if ok.sum() < 10:
                continue
            v, g = x[ok], prow[ok]
            if np.unique(v, return_counts=True)[1].max() > POINT_MASS_SHARE * v.size:
                continue
            k = np.bincount(g)
            means = np.bincount(g, weights=v) / np.maximum(k, 1)
            total = float(np.var(v))
            if total > 0 and float(np.var(means[g])) >= DEVIATION_SHARE * total:
                chosen.append(c)
        plan.numbers, plan.deviations = "mixed", chosen

    def _bound(self, t: str, cm: CountModel, n_feat: int, rho: float, private: bool, counts: np.ndarray) -> int:
        mc = self.config.max_children
        if isinstance(mc, dict) and t in mc:
            return max(1, int(mc[t]))
        if isinstance(mc, int):
            return max(1, mc)
        if not private:
            return max(1, int(counts.max(initial=1)))
        sigma_unit = math.sqrt(max(n_feat, 1) / (2 * max(rho / 3, 1e-300)))
        return choose_bound(cm, quantile=self.config.max_children_quantile, sigma_unit=sigma_unit)

    def _features(self, t: str, own: Frame, summ: dict[str, dict[str, np.ndarray]], prow: np.ndarray | None,
                  days: np.ndarray | None, rows: dict[str, np.ndarray], tables: dict[str, pd.DataFrame],
                  full: dict[str, dict[str, np.ndarray]]) -> tuple[TableSchema, dict[str, np.ndarray]]:
        """The model schema of table ``t`` and its feature values (model space) over all its sorted rows."""
        plan, codec = self.plans[t], self.codecs[t]
        root = plan.parent is None
        pos_max = self.counts[t].high - 1 if not root else 0
        cols = own_columns(plan, self.schema, root=root, pos_max=pos_max)  # type: ignore[arg-type]
        for c in plan.children:
            cm = self.counts[c]
            cols += summary_columns(self.plans[c], self.codecs[c], cm.low, cm.high)
        plan.features = [c.name for c in cols]
        values: dict[str, np.ndarray] = {}
        mcodec = TableCodec(TableSchema(columns=cols))
        colmap = {c.name: c for c in cols}
        for c in plan.discrete:
            values[c] = own.cat[c]
        for c in plan.numeric:
            if root or not plan.deviates(c):
                values[c] = own.num[c]
        if not root:
            parent = plan.parent
            for c in [c for c in plan.numeric if plan.deviates(c)]:
                level = summ[parent][mean_col(t, c)][prow]  # type: ignore[index]
                dev = np.clip(own.num[c] - level, -0.5, 0.5)
                values[dev_col(c)] = mcodec.to_unit(colmap[dev_col(c)], dev)
            values[POS] = mcodec.to_unit(colmap[POS], np.minimum(group_rank(prow), pos_max).astype(float))  # type: ignore[arg-type]
            if LAST in colmap:  # (whether the row is its parent's last among the rows measured)
                last = group_rank(prow) == np.bincount(prow)[prow] - 1  # type: ignore[arg-type]
                values[LAST] = mcodec.to_unit(colmap[LAST], last.astype(float))
            if plan.order_by is not None:
                bound = None
                if plan.within:
                    pcodec = self.codecs[parent]  # type: ignore[index]
                    b = pcodec.numbers(pcodec.schema.column(plan.within), tables[parent][plan.within].iloc[rows[parent]])  # type: ignore[index]
                    bound = b[prow]
                ends = {e: codec.numbers(codec.schema.column(e), tables[t][e].iloc[rows[t]]) for e in plan.ends}
                tf = time_features(days, prow, plan, bound=bound, ends=ends)  # type: ignore[arg-type]
                for name, v in tf.items():
                    values[name] = mcodec.to_unit(colmap[name], v)
        num = lambda c: codec.numbers(codec.schema.column(c), tables[t][c].iloc[rows[t]])  # noqa: E731
        if root and plan.start is not None:
            for name, v in interval_lengths(plan, num(plan.start), {e: num(e) for e in plan.ends}).items():
                values[name] = mcodec.to_unit(colmap[name], v)
        base = plan.start if root else plan.order_by
        if plan.companions and base is not None:
            for name, v in companion_offsets(plan, num(base), {c: num(c) for c in plan.companions}).items():
                values[name] = mcodec.to_unit(colmap[name], v)
        for name, v in summ[t].items():
            if name not in colmap:  # a summary this model leaves out (summaries: auto/none)
                continue
            col = colmap[name]
            values[name] = v.astype(np.int64) if col.type == "categorical" else mcodec.to_unit(col, v)
        if not root:
            parent = plan.parent
            pfeat = self.plans[parent].features  # type: ignore[index]
            if self.config.evidence == "related":
                pfeat = [f for f in pfeat if f in {n_col(t), t0_col(t)} or f.startswith((f"mean:{t}:", f"mode:{t}:"))]
            pschema = {c.name: c for c in self.models[parent].codec.schema.columns}  # type: ignore[index]
            for f in pfeat:
                col = pschema[f].model_copy(update={"name": EVIDENCE + f})
                cols.append(col)
                values[col.name] = full[parent][f][prow]  # type: ignore[index]
            plan.evidence = [EVIDENCE + f for f in pfeat]
        return TableSchema(columns=cols), values

    def _root_kind(self, schema: TableSchema) -> str:
        """``root_model``: the root table's model, "dp-aim" or "dp-mst" (``auto``: dp-aim when a feature of the root
        model is a declared target, ``target: true``: public structure, no data)."""
        kind = self.config.root_model
        if kind == "auto":
            kind = "dp-aim" if any(c.target for c in schema.columns) else "dp-mst"
        return kind

    def _model_instance(self, kind: str, schema: TableSchema | None = None) -> Any:
        """An unfitted table model of ``kind`` ("dp-mst" or "dp-aim") with this model's grid settings."""
        privacy = {"epsilon": self.privacy.epsilon, "delta": self.privacy.delta} if self.is_private else None
        grid = {"bins": self.config.bins, "fine_bins": self.config.fine_bins, "adaptive_bins": self.config.adaptive_bins,
                "ipf_iters": self.config.ipf_iters}
        if kind == "dp-aim":
            from medsynth.tabular.aim import DPAIM, DPAIMConfig

            return DPAIM(DPAIMConfig(**grid), privacy=privacy, schema=schema, seed=self.seed)
        from medsynth.tabular.mst import DPMST, DPMSTConfig

        return DPMST(DPMSTConfig(**grid), privacy=privacy, schema=schema, seed=self.seed)

    def _new_mst(self, schema: TableSchema, view: LedgerView, kind: str = "dp-mst") -> Any:
        m = self._model_instance(kind, schema)
        m.schema, m.codec, m.ledger, m.meta = schema, TableCodec(schema), view, {}
        m.decode_weights = self.config.decode
        if kind == "dp-mst":
            m.selection_share = self.config.selection_share
        return m

    def _domain_oneways(self, t: str, schema: TableSchema) -> dict[str, Any]:
        """The 1-way marginals of table ``t``'s own columns that its domain release measured, reusable by its model
        (post-processing of DP outputs, paid for there with this model's 1-way budget).

        The root's were measured on its rows (weight 1). A direct child's were measured on one random row per
        patient (sensitivity 1): its model's histogram is the same one in law when K = 1 and its sensitivity is 1 (a
        patient's n rows weigh 1/n each, or one random row is kept), so they carry the noise scale its own 1-way
        measurement would; with K > 1 a patient weighs up to K rows and they are not reused (a ledger note)."""
        got = self.table_oneways.get(t) or {}
        plan = self.plans[t]
        if not got:
            return {}
        if plan.parent is not None and not (plan.bound == 1 and plan.sensitivity == 1):
            self.ledger.notes.append(  # type: ignore[union-attr]
                f"table '{t}': the 1-way marginals measured with its domains ({', '.join(sorted(got))}) are not reused by "
                f"its model (K = {plan.bound} row-equivalents per patient there, one row per patient in the domain release)")
            return {}
        return {c.name: got[c.name] for c in schema.columns if c.name in got}

    def _parent_oneways(self, t: str, schema: TableSchema) -> dict[str, Any]:
        """The parent model's noisy 1-ways of the parent features a child model sees as evidence, reusable as the
        child model's 1-ways of those columns when the bound is K = 1 (post-processing of DP outputs).

        With K = 1 a parent's measured child rows weigh 1 in all (one random row, or n rows of weight 1/n), so the
        child table's weighted histogram of a parent feature *is* the parent table's histogram of it (parents
        without children aside). Reused: categorical columns, and numbers on the parent's equal-width fine grid
        (their cell edges passed on, so the child model bins them as the parent did)."""
        from medsynth.tabular.domain_numbers import OneWay

        if not self.config.reuse_parent_oneways:
            return {}
        parent = self.plans[t].parent
        pm = self.models[parent]  # type: ignore[index]
        noisy, sigma = getattr(pm, "_oneway_noisy", ({}, {}))
        out: dict[str, Any] = {}
        for col in schema.columns:
            f = col.name[len(EVIDENCE):]
            if not col.name.startswith(EVIDENCE) or f not in noisy:
                continue
            pcol = pm.codec.schema.column(f)
            edges = None
            if pcol.type not in ("categorical", "boolean"):
                g, per_value = pm._fine_spec(pcol)
                if per_value or f in getattr(pm, "_edges", {}):
                    continue
                edges = pm.codec.from_unit(pcol, np.linspace(0.0, 1.0, g + 1))
            out[col.name] = OneWay(counts=np.asarray(noisy[f], dtype=float), sigma=np.asarray(sigma[f], dtype=float), edges=edges)
        return out

    def _target_edges(self, t: str, schema: TableSchema) -> list[tuple[str, str]]:
        """``target_edges``: the tree of a child table's model joins its parent's declared target (a column with
        ``target: true``, seen as evidence) to each of the child's own columns, before selection (public structure: the
        schema's flag and column types, no data); :meth:`_target_edge_split` says which are joined always."""
        plan = self.plans[t]
        if not self.config.target_edges or plan.parent is None:
            return []
        targets = [c.name for c in schema.columns if c.name.startswith(EVIDENCE) and c.target]
        if not targets:
            return []
        numbers = [dev_col(c) if plan.deviates(c) else c for c in plan.numeric]
        names = {c.name for c in schema.columns}
        own = [c for c in numbers + list(plan.discrete) if c in names]
        return [(targets[0], c) for c in own]

    def _qualifier_edges(self, t: str, schema: TableSchema) -> list[tuple[str, str]]:
        """``qualifier_edges``: a child table's result numbers joined to the category saying what was measured
        (:func:`qualifier_pairs`), before selection (public structure: names and types)."""
        plan = self.plans[t]
        if not self.config.qualifier_edges or plan.parent is None:
            return []
        names = {c.name for c in schema.columns}
        numbers = [c for c in plan.numeric if (dev_col(c) if plan.deviates(c) else c) in names]
        cats = [c for c in plan.discrete if c in names]
        return [(q, dev_col(n) if plan.deviates(n) else n) for q, n in qualifier_pairs(numbers, cats)]

    def _target_edge_split(self, t: str, schema: TableSchema) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The edges joined always (a result's qualifier, :meth:`_qualifier_edges`, first; then the target's) and
        those joined only where the selection cannot tell edges apart (``target_edges: numbers``: the target's to a
        child's category columns, see :data:`~medsynth.tabular.mst.SELECTION_INFORMATIVE`)."""
        edges = self._target_edges(t, schema)
        first = self._qualifier_edges(t, schema)
        if self.config.target_edges is True:
            return first + edges, []
        cats = set(self.plans[t].discrete)
        return first + [e for e in edges if e[1] not in cats], [e for e in edges if e[1] in cats]

    def _fit_mst(self, schema: TableSchema, frame: Frame, view: LedgerView, rows: float, gens: Generators,
                 weights: np.ndarray | None = None, reuse: dict[str, Any] | None = None,
                 forced: list[tuple[str, str]] | None = None, forced_weak: list[tuple[str, str]] | None = None,
                 kind: str = "dp-mst", target_star: bool = False, trim: tuple[str, ...] = ()) -> Any:
        m = self._new_mst(schema, view, kind)
        if (forced or forced_weak) and kind != "dp-mst":
            raise ValueError(f"forced edges need a dp-mst table model, not {kind}")
        if kind == "dp-mst":
            m.forced = tuple(forced or ())
            m.forced_weak = tuple(forced_weak or ())
            m.target_star = target_star
        m.rows_noisy = rows
        m.row_weights = weights
        m.trim_tails = trim
        m.domain_oneways = reuse or {}
        if self.is_private:
            measured = max(len(schema.columns) - len(m.domain_oneways), 1)
            m.oneway_rho = m.oneway_share * view.rho_remaining() / measured
        m._fit_frame(frame, gens)
        return m

    # -- sample ----------------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
        from medsynth.tabular.multi_sampling import sample_dataset

        return sample_dataset(self, n, rng)

    # -- save / load -----------------------------------------------------------------------------
    def _save_state(self, folder: Path) -> dict[str, Any]:
        files: dict[str, Any] = {}
        for t, m in self.models.items():
            sub = folder / "tables" / t
            sub.mkdir(parents=True, exist_ok=True)
            m.codec.schema.save(sub / "model_schema.yaml")
            m._save_state(sub)
            (sub / "plan.json").write_text(json.dumps(self.plans[t].to_dict(), indent=2), encoding="utf-8")
            (sub / "model.json").write_text(json.dumps({"model": m.name}), encoding="utf-8")
            files[f"tables/{t}"] = (f"{m.name} of the table's features (model_schema.yaml, plan.json, model.json, "
                                    f"marginal_model.json, {m.arrays_file})")
        arrays = {}
        for t, cm in self.counts.items():
            for k, v in cm.to_arrays().items():
                arrays[f"{t}/{k}"] = v
        np.savez(folder / "counts.npz", **arrays)
        files["counts.npz"] = "distributions of children per parent (np.load allow_pickle=False)"
        return files

    def _load_state(self, folder: Path) -> None:
        order = self.schema.order()  # type: ignore[union-attr]
        with np.load(folder / "counts.npz", allow_pickle=False) as z:
            for t in order:
                if f"{t}/probs" in z:
                    self.counts[t] = CountModel.from_arrays(z[f"{t}/probs"], z[f"{t}/meta"])
        for t in order:
            sub = folder / "tables" / t
            self.plans[t] = TablePlan.from_dict(json.loads((sub / "plan.json").read_text(encoding="utf-8")))
            self.codecs[t] = TableCodec(self.schema.tables[t].table_schema())  # type: ignore[union-attr]
            schema = TableSchema.load(sub / "model_schema.yaml")
            kind_file = sub / "model.json"  # saves before root_model: every table a dp-mst
            kind = json.loads(kind_file.read_text(encoding="utf-8"))["model"] if kind_file.is_file() else "dp-mst"
            if kind not in ("dp-mst", "dp-aim"):
                raise DataValidationError(f"table '{t}' of the saved model has an unknown model {kind!r} ({kind_file})")
            m = self._model_instance(kind)
            m.schema, m.codec = schema, TableCodec(schema)
            m._load_state(sub, "cpu")
            self.models[t] = m



class MultiDPAIMConfig(MultiDPMSTConfig):
    """:class:`MultiDPMSTConfig` with AIM on the root table by default."""

    root_model: Literal["dp-aim"] = "dp-aim"  # (dp-aim with a dp-mst root would be labelled what it is not)


class MultiTableDPAIM(MultiTableDPMST):
    """``dp-aim`` given a folder: the patient-level DP model of :class:`MultiTableDPMST` with the root table (the
    patients) fitted by AIM, workload-adaptive, and its child tables as there (a data scientist's ``--model dp-aim`` on a
    folder was refused, "unknown multi-table model", though ``params.root_model=dp-aim`` did the same)."""

    name: ClassVar[str] = "dp-aim"
    Config: ClassVar[type[ConfigModel]] = MultiDPAIMConfig
    config: MultiDPAIMConfig

__all__ = ["MultiDPAIMConfig", "MultiTableDPAIM", "MultiDPMSTConfig", "MultiTableDPMST"]
