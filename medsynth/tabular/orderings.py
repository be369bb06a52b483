"""Orderings and differences between time columns that a DP fit finds on its own: tested with DP, then kept.

``schema infer`` proposes the rules that hold in every row (``diagdate <= recdate``, ``survtime = deathdate -
diagdate``), but a DP fit cannot use them until the user accepts them as public (:mod:`medsynth.tabular.rules`):
which pairs hold in *every* row is a fact about every row. On the zero-configuration path nobody accepts them, and
the model, which sees two dates through a coarse 2-way marginal, wrote death before recurrence in 40% of
lymph_node's rows. This module tests them with DP instead, from candidates that depend only on DP outputs and public
names (``privacy.orderings``):

- **Candidates**, once the fit has decided types and domains with DP: the columns it made dates, and the number
  columns named like a time (:func:`~medsynth.io.dataset_infer.time_point_named`: ``tstart``, ``rectime``, ``entry``),
  at most :data:`MAX_COLUMNS`, each modelled; every pair of one kind (dates with dates, numbers with numbers) that no
  accepted rule already transforms; and pairs of numbers whose names say one is at most the other
  (:func:`~medsynth.io.schema.bound_pairs`: ``heart_rate_min``/``heart_rate_max``, ``open_credit_lines``/
  ``total_credit_lines``), at most :data:`MAX_NAMED_PAIRS`.
- **Measurement**: for each pair ``{a, b}``, one noisy histogram of :data:`CELLS` (``a < b``, ``a > b``, equal, only
  ``a``, only ``b``; a row falls in one cell of each pair, so the L2 sensitivity of all pairs together is
  ``sqrt(pairs)``), :data:`ORDER_SHARE` of the fit's rho per pair, at most :data:`MAX_SHARE` (charged to the ledger,
  out of the model's budget).
- **Decision** (post-processing, :func:`decide`): ``a <= b`` is kept where the rows following it stand
  :data:`MIN_SIGMAS` deviations above zero (strictly, :data:`STRICT_SIGMAS`) and the rows breaking it are at most
  :data:`KEEP_SHARE` of the rows holding both plus :data:`KEEP_SIGMAS` deviations, never more than
  :data:`MAX_BREAK_SHARE`. It is kept as a gap (``b`` modelled as ``b - a``, at least 0, on the range the two DP
  ranges give: :func:`gap_columns`) where ``b`` is rarely present without ``a`` (:data:`ALONE_SIGMAS`), else, and in
  any case too, by drawing again the sampled rows that break it (the sample conditioned on it: AIDS before death,
  where most deaths come without AIDS). Of ``a <= m <= b`` only the two steps become gaps (a transitive reduction:
  gaps from the chain's first column and clips, :func:`~medsynth.tabular.rules.plan_rules`).
- **Differences** (:func:`tested_differences`): a number named like a time that equals ``b - a`` of a kept ordering
  in nearly every row holding the three (lymph_node's ``survtime``) is computed from them, not modelled.

What is kept is a DP output: ``meta.json`` (``rules_tested``, ``derived_tested``, the rule plan) and the ledger's
notes. A real row that breaks a kept gap (at most :data:`MAX_BREAK_SHARE` of them) is brought onto it (``b = a``)
before the model measures, as for an accepted rule. A folder's DP fit tests each table on one row per patient
(sensitivity 1, as its domains) and keeps orderings by the redraws it keeps accepted rules by.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from medsynth.io.dataset_infer import _name_words, event_times, time_point_named, year_named
from medsynth.io.rules import _days_or_numbers, reduce_transitive, round_cut
from medsynth.io.schema import BOUND_RANKS, TOTAL_WORDS, age_pair, bound_pairs
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.mechanisms import gaussian_sigma
from medsynth.tabular.rules import RulePlan, end_atoms, gap_top, gap_type, lower_bound, plan_rules, upper_bound
from medsynth.tabular.schema import ColumnSchema, Constraint, TableSchema

#: Share of the fit's rho spent per tested pair ...
ORDER_SHARE = 0.02
#: ... and at most this share in all (so the noise grows with the square root of the pairs beyond 2-3 of them) ...
MAX_SHARE = 0.05
#: ... and at most this share of what the fit's budget has left when a test runs (a single table's: a domain budget
#: of 0.9 whose counts went past their plan left the rules' test more than the rest, and the fit refused: an adversary).
LEFT_SHARE = 0.25
#: Time columns tested at most (28 pairs): dates first, then numbers, each in the table's order.
MAX_COLUMNS = 8
#: An ordering is kept where the rows breaking it, and the rows holding its later column without its earlier one, are
#: each at most this share of the rows holding both ...
KEEP_SHARE = 0.02
#: ... plus this many noise deviations: at 1, an ordering every row of lymph_node (686 rows, 4 pairs, noise 36)
#: follows was dropped in about one fit in six, and the model then wrote death before recurrence in 35% of the rows.
#: Pairs without an order (each way in about half the rows) never pass.
KEEP_SIGMAS = 2.0
#: ... and never more than this share of the rows holding both (noisy counts): on 300 rows the noise alone let an
#: ordering that a quarter of the rows break pass in 43% of fits (review; now 8%). Half a deviation below it, 4%, but
#: one no row breaks was dropped in 22% of lymph_node's fits (515 rows, noise 41: recurrence before diagnosis in 55% of
#: that fit's rows): a dropped ordering is the worse mistake (the model then breaks it in a third to a half of the
#: rows; a kept one that a tenth of the real rows break only ties those rows).
MAX_BREAK_SHARE = 0.1
#: ... and where the rows following it (ties too) stand this many noise deviations above zero (enough rows to judge)
MIN_SIGMAS = 5.0
#: ... of which those following it strictly this many, and more than those breaking it (which way it goes: lymph_node's
#: recurrence equals death, the last follow-up, in 62% of the rows; at 5 here, 515 rows failed it in about half the
#: fits; at 3, mgus2's ptime <= futime, strict in 82 of 1,107 rows and tied in the rest, was dropped in 6 fits of 10 and
#: the model then put progression after the last follow-up in 40-64% of the rows).
STRICT_SIGMAS = 2.0
#: The later column is modelled as a gap from the earlier one where the rows holding it alone are at most
#: ``KEEP_SHARE`` of the rows holding both plus this many noise deviations: at 2, a follow-up always present, gapped
#: from a remission day missing in 28% of myeloid's rows (484), came out missing there in one fit of a few; at 0, a
#: stay's discharge always present with its admission was redrawn instead in one fit of six (its length, from the
#: model's coarse joint of the two dates, then had a median of 100 days against 30).
ALONE_SIGMAS = 1.0
#: Pairs of numbers named as bounds or parts of a total tested at most (beside the time columns' pairs).
MAX_NAMED_PAIRS = 16
#: The cells of a pair's histogram.
CELLS = ("lt", "gt", "eq", "a_only", "b_only")


def _test_rho(share: float, rho_total: float, ledger: PrivacyLedger) -> float:
    """A rules' test's rho: ``share`` of ``rho_total``, at most :data:`LEFT_SHARE` of what a fit's ledger has left."""
    rho = share * rho_total
    if isinstance(ledger, PrivacyLedger):
        rho = min(rho, LEFT_SHARE * ledger.rho_remaining())
    return rho


