"""``medsynth tabular fit`` and ``medsynth tabular sample``: synthetic EHR tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from medsynth.cli.common import MAX_STEPS_OPTION, SET_OPTION, done, say
from medsynth.core.errors import ConfigError
from medsynth.privacy.ledger import delta_text
from medsynth.tabular import TABULAR_MODELS

_DP = [m for m in TABULAR_MODELS if m.startswith("dp-")]
_OPEN = [m for m in TABULAR_MODELS if not m.startswith("dp-")]
MODEL_HELP = (f"{', '.join(_DP)} (DP); {', '.join(_OPEN)} (SDV, not private). Default for one table: dp-aim when the "
              "schema marks a target (schema infer marks a column named like an outcome target: true; mark yours), else "
              "dp-mst (it predicted better without one on 6 of 7 real tables); above 200 columns dp-mst, much faster: "
              "they keep the 2-way statistics best at small epsilon. "
              "dp-tvae (DP-SGD, small by default) predicts about as well on a 5.5k-row table at epsilon 1 (flchain TSTR "
              "0.73-0.80) with a larger 2-way error, but swings between 0.5 and 0.7 on a 1.4k-row, 47-column one; dp-ctgan "
              "(DP-SGD GAN) learns little at epsilon 1 (flchain TSTR 0.5-0.7) and is kept for comparison. For a folder: "
              "dp-mst (patient-level DP, the default), dp-aim (the same with AIM on the patient table) or hma (SDV, not "
              "private).")

app = typer.Typer(help="Synthetic EHR tables, with or without differential privacy.", no_args_is_help=True)


@app.command("fit")
def fit(
    data: Path = typer.Argument(..., help="The real table (.csv or .parquet), or a folder with one file per table (a multi-table dataset: patients and their visits)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to create."),
    schema: Optional[Path] = typer.Option(None, "--schema", help="Schema YAML (from `medsynth schema infer`, reviewed). Without it a table's is inferred, and a DP fit treats every domain as read from the data; a folder of related tables needs one for a DP fit (its keys and links are taken as public)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    epsilon: Optional[float] = typer.Option(None, "--epsilon", help="Target epsilon of a DP fit (omit for non-private models)."),
    delta: Optional[float] = typer.Option(None, "--delta", help="Target delta, below 1/rows (default 1e-5; a larger table takes a lower power of ten, noted in the ledger)."),
    config: Optional[Path] = typer.Option(None, "--config", help="A tabular YAML (kind: tabular), e.g. configs/ehr_dp_tvae.yaml."),
    sets: Optional[list[str]] = SET_OPTION,
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Seed of initialisation and of sampling after the fit. It never seeds DP noise: a DP fit draws its noise from OS entropy, so two fits with the same seed release different models."),
    max_steps: Optional[int] = MAX_STEPS_OPTION,
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it is an earlier run."),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed DP-SGD fit (dp-tvae, dp-ctgan) from its last checkpoint, with the run's own config and the same table."),
) -> None:
    """Fit a synthesizer on a table and save it (with its privacy ledger) into a run directory.

    Examples:
        medsynth schema infer data.csv --out schema.yaml   # then review: public: true where domains are public
        medsynth tabular fit data.csv --schema schema.yaml --model dp-mst --epsilon 1 --delta 1e-6 --out run/
        medsynth tabular fit data.csv --config configs/ehr_dp_tvae.yaml --set params.train.epochs=5 --out run/
        medsynth tabular fit pbcseq/ --schema schema.yaml --model dp-mst --epsilon 1 --delta 1e-5 --out run/
    """
    import medsynth.tabular as tab
    from medsynth.core.files import check_output

    check_output(out, kind="dir", what="--out")
    if resume:
        given = [name for name, value in (("--schema", schema), ("--model", model), ("--epsilon", epsilon),
                 ("--delta", delta), ("--config", config), ("--set", sets), ("--seed", seed),
                 ("--max-steps", max_steps)) if value]
        if given or force:
            raise ConfigError(f"--resume continues the run with its own config.yaml and schema; leave out "
                              f"{', '.join(given + (['--force'] if force else []))}")
    import warnings

    from medsynth.core.errors import ReleaseWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReleaseWarning)  # printed below, after the result line
        synth = tab.fit(data, out=out, schema=schema, model=model, epsilon=epsilon, delta=delta, config=config,
                        sets=sets, seed=seed, max_steps=max_steps, force=force, resume=resume)
    rep = synth.privacy_spent()
    root = getattr(synth, "root", None)
    if resume:
        done(f"resumed and finished {synth.name}", out)
        return
    if root is not None:  # related tables: the unit of privacy is one root row with all its rows
        label = (f"epsilon {rep.epsilon:.3g}, delta {delta_text(rep.delta)}, unit: one '{root}' row with all its rows"
                 if rep.private else "NOT differentially private")
        rows = (f"about {synth.rows_estimate} '{root}' rows (noisy count: the exact one stays private)" if rep.private
                else f"{synth.rows_estimate} '{root}' rows")  # (an hma fit said "about 72", as if the count were noisy)
        tables = ", ".join(synth.schema.order())  # type: ignore[union-attr]
        done(f"fitted {synth.name} on tables {tables}, {rows} [{label}]; `medsynth tabular export` copies what may be released", out)
        _say_release_gaps(synth)
        return
    unit = getattr(synth.input_schema, "unit", None)
    sigma = getattr(synth, "rows_sigma", None)  # (the count's noise scale: from the budget, public)
    # (a 64-row table's fit said 'about 1 persons', as if that were its size: the noise is said beside it)
    noisy = (f"noisy count, give or take about {2 * sigma:.0f}: the exact one stays private" if sigma else
             "noisy count: the exact one stays private")
    if rep.private and unit:
        label = f"epsilon {rep.epsilon:.3g}, delta {delta_text(rep.delta)}, unit: one person, the rows sharing a value of '{unit}'"
        rows = f"about {synth.rows_estimate} persons, one random row of each ({noisy})"
    elif rep.private:
        label = f"epsilon {rep.epsilon:.3g}, delta {delta_text(rep.delta)}"
        rows = f"about {synth.rows_estimate} rows ({noisy})"
    else:
        label, rows = "NOT differentially private", f"{synth.rows_estimate} rows"
    tail = ("`medsynth tabular export` copies what may be released" if rep.private else
            "no DP guarantee (give --epsilon for one): `medsynth tabular export` refuses it without --non-private")
    done(f"fitted {synth.name} on {rows} [{label}]; {tail}", out)
    _say_release_gaps(synth)


def _say_release_gaps(synth: Any) -> None:
    """Print what the DP fit could not release; exit 1 where it released nothing usable (the run is complete, but a
    script must not go on to sample a table of empty or constant columns as if it had data)."""
    import medsynth.tabular as tab

    gaps = tab.release_gaps(synth)
    if gaps:
        say(f"warning: {gaps}", err=True, fg=typer.colors.YELLOW)
    if gaps and gaps.startswith(tab.NOTHING_USABLE):
        raise typer.Exit(code=1)


@app.command("sample")
def sample(
    run: Path = typer.Argument(..., help="A run directory from `medsynth tabular fit` (or its model/ folder)."),
    n: int = typer.Option(..., "--n", min=0, help="Rows to sample (for a multi-table run: rows of the root table, each with its child rows)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output table: .csv or .parquet (by extension); for a multi-table run, a folder that gets one file per table."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Same seed, same rows."),
    where: Optional[list[str]] = typer.Option(None, "--where", help="Condition column=value on a categorical column (repeatable), e.g. --where death=1."),
    fmt: str = typer.Option("csv", "--format", help="File format of a multi-table sample's tables: csv or parquet."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Sample synthetic rows from a fitted run (in the table's own types and date formats).

    A multi-table run writes OUT/<table>.csv for every table: N rows of the root table, their child rows,
    new keys, every foreign key pointing to a sampled parent.
    """
    from medsynth.tabular.api import sample as sample_api
    from medsynth.tabular.run import parse_where

    result = sample_api(run, n, out, seed=seed, where=parse_where(where), fmt=fmt, force=force)
    if isinstance(result, dict):
        done("wrote " + ", ".join(f"{len(df)} '{t}' rows" for t, df in result.items()), out)
        import medsynth.tabular as tab

        if any(len(df) for df in result.values()) and tab.nothing_usable(tab.load(run)):  # (a data scientist: a folder's
            # fit that exited 1 with NOTHING USABLE sampled its empty columns with a plain "wrote", exit 0)
            say(f"warning: the fit released nothing usable at its budget ({tab.NOTHING_USABLE}): every column of these "
                "tables is empty or holds a single value, keys aside; see the fit's warning, give a larger epsilon or "
                "declare public domains", err=True, fg=typer.colors.YELLOW)
            raise typer.Exit(code=1)  # (as the fit does: a script must not go on with empty tables; a data scientist)
    else:
        done(f"wrote {len(result)} synthetic rows", out)
        import medsynth.tabular as tab

        model = tab.load(run)
        if tab.nothing_usable(model):  # (decided by the fit, as the fit's own exit: a few rows drawn alike, or a
            # --where condition, are no empty release; a reviewer)
            say(f"warning: the fit released nothing usable at its budget ({tab.NOTHING_USABLE}); see its warning, give "
                "a larger epsilon or declare public domains", err=True, fg=typer.colors.YELLOW)
            raise typer.Exit(code=1)
        if len(result) > 1 and not where and model.privacy_spent().private and _nothing_usable(result):
            # (strep_tb at epsilon 1: 11 of 13 columns empty, the rest constant, and sample said only "wrote")
            say("warning: every column of these rows is empty or holds a single value (keys aside): the fit released "
                "little usable at its budget; see its warning, give a larger epsilon or declare public domains",
                err=True, fg=typer.colors.YELLOW)


