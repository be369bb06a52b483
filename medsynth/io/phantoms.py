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

Real anatomy (the known answer of ``benchmarks/translation.py real-anatomy``): :func:`simulate_mr`
turns a real CT into a registered MR with MR physics. The CT's HU, lightly denoised, are split into
tissue fractions by linear two-compartment mixing between neighbouring anchors (:data:`ANCHOR_HU`;
partial volume: a voxel at -30 HU is part fat, part fluid); inside the skeleton the mix is marrow and
bone mineral, so denser bone is darker; each tissue's spin-echo signal
``PD * (1 - exp(-TR/T1)) * exp(-TE/T2)`` comes from published 1.5 T relaxation times
(:data:`RELAXATION_1P5T`), jittered per case; the fraction-weighted signal then goes through
:func:`labels_to_mr` (point-spread blur, smooth multiplicative bias field, Rician noise). Cortical
bone, lung and air are dark (T2 below a millisecond or so, little water), fat is bright on T1, free
fluid dark on T1 and bright on T2: the same ambiguities a real MR->CT model meets.
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
    table: np.ndarray | None = None,
    fractions: np.ndarray | None = None,
) -> np.ndarray:
    """Map a label volume to MR intensities (tissue means, bias field, blur, Rician noise).

    Args:
        labels: integer tissue labels (i, j, k).
        rng: the random source (bias field, noise, and the per-case jitter of the default table).
        contrast: which default table (:data:`MR_T1` / :data:`MR_T2` of the phantom tissues).
        noise: Rician noise sigma (a.u.).
        bias_strength: amplitude of the smooth multiplicative bias field (0.2 = about +-20%).
        blur: Gaussian point-spread sigma in voxels (partial volume at tissue borders).
        table: the signal of each label value (a.u.), e.g. from :func:`tissue_signals`; default the
            phantom tissues' means with a +-5% per-case jitter.
        fractions: optional (n_tissues, i, j, k) tissue fractions summing to 1 per voxel; the signal
            is then their weighted mix of ``table`` (partial volume inside a voxel) instead of
            ``table[labels]``.
    """
    from scipy.ndimage import gaussian_filter

    if table is None:
        means = MR_T1 if contrast == "T1" else MR_T2
        table = np.array([means[t] * rng.uniform(0.95, 1.05) for t in TISSUES], dtype=np.float32)
    table = np.asarray(table, dtype=np.float32)
    if fractions is not None:
        if fractions.shape[0] != table.size or fractions.shape[1:] != labels.shape:
            raise ValueError(f"fractions {fractions.shape} must be (n_tissues={table.size}, *labels.shape {labels.shape})")
        mr = np.tensordot(table, fractions.astype(np.float32), axes=1)
    else:
        mr = table[labels]
    if blur > 0:
        mr = gaussian_filter(mr, blur)
    if bias_strength > 0:
        mr = mr * np.exp(bias_strength * _smooth_field(rng, labels.shape, 0.6))
    real = mr + rng.normal(0.0, noise, labels.shape)
    imag = rng.normal(0.0, noise, labels.shape)
    return np.sqrt(real**2 + imag**2).astype(np.float32)


# -- real anatomy: an MR simulated from a real CT ---------------------------------------------------


@dataclass(frozen=True)
class TissueMR:
    """MR properties of one tissue: relative proton density (water = 1) and relaxation times in ms."""

    pd: float
    t1_ms: float
    t2_ms: float


