"""Reading and writing tables (CSV or Parquet, chosen by the file's extension).

Every column is read as written (no type guessing beyond pandas' own), so the schema decides types.
The delimiter of a CSV is detected (comma, semicolon, tab or pipe; ``.tsv`` is tab), and a
semicolon file whose numbers use a decimal comma (``1,5``) is read as such. Duplicate column names
are an error (pandas would silently rename the second ``age`` to ``age.1``), and so is a row with more
cells than the header (pandas would silently turn the first cells into an index). Unreadable files raise
:class:`~medsynth.core.errors.DataValidationError` naming the file and the parser's complaint;
writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

import csv
import io
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from medsynth.core.errors import DataValidationError
from medsynth.core.files import atomic_path, check_output
from medsynth.io.schema import ZERO_PADDED, cell_numbers, formatted_value, unit_of, zero_padded

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


#: Whole CSV cells read as missing besides pandas' defaults: "." (SAS/Stata's missing number), "?" and "NA_NA" (R's
#: medicaldata package: code and label of a missing value, beside its "0_no"/"1_yes").
MISSING_MARKERS = (".", "?", "NA_NA")


#: What a DP fit's parse error says instead of the parser's positions (a line number past the last row is the row count).
POSITIONS_WITHHELD = "positions withheld: DP fit; `medsynth schema infer` on the file names them"
#: What a DP fit says of a file it cannot parse: nothing of the row (`schema infer`, for the data's holder, says it all).
PARSE_WITHHELD = "what and where withheld: DP fit; `medsynth schema infer` on the file says both"


def read_table(path: str | Path, *, role: str | None = None, private: bool = False) -> pd.DataFrame:
    """Read a CSV or Parquet table.

    Missing cells are NaN/None; in CSV, empty cells (or spaces only), pandas' usual markers ("NA", "NaN", "null", ...) and
    the cells ``MISSING_MARKERS`` ("." as SAS and Stata write a missing number, "?" as many public
    datasets do) are missing, so a number column with such cells stays a number; a text column whose every
    value is a number with thousands separators (``12,500``) or a percentage (``45%``) is read as numbers.
    Column names are kept as strings.

    Args:
        path: a .csv (.csv.gz, .tsv, .txt) or .parquet file.
        role: what the table is (e.g. "train"), put before the file name in messages.
        private: the table is a DP fit's input: a parse error names no line, row or byte position (pandas' 'Expected
            14 fields in line 1947' told a malformed last row's number, the private row count plus two).

    Raises:
        DataValidationError: when the file does not exist, cannot be parsed, holds no columns, or
            repeats a column name.
    """
    p = Path(path)
    label = f"{role} table '{p}'" if role else f"'{p}'"
    if not p.is_file():
        raise DataValidationError(f"{label if role else f'table file {label}'} does not exist; give the path of a .csv or .parquet file")
    fmt = table_format(p)
    if fmt != "parquet" and p.suffix.lower() not in (".gz", ".bz2", ".zip", ".xz"):
        with p.open("rb") as fh:
            bom = fh.read(4)
        if bom.startswith((b"\xff\xfe", b"\xfe\xff")):  # (a file-wide mark, no row's: UTF-16 read as UTF-8 was
            # garbage that a DP fit took as its table, a reviewer)
            raise DataValidationError(f"{label} is UTF-16 text (its byte-order mark says so); save it as UTF-8 CSV "
                                      "(e.g. in Excel: CSV UTF-8) and give that file")
    try:
        if fmt == "parquet":
            df = pd.read_parquet(p)
            header = [str(c) for c in df.columns]
        else:
            sep, header = _sniff_csv(p, private)
            # a DP fit's input: a row that does not parse (more cells than the header, an invalid UTF-8 byte, a quote
            # left open) is cut to the header's cells, its byte replaced or its quote closed at the line's end, rather
            # than refusing the fit on one row's account; each line is one record (_one_record_per_line)
            # (usecols cuts a long first row too, which pandas reports as a header mismatch, not a bad line: a reviewer)
            lenient = {"on_bad_lines": "skip", "usecols": range(len(header))} if private and header else {}
            source = _one_record_per_line(p, sep) if private and header else p
            with warnings.catch_warnings():
                # Rows longer than the header would silently become an index (index_col=False) or lose cells.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = pd.read_csv(source, sep=sep, low_memory=False, index_col=False, na_values=list(MISSING_MARKERS), **lenient)

                def as_text(cols: list[int]) -> pd.DataFrame:  # the same cells again, as written
                    if isinstance(source, io.StringIO):
                        source.seek(0)  # (the lines as the first read had them, not rebuilt)
                    return pd.read_csv(source, sep=sep, low_memory=False, index_col=False, na_values=list(MISSING_MARKERS),
                                       dtype=str, **{**lenient, "usecols": cols})

                # (a DP fit's reader reads the number columns again whatever the scan says: the scan reads the file's
                # bytes, pandas the lines rebuilt, and a cell '05\x00' or '"0"5' slipped past it, so one row's '07'
                # decided whether every such cell was 5 or '05': an adversary)
                if private or _may_hold_zero_padded(p, sep):
                    df = _zero_padded_codes(df, as_text)
                if sep == ";":
                    df = _decimal_commas(df)
                df = _formatted_numbers(df)
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError,
            ImportError, csv.Error) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if private:  # (pandas' words tell a row's bytes and positions: an invalid byte came out as '#xff')
            raise DataValidationError(
                f"{label} cannot be parsed as {fmt.upper()} ({PARSE_WITHHELD}); check the delimiter, the quoting (a "
                "quote left open), the encoding (UTF-8 expected) and carriage returns inside cells") from None
        raise DataValidationError(
            f"{label} cannot be parsed as {fmt.upper()} ({msg}); check the delimiter, quoting and encoding (UTF-8 expected)"
            + _bare_returns_hint(p, private)) from None
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise DataValidationError(
            f"{label} repeats column name(s) {dupes} ({', '.join(f'{d!r} x{header.count(d)}' for d in dupes)}); "
            "every column needs its own name: rename or drop the duplicates"
        )
    df.columns = [str(c) for c in df.columns]
    # a CSV's cells of spaces only are empty too (opt's 'Hisp' held '   ' in 18% of rows, inferred as a category ''
    # never missing), as in a frame handed to the Python API; a Parquet file's types are its own
    return normalise_frame(df, role=role) if fmt != "parquet" else df


def _raw_bytes(p: Path) -> bytes:
    """A CSV file's bytes, decompressed (gzip, bz2, xz, or a zip archive of one file)."""
    import bz2
    import gzip
    import lzma
    import zipfile

    suffix = p.suffix.lower()
    if suffix == ".zip":
        with zipfile.ZipFile(p) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise ValueError("a zip archive of one CSV file is expected")
            return z.read(names[0])
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(suffix, open)
    with opener(p, "rb") as fh:  # type: ignore[operator]
        return fh.read()