def candidate_columns(schema: TableSchema, *, taken: set[str]) -> list[str]:
    """The columns whose orderings a DP fit tests: dates (by the DP type decision or a public type), then whole or
    real numbers named like a time, modelled (not omitted), not transformed by a rule already (``taken``), at most
    :data:`MAX_COLUMNS` (a target too: a name like ``death`` may be aids2's date of death)."""
    usable = [c for c in schema.columns if not c.omitted and c.name not in taken and c.has_domain]
    dates = [c.name for c in usable if c.type == "datetime"]
    events = event_times([c.name for c in schema.columns])  # (beside a status column: ebmt4's rec / rec.s)
    nums = [c.name for c in usable if c.type in ("integer", "continuous")]
    numbers = [n for n in nums if time_point_named(n)] + [n for n in nums if n in events and not time_point_named(n)]
    return (dates + numbers)[:MAX_COLUMNS]


def candidate_pairs(schema: TableSchema, columns: list[str], *, taken: set[str] = frozenset(),
                    ranges: bool = True) -> list[tuple[str, str]]:
    """Pairs of candidate columns of one kind: dates with dates, numbers with numbers (whole or not: a follow-up in
    whole days beside a transplant day DP left real; calendar years by name with calendar years only); then pairs of numbers whose names say one is at most the other
    (:func:`~medsynth.io.schema.bound_pairs`: a vital sign's lowest and highest, a part and its total; at most
    :data:`MAX_NAMED_PAIRS`, modelled, not ``taken``)."""
    kind = {c.name: "date" if c.type == "datetime" else "number" for c in schema.columns}
    # (a calendar year and a day count are no pair: survival's transplant tested futime <= year, kept it, and modelled
    # the listing year as follow-up days plus a gap, years 12-2047 in 9 fits of 9)
    pairs = [(a, b) for a, b in itertools.combinations(columns, 2) if kind[a] == kind[b]
             and (kind[a] == "date" or year_named(a) == year_named(b))]
    usable = [c.name for c in schema.columns if not c.omitted and c.name not in taken and c.has_domain
              and c.type in ("integer", "continuous")]
    seen = {frozenset(p) for p in pairs}
    named = [p for p in bound_pairs(usable) if frozenset(p) not in seen][:MAX_NAMED_PAIRS]
    seen |= {frozenset(p) for p in named}
    return pairs + named + (range_pairs(schema, taken=taken, seen=seen) if ranges else [])


#: Pairs of numbers that no name marks as times, tested on their DP ranges alone, at most: numbers far from zero (the
#: range's low end at least :data:`RANGE_LOW`: days counted from an epoch, a date written as YYYYMMDD, amounts of
#: money; not a vital sign or a lab) whose ranges overlap on at least :data:`RANGE_OVERLAP` of the narrower one.
#: MASS::Aids2's ``diag`` and ``death`` (days since 1960, 8,302-11,504), ordered in every real row and named like no
#: time, were never tested, and every DP fit wrote deaths before the diagnosis (5.6-15% of the rows at epsilon 1, 11% at
#: 10; a data scientist). A first version took any range whose low end was half its width: a vitals table's age and
#: weight, sbp and sodium were tested, and the share of the budget the real pairs' test had rose to the cap (a reviewer).
MAX_RANGE_PAIRS = 4
RANGE_LOW = 1000.0
RANGE_OVERLAP = 0.5
#: Such a pair, which no name or type says is ordered, is kept where at most this share of the rows holding both break
#: it (MAX_BREAK_SHARE for the others): modeldata's cells, a volume against an intensity of 10^3-10^6, broken by 11.6%
#: of the real rows, was kept in 2 fits of 4 at epsilon 1 and every synthetic row made to follow it (a data scientist).
RANGE_BREAK_SHARE = 0.05


def range_pairs(schema: TableSchema, *, taken: set[str] = frozenset(),
                seen: set[frozenset[str]] = frozenset()) -> list[tuple[str, str]]:
    """Pairs of numbers to test for an ordering by their ranges (see :data:`MAX_RANGE_PAIRS`), not
    among ``seen`` (pairs tested already), the most overlapping first (ties in the table's order): post-processing of a
    DP fit's released ranges (or of public ones), no data read. Calendar years pair with calendar years only."""
    spans = []
    for c in schema.columns:
        if c.omitted or c.name in taken or not c.has_domain or c.type not in ("integer", "continuous") \
                or c.min is None or c.max is None:
            continue
        lo, hi = (float(v) for v in c.bounds())
        if hi > lo >= RANGE_LOW:
            spans.append((c.name, lo, hi))
    scored = []
    for (a, lo_a, hi_a), (b, lo_b, hi_b) in itertools.combinations(spans, 2):
        share = (min(hi_a, hi_b) - max(lo_a, lo_b)) / min(hi_a - lo_a, hi_b - lo_b)
        if share >= RANGE_OVERLAP and year_named(a) == year_named(b) and frozenset((a, b)) not in seen:
            scored.append((-share, a, b))
    return [(a, b) for _, a, b in sorted(scored, key=lambda t: t[0])[:MAX_RANGE_PAIRS]]


