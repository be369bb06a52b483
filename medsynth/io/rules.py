"""Rules that hold in every row of a table, proposed by ``schema infer`` (see :mod:`medsynth.tabular.rules`).

Date orderings (``a <= b`` wherever both are present, reduced to those not implied by others), orderings of numbers
whose names say one is at most the other (:func:`~medsynth.io.schema.bound_pairs`: ``sbp_min <= sbp_max``,
``open_credit_lines <= total_credit_lines``) and derived columns (a number equal to the difference of two dates, in days, or of two numbers), marked
``read_from_data: true, public: false``: the user accepts one as domain knowledge with ``public: true``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from medsynth.io.schema import EPOCH, ColumnSchema, Constraint, TableSchema, bound_pairs, parse_dates

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
    order: set[tuple[str, str]] = set()
    for a, b in itertools.permutations([c.name for c in dates], 2):
        x, y = vals[a], vals[b]
        both = ~(np.isnan(x) | np.isnan(y))
        if both.sum() >= MIN_ROWS and np.all(x[both] <= y[both]) and np.any(x[both] < y[both]):
            order.add((a, b))
    for a, b in sorted(order):  # transitive reduction
        if not any((a, m) in order and (m, b) in order for m in {c.name for c in dates} - {a, b}):
            out.append(Constraint(kind="le", columns=[a, b], public=False, read_from_data=True))
    for a, b in bound_pairs([c.name for c in nums]):  # numbers whose names say a <= b (min/max, a part and its total)
        x, y = vals[a], vals[b]
        both = ~(np.isnan(x) | np.isnan(y))
        if both.sum() >= MIN_ROWS and np.all(x[both] <= y[both]) and np.any(x[both] < y[both]):
            out.append(Constraint(kind="le", columns=[a, b], public=False, read_from_data=True))
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


__all__ = ["propose_rules"]