def _may_hold_zero_padded(p: Path, sep: str) -> bool:
    """Whether any cell of a CSV file may be digits with a leading zero (``0101``): a zero after a delimiter, a line
    break, a quote or a byte pandas skips before a number, then digits up to a delimiter, a line break, a quote or
    such a byte (or the end). Never False where a cell is (a scan of the bytes, in blocks: a second, text read of the
    number columns doubled the time to read 1M rows; a date-time's '08:30' or '05/' ends no cell, so a table of dates
    pays for no second read, a reviewer)."""
    a = np.frombuffer(_raw_bytes(p), dtype=np.uint8)
    # (the bytes pandas skips before a number, C's isspace, \v and \f too: an adversary's '\x0b05' was read as 5, and
    # as '05' where another row's zero-led cell after a space set the scan off)
    edges = np.array(sorted({ord(sep), 9, 10, 11, 12, 13, 32, 34}), dtype=np.uint8)
    block, margin = 1 << 24, 256
    for start in range(1, max(len(a) - 1, 1), block):
        z = np.flatnonzero(a[start : start + block] == 48) + start
        z = z[z < len(a) - 1]
        z = z[(a[z + 1] >= 48) & (a[z + 1] <= 57) & np.isin(a[z - 1], edges)]
        if not z.size:
            continue
        tail = a[start : min(start + block + margin, len(a))]  # (a run past the block's end: within the margin)
        other = np.flatnonzero((tail < 48) | (tail > 57)) + start  # first byte after each run that is no digit
        nxt = np.searchsorted(other, z + 1)
        beyond = nxt >= other.size  # (the run reaches the end of the file, or past the margin: a hit either way)
        ends = np.where(beyond, 0, other[np.minimum(nxt, other.size - 1)])
        if beyond.any() or np.isin(a[ends], edges).any():
            return True
    return False


