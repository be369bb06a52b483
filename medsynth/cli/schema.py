"""``medsynth schema infer`` and ``medsynth schema check``: the table schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from medsynth.cli.common import done
from medsynth.core.files import write_text

app = typer.Typer(help="Infer and check table schemas (types, domains, missingness, what is public).", no_args_is_help=True)


#: The first lines of a schema file that ``schema infer`` writes: what it read from the data is exact, not DP.
PRIVATE_HEADER = (
    "# Written by `medsynth schema infer` from the data: the fields each column lists in read_from_data (bounds,\n"
    "# categories, types, rules) are EXACT values of the private table, not DP outputs. Keep this file with the data;\n"
    "# do not share it. A DP fit re-estimates every field read from the data (public: false); set public: true only\n"
    "# on values you replaced with public knowledge (and remove them from read_from_data).\n"
)


@app.command("infer")
def infer(
    data: Path = typer.Argument(..., help="A table (.csv or .parquet), or a folder with one file per table (a multi-table dataset)."),
    out: Path = typer.Option(..., "--out", "-o", help="Schema YAML to write."),
    relation: Optional[list[str]] = typer.Option(None, "--relation", help="A relation CHILD.COLUMN=PARENT.COLUMN (repeatable), e.g. visits.id=patients.id; others are inferred."),
    key: Optional[list[str]] = typer.Option(None, "--key", help="A primary key TABLE.COLUMN (repeatable), e.g. patients.id."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Infer a schema for review. Every domain is written as read from the data (public: false).

    Edit it before a DP fit: set public: true on columns whose bounds/categories you declare from
    public knowledge (and adjust them), add constraints (kind: le / range / combinations / onehot). For a folder,
    the schema lists every table, its primary key and the relations (a column whose name refers to
    another table's key and whose values all appear there). Child rows whose key has no parent and repeated
    primary keys are named in a note with an example value (a fit leaves such child rows out; a DP fit keeps
    one row of a repeated key at random, a non-private fit refuses them: a DP fit must not refuse on one
    patient's rows); a relation naming a missing column, or a cycle, is an error naming the table and column.

    Examples:
        medsynth schema infer flchain.csv --out schema.yaml
        medsynth schema infer pbcseq/ --out schema.yaml --relation visits.id=patients.id
    """
    from medsynth.core.errors import DataValidationError
    from medsynth.core.files import check_output
    from medsynth.io.schema import infer_schema

    check_output(out, kind="file", what="--out")
    if out.exists() and not force:
        raise DataValidationError(f"'{out}' already exists; pass --force to overwrite it")
    if data.is_dir():
        from medsynth.io.dataset import table_files
        from medsynth.io.dataset_infer import infer_dataset_schema

        notes: list[str] = []
        tables = {name: _as_a_fit_reads(f, notes) for name, f in table_files(data).items()}
        ds = infer_dataset_schema(tables, relations=relation, keys=key, notes=notes)
        write_text(out, PRIVATE_HEADER + ds.to_yaml())
        rels = "; ".join(r.label for r in ds.relations) or "no relation"
        notes += [f"table '{t}': {n}" for t, tab in ds.tables.items() for n in _case_variant_notes(tab)]
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        n_rules = sum(len(t.constraints) for t in ds.tables.values())
        rules = (f"; proposed {n_rules} rule(s) that hold in every row of their table (read from the data: set public: "
                 "true on those you accept as domain knowledge)") if n_rules else ""
        done(f"inferred {len(ds.tables)} tables ({', '.join(ds.tables)}) and relations: {rels}{rules}; review it (it "
             "holds exact values of the data: keep it with the data, do not share it)", out)
        return
    if relation or key:
        raise DataValidationError("--relation and --key apply to a folder of tables; DATA is one table")
    read_notes: list[str] = []
    frame = _as_a_fit_reads(data, read_notes)
    for note in read_notes:
        typer.echo(f"note: {note}", err=True)
    schema = infer_schema(frame)
    write_text(out, PRIVATE_HEADER + schema.to_yaml())
    if len(schema.columns) <= 20:
        kinds = ", ".join(f"{c.name}:{c.type}" for c in schema.columns)
    else:  # a wide table: counts per type, not a wall of names (the file lists them)
        from collections import Counter

        kinds = ", ".join(f"{n} {t}" for t, n in Counter(c.type for c in schema.columns).most_common())
    rules = (f"; proposed {len(schema.constraints)} rule(s) that hold in every row (read from the data: set public: "
             "true on those you accept as domain knowledge)") if schema.constraints else ""
    target = next((c.name for c in schema.columns if c.target), None)
    from medsynth.tabular.config import AIM_DEFAULT_MAX_COLUMNS

    wide = len(schema.columns) > AIM_DEFAULT_MAX_COLUMNS
    model = (f"with more than {AIM_DEFAULT_MAX_COLUMNS} columns the default model is dp-mst; --model dp-aim measures what "
             "predicts it" if wide else "dp-aim, the default model with a target, measures what predicts it")
    single = target is not None and frame[target].nunique(dropna=True) <= 1
    target_note = (f"; '{target}' is the prediction target (from its name: {model}; set target: false, or true on another "
                   "column, if your outcome is another)" + (f". WARNING: '{target}' holds a single value in this table, so "
                                                           "nothing can predict it: set target: true on your outcome, or "
                                                           "target: false" if single else "")
                   if target else "; no column is named like an outcome: if you will predict one, mark it target: true "
                   + ("(dp-aim, --model dp-aim, then measures what predicts it)" if wide else
                      "(then the default model is dp-aim, which measures what predicts it; without a target it is dp-mst)"))
    unit_note = "; " + _unit_note(frame, schema)
    for note in _date_format_notes(frame, schema) + _case_variant_notes(schema):
        typer.echo(f"note: {note}", err=True)
    done(f"inferred {len(schema.columns)} columns ({kinds}){rules}{target_note}{unit_note}; review it (it holds exact "
         "values of the data: keep it with the data, do not share it)", out)


