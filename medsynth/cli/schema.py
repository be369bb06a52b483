"""``medsynth schema infer`` and ``medsynth schema check``: the table schema."""

from __future__ import annotations

from pathlib import Path

import typer

from medsynth.cli.common import done

app = typer.Typer(help="Infer and check table schemas (types, domains, missingness, what is public).", no_args_is_help=True)


@app.command("infer")
def infer(
    data: Path = typer.Argument(..., help="A table (.csv or .parquet)."),
    out: Path = typer.Option(..., "--out", "-o", help="Schema YAML to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Infer a schema for review. Every domain is written as read from the data (public: false).

    Edit it before a DP fit: set public: true on columns whose bounds/categories you declare from
    public knowledge (and adjust them), add constraints (kind: le / range / combinations).
    """
    from medsynth.core.errors import DataValidationError
    from medsynth.core.files import check_output
    from medsynth.io.tables import read_table
    from medsynth.tabular.schema import infer_schema

    check_output(out, kind="file", what="--out")
    if out.exists() and not force:
        raise DataValidationError(f"'{out}' already exists; pass --force to overwrite it")
    schema = infer_schema(read_table(data))
    schema.save(out)
    kinds = ", ".join(f"{c.name}:{c.type}" for c in schema.columns)
    done(f"inferred {len(schema.columns)} columns ({kinds}); review it", out)


@app.command("check")
def check(
    data: Path = typer.Argument(..., help="A table (.csv or .parquet)."),
    schema: Path = typer.Option(..., "--schema", help="Schema YAML."),
) -> None:
    """Check a table against a schema and list every problem."""
    from medsynth.io.tables import read_table
    from medsynth.tabular.schema import TableSchema, validate_table

    clipped = validate_table(read_table(data), TableSchema.load(schema))
    note = f"; values outside declared bounds (clipped when fitting): {clipped}" if clipped else ""
    done(f"'{data}' matches its schema{note}")