#: Relaxation at 1.5 T. Fat, liver, skeletal muscle and vertebral marrow: de Bazelaire et al.,
#: Radiology 2004;230:652 (1.5 T column: fat 343/58, liver 586/46, muscle 856/27, marrow 549/49 ms);
#: soft tissue is the mean of liver and muscle. Cortical bone: T2* about 0.4-0.5 ms, ~20% water
#: (Reichert et al., MRI 2005;23:611; Du et al. 2010). Lung: T2* about 2 ms at 1.5 T (Hatabu et al.
#: 1999), ~20% tissue. Free fluid (bile, urine, bowel fluid, CSF): long T1 and T2 (CSF ~4000/2000 ms;
#: a rounded 3000/1000 ms here). Proton densities are approximate.
RELAXATION_1P5T: dict[str, TissueMR] = {
    "air": TissueMR(0.0, 1000.0, 1.0),
    "lung": TissueMR(0.2, 1250.0, 2.0),
    "fat": TissueMR(0.9, 343.0, 58.0),
    "fluid": TissueMR(1.0, 3000.0, 1000.0),
    "soft_tissue": TissueMR(0.72, 721.0, 36.5),
    "marrow": TissueMR(0.85, 549.0, 49.0),
    "cortical_bone": TissueMR(0.2, 250.0, 0.5),
}
#: Spin-echo timing (TR, TE in ms) of the two simulated contrasts.
SEQUENCES: dict[str, tuple[float, float]] = {"T1": (500.0, 15.0), "T2": (4000.0, 90.0)}
#: Signal scale: T1-weighted fat comes out near 900 a.u., like the phantoms' MR.
SIGNAL_SCALE = 1700.0
#: Tissues a CT tells apart by HU (label values are indices into this tuple).
ANATOMY_TISSUES: tuple[str, ...] = ("air", "lung", "fat", "fluid", "soft_tissue", "marrow", "cortical_bone")
#: HU of each pure tissue: the anchors of the two-compartment mixing. Cortical bone is the mineral phase
#: (compact bone ~1500 HU and up; no MR signal); marrow is the soft content of the bone (red/yellow mix).
ANCHOR_HU: dict[str, float] = {
    "air": -1000.0, "lung": -850.0, "fat": -100.0, "fluid": 5.0, "soft_tissue": 45.0, "marrow": 30.0, "cortical_bone": 1500.0,
}
#: Mixing chains (consecutive tissues mix, in increasing HU). Outside the skeleton HU runs from air to soft
#: tissue (denser voxels, e.g. calcifications, mix soft tissue with mineral); inside the skeleton and the
#: marrow space it encloses, from fat to marrow to mineral: a voxel of cancellous bone at 250 HU is ~15%
#: mineral (dark) and ~85% marrow, so bone darkens on MR as it gets denser, and the cortex is dark.
SOFT_CHAIN: tuple[str, ...] = ("air", "lung", "fat", "fluid", "soft_tissue", "cortical_bone")
BONE_CHAIN: tuple[str, ...] = ("air", "fat", "marrow", "cortical_bone")
#: Smoothed HU above which a voxel belongs to the skeleton (before closing and filling the marrow space).
SKELETON_HU = 200.0


class AnatomyMRConfig(ConfigModel):
    """How :func:`simulate_mr` turns a real CT into a registered MR (documented defaults)."""

    contrast: Literal["T1", "T2"] = "T1"
    noise: float = Field(15.0, ge=0.0, description="Rician noise sigma, a.u. (fat is ~900 on T1)")
    bias_strength: float = Field(0.25, ge=0.0, le=0.9, description="bias field amplitude (0.25 = about +-25%)")
    blur_voxels: float = Field(0.6, ge=0.0, description="point-spread blur (Gaussian sigma, voxels)")
    relaxation_jitter: float = Field(0.1, ge=0.0, lt=0.5, description="per-case +- fraction on T1 and T2 (half on PD)")
    denoise_voxels: float = Field(0.7, ge=0.0, description="Gaussian sigma smoothing the CT's noise before tissue mixing")


@dataclass
class AnatomyCase:
    """A real CT with its simulated registered MR, tissue labels and body mask (one grid)."""

    ct: Volume
    mr: Volume
    labels: Volume
    body: np.ndarray
    tissues: tuple[str, ...] = ANATOMY_TISSUES


def spin_echo_signal(tissue: TissueMR, contrast: Literal["T1", "T2"] = "T1") -> float:
    """PD * (1 - exp(-TR/T1)) * exp(-TE/T2) for the contrast's (TR, TE), times :data:`SIGNAL_SCALE`."""
    tr, te = SEQUENCES[contrast]
    return float(SIGNAL_SCALE * tissue.pd * (1.0 - np.exp(-tr / tissue.t1_ms)) * np.exp(-te / tissue.t2_ms))


def tissue_signals(
    tissues: tuple[str, ...] = ANATOMY_TISSUES,
    contrast: Literal["T1", "T2"] = "T1",
    *,
    rng: np.random.Generator | None = None,
    jitter: float = 0.0,
) -> np.ndarray:
    """The MR signal (a.u.) of each tissue from :data:`RELAXATION_1P5T`, with an optional per-case jitter."""
    out = []
    for name in tissues:
        t = RELAXATION_1P5T[name]
        if rng is not None and jitter > 0:
            t = TissueMR(
                t.pd * rng.uniform(1 - jitter / 2, 1 + jitter / 2),
                t.t1_ms * rng.uniform(1 - jitter, 1 + jitter),
                t.t2_ms * rng.uniform(1 - jitter, 1 + jitter),
            )
        out.append(spin_echo_signal(t, contrast))
    return np.array(out, dtype=np.float32)


