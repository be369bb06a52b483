"""Tables for evaluation: loading, validation, column types, mixed-type encoding and distances.

The three inputs are the real **train** table (what the generator saw), the real **holdout** table
(same population, never seen by the generator) and the **synthetic** table. Column types come from
a schema file or are inferred from the real data: text, booleans and integer columns with at most
``max_categories`` distinct values are categorical; dates are turned into days; everything else is
numeric.

Distances between rows (every privacy attack uses them) are Euclidean on an encoding where a
numeric column is scaled by its real range (so a column contributes at most 1), a missing numeric
value adds a 0/1 indicator, and a categorical column is one-hot with weight 1/sqrt(2) (a mismatch
adds exactly 1 to the squared distance; missing is its own category). Nearest neighbours are found
exactly, by blocks of rows, with one matrix product per block (memory: ``chunk x n_reference``
floats), so 100k x 100k tables fit in memory.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from medsynth.core.errors import DataValidationError
from medsynth.io.schema import OTHER_CATEGORY

ColumnType = Literal["categorical", "numeric"]
_MISSING = "\x00<missing>"


def read_table(path: str | Path, *, role: str) -> pd.DataFrame:
    """Read a CSV or Parquet table, with a clear error naming the role (train/holdout/synthetic).

    The same reader as every other medsynth command (:func:`medsynth.io.tables.read_table`): the
    delimiter is detected and repeated column names are an error.
    """
    from medsynth.io.tables import read_table as read

    return read(path, role=role)


#: medsynth's schema types (``medsynth schema infer``) -> the evaluation's column kinds.
_TABLE_SCHEMA_TYPES = {"continuous": "numeric", "integer": "numeric", "categorical": "categorical",
                       "boolean": "categorical", "datetime": "datetime", "identifier": "id"}


def read_schema(path: str | Path) -> dict[str, str]:
    """Column kinds from the schema YAML that ``medsynth schema infer`` writes (one format everywhere).

    The file is read and validated by :meth:`medsynth.tabular.schema.TableSchema.load` (reached through
    :data:`medsynth.core.registry.FORMATS`, so evaluation imports no domain package); its types map to
    the evaluation's kinds: continuous/integer -> numeric, categorical/boolean -> categorical,
    datetime -> datetime, identifier -> id (left out of every metric).

    Raises:
        DataValidationError: the file does not exist.
        ConfigError: the file is not a valid medsynth schema (every problem listed).
    """
    from medsynth.core.registry import FORMATS, resolve

    TableSchema = resolve(FORMATS, "table_schema", what="format")  # noqa: N806  (a class)
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"schema file '{p}' does not exist; write one with `medsynth schema infer TABLE --out {p}`")
    from medsynth.core.config import read_yaml

    raw = read_yaml(p)
    if isinstance(raw, dict) and "columns" not in raw and raw and all(isinstance(v, str) for v in raw.values()):
        raise DataValidationError(
            f"schema file '{p}' maps column names to types ({dict(list(raw.items())[:2])}...); --schema takes the schema "
            f"YAML that `medsynth schema infer TABLE --out {p.name}` writes (one format for fitting and evaluation): "
            "write one and edit its types"
        )
    return schema_kinds(TableSchema.load(p))


def schema_kinds(schema: Any) -> dict[str, str]:
    """``{column: kind}`` from a TableSchema (anything with ``columns`` of ``name``/``type``) or such a dict.

    Raises:
        DataValidationError: for a kind that is not numeric, categorical, datetime or id.
    """
    if hasattr(schema, "columns") and not isinstance(schema, dict):
        return {c.name: _TABLE_SCHEMA_TYPES[c.type] for c in schema.columns}
    out = {str(k): str(v) for k, v in dict(schema).items()}
    bad = {k: v for k, v in out.items() if v not in ("numeric", "categorical", "datetime", "id")}
    if bad:
        raise DataValidationError(f"schema kinds {bad} must be numeric, categorical, datetime or id")
    return out


@dataclass
class TabularData:
    """Validated train / holdout / synthetic tables with one column type each.

    Attributes:
        train, holdout, synthetic: the tables, same columns, categorical columns as strings.
        types: column -> "categorical" | "numeric".
        target: the utility target column, or None.
        dropped: columns left out (declared ids/free text), with the reason.
        retyped: number columns (by the real tables) compared as categories because the synthetic table holds no
            number in them, with the reason.
        lumped: number columns (by the real tables) compared as categories because the synthetic table writes their
            values too rare to release as "(other)" (a code column of a DP fit), with the reason; no other type.
        shared_people: a note per person's key (a name like ``patient_id``) that repeats and whose holdout values are in
            train too: the split was by row, not by person.
        unit: the column whose equal values are one person, where it repeats and train and holdout share no person.
        people: then, per train and holdout row, the number of its person (rows without a key are persons of their
            own): the membership attacks' members and non-members are persons with all their rows.
        recased: category columns whose synthetic values differ from real ones only in case ('F' for 'f'), with
            examples: the attacks (:attr:`attacked`) read them as the real ones (another tool's export, or a copy
            re-cased, must not pass the copy and distance attacks); fidelity sees them as written (a user's code
            matching 'F' finds no 'f').
        attacked_synthetic: the synthetic table so re-cased (None where nothing was).
        dates: the date columns (compared as numbers: days since 1970-01-01).
        shared_people_share: per key of :attr:`shared_people`, the share of its holdout persons with rows in train.
    """

    train: pd.DataFrame
    holdout: pd.DataFrame
    synthetic: pd.DataFrame
    types: dict[str, ColumnType]
    target: str | None = None
    dropped: dict[str, str] = field(default_factory=dict)
    retyped: dict[str, str] = field(default_factory=dict)
    lumped: dict[str, str] = field(default_factory=dict)
    shared_people: dict[str, str] = field(default_factory=dict)
    unit: str | None = None
    people: tuple[np.ndarray, np.ndarray] | None = None
    recased: dict[str, str] = field(default_factory=dict)
    attacked_synthetic: pd.DataFrame | None = None
    dates: tuple[str, ...] = ()
    shared_people_share: dict[str, float] = field(default_factory=dict)

    @property
    def attacked(self) -> pd.DataFrame:
        """The synthetic table as the privacy attacks read it (categories that differ in case only as the real ones)."""
        return self.synthetic if self.attacked_synthetic is None else self.attacked_synthetic

    @property
    def columns(self) -> list[str]:
        """The columns compared (those of the schema)."""
        return list(self.types)

    @property
    def categorical(self) -> list[str]:
        """The categorical columns."""
        return [c for c, t in self.types.items() if t == "categorical"]

    @property
    def numeric(self) -> list[str]:
        """The numeric columns."""
        return [c for c, t in self.types.items() if t == "numeric"]

    @property
    def real(self) -> pd.DataFrame:
        """Training and holdout rows together."""
        return pd.concat([self.train, self.holdout], ignore_index=True)


#: The largest group of rows a key of groups (:func:`_is_identifier`) holds at most, or 1% of the rows.
GROUP_MAX_ROWS = 20


def _is_identifier(values: pd.Series, name: str, max_levels: int = 10) -> bool:
    """A column named like an identifier whose (real) values are not fractional numbers and are all distinct, or
    repeat in groups of a few rows as ``schema infer`` reads a key (:func:`~medsynth.io.schema.group_key`: DAAG's
    nassCDS ``caseid``, a crash of 1-9 occupants, was judged as categories and failed the report): a key, not a
    measurement ('uacid', uric acid, is named like one)."""
    vals = values.dropna()
    from medsynth.io.schema import group_key, id_like

    if pd.api.types.is_float_dtype(vals) and not np.all(np.asarray(vals, dtype=float) % 1 == 0):
        return False
    if not (id_like(name) and len(vals) > 1):
        return False
    distinct = vals.nunique()
    if len(vals) == len(values) and distinct == len(vals):
        return True
    # groups of a few rows each (the largest at most GROUP_MAX_ROWS or 1% of the rows): a code named like an id with
    # half the rows in one value (a discharge_disposition_id) stays a column to judge (a reviewer)
    return group_key(name, distinct, len(vals), max_levels) and int(vals.value_counts().iloc[0]) <= max(
        GROUP_MAX_ROWS, 0.01 * len(vals))


#: A value written like a calendar date (2020-03-01, 01/03/2020, 1.3.2020, 2020-03-01 12:30:00): read as a date.
DATE_LIKE = r"\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*"


def _infer_type(real: pd.Series, max_categories: int) -> str:
    if isinstance(real.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(real):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(real):
        return "datetime"
    if pd.api.types.is_numeric_dtype(real):
        vals = real.dropna()
        is_int = bool(len(vals)) and bool(np.all(np.mod(vals.to_numpy(dtype=float), 1) == 0))
        return "categorical" if is_int and vals.nunique() <= max_categories else "numeric"
    vals = real.dropna().astype(str)
    if len(vals) and vals.str.fullmatch(DATE_LIKE).mean() >= 0.95:  # dates, however few distinct: udca's censoring
        parsed = pd.to_datetime(vals, errors="coerce", format="mixed", dayfirst=True)  # date in 62% of rows and event
        if parsed.notna().mean() >= 0.95:  # dates 90% missing were judged as categories (98% "unseen")
            return "datetime"
    if vals.nunique() > max(20, 0.5 * len(vals)):
        parsed = pd.to_datetime(vals, errors="coerce", format="mixed", dayfirst=True)
        if parsed.notna().mean() >= 0.95:
            return "datetime"
        numeric = pd.to_numeric(vals, errors="coerce")
        if numeric.notna().mean() >= 0.95:
            return "numeric"
        return "id"
    return "categorical"


def _numbers_and_other(s: pd.Series) -> bool:
    """Whether a column holds numbers and, as its only other value, the lump of values too rare to release
    (:data:`~medsynth.io.schema.OTHER_CATEGORY`, which a DP fit writes for a code column)."""
    if pd.api.types.is_numeric_dtype(s):  # (a number column of numbers: no second pass over it)
        return False
    vals = s.dropna()
    text = vals[pd.to_numeric(vals, errors="coerce").isna()]
    return len(text) >= 1 and bool((text.astype(str) == OTHER_CATEGORY).all())


def _no_numbers(s: pd.Series, real: pd.Series | None = None) -> bool:
    """Whether a column holds values and none of them is a number; true/false values are no numbers where the real
    column holds other numbers than booleans (a DP fit released a lab value as TRUE/FALSE, which pandas reads as 1/0:
    the report passed it as a number column, 38% outside the real range)."""
    vals = s.dropna()
    if len(vals) >= 1 and real is not None and _booleans(vals) and not _booleans(real.dropna(), numbers=True):
        return True
    return len(vals) >= 1 and bool(pd.to_numeric(vals, errors="coerce").isna().all())


def _booleans(vals: pd.Series, *, numbers: bool = False) -> bool:
    """Whether every (present) value is a boolean or the text true/false (with ``numbers``, or a number 0 or 1: a real
    0/1 column is booleans in another spelling; a synthetic one is judged as the numbers it holds)."""
    if not len(vals):
        return False
    if pd.api.types.is_bool_dtype(vals) or vals.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return True
    if pd.api.types.is_numeric_dtype(vals):
        return numbers and bool(vals.isin([0, 1]).all())
    return bool(vals.astype(str).str.lower().isin(["true", "false"]).all())


#: What a generator's keys look like: medsynth's syn-0000001, or a UUID. Letters before digits are not enough: 'kg12',
#: 'A7' or Excel's 'Jan-00' are broken values of a number column, and are judged (review of a first version).
_KEY_SHAPE = r"^(?:syn-\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"


def _regenerated_keys(s: pd.Series, real: pd.Series) -> bool:
    """Whether a generator wrote keys for a number column: the real column holds whole numbers (codes, ids), and the
    synthetic values are at least two, 90% present, unique and each shaped like a key (:data:`_KEY_SHAPE`)."""
    vals = s.dropna().astype(str)
    nums = pd.to_numeric(real.dropna(), errors="coerce")
    return (len(vals) >= 2 and len(vals) >= 0.9 * len(s) and vals.is_unique and bool(nums.notna().all())
            and bool((nums % 1 == 0).all()) and bool(vals.str.fullmatch(_KEY_SHAPE).all()))


def _as_days(s: pd.Series) -> pd.Series:
    from medsynth.io.schema import naive_utc

    parsed = naive_utc(pd.to_datetime(s, errors="coerce", format="mixed", dayfirst=True))
    return (parsed - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400.0


_WHOLE_TEXT = re.compile(r"[+-]?\d+\.0+")


def recase_like(synthetic: pd.Series, real: pd.Series) -> tuple[pd.Series, str | None]:
    """Synthetic category values absent from the real ones whose case-folded text matches exactly one real value,
    written as that value; and a note with examples (None when nothing changed)."""
    known = set(real.dropna())
    folded: dict[str, list[str]] = {}
    for v in known:
        folded.setdefault(str(v).casefold(), []).append(v)
    swap = {v: folded[str(v).casefold()][0] for v in set(synthetic.dropna()) - known
            if len(folded.get(str(v).casefold(), [])) == 1}
    if not swap:
        return synthetic, None
    shown = ", ".join(f"{k!r} as {v!r}" for k, v in list(swap.items())[:3])
    return synthetic.map(lambda v: swap.get(v, v)).astype(object), f"synthetic values differ from real ones only in case: {shown}"


def as_category(s: pd.Series) -> pd.Series:
    """Categorical values as strings; numbers that are whole print without '.0' (1.0 == 1); text without the blanks
    around it, as medsynth's schema and models read categories ('No ' of a fixed-width export is 'No'; blank text is
    missing): a synthetic 'No' compared with a real 'No ' made identical rows a fidelity FAIL."""
    def fmt(v: Any) -> Any:
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, (float, np.floating)) and np.isnan(v)):
            return np.nan  # pandas' nullable dtypes (boolean, string, Int64) hold pd.NA, not NaN
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        if _WHOLE_TEXT.fullmatch(text):  # '1.0' written as text (a table read with every column as strings) is 1
            text = text.split(".")[0].lstrip("+") or "0"
            text = "0" if text in ("-0", "") else text
        return text if text else np.nan

    return s.astype(object).map(fmt).astype(object)


def prepare_tables(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    target: str | None = None,
    schema: dict[str, str] | None = None,
    max_categories: int = 10,
    max_holdout_overlap: float = 0.01,
    unit: str | None = None,
) -> TabularData:
    """Check the three tables against each other and give every column one type.

    ``unit`` names the column whose equal values are one person (a schema's ``unit``): where it repeats and train and
    holdout share no person, the data carry each row's person (:attr:`TabularData.people`) and the column is a key.

    Raises:
        DataValidationError: listing every problem: an empty table, columns missing or extra in
            holdout/synthetic, an unknown target or schema column, a target with one value, values
            that do not fit the column type, a holdout that overlaps the training table.
    """
    problems: list[str] = []
    for role, df in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        if len(df) == 0:
            problems.append(f"the {role} table has no rows")
    train, holdout, synthetic = (df.rename(columns=str) for df in (train, holdout, synthetic))
    schema = dict(schema or {})
    from medsynth.io.schema import person_key_rank, person_name_like

    # Identifier columns (declared, named like one with distinct values, or named like a person's key, patient_id,
    # which repeats where a person has several rows) are keys, not data: they are left out before anything else, and another
    # tool's synthetic table may rename their values or omit them.
    ids = [c for c in train.columns if c != target and (schema.get(c) == "id" or (c not in schema and (
        _is_identifier(train[c], c, max_categories) or person_key_rank(c) == 0 or person_name_like(c))))]  # (people's names too)
    dropped: dict[str, str] = {c: "identifier (a key, not a measurement): left out of every metric" for c in ids}

    shared_people: dict[str, str] = {}
    shared_share: dict[str, float] = {}  # (the share of a key's holdout persons with rows in train)
    for c in train.columns:  # a person's key shared by train and holdout: the same people's other rows are no unseen data
        if person_key_rank(c) is None or c not in holdout.columns:
            continue
        tr, ho = (_person_keys(df, c).dropna() for df in (train, holdout))
        if not (tr.duplicated().any() or ho.duplicated().any()):
            continue  # one row per person on both sides: equal keys are two numberings, not one person split
        seen = ho.drop_duplicates()
        shared = int(seen.isin(set(tr)).sum())
        if shared:
            shared_share[c] = shared / len(seen)
            shared_people[c] = (f"'{c}' (a person's key that repeats): {shared} of its {len(seen)} holdout values are in "
                                "train too, so the holdout holds the same people's other rows and the attacks (closer "
                                f"to train than to holdout?) understate what leaks; split by '{c}' (all of a person's "
                                "rows on one side)")
    people = _people(train, holdout, unit) if unit not in shared_people and unit != target else None
    if people is not None and unit not in ids:  # the persons' key, however named: another tool may renumber or omit it
        ids.append(unit)  # (a plain ID kept as a number, with synthetic keys in train's range, failed every attack)
        dropped[unit] = "the unit (a person's key): left out of every metric"
    retyped: dict[str, str] = {}
    lumped: dict[str, str] = {}
    recased: dict[str, str] = {}
    attacked: dict[str, pd.Series] = {}
    train, holdout, synthetic = (df.drop(columns=[c for c in ids if c in df.columns]) for df in (train, holdout, synthetic))
    cols = [str(c) for c in train.columns]
    for role, df in (("holdout", holdout), ("synthetic", synthetic)):
        names = [str(c) for c in df.columns]
        missing = [c for c in cols if c not in names]
        extra = [c for c in names if c not in cols]
        if missing:
            problems.append(f"the {role} table lacks column(s) {missing} that the train table has")
        if extra:
            problems.append(f"the {role} table has column(s) {extra} that the train table lacks; drop them or add them to train")
    if target is not None and target not in cols:
        problems.append(f"target '{target}' is not a column; columns are {cols}")
    unknown = [c for c in schema if c not in cols and c not in ids]
    if unknown:
        problems.append(f"the schema names column(s) {unknown} that the tables do not have")
    if problems:
        raise DataValidationError(problems, context="tabular evaluation inputs")

    train, holdout, synthetic = (df.copy()[cols] for df in (train, holdout, synthetic))
    real = pd.concat([train, holdout], ignore_index=True)
    types: dict[str, ColumnType] = {}
    dates: list[str] = []
    for c in cols:
        kind = schema.get(c) or _infer_type(real[c], max_categories)
        if c == target and kind in ("id",):
            kind = "categorical"
        if kind == "id":
            dropped[c] = "identifier or free text (unique per row): left out of every metric"
            continue
        if kind == "datetime":
            for df in (train, holdout, synthetic):
                df[c] = _as_days(df[c])
            kind = "numeric"
            dates.append(c)
        if kind == "numeric" and c != target and c not in schema and _regenerated_keys(synthetic[c], real[c]):
            # the generator regenerated the column as a key (medsynth's DP fit takes a column named 'id' for one where
            # the noise cannot tell; another tool may write UUIDs): nothing to compare, and not bad values
            dropped[c] = ("numbers in the real tables, but unique non-numeric keys in the synthetic table (e.g. "
                          f"{synthetic[c].dropna().astype(str).iloc[0]!r}: the generator regenerated it as an identifier): "
                          "left out of every metric")
            continue
        if kind == "numeric" and _no_numbers(synthetic[c], real[c]) and (c not in schema or _booleans(synthetic[c].dropna())):
            # numbers in the real tables, words in every synthetic row (a DP fit that could not type a number column
            # released public flag words for it): a column that cannot match, judged as categories (its fidelity
            # fails), not a refused report; a type the schema declares is still checked, but true/false in every synthetic
            # row of a declared number column (booleans pandas would read as 1/0) is that same retyped column
            retyped[c] = (f"numbers in the real tables, but no number in the synthetic table (e.g. "
                          f"{synthetic[c].dropna().astype(str).iloc[0]!r}): compared as categories")
            kind = "categorical"
        if kind == "numeric" and _numbers_and_other(synthetic[c]):
            # a code column whose rare values the generator lumped (medsynth's DP fits write them as "(other)"): the
            # lump is a category of its own, so the column is compared as categories, numbers as their text (also
            # where the schema says numeric: medsynth's own output for openintro::hfi refused its evaluation)
            lumped[c] = "numbers in the real tables; the synthetic table writes values too rare to release as '(other)'"
            kind = "categorical"
        if kind == "numeric":
            for role, df in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
                conv = pd.to_numeric(df[c], errors="coerce")
                bad = conv.isna() & df[c].notna()
                if bad.any():
                    examples = list(dict.fromkeys(df[c][bad].astype(str)))[:3]
                    keys = role == "synthetic" and _regenerated_keys(df[c], real[c])
                    problems.append(  # (nlme::Remifentanil's ID, typed integer by schema infer, regenerated as keys by a
                        # DP fit: the advice to declare it categorical was wrong, a data scientist)
                        f"column '{c}' is numeric but the {role} table has {int(bad.sum())} non-numeric value(s), e.g. {examples}; "
                        + ("the generator regenerated it as unique keys: declare it 'type: identifier' in --schema to leave "
                           "it out of the metrics" if keys else
                           "fix the values, or declare the column categorical (identifier, for a key) in --schema"))
                df[c] = conv.astype(float)
        else:
            for df in (train, holdout, synthetic):
                df[c] = as_category(df[c])
            same, note = recase_like(synthetic[c], pd.concat([train[c], holdout[c]], ignore_index=True))
            if note:
                recased[c], attacked[c] = note, same
        types[c] = "numeric" if kind == "numeric" else "categorical"
    if not types:
        problems.append("no usable column is left (all were identifiers/free text)")
    if target is not None and target in types and train[target].nunique(dropna=True) < 2:
        problems.append(f"target '{target}' has a single value in the train table; utility needs at least two")
    if problems:
        raise DataValidationError(problems, context="tabular evaluation inputs")

    used = list(types)
    # a row holding nothing but identifiers is no record to leak: a 202-row table of countries
    # (openintro::sowc_maternal_newborn) has two such rows, one fell in each part, and 1 of 41 holdout rows (2.4%)
    # refused the evaluation
    blank = _blank(holdout[used])
    overlap = _overlap_share(holdout[used][~blank], train[used])
    # A table can hold identical rows by nature (a few coded columns once identifiers are left out: MASS::biopsy repeats
    # 38% of its rows, KMsurv::bfeed 2%): a holdout row then equals a training row about as often as a training row
    # equals another one. Only the overlap beyond that (twice it plus 3 Poisson deviations of the expected count: a few
    # pairs are a noisy rate, MASS::biopsy had 0.8% within train and 2.9% across) means the split leaked.
    h_train = row_hashes(train[used][~_blank(train[used])])  # (blank rows: on neither side)
    natural = float(pd.Series(h_train).duplicated(keep=False).mean()) if h_train.size else 0.0
    n_h = max(int((~blank).sum()), 1)
    limit = min(max_holdout_overlap + 2 * natural + 3 * np.sqrt(natural * n_h) / n_h, 1.0)
    if overlap > limit:
        # (rhDNase's 2 of 194 holdout rows, two patients' identical records, were refused as "1.0% (limit 1.0%)")
        digits = next((d for d in range(1, 5) if f"{overlap:.{d}%}" != f"{limit:.{d}%}"), 4)
        raise DataValidationError(
            f"{overlap:.{digits}%} of holdout rows ({round(overlap * n_h)} of {n_h}) are exact copies of train rows (limit "
            f"{limit:.{digits}%}: tabular.max_holdout_overlap {max_holdout_overlap:.1%} plus what the {natural:.1%} of train "
            f"rows that equal another train row explain; rows with every value missing are not counted): the holdout must be real data the generator never saw, split from the train data "
            "without overlap. If the table naturally holds duplicate rows, raise tabular.max_holdout_overlap (a share, "
            "e.g. 0.05).",
            context="tabular evaluation inputs",
        )
    return TabularData(train.reset_index(drop=True), holdout.reset_index(drop=True), synthetic.reset_index(drop=True), types, target,
                       dropped, retyped, lumped, shared_people, unit if people is not None else None, people, recased,
                       synthetic.reset_index(drop=True).assign(**{c: v.to_numpy() for c, v in attacked.items()})
                       if attacked else None, tuple(dates), shared_share)


def _person_keys(df: pd.DataFrame, column: str) -> pd.Series:
    """A person's key per row, compared as a key (1, 1.0, "1" and "001" alike); None where the row has none."""
    from medsynth.io.dataset import key_string

    return df[column].map(lambda v: None if pd.isna(v) else key_string(v))


def _people(train: pd.DataFrame, holdout: pd.DataFrame, unit: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Each train and holdout row's person (an integer; a row without a key is a person of its own), where ``unit`` is a
    column of both that repeats on either side and no person is on both; else None (a row is a person, or the split
    was by row: :attr:`TabularData.shared_people` says so)."""
    if unit is None or unit not in train.columns or unit not in holdout.columns:
        return None
    keys = [_person_keys(df, unit) for df in (train, holdout)]
    present = [k.dropna() for k in keys]
    if not any(p.duplicated().any() for p in present) or set(present[0]) & set(present[1]):
        return None
    codes = pd.factorize(pd.concat(keys, ignore_index=True))[0].astype(np.int64)  # missing: -1
    keyless = codes < 0
    codes[keyless] = codes.max(initial=-1) + 1 + np.arange(int(keyless.sum()))
    return codes[: len(train)], codes[len(train):]


def _blank(df: pd.DataFrame) -> np.ndarray:
    """Rows with every value missing (no record to leak or to count as a duplicate)."""
    return df.isna().all(axis=1).to_numpy()


#: Numbers are compared for copies at this many significant digits: a copy exported with 6 decimals is still a copy.
COPY_DIGITS = 8


def _significant(x: pd.Series) -> pd.Series:
    v = x.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.floor(np.log10(np.abs(v)))
        scale = np.where(np.isfinite(e), 10.0 ** (COPY_DIGITS - 1 - e), 1.0)
        out = np.round(v * scale) / scale + 0.0  # (+0.0: -0.0 is 0)
    return pd.Series(np.where(np.isfinite(v), out, v), index=x.index)


def row_hashes(df: pd.DataFrame, *, exact: bool = False) -> np.ndarray:
    """One 64-bit hash per row (missing values hash alike), to find exact copies fast; numbers at ``COPY_DIGITS``
    significant digits unless ``exact``."""
    if not exact:
        df = df.apply(lambda s: _significant(s) if pd.api.types.is_float_dtype(s) else s)
    filled = df.astype(object).where(df.notna(), _MISSING)
    return pd.util.hash_pandas_object(filled.astype(str), index=False).to_numpy()


def holdout_copies(real: TabularData, synthetic: pd.DataFrame) -> dict[str, Any]:
    """How many holdout rows the synthetic table holds verbatim, against the rate of the training rows.

    A generator that never saw the holdout finds a holdout row no more often than a training row (per real row: both
    are draws of the same population, and only the training rows could have been learnt), so the excess of the holdout
    rows' rate over the training rows' is a leak: the holdout given as synthetic, or synthetic rows drawn from it.
    Utility and membership results measured on those rows are then invalid. Returns the two rates, the excess's
    standard error under that null, and the mask of the holdout rows found.
    """
    cols = real.columns
    h_s = row_hashes(synthetic[cols])
    found_hold = np.isin(row_hashes(real.holdout[cols]), h_s)
    rate_train = float(np.isin(row_hashes(real.train[cols]), h_s).mean()) if len(real.train) else 0.0
    n_h, n_t = max(len(real.holdout), 1), max(len(real.train), 1)
    p0 = max(rate_train, 1.0 / n_h)
    se = math.sqrt(p0 * (1.0 - min(p0, 1.0)) * (1.0 / n_h + 1.0 / n_t))
    rate_hold = float(found_hold.mean()) if len(real.holdout) else 0.0
    return {"holdout_rate": rate_hold, "train_rate": rate_train, "excess_se": se, "found": found_hold}


def _overlap_share(a: pd.DataFrame, b: pd.DataFrame) -> float:
    if len(a) == 0:
        return 0.0
    return float(np.isin(row_hashes(a), row_hashes(b)).mean())


#: A categorical column with more real categories than this is encoded for distances as its category codes
#: (:class:`Encoded`), not as a dense one-hot: seattlepets' licence numbers and pet names (42,001 and 11,935 values on
#: 42k rows) made a 9 GB matrix and a 10-minute evaluation. Distances are the same (the one-hot's, computed from codes).
WIDE_LEVELS = 64


@dataclass
class Encoded:
    """Encoded rows: a dense float32 block, and the codes of the wide categorical columns (-1: a category not among
    the real ones, an all-zero block in the one-hot). Each code column adds what its one-hot (weight 1/sqrt(2)) would
    to a squared distance: 0 for the same real category, 1 for two different ones, 1/2 against an unseen one."""

    dense: np.ndarray
    codes: np.ndarray

    def __len__(self) -> int:
        return len(self.dense)

    def __getitem__(self, idx: Any) -> Encoded:
        return Encoded(self.dense[idx], self.codes[idx])


class MixedEncoder:
    """Numeric range scaling + missing indicators + weighted one-hot, fitted on real data only."""

    def __init__(self, data: TabularData, columns: list[str] | None = None, *, max_levels: int | None = None) -> None:
        """Fit the encoding on the real rows.

        Args:
            max_levels: keep at most this many categories of a column (the most frequent real ones), the rest
                sharing one "other" dimension: for classifiers, whose time grows with the width (a 773-name
                column made a 4.2k-row table's evaluation take 137 s). ``None`` keeps every category (distances).
        """
        real = data.real
        self.columns = columns or data.columns
        self.types = {c: data.types[c] for c in self.columns}
        self.stats: dict[str, tuple[float, float, float, bool]] = {}
        self.categories: dict[str, list[str]] = {}
        self.other: set[str] = set()
        for c in self.columns:
            if self.types[c] == "numeric":
                x = real[c].astype(float)
                lo, hi = float(np.nanmin(x)) if x.notna().any() else 0.0, float(np.nanmax(x)) if x.notna().any() else 1.0
                med = float(np.nanmedian(x)) if x.notna().any() else 0.0
                has_missing = bool(x.isna().any() or data.synthetic[c].isna().any())
                # (a column constant in the real rows scales by one unit: at 1e-12 a synthetic value 8 away sat 8e12 from
                # every real row, and a data scientist's Phenobarb report gave every distance as 7999999967232)
                self.stats[c] = (lo, hi - lo if hi > lo else 1.0, med, has_missing)
            else:
                freq = real[c].fillna(_MISSING).astype(str).value_counts(sort=False)
                if max_levels is not None and len(freq) > max_levels:
                    top = freq.sort_values(ascending=False, kind="stable").index[: max_levels - 1]
                    self.categories[c] = sorted(top.tolist())
                    self.other.add(c)
                else:
                    self.categories[c] = sorted(freq.index.tolist())
        # distances (no max_levels): wide categorical columns as codes, not a one-hot of thousands of dimensions
        self.coded = [c for c in self.columns if c in self.categories and max_levels is None
                      and len(self.categories[c]) > WIDE_LEVELS]

    @property
    def width(self) -> int:
        """Number of one-hot dimensions the encoding stands for (a coded column counts its categories, see :class:`Encoded`)."""
        return sum((1 + int(self.stats[c][3])) if c in self.stats else len(self.categories[c]) + int(c in self.other)
                   for c in self.columns)

    def transform(self, df: pd.DataFrame) -> np.ndarray | Encoded:
        """Encode rows as float32 (n, width); unseen categories get an all-zero block. With wide categorical columns
        (:data:`WIDE_LEVELS`), an :class:`Encoded` holding their codes instead (for :func:`nearest`)."""
        blocks = []
        coded = []
        for c in self.columns:
            if c in self.stats:
                lo, rng, med, has_missing = self.stats[c]
                x = df[c].astype(float).to_numpy()
                miss = np.isnan(x)
                blocks.append(((np.where(miss, med, x) - lo) / rng)[:, None])
                if has_missing:
                    blocks.append(miss[:, None].astype(float))
                continue
            vals = df[c].fillna(_MISSING).astype(str).to_numpy()
            cats = np.asarray(self.categories[c], dtype=object)
            codes = pd.Categorical(vals, categories=cats).codes
            if c in self.coded:  # the codes stand for the one-hot (see Encoded)
                coded.append(codes.astype(np.int32))
                continue
            if c in self.other:  # every category left out (and an unseen one) is "other"
                codes = np.where(codes >= 0, codes, len(cats))
            onehot = np.zeros((len(df), len(cats) + int(c in self.other)), dtype=np.float32)
            ok = codes >= 0
            onehot[np.nonzero(ok)[0], codes[ok]] = 1.0 / np.sqrt(2.0)
            blocks.append(onehot)
        dense = np.ascontiguousarray(np.hstack(blocks), dtype=np.float32) if blocks else np.zeros((len(df), 0), np.float32)
        if coded:
            return Encoded(dense, np.ascontiguousarray(np.stack(coded, axis=1)))
        return dense


def nearest(query: np.ndarray | Encoded, reference: np.ndarray | Encoded, k: int = 1, *,
            chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours (Euclidean) of each query row among the reference rows, in blocks.

    Args:
        query: (n, d) float32, or :class:`Encoded` rows (their code columns as the one-hot they stand for).
        reference: (m, d) float32, or :class:`Encoded` rows of the same encoder.
        k: neighbours per row (capped at m).
        chunk: query rows per block (memory ``chunk * m * 4`` bytes).

    Returns:
        distances (n, k) ascending and indices (n, k) into ``reference``.
    """
    import torch

    n, m = len(query), len(reference)
    k = min(k, m)
    if n == 0 or m == 0:
        return np.zeros((n, k), np.float32), np.zeros((n, k), np.int64)
    q_codes = r_codes = None
    if isinstance(query, Encoded) or isinstance(reference, Encoded):
        if not (isinstance(query, Encoded) and isinstance(reference, Encoded)):
            raise TypeError("nearest: query and reference must both be Encoded rows of one encoder, or both arrays")
        q_codes, r_codes = query.codes, reference.codes
        query, reference = query.dense, reference.dense
    ref = torch.from_numpy(np.ascontiguousarray(reference, dtype=np.float32))
    ref_sq = (ref * ref).sum(1)
    # |q - r|^2 = |q|^2 + |r|^2 - 2 q.r ; rank by  q.r - |r|^2/2  (one matrix product per block).
    ref_aug = torch.cat([ref, (-0.5 * ref_sq)[:, None]], 1).T.contiguous()
    q_all = torch.from_numpy(np.ascontiguousarray(query, dtype=np.float32))
    dist = np.empty((n, k), np.float32)
    idx = np.empty((n, k), np.int64)
    with torch.no_grad():
        for s in range(0, n, chunk):
            q = q_all[s : s + chunk]
            q_aug = torch.cat([q, torch.ones(len(q), 1)], 1)
            score = q_aug @ ref_aug
            if q_codes is not None:  # each code column's one-hot: q.r gains 1/2 for the same real category, |r|^2 1/2
                qc = q_codes[s : s + chunk]
                extra = np.zeros((len(qc), m), np.float32)
                for j in range(qc.shape[1]):
                    extra += 0.5 * ((qc[:, j, None] == r_codes[None, :, j]) & (qc[:, j, None] >= 0))  # type: ignore[index]
                    extra -= 0.25 * (r_codes[None, :, j] >= 0)  # type: ignore[index]
                score = score + torch.from_numpy(extra)
            if k == 1:
                ind = score.argmax(1, keepdim=True)
            else:
                ind = score.topk(k, dim=1).indices
            # Exact distances of the chosen neighbours (the expanded form loses precision near 0).
            diff = q[:, None, :] - ref[ind]
            sq = diff.pow(2).sum(-1)
            if q_codes is not None:
                qc, rc = q_codes[s : s + chunk][:, None, :], r_codes[ind.numpy()]  # type: ignore[index]
                sq = sq + torch.from_numpy((0.5 * (qc >= 0) + 0.5 * (rc >= 0) - 1.0 * ((qc == rc) & (qc >= 0))).sum(-1)
                                           .astype(np.float32))
            dist[s : s + chunk] = sq.clamp_min(0).sqrt().numpy()
            idx[s : s + chunk] = ind.numpy()
    order = np.argsort(dist, axis=1, kind="stable")
    return np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1)


__all__ = ["WIDE_LEVELS", "ColumnType", "Encoded", "MixedEncoder", "TabularData", "nearest", "prepare_tables", "read_schema", "read_table", "row_hashes", "schema_kinds"]