def pair_histogram(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The exact counts of :data:`CELLS` for values ``x`` of ``a`` and ``y`` of ``b`` (NaN: missing)."""
    hx, hy = ~np.isnan(x), ~np.isnan(y)
    both = hx & hy
    return np.array([np.sum(both & (x < y)), np.sum(both & (x > y)), np.sum(both & (x == y)),
                     np.sum(hx & ~hy), np.sum(~hx & hy)], dtype=float)


def break_limit(both: float, sigma: float, cap: float = MAX_BREAK_SHARE) -> float:
    """The noisy count of rows breaking an ordering that :func:`decide` still keeps it at (rows holding both: ``both``;
    ``cap``: its most, as a share of them)."""
    return min(KEEP_SHARE * both + KEEP_SIGMAS * sigma, cap * both)


def decide(noisy: np.ndarray, sigma: float, cap: float = MAX_BREAK_SHARE) -> tuple[int, bool]:
    """From one pair's noisy histogram: (1 to keep ``a <= b``, -1 to keep ``b <= a``, 0 for neither; whether the
    later column is rarely held without the earlier one, so that it can be modelled as its gap from it). ``cap``: the
    most breaking rows it keeps an ordering at, as a share of the rows holding both (:func:`break_limit`)."""
    lt, gt, eq, a_only, b_only = noisy
    both = max(lt + gt + eq, 0.0)
    limit = break_limit(both, sigma, cap)
    alone = KEEP_SHARE * both + ALONE_SIGMAS * sigma  # (a gap writes b missing wherever a is)
    if lt >= STRICT_SIGMAS * sigma and lt > gt and lt + eq >= MIN_SIGMAS * sigma and gt <= limit:
        return 1, bool(b_only <= alone)
    if gt >= STRICT_SIGMAS * sigma and gt > lt and gt + eq >= MIN_SIGMAS * sigma and lt <= limit:
        return -1, bool(a_only <= alone)
    return 0, False


class Kept(NamedTuple):
    """The orderings a DP test kept: ``gapped`` (the later column can be its gap from the earlier one; transitively
    reduced; of a column's sources, the one it equals most often by the noisy counts first), ``redrawn`` (kept by
    redrawing sampled rows), ``held``: every kept pair ``(a, b)``, unreduced, and ``tied``: the kept pairs whose columns
    are equal in at least :data:`TIE_SHARE` of the rows holding both (by the noisy counts, standing :data:`MIN_SIGMAS`
    deviations above none): ``b`` gapped from ``a`` itself, its gap's 0 an atom."""

    gapped: list[Constraint]
    redrawn: list[Constraint]
    held: list[tuple[str, str]]
    tied: frozenset[tuple[str, str]] = frozenset()


#: An ordering ``a <= b`` whose columns are equal (by the test's noisy counts) in at least this share of the rows holding
#: both has ``b`` gapped from ``a`` itself, not from the root of ``a``'s chain, and its gap's 0 an atom (a cell of its
#: own, written as exactly 0): a relapse-free and an overall survival time censored on one day (mstate::ebmt4: rel == srv
#: in 85% of the rows, 0-0.7% of the synthetic ones in 3 of 4 fits at epsilon 1, srv gapped from the chain's first time
#: and rel clipped to it). Not on fewer: the 2-way marginals' noise fills an atom's cell (MASS::Aids2's diagnosis and
#: death on one day, 1% of the rows, came out 5-9% with an atom, 2-3% without; lymph_node's none, up to 16% on every gap).
TIE_SHARE = 0.25


def tested_orderings(df: pd.DataFrame, schema: TableSchema, *, taken: set[str], ledger: PrivacyLedger,
                     rng: np.random.Generator, reduce: bool = True) -> Kept:
    """Test the candidate orderings with DP (one Gaussian release, charged to ``ledger``) and return the ones kept as
    ``le`` rules (``read_from_data: false``: DP outputs, :class:`Kept`): those whose later column can be modelled as its
    gap from the earlier one, transitively reduced; the others, whose later column is often held without the earlier
    one, kept by redrawing rows. ``reduce``: drop the gapped ``a <= b`` implied by ``a <= m <= b`` (not where every rule is
    checked on its own: a folder's redraws). Nothing is measured (or spent) without a candidate pair."""
    columns = candidate_columns(schema, taken=taken)
    pairs = candidate_pairs(schema, columns, taken=taken, ranges=False)
    by_range = range_pairs(schema, taken=taken, seen={frozenset(p) for p in pairs})  # (last, as candidate_pairs adds them)
    pairs += by_range
    if not pairs:
        return Kept([], [], [])
    share = min(MAX_SHARE, ORDER_SHARE * len(pairs))
    rho = _test_rho(share, ledger.rho_budget, ledger)
    sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(pairs)))
    cols = {c.name: c for c in schema.columns}
    values = {n: _days_or_numbers(cols[n], df[n]) for n in {n for p in pairs for n in p}}
    gapped: list[tuple[str, str]] = []
    redrawn: list[tuple[str, str]] = []
    tolerated: dict[tuple[str, str], float] = {}  # (the share of breaking rows the test could not tell from none)
    ties: dict[tuple[str, str], float] = {}  # (the noisy share of rows where the two are equal)
    for a, b in pairs:
        noisy = pair_histogram(values[a], values[b]) + rng.normal(0.0, sigma, size=len(CELLS))
        cap = RANGE_BREAK_SHARE if (a, b) in by_range else MAX_BREAK_SHARE
        way, gapable = decide(noisy, sigma, cap)
        if way:  # (a gap has its later column's type: numbers of two types are kept by redrawing)
            pair = (a, b) if way > 0 else (b, a)
            (gapped if gapable and cols[a].type == cols[b].type else redrawn).append(pair)
            both = max(float(noisy[:3].sum()), 1.0)
            tolerated[pair] = break_limit(both, sigma, cap) / both
            ties[pair] = float(noisy[2]) / both if noisy[2] >= MIN_SIGMAS * sigma else 0.0
    held = [*gapped, *redrawn]
    # a chain a <= m <= b is modelled from its first column (a <= b holds where m is missing too); of a column's
    # sources, the one it most often equals first (the rule plan gaps it from its first)
    gapped = sorted(reduce_transitive(gapped) if reduce else gapped, key=lambda p: -ties[p])
    # the pairs tested (public: from names and types) that the test kept neither way: a DP output the fit's warning
    # names (udca's entry.dt <= last.dt, 128 rows at epsilon 1, went unkept with no word of it but in private/fit.json)
    unconfirmed = [[a, b] for a, b in pairs if (a, b) not in held and (b, a) not in held]
    ledger.record("orderings between time columns, numbers named as bounds or a total, and numbers far from zero whose "
                  "ranges overlap (which hold)",
                  "Gaussian mechanism (zCDP)", rho=rho, sigma=sigma,
                  columns=sorted(values), pairs=len(pairs), orderings_unconfirmed=unconfirmed,
                  released="the orderings kept (meta.json rules_tested) and those whose columns are often equal (a gap "
                           "from that source, 0 an atom of it: the model schema and meta.json rules)")
    for a, b in [*gapped, *redrawn]:
        # (ebmt4: recae <= rel, broken by 11% of the real rows, was kept at this budget and said held; the note now
        # says how many breaking rows the test could not tell from none)
        ledger.notes.append(f"rule le [{a}, {b}] kept by a DP test: at this budget it cannot tell up to about "
                            f"{tolerated[(a, b)]:.0%} of the rows holding both breaking it from none (by noisy counts); "
                            f"no synthetic row breaks it ('{b}' modelled as a gap where it can be, and sampled rows that "
                            "break it drawn again): declare the rule in the schema where it holds by definition, or give "
                            "a larger epsilon to test it more finely")
    # (public: false, read_from_data: false: DP outputs, neither a public assumption nor a fact read from every row;
    # a folder's root interval is still decided by its own measurement, not taken from them as from a declared rule)
    return Kept([Constraint(kind="le", columns=[a, b], public=False, read_from_data=False) for a, b in gapped],
                [Constraint(kind="le", columns=[a, b], public=False, read_from_data=False) for a, b in redrawn], held,
                frozenset(p for p, v in ties.items() if v >= TIE_SHARE))


