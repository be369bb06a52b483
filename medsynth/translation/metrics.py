"""Figures of merit for synthetic CT against a reference CT on the same grid (all in HU).

These are what the sCT literature (SynthRAD) reports: MAE and PSNR inside the body, SSIM, plus
two checks specific to slice-wise models and to unpaired data:

* :func:`slice_discontinuity`: how much more a volume jumps between neighbouring slices than the
  reference does (2D models predict each slice on its own; 2.5D should jump less);
* :func:`hu_peaks`: the histogram peaks (air, fat, soft tissue, bone) of a CT, to compare a
  translated MR with a real CT of another subject when no paired CT exists.

The evaluation package judges any synthetic data; these few are kept here because the
translation benchmark and demo need them and domain packages do not import each other.
"""

from __future__ import annotations

import numpy as np

#: SynthRAD's range: PSNR's data range is its width (4024 HU).
HU_RANGE = (-1024.0, 3000.0)

#: HU intervals in which :func:`hu_peaks` looks for each peak.
PEAK_RANGES: dict[str, tuple[float, float]] = {
    "air": (-1100.0, -850.0),
    "fat": (-200.0, -30.0),
    "soft_tissue": (-30.0, 150.0),
    "bone": (200.0, 1500.0),
}


def _clip(a: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(a, dtype=np.float64), *HU_RANGE)


def mae_hu(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error in HU (inside ``mask`` when given), both clipped to [-1024, 3000]."""
    d = np.abs(_clip(pred) - _clip(ref))
    return float(d[mask].mean() if mask is not None else d.mean())


def psnr_hu(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, data_range: float = HU_RANGE[1] - HU_RANGE[0]) -> float:
    """PSNR in dB with the [-1024, 3000] range (4024 HU) as peak, inside ``mask`` when given."""
    d = (_clip(pred) - _clip(ref)) ** 2
    mse = float(d[mask].mean() if mask is not None else d.mean())
    return float("inf") if mse == 0 else float(10.0 * np.log10(data_range**2 / mse))


def ssim_hu(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, sigma: float = 1.5, data_range: float = HU_RANGE[1] - HU_RANGE[0]) -> float:
    """Mean structural similarity (Gaussian window, ``sigma`` voxels, Wang et al. 2004) over ``mask``."""
    from scipy.ndimage import gaussian_filter

    x, y = _clip(pred), _clip(ref)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = gaussian_filter(x, sigma), gaussian_filter(y, sigma)
    sxx = gaussian_filter(x * x, sigma) - mx * mx
    syy = gaussian_filter(y * y, sigma) - my * my
    sxy = gaussian_filter(x * y, sigma) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return float(s[mask].mean() if mask is not None else s.mean())


def slice_discontinuity(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray, axis: int = 2) -> dict[str, float]:
    """Slice-to-slice jumps along ``axis`` inside the body, against the reference's.

    Returns:
        ``pred_mad`` and ``ref_mad``: mean |v[k+1] - v[k]| (HU) over voxel pairs inside the mask;
        ``excess_mad``: mean |(pred[k+1]-pred[k]) - (ref[k+1]-ref[k])|, the jumps the reference does
        not have (0 for a perfect prediction; what slice-wise models add).
    """
    p, r = _clip(pred), _clip(ref)
    dp, dr = np.diff(p, axis=axis), np.diff(r, axis=axis)
    m = np.logical_and(np.take(mask, range(mask.shape[axis] - 1), axis=axis), np.take(mask, range(1, mask.shape[axis]), axis=axis))
    return {
        "pred_mad": float(np.abs(dp)[m].mean()),
        "ref_mad": float(np.abs(dr)[m].mean()),
        "excess_mad": float(np.abs(dp - dr)[m].mean()),
    }


def hu_peaks(values: np.ndarray, bin_hu: float = 10.0) -> dict[str, float | None]:
    """The most frequent HU (histogram mode) within each of :data:`PEAK_RANGES`, and each range's share.

    Returns:
        ``{tissue}_peak_hu`` (None when the range is empty) and ``{tissue}_fraction`` for each tissue.
    """
    v = _clip(np.asarray(values).ravel())
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
    """MAE, PSNR, SSIM in the body and the slice discontinuity, as one dict."""
    return {
        "mae_hu": mae_hu(pred, ref, mask),
        "psnr_db": psnr_hu(pred, ref, mask),
        "ssim": ssim_hu(pred, ref, mask),
        **{f"discontinuity_{k}": v for k, v in slice_discontinuity(pred, ref, mask, axis).items()},
    }


__all__ = ["HU_RANGE", "PEAK_RANGES", "hu_peaks", "mae_hu", "psnr_hu", "report", "slice_discontinuity", "ssim_hu"]
