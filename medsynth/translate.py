"""MR -> CT translation from Python: ``import medsynth.translate as mt``.

Example::

    import medsynth.translate as mt

    tr = mt.train("configs/mr2ct_cyclegan_2d.yaml", "data/mr", "data/ct", "runs/mr2ct", seed=0)
    tr = mt.load("runs/mr2ct")
    sct = tr.apply(mr_volume)                     # a Volume in HU on the MR's grid
    tr.apply_files(["patients/"], "sct/")         # what `medsynth translate apply` does

See :mod:`medsynth.translation.api` for the details; torch and MONAI are imported only when a model is
trained or loaded.
"""

from __future__ import annotations

from medsynth.translation.api import KIND, MODEL, Translator, apply_run, load, resolve_config, train

__all__ = ["KIND", "MODEL", "Translator", "apply_run", "load", "resolve_config", "train"]
