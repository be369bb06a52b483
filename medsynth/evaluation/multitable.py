"""Evaluate or audit a synthetic multi-table dataset (a folder of related tables) against real ones.

``medsynth evaluate tabular --train DIR --holdout DIR --synthetic DIR`` (and ``audit tabular``) with
folders run this. The holdout is real patients the generator never saw, with all their rows. Sections:

* **Relations**: ``referential_integrity`` (share of synthetic child rows whose key has a parent: must be
  1), ``children_per_parent_tvd`` (distribution of the number of child rows per parent, per relation),
  ``parent_child_association_difference`` (associations between a parent's columns and summaries of
  its children; ``parent_child_strong_association_loss_share``: the strong ones lost), ``trajectory_difference`` (mean of each numeric child column over time since the
  parent's first row, in units of its real standard deviation), ``time_offset_tvd`` (a child row's time
  relative to its parent's start or end: the relation's ``after`` and ``within`` columns), ``time_bound_violations``
  (child rows starting before ``after``, or starting or ending after ``within``), ``interval_order_violations``
  and ``sibling_pattern_difference`` (the share of parents whose rows all differ, or all agree, in a category or number column or
  the time: two left eyes, two visits at one month). The worst relation is
  judged; every
  relation is in the details.
* **One section per table** (``table_<name>``): marginal distances, pairwise associations, missingness
  patterns and ``two_way_tvd`` (mean total variation distance of all 2-way distributions), as for one
  table.
* **Utility** (with ``--target COL`` or ``--target COL=VALUE`` on the root table): train on synthetic,
  test on real, on one row per patient (the patient's columns plus summaries of all their rows).
* **Privacy**: the single-table attacks (DCR, NNDR, copies, membership inference, attribute
  inference, singling out) on that patient-level table: members and non-members are whole patients.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from medsynth.core.config import config_hash
from medsynth.core.errors import DataValidationError
from medsynth.evaluation.config import EvaluationConfig
from medsynth.evaluation.multitable_data import (
    bound_violations,
    children_per_parent,
    column_types,
    constant_columns,
    count_bins,
    count_tvd,
    flag_disagreement,
    interval_violations,
    load_dataset,
    off_schedule,
    offset_tvd,
    once_values,
    parent_rows,
    parents_holding_twice,
    parents_out_of_order,
    parents_varying,
    parents_with_repeated_time,
    patient_histories,
    patient_table,
    patient_types,
    repeated_time_expected,
    rows_after_terminal,
    schedule_values,
    sibling_patterns,
    slug,
    terminal_flags,
    terminal_values,
    time_offsets,
    top_categories,
    trajectories,
    two_way_tvd,
    unit_rows,
    within_parent_trends,
)
from medsynth.evaluation.registry import TABULAR_METRICS, selected
from medsynth.evaluation.report import Report, fingerprint_input, ledger_notes, read_privacy_ledger
from medsynth.evaluation.results import MetricResult, beyond_noise, judge, skipped
from medsynth.evaluation.tabular_data import as_category, prepare_tables, recase_like, row_hashes
from medsynth.evaluation.tabular_fidelity import (
    STRONG_ASSOCIATION,
    AssociationDifference,
    MarginalDistance,
    MissingnessPattern,
    association_matrix,
)
from medsynth.evaluation.tabular_privacy import SECTION as PRIVACY_SECTION
from medsynth.evaluation.tabular_privacy import ExactCopies, TabularContext
from medsynth.io.dataset import DatasetSchema
from medsynth.io.dataset_infer import ONCE_EXPECTED_TWICE, ONCE_MIN_PARENTS, TERMINAL_MIN_PARENTS, infer_dataset_schema

DatasetLike = str | Path | Mapping[str, pd.DataFrame]
SECTION = "relations"
#: A real time bin a synthetic trajectory holds no value in counts as this many real standard deviations off.
MISSING_BIN_GAP = 1.0
#: A within-parent trend's difference is judged past this many standard errors of the two means (the parents' spread):
#: independent real samples of pbcseq's patients differed by 0.15 or more in 4-7 splits of 40 on its worst column (a
#: reviewer).
TREND_NOISE_SE = 2.0
#: Holdout patients that may equal a training patient by chance (coarse patient tables) before the holdout is refused.
COINCIDENT_PATIENTS = 2


def _info(data: DatasetLike, tables: dict[str, pd.DataFrame], role: str) -> dict[str, Any]:
    import hashlib

    rows = sum(len(df) for df in tables.values())
    cols = sum(df.shape[1] for df in tables.values())
    if isinstance(data, Mapping):
        h = hashlib.sha256()
        for name in sorted(tables):
            h.update(name.encode())
            h.update(row_hashes(tables[name], exact=True).tobytes())
        return {"role": role, "path": None, "sha256": h.hexdigest(), "rows": rows, "columns": cols}
    return {"role": role, "path": str(data), "sha256": fingerprint_input(data), "rows": rows, "columns": cols}


def _check_tables(train: dict, holdout: dict, synthetic: dict, schema: DatasetSchema) -> None:
    problems = []
    for role, d in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        missing = [t for t in schema.tables if t not in d]
        if missing:
            problems.append(f"the {role} dataset lacks table(s) {missing} (it has {sorted(d)})")
            continue
        for name, table in schema.tables.items():
            needed = [c.name for c in table.columns]
            lacking = [c for c in needed if c not in d[name].columns]
            if lacking:
                problems.append(f"the {role} table '{name}' lacks column(s) {lacking[:8]}{' ...' if len(lacking) > 8 else ''} "
                                f"of the schema (it has {list(d[name].columns)[:8]}{' ...' if d[name].shape[1] > 8 else ''}): "
                                "train, holdout and synthetic folders must hold the same tables and columns")
    if problems:
        raise DataValidationError(problems, context="multi-table evaluation inputs")
    for role, d in (("train", train), ("holdout", holdout)):
        for rel in schema.relations:
            if rel.child in d and rel.parent in d and (parent_rows(d, rel) < 0).any():
                problems.append(f"the {role} dataset has '{rel.child}' rows whose '{rel.column}' has no parent in "
                                f"'{rel.parent}': real data must be referentially complete")
    if len(schema.roots) != 1:
        problems.append(f"the schema has {len(schema.roots)} root tables {schema.roots}; patient-level evaluation needs one")
    if problems:
        raise DataValidationError(problems, context="multi-table evaluation inputs")


def relation_metrics(train: dict, holdout: dict, synthetic: dict, schema: DatasetSchema, cfg: EvaluationConfig) -> list[MetricResult]:
    """Referential integrity, children per parent, parent-child associations and trajectories."""
    th = cfg.fidelity
    integrity, counts, assoc, traj, offsets, intervals, siblings, bounds = [], [], [], [], [], [], [], []
    terminal: list[dict[str, Any]] = []
    onces: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    order: list[dict[str, Any]] = []
    schedules: list[dict[str, Any]] = []
    trends: list[dict[str, Any]] = []
    constants: list[dict[str, Any]] = []
    cats = top_categories(train, schema)
    for rel in schema.relations:
        p = parent_rows(synthetic, rel)
        integrity.append({"relation": rel.label, "rows": int(len(p)), "orphans": int((p < 0).sum()),
                          "share_with_parent": float((p >= 0).mean()) if len(p) else 1.0})
        a, b, h = (children_per_parent(d, rel) for d in (train, synthetic, holdout))
        edges = count_bins(a)
        counts.append({"relation": rel.label, "synthetic": count_tvd(a, b, edges), "baseline": count_tvd(a, h, edges),
                       "bins": "real deciles" if edges is not None else "one per count",
                       "mean_real": float(a.mean()) if len(a) else 0.0, "mean_synthetic": float(b.mean()) if len(b) else 0.0,
                       "max_real": int(a.max(initial=0)), "max_synthetic": int(b.max(initial=0))})
        assoc.append(_parent_child_association(train, holdout, synthetic, schema, rel, cats))
        tr = _trajectory(train, holdout, synthetic, schema, rel)
        if tr is not None:
            traj.append(tr)
        real_tr, syn_tr, hold_tr = (within_parent_trends(d, schema, rel) for d in (train, synthetic, holdout))
        nan2 = (float("nan"), float("nan"))
        for col, (r, se_r) in real_tr.items():
            if np.isfinite(r):
                (x, se_x), (h, se_h) = syn_tr.get(col, nan2), hold_tr.get(col, nan2)
                rows_c = synthetic[rel.child][col] if col in synthetic[rel.child] else pd.Series(dtype=float)
                if not np.isfinite(x) and pd.to_numeric(rows_c, errors="coerce").notna().any():
                    x, se_x = 0.0, 0.0  # (values without times, or one row a patient: no trend over a patient's rows)

                trends.append({"relation": rel.label, "column": col, "real": r, "synthetic_trend": x,
                               "synthetic": _past_noise(r, se_r, x, se_x) if np.isfinite(x) else float("nan"),
                               "baseline": _past_noise(r, se_r, h, se_h) if np.isfinite(h) else 0.0})
        held = constant_columns(train, rel)
        if held:
            syn_c, hold_c = (parents_varying(d, rel, held) for d in (synthetic, holdout))
            for col in held:
                constants.append({"relation": rel.label, "column": col, "synthetic": syn_c[col],
                                  "baseline": float(np.nan_to_num(hold_c.get(col, 0.0)))})
        offsets += _offsets(train, holdout, synthetic, schema, rel)
        siblings += _siblings(train, holdout, synthetic, schema, rel)
        real, syn, hold = (interval_violations(d, schema, rel) for d in (train, synthetic, holdout))
        for check, x in syn.items():
            intervals.append({"relation": rel.label, "check": check, "synthetic": x, "real": real.get(check),
                              "baseline": float(np.nan_to_num(hold.get(check, 0.0)))})
        real, syn, hold = (bound_violations(d, schema, rel) for d in (train, synthetic, holdout))
        for check, x in syn.items():
            # against the real rows' share, train or holdout, whichever is higher: a synthetic table that keeps a real
            # table's few rows past its bound (a follow-up time rounded down) keeps the real data as it is
            r, h = (float(np.nan_to_num(d.get(check, 0.0))) for d in (real, hold))
            bounds.append({"relation": rel.label, "check": check, "synthetic": x, "real": r, "holdout": h,
                           "baseline": max(r, h)})
        real, syn, hold = (parents_out_of_order(d, schema, rel) for d in (train, synthetic, holdout))
        if rel.order_by:
            order.append({"relation": rel.label, "check": f"'{rel.order_by}' going down", "synthetic": syn,
                          "real": real, "baseline": max(float(np.nan_to_num(real)), float(np.nan_to_num(hold)))})
            real, syn, hold = (parents_with_repeated_time(d, schema, rel) for d in (train, synthetic, holdout))
            expected = repeated_time_expected([train, holdout], synthetic, schema, rel)  # (at the synthetic row counts)
            order.append({"relation": rel.label, "check": f"'{rel.order_by}' repeated", "synthetic": syn,
                          "real": real, "baseline": max(float(np.nan_to_num(real)), float(np.nan_to_num(hold)),
                                                        float(np.nan_to_num(expected)))})
        plan = schedule_values(train, schema, rel)
        if plan is not None:
            syn, hold = (off_schedule(d, schema, rel, plan) for d in (synthetic, holdout))
            schedules.append({"relation": rel.label, "check": f"'{rel.order_by}' off its {plan.size} real values",
                              "synthetic": syn, "baseline": float(np.nan_to_num(hold))})
        ends = terminal_values(train, schema, rel)
        held_once = once_values(train, schema, rel, ends)
        if held_once:
            syn, hold = (parents_holding_twice(d, rel, held_once) for d in (synthetic, holdout))
            for col, x in syn.items():
                onces.append({"relation": rel.label, "column": col, "values": held_once[col], "synthetic": x,
                              "baseline": float(np.nan_to_num(hold.get(col, 0.0)))})
        if ends:
            syn, hold = (rows_after_terminal(d, schema, rel, ends) for d in (synthetic, holdout))
            for col, x in syn.items():
                terminal.append({"relation": rel.label, "column": col, "values": ends[col], "synthetic": x,
                                 "baseline": float(np.nan_to_num(hold.get(col, 0.0)))})
            for col, value, flag in terminal_flags(train, schema, rel, ends):
                syn_f, hold_f = (flag_disagreement(d, rel, col, value, flag) for d in (synthetic, holdout))
                flags.append({"relation": rel.label, "column": col, "value": value, "flag": flag, "synthetic": syn_f,
                              "baseline": float(np.nan_to_num(hold_f))})
    out = []
    share = min(r["share_with_parent"] for r in integrity) if integrity else 1.0
    out.append(judge("referential_integrity", SECTION, share, "maximize",
                     "Share of synthetic child rows whose foreign key points to a synthetic parent (the worst relation; "
                     "1 = every row has its parent).", threshold=th.referential_integrity, baseline=1.0,
                     details={"relations": integrity}))
    if counts:
        worst = max(counts, key=lambda r: r["synthetic"] - r["baseline"])
        out.append(judge("children_per_parent_tvd", SECTION, worst["synthetic"], "minimize",
                         "Total variation distance between the real and synthetic distributions of the number of child "
                         "rows per parent (the worst relation; in bins of the real counts' deciles where they take more "
                         "than 12 values); the baseline is real holdout vs real train.",
                         threshold=th.children_per_parent_tvd, baseline=worst["baseline"], details={"relations": counts}))
        worst = max(assoc, key=lambda r: -1 if r["synthetic"] is None else r["synthetic"])
        th_p, why = beyond_noise(th.parent_child_association_difference, worst["baseline"])
        most = max(assoc, key=lambda r: r.get("unmeasurable_share", 0.0))
        gone = float(most.get("unmeasurable_share", 0.0))
        if gone >= UNMEASURABLE_FAIL_SHARE:  # most links cannot exist in the synthetic rows: lost, whatever the band
            why = "; ".join(x for x in (why, f"{most['relation']}: {gone:.0%} of the associations the real rows show "
                                        f"(of at least {MEASURABLE_FLOOR:g}) cannot be measured in the synthetic rows "
                                        "(their columns empty or one value): lost") if x)
        out.append(judge("parent_child_association_difference", SECTION, worst["synthetic"], "minimize",
                         "Mean absolute difference between real and synthetic associations of a parent's columns with "
                         "summaries of its children (count, means, category shares): whether the link between a patient "
                         "and their rows survives.", threshold=th_p,
                         baseline=worst["baseline"], note=why, details={"relations": assoc},
                         judged=th_p.fail + 1.0 if gone >= UNMEASURABLE_FAIL_SHARE else None, judged_is_bound=False))
        strong = [r for r in assoc if r.get("strong_pairs")]
        desc = (f"Of the pairs of a parent's column and a summary of its children associated at least "
                f"{STRONG_ASSOCIATION:g} in train and holdout alike, the share whose synthetic association falls below "
                "half the real one (the worst relation): the links an analyst relies on (a mother's background and her "
                "children's care, a baseline and the outcome at each visit).")
        if strong:
            worst = max(strong, key=lambda r: len(r["strong_lost"]) / r["strong_pairs"])
            lost = worst["strong_lost"]
            out.append(judge("parent_child_strong_association_loss_share", SECTION,
                             len(lost) / worst["strong_pairs"], "minimize", desc,
                             threshold=th.parent_child_strong_association_loss_share, baseline=0.0,
                             note=("lost, e.g. " + ", ".join(f"{r['parent']}~{r['child']} {r['real']:.2f} -> "
                                                            f"{r['synthetic']:.2f}" for r in lost[:3])) if lost else "",
                             details={"relations": [{"relation": r["relation"], "strong_pairs": r["strong_pairs"],
                                                     "lost": r["strong_lost"][:20]} for r in strong]}))
        else:
            out.append(skipped("parent_child_strong_association_loss_share", SECTION, "minimize", desc,
                               f"no parent column and child summary are associated at least {STRONG_ASSOCIATION:g} in "
                               "train and holdout"))
    if siblings:
        worst = max(siblings, key=lambda r: r["synthetic"] - r["baseline"])
        out.append(judge("sibling_pattern_difference", SECTION, worst["synthetic"], "minimize",
                         "How a parent's rows share their values, real against synthetic: for each category column of a "
                         "child table and its time (number columns: the second share only), the share of parents (with "
                         "two rows or more) whose rows all hold different values (a patient's left and right eye; visits at different times) and the share "
                         "whose rows all hold one value; the worst absolute difference of the two shares (the worst "
                         "relation and column; the baseline is real holdout vs real train).",
                         threshold=th.sibling_pattern_difference, baseline=worst["baseline"],
                         details={"columns": siblings},
                         note=(f"worst: {worst['relation']} '{worst['column']}': parents whose rows all differ "
                               f"{worst['real_distinct']:.0%} real, {worst['synthetic_distinct']:.0%} synthetic; all alike "
                               f"{worst['real_same']:.0%} real, {worst['synthetic_same']:.0%} synthetic")))
    if traj:
        worst = max(traj, key=lambda r: r["synthetic"])
        out.append(judge("trajectory_difference", SECTION, worst["synthetic"], "minimize",
                         "Mean over numeric child columns and time bins (since the parent's first row) of |real mean - "
                         "synthetic mean| in units of the column's real standard deviation: whether values evolve over "
                         "time as in the real data.", threshold=th.trajectory_difference, baseline=worst["baseline"],
                         details={"relations": traj}))
    elif schema.relations:
        out.append(skipped("trajectory_difference", SECTION, "minimize", "Trajectories of numeric child columns over time.",
                           "no relation has a numeric child column"))
    desc_trend = ("Largest absolute difference, over numeric child columns, between the real and synthetic mean of each "
                  "parent's rank correlation of the column with its time (order_by; parents with 3 rows or more; past "
                  f"{TREND_NOISE_SE:g} standard errors of the two means and beyond the real holdout's difference): whether "
                  "each patient's values rise or fall over their own rows (a tree's growth, a pig's weight), which means "
                  "per time bin do not see.")
    if trends:
        _judge_worst(out, schema, "within_parent_trend_difference", trends, desc_trend, th.within_parent_trend_difference,
                     "no synthetic parent holds 3 rows with values (see the columns left empty)", "",
                     note=lambda w, _: (f"worst: {w['relation']} '{w['column']}': mean within-parent correlation with time "
                                        f"{w['real']:.2f} real, {w['synthetic_trend']:.2f} synthetic"))
    desc_const = ("Share of synthetic parents (with two rows or more) holding two values of a child column every real "
                  "parent holds one value of (a patient's sex or treatment on each visit; the worst relation and column, "
                  "beyond the real holdout's share).")
    if constants:
        _judge_worst(out, schema, "constant_column_violations", constants, desc_const, th.constant_column_violations,
                     "no synthetic parent holds two rows with values", "",
                     note=lambda w, _: (f"worst: {w['relation']} '{w['column']}': {w['synthetic']:.1%} of the synthetic "
                                        f"parents hold two values or more (real holdout {w['baseline']:.1%})"))
    desc_int = ("Share of synthetic child rows breaking the order of their intervals (the worst relation and check, "
                "beyond the real holdout's share): an end before its start, an end at its start (an empty interval), an interval overlapping the parent's next "
                "one, and for chained intervals (each starting where the previous one ended) a next one that does not "
                "start at the end.")
    _judge_worst(out, schema, "interval_order_violations", intervals, desc_int, th.interval_order_violations,
                 "no synthetic child row holds both a start and an end (every one missing)",
                 "no relation has intervals (order_by with ends)")
    # A child row outside its parent's time span, judged on its own: the offsets' TVD only weighs the rows past the
    # bound in its outer bin, and read only the start. survival::mgus1 (events start..stop within the patient's futime):
    # a synthetic release with 43 of 227 stops past futime (none real) passed time_offset_tvd (0.11, every start
    # inside) and interval_order_violations (0.0); one with 52% of stops and 22% of starts past futime was a review.
    desc_bound = ("Share of synthetic child rows outside their parent's time span (the worst relation and check, beyond "
                  "the real rows' share, train or holdout): a start before the parent's `after` time, a start after its "
                  "`within` time, an interval end (`ends`) after its `within` time (an event after the end of follow-up).")
    _judge_worst(out, schema, "time_bound_violations", bounds, desc_bound, th.time_bound_violations,
                 "no synthetic child row holds both its time and its parent's (every one missing)",
                 "no relation bounds its child time by a parent time (order_by with after or within)")
    # A patient's rows written out of time order, judged on its own: wages' visits (ordered by years of experience)
    # came out out of order for 92% of synthetic people, and the report's only word was "ordered by exper"
    desc_order = ("Share of synthetic parents with two child rows or more whose time (the relation's `order_by`) goes "
                  "down from one row to the next as the file holds them, or holds one value on two of their rows (the "
                  "worst relation and check, beyond the real rows' share, train or holdout; for repeats also beyond the "
                  "real share at the synthetic patients' row counts): a patient's visits written out of order, or two "
                  "visits at one time where the real patients have none.")
    _judge_worst(out, schema, "time_order_violations", order, desc_order, th.time_order_violations,
                 "no synthetic parent holds two timed child rows", "no relation has a time order (order_by)",
                 note=lambda w, _: (f"worst: {w['relation']} {w['check']}: {w['synthetic']:.1%} of the synthetic parents "
                                    f"with two timed rows or more (real {w['baseline']:.1%})"))
    # Visits between a schedule's times, judged on their own: nlswork's survey years and Spruce's measurement days came
    # out 28% and 85% off the real schedule without DP, and every relation metric passed (a data scientist)
    desc_plan = ("Share of synthetic child rows whose time is none of the real times where those are a schedule (at most "
                 "40 whole values with gaps: survey years, protocol weeks; or at most 40 values not all whole, each held "
                 "by 10 rows or more: school years -2.5 to 2.5), beyond the holdout's share (the worst relation): visits "
                 "between a study's visit times.")
    _judge_worst(out, schema, "off_schedule_share", schedules, desc_plan, th.off_schedule_share,
                 "no synthetic child row holds a time", "no relation's time is a schedule")
    desc_end = ("Share of synthetic parents whose rows go on after a terminal event (the worst relation and column, beyond "
                "the real holdout's share): a later row, or a second terminal row. A terminal event is a category value "
                "of a child table that ends its parent's rows in every real parent holding it (at least "
                f"{TERMINAL_MIN_PARENTS} of them, with rows before it): a death among a patient's intervals.")
    if terminal:  # (only folders with a terminal event: nothing to say of the others)
        _judge_worst(out, schema, "terminal_event_violations", terminal, desc_end, th.terminal_event_violations,
                     "no synthetic parent holds a terminal value (see the categories lost)", "",
                     note=lambda w, _: (f"worst: {w['relation']} '{w['column']}' in {w['values']}: {w['synthetic']:.1%} of "
                                        "the synthetic parents holding one have rows after it (real holdout "
                                        f"{w['baseline']:.1%})"))
    desc_once = ("Share of synthetic parents holding a value held once on two rows (the worst relation and column, "
                 "beyond the real holdout's share): a category value of a child table that no real parent holds twice "
                 f"(at least {ONCE_MIN_PARENTS} parents with two rows or more hold it, and chance would have given "
                 f"{ONCE_EXPECTED_TWICE:g} of them two): an AIDS diagnosis, a transplant.")
    if onces:  # (only folders with such values)
        _judge_worst(out, schema, "once_event_violations", onces, desc_once, th.once_event_violations,
                     "no synthetic parent holds a value held once (see the categories lost)", "",
                     note=lambda w, _: (f"worst: {w['relation']} '{w['column']}' in {w['values']}: {w['synthetic']:.1%} of "
                                        "the synthetic parents holding one hold it twice (real holdout "
                                        f"{w['baseline']:.1%})"))
    desc_flag = ("Share of synthetic parents whose yes/no column disagrees with their rows (the worst relation, beyond "
                 "the real holdout's share): a parent column that is yes exactly for the real parents holding a "
                 "terminal value (a death flag and the death row) is flagged without that row, or holds it unflagged.")
    if flags:  # (only where the real data hold such a flag)
        _judge_worst(out, schema, "terminal_flag_violations", flags, desc_flag, th.terminal_flag_violations,
                     "no synthetic parent", "",
                     note=lambda w, _: (f"worst: {w['relation']} '{w['flag']}' against '{w['column']}' = {w['value']}: "
                                        f"{w['synthetic']:.1%} of the synthetic parents disagree (real holdout "
                                        f"{w['baseline']:.1%})"))
    desc = ("Total variation distance, over the real deciles, between the real and synthetic distributions of a child "
            "row's time relative to its parent's start (the relation's `after`, e.g. a lab's time after its admission) "
            "or end (`within`, e.g. the discharge): whether child rows happen when they did for their parent (the "
            "worst relation and column; the baseline is real holdout vs real train).")
    if offsets:
        worst = max(offsets, key=lambda r: r["synthetic"] - r["baseline"])
        out.append(judge("time_offset_tvd", SECTION, worst["synthetic"], "minimize", desc, threshold=th.time_offset_tvd,
                         baseline=worst["baseline"], details={"relations": offsets}))
    elif schema.relations:
        out.append(skipped("time_offset_tvd", SECTION, "minimize", desc,
                           "no relation has a child time with a parent start or end (order_by with after or within)"))
    return out


def _past_noise(r: float, se_r: float, other: float, se_o: float) -> float:
    """``|r - other|`` less ``TREND_NOISE_SE`` standard errors of the two means (0 at least)."""
    se = float(np.sqrt(np.nan_to_num(se_r) ** 2 + np.nan_to_num(se_o) ** 2))
    return max(0.0, abs(r - other) - TREND_NOISE_SE * se)


def _judge_worst(out: list[MetricResult], schema: Any, name: str, rows: list[dict[str, Any]], desc: str, threshold: Any,
                 unjudged: str, none: str, note: Any = None) -> None:  # noqa: ANN401
    """Judge a per-relation check on its worst relation (synthetic share beyond the real baseline), or skip it saying
    why: ``unjudged`` where rows exist but none holds a value, ``none`` where no relation has the check; ``note`` words
    the worst row (by default :func:`_worst_note`)."""
    judged = [r for r in rows if np.isfinite(r["synthetic"])]
    if judged:
        worst = max(judged, key=lambda r: r["synthetic"] - r["baseline"])
        out.append(judge(name, SECTION, worst["synthetic"], "minimize", desc, threshold=threshold, baseline=worst["baseline"],
                         details={"relations": rows}, note=(note or _worst_note)(worst, judged)))
    elif schema.relations:
        out.append(skipped(name, SECTION, "minimize", desc, unjudged if rows else none))


def _worst_note(worst: dict, rows: list[dict]) -> str:
    """The worst check of an order or bound metric in words, and the other checks past the real share by 2 points."""
    others = [f"{r['check']} {r['synthetic']:.1%}" for r in rows
              if r is not worst and r["synthetic"] - r["baseline"] > 0.02]
    return (f"worst: {worst['relation']} {worst['check']}: {worst['synthetic']:.1%} of synthetic rows (real "
            f"{worst['baseline']:.1%})" + (f"; also {', '.join(others[:4])}" if others else ""))


def _outside(v: np.ndarray, start: bool) -> float:
    """Share of finite offsets before the start (``start``) or after the end."""
    v = v[np.isfinite(v)]
    return float(np.mean(v < 0) if start else np.mean(v > 0)) if len(v) else float("nan")


def _offsets(train: dict, holdout: dict, synthetic: dict, schema: DatasetSchema, rel) -> list[dict]:  # noqa: ANN001
    """Per parent time column of the relation: the TVD of child times relative to it, and the shares outside."""
    real, syn, hold = (time_offsets(d, schema, rel) for d in (train, synthetic, holdout))
    out = []
    for ref, x in real.items():
        if not np.isfinite(x).any():
            continue
        start = ref.startswith("after ")
        side = "share_before_start" if start else "share_after_end"
        other = syn.get(ref, np.full(1, np.nan))  # (a synthetic set without the columns: every offset missing)
        out.append({"relation": rel.label, "reference": ref, "synthetic": offset_tvd(x, other),
                    "baseline": offset_tvd(x, hold[ref]),
                    "median_days_real": float(np.nanmedian(x)),
                    "median_days_synthetic": float(np.nanmedian(other)) if np.isfinite(other).any() else None,
                    f"{side}_real": _outside(x, start), f"{side}_synthetic": _outside(other, start)})
    return out


#: The share of a relation's real parent-child associations (those of at least ``MEASURABLE_FLOOR``: a rare flag DP
#: wrote constant, associated with nothing, lost nothing, a reviewer) that the synthetic rows cannot show (an empty or
#: constant column on either side) from which ``parent_child_association_difference`` fails: nearly all (two rare flags
#: of four parent columns written constant held half of 9 subjects' pairs, chance associations above the floor).
UNMEASURABLE_FAIL_SHARE = 0.9
MEASURABLE_FLOOR = 0.1


def _parent_child_association(train: dict, holdout: dict, synthetic: dict, schema: DatasetSchema, rel, cats) -> dict:  # noqa: ANN001
    ptypes = {c: k for c, k in column_types(schema, rel.parent).items() if k != "id"}

    def frame(d: dict) -> pd.DataFrame:
        sub = DatasetSchema(tables={rel.parent: schema.tables[rel.parent].model_copy(update={"primary_key": rel.parent_column}),
                                    rel.child: schema.tables[rel.child]},
                            relations=[rel.model_copy(update={"read_from_data": []})])
        flat = patient_table({rel.parent: d[rel.parent], rel.child: d[rel.child]}, sub, cats)
        for c, k in ptypes.items():
            if k == "datetime":
                from medsynth.evaluation.multitable_data import numbers

                flat[c] = numbers(d[rel.parent][c], k)
        return flat

    frames = [frame(d) for d in (train, synthetic, holdout)]
    child_cols = [c for c in frames[0].columns if c.startswith(f"{rel.child}.")]
    types = {c: ("categorical" if k == "categorical" else "numeric") for c, k in ptypes.items()}
    types.update({c: "numeric" for c in child_cols})
    if not ptypes or not child_cols:
        return {"relation": rel.label, "synthetic": None, "baseline": None}
    mats, varies = [], []
    for f in frames:
        g = f[list(types)].copy()
        for c, k in types.items():
            g[c] = g[c].map(lambda v: None if pd.isna(v) else str(v)) if k == "categorical" else pd.to_numeric(g[c], errors="coerce")
        mats.append(association_matrix(g, types).loc[list(ptypes), child_cols].to_numpy())
        v = g.nunique(dropna=True) >= 2  # (a column empty or of one value shows no association: 0, not missing)
        varies.append(np.outer(v[list(ptypes)].to_numpy(), v[child_cols].to_numpy()))
    # an association the real rows show that the other side cannot (a column left empty or constant there) is lost
    # whole: a difference of the real one (nanmean passed a synthetic folder whose every column was empty)
    syn, base = (float(np.nanmean(np.abs(mats[0] - np.where(np.isnan(m) & ~np.isnan(mats[0]), 0.0, m))))
                 for m in (mats[1], mats[2]))
    # the share of the associations the real rows show that the synthetic rows cannot show at all (their columns empty
    # or constant): Theoph's synthetic folder with every column empty passed at 0.130, the real mean association being
    # under the band a 3-subject holdout's noise widens (a data scientist)
    real_pairs = ~np.isnan(mats[0]) & varies[0] & (np.abs(np.nan_to_num(mats[0])) >= MEASURABLE_FLOOR)
    gone = float((real_pairs & (np.isnan(mats[1]) | ~varies[1])).sum() / real_pairs.sum()) if real_pairs.any() else 0.0
    # the strong links a mean over every pair hides (guPrenat's indigenous mother ~ her children's prenatal care, V 0.38
    # -> 0.00, passed at a mean difference of 0.097 over 40 pairs: a data scientist): strong in train and holdout alike,
    # lost where the synthetic one is under half the real one (as strong_association_loss_share for one table), or a
    # correlation of the other sign (a reviewer: a reversed effect counted as kept)
    s_tr, s_sy, s_ho = (np.nan_to_num(m) for m in mats)
    v_tr, v_sy, v_ho = (np.abs(m) for m in (s_tr, s_sy, s_ho))
    strong = np.argwhere((v_tr >= STRONG_ASSOCIATION) & (v_ho >= STRONG_ASSOCIATION))
    lost = sorted(({"parent": str(list(ptypes)[i]), "child": str(child_cols[j]), "real": float(s_tr[i, j]),
                    "synthetic": float(s_sy[i, j])} for i, j in strong
                   if v_sy[i, j] < 0.5 * v_tr[i, j] or s_tr[i, j] * s_sy[i, j] < 0),
                  key=lambda r: -abs(r["real"] - r["synthetic"]))
    return {"relation": rel.label, "synthetic": syn, "baseline": base, "pairs": int(mats[0].size), "unmeasurable_share": gone,
            "strong_pairs": int(len(strong)), "strong_lost": lost}


def _siblings(train: dict, holdout: dict, synthetic: dict, schema: DatasetSchema, rel) -> list[dict]:  # noqa: ANN001
    """Per child column, the real, synthetic and holdout shares of :func:`sibling_patterns` and the differences."""
    real, syn, hold = (sibling_patterns(d, schema, rel) for d in (train, synthetic, holdout))
    def diff(r: dict, other: dict | None) -> float:
        if other is None:
            return float("nan")
        if r.get("number"):  # (a number's rows all alike: held once per patient; all differing is no rule of numbers)
            return abs(r["same"] - other["same"])
        return max(abs(r["distinct"] - other["distinct"]), abs(r["same"] - other["same"]))

    out = []
    for c, r in real.items():
        s, h = syn.get(c), hold.get(c)
        if s is None:
            continue
        out.append({"relation": rel.label, "column": c, "real_distinct": r["distinct"], "real_same": r["same"],
                    "synthetic_distinct": s["distinct"], "synthetic_same": s["same"], "synthetic": diff(r, s),
                    "baseline": float(np.nan_to_num(diff(r, h)))})
    return out


def _trajectory(train: dict, holdout: dict, synthetic: dict, schema: DatasetSchema, rel) -> dict | None:  # noqa: ANN001
    real, edges = trajectories(train, schema, rel)
    if real.shape[1] == 0:
        return None
    syn, _ = trajectories(synthetic, schema, rel, edges)
    hold, _ = trajectories(holdout, schema, rel, edges)
    child = train[rel.child]
    sd = {c: float(pd.to_numeric(child[c], errors="coerce").std()) or 1.0 for c in real.columns}

    def dist(other: pd.DataFrame, rows: pd.DataFrame) -> tuple[float, dict[str, float]]:
        per = {}
        for c in real.columns:
            if c not in rows or not pd.to_numeric(rows[c], errors="coerce").notna().any():
                per[c] = float("nan")  # a column left empty (DP released nothing of it): no trajectory to compare
                continue
            if c not in other:  # (values, but none at a time: every real bin is missed)
                other = other.assign(**{c: np.nan})
            scale = sd[c] if np.isfinite(sd[c]) and sd[c] > 0 else 1.0
            held = real[c].dropna().index  # a real time bin the other table holds no value in is a whole deviation off
            # (an empty synthetic time column, or every row at one time, was compared on one bin and passed)
            gap = [abs(real.loc[b, c] - other.loc[b, c]) / scale if b in other.index and np.isfinite(other.loc[b, c])
                   else MISSING_BIN_GAP for b in held]
            per[c] = float(np.mean(gap)) if gap else float("nan")
        vals = [v for v in per.values() if np.isfinite(v)]
        return (float(np.mean(vals)) if vals else float("nan")), per

    s, per = dist(syn, synthetic[rel.child])
    b, _ = dist(hold, holdout[rel.child])
    return {"relation": rel.label, "synthetic": s, "baseline": b, "per_column": per,
            "time": f"since the parent's first '{rel.child}' row ({rel.order_by})" if rel.order_by else "row position",
            "real_means": real.round(4).to_dict(), "synthetic_means": syn.round(4).to_dict()}


def table_metrics(name: str, train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: DatasetSchema,
                  cfg: EvaluationConfig) -> list[MetricResult]:
    """Per-table fidelity (marginals, associations, missingness, 2-way TVD), named ``<table>_<metric>``."""
    sec = f"table_{slug(name)}"
    types = {c: k for c, k in column_types(schema, name).items()}
    if all(k == "id" for k in types.values()):
        return [skipped(f"{slug(name)}_marginal_distance_mean", sec, "minimize", "Per-table fidelity.", "the table holds keys only")]
    if synthetic.empty and not train.empty:  # a generator that made no rows of a real table fails it (not a refusal)
        return [judge(f"{slug(name)}_marginal_distance_mean", sec, 1.0, "minimize",
                      "Per-table fidelity: the synthetic table has no rows while the real one has "
                      f"{len(train)}, so every column's distribution is missing (distance 1).",
                      threshold=cfg.fidelity.marginal_distance_mean, note="the synthetic table has no rows")]
    data = prepare_tables(train, holdout, synthetic, schema=types, max_categories=cfg.tabular.max_categories, max_holdout_overlap=1.0)
    ctx = TabularContext(data, cfg)
    out: list[MetricResult] = []
    for cls in (MarginalDistance, AssociationDifference, MissingnessPattern):
        out.extend(cls().compute(data, data.synthetic, context=ctx))
    value, worst = two_way_tvd(data.train, data.synthetic, data.types, rng=ctx.rng("two_way"))
    base, _ = two_way_tvd(data.train, data.holdout, data.types, rng=ctx.rng("two_way"))
    out.append(judge("two_way_tvd", "fidelity", value, "minimize",
                     "Mean total variation distance between real and synthetic 2-way distributions of every pair of columns "
                     "(numbers in real deciles, missing as its own bin).", threshold=cfg.fidelity.two_way_tvd, baseline=base,
                     details={"largest": worst}))
    for m in out:
        m.name, m.section = f"{slug(name)}_{m.name}", sec
    return out


def _flat(train: dict, holdout: dict, synthetic: dict, schema: DatasetSchema, target: str | None):  # noqa: ANN202
    cats = top_categories(train, schema)
    flats = [patient_table(d, schema, cats) for d in (train, holdout, synthetic)]
    types = patient_types(schema, flats[0])
    col = None
    root = schema.roots[0]
    unusable = None
    if target is None:  # the root table's column the schema marks ``target: true`` (schema infer proposes one by name)
        declared = [c.name for c in schema.tables[root].columns if c.target]
        elsewhere = [f"{t}.{c.name}" for t, tab in schema.tables.items() if t != root for c in tab.columns if c.target]
        if not declared and elsewhere:  # (utility is measured per patient: a visit's outcome is no patient's)
            unusable = (f"The schema marks '{elsewhere[0]}' as the target, a column of a child table: utility is measured "
                        f"per patient, on the root table '{root}' (pass --target COL or COL=VALUE with a column of it).")
        if declared and declared[0] in flats[0].columns and flats[0][declared[0]].nunique(dropna=True) >= 2:
            target = declared[0]
        elif declared:
            why = "is not a column of it" if declared[0] not in flats[0].columns else "holds a single value in the train data"
            unusable = (f"The schema marks '{root}.{declared[0]}' as the target, but it {why}: utility is not measured "
                        "(pass --target COL or COL=VALUE).")
    if target is not None:
        col, _, value = target.partition("=")
        if col not in flats[0].columns and col.startswith(f"{root}.") and col[len(root) + 1:] in flats[0].columns:
            col = col[len(root) + 1:]  # ROOT.COL, as relations are written
        child = _child_target(col, value, schema)
        if child is not None:  # an outcome recorded as a child row (a death event): whether a patient has one
            return _with_child_target(flats, (train, holdout, synthetic), schema, types, *child, value), \
                f"{col}=={value}", types, unusable
        if col not in flats[0].columns:
            own = [c.name for c in schema.tables[root].columns if c.name in flats[0].columns]  # (names may hold dots)
            raise DataValidationError(f"--target '{target}': '{col}' is not a column of the root table "
                                      f"'{schema.roots[0]}' (columns: {own})")
        if value:
            from medsynth.io.schema import category_key

            name = f"{col}=={value}"
            for f in flats:
                f[name] = (f[col].map(lambda v: None if pd.isna(v) else category_key(v)) == category_key(value)).astype(int)
                f.drop(columns=[col], inplace=True)
            types.pop(col, None)
            types[name] = "categorical"
            col = name
    return flats, col, types, unusable


def _child_target(col: str, value: str, schema: DatasetSchema) -> tuple[str, str] | None:
    """(table, column) where ``--target`` names a child table's column as ``TABLE.COL=VALUE``, else None; a child's
    column without ``=VALUE`` is a clear error (a patient has many rows: only whether one holds a value is theirs)."""
    root = schema.roots[0]
    for t, tab in schema.tables.items():
        if t == root or not col.startswith(f"{t}."):
            continue
        c = col[len(t) + 1:]
        if any(x.name == c for x in tab.columns):
            if not value:
                raise DataValidationError(f"--target '{col}': a column of the child table '{t}' is an outcome per patient "
                                          f"only as {col}=VALUE (whether a patient has a row holding VALUE, e.g. "
                                          f"{col}=death)")
            return t, c
    return None


def _with_child_target(flats: list[pd.DataFrame], tables: tuple, schema: DatasetSchema, types: dict[str, str],
                       table: str, column: str, value: str) -> list[pd.DataFrame]:
    """Each patient table with the binary outcome ``TABLE.COL==VALUE`` (1 where one of the patient's rows of the child
    table holds the value), and without the summaries of that column (its shares and statistics would be the answer:
    a data scientist's colon and ebmt record death as an event row, and utility was skipped)."""
    from medsynth.io.schema import category_key

    name = f"{table}.{column}=={value}"
    key = category_key(value)
    out = []
    for flat, d in zip(flats, tables, strict=True):
        u = unit_rows(d, schema).get(table, np.zeros(0, dtype=np.int64))
        v = d[table][column].map(lambda z: None if pd.isna(z) else category_key(z)).to_numpy(dtype=object)
        hit = (u >= 0) & (v == key)
        y = np.zeros(len(flat), dtype=int)
        y[u[hit]] = 1
        leak = [c for c in flat.columns if c.startswith(f"{table}.{column}=") or c.startswith(f"{table}.{column}.")]
        out.append(flat.drop(columns=leak).assign(**{name: y}))
    for c in [c for c in types if c.startswith((f"{table}.{column}=", f"{table}.{column}."))]:
        types.pop(c)
    types[name] = "categorical"
    if not out[0][name].any():
        raise DataValidationError(f"--target '{table}.{column}={value}': no training patient has a '{table}' row with "
                                  f"'{column}' = {value!r}")
    return out


def _history_copies(tr: dict, ho: dict, sy: dict, schema: DatasetSchema, cfg: EvaluationConfig) -> MetricResult:
    """``history_copy_share``: synthetic patients whose whole record (their row and every child row, as a multiset)
    copies a training patient's, judged as ``exact_copy_share`` is against the holdout patients' natural duplicates.
    The patient-level table summarises a patient's rows (counts, means, shares) and loses their order and pairing: a
    data scientist's schizophrenia2 given as its own synthetic folder copied every patient (11 of 35 with a history no
    other patient holds), and the summaries' copies, 100% of the holdout's too, passed."""
    from medsynth.evaluation.tabular_privacy import copy_shares

    cols = {t: [c for c, k in column_types(schema, t).items() if k != "id" and c in tr[t].columns] for t in schema.order()}
    h = [patient_histories(d, schema, cols) for d in (tr, ho, sy)]
    got = copy_shares(h[2], h[0], h[1], floor=True)
    th = cfg.privacy.exact_copy_share
    out = judge("history_copy_share", PRIVACY_SECTION, got["share"], "minimize",
                "Share of synthetic patients whose whole record (their own row and every row of their child tables, "
                "keys aside) is identical to a training patient's. Judged as exact_copy_share: by its excess over the "
                "holdout patients' natural duplicates, on its 95% lower bound; an excess past the fail limit and one "
                "standard error is a review at least.",
                threshold=th, baseline=got["baseline"], judged=got["judged"],
                # (the bound decides, and a point estimate past the fail limit asks for review only where it also stands
                # a standard error above the baseline: whole histories of a few coarse visits copy each other naturally,
                # 13-16% of fresh real patients in a test, and a point 2 points above that asked for review 1 draw in 4;
                # with no condition, 5 of 35 synthetic patients copied verbatim passed: a reviewer)
                judged_is_bound=False, details={**got["details"], "unit": "patient with all their rows"})
    excess = got["share"] - got["baseline"]
    if out.verdict == "pass" and excess > th.fail and excess > got["details"]["excess_se"]:
        out.verdict = "review"
        out.note = (f"{excess:.1%} of the synthetic patients beyond the natural duplicates copy a training patient's "
                    "whole record: too few patients to tell it from chance with confidence; look at them")
    return out


def evaluate_multitable(
    train: DatasetLike,
    holdout: DatasetLike,
    synthetic: DatasetLike,
    *,
    target: str | None = None,
    schema: str | Path | DatasetSchema | None = None,
    config: EvaluationConfig | None = None,
    run_dir: str | Path | None = None,
    mode: Literal["evaluate", "audit"] = "evaluate",
) -> Report:
    """Judge a synthetic multi-table dataset (``mode="audit"``: patient-level privacy only).

    Args:
        train: real tables the generator was fitted on (a folder, or ``{name: DataFrame}``).
        holdout: real patients (with all their rows) it never saw.
        synthetic: the synthetic tables, from any tool.
        target: a root-table column for utility (``COL`` or ``ROOT.COL``), or ``COL=VALUE`` for a binary outcome; None
            takes the root-table column the schema marks ``target: true`` (when it holds two values or more).
        schema: medsynth's dataset schema (YAML path or object); inferred from ``train`` when None.
        config: thresholds and sizes.
        run_dir: the producer's run directory (its ledger is shown).
        mode: "evaluate" or "audit".

    Raises:
        DataValidationError: a table missing from a dataset, real data with orphan keys, a bad target.
    """
    from medsynth.evaluation.multitable_plots import multitable_figures

    t0 = time.perf_counter()
    cfg = config or EvaluationConfig()
    tr, ho, sy = load_dataset(train, "train"), load_dataset(holdout, "holdout"), load_dataset(synthetic, "synthetic")
    if schema is None:
        schema = infer_dataset_schema(tr)
    elif not isinstance(schema, DatasetSchema):
        from medsynth.io.dataset import is_dataset_schema

        if not is_dataset_schema(schema):
            raise DataValidationError(f"--schema '{schema}' is not a dataset schema (tables: and relations:); for folders give "
                                      "the schema of `medsynth schema infer DATA_DIR`, or leave it out to infer one")
        schema = DatasetSchema.load(schema)
    from medsynth.io.dataset import left_out_notes, prepare_dataset

    read_notes: list[str] = []
    for role, d in (("train", tr), ("holdout", ho)):  # real data read as the fit reads it
        kept, lost = prepare_dataset(d, schema)
        d.clear()
        d.update(kept)
        read_notes += [f"The {role} data: {n} (as a fit does)." for n in left_out_notes(lost)]
    _check_tables(tr, ho, sy, schema)
    ledger = read_privacy_ledger(run_dir) if run_dir is not None else None
    inputs = [_info(train, tr, "train"), _info(holdout, ho, "holdout"), _info(synthetic, sy, "synthetic")]
    results: list[MetricResult] = []
    if mode == "evaluate":
        results += relation_metrics(tr, ho, sy, schema, cfg)
        for name in schema.order():
            results += table_metrics(name, tr[name], ho[name], sy[name], schema, cfg)
    # the patient-level attacks and utility read synthetic categories that differ from real ones only in case as the
    # real ones (per table, before the visits are summarised per patient: a re-cased copy passed the copy check)
    recased: dict[str, str] = {}
    sy_read = {t: df.copy() for t, df in sy.items()}
    for t, df in sy_read.items():
        for c in df.columns:
            if t in tr and c in tr[t].columns and (df[c].dtype == object or tr[t][c].dtype == object):
                real_c = as_category(pd.concat([tr[t][c], ho[t][c]], ignore_index=True)) if t in ho else as_category(tr[t][c])
                same, note = recase_like(as_category(df[c]), real_c)
                if note:
                    df[c], recased[f"{t}.{c}"] = same.to_numpy(), note
    flats, col, types, unusable = _flat(tr, ho, sy_read, schema, target)
    # a patient of few coarse columns can equal another by chance (bladder1: 1 of 36 holdout patients, 2.8%; rhDNase 2
    # of 195): up to COINCIDENT_PATIENTS equal patients are chance, more (a holdout cut from the train data) are refused
    overlap = max(cfg.tabular.max_holdout_overlap, (COINCIDENT_PATIENTS + 0.5) / max(len(flats[1]), 1))
    data = prepare_tables(*flats, target=col, schema=types, max_categories=cfg.tabular.max_categories, max_holdout_overlap=overlap)
    ctx = TabularContext(data, cfg)
    for cls in selected(TABULAR_METRICS, cfg.metrics, privacy_only=True):
        results.extend(cls().compute(data, data.attacked, context=ctx))
        if cls is ExactCopies:
            results.append(_history_copies(tr, ho, sy_read, schema, cfg))
    if mode == "evaluate":
        from medsynth.evaluation.tabular_fidelity import TrainSyntheticTestReal

        results.extend(TrainSyntheticTestReal().compute(data, data.synthetic, context=ctx))
    root = schema.roots[0]
    notes = ledger_notes(ledger) + read_notes
    recased.update(data.recased)
    if recased:
        notes.append("Patient-level privacy and utility read synthetic categories as the real ones, case aside (each "
                     "table's fidelity as written): " + "; ".join(f"{c} ({why})" for c, why in recased.items()) + ".")
    if unusable:
        notes.append(unusable)
    notes.append(f"Unit of the utility and privacy metrics: one '{root}' row with all its rows (patient level): the "
                 f"'{root}' columns plus, per child table, the number of rows and summaries of their columns "
                 f"({len(data.columns)} columns).")
    notes.append("Relations: " + "; ".join(f"{r.label}" + (f" (ordered by {r.order_by})" if r.order_by else "") for r in schema.relations)
                 if schema.relations else "The schema has no relation.")
    report = Report(kind="multitable", mode=mode, results=results, inputs=inputs, config=cfg.model_dump(mode="json"),
                    config_hash=config_hash(cfg), notes=notes, privacy_ledger=ledger)
    report.tables["schema"] = schema
    report.figures["list"] = multitable_figures(tr, sy, schema) if mode == "evaluate" else []
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["evaluate_multitable", "relation_metrics", "table_metrics"]
