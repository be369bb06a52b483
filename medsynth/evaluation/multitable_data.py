"""Multi-table datasets for evaluation: loading folders, patient-level flat tables, structural statistics.

A dataset is a folder with one CSV/Parquet file per table (or ``{name: DataFrame}``) and a dataset
schema (:mod:`medsynth.io.dataset`: tables, keys, relations; inferred from the training folder when not
given). The unit of every patient-level metric is a row of the root table with all the rows linked to
it: :func:`patient_table` flattens a dataset to one row per root row (its own columns plus, per child
table, the number of rows and summaries of their columns), which the utility metric and the privacy
attacks use, so that members and non-members are whole patients.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medsynth.core.errors import DataValidationError
from medsynth.io.dataset import DatasetSchema, Relation, read_dataset
from medsynth.io.dataset_infer import SCHEDULE_VALUES, chain_broken, schedule, terminal_keys
from medsynth.io.schema import EPOCH, parse_dates

#: Categories of a child column summarised as per-patient shares (the most frequent real ones).
TOP_CATEGORIES = 3


def slug(name: str) -> str:
    """A table name as a metric-name fragment (lower case letters, digits and underscores)."""
    s = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    return s if s and s[0].isalpha() else f"t_{s}"


def load_dataset(data: str | Path | Mapping[str, pd.DataFrame], role: str) -> dict[str, pd.DataFrame]:
    """A dataset folder or mapping as ``{name: DataFrame}``; a clear error names the role."""
    if isinstance(data, Mapping):
        return {str(k): v.rename(columns=str) for k, v in data.items()}
    p = Path(data)
    if not p.is_dir():
        raise DataValidationError(f"{role} '{p}' is not a folder; a multi-table dataset is a folder with one CSV/Parquet file per table")
    return read_dataset(p)


def column_types(schema: DatasetSchema, table: str) -> dict[str, str]:
    """Evaluation types of a table's columns from the dataset schema (keys and identifiers: "id")."""
    keys = set(schema.key_columns(table))
    out = {}
    for c in schema.tables[table].columns:
        if c.type == "identifier" or c.name in keys:
            out[c.name] = "id"
        elif c.type in ("categorical", "boolean"):
            out[c.name] = "categorical"
        elif c.type == "datetime":
            out[c.name] = "datetime"
        else:
            out[c.name] = "numeric"
    return out