def _duration_named(name: str) -> bool:
    """A name saying a length of time (``survtime``, ``time``, ``los``, ``duration``, ``futime``): of the columns of
    a difference, the one computed."""
    return any(w.endswith("time") or w.startswith(("dur", "los", "length", "surv")) for w in _name_words(name))


#: The cells of a difference's histogram: c equals b - a (within half a unit: a day for dates), c differs, c present
#: where a source is missing, c missing where both sources are present.
DIFF_CELLS = ("equal", "differs", "c_alone", "c_missing")


def difference_histogram(c: np.ndarray, b: np.ndarray, a: np.ndarray, *, exact: bool = False) -> np.ndarray:
    """The exact counts of :data:`DIFF_CELLS` for values of ``c``, ``b`` and ``a`` (NaN: missing): ``c`` equals
    ``b - a`` within half a unit (days, whole numbers), or with ``exact`` within float rounding (review: a pH change of
    a few hundredths lies within half a unit of anything, and a signed change was computed as max - min)."""
    hc, hs = ~np.isnan(c), ~(np.isnan(a) | np.isnan(b))
    with np.errstate(invalid="ignore"):
        tol = 1e-6 * (np.abs(a) + np.abs(b) + np.abs(c) + 1.0) if exact else 0.5
        eq = hc & hs & (np.abs(c - (b - a)) <= tol)
    return np.array([np.sum(eq), np.sum(hc & hs & ~eq), np.sum(hc & ~hs), np.sum(~hc & hs)], dtype=float)


#: Words that name a difference of two columns of one measure (``temp_change``, ``bp_range``, ``hr_diff``).
DIFFERENCE_WORDS = frozenset({"change", "diff", "difference", "range", "delta", "spread", "swing"})


def difference_named(c: str, a: str, b: str) -> bool:
    """Whether ``c``'s name says the difference of ``a`` and ``b`` (public names): a difference word beside the words
    the two share, their bound words aside (``temp_change`` of ``temp_min`` and ``temp_max``)."""
    wc, wa, wb = _name_words(c), _name_words(a), _name_words(b)
    rest = [w for w in wc if w not in DIFFERENCE_WORDS]
    shared = {w for w in wa if w in wb and w not in BOUND_RANKS and w not in TOTAL_WORDS}
    return len(rest) < len(wc) and bool(rest) and set(rest) <= shared


