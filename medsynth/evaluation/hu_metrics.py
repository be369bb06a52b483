"""Figures of merit of a synthetic CT against a reference CT on the same grid (all in HU).

The one implementation of the SynthRAD conventions in medsynth (``evaluate translation``, the
translation benchmark and the demo all use it): both CTs clipped to [-1024, 3000] HU, scored inside
a body mask.

* :func:`mae_hu`, :func:`psnr_hu` (peak = the 4024 HU width of that range), :func:`ssim_hu`
  (Gaussian window, Wang et al. 2004) and :func:`ms_ssim_hu` (the masked 5-scale MS-SSIM of the
  SynthRAD 2025 evaluation);
* :func:`bone_dice` (voxels above 250 HU in both) and :func:`tissue_errors` (MAE and mean signed
  error per tissue label);
* :func:`slice_discontinuity`: how much more a volume jumps between neighbouring slices than the
  reference does (slice-wise models add jumps; 2.5D and 3D should add fewer);
* :func:`hu_peaks` / :func:`bone_share`: the histogram peaks and the share of bone of one CT, to
  compare a translated MR with a real CT of another subject when no paired CT exists.

Only numpy and scipy: importing this module imports no model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: SynthRAD's range: PSNR's data range is its width (4024 HU).
HU_RANGE = (-1024.0, 3000.0)
#: Bone for the Dice score and the bone share: above this HU (SynthRAD-style bone masks use 250).
BONE_HU = 250.0
#: The SynthRAD / Wang et al. (2003) weights of the five MS-SSIM scales, finest first.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

#: HU intervals in which :func:`hu_peaks` looks for each peak.
PEAK_RANGES: dict[str, tuple[float, float]] = {
    "air": (-1100.0, -850.0),
    "fat": (-200.0, -30.0),
    "soft_tissue": (-30.0, 150.0),
    "bone": (200.0, 1500.0),
}


def clip_hu(a: np.ndarray, hu_range: tuple[float, float] = HU_RANGE) -> np.ndarray:
    """``a`` as float64 clipped to ``hu_range``."""
    return np.clip(np.asarray(a, dtype=np.float64), *hu_range)


def _mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    m = np.ones(shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if m.shape != shape:
        raise ValueError(f"mask shape {m.shape} differs from the image shape {shape}")
    if not m.any():
        raise ValueError("the mask is empty: nothing to score")
    return m


def mae_hu(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, hu_range: tuple[float, float] = HU_RANGE) -> float:
    """Mean absolute error in HU inside ``mask``, both clipped to ``hu_range``."""
    m = _mask(mask, np.shape(ref))
    return float(np.abs(clip_hu(pred, hu_range) - clip_hu(ref, hu_range))[m].mean())


def psnr_hu(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, hu_range: tuple[float, float] = HU_RANGE) -> float:
    """PSNR in dB inside ``mask`` with the width of ``hu_range`` (4024 HU) as the peak; inf when equal."""
    m = _mask(mask, np.shape(ref))
    mse = float(((clip_hu(pred, hu_range) - clip_hu(ref, hu_range)) ** 2)[m].mean())
    width = hu_range[1] - hu_range[0]
    return float("inf") if mse == 0 else float(10.0 * np.log10(width**2 / mse))


def ssim_map(x: np.ndarray, y: np.ndarray, *, sigma: float = 1.5, data_range: float = 1.0) -> np.ndarray:
    """Voxel-wise SSIM (Wang et al. 2004) with a Gaussian window, any number of dimensions."""
    from scipy.ndimage import gaussian_filter

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = gaussian_filter(x, sigma), gaussian_filter(y, sigma)
    sxx = gaussian_filter(x * x, sigma) - mx * mx
    syy = gaussian_filter(y * y, sigma) - my * my
    sxy = gaussian_filter(x * y, sigma) - mx * my
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))


def ssim_hu(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, sigma: float = 1.5,
            hu_range: tuple[float, float] = HU_RANGE) -> float:
    """Mean SSIM over ``mask`` (Gaussian window of ``sigma`` voxels, data range = the width of ``hu_range``)."""
    m = _mask(mask, np.shape(ref))
    return float(ssim_map(clip_hu(pred, hu_range), clip_hu(ref, hu_range), sigma=sigma, data_range=hu_range[1] - hu_range[0])[m].mean())


def _ssim_terms(x: np.ndarray, y: np.ndarray, data_range: float, win: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Luminance and contrast*structure maps with a ``win``-wide box window (sample covariance)."""
    from scipy.ndimage import uniform_filter

    n = win**x.ndim
    cov = n / (n - 1)
    ux, uy = uniform_filter(x, win), uniform_filter(y, win)
    vx = cov * (uniform_filter(x * x, win) - ux * ux)
    vy = cov * (uniform_filter(y * y, win) - uy * uy)
    vxy = cov * (uniform_filter(x * y, win) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    c3 = c2 / 2
    sx, sy = np.sqrt(np.clip(vx, 0, None)), np.sqrt(np.clip(vy, 0, None))
    lum = np.clip((2 * ux * uy + c1) / (ux * ux + uy * uy + c1), 0, None)
    con = np.clip((2 * sx * sy + c2) / (vx + vy + c2), 0, None)
    struct = np.clip((vxy + c3) / (sx * sy + c3), 0, None)
    return lum, con * struct


def ms_ssim_hu(
    pred: np.ndarray,
    ref: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    hu_range: tuple[float, float] = HU_RANGE,
    weights: Sequence[float] = MS_SSIM_WEIGHTS,
    luminance: bool = False,
) -> float:
    """Masked multi-scale SSIM, as the SynthRAD 2025 evaluation computes it.

    Both images are clipped to ``hu_range``, set to its minimum outside ``mask``, edge-padded to at
    least 97 voxels per axis (so five scales fit) and shifted to start at 0. At each scale the SSIM
    map (7-voxel box window, sample covariance, K1 = 0.01, K2 = 0.03 of the range width) is raised to
    the scale's weight and averaged inside the mask (3 voxels from the borders left out); the images
    are then box-filtered 2x2x2 and subsampled, the mask subsampled. The result is the product of the
    per-scale means clipped to [0, 1]. SynthRAD's script drops the luminance term at every scale (its
    luminance-weight array is one entry too long); ``luminance=True`` keeps it at the coarsest scale,
    as Wang et al. (2003) define MS-SSIM.
    """
    from scipy.ndimage import uniform_filter

    lo, hi = hu_range
    m = _mask(mask, np.shape(ref))
    p = np.where(m, clip_hu(pred, hu_range), lo) - lo
    r = np.where(m, clip_hu(ref, hu_range), lo) - lo
    need = 97
    pads = [((max(0, need - s) // 2), max(0, need - s) - max(0, need - s) // 2) for s in p.shape]
    p, r = np.pad(p, pads, mode="edge"), np.pad(r, pads, mode="edge")
    mk = np.pad(m, pads, mode="edge")
    crop = 3
    inner = tuple(slice(crop, -crop) for _ in p.shape)
    values = []
    for level, w in enumerate(weights):
        lum, cs = _ssim_terms(p, r, hi - lo)
        term = cs**w
        if luminance and level == len(weights) - 1:
            term = term * lum**w
        sel = mk[inner]
        values.append(float(np.clip(term[inner][sel].mean() if sel.any() else np.nan, 0.0, 1.0)))
        if level < len(weights) - 1:
            p = uniform_filter(p, 2, mode="nearest")[(slice(None, None, 2),) * p.ndim]
            r = uniform_filter(r, 2, mode="nearest")[(slice(None, None, 2),) * r.ndim]
            mk = mk[(slice(None, None, 2),) * mk.ndim]
    return float(np.prod(values))


def bone_dice(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, threshold: float = BONE_HU) -> float:
    """Dice overlap of bone (HU above ``threshold``) in the prediction and the reference, inside ``mask``.

    1.0 when neither has bone there; 0.0 when only one has.
    """
    m = _mask(mask, np.shape(ref))
    a = (np.asarray(pred) > threshold) & m
    b = (np.asarray(ref) > threshold) & m
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else float(2.0 * np.logical_and(a, b).sum() / total)


def bone_share(ct: np.ndarray, mask: np.ndarray | None = None, threshold: float = BONE_HU) -> float:
    """Share of the voxels in ``mask`` above ``threshold`` HU."""
    m = _mask(mask, np.shape(ct))
    return float((np.asarray(ct)[m] > threshold).mean())


def tissue_errors(
    pred: np.ndarray,
    ref: np.ndarray,
    labels: np.ndarray,
    names: Mapping[int, str] | None = None,
    mask: np.ndarray | None = None,
    hu_range: tuple[float, float] = HU_RANGE,
) -> dict[str, dict[str, float]]:
    """MAE and mean signed error (bias) in HU per tissue label, inside ``mask`` when given.

    Args:
        names: label value -> tissue name (values without a name are called ``label_<k>``).

    Returns:
        ``{"mae": {tissue: HU}, "bias": {tissue: HU}, "voxels": {tissue: count}}``.
    """
    diff = clip_hu(pred, hu_range) - clip_hu(ref, hu_range)
    lab = np.asarray(labels).astype(np.int64)
    if lab.shape != diff.shape:
        raise ValueError(f"labels shape {lab.shape} differs from the image shape {diff.shape}")
    keep = np.ones(lab.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    names = dict(names or {})
    out: dict[str, dict[str, float]] = {"mae": {}, "bias": {}, "voxels": {}}
    for k in np.unique(lab[keep]):
        sel = keep & (lab == k)
        name = names.get(int(k), f"label_{int(k)}")
        out["mae"][name] = float(np.abs(diff[sel]).mean())
        out["bias"][name] = float(diff[sel].mean())
        out["voxels"][name] = int(sel.sum())
    return out


def slice_discontinuity(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray, axis: int = 2) -> dict[str, float]:
    """Slice-to-slice jumps along ``axis`` inside the body, against the reference's.

    Returns:
        ``pred_mad`` and ``ref_mad``: mean |v[k+1] - v[k]| (HU) over voxel pairs inside the mask;
        ``excess_mad``: mean |(pred[k+1]-pred[k]) - (ref[k+1]-ref[k])|, the jumps the reference does
        not have (0 for a perfect prediction; what slice-wise models add); ``ratio``: pred_mad / ref_mad
        (1 = as smooth along the slice axis as the real CT).
    """
    p, r = clip_hu(pred), clip_hu(ref)
    dp, dr = np.diff(p, axis=axis), np.diff(r, axis=axis)
    n = mask.shape[axis]
    m = np.logical_and(np.take(mask, range(n - 1), axis=axis), np.take(mask, range(1, n), axis=axis))
    if not m.any():
        raise ValueError("the mask has no pair of neighbouring slices: nothing to compare")
    pred_mad, ref_mad = float(np.abs(dp)[m].mean()), float(np.abs(dr)[m].mean())
    return {
        "pred_mad": pred_mad,
        "ref_mad": ref_mad,
        "excess_mad": float(np.abs(dp - dr)[m].mean()),
        "ratio": pred_mad / ref_mad if ref_mad > 0 else float("nan"),
    }


def hu_peaks(values: np.ndarray, bin_hu: float = 10.0) -> dict[str, float | None]:
    """The most frequent HU (histogram mode) within each of :data:`PEAK_RANGES`, and each range's share.

    Returns:
        ``{tissue}_peak_hu`` (None when the range is empty) and ``{tissue}_fraction`` for each tissue.
    """
    v = clip_hu(np.asarray(values).ravel())
    out: dict[str, float | None] = {}
    for name, (lo, hi) in PEAK_RANGES.items():
        sel = v[(v >= lo) & (v < hi)]
        out[f"{name}_fraction"] = float(sel.size / max(v.size, 1))
        if sel.size < 10:
            out[f"{name}_peak_hu"] = None
            continue
        hist, edges = np.histogram(sel, bins=max(1, int(np.ceil((hi - lo) / bin_hu))), range=(lo, hi))
        i = int(np.argmax(hist))
        out[f"{name}_peak_hu"] = float((edges[i] + edges[i + 1]) / 2)
    return out


def report(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray, axis: int = 2) -> dict[str, float]:
    """MAE, PSNR, SSIM, MS-SSIM, bone Dice and shares in the body, and the slice discontinuity, as one dict."""
    return {
        "mae_hu": mae_hu(pred, ref, mask),
        "psnr_db": psnr_hu(pred, ref, mask),
        "ssim": ssim_hu(pred, ref, mask),
        "ms_ssim": ms_ssim_hu(pred, ref, mask),
        "bone_dice": bone_dice(pred, ref, mask),
        "bone_share_pred": bone_share(pred, mask),
        "bone_share_ref": bone_share(ref, mask),
        **{f"discontinuity_{k}": v for k, v in slice_discontinuity(pred, ref, mask, axis).items()},
    }


__all__ = [
    "BONE_HU",
    "HU_RANGE",
    "MS_SSIM_WEIGHTS",
    "PEAK_RANGES",
    "bone_dice",
    "bone_share",
    "clip_hu",
    "hu_peaks",
    "mae_hu",
    "ms_ssim_hu",
    "psnr_hu",
    "report",
    "slice_discontinuity",
    "ssim_hu",
    "ssim_map",
    "tissue_errors",
]
