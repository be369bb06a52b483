"""Reading and writing tables (CSV or Parquet, chosen by the file's extension).

Every column is read as written (no type guessing beyond pandas' own), so the schema decides types.
Unreadable files raise :class:`~medsynth.core.errors.DataValidationError` naming the file and the
parser's complaint; writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from medsynth.core.errors import DataValidationError
from medsynth.core.files import atomic_path

TableFormat = Literal["csv", "parquet"]

_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz"}
_SUFFIXES: dict[str, TableFormat] = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | Path) -> TableFormat:
    """The format implied by a file name (``.csv``/``.tsv``/``.txt`` or ``.parquet``/``.pq``; ``.gz`` allowed for CSV).

    Raises:
        DataValidationError: for any other extension.
    """
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zip", ".xz"):
        suffixes = suffixes[:-1]
    fmt = _SUFFIXES.get(suffixes[-1] if suffixes else "")
    if fmt is None:
        raise DataValidationError(
            f"'{p}': cannot tell the table format from the extension '{''.join(p.suffixes) or '(none)'}'; "
            "use .csv (or .csv.gz, .tsv) or .parquet"
        )
    return fmt


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet table.

    Missing cells are NaN/None; empty strings in CSV are missing. Column names are kept as strings.

    Raises:
        DataValidationError: when the file does not exist, cannot be parsed, or holds no columns.
    """
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"table file '{p}' does not exist; give the path of a .csv or .parquet file")
    fmt = table_format(p)
    try:
        if fmt == "parquet":
            df = pd.read_parquet(p)
        else:
            sep = "\t" if ".tsv" in [s.lower() for s in p.suffixes] else ","
            df = pd.read_csv(p, sep=sep, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(
            f"'{p}' cannot be parsed as {fmt.upper()} ({msg}); check the delimiter, quoting and encoding (UTF-8 expected)"
        ) from None
    df.columns = [str(c) for c in df.columns]
    return df


def write_table(df: pd.DataFrame, path: str | Path, *, overwrite: bool = True) -> Path:
    """Atomically write a table as CSV or Parquet (by extension).

    Raises:
        DataValidationError: for an unknown extension, or an existing file when ``overwrite`` is False.
    """
    p = Path(path)
    fmt = table_format(p)
    if p.exists() and not overwrite:
        raise DataValidationError(f"'{p}' already exists; choose another path or pass --force")
    with atomic_path(p) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            tsv = ".tsv" in [s.lower() for s in p.suffixes]
            df.to_csv(tmp, index=False, sep="\t" if tsv else ",", compression=_COMPRESSION.get(p.suffix.lower()))
    return p


__all__ = ["read_table", "table_format", "write_table"]
