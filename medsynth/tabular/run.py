"""Tabular runs: fit a synthesizer into a run directory, and sample from one.

A fit run directory holds ``run.json``, ``config.yaml`` (the resolved :class:`TabularConfig`),
``metrics.jsonl``, ``privacy_ledger.json`` (also for non-private runs, with ``"private": false``),
and ``model/`` (the saved synthesizer: weights, schema, meta.json, ledger).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from medsynth.core.errors import DataValidationError
from medsynth.core.rundir import RunDir
from medsynth.io.tables import read_table, write_table
from medsynth.privacy.ledger import LEDGER_FILE
from medsynth.tabular.base import TabularSynthesizer, _jsonable
from medsynth.tabular.config import TabularConfig
from medsynth.tabular.schema import TableSchema


def build_synthesizer(config: TabularConfig, schema: TableSchema | None = None) -> TabularSynthesizer:
    """Instantiate the configured synthesizer (``params`` validated against the model's own config).

    Raises:
        ConfigError: unknown model (with a did-you-mean), bad params, or epsilon on a non-private model.
    """
    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.tabular import TABULAR_MODELS

    klass = resolve({k: v for k, v in SYNTHESIZERS.items() if k in TABULAR_MODELS}, config.model, what="tabular model")
    return klass(config.params, privacy=config.privacy, schema=schema, seed=config.seed, device=config.device)


def fit_run(
    data: str | Path | pd.DataFrame,
    out: str | Path,
    config: TabularConfig,
    *,
    schema: str | Path | TableSchema | None = None,
    force: bool = False,
    command: str | None = None,
) -> tuple[RunDir, TabularSynthesizer]:
    """Fit ``config.model`` on a table and write the run directory ``out``.

    Args:
        data: a CSV/Parquet path or a DataFrame.
        out: the run directory to create.
        config: the resolved tabular config.
        schema: a schema YAML path or object; ``None`` infers one (every domain then counts as read
            from the data: a DP fit estimates it with DP or refuses).
        force: overwrite an earlier run at ``out``.

    Raises:
        DataValidationError, ConfigError, PrivacyBudgetError: for bad inputs, before anything is written.
    """
    from medsynth.core.runtime import set_threads

    df = read_table(data) if not isinstance(data, pd.DataFrame) else data
    if isinstance(schema, (str, Path)):
        schema = TableSchema.load(schema)
    set_threads(config.threads)
    model = build_synthesizer(config, schema)
    if Path(out).exists() and any(Path(out).iterdir()) and not force:
        RunDir.create(out, force=False, command=command, resumable=False)  # raises the usual message
    logged: list[tuple[int, dict[str, float]]] = []
    model.on_log = lambda step, metrics: logged.append((step, dict(metrics)))  # type: ignore[attr-defined]
    model.fit(df, schema)  # every input error is raised here, before anything is written
    run = RunDir.create(out, force=force, command=command, resumable=False)
    with run.marks_failure():
        run.write_config(config)
        for step, metrics in logged:
            run.log_metrics(step, metrics)
        model.save(run.path / "model")
        model.ledger.save(run.path / LEDGER_FILE)  # type: ignore[union-attr]
        run.write_json("privacy.json", _jsonable(model.privacy_spent().to_dict()))
        if model.is_private:  # the data owner's record of which table was used; never released
            run.write_json("private/data_fingerprint.json", {
                "data_fingerprint": model.data_fingerprint,
                "note": "hash of the training table; releasing it breaks the DP guarantee (it identifies the table)",
            })
    run.finish()
    return run, model


def parse_where(items: list[str] | None) -> dict[str, Any]:
    """``["death=1", "sex=F"]`` -> ``{"death": "1", "sex": "F"}``.

    Raises:
        DataValidationError: for an item without ``=`` or with an empty column name, and for two
            different values of one column (a row has one value per column), all listed at once.
    """
    out: dict[str, Any] = {}
    problems: list[str] = []
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            problems.append(f"--where '{item}' must look like column=value (e.g. --where death=1)")
        elif key in out and out[key] != value:
            problems.append(
                f"--where {key}={out[key]} and --where {key}={value} contradict each other: a row has one value of "
                f"'{key}'; sample once per value and concatenate the tables"
            )
        else:
            out[key] = value
    if problems:
        raise DataValidationError(problems, context="sampling conditions")
    return out


def sample_run(
    run: str | Path,
    n: int,
    out: str | Path | None = None,
    *,
    seed: int | None = None,
    where: Mapping[str, Any] | None = None,
    overwrite: bool = True,
) -> pd.DataFrame:
    """Sample ``n`` rows from a fitted run (or a saved model folder), optionally writing CSV/Parquet."""
    model = TabularSynthesizer.load(run)
    df = model.sample(n, seed=seed, conditions=dict(where or {}))
    if out is not None:
        write_table(df, out, overwrite=overwrite)
    return df


__all__ = ["build_synthesizer", "fit_run", "parse_where", "sample_run"]