def tested_differences(df: pd.DataFrame, schema: TableSchema, held: list[tuple[str, str]], *, taken: set[str],
                       ledger: PrivacyLedger, rng: np.random.Generator) -> list[Constraint]:
    """Test with DP which number columns named like a time equal the difference of an ordering the test kept
    (``survtime = deathdate - diagdate``, in days for dates) and return them as ``derived`` rules: the column is then
    computed from its sources, not modelled (exact, and its budget goes to the others). Candidates: each such column
    ``c`` with each kept ordering ``a <= b`` (``held``) not involving it; one noisy histogram of :data:`DIFF_CELLS` per
    triple (L2 sensitivity ``sqrt(triples)``), :data:`ORDER_SHARE` of the rho each, at most :data:`MAX_SHARE`. Kept
    where the rows with ``c = b - a`` stand :data:`MIN_SIGMAS` deviations above zero, those where it differs are at
    most :data:`KEEP_SHARE` of the rows holding all three plus :data:`KEEP_SIGMAS` deviations, and so are those holding
    ``c`` without a source (where it would be written missing: a follow-up time of the living, beside a death date,
    fails it); of a column's triples that pass, the one with the most equal rows (at one deviation for the rows alone,
    lymph_node's survtime was not found in one fit of four)."""
    cols = {c.name: c for c in schema.columns}
    times = candidate_columns(schema, taken=taken)
    numbers = [n for n in times if cols[n].type in ("integer", "continuous")]
    # orderings of time columns only: a kept min/max or part/total pair is no span of time, and every triple more adds
    # noise to each (review: 4 kept bound pairs would have doubled the noise of lymph_node's survtime test)
    triples = [(c, b, a) for c in numbers for a, b in held if c not in (a, b) and a in times and b in times]
    # and a number named as the change or range of a kept bound pair's measure (Chicago's temp_change = temp_max -
    # temp_min, proposed by schema infer and held by 2.3% of the synthetic rows)
    usable = [c.name for c in schema.columns if not c.omitted and c.name not in taken and c.has_domain
              and c.type in ("integer", "continuous")]
    triples += [(c, b, a) for a, b in held if not (a in times and b in times)
                for c in usable if c not in (a, b) and difference_named(c, a, b)]
    # and a length of time between two ages of a follow-up (channing's time = age - ageentry, in months, 99.5% of the
    # rows; 0-1% of the synthetic ones)
    triples += [(c, b, a) for a, b in held if not (a in times and b in times) and age_pair(a, b)
                for c in usable if c not in (a, b) and _duration_named(c) and (c, b, a) not in triples]
    if not triples:
        return []
    share = min(MAX_SHARE, ORDER_SHARE * len(triples))
    rho = _test_rho(share, ledger.rho_budget, ledger)
    sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(triples)))
    values = {n: _days_or_numbers(cols[n], df[n]) for n in {n for t in triples for n in t}}
    passed: list[tuple[float, tuple[str, str, str]]] = []
    for c, b, a in triples:
        exact = not (a in times and b in times) and cols[c].type == "continuous"  # (a bound pair's real-valued change)
        eq, differs, alone, _ = (difference_histogram(values[c], values[b], values[a], exact=exact)
                                 + rng.normal(0.0, sigma, len(DIFF_CELLS)))
        present = max(eq + differs, 0.0)
        if (eq >= MIN_SIGMAS * sigma and differs <= KEEP_SHARE * present + KEEP_SIGMAS * sigma
                and alone <= KEEP_SHARE * present + KEEP_SIGMAS * sigma):
            passed.append((eq, (c, b, a)))
    # time = exit - entry also reads entry = exit - time: one column of such a triangle is computed, the others stay
    # its sources (two computed from each other were both dropped, ChanningHouse); a name saying a duration first
    kept: list[tuple[str, str, str]] = []
    for _, (c, b, a) in sorted(passed, key=lambda t: (not _duration_named(t[1][0]), -t[0])):
        computed = {k[0] for k in kept}
        if c not in computed and b not in computed and a not in computed and not any(c in k[1:] for k in kept):
            kept.append((c, b, a))
    ledger.record("differences between time columns or bound pairs (which columns equal one)",
                  "Gaussian mechanism (zCDP)", rho=rho,
                  sigma=sigma, columns=sorted(values), triples=len(triples),
                  released="the derived columns kept (meta.json rules_tested)")
    for c, b, a in kept:
        ledger.notes.append(f"rule derived [{c}, {b}, {a}] kept by a DP test ('{c}' equal to '{b}' - '{a}' in all but "
                            f"{KEEP_SHARE:.0%} of the rows holding the three and the noise, by noisy counts): '{c}' is "
                            "computed from its sources, not modelled")
    return [Constraint(kind="derived", columns=[c, b, a], public=False, read_from_data=False) for c, b, a in kept]


#: Words that, after a number's name, name its intervals (``AgeGroup``, ``age_cat``, ``agegrp``, ``bmi_class``).
BIN_WORDS = ("group", "grp", "gp", "cat", "cats", "categ", "category", "class", "band", "bands", "bracket", "level",
             "lvl", "bin", "bins", "range", "interval", "strata", "stratum", "tertile", "quartile", "quintile", "decile")
#: Cells of the number's DP range in a tested pair's histogram: as many as keep a cell's rows about ``BIN_CELL_SIGMAS``
#: noise deviations above zero (noisy rows, public sizes), between 4 and ``BIN_CELLS``.
BIN_CELLS = 32
BIN_CELL_SIGMAS = 8.0
#: A cell's label is sure where its largest count stands this many deviations (of a difference) above the next.
BIN_MARGIN_SIGMAS = 3.0
#: Unsure cells between two runs, at most (a broader mixed stretch is no cut: a group loosely tied to the number, 11% of
#: its rows off any cut, was kept in 100 fits of 100 and then computed exactly).
BIN_UNSURE_CELLS = 2
#: The rows off the cuts' labels may pass ``KEEP_SHARE`` by this many deviations of their noise (the sum of k - 1 noisy
#: counts per cell: at the orderings' 2, a group 11% of whose rows lie off any cut was kept in 37 fits of 60).
BIN_KEEP_SIGMAS = 1.0
#: Category columns tested at most (each with the one number its name names).
MAX_BIN_PAIRS = 8


def bin_named(c: str, x: str) -> bool:
    """Whether category column ``c``'s name says intervals of number ``x`` (public names): ``x``'s words, then one word
    of :data:`BIN_WORDS` (``AgeGroup``/``Age``, ``agegrp``/``age``, ``BMI.cat``/``BMI``)."""
    wc, wx = _name_words(c), _name_words(x)
    if not wx or len("".join(wx)) < 3:
        return False
    if wc[: len(wx)] == wx and len(wc) == len(wx) + 1:
        return wc[-1] in BIN_WORDS
    joined, stem = "".join(wc), "".join(wx)
    return len(wc) == 1 and joined.startswith(stem) and joined[len(stem):] in BIN_WORDS


def bin_candidates(schema: TableSchema, *, taken: set[str]) -> list[tuple[str, str]]:
    """(category, number) pairs a DP fit tests as a bins rule: a modelled category column of 2 to 12 DP-released values
    whose name says intervals of a modelled number column with a DP range (:func:`bin_named`), neither transformed by a
    rule already; at most :data:`MAX_BIN_PAIRS`. Depends only on DP outputs and public names."""
    usable = [c for c in schema.columns if not c.omitted and c.name not in taken and c.has_domain]
    nums = [c for c in usable if c.type in ("integer", "continuous")]
    out = []
    for c in usable:
        if c.type not in ("categorical", "boolean") or not 2 <= len(c.categories or []) <= 12:
            continue
        x = next((n.name for n in nums if bin_named(c.name, n.name)), None)
        if x is not None:
            out.append((c.name, x))
    return out[:MAX_BIN_PAIRS]


