"""Deciding a column's type and date format under DP, when they were read from the data.

``schema infer`` decides types from the data: an integer column holding only whole numbers, a
date column whose every value parses with one format, an identifier whose every value is distinct.
Each of these is a fact about *every* row, so one row can flip it, and a released model that says
"this column is integer" tells whether some patient has a non-integral value. A DP fit therefore
re-decides every such field of a ``public: false`` column from one Gaussian measurement: per column, a
count of the rows that would contradict the inferred choice (non-integral values; values that do not
parse with the date format; values that are not booleans; for an identifier, rows whose value is
unique). Each row adds at most 1 to each column's count, so the L2 sensitivity is ``sqrt(columns)``.

The rules are shares of the noisy row count, so they hold at any noise level (at epsilon 1 a
400-row table cannot tell "no" from "four" non-integral values, but it can tell "few" from "most"):
a number is an integer when at most 10% of its values are not whole, or when its count of non-whole values
is within 3 noise deviations of zero (else continuous: rounding most values would destroy them); when
3 noise deviations exceed half the noisy row count the count cannot tell "none" from "most", so the
number is modelled as continuous (never rounded on the noise's word: bilirubin 0.3-28 on a 300-row table
at epsilon 1) with a ledger note, and small codes such as flags are still found, for free, as buckets of
its DP domain histogram (:mod:`medsynth.privacy.locate`); a date column stays a date when most values parse (the rest become
missing); a boolean stays boolean when most values are booleans; a column is an identifier when at
least 90% of its rows hold a unique value, and never on the noise's word alone (when 3 noise deviations
exceed half the rows the column is modelled as values: categories, or numbers for a numeric one). Columns named like identifiers (``id``, ``*_id``) keep that
type: a column's name is public. Integer-valued columns become categorical when their DP range holds
at most 12 values (post-processing, free). The log transform is never taken from the schema of such a
column: it is decided from the DP range estimate (:func:`medsynth.tabular.domain.resolve_domain`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from medsynth.io.schema import id_like
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.mechanisms import gaussian_sigma
from medsynth.tabular.schema import ColumnSchema, TableSchema, category_keys, parse_dates

#: Largest share of non-whole values of an integer column.
INTEGER_SHARE = 0.1
#: Largest share of values contradicting a date format or a boolean type.
MAJORITY = 0.5
#: Smallest share of unique values of an identifier.
UNIQUE_SHARE = 0.9


def _int_categories(col: ColumnSchema) -> bool:
    return col.type == "categorical" and bool(col.categories) and all(
        isinstance(c, (int, float)) and not isinstance(c, bool) and float(c).is_integer() for c in col.categories or [])


#: Two-value vocabularies of a flag: the boolean domain written as words (public knowledge, not data). Not f/t:
#: 'f' is female in a sex column (f/m), whose release gained a noise-only 't'.
FLAG_WORDS = (("no", "yes"), ("n", "y"), ("false", "true"))


#: Every spelling of a flag value that the DP category release counts as a public key (no delta threshold).
FLAG_KEYS = tuple(dict.fromkeys([w for pair in FLAG_WORDS for word in pair for w in (word, word.capitalize(), word.upper())]
                                + ["0", "1"]))


def flag_partner(value: Any) -> Any | None:
    """The other value of a flag, in the same spelling (``'No'`` -> ``'Yes'``, ``'n'`` -> ``'y'``, ``0`` -> ``1``), or
    None when ``value`` is not a flag value. Completing a DP-released category list that holds one half of a flag is
    post-processing: it reads only the released value and this public vocabulary."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value in (0, 1):
        return 1 - int(value)
    if not isinstance(value, str):
        return None
    word = value.strip()
    for a, b in FLAG_WORDS:
        for mine, other in ((a, b), (b, a)):
            if word.lower() == mine:
                if word.isupper():
                    return other.upper()
                if word[:1].isupper():
                    return other.capitalize()
                return other
    return None


def needs_decision(col: ColumnSchema) -> bool:
    """Whether a DP fit must re-decide this column's type or format."""
    if col.public:
        return False
    if col.type in ("identifier", "categorical"):
        return not id_like(col.name) or col.type == "categorical"
    return col.type in ("continuous", "integer", "datetime", "boolean")


def _contradictions(col: ColumnSchema, s: pd.Series) -> int:
    present = s.dropna()
    if col.type == "identifier" or (col.type == "categorical" and not _int_categories(col)):
        counts = category_keys(present).value_counts()
        return int((counts == 1).sum())  # rows whose value is unique (adding a row changes it by at most 1)
    if col.type == "datetime":
        return int(parse_dates(present, col.format).isna().sum())
    if col.type == "boolean":
        return int((~present.astype(str).str.strip().str.lower().isin(["true", "false", "1", "0"])).sum())
    num = pd.to_numeric(present, errors="coerce")
    return int((num.isna() | (num % 1 != 0)).sum())  # not whole numbers


