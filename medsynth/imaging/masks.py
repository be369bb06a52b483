"""New label maps from existing ones, for image + mask pairs (``image sample --new-masks N``).

Each new map starts from a seeded random choice among the source maps (the training maps of a
mask-conditioned model, or the ``--masks`` folder) and goes through, in this order:

1. a random elastic deformation (MONAI ``Rand3DElastic``, nearest-neighbour, so labels stay labels);
2. random mirroring along ``flip_axes`` (by default left-right only: anatomy is not up-down symmetric);
3. with ``organ_label``/``lesion_label`` set: lesion removal (every lesion voxel becomes organ) with
   ``remove_probability``, then insertion of one spherical lesion of radius ``lesion_radius`` voxels
   with ``insert_probability``, centred where the organ is at least that deep (distance transform),
   so the lesion lies inside the organ.

Everything is a function of the seed: map ``i`` of ``new_masks(..., seed=s)`` uses seed ``s + i``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from medsynth.core.errors import DataValidationError
from medsynth.imaging.config import MaskConfig


def insert_lesion(mask: np.ndarray, organ: int, lesion: int, radius: float, rng: np.random.Generator) -> bool:
    """Paint one spherical lesion of ``radius`` voxels inside the organ; False when the organ is too thin."""
    from scipy.ndimage import distance_transform_edt

    inside = mask == organ
    if not inside.any():
        return False
    depth = distance_transform_edt(inside)
    cand = np.argwhere(depth >= radius + 0.5)
    if len(cand) == 0:
        return False
    c = cand[rng.integers(len(cand))]
    grid = np.indices(mask.shape, dtype=np.float32)
    d2 = sum((g - float(ci)) ** 2 for g, ci in zip(grid, c))
    mask[(d2 <= radius**2) & inside] = lesion
    return True


def _unit_shift(sigma: float) -> float:
    """The deviation, along one axis, of MONAI's ``Rand3DElastic`` displacement per unit of its ``magnitude``: its field
    is uniform noise on [-1, 1] (variance 1/3) smoothed by a normalised Gaussian of ``sigma`` voxels, which divides the
    variance by (2 sqrt(pi) sigma)^3. Its magnitude is no displacement in voxels: the (1, 3) taken as voxels moved a
    label map by 0.02 voxel, so ``--new-masks`` handed back the training maps unchanged (an imaging researcher)."""
    return float(np.sqrt(1.0 / 3.0) * (2.0 * np.sqrt(np.pi) * sigma) ** -1.5)


def new_mask(source: np.ndarray, cfg: MaskConfig, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """One new label map from ``source`` (integer array), and what was done to it."""
    import torch
    from monai.transforms import Rand3DElastic

    rng = np.random.default_rng(seed)
    out = np.asarray(source).astype(np.int64)
    log: dict[str, Any] = {}
    if max(cfg.elastic_magnitude) > 0:
        sigma = float(rng.uniform(*cfg.elastic_sigma))
        shift = float(rng.uniform(*cfg.elastic_magnitude))  # voxels: the displacement's deviation along each axis
        elastic = Rand3DElastic(sigma_range=(sigma, sigma), magnitude_range=(shift / _unit_shift(sigma),) * 2, prob=1.0,
                                mode="nearest", padding_mode="border")
        elastic.set_random_state(seed=int(rng.integers(2**31)))
        before = out
        out = np.rint(np.asarray(elastic(torch.as_tensor(out[None], dtype=torch.float32))[0])).astype(np.int64)
        log["elastic"] = {"sigma": round(sigma, 2), "shift_voxels": round(shift, 2),
                          "voxels_changed": int(np.count_nonzero(out != before))}
    flips = [int(a) for a in cfg.flip_axes if rng.uniform() < 0.5]
    if flips:
        out = np.flip(out, axis=tuple(flips)).copy()
    log["flipped_axes"] = flips
    if cfg.organ_label is not None and cfg.lesion_label is not None:
        if rng.uniform() < cfg.remove_probability and (out == cfg.lesion_label).any():
            out[out == cfg.lesion_label] = cfg.organ_label
            log["lesion_removed"] = True
        if rng.uniform() < cfg.insert_probability:
            radius = float(rng.uniform(*cfg.lesion_radius))
            log["lesion_inserted_radius"] = round(radius, 2) if insert_lesion(out, cfg.organ_label, cfg.lesion_label, radius, rng) else None
    return out, log


def new_masks(sources: Sequence[np.ndarray], n: int, cfg: MaskConfig, *, seed: int = 0) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """``n`` new label maps made from ``sources`` (see the module docstring); item ``i`` uses seed ``seed + i``.

    Raises:
        DataValidationError: no source map.
    """
    if not sources:
        raise DataValidationError("no label map to make new ones from; give --masks DIR or a model trained with --labels-dir")
    out = []
    for i in range(n):
        pick = int(np.random.default_rng([seed + i, 7]).integers(len(sources)))
        m, log = new_mask(sources[pick], cfg, seed + i)
        out.append((m, {"source_index": pick, **log}))
    return out


__all__ = ["insert_lesion", "new_mask", "new_masks"]
