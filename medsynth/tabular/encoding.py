"""Encoding of table columns for the synthesizers, and decoding back to the table's own types.

A :class:`TableCodec` is built from a schema whose domains are complete (bounds, categories) and
turns a raw table into a :class:`Frame`: every number (continuous, integer, datetime as days) as
``u`` in [0, 1] within its bounds (after the optional log transform), every discrete value as an
integer code, with missing values as their own state (NaN in ``u``, code ``-1``). Decoding maps back:
numbers clipped to the domain, integers rounded, dates written in the input's format, categories from
the declared list only, identifiers freshly generated.

:class:`OneHotLayout` is the neural encoding (DP-TVAE, DP-CTGAN): a scalar in [-1, 1] per number,
a one-hot block per category set, and a two-way "present/missing" block per column that may be
missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from medsynth.core.errors import DataValidationError
from medsynth.io.schema import OTHER_CATEGORY, UNITS_PER_DAY, boolean_keys, cell_numbers
from medsynth.privacy.steps import SENTINELS, on_step
from medsynth.tabular.schema import (
    DISCRETE_TYPES,
    EPOCH,
    NUMERIC_TYPES,
    ColumnSchema,
    TableSchema,
    category_key,
    category_keys,
    parse_dates,
)


@dataclass
class Frame:
    """A table in model space. ``num[c]``: floats in [0, 1] or NaN (missing); ``cat[c]``: codes, -1 missing."""

    n: int
    num: dict[str, np.ndarray] = field(default_factory=dict)
    cat: dict[str, np.ndarray] = field(default_factory=dict)

    def take(self, idx: np.ndarray) -> Frame:
        """The rows at positions ``idx``."""
        return Frame(n=len(idx), num={k: v[idx] for k, v in self.num.items()}, cat={k: v[idx] for k, v in self.cat.items()})


def written_format(name: str) -> str:
    """How a date column without a (released) format is written: ISO date and time for a name like a clock time
    (:func:`~medsynth.io.dataset_infer.clock_named`: ``charttime``), else an ISO date."""
    from medsynth.io.dataset_infer import clock_named

    return "%Y-%m-%d %H:%M:%S" if clock_named(name) else "%Y-%m-%d"


#: A moment this close below midnight (in days; 0.09 s) is that midnight's day: float error of an encoded date.
DAY_TOLERANCE = 1e-6


#: A DP model's sampled continuous values are written to this many significant digits of their column's range (its
#: width) on a linear scale, and of the value itself on a log scale (a small value's digits matter there): a DP fit
#: that could not confirm a column's whole numbers wrote ages as 25.925525331316067 (review). A thousandth of the range
#: is finer than any model here resolves (64 fine cells at most per range). Encoding then decoding real rows stays
#: exact, and so do non-private models' rows: rounded, a memorising model's copies were no longer exact copies to the
#: audit (review).
RANGE_DIGITS = 4
#: Sampled values within this share of a column's range of a sentinel atom (999, -99: a fixed public list) are the
#: sentinel: the model's cells beside it hold its mass through the noise (post-processing of the released model).
SENTINEL_SNAP = 0.02


def _range_scale(x: np.ndarray, col: ColumnSchema) -> np.ndarray | float | None:
    """What :func:`_to_range_digits` multiplies each value of ``x`` by before rounding it to a whole number (an array on
    a log scale, one number on a linear one); None where it leaves values as they are (no bounds, a range narrower than
    a float's digits)."""
    try:
        lo, hi = col.bounds()
    except (TypeError, ValueError):
        return None
    if col.transform == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            mag = np.floor(np.log10(np.abs(x)))
        return np.where(np.isfinite(mag), 10.0 ** (RANGE_DIGITS - 1 - np.where(np.isfinite(mag), mag, 0.0)), np.nan)
    width = hi - lo
    if not (np.isfinite(width) and width > 0):
        return None
    decimals = RANGE_DIGITS - 1 - math.floor(math.log10(width))
    if decimals > 15:  # (a range narrower than a float's digits can round: left as it is)
        return None
    return 10.0 ** max(decimals, 0)


def range_unit(x: np.ndarray, col: ColumnSchema) -> np.ndarray | None:
    """The step :func:`_to_range_digits` rounds each value of ``x`` to (1 at least where the column holds whole
    numbers); None where it leaves values as they are."""
    scale = _range_scale(x, col)
    if scale is None:
        return None
    unit = np.broadcast_to(1.0 / np.asarray(scale, dtype=float), np.shape(x))
    return np.maximum(unit, 1.0) if col.type == "integer" else unit


def _to_range_digits(x: np.ndarray, col: ColumnSchema) -> np.ndarray:
    """``x`` rounded to :data:`RANGE_DIGITS` significant digits of the width of ``col``'s bounds (of each value for a
    log-scaled column); as it is without bounds."""
    scale = _range_scale(x, col)
    if scale is None:
        return x
    lo, hi = col.bounds()
    if col.transform == "log":
        out = np.where(np.isfinite(scale), np.round(x * np.nan_to_num(scale, nan=1.0)) / np.nan_to_num(scale, nan=1.0), x)
    else:
        out = np.round(x, int(round(math.log10(scale))))
    return np.clip(out, lo, hi) if np.isfinite(lo) and np.isfinite(hi) else out  # (a rounded end stays inside)


def to_resolution(days: np.ndarray, fmt: str, resolution: str | None) -> np.ndarray:
    """Moments (days since 1970-01-01) as a column writes them: a date without a time is the day the moment falls on
    (a condition at 15:00 of its visit's day is on that day: rounded, half of them moved to the next), likewise the
    hour or minute of a coarser ``resolution``; a time is rounded to the second."""
    unit = UNITS_PER_DAY["day" if "%H" not in fmt else resolution or "second"]
    if unit >= UNITS_PER_DAY["second"]:
        return np.round(days * unit) / unit
    return np.floor(days * unit + DAY_TOLERANCE) / unit


def format_days(days: np.ndarray, fmt: str) -> np.ndarray:
    """Days since 1970-01-01 as text in ``fmt``, each distinct date formatted once (fast)."""
    uniq, inverse = np.unique(days, return_inverse=True)
    # to the nearest second in integers: float days (15/24) came out a nanosecond short, written 15:59:59
    seconds = pd.to_timedelta(np.round(uniq * 86400.0).astype(np.int64), unit="s")
    return pd.Series(EPOCH + seconds).dt.strftime(fmt).to_numpy(dtype=object)[inverse]


#: A numeric column's scale from its lower bound ``lo`` (``transform``): the distance of ``x`` from ``lo`` on it ...
_FORWARD = {
    "none": lambda x, lo: x - lo,
    "log": lambda x, lo: np.log1p(x - lo),  # skewed positive numbers
    "asinh": lambda x, lo: np.arcsinh(x) - np.arcsinh(lo),  # signed offsets, fine near zero on both sides
}
#: ... and back: the value at distance ``t`` from ``lo``.
_INVERSE = {
    "none": lambda t, lo: lo + t,
    "log": lambda t, lo: lo + np.expm1(t),
    "asinh": lambda t, lo: np.sinh(np.arcsinh(lo) + t),
}


class TableCodec:
    """Raw table <-> :class:`Frame`, for a schema with complete domains.

    Raises:
        DataValidationError: if a modelled column lacks bounds or categories.
    """

    def __init__(self, schema: TableSchema) -> None:
        missing = [c.name for c in schema.modelled if not c.has_domain]
        if missing:
            raise DataValidationError([f"column '{m}' has no complete domain (bounds or categories)" for m in missing],
                                      context="cannot encode")
        self.schema = schema
        self.numeric = [c for c in schema.modelled if c.type in NUMERIC_TYPES]
        self.discrete = [c for c in schema.modelled if c.type in DISCRETE_TYPES]
        self._keys = {c.name: [category_key(v) for v in c.categories or []] for c in self.discrete}
        #: Columns whose values outside the (DP-released) categories are encoded as missing.
        self.unknown_as_missing: set[str] = set()
        #: Columns where :meth:`encode` met such values (names only: their counts are not released).
        self.unknown_columns: set[str] = set()

    # -- per-column numeric transform ------------------------------------------------------------
    @staticmethod
    def _span(col: ColumnSchema) -> tuple[float, float, float]:
        lo, hi = col.bounds()
        return lo, hi, float(_FORWARD[col.transform](np.asarray(hi, dtype=float), lo))

    def to_unit(self, col: ColumnSchema, x: np.ndarray) -> np.ndarray:
        """Numbers (days for dates) -> u in [0, 1] (clipped to the bounds; NaN stays NaN)."""
        lo, hi, width = self._span(col)
        t = _FORWARD[col.transform](np.clip(x, lo, hi), lo)
        return np.zeros_like(t) if width <= 0 else np.where(np.isnan(t), np.nan, t / width)

    def from_unit(self, col: ColumnSchema, u: np.ndarray) -> np.ndarray:
        """Map unit-interval values back to a numeric column's range (undoing a log or asinh transform)."""
        lo, hi, width = self._span(col)
        return np.clip(_INVERSE[col.transform](np.clip(u, 0.0, 1.0) * width, lo), lo, hi)

    # -- raw <-> frame -----------------------------------------------------------------------------
    def numbers(self, col: ColumnSchema, s: pd.Series) -> np.ndarray:
        """A raw column as floats (datetimes as days since 1970-01-01), NaN where missing."""
        if col.type == "datetime":
            parsed = parse_dates(s, col.format)
            return ((parsed - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=np.nan)
        return cell_numbers(s).to_numpy(dtype=float, na_value=np.nan)  # '12,500' and '45%' too, cell by cell

    def encode(self, df: pd.DataFrame) -> Frame:
        """Raw table -> Frame (numbers clipped to their bounds)."""
        frame = Frame(n=len(df))
        for col in self.numeric:
            frame.num[col.name] = self.to_unit(col, self.numbers(col, df[col.name]))
        for col in self.discrete:
            lookup = {k: i for i, k in enumerate(self._keys[col.name])}
            s = df[col.name]
            codes = np.full(len(s), -1, dtype=np.int64)
            present = s.notna().to_numpy()
            keys = boolean_keys(s[present]) if col.type == "boolean" else category_keys(s[present])
            mapped = keys.map(lookup)
            if mapped.isna().any() and OTHER_CATEGORY in lookup:  # unlisted values: the category for all of them
                mapped = mapped.fillna(lookup[OTHER_CATEGORY])
            if mapped.isna().any() and col.name in self.unknown_as_missing:
                self.unknown_columns.add(col.name)
                mapped = mapped.fillna(-1)
            if mapped.isna().any():
                bad = sorted(set(keys[mapped.isna()]))[:5]
                raise DataValidationError(f"column '{col.name}': values {bad} are not in its categories; add them to the schema")
            codes[present] = mapped.to_numpy(dtype=np.int64)
            frame.cat[col.name] = codes
        return frame

    def fill_unmodelled(self, frame: Frame, rng: np.random.Generator) -> list[str]:
        """Impute missing cells of columns that have no "missing" state, in place.

        Only a DP fit meets them: a column whose domain was estimated with DP keeps a missing state only
        when DP confirmed its missing values, and values of unreleased categories are encoded as
        missing. Each such cell gets a value drawn uniformly within the domain (a number in [0, 1], a
        category code), independently of every other row, so the imputation costs no privacy.

        Returns:
            The names of the columns where cells were imputed.
        """
        filled = []
        for col in self.numeric:
            u = frame.num[col.name]
            miss = np.isnan(u)
            if not col.missing and miss.any():
                frame.num[col.name] = np.where(miss, rng.random(u.shape), u)
                filled.append(col.name)
        for col in self.discrete:
            c = frame.cat[col.name]
            miss = c < 0
            if not col.missing and miss.any():
                frame.cat[col.name] = np.where(miss, rng.integers(0, self.n_categories(col.name), c.shape), c)
                filled.append(col.name)
        return filled

    def decode(self, frame: Frame, *, id_start: int = 1, rounded: bool = False) -> pd.DataFrame:
        """Frame -> raw table in the schema's column order and types; ``rounded`` (a DP model's rows): continuous
        values written to :data:`RANGE_DIGITS` digits (a real frame's round trip, and a non-private model's rows, keep
        every digit)."""
        out: dict[str, Any] = {}
        for col in self.schema.columns:
            if col.omitted:  # not modelled: nothing about it could be released with DP at the budget
                out[col.name] = np.full(frame.n, None, dtype=object)
            elif col.type == "identifier":
                out[col.name] = np.array([f"syn-{i:07d}" for i in range(id_start, id_start + frame.n)], dtype=object)
            elif col.type in NUMERIC_TYPES:
                out[col.name] = self._decode_number(col, frame.num[col.name], rounded=rounded)
            else:
                out[col.name] = self._decode_category(col, frame.cat[col.name])
        self._date_parts(out, frame)
        return pd.DataFrame(out, columns=self.schema.names)

    def _date_parts(self, out: dict[str, Any], frame: Frame) -> None:
        """A date column written without a time, beside a date-and-time column of its name's stem (OMOP's
        ``visit_start_date`` and ``visit_start_datetime``), is written as that column's date where it has one: the two
        hold one moment, and modelled apart they disagreed on the day in 2-37% of rows. Names and (released) formats
        only: post-processing of the sampled values."""
        from medsynth.io.dataset_infer import time_stem

        def dated(c: ColumnSchema) -> bool:
            return c.type == "datetime" and not c.omitted and c.name in frame.num

        def clock(c: ColumnSchema) -> bool:
            return "%H" in (c.format or written_format(c.name))

        stamps = [c for c in self.schema.columns if dated(c) and clock(c)]
        for col in self.schema.columns:
            if not dated(col) or clock(col):
                continue
            src = next((c for c in stamps if time_stem(c.name) == time_stem(col.name)), None)
            if src is None:
                continue
            u = frame.num[src.name]
            ok = ~np.isnan(u)
            if not ok.any():
                continue
            days = np.floor(np.round(self.from_unit(src, np.where(ok, u, 0.0)) * 86400) / 86400 + 1e-9)
            text = np.asarray(out[col.name], dtype=object).copy()
            text[ok] = format_days(days[ok], col.format or "%Y-%m-%d")
            out[col.name] = text

    def _decode_number(self, col: ColumnSchema, u: np.ndarray, *, rounded: bool = False) -> Any:
        """A number column's values from the unit scale: atoms as themselves (a sentinel with the values within
        :data:`SENTINEL_SNAP` of the range around it), then the unit, the type and the bounds."""
        miss = np.isnan(u)
        x = self.from_unit(col, np.where(miss, 0.0, u))
        at = np.zeros(x.shape, dtype=bool)
        lo, hi = col.bounds() if col.type in ("continuous", "integer") else (np.nan, np.nan)
        for a in col.atom_numbers():  # (a model writes an atom through the unit scale: 45 came back 44.99999999999999)
            near = 1e-9 * max(abs(a), 1.0)
            if a in SENTINELS and np.isfinite(hi - lo):  # a code for "unknown" lies apart from the values: a model's
                near = max(near, SENTINEL_SNAP * (hi - lo))  # cells beside it took its mass as values around it
            hit = np.abs(x - a) <= near                       # (HELPfull's 999 on a range cut to 985-1024: 998.8-999.4)
            x, at = np.where(hit, a, x), at | hit
        if col.step is not None and col.type in ("continuous", "integer"):  # recorded in a unit: written in it (an atom
            x = np.where(at, x, on_step(x, col.step, *col.bounds()))       # off it as itself: a 999 beside steps of 5)
        if col.type == "continuous":
            return pd.Series(np.where(miss, np.nan, _to_range_digits(x, col) if rounded else x), dtype=float)
        if col.type == "integer":
            lo, hi = col.bounds()
            vals = np.clip(np.round(x), np.ceil(lo), np.floor(hi)).astype(np.int64)
            if not miss.any():
                return vals
            arr = pd.array(vals, dtype="Int64")
            arr[miss] = pd.NA
            return arr
        fmt = col.format or written_format(col.name)
        text = format_days(to_resolution(x, fmt, col.resolution), fmt)
        text[miss] = None
        return text

    def _decode_category(self, col: ColumnSchema, codes: np.ndarray) -> Any:
        cats = list(col.categories or [])
        if col.type == "boolean":
            values = np.array([_as_bool(c) for c in cats] + [None], dtype=object)
        else:
            values = np.array(cats + [None], dtype=object)
        if OTHER_CATEGORY in cats:  # numbers beside "(other)": written as text, one type in the column
            values = np.array([c if isinstance(c, str) else category_key(c) for c in cats] + [None], dtype=object)
        out = values[np.where(codes < 0, len(cats), codes)]
        if OTHER_CATEGORY in cats:
            return out
        if all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in cats):
            if (codes < 0).any():
                return pd.array(out, dtype="Int64")
            return out.astype(np.int64)
        if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cats):
            return pd.Series(out, dtype=float)
        return out

    # -- sizes -------------------------------------------------------------------------------------
    def n_categories(self, name: str) -> int:
        """Number of encoded categories of column ``name``."""
        return len(self._keys[name])

    def category_code(self, name: str, value: Any) -> int:
        """The code of a category value (for conditions); raises if it is not in the domain."""
        key = category_key(value)
        keys = self._keys.get(name)
        if keys is None:
            col = next((c for c in self.schema.columns if c.name == name), None)
            why = ("" if col is None else
                   " (the fit released none of its categories at its budget: the column is written empty; see the fit's "
                   "warning)" if col.type in ("categorical", "boolean") else
                   f" (this model holds it as {col.type}: a DP fit decides a column's type from noisy counts; see the "
                   "fit's warning)")
            raise DataValidationError(f"'{name}' is not a categorical or boolean column of this model{why}; conditions apply "
                                      f"to those only ({', '.join(self._keys) or 'none here'})")
        if key not in keys:
            raise DataValidationError(
                f"'{name}={value}': {value!r} is not one of its categories {list(self.schema.column(name).categories or [])}, "
                "the only values this model writes (a DP fit releases only the categories that stood above its noise: a "
                "rarer one is left out, and its fit's warning says how many rows one needs; declare the column's "
                "categories public to keep them all)")
        return keys.index(key)