def bin_histogram(keys: np.ndarray, x: np.ndarray, labels: list[str], lo: float, hi: float, cells: int) -> np.ndarray:
    """Exact counts of (label, cell of ``[lo, hi]`` in ``cells`` equal cells) over the rows holding both (values past the
    range in its end cells; labels off the list not counted), then two cells: rows holding only the category, only the
    number. ``keys``: canonical category keys (None: missing)."""
    has_c = np.array([k is not None for k in keys], dtype=bool)
    has_x = ~np.isnan(x)
    idx = {k: i for i, k in enumerate(labels)}
    row = np.array([idx.get(k, -1) if k is not None else -1 for k in keys])
    width = (hi - lo) / cells if hi > lo else 1.0
    cell = np.clip(np.floor((np.where(has_x, x, lo) - lo) / width), 0, cells - 1).astype(int)
    counts = np.zeros((len(labels), cells))
    ok = has_c & has_x & (row >= 0)
    np.add.at(counts, (row[ok], cell[ok]), 1.0)
    return np.concatenate([counts.ravel(), [np.sum(has_c & ~has_x), np.sum(has_x & ~has_c)]])


def decide_bins(noisy: np.ndarray, sigma: float, k: int, lo: float, hi: float) -> tuple[list[float], list[int]] | None:
    """Post-processing of a pair's noisy :func:`bin_histogram` (``k`` labels on ``[lo, hi]``): the cells whose largest
    count stands :data:`BIN_MARGIN_SIGMAS` above the next are sure of their label; where each label is the label of one
    run of sure cells and every label has its run (at most :data:`BIN_UNSURE_CELLS` unsure cells between two runs), the
    rows off the label the cuts give (in every cell but those holding a cut) and the rows holding only one of the two
    columns are each within :data:`KEEP_SHARE` of the rows and :data:`KEEP_SIGMAS` deviations (never more than
    :data:`MAX_BREAK_SHARE`). Returns the cut points (each where
    the two labels' shares of the cells from one run's last sure cell to the next run's first put it, then the roundest
    number within half a cell of that: :func:`~medsynth.io.rules.round_cut`) and the labels' indices, lowest run first;
    else None."""
    cells = (noisy.size - 2) // k
    counts = noisy[: k * cells].reshape(k, cells)
    top = np.sort(counts, axis=0)
    sure = np.nonzero(top[-1] - top[-2] >= BIN_MARGIN_SIGMAS * math.sqrt(2) * sigma)[0]
    if sure.size < k:
        return None
    lab = counts[:, sure].argmax(axis=0)
    change = [i for i in range(sure.size - 1) if lab[i] != lab[i + 1]]
    runs = [int(lab[0])] + [int(lab[i + 1]) for i in change]
    if sorted(runs) != list(range(k)):  # a label in two runs, or one without a run: not intervals
        return None
    if any(int(sure[j + 1]) - int(sure[j]) > BIN_UNSURE_CELLS + 1 for j in change):  # a broad mixed stretch: no cut
        return None
    total = counts.sum(axis=0)
    width = (hi - lo) / cells
    cuts = []
    for j in change:  # the two labels' shares of the cells from the run's last sure cell to the next run's first (those
        # between were unsure: the cut lies there), read as a position across them
        a, b, la, lb = int(sure[j]), int(sure[j + 1]), int(lab[j]), int(lab[j + 1])
        mine, next_ = np.maximum(counts[la, a : b + 1], 0.0).sum(), np.maximum(counts[lb, a : b + 1], 0.0).sum()
        left, right = lo + a * width, lo + (b + 1) * width
        at = left + (right - left) * mine / max(mine + next_, 1e-9)
        cuts.append(round_cut(max(at - width / 2, left), min(at + width / 2, right)))
    if any(y <= x for x, y in zip(cuts, cuts[1:], strict=False)):
        return None
    # the rows off the label the cuts give, in every cell but those holding a cut (sure or not: a broad mixed region
    # of unsure cells is counted), held to the ordering's limit
    edges = lo + width * np.arange(cells + 1)
    pos = np.searchsorted(np.asarray(cuts), edges, side="right")  # the interval of each cell edge
    whole = np.flatnonzero(pos[:-1] == pos[1:])  # cells inside one interval (a cut on a cell edge splits nothing)
    if whole.size == 0:
        return None
    given = np.asarray(runs)[pos[whole]]
    held = float(np.maximum(total[whole], 0.0).sum())
    off = float((total[whole] - counts[given, whole]).sum())
    slack = BIN_KEEP_SIGMAS * sigma * math.sqrt(whole.size * (k - 1))
    if held <= 0 or off > min(KEEP_SHARE * held + slack, MAX_BREAK_SHARE * held):
        return None
    if max(noisy[-2], noisy[-1]) > KEEP_SHARE * held + KEEP_SIGMAS * sigma:  # one column often without the other
        return None
    return cuts, runs


def tested_bins(df: pd.DataFrame, schema: TableSchema, *, taken: set[str], ledger: PrivacyLedger,
                rng: np.random.Generator, rho_total: float, rows: float) -> list[Constraint]:
    """Test with DP which category columns named as intervals of a number (:func:`bin_candidates`: ``AgeGroup`` of
    ``Age``) are its intervals in (nearly) every row, and return them as ``bins`` rules (DP outputs, cut points from the
    noisy histogram: :func:`decide_bins`): the category is then computed from the number, not modelled (an ICU's age 87
    in the youngest group in a third of the rows at epsilon 1). One Gaussian release of :data:`ORDER_SHARE` of
    ``rho_total`` per pair (at most :data:`MAX_SHARE`), charged to ``ledger``, on as many cells as ``rows`` (noisy) fill
    well above the noise (none is measured below 4: a small table's pairs are not tested); nothing is spent without a
    candidate."""
    from medsynth.io.schema import category_key, category_keys

    pairs = bin_candidates(schema, taken=taken)
    if not pairs:
        return []
    rho = _test_rho(min(MAX_SHARE, ORDER_SHARE * len(pairs)), rho_total, ledger)
    sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(pairs)))
    n_cells = min(BIN_CELLS, int(rows / (BIN_CELL_SIGMAS * sigma)))
    if n_cells < 4:
        return []
    cols = {c.name: c for c in schema.columns}
    kept: list[Constraint] = []
    for c, x in pairs:
        cats = list(cols[c].categories or [])
        labels = [category_key(v) for v in cats]
        keys = category_keys(df[c]).where(df[c].notna(), None).to_numpy(dtype=object)
        lo, hi = (float(v) for v in cols[x].bounds())
        hist = bin_histogram(keys, _days_or_numbers(cols[x], df[x]), labels, lo, hi, n_cells)
        got = decide_bins(hist + rng.normal(0.0, sigma, size=hist.size), sigma, len(labels), lo, hi)
        if got is None:
            continue
        cuts, order = got
        kept.append(Constraint(kind="bins", columns=[c, x], edges=cuts, labels=[cats[i] for i in order], public=False,
                               read_from_data=False))
    ledger.record("category columns named as intervals of a number (which are)", "Gaussian mechanism (zCDP)", rho=rho,
                  sigma=sigma, columns=sorted({n for p in pairs for n in p}), pairs=len(pairs),
                  released="the bins kept and their cut points (meta.json bins_tested)")
    for con in kept:
        ledger.notes.append(f"rule bins {con.columns} kept by a DP test (cut at {', '.join(f'{e:g}' for e in con.edges or [])} "
                            f"into {con.labels}): '{con.columns[0]}' is computed from '{con.columns[1]}', not modelled")
    return kept


