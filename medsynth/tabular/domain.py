"""Completing a schema's domains before a fit: declared public, read from the data, or estimated with DP.

Differential privacy covers everything taken from the data. For a DP fit, a column whose domain is
public (``public: true`` with bounds or categories) costs nothing. A column whose domain was read
from the data (``public: false``, what ``schema infer`` writes) or is incomplete gets its domain
re-estimated with DP from ``privacy.domain_budget`` of the budget: numeric ranges by noisy
histograms (:func:`~medsynth.privacy.mechanisms.dp_bounds`), category lists by a thresholded noisy
histogram (:func:`~medsynth.privacy.mechanisms.dp_categories`); such columns are also allowed to be
missing (whether they have missing values is not released). With ``domain_budget: 0`` the fit
refuses and says how to declare the domains public. Non-DP fits read domains from the data freely.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from medsynth.core.errors import DataValidationError, PrivacyBudgetError
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.mechanisms import cdp_rho, dp_bounds, dp_categories
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.schema import (
    DISCRETE_TYPES,
    EPOCH,
    NUMERIC_TYPES,
    ColumnSchema,
    TableSchema,
    category_key,
    from_days,
    parse_dates,
)


def _numbers(col: ColumnSchema, s: pd.Series) -> np.ndarray:
    if col.type == "datetime":
        return ((parse_dates(s, col.format) - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _native_categories(s: pd.Series, keys: list[str]) -> list[Any]:
    """Map released keys back to the column's own values (first occurrence), in key order."""
    first: dict[str, Any] = {}
    for v in s.dropna().unique():
        first.setdefault(category_key(v), v)
    out = []
    for k in keys:
        v = first[k]
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating, float)):
            v = int(v) if float(v).is_integer() else float(v)
        elif isinstance(v, np.bool_):
            v = bool(v)
        out.append(v)
    return out


def _sorted_categories(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _set_bounds(col: ColumnSchema, lo: float, hi: float) -> dict[str, Any]:
    if col.type == "integer":
        return {"min": int(math.floor(lo)), "max": int(math.ceil(hi))}
    if col.type == "datetime":
        return {"min": from_days(math.floor(lo)), "max": from_days(math.ceil(hi))}
    return {"min": float(lo), "max": float(hi)}


def complete_from_data(schema: TableSchema, df: pd.DataFrame) -> TableSchema:
    """Fill missing bounds/categories from the data (non-private fits only)."""
    cols = []
    for col in schema.columns:
        upd: dict[str, Any] = {}
        if col.type in NUMERIC_TYPES and not col.has_domain:
            x = _numbers(col, df[col.name])
            lo = col.bounds()[0] if col.min is not None else float(np.nanmin(x))
            hi = col.bounds()[1] if col.max is not None else float(np.nanmax(x))
            upd = _set_bounds(col, lo, hi)
        elif col.type in DISCRETE_TYPES and not col.has_domain:
            keys = sorted({category_key(v) for v in df[col.name].dropna()})
            upd = {"categories": _sorted_categories(_native_categories(df[col.name], keys))}
        if col.type != "identifier" and df[col.name].isna().any() and not col.missing:
            upd["missing"] = True
        cols.append(col.model_copy(update=upd) if upd else col)
    return schema.model_copy(update={"columns": cols})


def resolve_domain(
    schema: TableSchema, df: pd.DataFrame, *, privacy: PrivacyConfig, ledger: PrivacyLedger, rng: np.random.Generator
) -> TableSchema:
    """Return the schema with every modelled column's domain complete, recording the cost in ``ledger``.

    Raises:
        PrivacyBudgetError: for a DP fit with domains read from the data when ``domain_budget`` is 0,
            or when a range cannot be estimated within the budget.
    """
    if not privacy.private:
        ledger.record("domains (bounds, categories, missingness) read from the data", "none (non-private fit)",
                      columns=schema.names)
        return complete_from_data(schema, df)
    todo = [schema.column(n) for n in schema.private_domain_columns()]
    todo_est = [c for c in todo if c.type != "boolean"]  # a boolean's domain {False, True} is known
    if not todo_est:
        return _with_missing(schema, {c.name for c in todo})
    if privacy.domain_budget <= 0:
        raise PrivacyBudgetError(
            "a differentially private fit cannot use domains read from the data, and domain_budget is 0. "
            f"Columns {[c.name for c in todo_est]} have public: false (or no bounds/categories). Either declare them "
            "public in the schema (set min/max or categories from public knowledge, e.g. clinical reference ranges, "
            "and public: true), or set privacy.domain_budget (e.g. 0.1) to estimate them with DP from the budget."
        )
    eps = privacy.epsilon * privacy.domain_budget  # type: ignore[operator]
    delta = privacy.delta * privacy.domain_budget
    n_cat = sum(c.type == "categorical" for c in todo_est)
    rho = cdp_rho(eps, delta / 2 if n_cat else delta)
    rho_each = rho / len(todo_est)
    delta_cat = (delta / 2) / n_cat if n_cat else 0.0
    updates: dict[str, dict[str, Any]] = {c.name: {"missing": True} for c in todo}
    detail: dict[str, Any] = {}
    for col in todo_est:
        if col.type in NUMERIC_TYPES:
            x = _numbers(col, df[col.name])
            try:
                res = dp_bounds(x, rho_each, rng)
            except PrivacyBudgetError as exc:
                raise PrivacyBudgetError(f"column '{col.name}': {exc}") from None
            upd = _set_bounds(col, res.low, res.high)
            if col.transform == "log" and float(upd["min"]) < 0:
                upd["min"] = 0 if col.type == "integer" else 0.0
            updates[col.name].update(upd)
            detail[col.name] = {"mechanism": "two-stage noisy histogram bounds", "rho": rho_each, **upd}
        else:
            keys = df[col.name].dropna().map(category_key).to_numpy(dtype=str)
            released = dp_categories(keys, rho_each, delta_cat, rng)
            if col.categories:
                declared = {category_key(c) for c in col.categories}
                released = [k for k in released if k in declared]
            if not released:
                raise PrivacyBudgetError(
                    f"column '{col.name}': no category is frequent enough to be released with DP at this budget; "
                    "declare its categories with public: true in the schema, or give more budget"
                )
            cats = _sorted_categories(_native_categories(df[col.name], released))
            updates[col.name]["categories"] = cats
            detail[col.name] = {"mechanism": "thresholded noisy histogram", "rho": rho_each, "delta": delta_cat,
                                "released": len(cats)}
    ledger.record(
        "domains of columns read from the data (ranges, category lists)",
        "Gaussian noisy histograms (zCDP, converted to (epsilon, delta))",
        epsilon=eps, delta=delta, columns=[c.name for c in todo_est], rho=rho, per_column=detail,
    )
    cols = [c.model_copy(update=updates[c.name]) if c.name in updates else c for c in schema.columns]
    out = schema.model_copy(update={"columns": cols})
    _check_complete(out)
    return out


def _with_missing(schema: TableSchema, names: set[str]) -> TableSchema:
    cols = [c.model_copy(update={"missing": True, "categories": c.categories or [False, True]}) if c.name in names else c
            for c in schema.columns]
    return schema.model_copy(update={"columns": cols})


def _check_complete(schema: TableSchema) -> None:
    bad = [c.name for c in schema.modelled if not c.has_domain]
    if bad:
        raise DataValidationError([f"column '{b}' still has no domain" for b in bad])


__all__ = ["complete_from_data", "resolve_domain"]