def _case_variant_notes(schema: Any) -> list[str]:
    """Category columns holding values that differ only in case or inner spacing ('Male' / 'male'): every model keeps
    them apart (a DP category release may drop the rarer spelling), which is seldom what the data owner meant."""
    out = []
    for c in schema.columns:
        if c.type != "categorical" or not c.categories:
            continue
        groups: dict[str, list[str]] = {}
        for v in c.categories:
            groups.setdefault(" ".join(str(v).split()).casefold(), []).append(str(v))
        same = [g for g in groups.values() if len(g) > 1]
        if same:
            shown = "; ".join(" / ".join(repr(v) for v in g) for g in same[:3])
            out.append(f"column '{c.name}' holds values that differ only in case or spacing ({shown}"
                       f"{' ...' if len(same) > 3 else ''}): they stay separate categories; write them one way in the data "
                       "if they mean the same")
    return out


def _date_format_notes(frame: Any, schema: Any) -> list[str]:
    """Date columns written in more than one format, or holding invalid dates (the data owner's own console: counts
    of the table)."""
    import pandas as pd

    from medsynth.io.schema import invalid_dates

    notes = []
    for col in schema.columns:
        if col.type != "datetime" or not col.format or frame[col.name].dtype != object:
            continue
        text = frame[col.name].dropna().astype(str)
        bad = invalid_dates(frame[col.name], col.format)
        if bad:
            rows = int(text.isin(set(bad)).sum())
            notes.append(f"'{col.name}' holds {rows} value(s) of a date's shape that are no valid date (e.g. {bad[0]!r}): "
                         "they are read as missing; correct them in the file if they should be dates")
            text = text[~text.isin(set(bad))]
        other = int(pd.to_datetime(text, format=col.format, errors="coerce").isna().sum())
        if other:
            notes.append(f"'{col.name}' holds dates in more than one format: {other} of {len(text)} are not written as "
                         f"{col.format!r}; each is read by its own (day and month in that format's order first) and "
                         "synthetic dates are written as it; check them, or declare the format")
    return notes


def _looks_like_a_key(s: Any) -> bool:
    """Whole numbers of at least 100 values, each repeated at most 30 times, most of them more than once, covering
    5-95% of the rows' count: a panel's person number (a hint for the data owner; a unit is never chosen from it)."""
    import pandas as pd

    v = pd.to_numeric(s, errors="coerce").dropna()
    if v.empty or not bool((v == v.round()).all()):
        return False
    per = v.value_counts()
    return bool(len(per) >= 100 and 0.05 * len(s) <= len(per) <= 0.95 * len(s) and per.max() <= 30
                and (per > 1).mean() >= 0.5)


