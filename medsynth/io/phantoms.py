"""Paired procedural CT/MR phantoms with a known answer.

Each phantom is a random anatomy-like tissue label volume (a trunk-like body with a fat layer,
muscle/soft tissue, one or two organs, a spine and two paired bones, and an optional lesion), mapped

* to CT in Hounsfield units: the tissue means below, a small per-case jitter, partial-volume blur
  and Gaussian noise (``ct_noise_hu``, 12 HU by default, like a standard-dose abdominal CT);
* to T1- or T2-like MR intensities (arbitrary units, 0-1000 scale): the tissue means below, a smooth
  multiplicative bias field (``bias_strength``), blur and Rician noise.

Both share one grid, so a CT predicted from the MR can be scored against the phantom's own CT.

Tissue values (CT HU: mean, per-case jitter; MR T1 / T2 means, a.u.)::

    label tissue        CT HU       T1    T2
    0     air           -1000 +-0      0     0
    1     fat            -100 +-10   900   700
    2     soft_tissue      40 +-5    350   250   (muscle)
    3     organ            60 +-5    550   400   (liver/brain-like parenchyma)
    4     bone            700 +-50   120    80   (cortical+trabecular mix: dark on MR)
    5     lesion          100 +-10   250   850   (enhancing on CT, bright on T2)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.core.files import atomic_dir
from medsynth.io.volume import Volume, grid_affine

TISSUES: tuple[str, ...] = ("air", "fat", "soft_tissue", "organ", "bone", "lesion")
#: CT mean HU and per-case jitter (uniform +-) for each tissue label.
CT_HU: dict[str, tuple[float, float]] = {
    "air": (-1000.0, 0.0),
    "fat": (-100.0, 10.0),
    "soft_tissue": (40.0, 5.0),
    "organ": (60.0, 5.0),
    "bone": (700.0, 50.0),
    "lesion": (100.0, 10.0),
}
MR_T1: dict[str, float] = {"air": 0.0, "fat": 900.0, "soft_tissue": 350.0, "organ": 550.0, "bone": 120.0, "lesion": 250.0}
MR_T2: dict[str, float] = {"air": 0.0, "fat": 700.0, "soft_tissue": 250.0, "organ": 400.0, "bone": 80.0, "lesion": 850.0}


class PhantomConfig(ConfigModel):
    """Settings of the phantom generator (documented defaults; each is tested)."""

    shape: tuple[int, int, int] = (64, 64, 64)
    spacing: tuple[float, float, float] = (2.0, 2.0, 2.0)
    lesion_probability: float = Field(0.7, ge=0.0, le=1.0)
    ct_noise_hu: float = Field(12.0, ge=0.0)
    mr_contrast: Literal["T1", "T2"] = "T1"
    mr_noise: float = Field(15.0, ge=0.0, description="Rician noise sigma, a.u. on the 0-1000 scale")
    bias_strength: float = Field(0.2, ge=0.0, le=0.9, description="bias field amplitude (0.2 = +-20%)")
    blur_voxels: float = Field(0.6, ge=0.0, description="partial-volume blur (Gaussian sigma, voxels)")


@dataclass
class Phantom:
    """One paired case: label map, CT (HU) and MR, all on the same grid."""

    labels: Volume
    ct: Volume
    mr: Volume


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int, int], scale: float) -> np.ndarray:
    """A smooth random field in about [-1, 1]: low-resolution noise upsampled."""
    from scipy.ndimage import zoom

    coarse = rng.standard_normal((4, 4, 4))
    field = zoom(coarse, [s / 4 for s in shape], order=3)[: shape[0], : shape[1], : shape[2]]
    return np.clip(field * scale, -1.5, 1.5).astype(np.float32)


def make_labels(rng: np.random.Generator, shape: tuple[int, int, int], lesion_probability: float = 0.7) -> np.ndarray:
    """A random anatomy-like label volume (0 air ... 5 lesion, see :data:`TISSUES`)."""
    from scipy.ndimage import binary_erosion

    ii, jj, kk = np.meshgrid(*[np.linspace(-1, 1, s, dtype=np.float32) for s in shape], indexing="ij")
    labels = np.zeros(shape, dtype=np.uint8)
    # Body: an elliptic cylinder along k, tapered at the ends, with a smooth random outline.
    ax, ay = rng.uniform(0.68, 0.86), rng.uniform(0.52, 0.72)
    wobble = 1.0 + 0.06 * _smooth_field(rng, shape, 1.0)
    taper = 1.0 - 0.25 * np.clip(np.abs(kk) - 0.55, 0, None) / 0.45
    r_body = np.sqrt((ii / ax) ** 2 + (jj / ay) ** 2) / (wobble * taper)
    body = (r_body <= 1.0) & (np.abs(kk) <= 0.92)
    fat_t = rng.uniform(0.08, 0.16)
    inner = r_body <= 1.0 - fat_t
    inner &= body
    labels[body] = 1  # fat layer
    labels[inner] = 2  # soft tissue
    # Organs: one or two rotated ellipsoids inside.
    for _ in range(int(rng.integers(1, 3))):
        c = np.array([rng.uniform(-0.3, 0.3) * ax, rng.uniform(-0.1, 0.3) * ay, rng.uniform(-0.3, 0.3)])
        axes = np.array([rng.uniform(0.28, 0.45) * ax, rng.uniform(0.28, 0.42) * ay, rng.uniform(0.3, 0.55)])
        th = rng.uniform(0, np.pi)
        x, y = (ii - c[0]), (jj - c[1])
        xr, yr = np.cos(th) * x + np.sin(th) * y, -np.sin(th) * x + np.cos(th) * y
        organ = (xr / axes[0]) ** 2 + (yr / axes[1]) ** 2 + ((kk - c[2]) / axes[2]) ** 2 <= 1.0
        labels[organ & inner] = 3
    # Bones: a posterior spine and two lateral bones, cylinders along k.
    spine_r = rng.uniform(0.07, 0.11)
    sy = -ay * rng.uniform(0.55, 0.7)
    bone = ((ii / spine_r) ** 2 + ((jj - sy) / spine_r) ** 2 <= 1.0) & body
    for side in (-1, 1):
        bx, by, br = side * ax * rng.uniform(0.55, 0.7), rng.uniform(-0.2, 0.1) * ay, rng.uniform(0.05, 0.08)
        bone |= (((ii - bx) / br) ** 2 + ((jj - by) / br) ** 2 <= 1.0) & inner
    labels[bone] = 4
    # Lesion: a small sphere inside an organ (when there is room).
    if rng.uniform() < lesion_probability:
        organ_vox = np.argwhere(binary_erosion(labels == 3, iterations=max(1, min(shape) // 16)))
        if len(organ_vox):
            ci = organ_vox[rng.integers(len(organ_vox))]
            rad = rng.uniform(0.04, 0.08) * min(shape)
            d2 = sum(((g - c) / 1.0) ** 2 for g, c in zip(np.indices(shape, dtype=np.float32), ci))
            labels[(d2 <= rad**2) & (labels == 3)] = 5
    return labels


def labels_to_ct(labels: np.ndarray, rng: np.random.Generator, *, noise_hu: float = 12.0, blur: float = 0.6) -> np.ndarray:
    """Map a label volume to CT HU (tissue means with per-case jitter, blur, Gaussian noise)."""
    from scipy.ndimage import gaussian_filter

    table = np.array([m + rng.uniform(-j, j) for m, j in (CT_HU[t] for t in TISSUES)], dtype=np.float32)
    hu = table[labels]
    if blur > 0:
        hu = gaussian_filter(hu, blur)
    hu = hu + rng.normal(0.0, noise_hu, labels.shape).astype(np.float32) * (labels > 0)
    return np.clip(hu, -1024.0, 3071.0).astype(np.float32)


def labels_to_mr(
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    contrast: Literal["T1", "T2"] = "T1",
    noise: float = 15.0,
    bias_strength: float = 0.2,
    blur: float = 0.6,
) -> np.ndarray:
    """Map a label volume to MR intensities (tissue means, bias field, blur, Rician noise)."""
    from scipy.ndimage import gaussian_filter

    means = MR_T1 if contrast == "T1" else MR_T2
    table = np.array([means[t] * rng.uniform(0.95, 1.05) for t in TISSUES], dtype=np.float32)
    mr = table[labels]
    if blur > 0:
        mr = gaussian_filter(mr, blur)
    if bias_strength > 0:
        mr = mr * np.exp(bias_strength * _smooth_field(rng, labels.shape, 0.6))
    real = mr + rng.normal(0.0, noise, labels.shape)
    imag = rng.normal(0.0, noise, labels.shape)
    return np.sqrt(real**2 + imag**2).astype(np.float32)


def make_phantom(seed: int, config: PhantomConfig | None = None) -> Phantom:
    """One paired phantom, fully determined by ``seed`` and ``config``."""
    cfg = config or PhantomConfig()
    rng = np.random.default_rng(seed)
    labels = make_labels(rng, cfg.shape, cfg.lesion_probability)
    ct = labels_to_ct(labels, rng, noise_hu=cfg.ct_noise_hu, blur=cfg.blur_voxels)
    mr = labels_to_mr(labels, rng, contrast=cfg.mr_contrast, noise=cfg.mr_noise, bias_strength=cfg.bias_strength, blur=cfg.blur_voxels)
    affine = grid_affine(cfg.spacing, cfg.shape)
    meta = {"source": f"medsynth phantom seed={seed}", "phantom_seed": seed}
    return Phantom(
        labels=Volume(labels, affine, modality="SEG", meta=dict(meta)),
        ct=Volume(ct, affine, modality="CT", meta=dict(meta)),
        mr=Volume(mr, affine, modality="MR", meta={**meta, "contrast": cfg.mr_contrast}),
    )


def write_phantoms(out_dir: str | Path, n: int, *, seed: int = 0, config: PhantomConfig | None = None, overwrite: bool = False) -> dict[str, list[Path]]:
    """Write ``n`` paired phantoms as ``OUT/{ct,mr,labels}/case_XXX.nii.gz`` (atomically).

    Case ``i`` uses seed ``seed + i``, so any case can be regenerated on its own.
    """
    from medsynth.core.errors import ConfigError
    from medsynth.io.nifti import write_nifti

    if n < 1:
        raise ConfigError(f"--n {n}: ask for at least 1 phantom")
    out: dict[str, list[Path]] = {"ct": [], "mr": [], "labels": []}
    final = Path(out_dir)
    with atomic_dir(final, overwrite=overwrite) as tmp:
        for i in range(n):
            ph = make_phantom(seed + i, config)
            for kind, vol in (("ct", ph.ct), ("mr", ph.mr), ("labels", ph.labels)):
                name = f"case_{i:03d}.nii.gz"
                write_nifti(vol, tmp / kind / name, dtype="float32" if kind == "mr" else None)
                out[kind].append(final / kind / name)
    return out


__all__ = ["CT_HU", "MR_T1", "MR_T2", "TISSUES", "Phantom", "PhantomConfig", "make_labels", "make_phantom", "write_phantoms"]
