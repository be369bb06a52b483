"""3D (and 2D) CT/MR synthesizers that augment scarce imaging datasets: ``vae3d``, ``gan3d`` and
``ldm3d`` (latent diffusion on a vae3d, which also makes image + label-map pairs).

The Python API is :mod:`medsynth.imaging.api` (``import medsynth.image as mi``: ``mi.train``, ``mi.load``).
All follow the Synthesizer contract (``fit`` / ``sample`` / ``save`` / ``load``), are
class-conditional when the data has labels, interpolate in latent space, and train with mixed
precision, gradient accumulation, checkpoints, resume and DDP under torchrun (see
:mod:`medsynth.imaging.base`). Importing this package is cheap; torch and MONAI load with the models.
"""

from __future__ import annotations

from typing import Any

from medsynth.imaging.config import GAN3DConfig, LDM3DConfig, VAE3DConfig

_LAZY = {
    "VAE3D": "medsynth.imaging.vae3d",
    "GAN3D": "medsynth.imaging.gan3d",
    "LDM3D": "medsynth.imaging.ldm3d",
    "LabelledVolume": "medsynth.imaging.pairs",
    "write_pairs": "medsynth.imaging.pairs",
    "load_image_synthesizer": "medsynth.imaging.base",
    "ImageModel": "medsynth.imaging.api",
    "train": "medsynth.imaging.api",
    "load": "medsynth.imaging.api",
    "write_volumes": "medsynth.imaging.outputs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'medsynth.imaging' has no attribute '{name}'")


__all__ = ["GAN3D", "GAN3DConfig", "ImageModel", "LDM3D", "LDM3DConfig", "LabelledVolume", "VAE3D", "VAE3DConfig", "load",
           "load_image_synthesizer", "train", "write_pairs", "write_volumes"]