def _nothing_usable(df: Any) -> bool:
    """Whether every column of a sampled table is empty or one value, keys (``syn-...``, all distinct) aside."""
    cols = [c for c in df.columns if not (df[c].nunique() == len(df) and df[c].astype(str).str.startswith("syn-").all())]
    return bool(cols) and all(df[c].nunique(dropna=True) <= 1 for c in cols)


@app.command("export")
def export(
    run: Path = typer.Argument(..., help="A run directory from `medsynth tabular fit`."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to create with the releasable files only."),
    non_private: bool = typer.Option(False, "--non-private", help="Allow exporting a run that is NOT differentially private."),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it is an earlier export."),
) -> None:
    """Copy what may leave the hospital: the model, its public schema, the privacy ledger and the model
    card (exactly the run's release manifest). Never copies private/ (input schema as read, losses,
    timings, the data fingerprint); refuses a non-private run without --non-private."""
    from medsynth.core.files import check_output
    from medsynth.tabular.run import export_run

    check_output(out, kind="dir", what="--out")
    files = export_run(run, out, non_private=non_private, force=force)
    warning = _run_warning(run)
    if warning:  # (an export of a fit that released nothing usable said only "exported 24 releasable files": a data
        say(f"warning: {warning}")  # scientist)
    done(f"exported {len(files)} releasable files" + (" (of a fit that released nothing usable)" if warning else ""), out)


def _run_warning(run: Path) -> str | None:
    """The warning a fit recorded in its run.json (:func:`_note_nothing_usable`), if any."""
    import json

    from medsynth.core.rundir import MARKER

    try:
        return json.loads((Path(run) / MARKER).read_text(encoding="utf-8")).get("warning") or None
    except (OSError, ValueError):
        return None