def _one_record_per_line(p: Path, sep: str) -> io.StringIO:
    """A DP fit's CSV with each line one record: a line's quote left open closes at its end, a carriage return inside
    a line is a space, and an invalid UTF-8 byte is replaced. One person's line then changes one record at most: with
    pandas' quoting, a cell opened with a quote swallowed every later line up to the next cell ending in one (an
    adversary: one added line made flchain's 7,874 rows 884, the released noisy count with them), and a bare carriage
    return split a record in two. A quoted cell spanning lines (free text with line breaks) is cut into records too,
    each read as a row (too few cells: the rest missing); write such text on one line for a DP fit."""
    raw = _raw_bytes(p)
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    # the line ending is the header's (public): a file ending its lines in a bare carriage return (an old Mac export)
    # read as one line, its header fused with its rows (a reviewer)
    first = next((i for i, ch in enumerate(text) if ch in "\r\n"), -1)
    bare_cr = first >= 0 and text[first] == "\r" and text[first + 1 : first + 2] != "\n"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # (a cell of 200,000 characters, free text, broke csv's 131,072 limit: a reviewer)
    try:
        for line in text.split("\r" if bare_cr else "\n"):
            line = line.removesuffix("\r").replace("\r", " ").replace("\n", " ")
            if '"' in line:  # (parsed alone: an open quote ends with the line; written back balanced)
                writer.writerow(next(csv.reader([line], delimiter=sep), []))
            else:
                out.write(line + "\n")
    finally:
        csv.field_size_limit(limit)
    out.seek(0)
    return out


def _bare_returns_hint(p: Path, private: bool = False) -> str:
    """A hint for a CSV holding carriage returns that end no line (inside cells left unquoted, as pandas writes a cell
    holding one: dslabs::trump_tweets), which pandas' C reader reports as 'Buffer overflow'."""
    if table_format(p) == "parquet" or p.suffix.lower() in (".gz", ".bz2", ".zip", ".xz"):
        return ""
    try:
        raw = p.read_bytes()
    except OSError:
        return ""
    bare = raw.count(b"\r") - raw.count(b"\r\n")
    if bare <= 0:
        return ""
    held = "carriage returns" if private else f"{bare} carriage return(s)"  # (a count of rows holding one: private)
    return (f"; it holds {held} that end no line, inside cells: remove them (e.g. replace them by "
            "spaces) or write the file again with every text cell quoted")


def normalise_frame(df: pd.DataFrame, *, role: str | None = None) -> pd.DataFrame:
    """A DataFrame handed to the Python API, read as :func:`read_table` reads a file: cells that are exactly
    one of ``MISSING_MARKERS`` or empty text are missing (a text column that then holds only numbers becomes
    numbers, as the CSV reader would have made it), spreadsheet-formatted numbers (``12,500``, ``45%``) are
    numbers, and column names are strings. The caller's frame is never modified (a changed column is a copy).

    Raises:
        DataValidationError: when two column names are the same once written as text.
    """
    names = [str(c) for c in df.columns]
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        label = f"{role} table" if role else "the table"
        raise DataValidationError(f"{label} repeats column name(s) {dupes} (as text); every column needs its own name: "
                                  "rename or drop the duplicates")
    out = df.copy(deep=False)
    out.columns = names
    markers = {*MISSING_MARKERS, ""}
    for c in names:
        s = out[c]
        if s.dtype != object and not isinstance(s.dtype, pd.StringDtype):
            continue
        text = s.map(lambda v: v.strip() if isinstance(v, str) else v)
        blank = text.isin(markers) & s.notna()
        if blank.any():
            s = s.where(~blank)
            rest = s.dropna()
            if len(rest) and pd.to_numeric(rest, errors="coerce").notna().all():
                s = _keeping_codes(s, pd.to_numeric(s, errors="coerce"))  # (cell by cell, zero-led cells as text)
            out[c] = s
        values = pd.unique(s.dropna()) if s.dtype == object else ()  # distinct values only: tables of 1M rows
        if len(values) and all(isinstance(v, str) and v.strip() in _BOOL_TEXT for v in values):
            # 'true'/'false' text, as pandas' CSV reader turns it into booleans (schema infer then says boolean, and
            # the fit refused the strings: "not in its categories [False, True]")
            out[c] = s.map({v: _BOOL_TEXT[v.strip()] for v in values})
    return _formatted_numbers(out)