def numbers(s: pd.Series, kind: str, fmt: str | None = None) -> np.ndarray:
    """A column as floats (dates as days since 1970-01-01)."""
    if kind == "datetime":
        return ((parse_dates(s, fmt) - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _keys(s: pd.Series) -> np.ndarray:
    from medsynth.io.dataset import key_string  # ('001' and 1: one key, as the fit links them)

    return s.map(lambda v: None if pd.isna(v) else key_string(v)).to_numpy(dtype=object)


def parent_rows(tables: Mapping[str, pd.DataFrame], rel: Relation) -> np.ndarray:
    """Row index in the parent table of each child row (-1 where the key has no parent)."""
    parent = tables[rel.parent][rel.parent_column]
    child = tables[rel.child][rel.column]
    return pd.Index(_keys(parent)).get_indexer(_keys(child))


def primary_relation(schema: DatasetSchema, table: str) -> Relation | None:
    """The relation a table hangs from: of its parents, the one below all the others."""
    rels = schema.parents_of(table)
    if not rels:
        return None
    for r in rels:
        others = [q.parent for q in rels if q is not r]
        if all(o in _ancestors(schema, r.parent) for o in others):
            return r
    return rels[0]


def _ancestors(schema: DatasetSchema, table: str) -> set[str]:
    out: set[str] = set()
    stack = [r.parent for r in schema.parents_of(table)]
    while stack:
        t = stack.pop()
        if t not in out:
            out.add(t)
            stack.extend(r.parent for r in schema.parents_of(t))
    return out


def unit_rows(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema) -> dict[str, np.ndarray]:
    """For each table, the root row each of its rows belongs to (-1 where the chain of keys breaks)."""
    root = schema.roots[0]
    out = {root: np.arange(len(tables[root]))}
    for t in schema.order():
        rel = primary_relation(schema, t)
        if rel is None or rel.parent not in out:
            continue
        p = parent_rows(tables, rel)
        up = out[rel.parent]
        out[t] = np.where(p >= 0, up[np.clip(p, 0, max(len(up) - 1, 0))] if len(up) else -1, -1)
    return out


def top_categories(train: Mapping[str, pd.DataFrame], schema: DatasetSchema) -> dict[tuple[str, str], list[str]]:
    """The most frequent real categories of each categorical child column (fixed from the training data)."""
    root = schema.roots[0]
    out = {}
    for t in schema.order():
        if t == root:
            continue
        for c, kind in column_types(schema, t).items():
            if kind == "categorical":
                vc = train[t][c].dropna().map(_cat).value_counts()
                out[(t, c)] = list(vc.index[:TOP_CATEGORIES])
    return out


def _cat(v: Any) -> str:
    from medsynth.io.schema import category_key

    return category_key(v)


def patient_table(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema,
                  categories: dict[tuple[str, str], list[str]]) -> pd.DataFrame:
    """One row per root row: its own non-key columns, and per child table the number of rows
    (``T.n``), the mean, min and max of each numeric column (``T.c.mean`` ...) and the share of rows in
    each of the most frequent categories (``T.c=v``)."""
    root = schema.roots[0]
    units = unit_rows(tables, schema)
    types = column_types(schema, root)
    base = tables[root][[c for c, k in types.items() if k != "id"]].reset_index(drop=True).copy()
    root_fmt = {c.name: c.format for c in schema.tables[root].columns}
    for c, k in types.items():
        if k == "datetime":
            base[c] = numbers(base[c], k, root_fmt.get(c))
    n = len(base)
    cols: dict[str, np.ndarray] = {}
    for t in schema.order():
        if t == root or t not in units:
            continue
        u = units[t]
        ok = u >= 0
        cols[f"{t}.n"] = np.bincount(u[ok], minlength=n).astype(float)
        fmt = {c.name: c.format for c in schema.tables[t].columns}
        for c, kind in column_types(schema, t).items():
            if kind in ("numeric", "datetime"):
                x = numbers(tables[t][c], kind, fmt.get(c))
                frame = pd.DataFrame({"u": u[ok], "x": x[ok]}).dropna()
                g = frame.groupby("u")["x"]
                for stat in ("mean", "min", "max"):
                    cols[f"{t}.{c}.{stat}"] = g.agg(stat).reindex(range(n)).to_numpy(dtype=float)
            elif kind == "categorical":
                v = tables[t][c].map(lambda z: None if pd.isna(z) else _cat(z)).to_numpy(dtype=object)
                total = np.bincount(u[ok], minlength=n).astype(float)
                for cat in categories.get((t, c), []):
                    hit = ok & (v == cat)
                    share = np.bincount(u[hit], minlength=n) / np.where(total > 0, total, 1.0)
                    cols[f"{t}.{c}={cat}"] = np.where(total > 0, share, np.nan)
    return pd.concat([base, pd.DataFrame(cols)], axis=1)


def patient_histories(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema,
                      columns: Mapping[str, list[str]] | None = None) -> np.ndarray:
    """One 64-bit hash per root row of its whole record: its own values and, per child table, the multiset of its rows'
    values (keys and identifiers left out: a copy's keys are new; numbers as floats at ``COPY_DIGITS`` significant
    digits, categories by their keys). Two patients hash alike exactly where one holds the other's row and the same
    multiset of child rows. ``columns``: the columns hashed per
    table (by default the schema's non-key columns the table holds; a column a table lacks hashes as missing)."""
    from medsynth.evaluation.tabular_data import row_hashes

    root = schema.roots[0]
    units = unit_rows(tables, schema)
    n = len(tables[root])

    def hashed(t: str) -> np.ndarray:
        kinds = column_types(schema, t)
        cols = list(columns[t]) if columns is not None else [c for c, k in kinds.items() if k != "id"]
        frame = tables[t].reindex(columns=cols).reset_index(drop=True)
        for c in cols:  # (by the schema's type: a copy's whole numbers read back as floats, 3.0, are the same 3)
            if kinds.get(c) == "numeric":
                frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
            elif kinds.get(c) == "categorical":
                frame[c] = frame[c].map(lambda z: None if pd.isna(z) else _cat(z))
        return row_hashes(frame) if cols else np.zeros(len(frame), dtype=np.uint64)

    parts = [pd.Series(hashed(root)).astype(str)]
    for t in schema.order():
        if t == root or t not in units:
            continue
        u, h = units[t], hashed(t)
        ok = u >= 0
        groups = pd.Series(h[ok].astype(str)).groupby(u[ok]).agg(lambda x: ",".join(sorted(x)))
        parts.append(f"{t}:" + groups.reindex(range(n), fill_value="").reset_index(drop=True))
    return pd.util.hash_pandas_object(pd.concat(parts, axis=1).agg("|".join, axis=1), index=False).to_numpy()


def patient_types(schema: DatasetSchema, flat: pd.DataFrame) -> dict[str, str]:
    """Evaluation types of a patient-level table: the root's columns by the schema, summaries numeric."""
    root = {c: ("numeric" if k == "datetime" else k) for c, k in column_types(schema, schema.roots[0]).items() if k != "id"}
    return {c: root.get(c, "numeric") for c in flat.columns}


def children_per_parent(tables: Mapping[str, pd.DataFrame], rel: Relation) -> np.ndarray:
    """Number of child rows of every parent row (0 for parents without children)."""
    p = parent_rows(tables, rel)
    return np.bincount(p[p >= 0], minlength=len(tables[rel.parent]))


def sibling_patterns(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> dict[str, dict[str, float]]:
    """How a parent's child rows share their values: for each category and number column of the child (and its
    ``order_by`` time), among parents with two rows or more, the share whose rows all hold different values
    (``distinct``: a patient's two eyes, one left and one right; visits at different months) and the share whose rows all
    hold one value (``same``: a column constant within the patient; numbers too: a data scientist's quinidine ages, one
    per patient in 94% of them, came out one in none, and no check said so; ``number`` marks them: their ``distinct``
    share is not judged, real labs repeat across visits where values drawn on their own would not, a reviewer's
    non-private pbcseq ast 64% real, 95% shuffled). Missing counts as a value. ``{}`` where no parent has two rows."""
    child = tables[rel.child]
    p = parent_rows(tables, rel)
    types = column_types(schema, rel.child)
    cols = [c for c, k in types.items() if k in ("categorical", "numeric") and c in child.columns]
    if rel.order_by and rel.order_by in child.columns and rel.order_by not in cols:
        cols.append(rel.order_by)
    ok = p >= 0
    n = np.bincount(p[ok], minlength=len(tables[rel.parent]))
    many = n >= 2
    if not cols or not many.any():
        return {}
    out: dict[str, dict[str, float]] = {}
    for c in cols:
        v = child[c].to_numpy(dtype=object)[ok]
        codes = pd.Series(pd.factorize(pd.Series(v).map(lambda x: "\x00missing" if pd.isna(x) else str(x)))[0])
        distinct = pd.DataFrame({"p": p[ok], "v": codes}).groupby("p")["v"].nunique()
        k = np.zeros(len(n), dtype=np.int64)
        k[distinct.index.to_numpy()] = distinct.to_numpy()
        out[c] = {"distinct": float(np.mean(k[many] == n[many])), "same": float(np.mean(k[many] == 1)),
                  "parents": int(many.sum()), "number": types.get(c) == "numeric" and c != rel.order_by}
    return out


def _timed_rows(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> pd.DataFrame | None:
    """A relation's child rows with a parent and a time: columns ``p`` (parent row), ``t`` (``order_by``), the child's
    category columns as text keys (missing: None); None without ``order_by``."""
    child = tables[rel.child]
    if not rel.order_by or rel.order_by not in child.columns or not len(child):
        return None
    types = column_types(schema, rel.child)
    fmt = {c.name: c.format for c in schema.tables[rel.child].columns}
    t = numbers(child[rel.order_by], types.get(rel.order_by, "numeric"), fmt.get(rel.order_by))
    p = parent_rows(tables, rel)
    ok = (p >= 0) & np.isfinite(t)
    out = pd.DataFrame({"p": p[ok], "t": t[ok]})
    for c, k in types.items():
        if k == "categorical" and c in child.columns and c != rel.order_by:
            out[c] = _keys(child[c])[ok]
    return out


def _parents_breaking(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation,
                      breaks: Callable[[pd.DataFrame], np.ndarray]) -> float:
    """The share of parents with two timed child rows or more holding a row ``breaks`` marks (a mask over the rows of
    :func:`_timed_rows`). NaN without ``order_by`` or such parents."""
    rows = _timed_rows(tables, schema, rel)
    if rows is None or not len(rows):
        return float("nan")
    sizes = rows.groupby("p", sort=False).size()
    several = sizes.index[sizes.to_numpy() >= 2]
    if not len(several):
        return float("nan")
    return float(rows.loc[breaks(rows), "p"].nunique() / len(several))


def parents_with_repeated_time(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> float:
    """The share of parents with two timed child rows or more two of which share their time (``order_by``): a child
    seen twice at one age (geepack's ohio at epsilon 1: ages [1, 1, 0, 1] in 15-41% of the synthetic children, none
    real). NaN without ``order_by`` or such parents."""
    return _parents_breaking(tables, schema, rel, lambda rows: rows.duplicated(["p", "t"]).to_numpy())


def _repeats_by_rows(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> pd.DataFrame | None:
    """Per parent with two timed child rows or more: its number of rows (``k``) and whether two share a time (``rep``)."""
    rows = _timed_rows(tables, schema, rel)
    if rows is None or not len(rows):
        return None
    by = rows.assign(rep=rows.duplicated(["p", "t"]).to_numpy()).groupby("p", sort=False)["rep"]
    out = pd.DataFrame({"k": by.size(), "rep": by.any()})
    return out[out["k"] >= 2]


def repeated_time_expected(real: list[Mapping[str, pd.DataFrame]], synthetic: Mapping[str, pd.DataFrame],
                           schema: DatasetSchema, rel: Relation) -> float:
    """The share of the synthetic parents that would hold one time on two rows if each did as often as the real parents
    with as many rows (the real share at the nearest row count at or above, the largest one's beyond): a history of
    many same-day labs holds repeats where a short one does not, so longer synthetic histories are no fault (a reviewer).
    NaN where either side has no parent with two timed rows."""
    parts = [x for x in (_repeats_by_rows(t, schema, rel) for t in real) if x is not None and len(x)]
    syn = _repeats_by_rows(synthetic, schema, rel)
    if not parts or syn is None or not len(syn):
        return float("nan")
    rate = pd.concat(parts).groupby("k")["rep"].mean()
    at = np.clip(np.searchsorted(rate.index.to_numpy(), syn["k"].to_numpy()), 0, len(rate) - 1)
    return float(rate.to_numpy(dtype=float)[at].mean())


def parents_out_of_order(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> float:
    """The share of parents with two timed child rows or more whose time (``order_by``) goes down from one row to the
    next as the file holds them: a patient's visits written out of order. NaN without ``order_by`` or such parents."""
    return _parents_breaking(tables, schema, rel,  # (file order within each parent)
                             lambda rows: rows.groupby("p", sort=False)["t"].diff().to_numpy() < 0)


#: Rows each real value of a time must hold for the report to read a few values (whole and consecutive or not) as a
#: schedule: a time of 40 values or fewer on a few dozen rows may be a spread one seen sparsely.
SCHEDULE_MIN_ROWS = 10


def schedule_values(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> np.ndarray | None:
    """The real times a relation's rows are held at where they are a schedule (:func:`~medsynth.io.dataset_infer.schedule`:
    nlswork's 15 survey years, Spruce's 13 measurement days), else None."""
    rows = _timed_rows(tables, schema, rel)
    if rows is None or not len(rows):
        return None
    t = rows["t"].to_numpy(dtype=float)
    plan = schedule(t)
    if plan is not None:
        return plan
    # (for the report only) a few values not all whole, each held by many rows, are a schedule too: mlmRev's egsingle,
    # school years -2.5 to 2.5, came out 81-99.8% off its six values and the check was skipped. Consecutive whole values
    # stay left out, as schedule() leaves them (a hospital day 0-30 is a spread time: a reviewer)
    values, counts = np.unique(t[np.isfinite(t)], return_counts=True)
    spread = bool(np.all(values == np.round(values)))
    return values if (2 <= values.size <= SCHEDULE_VALUES and counts.min() >= SCHEDULE_MIN_ROWS
                      and not spread) else None


def off_schedule(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation, values: np.ndarray) -> float:
    """The share of a relation's timed child rows whose time is none of the schedule's ``values`` (NaN without)."""
    rows = _timed_rows(tables, schema, rel)
    if rows is None or not len(rows):
        return float("nan")
    t = rows["t"].to_numpy(dtype=float)
    at = np.searchsorted(values, t)
    below, above = values[np.clip(at - 1, 0, values.size - 1)], values[np.clip(at, 0, values.size - 1)]
    tol = 1e-6 * max(float(np.abs(values).max()), 1.0)  # (a decoded -2.4999999 is -2.5)
    return float(((np.abs(t - below) > tol) & (np.abs(t - above) > tol)).mean())


def terminal_values(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> dict[str, list[str]]:
    """Per child category column, the values that end their parent's rows in these (real) tables
    (:func:`~medsynth.io.dataset_infer.terminal_keys`: a death in a table of a patient's intervals), as text keys;
    ``{}`` without ``order_by``."""
    rows = _timed_rows(tables, schema, rel)
    if rows is None or not len(rows):
        return {}
    groups, t = rows["p"].to_numpy(), rows["t"].to_numpy()
    out = {c: terminal_keys(groups, t, rows[c].to_numpy(dtype=object)) for c in rows.columns[2:]}
    return {c: v for c, v in out.items() if v}


def terminal_flags(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation,
                   terminals: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """The parent's yes/no columns that are yes exactly for the parents holding a terminal value (a death flag and
    the death row) in these (real) tables, as (child column, value key, parent column)
    (:func:`~medsynth.io.dataset_infer.terminal_flag`)."""
    from medsynth.io.dataset_infer import terminal_flag

    parent, child = tables[rel.parent], tables[rel.child]
    pkeys = set(schema.key_columns(rel.parent))
    out = []
    for col, keys in terminals.items():
        flag, value = terminal_flag(parent, schema.tables[rel.parent], pkeys, _keys(child[rel.column]),
                                    _keys(parent[rel.parent_column]), child[col], keys)
        if flag is not None:
            out.append((col, value, flag))
    return out


def flag_disagreement(tables: Mapping[str, pd.DataFrame], rel: Relation, col: str, value: str, flag: str) -> float:
    """The share of parents whose yes/no column ``flag`` disagrees with their holding a child row of ``value`` in
    ``col`` (a missing or non-yes/no flag disagrees); NaN without parents."""
    from medsynth.io.dataset import flag_truth

    parent, child = tables[rel.parent], tables[rel.child]
    if not len(parent) or flag not in parent.columns or col not in child.columns:
        return float("nan")
    got = flag_truth(parent[flag], strict=False)  # (a value outside yes/no disagrees on its own row only)
    if got is None:
        return 1.0
    holders = _keys(child[rel.column])[_keys(child[col]) == value]
    holds = np.isin(_keys(parent[rel.parent_column]), holders)
    return float(np.mean(~got[1] | (got[0] != holds)))


def once_values(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation,
                ending: Mapping[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Per child category column (of at most ``ONCE_MAX_CATEGORIES`` values), the values no parent holds on two rows in
    these (real) tables (:func:`~medsynth.io.dataset_infer.once_keys`: an AIDS diagnosis, a transplant), as text keys,
    but the column's terminal values (``ending``: :func:`terminal_values`)."""
    from medsynth.io.dataset_infer import ONCE_MAX_CATEGORIES, once_keys

    child = tables[rel.child]
    keys = set(schema.key_columns(rel.child))
    groups = _keys(child[rel.column])
    out: dict[str, list[str]] = {}
    for c in schema.tables[rel.child].columns:
        if c.name in keys or c.type not in ("categorical", "boolean") or c.name not in child.columns:
            continue
        text = _keys(child[c.name])
        if pd.Series(text).nunique() > ONCE_MAX_CATEGORIES:
            continue
        got = [k for k in once_keys(groups, text) if k not in set((ending or {}).get(c.name, []))]
        if got:
            out[c.name] = got
    return out


def parents_holding_twice(tables: Mapping[str, pd.DataFrame], rel: Relation, onces: Mapping[str, list[str]]) -> dict[str, float]:
    """Per column with values held once (:func:`once_values` of the real data), the share of the parents holding one of
    them that hold one on two rows. NaN where no parent holds one."""
    child = tables[rel.child]
    groups = _keys(child[rel.column])
    out: dict[str, float] = {}
    for c, vals in onces.items():
        if c not in child.columns:
            out[c] = float("nan")
            continue
        text = _keys(child[c])
        at = np.isin(text, np.array(vals, dtype=object))
        if not at.any():
            out[c] = float("nan")
            continue
        frame = pd.DataFrame({"g": groups[at], "v": text[at]})
        twice = frame[frame.duplicated(keep=False)]["g"].nunique()
        out[c] = twice / frame["g"].nunique()
    return out


def rows_after_terminal(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation,
                        terminals: dict[str, list[str]]) -> dict[str, float]:
    """Per column with terminal values (:func:`terminal_values` of the real data), the share of the parents holding
    one whose rows go on after it: a later row, or a second terminal row (a patient who dies twice). NaN where no
    parent holds one."""
    rows = _timed_rows(tables, schema, rel)
    out: dict[str, float] = {}
    for c, keys in terminals.items():
        if rows is None or c not in rows.columns:
            out[c] = float("nan")
            continue
        at = np.isin(rows[c].to_numpy(dtype=object), np.array(keys, dtype=object))
        if not at.any():
            out[c] = float("nan")
            continue
        first_end = rows.loc[at].groupby("p")["t"].min()
        ends = rows.loc[at].groupby("p").size()
        end_t = rows["p"].map(first_end).to_numpy(dtype=float)
        later = rows.loc[rows["t"].to_numpy() > end_t + 1e-9, "p"].unique()
        bad = set(later) | set(ends.index[ends.to_numpy() > 1])
        out[c] = len(bad) / len(first_end)
    return out


#: Distinct real counts of children per parent beyond which the report compares them in bins (:func:`count_bins`).
MAX_COUNT_CELLS = 12


def count_bins(real: np.ndarray) -> np.ndarray | None:
    """Bin edges for children-per-parent counts with many distinct values: the real counts' deciles, with the real
    smallest and one past the real largest, so that counts below or above every real one fall in bins of their own
    (a synthetic tenth at 500 rows per patient, or at none, scored 0 without them: review). None where the real counts
    take at most :data:`MAX_COUNT_CELLS` values (each its own cell). On a raw cell per count, 34 holdout patients with 2-47 rows
    each differed from the train patients by a TVD of 0.37, so a synthetic table capped at 15 rows per patient (real:
    22% above) passed as noise."""
    if len(real) == 0 or len(np.unique(real)) <= MAX_COUNT_CELLS:
        return None
    return np.unique(np.r_[real.min(), np.quantile(real, np.linspace(0.1, 0.9, 9), method="lower"), real.max() + 1])


def count_tvd(a: np.ndarray, b: np.ndarray, edges: np.ndarray | None = None) -> float:
    """Total variation distance between two distributions of counts (in the bins ``edges`` make, when given: a count
    ``x`` falls in bin ``searchsorted(edges, x, 'right')``)."""
    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) != len(b) else 0.0
    if edges is not None:
        a, b = np.searchsorted(edges, a, side="right"), np.searchsorted(edges, b, side="right")
    top = int(max(a.max(initial=0), b.max(initial=0))) + 1
    pa = np.bincount(a, minlength=top) / len(a)
    pb = np.bincount(b, minlength=top) / len(b)
    return 0.5 * float(np.abs(pa - pb).sum())


def binned(real: pd.Series, other: pd.Series, kind: str, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Two columns as bin labels: categories as strings, numbers by the real deciles; missing is a bin."""
    if kind == "categorical":
        f = lambda s: s.map(lambda v: "\x00<missing>" if pd.isna(v) else _cat(v)).to_numpy(dtype=object)  # noqa: E731
        return f(real), f(other)
    xr, xo = real.to_numpy(dtype=float), other.to_numpy(dtype=float)
    q = np.unique(np.nanquantile(xr, np.linspace(0, 1, bins + 1))[1:-1]) if np.isfinite(xr).any() else np.zeros(0)
    lab = lambda x: np.where(np.isnan(x), -1, np.searchsorted(q, np.nan_to_num(x), side="right"))  # noqa: E731
    return lab(xr), lab(xo)


def two_way_tvd(real: pd.DataFrame, other: pd.DataFrame, types: dict[str, str], *, max_pairs: int = 300,
                rng: np.random.Generator | None = None) -> tuple[float, list[dict[str, Any]]]:
    """Mean total variation distance between the 2-way distributions of every pair of columns (numbers in
    real deciles, missing as its own bin); at most ``max_pairs`` pairs (a seeded sample)."""
    cols = [c for c, k in types.items() if k in ("numeric", "categorical")]
    pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
    if not pairs:
        return float("nan"), []
    if len(pairs) > max_pairs:
        pick = (rng or np.random.default_rng(0)).choice(len(pairs), max_pairs, replace=False)
        pairs = [pairs[i] for i in sorted(pick)]
    lab = {c: binned(real[c], other[c], types[c]) for c in cols}
    out = []
    for a, b in pairs:
        ra = pd.Series(list(zip(lab[a][0], lab[b][0], strict=True))).value_counts(normalize=True)
        ob = pd.Series(list(zip(lab[a][1], lab[b][1], strict=True))).value_counts(normalize=True)
        out.append({"a": a, "b": b, "tvd": 0.5 * float(ra.subtract(ob, fill_value=0).abs().sum())})
    return float(np.mean([p["tvd"] for p in out])), sorted(out, key=lambda p: -p["tvd"])[:10]


def interval_violations(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> dict[str, float]:
    """Shares of a relation's child rows breaking its intervals' order (``{}`` without ``order_by`` and ``ends``):
    ``end_before_start`` (rows with an end before their time), ``empty`` (an end equal to its time), ``overlaps_next`` (rows whose parent's next row starts
    before this row's end: the chained end, else the first), and with ``chained``, ``chain_broken`` (rows whose
    parent's next row does not start at their chained end). NaN where no row can tell."""
    child = tables[rel.child]
    ends = [e for e in rel.ends if e in child.columns]
    if not rel.order_by or rel.order_by not in child.columns or not ends or not len(child):
        return {}
    types = column_types(schema, rel.child)
    fmt = {c.name: c.format for c in schema.tables[rel.child].columns}
    t = numbers(child[rel.order_by], types.get(rel.order_by, "numeric"), fmt.get(rel.order_by))
    e_all = {e: numbers(child[e], types.get(e, "numeric"), fmt.get(e)) for e in ends}
    p = parent_rows(tables, rel)
    before = np.zeros(len(t), dtype=bool)
    empty = np.zeros(len(t), dtype=bool)
    told = np.zeros(len(t), dtype=bool)
    for v in e_all.values():
        ok = np.isfinite(v) & np.isfinite(t)
        before |= ok & (v < t - 1e-9)
        empty |= ok & (np.abs(v - t) <= 1e-9)
        told |= ok
    out = {"end_before_start": float(before.sum() / told.sum()) if told.any() else float("nan"),
           # (an interval that ends where it starts: Stanford heart's transplant intervals came out 79.61-79.61 in 40%
           # of synthetic rows, none real, and passed; judged beyond the holdout's share, as real data may hold some)
           "empty": float(empty.sum() / told.sum()) if told.any() else float("nan")}
    key = rel.chained if rel.chained in e_all else ends[0]
    follows, prev, broken = chain_broken(t, e_all[key], p)
    ok = follows & (p >= 0) & np.isfinite(t) & np.isfinite(prev)
    out["overlaps_next"] = float(np.mean(t[ok] < prev[ok] - 1e-9)) if ok.any() else float("nan")
    if rel.chained in e_all:
        out["chain_broken"] = float(np.mean(broken[ok])) if ok.any() else float("nan")
    return out


def time_offsets(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> dict[str, np.ndarray]:
    """Each child row's time minus its parent's ``after`` and ``within`` times (``{"after <col>": ..., "within
    <col>": ...}``, in days for dates; NaN where a time is missing or the row has no parent); ``{}`` without them."""
    child, parent = tables[rel.child], tables[rel.parent]
    refs = [(f, c) for f, c in (("after", rel.after), ("within", rel.within)) if c and c in parent.columns]
    if not rel.order_by or rel.order_by not in child.columns or not refs:
        return {}
    ctypes, ptypes = column_types(schema, rel.child), column_types(schema, rel.parent)
    cfmt = {c.name: c.format for c in schema.tables[rel.child].columns}
    pfmt = {c.name: c.format for c in schema.tables[rel.parent].columns}
    t = numbers(child[rel.order_by], ctypes.get(rel.order_by, "numeric"), cfmt.get(rel.order_by))
    p = parent_rows(tables, rel)
    out = {}
    for field, c in refs:
        ref = numbers(parent[c], ptypes.get(c, "numeric"), pfmt.get(c))
        out[f"{field} {c}"] = np.where(p >= 0, t - ref[np.maximum(p, 0)] if len(ref) else np.nan, np.nan)
    return out


def bound_violations(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation) -> dict[str, float]:
    """Shares of a relation's child rows outside their parent's time span: ``start_before_after`` (the row's
    ``order_by`` time before the parent's ``after`` time), ``start_after_within`` (after its ``within`` time) and
    ``end_after_within`` (an ``ends`` column past the ``within`` time), each over the rows where both times are known
    (NaN where none is); ``{}`` without ``order_by`` or a parent time."""
    child, parent = tables[rel.child], tables[rel.parent]
    if not rel.order_by or rel.order_by not in child.columns or not len(child):
        return {}
    ctypes, ptypes = column_types(schema, rel.child), column_types(schema, rel.parent)
    cfmt = {c.name: c.format for c in schema.tables[rel.child].columns}
    pfmt = {c.name: c.format for c in schema.tables[rel.parent].columns}
    p = parent_rows(tables, rel)

    def parent_time(col: str) -> np.ndarray:
        ref = numbers(parent[col], ptypes.get(col, "numeric"), pfmt.get(col))
        return np.where(p >= 0, ref[np.maximum(p, 0)] if len(ref) else np.nan, np.nan)

    def share(x: np.ndarray, bound: np.ndarray, past: int) -> float:
        ok = np.isfinite(x) & np.isfinite(bound)
        return float(np.mean(past * (x[ok] - bound[ok]) > 1e-9)) if ok.any() else float("nan")

    t = numbers(child[rel.order_by], ctypes.get(rel.order_by, "numeric"), cfmt.get(rel.order_by))
    out = {}
    if rel.after and rel.after in parent.columns:
        out["start_before_after"] = share(t, parent_time(rel.after), -1)
    if rel.within and rel.within in parent.columns:
        bound = parent_time(rel.within)
        out["start_after_within"] = share(t, bound, 1)
        ends = [e for e in rel.ends if e in child.columns]
        if ends:
            late = np.zeros(len(t), dtype=bool)
            told = np.zeros(len(t), dtype=bool)
            for e in ends:
                v = numbers(child[e], ctypes.get(e, "numeric"), cfmt.get(e))
                ok = np.isfinite(v) & np.isfinite(bound)
                late |= ok & (v - bound > 1e-9)
                told |= ok
            out["end_after_within"] = float(late.sum() / told.sum()) if told.any() else float("nan")
    return out


def offset_tvd(real: np.ndarray, other: np.ndarray, bins: int = 10) -> float:
    """Total variation distance of two samples of time offsets over the real deciles (a time before the parent's
    start and one after its end fall in the outer bins; missing is a bin of its own)."""
    a, b = binned(pd.Series(real), pd.Series(other), "numeric", bins)
    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) != len(b) else 0.0
    pa, pb = pd.Series(a).value_counts(normalize=True), pd.Series(b).value_counts(normalize=True)
    return 0.5 * float(pa.subtract(pb, fill_value=0).abs().sum())


def trajectories(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation, edges: np.ndarray | None = None,
                 ) -> tuple[pd.DataFrame, np.ndarray]:
    """Mean of every numeric child column per bin of time since the parent's first child row (or, without
    a time column, per position 0, 1, 2, 3, 4+): a table (bins x columns) and the bin edges used."""
    child = tables[rel.child]
    p = parent_rows(tables, rel)
    types = column_types(schema, rel.child)
    fmt = {c.name: c.format for c in schema.tables[rel.child].columns}
    if rel.order_by and rel.order_by in child.columns:
        t = numbers(child[rel.order_by], types.get(rel.order_by, "numeric"), fmt.get(rel.order_by))
        first = pd.Series(t).groupby(p).transform("min").to_numpy(dtype=float)
        x = t - first
        if edges is None:
            edges = np.unique(np.nanquantile(x, np.linspace(0, 1, 6))) if np.isfinite(x).any() else np.zeros(1)
        bins = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(len(edges) - 2, 0))
        bins = np.where(np.isfinite(x), bins, -1)  # (a row without a time is in no bin: an empty synthetic time column
        # fell in the last bin alone, and a trajectory compared on one bin passed, a data scientist's sleepstudy)
    else:
        order = np.argsort(p, kind="stable")
        rank = np.empty(len(p), dtype=np.int64)
        srt = p[order]
        start = np.r_[0, np.flatnonzero(np.diff(srt)) + 1] if len(srt) else np.zeros(0, dtype=np.int64)
        rank[order] = np.arange(len(p)) - np.repeat(start, np.diff(np.r_[start, len(p)])) if len(p) else rank
        bins = np.minimum(rank, 4)
        edges = np.arange(6, dtype=float) if edges is None else edges
    cols = {c: numbers(child[c], k, fmt.get(c)) for c, k in types.items()
            if k == "numeric" and c not in (rel.order_by, rel.sequence, *rel.ends)}
    frame = pd.DataFrame(cols)
    frame["bin"] = bins
    return frame[frame["bin"] >= 0].groupby("bin").mean(), edges


def within_parent_trends(tables: Mapping[str, pd.DataFrame], schema: DatasetSchema, rel: Relation,
                         min_rows: int = 3) -> dict[str, tuple[float, float]]:
    """Per numeric child column: the mean over parents with ``min_rows`` rows or more of the rank correlation of its
    values with their time (``order_by``; a relation without one has none: the rows' order is no time), and its
    standard error (the parents' spread over the root of their number): whether each patient's values rise or fall over
    their own rows (a tree's growth, a pig's weight), which the means per time bin of :func:`trajectories` do not see."""
    child = tables[rel.child]
    p = parent_rows(tables, rel)
    types = column_types(schema, rel.child)
    fmt = {c.name: c.format for c in schema.tables[rel.child].columns}
    if not (rel.order_by and rel.order_by in child.columns):
        return {}
    t = numbers(child[rel.order_by], types.get(rel.order_by, "numeric"), fmt.get(rel.order_by))
    out: dict[str, tuple[float, float]] = {}
    for c, k in types.items():
        if k != "numeric" or c in (rel.order_by, rel.sequence, *rel.ends) or c not in child.columns:
            continue
        v = numbers(child[c], k, fmt.get(c))
        frame = pd.DataFrame({"p": p, "t": t, "v": v})
        frame = frame[(frame["p"] >= 0) & np.isfinite(frame["t"]) & np.isfinite(frame["v"])]
        if frame.empty:
            out[c] = (float("nan"), float("nan"))
            continue
        ranks = frame.groupby("p")[["t", "v"]].rank()
        frame = frame.assign(rt=ranks["t"], rv=ranks["v"])
        g = frame.groupby("p")
        n = g["rt"].transform("size")
        frame = frame[n >= min_rows]
        if frame.empty:
            out[c] = (float("nan"), float("nan"))
            continue
        g = frame.groupby("p")
        dt = frame["rt"] - g["rt"].transform("mean")
        dv = frame["rv"] - g["rv"].transform("mean")
        num = (dt * dv).groupby(frame["p"]).sum()
        den = np.sqrt((dt**2).groupby(frame["p"]).sum() * (dv**2).groupby(frame["p"]).sum())
        r = (num / den.replace(0, np.nan)).fillna(0.0)  # (a patient's constant values: no trend)
        out[c] = (float(r.mean()), float(r.std(ddof=1) / np.sqrt(len(r))) if len(r) > 1 else float("nan"))
    return out


def constant_columns(tables: Mapping[str, pd.DataFrame], rel: Relation) -> list[str]:
    """Child columns the real parents hold one value of (a patient's sex or birth year on each visit), read as schema
    infer reads ``constant`` (:func:`~medsynth.io.dataset_infer.constant_columns`)."""
    from medsynth.io.dataset_infer import constant_columns as held_once

    child = tables[rel.child]
    p = parent_rows(tables, rel)
    names = [c for c in child.columns if c not in (rel.column, rel.order_by, rel.sequence, *rel.ends)]
    return held_once(child[p >= 0].reset_index(drop=True), p[p >= 0], names)


def parents_varying(tables: Mapping[str, pd.DataFrame], rel: Relation, columns: list[str]) -> dict[str, float]:
    """Per column: the share of the parents with two rows or more holding a value of it whose rows hold two values or
    more (:func:`~medsynth.io.dataset_infer.varying_groups`)."""
    from medsynth.io.dataset_infer import varying_groups

    child = tables[rel.child]
    p = parent_rows(tables, rel)
    several = (p >= 0) & (pd.Series(p).map(pd.Series(p).value_counts()).to_numpy() >= 2)
    out = {}
    for c in columns:
        held = np.unique(p[several & child[c].notna().to_numpy()]) if c in child.columns else np.zeros(0)
        out[c] = (float(varying_groups(child[c][several], p[several]).size / held.size) if held.size
                  else float("nan"))
    return out


__all__ = ["binned", "bound_violations", "children_per_parent", "column_types", "count_bins", "count_tvd", "load_dataset", "numbers", "off_schedule", "parent_rows",
           "offset_tvd", "parents_varying", "parents_with_repeated_time", "patient_histories", "repeated_time_expected", "patient_table", "patient_types", "primary_relation", "schedule_values", "slug", "time_offsets",
           "top_categories", "trajectories", "two_way_tvd", "unit_rows", "within_parent_trends", "constant_columns"]