def decide_structure(schema: TableSchema, df: pd.DataFrame, *, rho: float, rows: float,
                     rng: np.random.Generator, ledger: PrivacyLedger) -> tuple[TableSchema, set[str]]:
    """Re-decide the fragile types/formats of ``public: false`` columns with one ``rho``-zCDP measurement.

    Returns:
        The schema with the decisions applied, and the names of integer-valued columns whose
        categorical-vs-integer choice is left to their DP range (``<= 12`` values: categorical).
    """
    todo = [c for c in schema.columns if needs_decision(c)]
    small_ints: set[str] = set()
    if not todo:
        return schema, small_ints
    sigma = gaussian_sigma(rho, sensitivity=math.sqrt(len(todo)))
    true = np.array([_contradictions(c, df[c.name]) for c in todo], dtype=float)
    noisy = true + rng.normal(0.0, sigma, true.size)
    updates: dict[str, dict[str, Any]] = {}
    undecided: list[str] = []
    undecided_ids: list[str] = []
    for col, value in zip(todo, noisy, strict=True):
        unique = col.type == "identifier" or (col.type == "categorical" and not _int_categories(col))
        if unique:  # the count is of rows holding a unique value
            # Where 3 sigma exceeds half the rows the noise alone can reach 90% "unique": a column is never made an
            # identifier on its word (a 2-category 'sex' on 89 patients came out as syn-0000001, syn-0000002, ...).
            is_id = value >= UNIQUE_SHARE * rows and 3 * sigma <= MAJORITY * rows
            if not is_id and 3 * sigma > MAJORITY * rows:
                undecided_ids.append(col.name)
            if is_id and col.type != "identifier":
                updates[col.name] = {"type": "identifier", "categories": None, "missing": False}
            elif not is_id and col.type == "identifier":
                numeric = pd.api.types.is_numeric_dtype(df[col.name])
                updates[col.name] = {"type": "continuous" if numeric else "categorical"}
        elif col.type == "datetime" and value > MAJORITY * rows:
            updates[col.name] = {"type": "categorical", "format": None, "min": None, "max": None}
        elif col.type == "boolean":  # it stays one unless most values contradict it, never on the noise's word
            if value > MAJORITY * rows and 3 * sigma <= MAJORITY * rows:  # (as for identifiers)
                updates[col.name] = {"type": "categorical", "categories": None}
        elif col.type in ("continuous", "integer") or _int_categories(col):
            if 3 * sigma > MAJORITY * rows:  # the noise cannot tell "none" from "most": never round on its word
                undecided.append(col.name)
                if col.type != "continuous":
                    updates[col.name] = {"type": "continuous", "categories": None}
            elif value <= max(INTEGER_SHARE * rows, 3 * sigma):  # whole numbers: categorical iff the DP range is small
                small_ints.add(col.name)
                if col.type != "integer":
                    updates[col.name] = {"type": "integer", "categories": None}
            else:
                small_ints.discard(col.name)
                if col.type != "continuous":
                    updates[col.name] = {"type": "continuous", "categories": None}
    decisions = {c.name: (f"changed to {updates[c.name]['type']}" if c.name in updates else f"kept {c.type}") for c in todo}
    ledger.record(
        "column types and date formats read from the data (counts of values contradicting them)",
        "Gaussian mechanism (zCDP), one count per column", rho=rho, columns=[c.name for c in todo],
        sigma=sigma, decisions=decisions, undecided_numbers=undecided,
    )
    if undecided:
        ledger.notes.append(
            f"columns {undecided}: at this budget the noise (3 sigma = {3 * sigma:.0f}) exceeds half the noisy row count, "
            "so DP cannot confirm that they hold whole numbers; they are modelled as continuous (small codes such as "
            "flags are still found by their DP domain histogram). Declare their types public to keep them integer")
    if undecided_ids:
        ledger.notes.append(
            f"columns {undecided_ids}: at this budget the noise (3 sigma = {3 * sigma:.0f}) exceeds half the noisy row "
            "count, so DP cannot tell whether their values are unique; they are modelled as values (categories or "
            "numbers), not regenerated as identifiers. Declare an identifier's type public (type: identifier) to keep it")
    cols = []
    for c in schema.columns:
        upd = updates.get(c.name)
        if upd is None:
            cols.append(c)
            continue
        data = c.model_dump()
        data.update(upd)
        cols.append(ColumnSchema.model_validate(data))
    return schema.model_copy(update={"columns": cols}), small_ints


__all__ = ["decide_structure", "id_like", "needs_decision"]
