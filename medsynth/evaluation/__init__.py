"""Evaluation of synthetic data from any tool: fidelity, utility, privacy attacks, and the report.

Nothing here imports a synthesizer: inputs are tables (CSV/Parquet/DataFrames) and folders of
volumes, whoever made them. Entry points:

* :func:`evaluate_tabular` (``medsynth evaluate tabular`` / ``medsynth audit tabular``)
* :func:`evaluate_multitable` (the same commands given folders of related tables: patients and their visits)
* :func:`evaluate_images` (``medsynth evaluate images`` / ``medsynth audit images``)
* :func:`evaluate_translation` (``medsynth evaluate translation``)
* :func:`write_report` writes ``report.json`` (validated against ``report.schema.json``) and a
  self-contained ``report.html``.

Heavy modules are imported on first use, so ``import medsynth.evaluation`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medsynth.evaluation.config import EvaluationConfig


def load_evaluation_config(path: str | Path | None = None, sets: list[str] | None = None) -> EvaluationConfig:
    """The EvaluationConfig from an optional YAML file and ``key.sub=value`` overrides.

    The file and the overrides are laid over the full defaults, so ``privacy.mia_auc.fail=0.7``
    changes one limit and keeps the other.
    """
    from medsynth.core.config import apply_overrides, read_yaml, validate_config

    def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for k, v in top.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    data = EvaluationConfig().model_dump(mode="json")
    if path is not None:
        data = merge(data, read_yaml(path))
    data = apply_overrides(data, sets or [])
    return validate_config(EvaluationConfig, data, source=str(path) if path is not None else "evaluation settings")


def evaluate_tabular(*args: Any, **kwargs: Any):
    """See :func:`medsynth.evaluation.tabular.evaluate_tabular`."""
    from medsynth.evaluation.tabular import evaluate_tabular as run

    return run(*args, **kwargs)


def evaluate_multitable(*args: Any, **kwargs: Any):
    """See :func:`medsynth.evaluation.multitable.evaluate_multitable`."""
    from medsynth.evaluation.multitable import evaluate_multitable as run

    return run(*args, **kwargs)


def evaluate_images(*args: Any, **kwargs: Any):
    """See :func:`medsynth.evaluation.images.evaluate_images`."""
    from medsynth.evaluation.images import evaluate_images as run

    return run(*args, **kwargs)


def evaluate_translation(*args: Any, **kwargs: Any):
    """See :func:`medsynth.evaluation.translation.evaluate_translation`."""
    from medsynth.evaluation.translation import evaluate_translation as run

    return run(*args, **kwargs)


def write_report(report: Any, out: str | Path) -> dict[str, Path]:
    """See :func:`medsynth.evaluation.html.write_report`."""
    from medsynth.evaluation.html import write_report as run

    return run(report, out)


__all__ = ["EvaluationConfig", "evaluate_images", "evaluate_multitable", "evaluate_tabular", "evaluate_translation", "load_evaluation_config", "write_report"]