def _as_bool(v: Any) -> bool:
    return str(v).strip().lower() in ("true", "1", "yes")


# -- neural (one-hot) layout -------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    """A block of the one-hot layout: a number (width 1), a category set, or a missing flag (width 2)."""

    column: str
    kind: Literal["num", "cat", "miss"]
    start: int
    width: int


class OneHotLayout:
    """Frame <-> float matrix for neural models.

    Numbers: one scalar ``2u - 1`` in [-1, 1] (0 where missing) plus, when the column may be missing,
    a [present, missing] one-hot. Discrete columns: a one-hot over the categories, with one more slot
    for "missing" when the column may be missing.
    """

    def __init__(self, codec: TableCodec) -> None:
        self.codec = codec
        spans: list[Span] = []
        pos = 0
        for col in codec.numeric:
            spans.append(Span(col.name, "num", pos, 1))
            pos += 1
            if col.missing:
                spans.append(Span(col.name, "miss", pos, 2))
                pos += 2
        for col in codec.discrete:
            width = codec.n_categories(col.name) + (1 if col.missing else 0)
            spans.append(Span(col.name, "cat", pos, width))
            pos += width
        self.spans = spans
        self.dim = pos

    @property
    def num_spans(self) -> list[Span]:
        """The spans of numeric values."""
        return [s for s in self.spans if s.kind == "num"]

    @property
    def softmax_spans(self) -> list[Span]:
        """The one-hot spans (categories and missing flags)."""
        return [s for s in self.spans if s.kind != "num"]

    def encode(self, frame: Frame) -> np.ndarray:
        """A frame as a float32 matrix of this layout (numbers in [-1, 1], one-hot spans)."""
        x = np.zeros((frame.n, self.dim), dtype=np.float32)
        rows = np.arange(frame.n)
        for s in self.spans:
            if s.kind == "num":
                u = frame.num[s.column]
                x[:, s.start] = np.where(np.isnan(u), 0.0, 2 * u - 1)
            elif s.kind == "miss":
                x[rows, s.start + np.isnan(frame.num[s.column]).astype(int)] = 1.0
            else:
                codes = frame.cat[s.column]
                k = self.codec.n_categories(s.column)
                x[rows, s.start + np.where(codes < 0, k, codes)] = 1.0
        return x

    def decode(self, values: np.ndarray, choices: dict[str, np.ndarray]) -> Frame:
        """Build a Frame from sampled numbers (``values[:, start]`` in [-1, 1]) and chosen one-hot indices.

        Args:
            values: (n, dim) matrix whose number slots hold values in [-1, 1].
            choices: for each softmax span (keyed ``"{kind}:{column}"``), the chosen index per row.
        """
        n = values.shape[0]
        frame = Frame(n=n)
        for s in self.spans:
            if s.kind == "num":
                u = (np.clip(values[:, s.start], -1, 1) + 1) / 2
                frame.num[s.column] = u.astype(float)
        for s in self.softmax_spans:
            idx = choices[f"{s.kind}:{s.column}"]
            if s.kind == "miss":
                frame.num[s.column] = np.where(idx == 1, np.nan, frame.num[s.column])
            elif s.kind == "cat":
                k = self.codec.n_categories(s.column)
                frame.cat[s.column] = np.where(idx >= k, -1, idx).astype(np.int64)
        return frame


__all__ = ["Frame", "OneHotLayout", "Span", "TableCodec"]
