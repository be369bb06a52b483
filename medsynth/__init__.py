"""medsynth: synthetic medical data (imaging, translation, private EHR) and its privacy audit.

One verb set across the four jobs (each is also a CLI command that calls the same function)::

    import medsynth

    model = medsynth.tabular.fit("train.csv", model="dp-aim", epsilon=1.0)     # private EHR
    rows = model.sample(1000)
    gen = medsynth.image.train("configs/ct_vae3d_64.yaml", "volumes/", "runs/ct")  # imaging
    vols = medsynth.image.load("runs/ct").sample(4)
    sct = medsynth.translate.load("runs/mr2ct").apply(medsynth.io.read_volume("mr.nii.gz"))
    report = medsynth.evaluate_tabular("train.csv", "holdout.csv", rows, target="death")
    report.verdict, report.metrics, report.save("report/")

Importing the package is cheap: the sub-packages and heavy dependencies (torch, monai, sdv, opacus)
load on first use, so ``medsynth --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Sub-packages reachable as attributes (``medsynth.tabular.fit``) without importing them up front.
_MODULES = ("tabular", "image", "translate", "io", "evaluation", "privacy", "demo")
#: Names re-exported from the evaluation API.
_EVALUATION = ("evaluate_tabular", "evaluate_multitable", "evaluate_images", "evaluate_translation", "Report",
               "load_evaluation_config")


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"medsynth.{name}")
    if name in _EVALUATION:
        return getattr(importlib.import_module("medsynth.evaluation"), name)
    raise AttributeError(f"module 'medsynth' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(["__version__", *_MODULES, *_EVALUATION])


__all__ = ["__version__", *_EVALUATION, *_MODULES]
