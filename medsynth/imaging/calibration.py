"""Per-tissue intensity calibration of mask-conditioned samples (ldm3d image + mask pairs).

Why: a latent diffusion model at small scale reproduces the layout of a label map but not the
intensity of small or thin tissues. On the 32^3 CT phantoms of ``benchmarks/augment.py`` (window
[-200, 400] HU, 4x-downsampling VAE trained 300 steps, seed 0; ``benchmarks/augment_diagnose.py``),
the first stage's round trip of the 8 training phantoms already pulls tissues toward the middle
(median lesion 64 HU vs 86 real, organ 53 vs 57, bone 193 vs 400, fat -144 vs -200), and samples
from the same label maps lose a little more (lesion 56, organ 47, bone 162, fat -134): the
lesion-organ contrast falls from 29 HU to 9. ControlNet cannot put back what the decoder cannot
express, so a segmenter trained on such pairs learns that a lesion looks almost like the organ.

What: at fit time, the quantiles of the training images' intensities inside each label of their
label maps (``n_quantiles`` per label, on the model's [-1, 1] scale); at sampling time, each label's
voxels of a generated image are mapped, by rank, onto that label's training quantiles (histogram
matching per tissue). The generator keeps the layout, boundaries and texture (the order of voxel
values inside a tissue); the tissue's intensity distribution becomes the training one.
Quantiles are aggregates of the training images, saved in the model's ``meta.json`` like its
weights are in the checkpoint (both are derived from the training data).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

#: Quantiles kept per label (0, 1/64, ..., 1): 65 numbers per tissue.
N_QUANTILES = 65


def tissue_quantiles(images: Sequence[torch.Tensor], masks: Sequence[torch.Tensor], mask_classes: int,
                     n_quantiles: int = N_QUANTILES) -> list[list[float] | None]:
    """Per label ``0..mask_classes-1``: ``n_quantiles`` quantiles of the image values inside it (None: label absent).

    Args:
        images: training images (1, *spatial) on the model's scale.
        masks: their label maps (1, *spatial), same grids.
        mask_classes: number of labels.
        n_quantiles: quantiles per label, evenly spaced from 0 to 1.
    """
    values: list[list[np.ndarray]] = [[] for _ in range(mask_classes)]
    for x, m in zip(images, masks):
        xa = np.asarray(x, dtype=np.float32).ravel()
        ma = np.rint(np.asarray(m)).astype(np.int64).ravel()
        for k in range(mask_classes):
            sel = xa[ma == k]
            if sel.size:
                values[k].append(sel)
    grid = np.linspace(0.0, 1.0, n_quantiles)
    out: list[list[float] | None] = []
    for v in values:
        out.append([round(float(q), 6) for q in np.quantile(np.concatenate(v), grid)] if v else None)
    return out


def calibrate(x: torch.Tensor, mask: torch.Tensor, quantiles: Sequence[Sequence[float] | None]) -> torch.Tensor:
    """Map each label's voxels of ``x`` by rank onto that label's training quantiles.

    Args:
        x: a generated image (1, *spatial).
        mask: its label map (1, *spatial) (integers, possibly stored as floats).
        quantiles: from :func:`tissue_quantiles`; a label with None (absent in training) is left as generated.

    Returns:
        The calibrated image, same shape and dtype.
    """
    xa = x.detach().cpu().float().numpy().copy()
    ma = np.rint(mask.detach().cpu().numpy()).astype(np.int64)
    flat, labels = xa.ravel(), ma.ravel()
    for k, q in enumerate(quantiles):
        if q is None:
            continue
        idx = np.flatnonzero(labels == k)
        if idx.size == 0:
            continue
        ranks = np.empty(idx.size, dtype=np.float64)
        ranks[np.argsort(flat[idx], kind="stable")] = np.arange(idx.size)
        u = (ranks + 0.5) / idx.size
        flat[idx] = np.interp(u, np.linspace(0.0, 1.0, len(q)), np.asarray(q, dtype=np.float64))
    return torch.from_numpy(flat.reshape(xa.shape)).to(dtype=x.dtype)


__all__ = ["N_QUANTILES", "calibrate", "tissue_quantiles"]
