"""3D (and 2D) CT/MR synthesizers that augment scarce imaging datasets: ``vae3d`` and ``gan3d``.

Both follow the Synthesizer contract (``fit`` / ``sample`` / ``save`` / ``load``), are
class-conditional when the data has labels, interpolate in latent space, and train with mixed
precision, gradient accumulation, checkpoints, resume and DDP under torchrun (see
:mod:`medsynth.imaging.base`). Importing this package is cheap; torch and MONAI load with the models.
"""

from __future__ import annotations

from typing import Any

from medsynth.imaging.config import GAN3DConfig, VAE3DConfig

_LAZY = {
    "VAE3D": "medsynth.imaging.vae3d",
    "GAN3D": "medsynth.imaging.gan3d",
    "load_image_synthesizer": "medsynth.imaging.base",
    "write_volumes": "medsynth.imaging.outputs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'medsynth.imaging' has no attribute '{name}'")


__all__ = ["GAN3D", "GAN3DConfig", "VAE3D", "VAE3DConfig", "load_image_synthesizer", "write_volumes"]
