"""The audit's tables: the base table (the user's or a built-in one) and the canary records added to it.

Canaries are records the auditor writes into the table; DP promises that the release barely depends on
whether any one of them is there. They are built from the schema's domain (public bounds and
categories), in the table's own value types, so they pass the same validation as real rows:

- :func:`worst_case_canary` (distinguishing tests): an outlier, each number at the end of its domain
  farthest from the data's median, each category the rarest one, never missing;
- :func:`random_canaries` (one-run audits): independent uniform draws over each column's domain, so
  that different canaries fall in different cells and regions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from medsynth.core.errors import DataValidationError

if TYPE_CHECKING:  # pragma: no cover
    from medsynth.tabular.schema import ColumnSchema, TableSchema

#: The name of the built-in table (the demo's).
BUILTIN_TABLE = "breast-cancer (sklearn, 569 rows x 31 columns, published feature ranges as public bounds)"


def builtin_table() -> tuple[pd.DataFrame, TableSchema]:
    """The demo's clinical table (scikit-learn's Wisconsin breast cancer data, offline) and its public schema."""
    from medsynth.tabular.example_data import clinical_table, public_schema

    df = clinical_table()
    return df, public_schema(df)


def _numbers(col: ColumnSchema, s: pd.Series) -> np.ndarray:
    """A numeric or date column as floats (dates: days since 1970-01-01), missing as NaN."""
    from medsynth.tabular.schema import EPOCH, parse_dates

    if col.type == "datetime":
        return ((parse_dates(s, col.format) - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _domain(col: ColumnSchema, values: pd.Series) -> tuple[float, float]:
    """A numeric column's (low, high): the schema's bounds, else the data's range (known to the auditor)."""
    lo, hi = col.bounds() if col.min is not None and col.max is not None else (np.nan, np.nan)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        nums = _numbers(col, values)
        nums = nums[np.isfinite(nums)]
        if nums.size == 0:
            raise DataValidationError(f"column '{col.name}' has no bounds in the schema and no values to take them from")
        lo, hi = float(nums.min()), float(nums.max())
    return float(lo), float(hi)


def _categories(col: ColumnSchema, values: pd.Series) -> list[Any]:
    if col.categories:
        return list(col.categories)
    seen = list(pd.unique(values.dropna()))
    if not seen:
        raise DataValidationError(f"column '{col.name}' has no categories in the schema and no values to take them from")
    return seen


def _format_numbers(col: ColumnSchema, x: np.ndarray) -> Any:
    from medsynth.tabular.schema import EPOCH

    if col.type == "integer":
        lo, hi = col.bounds() if col.min is not None and col.max is not None else (x.min(), x.max())
        return np.clip(np.round(x), np.ceil(lo), np.floor(hi)).astype(np.int64)
    if col.type == "datetime":
        stamps = EPOCH + pd.to_timedelta(np.floor(x), unit="D")
        return pd.Series(stamps).dt.strftime(col.format or "%Y-%m-%d").to_numpy(dtype=object)
    return x.astype(float)


def _assemble(schema: TableSchema, columns: dict[str, Any], n: int, prefix: str) -> pd.DataFrame:
    for col in schema.columns:
        if col.type == "identifier":
            columns[col.name] = np.array([f"{prefix}-{i:05d}" for i in range(n)], dtype=object)
    return pd.DataFrame({name: columns[name] for name in schema.names})


def random_canaries(base: pd.DataFrame, schema: TableSchema, m: int, rng: np.random.Generator) -> pd.DataFrame:
    """``m`` canaries drawn uniformly over each column's domain (independently across columns)."""
    from medsynth.tabular.schema import DISCRETE_TYPES

    if m < 1:
        raise DataValidationError(f"canaries {m} must be at least 1")
    cols: dict[str, Any] = {}
    for col in schema.modelled:
        if col.type in DISCRETE_TYPES:
            cats = _categories(col, base[col.name])
            cols[col.name] = np.array([cats[i] for i in rng.integers(0, len(cats), m)], dtype=object)
        else:
            lo, hi = _domain(col, base[col.name])
            cols[col.name] = _format_numbers(col, rng.uniform(lo, hi, m) if col.type != "integer" else rng.integers(
                int(np.ceil(lo)), int(np.floor(hi)) + 1, m).astype(float))
    return _satisfy_constraints(_assemble(schema, cols, m, "canary"), schema, base)


def worst_case_canary(base: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """One outlier record: each number at the domain end farthest from the data's median, each category
    the rarest in the data (absent ones first)."""
    from medsynth.tabular.schema import DISCRETE_TYPES, category_key

    cols: dict[str, Any] = {}
    for col in schema.modelled:
        s = base[col.name]
        if col.type in DISCRETE_TYPES:
            cats = _categories(col, s)
            counts = s.dropna().map(category_key).value_counts()
            cols[col.name] = np.array([min(cats, key=lambda c: int(counts.get(category_key(c), 0)))], dtype=object)
        else:
            lo, hi = _domain(col, s)
            nums = _numbers(col, s)
            med = float(np.nanmedian(nums)) if np.isfinite(nums).any() else (lo + hi) / 2
            cols[col.name] = _format_numbers(col, np.array([hi if hi - med >= med - lo else lo]))
    return _satisfy_constraints(_assemble(schema, cols, 1, "canary"), schema, base)


def _satisfy_constraints(canaries: pd.DataFrame, schema: TableSchema, base: pd.DataFrame) -> pd.DataFrame:
    """Make canaries meet the schema's constraints ("le": order the pair; "combinations": an allowed tuple; "onehot": one
    member set)."""
    for con in schema.constraints:
        if con.kind == "le":
            a, b = con.columns
            ca, cb = schema.column(a), schema.column(b)
            xa, xb = _numbers(ca, canaries[a]), _numbers(cb, canaries[b])
            swap = xa > xb
            if swap.any() and ca.type == cb.type and ca.format == cb.format:
                va, vb = canaries[a].to_numpy(dtype=object).copy(), canaries[b].to_numpy(dtype=object).copy()
                va[swap], vb[swap] = vb[swap], va[swap]
                canaries[a], canaries[b] = va, vb
        elif con.kind == "onehot" and len(canaries):  # one member set (in turn), in each member's own spelling of 1 and 0
            from medsynth.io.schema import binary_view

            for j, name in enumerate(con.columns):
                col = base[name] if name in base.columns else canaries[name]
                flags = binary_view(col)
                one = col[flags == 1].iloc[0] if (flags == 1).any() else 1
                zero = col[flags == 0].iloc[0] if (flags == 0).any() else 0
                canaries[name] = np.array([one if i % len(con.columns) == j else zero for i in range(len(canaries))],
                                          dtype=object)
        elif con.kind == "combinations" and con.allowed:
            allowed = [tuple(t) for t in con.allowed]
            pick = np.arange(len(canaries)) % len(allowed)
            for j, name in enumerate(con.columns):
                canaries[name] = np.array([allowed[i][j] for i in pick], dtype=object)
    return canaries


def with_rows(base: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``base`` with ``rows`` appended (the neighbouring table, or the table with the included canaries)."""
    if rows.empty:
        return base.reset_index(drop=True)
    return pd.concat([base, rows], ignore_index=True)


__all__ = ["BUILTIN_TABLE", "builtin_table", "random_canaries", "with_rows", "worst_case_canary"]
