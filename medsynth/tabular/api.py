"""The Python face of the private-EHR job: infer a schema, fit, load, export.

Example::

    import medsynth.tabular as tab

    schema = tab.infer_schema("flchain.csv")              # review it; declare public what is public
    model = tab.fit("flchain.csv", model="dp-mst", epsilon=1.0, schema=schema, out="runs/flchain")
    synthetic = model.sample(5000, seed=0)                 # where={"sex": "F"} conditions rows
    model.privacy_ledger.total_epsilon                     # every access to the data, composed
    tab.export("runs/flchain", "release/")                 # only what may leave the hospital

``medsynth tabular fit/sample/export`` call these functions; errors are the same named errors.

A folder of tables, or ``{name: DataFrame}``, is a multi-table dataset (patients and their visits):
the same verbs fit, infer and load multi-table models (:mod:`medsynth.tabular.multi_run`), whose
``sample(n)`` returns ``{name: DataFrame}`` with ``n`` rows of the root table and all their children.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from medsynth.tabular.base import TabularSynthesizer
    from medsynth.tabular.schema import TableSchema


def _frame(data: str | Path | pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from medsynth.core.errors import DataValidationError
    from medsynth.io.tables import read_table

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, Path)):
        return read_table(data)
    raise DataValidationError(f"expected a DataFrame or the path of a .csv/.parquet table, got {type(data).__name__}")


def infer_schema(data: str | Path | pd.DataFrame | Mapping[str, pd.DataFrame], *, relations: list[str] | None = None,
                 keys: list[str] | None = None) -> Any:
    """The schema of a table as read from its data (every field marked ``public: false``).

    Review it before a DP fit: declare public (``public: true``, with bounds/categories from public
    knowledge) what is public; a DP fit re-decides everything else under DP and charges it to the budget.
    For a folder of tables (or ``{name: DataFrame}``) it is a dataset schema with primary keys and
    relations (``relations=["visits.id=patients.id"]``, ``keys=["patients.id"]`` give them explicitly).
    """
    from medsynth.tabular.multi_run import infer_dataset, is_dataset
    from medsynth.tabular.schema import infer_schema as _infer

    if is_dataset(data):
        return infer_dataset(data, relations=relations, keys=keys)  # type: ignore[arg-type]

    return _infer(_frame(data))


def fit(
    data: str | Path | pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    model: str = "dp-mst",
    epsilon: float | None = None,
    delta: float = 1e-5,
    schema: str | Path | TableSchema | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    force: bool = False,
    params: Mapping[str, Any] | None = None,
    **privacy: Any,
) -> TabularSynthesizer:
    """Fit a synthesizer on a table.

    Args:
        data: a DataFrame, or the path of a .csv/.parquet file.
        model: a registered tabular model (``dp-mst``, ``dp-tvae``, ``dp-ctgan`` with an epsilon;
            ``gaussian-copula``, ``ctgan``, ``tvae`` without).
        epsilon: target epsilon of a DP fit (``None``: a non-private fit, labelled so).
        delta: target delta (below 1/rows).
        schema: a reviewed schema (object or YAML path); ``None`` infers one (every field then counts
            as read from the data).
        seed: seeds initialisation and post-fit sampling; never the DP noise.
        out: a run directory to write (model, ledger, release manifest, private/); ``None`` fits in memory.
        force: overwrite an earlier run at ``out``.
        params: the model's own hyperparameters (see the configuration reference).
        **privacy: further privacy settings, e.g. ``domain_budget=0.1``.

    Returns:
        The fitted model: ``.sample(n, where=None, seed=None)``, ``.privacy_ledger``, ``.save(path)``.
        For a folder of tables or ``{name: DataFrame}``: a multi-table model (``dp-mst`` with patient-level
        DP, or ``hma``) whose ``.sample(n)`` returns ``{name: DataFrame}``.
    """
    from medsynth.core.config import validate_config
    from medsynth.tabular.multi_run import fit_dataset, is_dataset

    if is_dataset(data):
        return fit_dataset(data, model=model, epsilon=epsilon, delta=delta, schema=schema, seed=seed, out=out,  # type: ignore[return-value,arg-type]
                           force=force, params=params, **privacy)
    from medsynth.tabular.config import TabularConfig
    from medsynth.tabular.run import build_synthesizer, fit_run
    from medsynth.tabular.schema import TableSchema

    config = validate_config(TabularConfig, {"model": model, "seed": seed, "params": dict(params or {}),
                                             "privacy": {"epsilon": epsilon, "delta": delta, **privacy}},
                             source="medsynth.tabular.fit")
    if out is not None:
        return fit_run(data, out, config, schema=schema, force=force)[1]
    if isinstance(schema, (str, Path)):
        schema = TableSchema.load(schema)
    return build_synthesizer(config, schema).fit(_frame(data), schema)


def load(path: str | Path, *, device: str = "cpu") -> TabularSynthesizer:
    """A fitted model from a run directory (or its ``model/`` folder); multi-table runs give multi-table models."""
    from medsynth.tabular.base import TabularSynthesizer
    from medsynth.tabular.multi_base import MultiTableSynthesizer, is_multitable_model

    if is_multitable_model(path):
        return MultiTableSynthesizer.load(path, device=device)  # type: ignore[return-value]

    return TabularSynthesizer.load(path, device=device)


def export(run: str | Path, out: str | Path, *, non_private: bool = False) -> list[str]:
    """Copy the releasable part of a run (its release manifest) to ``out``; see :func:`~medsynth.tabular.run.export_run`."""
    from medsynth.tabular.run import export_run

    return export_run(run, out, non_private=non_private)


__all__ = ["export", "fit", "infer_schema", "load"]