def _unit_note(frame: Any, schema: Any) -> str:
    """What the user should know about the schema's unit (the data owner's own console: counts of the table)."""
    from medsynth.io.schema import ROW_INDEX_NAMES, code_like, id_like, not_keys

    def repeats(per: Any) -> str:  # per: a column's value counts
        return f"{len(frame)} rows, {len(per)} values, up to {int(per.max()) if len(per) else 0} rows each"

    others = [c.name for c in schema.columns if c.name != schema.unit and id_like(c.name) and not code_like(c.name)
              and str(c.name).lower().strip() not in ROW_INDEX_NAMES and frame[c.name].dropna().duplicated().any()]
    if not schema.unit and not others:  # a key no name tells (RandHIE's zper: 5,912 participants over 20,190 rows,
        # learned as a number, the unit a row): whole numbers, many values, most of them repeated a few times
        others = [c.name for c in schema.columns if c.type in ("integer", "identifier") and _looks_like_a_key(frame[c.name])]
    also = (f" ('{others[0]}' repeats: {repeats(frame[others[0]].value_counts())}; if it is what identifies a person, "
            "make it the unit)"
            if others else "")
    unique_ids = [c.name for c in schema.columns if c.type == "identifier" and frame[c.name].notna().mean() > 0.9
                  and frame[c.name].dropna().is_unique]  # (present in most rows: a key, not a sparse reference)
    if not schema.unit and unique_ids and not others:  # (gbsg's pid, one per row, typed an identifier: "no column is
        # named like a person's key" read as if none had been found, a data scientist)
        return (f"'{unique_ids[0]}' is an identifier holding one row per value: each row is taken as one person (a DP fit "
                "protects each row); if a person can have several rows, set unit: <the column that identifies them>")
    if not schema.unit:
        return ("no column is named like a person's key (patient_id, PatientID, ID, MRN): if a person can have several "
                "rows, set unit: <the column that identifies them> (type identifier), so that a DP fit protects each "
                f"person, not each row{also}")
    unit = schema.unit
    why = not_keys(unit, frame[unit])
    if why:  # a hint read from the data for its owner; the unit itself comes from the name (one row must not change it)
        return (f"'{unit}' is named like a person's key, so it is the unit (unit: {unit}), but it holds {why}: if it "
                f"does not identify people, take unit out (a DP fit would read one row of each of its "
                f"{frame[unit].nunique()} values)")
    per = frame[unit].value_counts()
    keyless = int(frame[unit].isna().sum())
    if len(per) and per.max() > 1:
        seen = f"it repeats here: {repeats(per)}"
        if len(per) < 20 or per.max() > 100:
            seen += f"; so few values, or so many rows each, may not be people: check that '{unit}' identifies a person"
        # (a data scientist's pbcseq, 6.4 visits a patient: the synthetic table held one row each, its days those of
        # one random visit, and nothing had said that a folder keeps them)
        seen += ("; the synthetic table then holds one row per person, as one random row of each, not the table's "
                 "rows: to keep each person's rows, split it into a folder of a persons table and a rows table and "
                 "give the folder (medsynth schema infer DIR)")
    else:
        seen = f"its values are all distinct here: every row is kept{also}"
    if keyless:
        seen += f"; {keyless} row(s) have no value of it: each counts as a person of its own"
    return (f"'{unit}' is named like a person's key, so it is the unit (unit: {unit}): a DP fit protects each person and "
            f"reads one random row of each ({seen}); take unit out if it does not identify people")


@app.command("check")
def check(
    data: Path = typer.Argument(..., help="A table (.csv or .parquet), or a folder of tables."),
    schema: Path = typer.Option(..., "--schema", help="Schema YAML."),
) -> None:
    """Check a table (or a folder of tables: keys and relations too) against a schema and list every problem."""
    from medsynth.io.schema import TableSchema, validate_table
    from medsynth.io.tables import read_table

    if data.is_dir():
        from medsynth.io.dataset import left_out_notes, prepare_dataset, read_dataset, validate_dataset
        from medsynth.tabular.multi_run import load_dataset_schema

        ds = load_dataset_schema(schema)
        tables, lost = prepare_dataset(read_dataset(data), ds)  # type: ignore[arg-type]
        clipped = {t: c for t, c in validate_dataset(tables, ds).items() if c}  # type: ignore[arg-type]
        note = f"; values outside declared bounds (clipped when fitting): {clipped}" if clipped else ""
        note += "".join(f"; {n} (as a fit does)" for n in left_out_notes(lost))
        done(f"'{data}' matches its schema (tables, keys, relations){note}")
        return

    frame, table_schema = read_table(data), TableSchema.load(schema)
    clipped = validate_table(frame, table_schema)
    from medsynth.io.schema import public_read_problems

    for problem in public_read_problems(table_schema):  # a DP fit refuses these (they would be released exactly)
        typer.echo(f"warning: {problem}", err=True)
    note = f"; values outside declared bounds (clipped when fitting): {clipped}" if clipped else ""
    keyless = int(frame[table_schema.unit].isna().sum()) if table_schema.unit else 0
    if keyless:
        note += (f"; {keyless} row(s) have no value of the unit '{table_schema.unit}': a DP fit counts each as a person of "
                 "its own (fill the key where the row belongs to a known person)")
    done(f"'{data}' matches its schema{note}")


def _as_a_fit_reads(path: Path, notes: list[str]) -> Any:  # noqa: ANN401 - a DataFrame
    """A table as ``read_table`` reads it, or, where one malformed line stops that (cells past the header's, a byte
    that is not UTF-8, a quote left open), as a DP fit reads its table, with a note: one line stopped `schema infer`
    where the fit reads the same file, so a pipeline refused on one record's account (an adversary)."""
    from medsynth.core.errors import DataValidationError
    from medsynth.io.tables import read_table

    try:
        return read_table(path)
    except DataValidationError as exc:
        if "cannot be parsed" not in str(exc):
            raise
        notes.append(f"{exc}; read it instead as a DP fit reads its table (each line one record: a quote left open "
                     "closes at its line's end, cells past the header's are cut, a byte that is not UTF-8 is replaced), "
                     "which this schema describes; fix the file to describe it exactly")
        return read_table(path, private=True)
