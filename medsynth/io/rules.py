"""Rules that hold in every row of a table, proposed by ``schema infer`` (see :mod:`medsynth.tabular.rules`).

Date orderings (``a <= b`` wherever both are present, reduced to those not implied by others) and
derived columns (a number equal to the difference of two dates, in days, or of two numbers), marked
``read_from_data: true, public: false``: the user accepts one as domain knowledge with ``public: true``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from medsynth.io.schema import EPOCH, ColumnSchema, Constraint, TableSchema, parse_dates

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
    used: set[str] = set()
    triples: set[frozenset[str]] = set()  # c = b - a is also a = b - c: propose one of the two
    pairs = [(a, b) for a, b in itertools.permutations([c.name for c in dates], 2)]
    pairs += [(a, b) for a, b in itertools.permutations([c.name for c in nums], 2)]
    # screen every (c, a, b) on a few rows first (d^3 checks), then verify the survivors on all rows
    screen = np.random.default_rng(0).permutation(len(df))[:SCREEN_ROWS]
    small = {k: v[screen] for k, v in vals.items()}
    for c in reversed(nums):  # a derived column usually follows its sources in the table: it is tried first
        if c.name in used:
            continue
        for a, b in pairs:  # c = b - a
            if c.name in (a, b) or frozenset((c.name, a, b)) in triples:
                continue
            if not _derived(small[c.name], small[b] - small[a], min_rows=3):
                continue
            if _derived(vals[c.name], vals[b] - vals[a], min_rows=MIN_ROWS):
                out.append(Constraint(kind="derived", columns=[c.name, b, a], public=False, read_from_data=True))
                used.add(c.name)
                triples.add(frozenset((c.name, a, b)))
                break
    return out


def _derived(z: np.ndarray, diff: np.ndarray, *, min_rows: int) -> bool:
    present = ~(np.isnan(z) | np.isnan(diff))
    if present.sum() < min_rows or not np.any(diff[present] != 0):
        return False
    scale = max(1.0, float(np.nanmax(np.abs(diff[present]))))
    return bool(np.allclose(z[present], diff[present], rtol=1e-9, atol=1e-6 * scale))


__all__ = ["propose_rules"]