def _chain_fractions(hu: np.ndarray, chain: tuple[str, ...], tissues: tuple[str, ...]) -> np.ndarray:
    """Fractions over ``tissues`` by linear mixing of the consecutive tissues of ``chain`` (pure beyond its ends)."""
    anchors = np.array([ANCHOR_HU[t] for t in chain], dtype=np.float32)
    if np.any(np.diff(anchors) <= 0):
        raise ValueError(f"chain {chain} must be in increasing HU order of their anchors")
    h = np.clip(np.asarray(hu, dtype=np.float32), anchors[0], anchors[-1])
    upper = np.clip(np.searchsorted(anchors, h, side="right"), 1, len(anchors) - 1)
    lo, hi = anchors[upper - 1], anchors[upper]
    w_hi = (h - lo) / (hi - lo)
    index = np.array([tissues.index(t) for t in chain])
    fractions = np.zeros((len(tissues), *h.shape), dtype=np.float32)
    np.put_along_axis(fractions, index[upper - 1][None], (1.0 - w_hi)[None], axis=0)
    np.put_along_axis(fractions, index[upper][None], w_hi[None], axis=0)
    return fractions


def skeleton(hu: np.ndarray, axis: int = 2) -> np.ndarray:
    """The skeleton with the marrow space it encloses: smoothed HU above :data:`SKELETON_HU`, closed by one
    voxel and with holes filled slice by slice along ``axis`` (a vertebral body's inside is marrow even where
    an osteoporotic one is only 50 HU)."""
    from scipy import ndimage as ndi

    bone = np.asarray(hu) > SKELETON_HU
    out = np.empty_like(bone)
    for k in range(bone.shape[axis]):
        sl = [slice(None)] * 3
        sl[axis] = k
        out[tuple(sl)] = ndi.binary_fill_holes(ndi.binary_closing(bone[tuple(sl)], iterations=1)) | bone[tuple(sl)]
    return out