#: Text pandas' CSV reader reads as booleans (its default true_values / false_values).
_BOOL_TEXT = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}


#: Delimiters a CSV may use, in order of preference when several fit.
_DELIMITERS = (",", ";", "\t", "|")


def _sniff_csv(p: Path, private: bool = False) -> tuple[str, list[str]]:
    """The delimiter of a CSV file and its header's names (as written, duplicates kept). ``private`` (a DP fit's
    input): from the header alone, the delimiter that splits it most (one row of the first 50 could change the
    choice), an invalid byte replaced."""
    import gzip

    if ".tsv" in [s.lower() for s in p.suffixes]:
        candidates: tuple[str, ...] = ("\t",)
    else:
        candidates = _DELIMITERS
    opener = gzip.open if p.suffix.lower() == ".gz" else open
    if p.suffix.lower() in (".bz2", ".zip", ".xz"):
        return ",", list(pd.read_csv(p, nrows=0).columns.astype(str))
    with opener(p, "rt", encoding="utf-8", newline="", errors="replace" if private else "strict") as f:  # type: ignore[operator]
        lines = [line for _, line in zip(range(1 if private else 50), f, strict=False)]
    text = "".join(lines)
    best, best_fields = candidates[0], 1  # a delimiter must split the header; else pandas reads (or refuses) it as ","
    for sep in candidates:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep) if r]
        if not rows:
            continue
        widths = {len(r) for r in rows[: max(1, len(rows) - 1)]}  # the last line may be cut at 50
        if len(widths) == 1 and (w := widths.pop()) > best_fields:
            best, best_fields = sep, w
    header = next(csv.reader(io.StringIO(text), delimiter=best), [])
    return best, [h.strip() if isinstance(h, str) else str(h) for h in header]


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")