#: Families of 0/1 columns tested at most, and columns of one family at most (the first in the table's order).
MAX_FAMILIES = 16
MAX_FAMILY_COLUMNS = 32
#: The cells of a family's histogram: rows with every member 0 or 1 and exactly one set, none, two or more; other rows.
FAMILY_CELLS = ("one", "none", "several", "other")


def is_binary(col: ColumnSchema) -> bool:
    """Whether a column's (DP-decided or public) domain holds only 0 and 1 (or False and True): a category column of
    those two categories, a boolean, or a whole number from 0 to 1."""
    from medsynth.io.schema import category_key

    if col.omitted or not col.has_domain:
        return False
    if col.type in ("categorical", "boolean"):
        keys = {category_key(v) for v in (col.categories or [])} if col.type == "categorical" else {"True", "False"}
        return bool(keys) and keys <= {"0", "1", "True", "False"}
    if col.type == "integer":
        lo, hi = col.bounds()
        return 0 <= float(lo) and float(hi) <= 1
    return False


def family_candidates(schema: TableSchema, *, taken: set[str]) -> list[list[str]]:
    """Families of 0/1 columns whose names differ only in a trailing number (:func:`~medsynth.io.schema.digit_families`:
    ``edlevel1`` ... ``edlevel4``), two or more members each with a 0/1 domain (:func:`is_binary`), modelled and not
    transformed by a rule already (``taken``), none of them a declared target; at most :data:`MAX_FAMILIES`, each of at
    most :data:`MAX_FAMILY_COLUMNS`.
    Depends only on names and the DP-decided (or public) domains."""
    from medsynth.io.schema import digit_families

    binary = [c.name for c in schema.columns if c.name not in taken and is_binary(c)]
    # the column a user predicts stays a column of its own (in a family column it lost its target flag, and dp-aim its
    # 3-way marginals); a member DP released as possibly missing keeps its family apart (as one column every member
    # was missing with it, 11% of the rows); a family too large is left whole (a part of it kept as "at most one" left
    # the rest free: 27% of the rows broke the real "exactly one")
    held = {c.name for c in schema.columns if c.target or c.missing}
    fams = [cols for cols in digit_families(binary).values() if not set(cols) & held and len(cols) <= MAX_FAMILY_COLUMNS]
    return fams[:MAX_FAMILIES]


def family_histogram(ones: np.ndarray) -> np.ndarray:
    """The exact counts of :data:`FAMILY_CELLS` for a family's members as :func:`~medsynth.io.schema.binary_view`
    columns (rows x members; NaN: missing or neither 0 nor 1)."""
    full = ~np.isnan(ones).any(axis=1)
    k = np.nansum(ones, axis=1)
    return np.array([np.sum(full & (k == 1)), np.sum(full & (k == 0)), np.sum(full & (k >= 2)), np.sum(~full)], dtype=float)


def decide_family(noisy: np.ndarray, sigma: float) -> tuple[int, int] | None:
    """From a family's noisy histogram: how many members may be 1, ``(1, 1)`` (exactly one) or ``(0, 1)`` (at most
    one), or None. Kept where the rows with one set stand :data:`MIN_SIGMAS` deviations above zero and the rows
    breaking it, and those with a member missing or neither 0 nor 1, are each within the orderings' allowance
    (:data:`KEEP_SHARE` of the rows holding every member plus :data:`KEEP_SIGMAS` deviations, never more than
    :data:`MAX_BREAK_SHARE`). Post-processing."""
    one, none, several, other = noisy
    full = max(one + none + several, 0.0)
    limit = min(KEEP_SHARE * full + KEEP_SIGMAS * sigma, MAX_BREAK_SHARE * full)
    if one < MIN_SIGMAS * sigma or several > limit or other > limit:
        return None
    return (1, 1) if none <= limit else (0, 1)


def accepted_families(schema: TableSchema, taken: set[str]) -> list[Constraint]:
    """The accepted (public) ``onehot`` rules a DP fit can model as one category column: every member 0/1 by its
    DP-decided (or public) domain (:func:`is_binary`), never missing, none a declared target, none transformed by another
    rule (``taken``), no member shared with an earlier one. Post-processing of DP outputs and public rules."""
    out: list[Constraint] = []
    used: set[str] = set(taken)
    cols = {c.name: c for c in schema.columns}
    for con in schema.constraints:
        if con.kind != "onehot" or not con.public or set(con.columns) & used:
            continue
        members = [cols.get(m) for m in con.columns]
        if all(c is not None and is_binary(c) and not c.missing and not c.target for c in members):
            out.append(con)
            used |= set(con.columns)
    return out


