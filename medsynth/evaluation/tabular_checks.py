"""Value and row checks of a synthetic table against its real rows (a part of ``marginal_distance``'s results).

Each check holds the synthetic rows to what every real row keeps, judged beside the holdout (two real samples differ
too): a column collapsed onto one value, categories no real row holds or that the synthetic rows lost, orderings
between time and bound columns, interval rules, families of 0/1 dummies, value pairs no real row holds, a column's
presence tied to a category, and ranges and whole numbers. The metrics are listed in
:mod:`medsynth.evaluation.tabular_fidelity`'s docstring; :class:`~medsynth.evaluation.tabular_fidelity.MarginalDistance`
reports them.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from medsynth.evaluation.results import MetricResult, judge, skipped
from medsynth.evaluation.tabular_data import TabularData
from medsynth.evaluation.tabular_privacy import TabularContext

#: A column collapses where the real rows hold other values than the synthetic rows' commonest one in at least this share
#: (train and holdout alike) ...
COLLAPSE_REAL_SHARE = 0.05
#: ... and the synthetic rows in less than this fraction of that share.
COLLAPSE_FRACTION = 0.1


def _other_than(x: np.ndarray, top: Any, numeric: bool) -> float:
    """Share of ``x`` other than ``top`` (numbers compared to a relative 1e-9)."""
    if numeric:
        return float(np.mean(~np.isclose(x, float(top), rtol=1e-9, atol=1e-12)))
    return float(np.mean(x != top))


def _collapsed_columns(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """Columns whose synthetic values (those present) are one value, or nearly, where the real ones vary.

    A marginal distance cannot see it where the commonest value is most of the column: covid_testing's Ct value is 45
    (no virus found) in 93% of the real rows and under 45 in the rest, the positives; synthetic Ct values of 45 in every
    row had a KS distance of 0.07 (the real rows' share under 45) and passed, while every positive lost its value."""
    desc = ("Columns whose synthetic values (those present) are one value in all but a tenth of the share of real rows "
            f"that hold another (at least {COLLAPSE_REAL_SHARE:.0%} of train and holdout rows): a column that cannot be "
            "used as the real one is, whatever its marginal distance.")
    rows = []
    for c, kind in real.types.items():
        if c not in synthetic.columns:
            continue
        if kind == "numeric":
            values = [pd.to_numeric(d[c], errors="coerce").dropna().to_numpy(float) for d in (synthetic, real.train, real.holdout)]
        else:
            values = [d[c].dropna().astype(str).to_numpy() for d in (synthetic, real.train, real.holdout)]
        syn, tr, ho = values
        if len(syn) == 0 or len(tr) == 0 or len(ho) == 0:  # (an empty column is the marginal distance's: 1)
            continue
        uniq, counts = np.unique(syn, return_counts=True)
        top = uniq[np.argmax(counts)]

        s_other, t_other, h_other = (_other_than(x, top, kind == "numeric") for x in (syn, tr, ho))
        if min(t_other, h_other) >= COLLAPSE_REAL_SHARE and s_other < COLLAPSE_FRACTION * t_other:
            rows.append({"column": c, "value": top.item() if hasattr(top, "item") else top, "other_real": t_other,
                         "other_holdout": h_other, "other_synthetic": s_other, "distinct_synthetic": int(len(uniq))})
    note = "; ".join(f"{r['column']!r}: {r['value']!r} in {1 - r['other_synthetic']:.1%} of synthetic rows, another value in "
                     f"{r['other_real']:.1%} of real rows" for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
    return judge("columns_collapsed_to_one_value", "fidelity", float(len(rows)), "minimize", desc,
                 threshold=context.config.fidelity.columns_collapsed_to_one_value, baseline=0.0, note=note,
                 details={"columns": rows})


def _unseen_categories(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """The worst categorical column's share of synthetic values (present, not the lumped ``(other)`` where the synthetic
    column lacks a real value it may stand for) that no real row holds, train or holdout, beyond the holdout's share of values the training rows do not hold: answers no one gave
    (a 1-6 questionnaire item written -1 or 0 in 5% of the rows passed every metric, its distance 0.07)."""
    from medsynth.io.schema import OTHER_CATEGORY

    desc = ("The worst categorical column's share of synthetic values that no real row holds (a code or answer no "
            f"one gave; '{OTHER_CATEGORY}', rare values lumped, excepted where the column lacks a real value it may hold), "
            "beyond the holdout's share of values the training rows do not hold.")
    rows = []
    for c in (c for c in real.types if real.types[c] == "categorical"):
        train = set(real.train[c].dropna().astype(str))
        seen = train | set(real.holdout[c].dropna().astype(str))
        syn = synthetic[c].dropna().astype(str) if c in synthetic.columns else pd.Series([], dtype=str)
        if not seen <= set(syn):  # (a lump of real values the synthetic column lacks; where it lacks none, the lump
            syn = syn[syn != OTHER_CATEGORY]  # holds no real value: DoctorContacts' sex took '(other)' in 73 rows)
        hold = real.holdout[c].dropna().astype(str)
        if syn.empty:
            continue
        new = syn[~syn.isin(seen)]
        rows.append({"column": c, "synthetic": float(len(new) / len(syn)),
                     "holdout": float((~hold.isin(train)).mean()) if len(hold) else 0.0,
                     "values": [str(v) for v in new.value_counts().index[:5]]})
    if not rows:
        return skipped("unseen_category_values_max", "fidelity", "minimize", desc, "no categorical column")
    worst = max(rows, key=lambda r: r["synthetic"] - r["holdout"])
    others = [r["column"] for r in rows if r["synthetic"] > r["holdout"] and r is not worst and r["values"]]
    note = (f"worst column {worst['column']!r}: {worst['synthetic']:.1%} of synthetic values no real row holds"
            + (f" ({', '.join(repr(v) for v in worst['values'])})" if worst["values"] else "")
            + (f"; also in {', '.join(repr(c) for c in others[:6])}{' ...' if len(others) > 6 else ''}" if others else ""))
    return judge("unseen_category_values_max", "fidelity", worst["synthetic"], "minimize", desc,
                 threshold=context.config.fidelity.unseen_category_values_max, baseline=worst["holdout"], note=note,
                 details={"columns": sorted(rows, key=lambda r: r["holdout"] - r["synthetic"])[:20]})


#: A number column is coded (:func:`_off_real_values`) where train and holdout hold at most this many distinct values ...
CODED_LEVELS = 30
#: ... and the training rows hold each at least this many times on average.
CODED_REPEATS = 5


def _off_values(x: np.ndarray, values: np.ndarray, tol: float) -> np.ndarray:
    """Which of ``x`` lie more than ``tol`` from every one of the sorted ``values`` (at least two)."""
    idx = np.clip(np.searchsorted(values, x), 1, values.size - 1)
    return np.minimum(np.abs(x - values[idx - 1]), np.abs(x - values[idx])) > tol


def _off_real_values(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """The worst coded number column's share of synthetic values (present) that no real row holds, train or holdout,
    beyond the holdout's share of values the training rows do not hold. A column of a few values each held by many
    rows is a code or a scale written as numbers (log family size, an age group's midpoint, a coinsurance rate of four
    values): values between them exist nowhere (a data scientist: MedExp's ``lc``, four real values, written between
    them in 60% of the synthetic rows; DoctorVisits' twelve age codes off in 10-23%; every metric passed)."""
    desc = (f"The worst coded number column's (at most {CODED_LEVELS} real values, each held by {CODED_REPEATS} training "
            "rows or more on average) share of synthetic values that no real row holds, beyond the holdout's share of "
            "values the training rows do not hold: values between a code's values exist nowhere.")
    rows = []
    for c in (c for c in real.types if real.types[c] == "numeric" and c in synthetic.columns):
        tr = pd.to_numeric(real.train[c], errors="coerce").dropna().to_numpy(float)
        ho = pd.to_numeric(real.holdout[c], errors="coerce").dropna().to_numpy(float)
        seen, held = np.unique(np.r_[tr, ho]), np.unique(tr)
        if not len(tr) or seen.size > CODED_LEVELS or len(tr) < CODED_REPEATS * held.size or seen.size < 2:
            continue
        syn = pd.to_numeric(synthetic[c], errors="coerce").dropna().to_numpy(float)
        if not syn.size:
            continue
        tol = 1e-3 * float(np.diff(seen).min())  # (a thousandth of the closest two values: codes stored as float32 or
        # rounded to 6 decimals are the codes, a reviewer: at a relative 1e-9 they failed at 0.75)
        new = syn[_off_values(syn, seen, tol)]
        rows.append({"column": c, "synthetic": float(new.size / syn.size),
                     "holdout": float(_off_values(ho, held, tol).mean()) if ho.size and held.size > 1 else 0.0,
                     "real_values": int(seen.size), "values": [float(v) for v in pd.Series(new).value_counts().index[:5]]})
    if not rows:
        return skipped("number_values_off_real_max", "fidelity", "minimize", desc, "no coded number column")
    worst = max(rows, key=lambda r: r["synthetic"] - r["holdout"])
    others = [r["column"] for r in rows if r["synthetic"] - r["holdout"] > 0.01 and r is not worst]
    note = (f"worst column {worst['column']!r}: {worst['synthetic']:.1%} of synthetic values none of its "
            f"{worst['real_values']} real values" + (f" (e.g. {', '.join(f'{v:g}' for v in worst['values'][:3])})"
                                                      if worst["values"] else "")
            + (f"; also in {', '.join(repr(c) for c in others[:6])}{' ...' if len(others) > 6 else ''}" if others else ""))
    return judge("number_values_off_real_max", "fidelity", worst["synthetic"], "minimize", desc,
                 threshold=context.config.fidelity.number_values_off_real_max, baseline=worst["holdout"], note=note,
                 details={"columns": sorted(rows, key=lambda r: r["holdout"] - r["synthetic"])[:20]})


def _lost_categories(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """The worst categorical column's share of real holdout rows (with a value) whose value no synthetic row holds,
    beyond their share the training rows do not hold (what a real sample of the population misses)."""
    from medsynth.io.schema import OTHER_CATEGORY

    desc = ("The worst categorical column's share of real holdout rows whose value the synthetic column never holds "
            f"(a category lost, or lumped into '{OTHER_CATEGORY}'), beyond their share the training rows do not hold.")
    rows = []
    for c in (c for c in real.types if real.types[c] == "categorical"):
        hold = real.holdout[c].dropna().astype(str)
        if hold.empty or c not in synthetic.columns:
            continue
        syn = set(synthetic[c].dropna().astype(str)) - {OTHER_CATEGORY}
        lost = hold[~hold.isin(syn)]
        rows.append({"column": c, "synthetic": float(len(lost) / len(hold)),
                     "holdout": float((~hold.isin(set(real.train[c].dropna().astype(str)))).mean()),
                     "values": [str(v) for v in lost.value_counts().index[:5]]})
    if not rows:
        return skipped("real_categories_lost_max", "fidelity", "minimize", desc, "no categorical column")
    worst = max(rows, key=lambda r: r["synthetic"] - r["holdout"])
    others = [r["column"] for r in rows if r["synthetic"] - r["holdout"] > 0.01 and r is not worst]
    note = (f"worst column {worst['column']!r}: {worst['synthetic']:.1%} of real rows hold a value no synthetic row "
            "holds" + (f" ({', '.join(repr(v) for v in worst['values'])})" if worst["values"] else "")
            + (f"; also in {', '.join(repr(c) for c in others[:6])}{' ...' if len(others) > 6 else ''}" if others else ""))
    return judge("real_categories_lost_max", "fidelity", worst["synthetic"], "minimize", desc,
                 threshold=context.config.fidelity.real_categories_lost_max, baseline=worst["holdout"], note=note,
                 details={"columns": sorted(rows, key=lambda r: r["holdout"] - r["synthetic"])[:20]})


#: A number column is one with fractions where at least this share of its real values has one.
FRACTION_SHARE = 0.1


#: Time columns checked for orderings at most (dates first, then numbers named like times).
ORDER_COLUMNS = 12
#: Synthetic rows holding both columns that an ordering is judged on at least.
ORDER_MIN_ROWS = 10


def _orderings(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """Orderings between time columns that the real rows keep (at most 1% of the training rows holding both break
    it, at least 5% strictly follow it, 30 rows): the worst synthetic share of rows breaking one, beyond the holdout's.
    The candidates are the date columns and the number columns named like times (``entry``/``exit``, ``ptime``,
    ``tstart``/``tstop``): a discharge before its admission, or an exit age below the entry age, is what a clinician
    sees first, and no distance shows it (a data scientist's ebmt3 and myeloma reports said review)."""
    from medsynth.io.dataset_infer import event_times, time_point_named
    from medsynth.io.schema import bound_pairs

    events = event_times(list(real.train.columns))
    cols = [c for c in real.numeric if c in real.dates] + [c for c in real.numeric if c not in real.dates
                                                            and (time_point_named(c) or c in events)]
    cols = cols[:ORDER_COLUMNS]
    pairs = [(a, b) for a in cols for b in cols if a != b and (a in real.dates) == (b in real.dates)]
    # numbers whose names say one is at most the other (a vital sign's lowest and highest, a part and its total: an
    # analyst found 15-29% of a loan table's synthetic rows with more open credit lines than lines in all)
    pairs += [p for p in bound_pairs([c for c in real.numeric if c not in real.dates]) if p not in pairs]
    desc = ("The worst share of synthetic rows (both present) breaking an ordering between two columns that the real "
            "training rows keep (dates, numbers named like times, and numbers named as bounds or a total), beyond the "
            "holdout's share; also any two numbers that no real row (training or holdout) breaks although their values "
            "overlap (an event time and the follow-up it ends within).")
    structural = _structural_orderings(real, set(pairs))
    pairs += structural
    values = {name: {c: pd.to_numeric(df[c], errors="coerce").to_numpy(float) for c in {x for p in pairs for x in p}}
              for name, df in (("train", real.train), ("holdout", real.holdout), ("synthetic", synthetic))}

    def broken(v: dict[str, np.ndarray], a: str, b: str) -> tuple[float, float, int]:
        both = np.isfinite(v[a]) & np.isfinite(v[b])
        k = int(both.sum())
        return (float(np.mean(v[a][both] > v[b][both])) if k else 0.0,
                float(np.mean(v[a][both] < v[b][both])) if k else 0.0, k)

    found = []
    for a, b in pairs:
        br, strict, k = broken(values["train"], a, b)
        if (a, b) in structural or (k >= 30 and br <= 0.01 and strict >= 0.05):
            syn, _, ks = broken(values["synthetic"], a, b)
            hold, _, _ = broken(values["holdout"], a, b)
            found.append({"ordering": f"{a} <= {b}", "synthetic": syn, "holdout": hold, "real": br,
                          "synthetic_rows": ks})
    if not found:
        return skipped("ordering_violations_max", "fidelity", "minimize", desc,
                       "no ordering between time columns or numbers named as bounds")
    # an ordering the synthetic rows never hold both columns of is not kept, nor broken: not judged (a synthetic table
    # whose time columns came out empty passed with 'broken in 0.0% of synthetic rows'); their emptiness is judged by
    # the missing-value metrics
    unchecked = [r["ordering"] for r in found if r["synthetic_rows"] < ORDER_MIN_ROWS]
    found = [r for r in found if r["synthetic_rows"] >= ORDER_MIN_ROWS]
    if not found:
        return skipped("ordering_violations_max", "fidelity", "minimize", desc,
                       f"fewer than {ORDER_MIN_ROWS} synthetic rows hold both columns of any ordering the real rows keep "
                       f"({', '.join(unchecked[:4])}{', ...' if len(unchecked) > 4 else ''})")
    worst = max(found, key=lambda r: r["synthetic"] - r["holdout"])
    note = (f"worst {worst['ordering']}: broken in {worst['synthetic']:.1%} of synthetic rows (real {worst['real']:.1%}, "
            f"holdout {worst['holdout']:.1%})" + (f"; not judged, fewer than {ORDER_MIN_ROWS} synthetic rows holding both: "
                                                  f"{', '.join(unchecked[:4])}" if unchecked else ""))
    return judge("ordering_violations_max", "fidelity", worst["synthetic"], "minimize", desc,
                 threshold=context.config.fidelity.ordering_violations_max, baseline=worst["holdout"], note=note,
                 details={"orderings": sorted(found, key=lambda r: r["holdout"] - r["synthetic"])[:20]})


#: Number columns tried for orderings any two of them keep at most (the fullest first) ...
STRUCTURAL_COLUMNS = 60
#: ... an ordering no row breaks in training and holdout, holding both in this many rows at least (each), ...
STRUCTURAL_MIN_ROWS = 30
#: ... where the two columns' values, paired at random, would break it in this share of the pairs at least (not an
#: ordering that their ranges imply: ages and incomes), and strictly kept in this share of the rows.
STRUCTURAL_SHUFFLED = 0.1
STRUCTURAL_STRICT = 0.05


def _structural_orderings(real: TabularData, known: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Pairs of number columns ``(a, b)`` with ``a <= b`` in every training and holdout row holding both (at least
    :data:`STRUCTURAL_MIN_ROWS` each, strict in :data:`STRUCTURAL_STRICT` of them), which their values paired at random
    would break in :data:`STRUCTURAL_SHUFFLED` of the pairs: a relation of the rows, not of the ranges. Names say
    nothing of them (ebmt4's recovery, adverse-event and relapse times within the survival time, ``srv``; uis's
    treatment length within its follow-up): a data scientist found 50% of synthetic rows breaking one while the
    report skipped the check. The report reads the real tables, so no name is needed."""
    nums = [c for c in real.numeric if c not in real.dates and c != real.target]
    full = {c: pd.to_numeric(real.train[c], errors="coerce").to_numpy(float) for c in nums}
    nums = sorted(nums, key=lambda c: -int(np.isfinite(full[c]).sum()))[:STRUCTURAL_COLUMNS]
    hold = {c: pd.to_numeric(real.holdout[c], errors="coerce").to_numpy(float) for c in nums}
    rng = np.random.default_rng(0)
    out: list[tuple[str, str]] = []
    for a, b in itertools.permutations(nums, 2):
        if (a, b) in known or (b, a) in known:
            continue
        ok = True
        for v in (full, hold):
            both = np.isfinite(v[a]) & np.isfinite(v[b])
            if both.sum() < STRUCTURAL_MIN_ROWS or np.any(v[a][both] > v[b][both]) \
                    or np.mean(v[a][both] < v[b][both]) < STRUCTURAL_STRICT:
                ok = False
                break
        if not ok:
            continue
        x, y = full[a][np.isfinite(full[a])], full[b][np.isfinite(full[b])]
        m = min(x.size, y.size, 2000)
        if np.mean(rng.choice(x, m) > rng.choice(y, m)) >= STRUCTURAL_SHUFFLED:
            out.append((a, b))
    return out


#: Category columns tried as intervals of a number at most (the fewest values first), and numbers tried per column.
INTERVAL_COLUMNS = 40


def _interval_rules(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """Category columns that are intervals of a number in every real training row (:func:`~medsynth.io.rules.intervals`:
    an ICU's age group 1-3 from the age cut at 50 and 70, birthwt's ``low`` from the weight cut at 2500): the worst share
    of synthetic rows (both present) whose category is not the one its number's interval says, beyond the holdout's.
    A model that learns the two apart wrote age 87 in age group 1: no distance shows it."""
    from medsynth.io.rules import intervals

    desc = ("The worst share of synthetic rows (both present) whose category disagrees with the number it is computed "
            "from in every real training row (an age group from the age, a flag from a threshold), beyond the holdout's.")
    nums = [c for c in real.numeric if c not in real.dates]
    cats = sorted(real.categorical, key=lambda c: real.train[c].nunique())[:INTERVAL_COLUMNS]

    def keys(df: pd.DataFrame, c: str) -> pd.Series:
        return df[c].astype(object).where(df[c].notna(), None).map(lambda v: None if v is None else str(v))

    def number(df: pd.DataFrame, c: str) -> np.ndarray:
        return pd.to_numeric(df[c], errors="coerce").to_numpy(float)

    def broken(df: pd.DataFrame, c: str, x: str, cuts: list[float], labels: list[str]) -> tuple[float, int]:
        v, k = number(df, x), keys(df, c).to_numpy(dtype=object)
        both = ~np.isnan(v) & np.array([e is not None for e in k], dtype=bool)
        if not both.any():
            return 0.0, 0
        want = np.asarray(labels, dtype=object)[np.searchsorted(np.asarray(cuts), v[both], side="right")]
        return float(np.mean(k[both] != want)), int(both.sum())

    found = []
    train_nums = {x: number(real.train, x) for x in nums}
    for c in cats:
        k = keys(real.train, c)
        for x in nums:
            rule = intervals(k, train_nums[x])
            if rule is None:
                continue
            syn, ks = broken(synthetic, c, x, *rule)
            hold, _ = broken(real.holdout, c, x, *rule)
            found.append({"rule": f"{c} from {x} cut at {', '.join(f'{e:g}' for e in rule[0])}", "synthetic": syn,
                          "holdout": hold, "synthetic_rows": ks})
            break
    found = [r for r in found if r["synthetic_rows"] >= ORDER_MIN_ROWS]
    if not found:
        return skipped("interval_rule_violations_max", "fidelity", "minimize", desc,
                       "no category column is intervals of a number in every real row")
    worst = max(found, key=lambda r: r["synthetic"] - r["holdout"])
    note = f"worst {worst['rule']}: broken in {worst['synthetic']:.1%} of synthetic rows (holdout {worst['holdout']:.1%})"
    return judge("interval_rule_violations_max", "fidelity", worst["synthetic"], "minimize", desc,
                 threshold=context.config.fidelity.interval_rule_violations_max, baseline=worst["holdout"], note=note,
                 details={"rules": sorted(found, key=lambda r: r["holdout"] - r["synthetic"])[:20]})


def _dummy_groups(real: TabularData) -> list[tuple[str, list[str], bool]]:
    """Families of 0/1 columns named alike but for a trailing number (``edlevel1`` ... ``edlevel4``, ``type1`` ...
    ``type3``) of which at most one is 1 in every real row (train and holdout, all present), then families no name
    marks of which exactly one is 1 in every real row (:func:`~medsynth.io.rules.onehot_groups`: bwght2's ``mwhte``,
    ``mblck``, ``moth``, whose rows summing to 0 or 2 in 4-18% of synthetic rows went unjudged), then pairs never 1
    together where chance would put them together (``EXCLUSIVE_EXPECTED``): (stem, columns, whether exactly one is 1 in
    every such row)."""
    from medsynth.io.rules import onehot_groups
    from medsynth.io.schema import binary_view, digit_families

    out = []
    for stem, cols in digit_families(list(real.types)).items():
        both = pd.concat([real.train[cols], real.holdout[cols]], ignore_index=True).apply(pd.to_numeric, errors="coerce")
        full = both.dropna()
        if len(full) < ORDER_MIN_ROWS or not full.isin([0, 1]).all().all():
            continue
        sums = full.sum(axis=1)
        if (sums <= 1).all():
            out.append((stem, sorted(cols), bool((sums == 1).all())))
    named = {c for _, cols, _ in out for c in cols}
    rows = pd.concat([real.train, real.holdout], ignore_index=True)
    views = {c: binary_view(rows[c]) for c in real.types if c not in named and c in rows}
    flags = [c for c, v in views.items() if not np.isnan(v).any()]
    if flags:
        for cols in onehot_groups(np.column_stack([views[c] for c in flags]), flags):
            out.append(("+".join(cols), cols, True))
    # pairs no name or exact cover marks that are never 1 together where chance would have put them together in
    # EXCLUSIVE_EXPECTED rows or more: fertil1's regions east, northcen, west (south the reference: at most one is 1),
    # broken in 11.7% of the synthetic rows, and the metric passed at 0.0 (a data scientist)
    grouped = {c for _, cols, _ in out for c in cols}
    rest = [c for c in flags if c not in grouped]
    if len(rest) >= 2 and len(rows) >= ORDER_MIN_ROWS:
        b = np.column_stack([views[c] for c in rest]).astype(bool)
        bf = b.astype(np.float64)  # (float: BLAS; exact counts below 2^53, int64 took 80 s on 50,000 x 500)
        co = bf.T @ bf
        expected = len(b) * np.outer(b.mean(axis=0), b.mean(axis=0))
        i, j = np.nonzero(np.triu((co == 0) & (expected >= EXCLUSIVE_EXPECTED), 1))
        for k in np.argsort(-expected[i, j])[:EXCLUSIVE_PAIRS]:
            a, c = rest[i[k]], rest[j[k]]
            out.append((f"{a}+{c}", [a, c], False))
    return out


#: Two 0/1 columns never 1 together in the real rows are a rule where chance would have put them together in this many
#: rows or more (about exp(-15) that it is chance) ...
EXCLUSIVE_EXPECTED = 15.0
#: ... the most expected first, at most this many pairs.
EXCLUSIVE_PAIRS = 50


def _dummies(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """0/1 columns of one family (``edlevel1`` ... ``edlevel4``) of which at most (or exactly) one is 1 in every real
    row: the worst share of synthetic rows (all present) where more than one, or none, is (rwm1984's education
    dummies summed to other than 1 in 17% of synthetic rows, and no metric said so)."""
    desc = ("The worst share of synthetic rows (all present) in which a family of 0/1 columns (edlevel1 ... edlevel4) "
            "breaks what every real row keeps: at most one of them 1, or exactly one.")
    found = []
    for stem, cols, exact in _dummy_groups(real):
        if not set(cols) <= set(synthetic.columns):
            continue
        full = synthetic[cols].apply(pd.to_numeric, errors="coerce").dropna()
        if len(full) < ORDER_MIN_ROWS:
            continue
        sums = full.sum(axis=1)
        bad = (sums != 1) if exact else (sums > 1)
        found.append({"family": f"{stem}: {', '.join(cols)} ({'exactly' if exact else 'at most'} one is 1)",
                      "synthetic": float(bad.mean()), "holdout": 0.0, "synthetic_rows": int(len(full))})
    return _worst_rule("dummy_family_violations_max", found, "family", desc, context,
                       "no family of 0/1 columns of which at most one is 1 in every real row", "of synthetic rows", "families")


#: Category columns of at most this many values are paired (those with the fewest values first, at most
#: ``PAIR_COLUMNS`` of them) ...
PAIR_MAX_VALUES = 30
PAIR_COLUMNS = 80
#: ... and a pair of values no real training row holds is a combination that cannot happen where independence would
#: have given it this many rows.
PAIR_EXPECTED_ROWS = 10.0


def _zero_share(xa: np.ndarray, xb: np.ndarray, zero: np.ndarray) -> tuple[float, int]:
    """Share of the rows holding both values (codes >= 0) whose pair is a cell of ``zero``, and how many rows."""
    ok = (xa >= 0) & (xb >= 0)
    if not ok.any():
        return float("nan"), 0
    return float(zero[xa[ok], xb[ok]].mean()), int(ok.sum())


def _impossible_pairs(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """Pairs of category values no real training row holds together, where chance would have put
    ``PAIR_EXPECTED_ROWS`` rows there: the worst share of synthetic rows holding one (a relation's structural zeros,
    whatever the names), beyond the holdout's. DoctorVisits' ``nchronic`` and ``lchronic`` both yes in 131-182
    synthetic rows, ``private`` with ``freepoor`` in 118-218, adult_services' race dummies, rwm1984's ``edlevel`` against
    ``edlevel1``-``edlevel4``: real none, and the report passed (its dummy families are named by a trailing number)."""
    desc = ("The worst share of synthetic rows holding a pair of category values that no real training row holds "
            f"together although chance would have given {PAIR_EXPECTED_ROWS:g} rows (two yes of exclusive flags, a recoded "
            "column against its source), beyond the holdout's share.")
    cols = sorted((c for c in real.categorical if 2 <= real.train[c].nunique() <= PAIR_MAX_VALUES),
                  key=lambda c: real.train[c].nunique())[:PAIR_COLUMNS]
    n = len(real.train)
    codes, values = {}, {}
    for c in cols:
        k, v = pd.factorize(real.train[c].astype(object).where(real.train[c].notna(), None), use_na_sentinel=True)
        codes[c], values[c] = k, list(v)

    def coded(df: pd.DataFrame, c: str) -> np.ndarray:
        lookup = {str(v): i for i, v in enumerate(values[c])}
        return df[c].map(lambda x: -1 if pd.isna(x) else lookup.get(str(x), -1)).to_numpy(dtype=np.int64)

    found = []
    syn_codes: dict[str, np.ndarray] = {}
    hold_codes: dict[str, np.ndarray] = {}
    for i, a in enumerate(cols):
        ka, na = codes[a], len(values[a])
        for b in cols[i + 1:]:
            kb, nb = codes[b], len(values[b])
            both = (ka >= 0) & (kb >= 0)
            if both.sum() < ORDER_MIN_ROWS:
                continue
            joint = np.bincount(ka[both] * nb + kb[both], minlength=na * nb).reshape(na, nb)
            m = joint.sum()
            expected = np.outer(joint.sum(axis=1), joint.sum(axis=0)) / max(m, 1)
            zero = (joint == 0) & (expected >= PAIR_EXPECTED_ROWS)
            if not zero.any():
                continue
            for df, store in ((synthetic, syn_codes), (real.holdout, hold_codes)):
                for c in (a, b):
                    if c not in store:
                        store[c] = coded(df, c) if c in df.columns else np.full(len(df), -1)
            syn, rows = _zero_share(syn_codes[a], syn_codes[b], zero)
            hold, _ = _zero_share(hold_codes[a], hold_codes[b], zero)
            if rows < ORDER_MIN_ROWS:
                continue
            r, c_ = np.unravel_index(int(np.argmax(np.where(zero, expected, -1))), zero.shape)
            found.append({"pair": f"{a}={values[a][r]!s} with {b}={values[b][c_]!s}"
                                  + (f" (and {int(zero.sum()) - 1} more pair(s) of values)" if zero.sum() > 1 else ""),
                          "synthetic": syn, "holdout": float(np.nan_to_num(hold)), "synthetic_rows": rows,
                          "expected_real_rows": float(expected[r, c_]), "real_rows": n})
    among = (f" (among the {len(cols)} category columns of at most {PAIR_MAX_VALUES} values with the fewest, of "
             f"{sum(1 for c in real.categorical if 2 <= real.train[c].nunique() <= PAIR_MAX_VALUES)})")
    if not found:
        return skipped("impossible_pair_share_max", "fidelity", "minimize", desc,
                       "no pair of category values is missing from the real rows where chance would have put "
                       f"{PAIR_EXPECTED_ROWS:g} rows" + among)
    worst = max(found, key=lambda r: r["synthetic"] - r["holdout"])
    note = (f"worst {worst['pair']}: {worst['synthetic']:.1%} of synthetic rows (no real training row; "
            f"{worst['expected_real_rows']:.0f} by chance; holdout {worst['holdout']:.1%})")
    return judge("impossible_pair_share_max", "fidelity", worst["synthetic"], "minimize", desc,
                 threshold=context.config.fidelity.impossible_pair_share_max, baseline=worst["holdout"], note=note,
                 details={"pairs": sorted(found, key=lambda r: r["holdout"] - r["synthetic"])[:20]})


def _worst_rule(name: str, found: list[dict[str, Any]], what: str, desc: str, context: TabularContext, none: str,
                rows: str, key: str) -> MetricResult:
    """A rule metric every real row keeps (baseline 0) judged on its worst rule ``found`` (``what``: the key naming it,
    ``rows``: what its share is of), or skipped saying ``none``; the details list the worst twenty under ``key``."""
    if not found:
        return skipped(name, "fidelity", "minimize", desc, none)
    worst = max(found, key=lambda r: r["synthetic"])
    return judge(name, "fidelity", worst["synthetic"], "minimize", desc, threshold=getattr(context.config.fidelity, name),
                 baseline=0.0, note=f"worst {worst[what]}: broken in {worst['synthetic']:.1%} {rows}",
                 details={key: sorted(found, key=lambda r: -r["synthetic"])[:20]})


#: A category value is tried as the condition of a column's missingness where it holds at least this share of the rows
#: (train and holdout each) ...
MISSING_RULE_SHARE = 0.05
#: ... among the category columns with the fewest values, at most this many (a wide table's 27th yes/no column held
#: labor_market_discrimination's rule, school_req present exactly where educ_req is 1, and the metric said no rule held).
MISSING_RULE_COLUMNS = 200


def _missing_rules(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> MetricResult:
    """A column present exactly where a category column holds a value, in every real row (train and holdout): a number
    of cigarettes where ``smoke`` is Yes, a year of death where ``death`` is 1. The worst share of synthetic rows holding
    that value, or the column, that break it (present without the value, missing with it). smoking's synthetic rows had
    a smoker without an amount in 3.8% of rows, nhefs' a death year without a death in 5.4%, and the missingness
    metrics (patterns, rates) passed."""
    desc = ("The worst share of synthetic rows breaking a rule every real row keeps: a column present exactly where a "
            "category column holds one value (an amount smoked where smoke is Yes, a year of death where death is 1).")
    every = sorted((c for c in real.categorical if real.train[c].notna().all()), key=lambda c: real.train[c].nunique())
    cats = every[:MISSING_RULE_COLUMNS]
    among = (f" (among the {MISSING_RULE_COLUMNS} category columns with the fewest values, of {len(every)})"
             if len(every) > MISSING_RULE_COLUMNS else "")
    from medsynth.io.schema import category_key

    def keyed(x: pd.Series) -> pd.Series:  # (1 and 1.0 alike: a synthetic column with missing values is float)
        return x.map(lambda z: "" if pd.isna(z) else category_key(z))

    both = pd.concat([real.train, real.holdout], ignore_index=True)
    by_presence: dict[bytes, list[str]] = {}  # (columns by where they are present: one lookup per category value)
    for x in real.columns:
        present = both[x].notna().to_numpy()
        if 0 < present.sum() < len(present):
            by_presence.setdefault(present.tobytes(), []).append(x)
    found = []
    for c in cats:
        k = keyed(both[c])
        for v, share in k.value_counts(normalize=True).items():
            if not v or share < MISSING_RULE_SHARE or (keyed(real.train[c]) == v).mean() < MISSING_RULE_SHARE:
                continue
            for x in by_presence.get((k == v).to_numpy().tobytes(), []):
                if x == c or c not in synthetic.columns or x not in synthetic.columns:
                    continue
                s_on = (keyed(synthetic[c]) == v).to_numpy()
                s_present = synthetic[x].notna().to_numpy()
                held = s_on | s_present
                if held.sum() < ORDER_MIN_ROWS:
                    continue
                found.append({"rule": f"'{x}' present exactly where {c} = {v}", "synthetic": float(np.mean(
                    s_on[held] != s_present[held])), "synthetic_rows": int(held.sum())})
    return _worst_rule("missing_rule_violations_max", found, "rule", desc, context,
                       "no column is present exactly where a category column holds one value in every real row" + among,
                       "of the synthetic rows holding either", "rules")


#: Values beyond an end of the real range by less than this share of its width are not outside (rounding: a synthetic
#: age 0.1875 against a real minimum of 0.19 failed a report with 24% of values "outside").
RANGE_TOLERANCE = 0.01
#: Values beyond an end of the real range by more than this share of its width are far outside (an age of 254 on a
#: range of 24-95) ...
FAR_SHARE = 0.5
#: ... and a column with more than this share of its synthetic values far outside (beyond the holdout's) fails the
#: metric whatever its share outside (96 ages over 100 of 2,982 rows, 3%, were only a review).
FAR_ROWS = 0.005
#: A column none of whose real values is negative with more than this share of negative synthetic values (beyond the
#: holdout's) is at least a review, whatever its share outside: a DP fit's 50 ages of -1 months (1.998%, under the 2%
#: review limit) passed.
SIGN_ROWS = 0.001


def _outside(x: np.ndarray, lo: float, hi: float, *, far: bool = False) -> float:
    """The share of ``x`` outside ``[lo, hi]`` by more than the tolerance (a share of the width); a zero or a negative
    value is outside a range of positive values whatever the tolerance (injury's weeks off work, 0.25-182, written 0 in
    8.9% of the synthetic rows, were within 1% of the width of the real minimum and reported 0% outside)."""
    width = max(hi - lo, 0.0)
    tol = max(1e-9 * max(abs(lo), abs(hi), 1.0), (FAR_SHARE if far else RANGE_TOLERANCE) * width)
    out = (x < lo - tol) | (x > hi + tol)
    if lo > 0 and not far:
        out |= x <= 0
    return float(np.mean(out)) if x.size else 0.0


def _ranges_and_whole_numbers(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> list[MetricResult]:
    """Two things an analyst sees at once in a number column and a distance hides: values past the real range (the
    Kolmogorov-Smirnov statistic of a humidity column with a tenth of its values above 100% is 0.1, like any small
    shift) and whole numbers written with fractions (an age of 44.6)."""
    ranges, whole, fractional = [], 0, []
    with_fractions, made_whole = 0, []  # columns with fractions, and those written as whole numbers only
    for c in real.numeric:
        tr = pd.to_numeric(real.train[c], errors="coerce").dropna().to_numpy(float)
        ho = pd.to_numeric(real.holdout[c], errors="coerce").dropna().to_numpy(float)
        sy = pd.to_numeric(synthetic[c], errors="coerce").dropna().to_numpy(float)
        tr, ho, sy = tr[np.isfinite(tr)], ho[np.isfinite(ho)], sy[np.isfinite(sy)]
        if tr.size < 2 or sy.size == 0:
            continue
        lo, hi = float(tr.min()), float(tr.max())
        public = context.public_bounds.get(str(c))
        if public is not None:  # (a declared public range is plausible by the user's own dictionary: the demo's length
            lo, hi = min(lo, public[0]), max(hi, public[1])  # of stay written up to 59 of the public 1-60, real 44, flipped
            # its report between PASS and REVIEW from fit to fit)
        ranges.append({"column": c, "synthetic": _outside(sy, lo, hi), "holdout": _outside(ho, lo, hi),
                       "holdout_outside_synthetic": _outside(ho, float(sy.min()), float(sy.max())),
                       "synthetic_far": _outside(sy, lo, hi, far=True), "holdout_far": _outside(ho, lo, hi, far=True),
                       "synthetic_negative": float(np.mean(sy < 0)) if lo >= 0 else 0.0,
                       "holdout_negative": float(np.mean(ho < 0)) if lo >= 0 and ho.size else 0.0,
                       "real_range": [lo, hi], "synthetic_range": [float(sy.min()), float(sy.max())],
                       # (a new value falls outside the range of n draws of its own distribution with chance 2 / (n + 1):
                       # a real half of 20 patients against the other failed on one infant; 0.1% of 2,000 rows)
                       "outside_by_chance": 2.0 / (sy.size + 1)})
        if c not in real.dates and tr.size >= 20 and np.all(tr == np.round(tr)) and np.all(ho == np.round(ho)):
            whole += 1  # (a date's days with a time are another format, not fractions)
            frac = np.abs(sy - np.round(sy)) > 1e-6 * np.maximum(np.abs(sy), 1.0)
            share = float(np.mean(frac))
            if share > 0.01:
                fractional.append({"column": c, "share_with_fractions": share, "examples": [float(v) for v in sy[frac][:3]]})
        elif c not in real.dates and tr.size >= 20 and sy.size >= 20:
            real_frac = float(np.mean(np.abs(tr - np.round(tr)) > 1e-9 * np.maximum(np.abs(tr), 1.0)))
            if real_frac >= FRACTION_SHARE:
                with_fractions += 1
                if np.all(sy == np.round(sy)):
                    made_whole.append({"column": c, "real_share_with_fractions": real_frac,
                                       "examples": [float(v) for v in tr[tr != np.round(tr)][:3]]})
    out = []
    th = context.config.fidelity
    desc_r = ("The worst number column's share of synthetic values outside the range of the real training values "
              "(beyond the holdout's share; by more than 1% of its width): values no real row comes near, such as "
              "humidity above 100% (a range a medsynth schema declares public counts as real). More than 0.5% of a "
              "column's values beyond the range by over half its width fail; more "
              "than 0.1% negative where no real value is are at least a review.")
    if ranges:
        k = int(np.argmax([r["synthetic"] - r["holdout"] for r in ranges]))
        r = ranges[k]
        def show(v: float, column: str | None = None) -> str:  # a date column is compared in days since 1970-01-01:
            dated = (r["column"] if column is None else column) in real.dates  # shown as dates (udca's ranges were
            return str((pd.Timestamp(0) + pd.Timedelta(days=v)).date()) if dated else f"{v:.6g}"  # "[7372, 9449]")

        real_word = "real or declared public" if str(r["column"]) in context.public_bounds else "real"
        note = (f"worst column {r['column']!r}: {r['synthetic']:.1%} of synthetic values outside the {real_word} range "
                f"[{show(r['real_range'][0])}, {show(r['real_range'][1])}] (synthetic [{show(r['synthetic_range'][0])}, "
                f"{show(r['synthetic_range'][1])}]; holdout {r['holdout']:.1%})")
        out.append(judge("values_outside_real_range_max", "fidelity", r["synthetic"], "minimize", desc_r,
                         threshold=th.values_outside_real_range_max, baseline=r["holdout"], note=note,
                         details={"columns": sorted(ranges, key=lambda x: x["holdout"] - x["synthetic"])[:20]}))
        far = max(ranges, key=lambda x: x["synthetic_far"] - x["holdout_far"])
        if far["synthetic_far"] - far["holdout_far"] > FAR_ROWS:  # values no real row comes near: fail, not review
            out[-1].verdict = "fail"
            lo, hi = far["real_range"]
            fc = far["column"]
            out[-1].note = (f"{far['synthetic_far']:.1%} of synthetic {fc!r} lie beyond the real range "
                            f"[{show(lo, fc)}, {show(hi, fc)}] by more than half its width (synthetic "
                            f"[{show(far['synthetic_range'][0], fc)}, {show(far['synthetic_range'][1], fc)}]); " + note)
        neg = max(ranges, key=lambda x: x["synthetic_negative"] - x["holdout_negative"])
        if out[-1].verdict == "pass" and neg["synthetic_negative"] - neg["holdout_negative"] > SIGN_ROWS:
            out[-1].verdict = "review"  # (a sign no real value has: an age or a count below zero)
            out[-1].note = (f"{neg['synthetic_negative']:.2%} of synthetic {neg['column']!r} are negative, where no real "
                            "value is; " + note)
    else:
        out.append(skipped("values_outside_real_range_max", "fidelity", "minimize", desc_r, "no number column"))
    desc_c = ("The worst number column's share of real holdout values outside the range of the synthetic values (by "
              "more than 1% of the width), beyond their share outside the training range and the share a sample of the "
              "synthetic table's size leaves out by chance, 2 / (n + 1): real patients the synthetic table leaves out, "
              "such as the oldest ages or the largest counts clipped off.")
    if ranges:
        c = max(ranges, key=lambda x: x["holdout_outside_synthetic"] - x["holdout"] - x["outside_by_chance"])
        cc = c["column"]
        note = (f"worst column {cc!r}: {c['holdout_outside_synthetic']:.1%} of real holdout values outside the "
                f"synthetic range [{show(c['synthetic_range'][0], cc)}, {show(c['synthetic_range'][1], cc)}] (real "
                f"[{show(c['real_range'][0], cc)}, {show(c['real_range'][1], cc)}]; outside the training range "
                f"{c['holdout']:.1%})")
        out.append(judge("real_values_outside_synthetic_range_max", "fidelity", c["holdout_outside_synthetic"], "minimize",
                         desc_c, threshold=th.real_values_outside_synthetic_range_max,
                         baseline=c["holdout"] + c["outside_by_chance"], note=note))
    else:
        out.append(skipped("real_values_outside_synthetic_range_max", "fidelity", "minimize", desc_c, "no number column"))
    desc_w = ("Share of the whole-number columns (every real value whole) whose synthetic values have fractions in "
              "more than 1% of rows.")
    if whole:
        note = ("e.g. " + ", ".join(f"{f['column']!r} {f['examples'][0]:g} ({f['share_with_fractions']:.0%} of values)"
                                    for f in fractional[:3])) if fractional else ""
        out.append(judge("whole_number_columns_with_fractions", "fidelity", len(fractional) / whole, "minimize", desc_w,
                         threshold=th.whole_number_columns_with_fractions, baseline=0.0, note=note,
                         details={"whole_number_columns": whole, "with_fractions": fractional}))
    else:
        out.append(skipped("whole_number_columns_with_fractions", "fidelity", "minimize", desc_w,
                           "no number column holds whole numbers only"))
    desc_f = (f"Share of the number columns with fractions (in at least {FRACTION_SHARE:.0%} of the real values) whose "
              "synthetic values are all whole numbers.")
    if with_fractions:
        note = ("e.g. " + ", ".join(f"{f['column']!r} (real {f['examples'][0]:g}; {f['real_share_with_fractions']:.0%} "
                                    "of real values have fractions)" for f in made_whole[:3])) if made_whole else ""
        out.append(judge("fraction_columns_written_whole", "fidelity", len(made_whole) / with_fractions, "minimize",
                         desc_f, threshold=th.fraction_columns_written_whole, baseline=0.0, note=note,
                         details={"columns_with_fractions": with_fractions, "written_whole": made_whole}))
    else:
        out.append(skipped("fraction_columns_written_whole", "fidelity", "minimize", desc_f,
                           "no number column has fractions in a tenth of its values"))
    return out


def value_checks(real: TabularData, synthetic: pd.DataFrame, context: TabularContext) -> list[MetricResult]:
    """Every check of this module, in report order (after ``marginal_distance_max`` and ``columns_of_another_type``)."""
    return [
        _collapsed_columns(real, synthetic, context),
        *_ranges_and_whole_numbers(real, synthetic, context),
        _unseen_categories(real, synthetic, context),
        _off_real_values(real, synthetic, context),
        _lost_categories(real, synthetic, context),
        _orderings(real, synthetic, context),
        _interval_rules(real, synthetic, context),
        _dummies(real, synthetic, context),
        _impossible_pairs(real, synthetic, context),
        _missing_rules(real, synthetic, context),
    ]