def _formatted_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers that spreadsheets export as text become numbers: a text column whose every value is a number and
    at least one is written with thousands separators (``1,234.5``), as a percentage (``45%`` -> 45.0, the number
    as written) or with a unit (``0.25 mg/dL``; one unit in the column), read by :func:`~medsynth.io.schema.cell_numbers`
    (the one reader of such text, which a DP fit also applies cell by cell). A text column with any other value is left
    as it is, and so are plain numeric strings (``02139``) and a column of several units (``1.0 mg/dL`` beside
    ``88 umol/L``). Semicolon files have read their decimal commas before (:func:`_decimal_commas`)."""
    for c in df.columns:
        s = df[c]
        if s.dtype != object:
            continue
        present = s.notna()
        values = [v for v in pd.unique(s[present]) if isinstance(v, str)]  # distinct values
        if not any(formatted_value(v) is not None for v in values):
            continue
        if len({u for v in values if (u := unit_of(v)) is not None}) > 1:  # '1.0 mg/dL' beside '88 umol/L': no one
            continue                                                          # scale, so text (a DP fit reads cells)
        num = cell_numbers(s)
        if num[present].notna().all():
            df[c] = _keeping_codes(s, num)
    return df


def _keeping_codes(s: pd.Series, num: pd.Series) -> pd.Series:
    """A text column converted to numbers, its zero-led cells kept as written (one formatted cell, '45%' or '1,5' in a
    semicolon file, turned every other row's '05' into 5.0: an adversary; a DP fit's count of text cells moved by
    each of them)."""
    padded = s.map(zero_padded).to_numpy(dtype=bool)
    if not padded.any():
        return num
    out = num.astype(object)
    out[padded] = s[padded].str.strip()
    return out


def _zero_padded_codes(df: pd.DataFrame, as_text: Callable[[list[int]], pd.DataFrame]) -> pd.DataFrame:
    """Cells written with leading zeros (``0101``, ``02139``) that pandas read as numbers, as written again
    (:data:`~medsynth.io.schema.ZERO_PADDED`): each such cell alone is text, the others stay numbers. Cell by cell,
    never by the column: no row decides how another is read (a DP fit's type decision counts each cell as it is
    read), and a key is read alike in every table (a patients table's ids '001'..'1100' and its visits' '001'..'099',
    read by the column, were numbers in one and text in the other, and their link was lost). A column of codes then
    holds '0101' beside 1205, whose category keys (:func:`~medsynth.io.schema.category_key`) and written cells are
    the codes as spelled."""
    # (every number column: a column of whole numbers only would let one row's '2.5' decide whether another's '05' is
    # read as text, and a DP fit's count of text cells would move by every such cell)
    cands = [i for i, c in enumerate(df.columns)
             if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) and df[c].notna().any()]
    if not cands:
        return df
    raw = as_text(cands)
    for i, name in zip(cands, raw.columns, strict=True):
        text = raw[name].str.strip()
        padded = text.str.match(ZERO_PADDED.pattern, na=False).to_numpy(dtype=bool)
        if padded.any():
            c = df.columns[i]
            col = df[c].astype(object)  # (an integer column's own values: 9007199254740993 through a float was ...992)
            if df[c].dtype.kind == "f":  # whole cells as integers, cell by cell (a column with missing cells or a
                x = df[c].to_numpy(dtype=float)  # fraction was read as floats)
                whole = (~padded) & np.isfinite(x) & (x == np.round(x))
                col[whole] = [int(v) for v in x[whole]]
            col[padded] = text[padded].to_numpy()
            df[c] = col
    return df


def _decimal_commas(df: pd.DataFrame) -> pd.DataFrame:
    """In a semicolon CSV, text like ``1,5`` is a number with a decimal comma: converted cell by cell (a column
    whose every value converts becomes numbers). Never decided by the other rows: a rule "re-read the file when some
    column is all decimal commas" let one 'abc' change how a whole file, and so a DP fit's types, were read."""
    for c in df.columns:
        s = df[c]
        if s.dtype != object:
            continue
        lookup = {v: float(v.strip().replace(",", ".")) for v in pd.unique(s.dropna())
                  if isinstance(v, str) and _DECIMAL_COMMA.match(v)}
        if not lookup:
            continue
        hit = s.isin(list(lookup)).to_numpy()
        conv = s.astype(object).copy()
        conv[hit] = s[hit].map(lookup)
        rest = conv[~hit].dropna()
        df[c] = (_keeping_codes(s, pd.to_numeric(conv, errors="coerce"))
                 if rest.empty or pd.to_numeric(rest, errors="coerce").notna().all() else conv)
    return df


def check_table_output(path: str | Path, *, overwrite: bool = True, what: str = "output") -> Path:
    """Check before any work that a table can be written at ``path`` (extension, existence, writable folder).

    Raises:
        DataValidationError: unknown extension, or ``path`` exists and ``overwrite`` is False.
        OutputPathError: the path cannot be created.
    """
    p = Path(path)
    table_format(p)
    check_output(p, kind="file", what=what)
    if p.exists() and not overwrite:
        raise DataValidationError(f"'{p}' already exists; choose another path or pass --force")
    return p


def write_table(df: pd.DataFrame, path: str | Path, *, overwrite: bool = True) -> Path:
    """Atomically write a table as CSV or Parquet (by extension).

    Raises:
        DataValidationError: for an unknown extension, or an existing file when ``overwrite`` is False.
    """
    p = check_table_output(path, overwrite=overwrite)
    fmt = table_format(p)
    with atomic_path(p) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            tsv = ".tsv" in [s.lower() for s in p.suffixes]
            df.to_csv(tmp, index=False, sep="\t" if tsv else ",", compression=_COMPRESSION.get(p.suffix.lower()))
    return p


__all__ = ["check_table_output", "read_table", "table_format", "write_table"]
