"""The imaging job in Python: ``import medsynth.image as mi``.

Example::

    import medsynth.image as mi

    model = mi.train("configs/ct_vae3d_64.yaml", "ct/", "runs/vae", overrides={"train.max_steps": 200})
    volumes = model.sample(4, seed=0)          # list[medsynth.io.Volume], CT in HU on the training grid
    model = mi.load("runs/vae")                # vae3d, gan3d or ldm3d
    mi.write_volumes(volumes, "synth/")        # NIfTI + manifest.csv (format="dicom" for DICOM series)

See :mod:`medsynth.imaging.api` for the details; ``medsynth image ...`` calls the same functions.
"""

from __future__ import annotations

from medsynth.imaging.api import IMAGE_KINDS, ImageModel, load, resolve_config, train, write_volumes

__all__ = ["IMAGE_KINDS", "ImageModel", "load", "resolve_config", "train", "write_volumes"]
