"""Multi-table runs and the Python face of the job: fit a folder (or ``{name: DataFrame}``), sample, load.

Example::

    import medsynth.tabular as tab

    schema = tab.infer_dataset_schema("pbcseq/")                 # a folder: one CSV/Parquet per table
    model = tab.fit({"patients": p, "visits": v}, model="dp-mst", epsilon=1.0, delta=1e-5, out="runs/pbc")
    synthetic = model.sample(312, seed=0)                          # {"patients": ..., "visits": ...}

``medsynth tabular fit DATA_DIR`` and ``medsynth tabular sample RUN --out OUT_DIR`` call these. The run
directory is laid out as for one table (``run.json``, ``config.yaml``, ``privacy_ledger.json``,
``privacy.json``, ``model/``, ``release_manifest.json``, ``private/``); ``medsynth tabular export`` copies
exactly the manifest, and a DP fit that fails after touching the data still leaves its spent ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from medsynth.core.errors import ConfigError, DataValidationError, MedsynthError
from medsynth.core.rundir import RunDir
from medsynth.io.dataset import DatasetSchema, is_dataset_schema, read_dataset, write_dataset
from medsynth.io.dataset_infer import infer_dataset_schema
from medsynth.io.tables import normalise_frame
from medsynth.privacy.ledger import LEDGER_FILE
from medsynth.tabular.base import _jsonable
from medsynth.tabular.config import TabularConfig
from medsynth.tabular.multi_base import MultiTableSynthesizer

DatasetLike = str | Path | Mapping[str, pd.DataFrame]


def read_tables(data: DatasetLike, *, private: bool = False) -> dict[str, pd.DataFrame]:
    """``{name: DataFrame}`` from a dataset folder or a mapping.

    Raises:
        DataValidationError: not a folder or mapping of DataFrames.
    """
    if isinstance(data, Mapping):
        bad = [k for k, v in data.items() if not isinstance(v, pd.DataFrame)]
        if bad or not data:
            raise DataValidationError(f"expected {{table name: pandas DataFrame}}; {bad or 'no tables'} are not DataFrames")
        return {str(k): normalise_frame(v, role=f"table '{k}'") for k, v in data.items()}
    if isinstance(data, (str, Path)):
        return read_dataset(data, private=private)
    raise DataValidationError(f"expected a folder of tables or {{table name: DataFrame}}, got {type(data).__name__}")


def load_dataset_schema(schema: str | Path | DatasetSchema | None) -> DatasetSchema | None:
    """A dataset schema from a YAML path (checked to be a dataset schema, not a single table's)."""
    if schema is None or isinstance(schema, DatasetSchema):
        return schema
    if not Path(schema).is_file():
        raise ConfigError(f"schema file '{schema}' does not exist; write one with `medsynth schema infer DATA_DIR --out schema.yaml`")
    if not is_dataset_schema(schema):
        raise ConfigError(f"'{schema}' is a single table's schema (columns:) but the data is a folder of tables; infer a "
                          "dataset schema with `medsynth schema infer DATA_DIR --out schema.yaml` (it has tables: and relations:)")
    return DatasetSchema.load(schema)


def build_multitable(config: TabularConfig, schema: DatasetSchema | None = None) -> MultiTableSynthesizer:
    """Instantiate the configured multi-table synthesizer.

    Raises:
        ConfigError: unknown model (with the known ones), bad params, epsilon on a non-private model.
    """
    from medsynth.core.registry import MULTITABLE_SYNTHESIZERS, resolve

    klass = resolve(MULTITABLE_SYNTHESIZERS, config.model_for(dataset=True), what="multi-table model (for a folder of tables)")
    return klass(config.params, privacy=config.privacy, schema=schema, seed=config.seed, device=config.device)


def fit_dataset_run(
    data: DatasetLike,
    out: str | Path,
    config: TabularConfig,
    *,
    schema: str | Path | DatasetSchema | None = None,
    force: bool = False,
    command: str | None = None,
) -> tuple[RunDir, MultiTableSynthesizer]:
    """Fit ``config.model`` on a folder of tables and write the run directory ``out``.

    Raises:
        DataValidationError, ConfigError, PrivacyBudgetError: for bad inputs, before anything is written
            (a DP fit that fails after touching the data leaves a failed run with its spent ledger).
    """
    from medsynth.core.runtime import set_threads

    tables = read_tables(data, private=config.privacy.private)
    loaded = load_dataset_schema(schema)
    set_threads(config.threads)
    model = build_multitable(config, loaded)
    if Path(out).exists() and any(Path(out).iterdir()) and not force:
        RunDir.create(out, force=False, command=command, resumable=False)  # raises the usual message
    from medsynth.tabular.run import _earlier_spend, _note_earlier

    earlier = _earlier_spend(out) if force and model.is_private else None
    try:
        model.fit(tables, loaded)
    except Exception as exc:
        spent = getattr(exc, "spent_ledger", None)
        if spent is None:
            raise
        run = RunDir.create(out, force=force, command=command, resumable=False)
        run.write_config(config.model_copy(update={"model": model.name}))
        run._update_marker(kind="multitable", model=model.name)
        _note_earlier(spent, earlier)
        spent.save(run.path / LEDGER_FILE)
        run.finish("failed")
        if not isinstance(exc, MedsynthError):  # (a bug: its own error, the spend recorded all the same)
            raise
        raise type(exc)(f"{exc}\n(this attempt spent part of the budget before failing; its ledger is in "
                        f"{run.path / LEDGER_FILE}: a retry on the same data composes with it)") from None
    _note_earlier(model.ledger, earlier)  # (before the model card is written)
    run = RunDir.create(out, force=force, command=command, resumable=False)
    with run.marks_failure():
        run.write_config(config.model_copy(update={"model": model.name}))  # records the config's kind ("tabular") in run.json: the dataset's kind follows
        run._update_marker(kind="multitable", model=model.name)
        model.save(run.path / "model", private_dir=run.private_dir if model.is_private else None)
        model.ledger.save(run.path / LEDGER_FILE)  # type: ignore[union-attr]
        run.write_json("privacy.json", _jsonable(model.privacy_spent().to_dict()))
        run.seal_release()
    run.finish()
    from medsynth.tabular.run import _note_nothing_usable

    _note_nothing_usable(run, model)
    return run, model


def sample_dataset_run(run: str | Path, n: int | None, out: str | Path | None = None, *, seed: int | None = None,
                       fmt: Literal["csv", "parquet"] = "csv", overwrite: bool = False) -> dict[str, pd.DataFrame]:
    """Sample ``n`` root rows with their children from a fitted run; with ``out``, write one file per table."""
    model = MultiTableSynthesizer.load(run)
    tables = model.sample(n, seed=seed)
    if out is not None:
        write_dataset(tables, out, fmt=fmt, overwrite=overwrite)
    return tables


# -- the Python face ------------------------------------------------------------------------------
def infer_dataset(data: DatasetLike, *, relations: list[str] | None = None, keys: list[str] | None = None) -> DatasetSchema:
    """The schema of a dataset (tables, keys, relations) as read from its data; review it before a DP fit."""
    return infer_dataset_schema(read_tables(data), relations=relations, keys=keys)


def fit_dataset(
    data: DatasetLike,
    *,
    model: str = "dp-mst",
    epsilon: float | None = None,
    delta: float = 1e-5,
    schema: str | Path | DatasetSchema | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    force: bool = False,
    params: Mapping[str, Any] | None = None,
    **privacy: Any,
) -> MultiTableSynthesizer:
    """Fit a multi-table synthesizer on ``{name: DataFrame}`` or a folder of tables.

    Args:
        data: the tables, or a folder with one CSV/Parquet file per table.
        model: ``dp-mst`` (patient-level DP with an epsilon; exact marginals without) or ``hma`` (SDV, non-private).
        epsilon: target epsilon (``None``: non-private, labelled so).
        delta: target delta (below 1/n, n = rows of the root table).
        schema: a reviewed dataset schema (object or YAML path); ``None`` infers one.
        seed: seeds initialisation and sampling; never the DP noise.
        out: a run directory to write; ``None`` fits in memory.
        force: overwrite an earlier run at ``out``.
        params: the model's settings (e.g. ``{"max_children": 10}``).
        **privacy: further privacy settings, e.g. ``domain_budget=0.1``.

    Returns:
        The fitted model: ``.sample(n, seed=)`` -> ``{name: DataFrame}``, ``.privacy_ledger``, ``.save(path)``.
    """
    from medsynth.core.config import validate_config

    config = validate_config(TabularConfig, {"model": model, "seed": seed, "params": dict(params or {}),
                                             "privacy": {"epsilon": epsilon, "delta": delta, **privacy}},
                             source="medsynth.tabular.fit")
    if out is not None:
        return fit_dataset_run(data, out, config, schema=schema, force=force)[1]
    loaded = load_dataset_schema(schema)
    return build_multitable(config, loaded).fit(read_tables(data, private=config.privacy.private), loaded)


def is_dataset(data: Any) -> bool:
    """Whether ``data`` is a multi-table dataset: a mapping of tables or a folder."""
    return isinstance(data, Mapping) or (isinstance(data, (str, Path)) and Path(data).is_dir())


__all__ = ["build_multitable", "fit_dataset", "fit_dataset_run", "infer_dataset", "is_dataset", "load_dataset_schema",
           "read_tables", "sample_dataset_run"]
