"""Evaluation of synthetic data from any tool: fidelity, utility, privacy attacks, and the report.

Nothing here imports a synthesizer: inputs are tables (CSV/Parquet/DataFrames) and folders of
volumes, whoever made them. Entry points:

* :func:`evaluate_tabular` (``medsynth evaluate tabular`` / ``medsynth audit tabular``)
* :func:`evaluate_multitable` (the same commands given folders of related tables: patients and their visits)
* :func:`evaluate_images` (``medsynth evaluate images`` / ``medsynth audit images``)
* :func:`evaluate_translation` (``medsynth evaluate translation``)
* :class:`~medsynth.evaluation.report.Report` (each returns one): ``.verdict``, ``.metrics`` (a
  DataFrame), ``.save(dir)``, ``.summary()``, and an inline view in Jupyter.
* :func:`write_report` writes ``report.json`` (validated against ``report.schema.json``) and a
  self-contained ``report.html``.

Heavy modules are imported on first use, so ``import medsynth.evaluation`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medsynth.evaluation.api import (
    evaluate_images,
    evaluate_multitable,
    evaluate_tabular,
    evaluate_translation,
    load_evaluation_config,
)
from medsynth.evaluation.config import EvaluationConfig


def write_report(report: Any, out: str | Path) -> dict[str, Path]:
    """See :func:`medsynth.evaluation.html.write_report`."""
    from medsynth.evaluation.html import write_report as run

    return run(report, out)


__all__ = ["EvaluationConfig", "Report", "evaluate_images", "evaluate_multitable", "evaluate_tabular", "evaluate_translation", "load_evaluation_config", "write_report"]


def __getattr__(name: str) -> Any:
    if name == "Report":
        from medsynth.evaluation.report import Report

        return Report
    raise AttributeError(f"module 'medsynth.evaluation' has no attribute '{name}'")