def ct_tissue_fractions(hu: np.ndarray, bone: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Tissue fractions of each voxel by two-compartment mixing between neighbouring HU anchors.

    A voxel at HU h between the anchors of consecutive tissues a and b of its chain (:data:`BONE_CHAIN`
    inside ``bone``, :data:`SOFT_CHAIN` elsewhere) is (b - h) / (b - a) of a and the rest of b; below the
    first and above the last anchor it is pure.

    Args:
        hu: CT values (denoised).
        bone: the skeleton with its marrow space (:func:`skeleton`); None = no bone region.

    Returns:
        ``fractions`` (n_tissues, *hu.shape) float32 summing to 1 over :data:`ANATOMY_TISSUES`, and
        ``labels`` (uint8): the dominant tissue of each voxel (its index in :data:`ANATOMY_TISSUES`).
    """
    fractions = _chain_fractions(hu, SOFT_CHAIN, ANATOMY_TISSUES)
    if bone is not None and np.any(bone):
        inside = _chain_fractions(hu, BONE_CHAIN, ANATOMY_TISSUES)
        fractions = np.where(np.asarray(bone, dtype=bool)[None], inside, fractions)
    return fractions, np.argmax(fractions, axis=0).astype(np.uint8)


#: Connected components of a body mask at least this share of the largest are candidates for the body
#: (the arms or legs beside the trunk); smaller ones (noise specks) are dropped.
MIN_COMPONENT_SHARE = 0.01
#: A candidate whose front-back extent is below this share of its left-right extent is flat: the couch
#: (or a positioning board), not a limb.
MIN_LIMB_ASPECT = 0.35


def axial_axis(affine: np.ndarray) -> int:
    """The voxel axis most aligned with the world's head-feet axis (the slice axis)."""
    a = np.asarray(affine, dtype=np.float64)[:3, :3]
    return int(np.argmax(np.abs(a[2]) / np.linalg.norm(a, axis=0)))


def clean_body_mask(fg: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """A body mask from a foreground mask: one-voxel opening (specks), the largest connected component
    and every other one of at least :data:`MIN_COMPONENT_SHARE` of it that is not flat (arms and legs are
    kept; the couch, a wide thin plate under the patient, is not: its front-back extent in mm is below
    :data:`MIN_LIMB_ASPECT` of its left-right extent), and holes filled slice by slice along the
    axial axis (lungs, bowel gas, and on MR cortical bone)."""
    from scipy import ndimage as ndi

    fg = np.asarray(fg, dtype=bool)
    if not fg.any():
        return fg
    fg = ndi.binary_opening(fg, iterations=1) if fg.sum() > 64 else fg
    lab, n = ndi.label(fg)
    if n == 0:
        return fg
    sizes = ndi.sum(fg, lab, index=np.arange(1, n + 1))
    largest = int(np.argmax(sizes)) + 1
    keep = [largest]
    a = np.asarray(affine, dtype=np.float64)
    for c in 1 + np.flatnonzero(sizes >= MIN_COMPONENT_SHARE * sizes.max()):
        if c == largest:
            continue
        idx = np.argwhere(lab == c)
        world = idx @ a[:3, :3].T
        lr, ap = (float(np.ptp(world[:, d])) + 1e-6 for d in (0, 1))
        if ap >= MIN_LIMB_ASPECT * lr:
            keep.append(int(c))
    fg = np.isin(lab, keep)
    axis = axial_axis(affine)
    out = np.empty_like(fg)
    for k in range(fg.shape[axis]):
        sl = [slice(None)] * 3
        sl[axis] = k
        out[tuple(sl)] = ndi.binary_fill_holes(fg[tuple(sl)])
    return out


def ct_body(hu: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Body mask of a CT: smoothed HU above -500, cleaned by :func:`clean_body_mask` (arms kept, couch not)."""
    from scipy import ndimage as ndi

    fg = ndi.gaussian_filter(np.nan_to_num(np.asarray(hu, dtype=np.float32), nan=-1024.0), 1.0) > -500.0
    return clean_body_mask(fg, affine)


def simulate_mr(ct: Volume, seed: int, config: AnatomyMRConfig | None = None, *, body: np.ndarray | None = None) -> AnatomyCase:
    """A registered MR simulated from a real CT (see the module docstring), fully determined by ``seed``.

    Args:
        ct: a CT in HU (3D).
        seed: drives the relaxation jitter, the bias field and the noise.
        config: the simulation's settings.
        body: the body mask (default :func:`ct_body`); outside it the MR is air (the couch, the
            scanner's air) and the labels are 0.

    Returns:
        The CT, the MR (same grid and affine), the tissue labels (indices into
        :data:`ANATOMY_TISSUES`) and the body mask.
    """
    from scipy.ndimage import gaussian_filter

    cfg = config or AnatomyMRConfig()
    hu = np.nan_to_num(np.asarray(ct.array, dtype=np.float32), nan=-1024.0)
    if hu.ndim != 3:
        raise ValueError(f"simulate_mr needs a 3D CT, got shape {hu.shape}")
    axial = axial_axis(ct.affine)
    mask = ct_body(hu, ct.affine) if body is None else np.asarray(body, dtype=bool)
    smooth = gaussian_filter(hu, cfg.denoise_voxels) if cfg.denoise_voxels > 0 else hu
    smooth = np.where(mask, smooth, ANCHOR_HU["air"])
    fractions, labels = ct_tissue_fractions(smooth, skeleton(smooth, axial) & mask)
    rng = np.random.default_rng(seed)
    table = tissue_signals(ANATOMY_TISSUES, cfg.contrast, rng=rng, jitter=cfg.relaxation_jitter)
    mr = labels_to_mr(labels, rng, contrast=cfg.contrast, noise=cfg.noise, bias_strength=cfg.bias_strength,
                      blur=cfg.blur_voxels, table=table, fractions=fractions)
    meta = {"source": f"MR simulated from {ct.meta.get('source', 'a CT')} (seed {seed})", "simulation_seed": seed,
            "contrast": cfg.contrast}
    return AnatomyCase(
        ct=Volume(hu, ct.affine.copy(), modality="CT", meta=dict(ct.meta)),
        mr=Volume(mr, ct.affine.copy(), modality="MR", meta=meta),
        labels=Volume(labels, ct.affine.copy(), modality="SEG", meta={"tissues": list(ANATOMY_TISSUES)}),
        body=mask,
    )


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

    Case ``i`` uses seed ``seed + i``, so any case can be regenerated on its own. ``labels/tissues.json``
    names the label values (``{"0": "air", ...}``), which ``medsynth evaluate translation`` reads.
    """
    import json

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
                write_nifti(vol, tmp / kind / name, dtype="float32" if kind == "mr" else None, synthetic=True)
                out[kind].append(final / kind / name)
        (tmp / "labels" / "tissues.json").write_text(json.dumps({str(i): t for i, t in enumerate(TISSUES)}, indent=1), encoding="utf-8")
    return out


__all__ = [
    "ANATOMY_TISSUES",
    "ANCHOR_HU",
    "BONE_CHAIN",
    "SKELETON_HU",
    "SOFT_CHAIN",
    "CT_HU",
    "MR_T1",
    "MR_T2",
    "RELAXATION_1P5T",
    "SEQUENCES",
    "TISSUES",
    "AnatomyCase",
    "AnatomyMRConfig",
    "Phantom",
    "PhantomConfig",
    "MIN_COMPONENT_SHARE",
    "MIN_LIMB_ASPECT",
    "TissueMR",
    "axial_axis",
    "clean_body_mask",
    "ct_body",
    "ct_tissue_fractions",
    "labels_to_mr",
    "make_labels",
    "make_phantom",
    "simulate_mr",
    "skeleton",
    "spin_echo_signal",
    "tissue_signals",
    "write_phantoms",
]