def tested_families(df: pd.DataFrame, schema: TableSchema, *, taken: set[str], ledger: PrivacyLedger,
                    rng: np.random.Generator, rho_total: float) -> list[Constraint]:
    """Test with DP which families of 0/1 columns (:func:`family_candidates`: the dummies ``edlevel1`` ...
    ``edlevel4`` of one categorical column) have exactly one, or at most one, member set in (nearly) every row, and
    return them as ``onehot`` rules (DP outputs): sampled rows that break one are drawn again (a model of marginals
    sees the members two or three at a time, and rwm1984's education dummies summed to other than 1 in 9-17% of the
    synthetic rows). One Gaussian release of :data:`ORDER_SHARE` of ``rho_total`` per family (at most
    :data:`MAX_SHARE`; the families share no column, so a row moves one cell of each: sensitivity sqrt(families)),
    charged to ``ledger``; nothing is spent without a candidate."""
    from medsynth.io.schema import binary_view

    fams = family_candidates(schema, taken=taken)
    if not fams:
        return []
    rho = _test_rho(min(MAX_SHARE, ORDER_SHARE * len(fams)), rho_total, ledger)
    sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(fams)))
    kept: list[Constraint] = []
    for fam in fams:
        hist = family_histogram(np.column_stack([binary_view(df[c]) for c in fam]))
        got = decide_family(hist + rng.normal(0.0, sigma, size=hist.size), sigma)
        if got is not None:
            kept.append(Constraint(kind="onehot", columns=list(fam), low=got[0], high=got[1], public=False,
                                   read_from_data=False))
    ledger.record("families of 0/1 columns named alike (whether one, or at most one, is 1 in each row)",
                  "Gaussian mechanism (zCDP)", rho=rho, sigma=sigma, columns=sorted({n for f in fams for n in f}),
                  families=len(fams), released="the families kept (meta.json families_tested)")
    for con in kept:
        ledger.notes.append(f"rule onehot {con.columns} kept by a DP test: {'exactly' if con.ones_allowed()[0] else 'at most'} "
                            "one of them is 1 in every synthetic row where all are present (sampled rows that break it drawn again)")
    return kept


def gap_columns(schema: TableSchema, gaps: list[tuple[str, str]], tied: frozenset[tuple[str, str]] = frozenset()) -> TableSchema:
    """The schema with each gap ``(b, a)`` in place of ``b`` (:func:`~medsynth.tabular.rules.gap_type`), from 0 to
    ``b``'s DP top less ``a``'s DP bottom, missing where either may be (post-processing of the DP domains: nothing
    more is measured), on a log scale (durations are skewed: stays of days beside follow-ups of years; the model's
    fine grid then resolves the short ones), with 0 an atom where the test saw the two often equal (``tied``, pairs
    ``(a, b)``: :data:`TIE_SHARE`)."""
    cols = {c.name: c for c in schema.columns}
    out = []
    for col in schema.columns:
        src = next((cols[a] for b, a in gaps if b == col.name), None)
        if src is None:
            out.append(col)
            continue
        top, bottom = end_atoms(col)  # (b on an atom ending its range is modelled as the gap's end: rules.to_model)
        tie = (src.name, col.name) in tied
        ends = sorted({*([float(gap_top(col, src))] if top is not None else []), *([0.0] if bottom is not None or tie else [])})
        out.append(ColumnSchema(name=col.name, type=gap_type(col), min=0, max=gap_top(col, src), transform="log",
                                missing=bool(col.missing or src.missing), public=False, atoms=ends or None,
                                read_from_data=["type", "missing", "min", "max"], target=col.target))
    return schema.model_copy(update={"columns": out})


def plan_tested(schema: TableSchema, found: Kept, derived: list[Constraint],
                binned: list[Constraint] = ()) -> tuple[RulePlan, list[Constraint]]:
    """How a single table's DP fit keeps what the tests kept (``schema``: its DP-resolved schema): a rule plan of gaps
    and derived columns (:func:`~medsynth.tabular.rules.plan_rules`), and the orderings to check on the sampled rows
    (every kept one: one the plan cannot write as a gap, a column gapped from one of two unordered sources, was
    reported kept and broken in a quarter of the rows). A gap whose DP range is empty (the later column's DP top under
    its source's bottom) is left to the check. A gapped date keeps its own DP-decided format, resolution and missing
    state (DP outputs here, which ``plan_rules`` leaves out of a DP fit's plan as read from the data)."""
    kept = list(found.gapped)
    # (tied pairs gapped directly only where the source is no more often missing than the column, by their DP missing
    # states: a never-missing survival time gapped from a relapse time missing in 2.5% of the rows came out missing in
    # 4-5% of them, a reviewer; from the chain's root, never missing, it had none)
    direct = frozenset((a, b) for a, b in found.tied if not (schema.column(a).missing and not schema.column(b).missing))
    while True:
        plan = plan_rules(schema.model_copy(update={"constraints": []}), [*derived, *kept, *binned], private=True,
                          direct=direct)
        empty = {b for b, a in plan.gaps if not gap_top(schema.column(b), schema.column(a)) > 0}
        if not empty:
            break
        kept = [c for c in kept if c.columns[1] not in empty]
    for b, _ in plan.gaps:
        col = schema.column(b)
        plan.outputs[b].update({"type": col.type, "format": col.format, "resolution": col.resolution,
                                "missing": col.missing, "max": upper_bound(col), "min": lower_bound(col),
                                "bottom_atom": end_atoms(col)[1] is not None})  # (the gap's 0 is an atom for ties too)
    return plan, [*found.gapped, *found.redrawn]


__all__ = ["ALONE_SIGMAS", "accepted_families", "CELLS", "FAMILY_CELLS", "MAX_FAMILIES", "decide_family", "family_candidates", "family_histogram",
           "is_binary", "tested_families", "DIFF_CELLS", "Kept", "difference_histogram", "tested_differences", "KEEP_SHARE", "KEEP_SIGMAS", "MAX_BREAK_SHARE", "RANGE_BREAK_SHARE", "MAX_COLUMNS", "MAX_SHARE", "MIN_SIGMAS", "TIE_SHARE", "ORDER_SHARE", "STRICT_SIGMAS", "candidate_columns",
           "candidate_pairs", "range_pairs", "decide", "decide_bins", "bin_candidates", "bin_named", "tested_bins", "gap_columns", "plan_tested", "pair_histogram", "reduce_transitive", "tested_orderings"]
