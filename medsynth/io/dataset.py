"""Multi-table datasets: a folder of tables (one CSV/Parquet file each) and their schema with keys and relations.

A dataset is a folder; each table is one file, named by its stem (``patients.csv`` -> table
``patients``), as SDV's ``load_csvs`` does. The dataset schema is one YAML file that synthesizers and
evaluation both read::

    version: 1
    tables:
      patients:
        primary_key: id
        columns:
          - {name: id, type: identifier}
          - {name: futime, type: integer, min: 41, max: 5225}
      visits:
        columns:
          - {name: id, type: identifier}
          - {name: day, type: integer, min: 0, max: 5152}
    relations:
      - {child: visits, column: id, parent: patients, parent_column: id, order_by: day, within: futime}

Each table's section is a :class:`~medsynth.io.schema.TableSchema` plus its ``primary_key``. A relation
says that ``child.column`` holds values of ``parent.parent_column`` (the parent's primary key); a child
row whose key has no parent, duplicate or missing primary keys, and cycles of relations are errors.
Optional time fields of a relation: ``order_by`` (the child column that orders a parent's rows in time),
``within`` (a parent column every child time stays below, e.g. the follow-up time), ``after`` (a parent
column every child time is at or after, e.g. the admission time: the child's times are modelled from it),
``sequence`` (a
child column numbering a parent's rows 1, 2, ...), ``ends`` (child columns ending an interval that
starts at ``order_by``, e.g. ``tstop``) and ``chained`` (the end, one of ``ends``, where the parent's next interval
starts: a counting-process table). ``read_from_data`` lists the relation fields that
``schema infer`` found in the data (a DP fit re-decides them under DP); the user may add or remove them.
Inference lives in :mod:`medsynth.io.dataset_infer`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, model_validator

from medsynth.core.config import ConfigModel, read_yaml, validate_config
from medsynth.core.errors import ConfigError, DataValidationError
from medsynth.core.files import atomic_dir, write_text
from medsynth.io.schema import (
    NUMERIC_TYPES,
    SCHEMA_VERSION,
    Category,
    TableSchema,
    category_key,
    validate_table,
    zero_padded,
)

#: File endings read as tables (``.gz``/``.bz2``/``.xz``/``.zip`` CSVs too).
TABLE_ENDINGS = (".csv", ".tsv", ".parquet", ".pq", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".tsv.gz")
RelationField = Literal["order_by", "within", "after", "sequence", "ends", "chained", "terminal", "flag",
                        "terminal_at_end", "constant", "copied", "once", "advancing"]


class DatasetTable(TableSchema):
    """One table of a dataset: its columns and constraints (as :class:`TableSchema`) and its primary key.

    Attributes:
        primary_key: the column whose values identify the table's rows (unique, never missing), or None.
    """

    primary_key: str | None = None

    @model_validator(mode="after")
    def _check_key(self) -> DatasetTable:
        if self.unit is not None:
            raise ValueError(f"unit '{self.unit}': related tables protect each row of the root table (a patient with "
                             "all their rows in the other tables), set by the relations; leave unit out of their tables")
        if self.primary_key is not None:
            if self.primary_key not in self.names:
                raise ValueError(f"primary_key '{self.primary_key}' is not a column (columns: {', '.join(self.names)})")
            if self.column(self.primary_key).type != "identifier":
                raise ValueError(f"primary key '{self.primary_key}' must have type identifier")
        return self

    def table_schema(self) -> TableSchema:
        """The plain table schema (without the key), e.g. for single-table code."""
        return TableSchema(columns=self.columns, constraints=self.constraints)


class Relation(ConfigModel):
    """``child.column`` refers to ``parent.parent_column`` (the parent's primary key).

    Attributes:
        child: the referring table.
        column: its foreign-key column.
        parent: the referred table.
        parent_column: the parent's primary key.
        order_by: the child column that orders a parent's rows in time (numeric or datetime), if any.
        within: a parent column (same unit) that bounds the child's ``order_by`` values from above.
        after: a parent column (same unit) that the child's ``order_by`` values are at or after (an admission's
            time for its lab results): a parent's first child time is modelled as its offset from this column.
        sequence: a child integer column that numbers a parent's rows 1, 2, ... in ``order_by`` order.
        ends: child columns that end an interval starting at ``order_by`` (never before it), e.g. ``tstop``.
        chained: the end (one of ``ends``) at which each of a parent's intervals is followed by the next (``order_by``
            equals the previous row's ``chained`` value: survival's counting-process tables, ``tstart``/``tstop``; ward
            transfers, ``intime``/``outtime``), or None; sampled rows keep it (that end is the next row's time).
        terminal: a child category column whose ``terminal_values`` end a parent's rows (a death, a censoring among a
            patient's intervals): held by a parent's last row only (sampled rows keep it: where a model puts one on an
            earlier row, a table no other links to moves that row's values to the last, and a second terminal row
            takes a plain row's values; a table others link to moves the value alone). A DP fit decides it anew among
            the released values named like an end (death, censored ...) unless declared.
        terminal_values: the values of ``terminal`` that end a parent's rows.
        flag: a parent column that says whether the parent holds a row of ``flag_value`` (a patient's death flag and
            their death row): a boolean, or a category of 0 and 1. Sampled rows keep it: a flagged parent without that
            row gets it on its last row, and an unflagged parent's row holding it takes a plain row's value. A DP fit
            decides it anew among the parent's flags unless declared.
        flag_value: the value of ``terminal`` (one of ``terminal_values``) that ``flag`` says a parent holds.
        terminal_at_end: a terminal row's time is its parent's ``within`` time (a death on the day follow-up ends):
            sampled terminal rows are written at it.
        once: a child category column whose ``once_values`` a parent holds on one row at most (a diagnosis of AIDS, a
            transplant: an event that happens once), or None. Sampled rows keep it: in a table no other links to, a
            parent's later row holding a value it already held is left out. A DP fit decides it anew among the released
            values of the terminal column and of category columns named like an event (event, status) unless declared.
        once_values: the values of ``once`` held once per parent at most.
        constant: child columns that hold one value per parent (a patient's age, weight or smoking status repeated on
            each of their visits, as an export writes them): sampled rows take the parent's first row's value.
        copied: child columns that hold the parent's value of its column of the same name (a patient's sex or
            treatment repeated on each visit): sampled rows take the sampled parent's value.
        advancing: child number columns that advance with ``order_by`` at a fixed rate within a parent, ``{column:
            rate}`` (a person's age at each yearly visit, rate 1 per year; per day, 1/365.25): sampled rows take one
            value per parent (the median of its rows' values less ``rate`` times their time) plus ``rate`` times the
            row's time. Read from the data it is a rule a
            DP fit uses only once accepted (taken out of ``read_from_data``: public knowledge of how the column is
            recorded); a non-private fit uses it as read.
        read_from_data: the fields above that ``schema infer`` read from the data.
        absent: fields the schema declares the relation has none of (public knowledge, e.g. ``[after]``: the visits
            start at no parent column): a DP fit decides them no more (an unset field is decided under DP).
    """

    child: str
    column: str
    parent: str
    parent_column: str
    order_by: str | None = None
    within: str | None = None
    after: str | None = None
    sequence: str | None = None
    ends: list[str] = Field(default_factory=list)
    chained: str | None = None
    terminal: str | None = None
    terminal_values: list[Category] = Field(default_factory=list)
    flag: str | None = None
    flag_value: Category | None = None
    terminal_at_end: bool = False
    once: str | None = None
    once_values: list[Category] = Field(default_factory=list)
    constant: list[str] = Field(default_factory=list)
    copied: list[str] = Field(default_factory=list)
    advancing: dict[str, float] = Field(default_factory=dict)
    read_from_data: list[RelationField] = Field(default_factory=list)
    absent: list[RelationField] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _chained_as_name(cls, data: Any) -> Any:
        """``chained: true`` (its first form, one day on main) meant the first end; ``false`` none."""
        if isinstance(data, dict) and isinstance(data.get("chained"), bool):
            ends = data.get("ends") or []
            data = {**data, "chained": (ends[0] if ends else None) if data["chained"] else None}
        return data

    @property
    def label(self) -> str:
        """``child.column -> parent.parent_column``."""
        return f"{self.child}.{self.column} -> {self.parent}.{self.parent_column}"


class DatasetSchema(ConfigModel):
    """The schema of a folder of tables: every table's columns and key, and the relations between them."""

    version: int = SCHEMA_VERSION
    tables: dict[str, DatasetTable] = Field(min_length=1)
    relations: list[Relation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> DatasetSchema:
        problems = relation_problems(self.tables, self.relations)
        if self.version != SCHEMA_VERSION:
            problems.append(f"schema version {self.version} is not supported (expected {SCHEMA_VERSION})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- graph -----------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Table names, in file order."""
        return list(self.tables)

    def table(self, name: str) -> DatasetTable:
        """The schema of table ``name`` (a DataValidationError names the tables otherwise)."""
        if name not in self.tables:
            raise DataValidationError(f"table '{name}' is not in the schema (tables: {', '.join(self.names)})")
        return self.tables[name]

    def parents_of(self, table: str) -> list[Relation]:
        """The relations in which ``table`` is the child."""
        return [r for r in self.relations if r.child == table]

    def children_of(self, table: str) -> list[Relation]:
        """The relations in which ``table`` is the parent."""
        return [r for r in self.relations if r.parent == table]

    @property
    def roots(self) -> list[str]:
        """Tables without a parent."""
        return [t for t in self.tables if not self.parents_of(t)]

    def order(self) -> list[str]:
        """Tables with every parent before its children (the schema has no cycle)."""
        out: list[str] = []
        pending = list(self.tables)
        while pending:
            ready = [t for t in pending if all(r.parent in out for r in self.parents_of(t))]
            out.extend(ready)
            pending = [t for t in pending if t not in ready]
        return out

    def key_columns(self, table: str) -> list[str]:
        """The primary key and foreign-key columns of ``table``."""
        keys = [self.tables[table].primary_key] if self.tables[table].primary_key else []
        return [*keys, *(r.column for r in self.parents_of(table) if r.column not in keys)]

    # -- files -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The schema as a plain mapping (defaults left out), as the YAML holds it."""
        tables: dict[str, Any] = {}
        for name, t in self.tables.items():
            body = yaml.safe_load(t.table_schema().to_yaml())
            body.pop("version", None)
            if not body.get("constraints"):
                body.pop("constraints", None)
            tables[name] = {"primary_key": t.primary_key, **body} if t.primary_key else body
        rels = [r.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
            "child": r.child, "column": r.column, "parent": r.parent, "parent_column": r.parent_column} for r in self.relations]
        return {"version": self.version, "tables": tables, "relations": rels}

    def to_yaml(self) -> str:
        """The schema as YAML."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, width=120)

    def save(self, path: str | Path) -> Path:
        """Atomically write the schema as YAML."""
        return write_text(path, self.to_yaml())

    @classmethod
    def load(cls, path: str | Path) -> DatasetSchema:
        """Read and validate a dataset schema YAML (every problem in one ConfigError)."""
        return validate_config(cls, read_yaml(path), source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetSchema:
        """Validate a mapping as a dataset schema."""
        return validate_config(cls, data, source="dataset schema")


def is_dataset_schema(path: str | Path) -> bool:
    """Whether a schema YAML describes a dataset (``tables:``) rather than one table (``columns:``)."""
    try:
        data = read_yaml(path)
    except (ConfigError, OSError):  # an unreadable file is "not a dataset schema"; load() reports why
        return False
    return isinstance(data, dict) and "tables" in data


def relation_problems(tables: Mapping[str, DatasetTable], relations: list[Relation]) -> list[str]:
    """Every structural problem of a set of relations: unknown tables or columns, keys that are not
    primary keys, time fields of the wrong type, duplicated relations, cycles."""
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for r in relations:
        missing = [t for t in (r.child, r.parent) if t not in tables]
        if missing:
            problems.append(f"relation {r.label}: table(s) {missing} are not in the schema (tables: {', '.join(tables)})")
            continue
        child, parent = tables[r.child], tables[r.parent]
        if r.column not in child.names:
            problems.append(f"relation {r.label}: column '{r.column}' is not in table '{r.child}' (columns: {', '.join(child.names)})")
        elif child.column(r.column).type != "identifier":
            problems.append(f"relation {r.label}: foreign key '{r.child}.{r.column}' must have type identifier")
        if r.parent_column not in parent.names:
            problems.append(f"relation {r.label}: column '{r.parent_column}' is not in table '{r.parent}' "
                            f"(columns: {', '.join(parent.names)})")
        elif parent.primary_key != r.parent_column:
            problems.append(f"relation {r.label}: '{r.parent}.{r.parent_column}' must be the primary key of '{r.parent}' "
                            f"(it is {parent.primary_key!r}); declare it with --key {r.parent}.{r.parent_column}")
        if (r.child, r.column) in seen:
            problems.append(f"relation {r.label}: '{r.child}.{r.column}' refers to more than one parent")
        seen.add((r.child, r.column))
        for field_name in r.absent:
            value = getattr(r, field_name)
            if value and field_name not in r.read_from_data:
                problems.append(f"relation {r.label}: {field_name} is both declared ({value!r}) and listed in absent; "
                                f"remove one of them")
        for field_name, table, want in (("order_by", child, NUMERIC_TYPES), ("within", parent, NUMERIC_TYPES),
                                        ("after", parent, NUMERIC_TYPES)):
            col = getattr(r, field_name)
            if col is None:
                continue
            if col not in table.names:
                problems.append(f"relation {r.label}: {field_name} '{col}' is not a column of the "
                                f"{'child' if table is child else 'parent'} table")
            elif table.column(col).type not in want:
                problems.append(f"relation {r.label}: {field_name} '{col}' must be numeric or a date "
                                f"(it is {table.column(col).type})")
        if r.after is not None and r.after in parent.names:
            if r.order_by is None:
                problems.append(f"relation {r.label}: after '{r.after}' needs order_by (the child's time)")
            elif r.after == r.within:
                problems.append(f"relation {r.label}: after and within are both '{r.after}'; a parent's rows would have "
                                "no time to lie in (after: the start, e.g. an admission time; within: the end)")
            elif r.order_by in child.names and (child.column(r.order_by).type == "datetime") != (parent.column(r.after).type == "datetime"):
                problems.append(f"relation {r.label}: after '{r.after}' and order_by '{r.order_by}' must both be dates "
                                "or both be numbers (the same unit)")
        for end in r.ends:
            if end not in child.names:
                problems.append(f"relation {r.label}: end '{end}' is not a column of '{r.child}'")
            elif child.column(end).type not in NUMERIC_TYPES:
                problems.append(f"relation {r.label}: end '{end}' must be numeric or a date")
            elif r.order_by is None:
                problems.append(f"relation {r.label}: ends {r.ends} need order_by (the start of each interval)")
        if r.terminal is not None:  # (as read from the data, checked only where the column is: a table typed anew by hand
            # may hold it as a number)
            declared = "terminal" not in r.read_from_data
            typed = r.terminal in child.names and child.column(r.terminal).type in ("categorical", "boolean")
            if (declared and not typed) or not r.order_by or not r.terminal_values:
                problems.append(f"relation {r.label}: terminal '{r.terminal}' must be a category column of "
                                f"'{r.child}' with terminal_values, in a relation with order_by (the values that end a "
                                "parent's rows, e.g. terminal: event, terminal_values: [death])")
        if r.flag is not None:  # (each cause its own message: a reviewer)
            declared = "flag" not in r.read_from_data
            typed = r.flag in parent.names and yes_no_column(parent.column(r.flag))
            if r.flag not in parent.names:
                problems.append(f"relation {r.label}: flag '{r.flag}' is not a column of '{r.parent}'")
            elif declared and not typed:
                problems.append(f"relation {r.label}: flag '{r.flag}' must be a yes/no column of '{r.parent}' (boolean, "
                                "or categories 0 and 1)")
            if r.terminal is None:
                problems.append(f"relation {r.label}: flag '{r.flag}' needs a terminal event (terminal, terminal_values: "
                                "e.g. terminal: event, terminal_values: [death], flag: died, flag_value: death)")
            elif r.flag_value is None or category_key(r.flag_value) not in {category_key(v) for v in r.terminal_values}:
                problems.append(f"relation {r.label}: flag_value {r.flag_value!r} must be one of its terminal_values "
                                f"{list(r.terminal_values)} (the value the flag says a parent holds)")
        elif r.flag_value is not None:
            problems.append(f"relation {r.label}: flag_value {r.flag_value!r} needs a flag (the parent's yes/no column "
                            "that says a parent holds it)")
        if r.once is not None:  # (as read from the data, checked only where the column is, as terminal; each cause its
            # own message)
            declared = "once" not in r.read_from_data
            if r.once not in child.names:
                problems.append(f"relation {r.label}: once '{r.once}' is not a column of '{r.child}'")
            elif declared and child.column(r.once).type not in ("categorical", "boolean"):
                problems.append(f"relation {r.label}: once '{r.once}' must be a category column of '{r.child}' (the "
                                "values a parent holds on one row at most, e.g. once: event, once_values: [aids])")
            if not r.once_values:
                problems.append(f"relation {r.label}: once '{r.once}' needs once_values (e.g. once_values: [aids])")
            if any(o.parent == r.child for o in relations):
                problems.append(f"relation {r.label}: once needs a table no other links to ('{r.child}' has child "
                                "tables, whose rows a left-out row would orphan)")
        elif r.once_values:
            problems.append(f"relation {r.label}: once_values {list(r.once_values)} need once (the child column "
                            "holding them)")
        if r.terminal_at_end and (r.terminal is None or r.within is None or r.ends):
            problems.append(f"relation {r.label}: terminal_at_end needs a terminal event and a within bound, and no "
                            "interval ends (its terminal rows are written at the parent's within time)")
        for col in r.constant:
            if col not in child.names:
                problems.append(f"relation {r.label}: constant '{col}' is not a column of '{r.child}'")
            elif col in (r.column, r.order_by, r.sequence, *r.ends):
                problems.append(f"relation {r.label}: constant '{col}' is its key or one of its times; a column held once "
                                "per parent is another (e.g. constant: [age, smoker])")
        for col, rate in r.advancing.items():
            if col not in child.names or child.column(col).type not in ("integer", "continuous"):
                problems.append(f"relation {r.label}: advancing '{col}' must be a number column of '{r.child}' (e.g. "
                                "advancing: {age: 1.0}, an age at yearly visits)")
            elif col in (r.column, r.order_by, r.sequence, *r.ends, *r.constant, *r.copied):
                problems.append(f"relation {r.label}: advancing '{col}' is its key, one of its times, or held once")
            if not (math.isfinite(float(rate)) and float(rate) > 0):
                problems.append(f"relation {r.label}: advancing '{col}' needs a rate above 0 (units of the column per unit "
                                f"of its time order), got {rate!r}")
            if r.order_by is None:
                problems.append(f"relation {r.label}: advancing '{col}' needs order_by (the time it advances with)")
        for col in r.copied:
            if col not in child.names or col not in parent.names:
                problems.append(f"relation {r.label}: copied '{col}' must be a column of both '{r.child}' and "
                                f"'{r.parent}' (the child's copy of the parent's value)")
            elif col in (r.column, r.order_by, r.sequence, *r.ends):
                problems.append(f"relation {r.label}: copied '{col}' is its key or one of its times")
        if r.chained is not None and r.chained not in r.ends:
            problems.append(f"relation {r.label}: chained '{r.chained}' must be one of its ends {r.ends} (the end at "
                            "which the next interval starts)")
        if r.sequence is not None:
            if r.sequence not in child.names:
                problems.append(f"relation {r.label}: sequence '{r.sequence}' is not a column of '{r.child}'")
            elif child.column(r.sequence).type not in ("integer", "categorical", "continuous"):
                problems.append(f"relation {r.label}: sequence '{r.sequence}' must hold whole numbers")
    cycle = find_cycle(relations)
    if cycle:
        problems.append(f"the relations form a cycle {' -> '.join(cycle)} (each table must be a child of tables "
                        "above it only); remove one of these relations")
    return problems


def find_cycle(relations: list[Relation]) -> list[str] | None:
    """A cycle of tables (child -> parent -> ... -> child) if the relations hold one, else None."""
    graph: dict[str, list[Relation]] = {}
    for r in relations:
        graph.setdefault(r.child, []).append(r)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(t: str) -> list[str] | None:
        state[t] = 1
        stack.append(t)
        for r in graph.get(t, []):
            if state.get(r.parent) == 1:
                return [*stack[stack.index(r.parent):], r.parent]
            if r.parent not in state:
                found = visit(r.parent)
                if found:
                    return found
        stack.pop()
        state[t] = 2
        return None

    for t in list(graph):
        if t not in state:
            found = visit(t)
            if found:
                return [f"{a}" for a in found]
    return None


# -- folders of tables --------------------------------------------------------------------------
def table_name(path: str | Path) -> str | None:
    """The table name of a file (its stem before the table ending), or None for a non-table file."""
    name = Path(path).name
    low = name.lower()
    if name.startswith("."):
        return None
    for end in sorted(TABLE_ENDINGS, key=len, reverse=True):
        if low.endswith(end) and len(name) > len(end):
            return name[: -len(end)]
    return None


def table_files(folder: str | Path) -> dict[str, Path]:
    """``{table name: file}`` of a dataset folder.

    Raises:
        DataValidationError: not a folder, no table file in it, or two files with one table name.
    """
    p = Path(folder)
    if not p.is_dir():
        raise DataValidationError(f"'{p}' is not a folder; a multi-table dataset is a folder with one CSV/Parquet file per table")
    found: dict[str, list[Path]] = {}
    for f in sorted(p.iterdir()):
        t = table_name(f) if f.is_file() else None
        if t is not None:
            found.setdefault(t, []).append(f)
    if not found:
        raise DataValidationError(f"folder '{p}' holds no table file (.csv, .tsv, .csv.gz or .parquet); put one file per table in it")
    twice = {t: [f.name for f in fs] for t, fs in found.items() if len(fs) > 1}
    if twice:
        raise DataValidationError([f"table '{t}' has more than one file {fs}; keep one" for t, fs in twice.items()],
                                  context=f"dataset folder '{p}'")
    return {t: fs[0] for t, fs in found.items()}


def read_dataset(folder: str | Path, *, private: bool = False) -> dict[str, pd.DataFrame]:
    """Read every table of a dataset folder (``{name: DataFrame}``, in file-name order); ``private``: a DP fit's input
    (:func:`~medsynth.io.tables.read_table`)."""
    from medsynth.io.tables import read_table

    return {t: read_table(f, private=private) for t, f in table_files(folder).items()}


def write_dataset(tables: Mapping[str, pd.DataFrame], folder: str | Path, *, fmt: Literal["csv", "parquet"] = "csv",
                  overwrite: bool = False) -> Path:
    """Atomically write one file per table into ``folder`` (nothing is left behind on failure).

    Raises:
        RunDirectoryError: ``folder`` exists and is not empty, without ``overwrite``.
    """
    from medsynth.io.tables import write_table

    with atomic_dir(folder, overwrite=overwrite) as tmp:
        for name, df in tables.items():
            write_table(df, tmp / f"{name}.{fmt}")
    return Path(folder)


# -- validation ---------------------------------------------------------------------------------
#: The keys (:func:`~medsynth.io.schema.category_key`) a yes/no column holds: a relation's ``flag``.
FLAG_KEYS = frozenset({"0", "1", "True", "False"})


def yes_no_column(col: Any) -> bool:  # noqa: ANN401 - a ColumnSchema
    """Whether a column's schema holds yes/no values: a boolean, or a category of two of :data:`FLAG_KEYS` (a
    relation's ``flag``)."""
    return col.type == "boolean" or (col.type == "categorical" and len(col.categories or []) == 2
                                     and {category_key(v) for v in col.categories or []} <= FLAG_KEYS)


def flag_truth(values: pd.Series, *, strict: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    """A yes/no column's values as (true, known) arrays (1 and True are yes; a missing value is unknown), or, where it
    holds anything else, None (``strict``) or that value unknown too (a relation's ``flag``; a DP decision judges each
    row on its own: one patient's 2 or 9 turned every patient's count, an adversary)."""
    keys = canonical_keys(values)
    low = keys.astype(object).map(lambda k: None if k is None else str(k).lower())
    yes_no = low.isin([k.lower() for k in FLAG_KEYS]).to_numpy(dtype=bool)
    if strict and (keys.notna().to_numpy(dtype=bool) & ~yes_no).any():
        return None
    return low.isin(["1", "true"]).to_numpy(dtype=bool), yes_no


def canonical_keys(s: pd.Series) -> pd.Series:
    """Key values as canonical strings (1, 1.0, "1" and "001" match: a key zero-padded in one export and not in
    another links, as it did when both were read as numbers; a reviewer), missing stays missing."""
    out = s.map(lambda v: None if _isna(v) else key_string(v))
    return out.astype(object)


def key_string(value: Any) -> str:
    """One key's canonical string: :func:`category_key`, a zero-led key of digits as the number it spells."""
    k = category_key(value)
    # (without int(): a key of 5,000 digits crashed a DP folder fit on one patient's row, an adversary)
    return (k.strip().lstrip("0") or "0") if zero_padded(k) else k


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


#: What a DP fit's key error says instead of an example (no row number either: an appended row's is the private row
#: count plus one, an adversary found).
WITHHELD = "values and rows withheld: DP fit; `medsynth schema check` lists them"


def _example(values: pd.Series, rows: np.ndarray, redact: bool) -> str:
    if redact:
        return WITHHELD
    v = values.iloc[int(rows[0])]
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return f"e.g. {category_key(v)}"
    return f"e.g. {str(v)!r}"


def whole_repeats(df: pd.DataFrame, keys: list[str]) -> np.ndarray | None:
    """Rows repeating an earlier row whole (every value equal), where one of the ``keys`` columns repeats; None where
    none does (the whole-row test, about 6-17 s on 1M rows x 16 columns, is then skipped)."""
    if not any(canonical_keys(df[c]).dropna().duplicated().any() for c in keys if c in df.columns):
        return None
    return df.astype(str).duplicated(keep="first").to_numpy()


def drop_repeated_rows(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """The tables without rows that repeat an earlier row of a table with a primary key whole (every value equal: an
    export that wrote a patient twice), and how many each table lost. A key repeated with other values is no such
    row: it stays, and :func:`key_problems` names it."""
    out = dict(tables)
    lost: dict[str, int] = {}
    for name, t in schema.tables.items():
        df = out.get(name)
        if df is None or t.primary_key is None:
            continue
        again = whole_repeats(df, [t.primary_key])
        if again is not None and again.any():
            lost[name] = int(again.sum())
            out[name] = df.loc[~again].reset_index(drop=True)
    return out, lost


def orphan_rows(child: pd.DataFrame, parent: pd.DataFrame, relation: Relation) -> np.ndarray:
    """Which rows of ``child`` have a key of ``relation`` missing or not among ``parent``'s keys (all False where either
    table lacks the relation's column)."""
    if relation.column not in child.columns or relation.parent_column not in parent.columns:
        return np.zeros(len(child), dtype=bool)
    keys = canonical_keys(child[relation.column])
    return (keys.isna() | ~keys.isin(set(canonical_keys(parent[relation.parent_column]).dropna()))).to_numpy(dtype=bool)


def repeated_rows(keys: pd.Series) -> np.ndarray:
    """Which rows repeat an earlier row's present key (canonical keys: 1 and 1.0 alike)."""
    ck = canonical_keys(keys)
    return (ck.duplicated(keep="first") & ck.notna()).to_numpy(dtype=bool)


def drop_orphans(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """The tables without child rows whose key has no parent (missing, or not among the parent's keys left), parents
    first, so that an orphan's own children go too; and how many rows each table lost (only tables that lost some).
    Real exports hold such rows (visits of patients left out of the patient table); a fit leaves them out instead of
    refusing the dataset. Each row's fate depends on its own key and its parent's presence only."""
    out = dict(tables)
    lost: dict[str, int] = {}
    for t in schema.order():
        df = out.get(t)
        if df is None:
            continue
        keep = np.ones(len(df), dtype=bool)
        for r in schema.parents_of(t):
            parent = out.get(r.parent)
            if parent is not None:
                keep &= ~orphan_rows(df, parent, r)
        if not keep.all():
            lost[t] = int((~keep).sum())
            out[t] = df.loc[keep].reset_index(drop=True)
    return out, lost


def prepare_dataset(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, int]]]:
    """The tables as every command reads a dataset: a keyed table's rows repeating an earlier row whole kept once
    (:func:`drop_repeated_rows`), then child rows with no parent row left out (:func:`drop_orphans`); and what was left
    out (``{"repeated_rows": {table: n}, "orphan_rows": {table: n}}``, tables that lost none omitted)."""
    out, repeated = drop_repeated_rows(tables, schema)
    out, orphans = drop_orphans(out, schema)
    return out, {"repeated_rows": repeated, "orphan_rows": orphans}


def left_out_notes(lost: Mapping[str, Mapping[str, int]]) -> list[str]:
    """What :func:`prepare_dataset` left out, in words (counts: for the data owner's eyes, never a DP release)."""
    return ([f"{n} row(s) of '{t}' repeat an earlier row whole: kept once" for t, n in lost.get("repeated_rows", {}).items()]
            + [f"{n} row(s) of '{t}' have no parent row (their key is missing or not among the parent's): left out"
               for t, n in lost.get("orphan_rows", {}).items()])


def key_problems(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, *, redact: bool = False,
                 orphans: bool = True, loose_keys: Collection[str] = ()) -> list[str]:
    """Duplicate or missing primary keys and (with ``orphans``) child keys without a parent, each with an example;
    the primary keys of the tables in ``loose_keys`` are not checked."""
    problems: list[str] = []
    for name, t in schema.tables.items():
        df = tables.get(name)
        if df is None or t.primary_key is None or t.primary_key not in df.columns or name in loose_keys:
            continue
        keys = canonical_keys(df[t.primary_key])
        miss = np.nonzero(keys.isna().to_numpy())[0]
        if miss.size:
            where = WITHHELD if redact else f"e.g. row {miss[0] + 1}"
            problems.append(f"table '{name}': primary key '{t.primary_key}' is missing in {'some' if redact else miss.size} row(s) "
                            f"({where}); every row needs a key")
        dup = np.nonzero(repeated_rows(df[t.primary_key]))[0]
        if dup.size:
            problems.append(f"table '{name}': primary key '{t.primary_key}' has {'' if redact else f'{dup.size} '}duplicated value(s) "
                            f"({_example(df[t.primary_key], dup, redact)}); a primary key must be unique")
    for r in schema.relations if orphans else []:
        child, parent = tables.get(r.child), tables.get(r.parent)
        if child is None or parent is None:
            continue
        orphan = np.nonzero(orphan_rows(child, parent, r))[0]
        if orphan.size:
            problems.append(f"table '{r.child}': {'some' if redact else orphan.size} row(s) have a key '{r.column}' with no parent in "
                            f"'{r.parent}.{r.parent_column}' ({_example(child[r.column], orphan, redact)}); "
                            "remove them or add their parents")
    return problems


def validate_dataset(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, *, redact: bool = False,
                     may_be_empty: Collection[str] = (), loose_keys: Collection[str] = ()) -> dict[str, dict[str, int]]:
    """Check a dataset against its schema, gathering every problem into one DataValidationError.

    Checks: the folder's tables are the schema's; each table against its table schema
    (:func:`~medsynth.io.schema.validate_table`: not empty, columns, types, categories); primary keys
    unique and present; every child key has a parent.

    Args:
        redact: leave values out of messages (a DP fit), naming rows instead.
        may_be_empty: tables that may hold no row (a DP fit's child table whose every row had no parent): only
            their columns are checked.
        loose_keys: tables whose primary key may repeat or be missing (a DP fit's tables no other table links to:
            their keys are regenerated and link nothing).

    Returns:
        Per table, the values outside declared bounds per column (to be clipped).

    Raises:
        DataValidationError: with every problem, each naming its table.
    """
    problems: list[str] = []
    absent = [t for t in schema.tables if t not in tables]
    extra = [t for t in tables if t not in schema.tables]
    if absent:
        problems.append(f"table(s) {absent} are in the schema but not in the data (tables given: {list(tables)})")
    if extra:
        problems.append(f"table(s) {extra} are in the data but not in the schema; add them (medsynth schema infer) "
                        "or move their files out of the folder")
    clipped: dict[str, dict[str, int]] = {}
    for name, t in schema.tables.items():
        df = tables.get(name)
        if df is None:
            continue
        if name in may_be_empty and len(df) == 0:
            if sorted(map(str, df.columns)) != sorted(t.names):
                problems.append(f"table '{name}': columns {list(df.columns)} are not the schema's {t.names}")
            continue
        try:
            clipped[name] = validate_table(df, t, redact=redact)
        except DataValidationError as exc:
            problems.extend(f"table '{name}': {p}" for p in exc.problems)
    if not problems:
        problems.extend(key_problems(tables, schema, redact=redact, loose_keys=loose_keys))
    if problems:
        raise DataValidationError(problems, context="the dataset does not match its schema")
    return clipped


__all__ = [
    "DatasetSchema",
    "DatasetTable",
    "Relation",
    "FLAG_KEYS",
    "canonical_keys",
    "flag_truth",
    "yes_no_column",
    "find_cycle",
    "is_dataset_schema",
    "key_problems",
    "orphan_rows",
    "repeated_rows",
    "read_dataset",
    "relation_problems",
    "table_files",
    "table_name",
    "validate_dataset",
    "write_dataset",
]
