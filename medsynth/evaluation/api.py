"""The evaluation job's Python API: one call per kind of data, each returning a :class:`Report`.

The CLI (``medsynth evaluate ...`` / ``medsynth audit ...``) calls these functions and nothing else, so
a notebook and a shell get the same numbers, verdicts and named errors::

    import medsynth

    report = medsynth.evaluate_tabular(train_df, holdout_df, synthetic_df, target="death")
    report.verdict            # "pass", "review" or "fail"
    report.metrics            # a DataFrame, one row per metric
    report.save("report/")    # report.json + report.html
    report                    # renders inline in Jupyter

Inputs are the data whoever made it (DataFrames, CSV/Parquet files, folders of volumes): nothing here
needs a medsynth run. ``config`` is an :class:`EvaluationConfig`, a dict of its fields, or a YAML path;
``sets`` are ``key.sub=value`` overrides laid over it (``["privacy.mia_auc.fail=0.7"]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from medsynth.core.errors import ConfigError
from medsynth.evaluation.config import EvaluationConfig

Mode = Literal["evaluate", "audit"]
ConfigLike = EvaluationConfig | dict[str, Any] | str | Path | None


def load_evaluation_config(path: str | Path | None = None, sets: list[str] | None = None) -> EvaluationConfig:
    """The EvaluationConfig from an optional YAML file and ``key.sub=value`` overrides.

    The file and the overrides are laid over the full defaults, so ``privacy.mia_auc.fail=0.7``
    changes one limit and keeps the other.
    """
    from medsynth.core.config import read_yaml

    return _resolve(read_yaml(path) if path is not None else {}, sets, source=str(path) if path is not None else None)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _resolve(config: ConfigLike, sets: list[str] | None, source: str | None = None,
             given: dict[str, Any] | None = None) -> EvaluationConfig:
    """The validated config: ``config`` < ``given`` (the keyword arguments a call set) < ``sets``."""
    from medsynth.core.config import apply_overrides, read_yaml, validate_config

    given = {k: v for k, v in (given or {}).items() if v is not None}
    if isinstance(config, EvaluationConfig):
        if not sets and not given:
            return config
        data = config.model_dump(mode="json")
    elif isinstance(config, (str, Path)):
        return _resolve(read_yaml(config), sets, source=str(config), given=given)
    elif isinstance(config, dict):
        data = _merge(EvaluationConfig().model_dump(mode="json"), config)
    elif config is None:
        data = EvaluationConfig().model_dump(mode="json")
    else:
        raise ConfigError(f"config {type(config).__name__} is not an evaluation config; give an EvaluationConfig, "
                          "a dict of its fields or the path of a YAML file")
    data = apply_overrides(apply_overrides(data, given), list(sets or []))
    return validate_config(EvaluationConfig, data, source=source or "evaluation settings")


def _finish(report: Any, out: str | Path | None) -> Any:
    if out is not None:
        report.save(out)
    return report


def _check_out(out: str | Path | None) -> None:
    if out is not None:  # before the work, so a bad --out costs nothing
        from medsynth.core.files import check_output

        check_output(Path(out), kind="dir", what="out")


def evaluate_tabular(
    train: Any,
    holdout: Any,
    synthetic: Any,
    *,
    target: str | None = None,
    schema: Any = None,
    sensitive: list[str] | None = None,
    quasi_identifiers: list[str] | None = None,
    config: ConfigLike = None,
    sets: list[str] | None = None,
    run_dir: str | Path | None = None,
    mode: Mode = "evaluate",
    out: str | Path | None = None,
) -> Any:
    """Judge a synthetic table (fidelity, utility with ``target``, privacy), or folders of related tables.

    Args:
        train: the real rows the generator was fitted on: a DataFrame, a CSV/Parquet path, or a folder
            of related tables (one file each; the report is then patient-level, see
            :func:`medsynth.evaluation.multitable.evaluate_multitable`).
        holdout: real rows (or patients) of the same population the generator never saw.
        synthetic: the synthetic rows or folder, from any tool.
        target: column for train-on-synthetic-test-on-real utility (for folders also ``COL=VALUE``).
        schema: the schema YAML ``medsynth schema infer`` writes, a TableSchema or ``{column: kind}``
            (identifier columns are left out); inferred when None.
        sensitive: columns an attribute-inference attacker tries to learn (default: ``target``).
        quasi_identifiers: columns the attacker knows (default: every other column).
        config: thresholds and sizes (an EvaluationConfig, a dict of its fields or a YAML path).
        sets: ``key.sub=value`` overrides of ``config``.
        run_dir: the producer's medsynth run directory: its privacy ledger is shown.
        mode: "evaluate" (every section) or "audit" (privacy only).
        out: when given, the folder the report is saved to (report.json and report.html).

    Returns:
        The :class:`~medsynth.evaluation.report.Report`.

    Raises:
        DataValidationError: mismatched columns, empty tables, overlapping train/holdout, bad values.
        ConfigError: an unknown metric or threshold, a bad ``config``.
    """
    _check_out(out)
    cfg = _resolve(config, sets, given={"tabular.sensitive": list(sensitive) if sensitive else None,
                                        "tabular.quasi_identifiers": list(quasi_identifiers) if quasi_identifiers else None})
    if any(isinstance(x, (str, Path)) and Path(x).is_dir() for x in (train, holdout, synthetic)):
        from medsynth.evaluation.multitable import evaluate_multitable

        report = evaluate_multitable(train, holdout, synthetic, target=target, schema=schema, config=cfg,
                                     run_dir=run_dir, mode=mode)
    else:
        from medsynth.evaluation.tabular import evaluate_tabular as run

        report = run(train, holdout, synthetic, target=target, schema=schema, config=cfg, run_dir=run_dir, mode=mode)
    return _finish(report, out)


def evaluate_multitable(train: Any, holdout: Any, synthetic: Any, *, target: str | None = None, schema: Any = None,
                        config: ConfigLike = None, sets: list[str] | None = None, run_dir: str | Path | None = None,
                        mode: Mode = "evaluate", out: str | Path | None = None) -> Any:
    """Judge a synthetic multi-table dataset (see :func:`medsynth.evaluation.multitable.evaluate_multitable`).

    ``config``, ``sets`` and ``out`` as in :func:`evaluate_tabular`.
    """
    from medsynth.evaluation.multitable import evaluate_multitable as run

    _check_out(out)
    report = run(train, holdout, synthetic, target=target, schema=schema, config=_resolve(config, sets),
                 run_dir=run_dir, mode=mode)
    return _finish(report, out)


def evaluate_images(
    train: str | Path,
    holdout: str | Path,
    synthetic: str | Path,
    *,
    modality: str | None = None,
    weights: str | Path | None = None,
    config: ConfigLike = None,
    sets: list[str] | None = None,
    run_dir: str | Path | None = None,
    mode: Mode = "evaluate",
    out: str | Path | None = None,
    **options: Any,
) -> Any:
    """Judge synthetic volumes: realism, intensities, feature distances, diversity, memorisation.

    Args:
        train: folder of real training volumes (NIfTI/NRRD files or DICOM series folders).
        holdout: folder of real volumes the generator never saw.
        synthetic: folder of synthetic volumes, from any tool.
        modality: "CT" or "MR" for every volume (default: the first training volume's).
        weights: local weights of the 3D feature network (MedicalNet layout); default: fixed random
            features (nothing is downloaded).
        config: as in :func:`evaluate_tabular`.
        sets: as in :func:`evaluate_tabular`.
        run_dir: as in :func:`evaluate_tabular`.
        mode: "evaluate" or "audit" (memorisation and membership only).
        out: as in :func:`evaluate_tabular`.
        **options: further keyword arguments of :func:`medsynth.evaluation.images.evaluate_images`.

    Raises:
        ConfigError: a modality other than CT or MR.
        DataValidationError: a missing or empty folder, unreadable volumes.
    """
    from medsynth.evaluation.images import evaluate_images as run

    mod = modality.upper() if isinstance(modality, str) else modality
    if mod not in (None, "CT", "MR"):
        raise ConfigError(f"modality '{modality}' must be CT or MR (or left out to take the first training volume's)")
    _check_out(out)
    cfg = _resolve(config, sets, given={"images.weights": str(weights) if weights is not None else None})
    report = run(train, holdout, synthetic, config=cfg, modality=mod, run_dir=run_dir, mode=mode, **options)
    return _finish(report, out)


def evaluate_translation(
    predicted: str | Path,
    reference: str | Path,
    *,
    mask: str | Path | None = None,
    labels: str | Path | None = None,
    config: ConfigLike = None,
    sets: list[str] | None = None,
    out: str | Path | None = None,
) -> Any:
    """Score translated CTs against reference CTs: MAE (HU), PSNR, SSIM in the body, MAE per tissue.

    Args:
        predicted: folder of translated CTs, named like the references.
        reference: folder of reference CTs on the same grids.
        mask: folder of body masks (default: from the reference CT).
        labels: folder of tissue label maps for per-tissue MAE.
        config: as in :func:`evaluate_tabular`.
        sets: as in :func:`evaluate_tabular`.
        out: as in :func:`evaluate_tabular`.

    Raises:
        DataValidationError: folders with no common names, pairs of different shapes.
    """
    from medsynth.evaluation.translation import evaluate_translation as run

    _check_out(out)
    return _finish(run(predicted, reference, mask=mask, labels=labels, config=_resolve(config, sets)), out)


__all__ = ["evaluate_images", "evaluate_multitable", "evaluate_tabular", "evaluate_translation", "load_evaluation_config"]
