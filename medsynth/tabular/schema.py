"""Re-export of :mod:`medsynth.io.schema`, where the table schema lives (with keys and relations).

Kept so that ``from medsynth.tabular.schema import TableSchema`` keeps working; new code imports from
``medsynth.io.schema``.
"""

from __future__ import annotations

from medsynth.io.schema import (
    DATE_FORMATS,
    DISCRETE_TYPES,
    EPOCH,
    MAX_INFERRED_LEVELS,
    NUMERIC_TYPES,
    SCHEMA_VERSION,
    Category,
    ColumnSchema,
    ColumnType,
    Constraint,
    TableSchema,
    category_key,
    category_keys,
    check_constraints,
    from_days,
    infer_schema,
    parse_dates,
    to_number,
    validate_table,
)

__all__ = [
    "DATE_FORMATS",
    "DISCRETE_TYPES",
    "EPOCH",
    "MAX_INFERRED_LEVELS",
    "NUMERIC_TYPES",
    "SCHEMA_VERSION",
    "Category",
    "ColumnSchema",
    "ColumnType",
    "Constraint",
    "TableSchema",
    "category_key",
    "category_keys",
    "check_constraints",
    "from_days",
    "infer_schema",
    "parse_dates",
    "to_number",
    "validate_table",
]
