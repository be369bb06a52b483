"""MR->CT translation accuracy against a reference CT, SynthRAD-style.

Pairs are matched by file name between the predicted and reference folders (and the optional mask
and label folders). For each pair, both CTs are clipped to ``hu_range`` ([-1024, 3000] HU as in
SynthRAD) and scored inside the body mask (given, or reference CT above ``body_threshold_hu``):

* ``translation_mae_hu``: mean absolute error in HU (judged);
* ``translation_psnr_db``: PSNR in dB with the data range of the clipping window (4024 HU);
* ``translation_ssim``: SSIM (Gaussian window sigma 1.5, on intensities scaled to [0, 1]),
  averaged over the mask;
* ``translation_mae_<tissue>_hu``: MAE per tissue label (0 air, 1 fat, 2 soft tissue, 3 organ,
  4 bone, 5 lesion, the medsynth phantom labels; other values are named ``label_<k>``). Without
  labels, tissues come from the reference CT by HU: air < -400, soft tissue -400..300, bone > 300.

Values are the mean over pairs; every pair's numbers are in the details.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from medsynth.core.config import config_hash
from medsynth.core.errors import DataValidationError
from medsynth.evaluation.config import EvaluationConfig
from medsynth.evaluation.report import Report, fingerprint_input
from medsynth.evaluation.results import MetricResult, judge

TISSUE_NAMES = {0: "air", 1: "fat", 2: "soft_tissue", 3: "organ", 4: "bone", 5: "lesion"}
HU_CLASSES = {"air": (-np.inf, -400.0), "soft_tissue": (-400.0, 300.0), "bone": (300.0, np.inf)}
SECTION = "translation"


def ssim_map(x: np.ndarray, y: np.ndarray, *, sigma: float = 1.5, data_range: float = 1.0) -> np.ndarray:
    """Voxel-wise SSIM (Wang et al. 2004) with a Gaussian window, any number of dimensions."""
    from scipy.ndimage import gaussian_filter

    x, y = x.astype(np.float64), y.astype(np.float64)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = gaussian_filter(x, sigma), gaussian_filter(y, sigma)
    sxx = gaussian_filter(x * x, sigma) - mx * mx
    syy = gaussian_filter(y * y, sigma) - my * my
    sxy = gaussian_filter(x * y, sigma) - mx * my
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))


def score_pair(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray, labels: np.ndarray | None, hu_range: tuple[float, float]) -> dict[str, float]:
    """MAE, PSNR, SSIM in the mask, and per-tissue MAE, for one predicted/reference CT pair."""
    lo, hi = hu_range
    p, r = np.clip(pred, lo, hi), np.clip(ref, lo, hi)
    m = mask.astype(bool)
    if not m.any():
        raise DataValidationError("the body mask is empty; check the mask file or lower translation.body_threshold_hu")
    err = np.abs(p - r)
    mse = float(np.mean((p[m] - r[m]) ** 2))
    rng = hi - lo
    out = {
        "mae_hu": float(err[m].mean()),
        "psnr_db": float(10 * np.log10(rng**2 / mse)) if mse > 0 else float("inf"),
        "ssim": float(ssim_map((p - lo) / rng, (r - lo) / rng)[m].mean()),
    }
    if labels is not None:
        for k in np.unique(labels.astype(int)):
            sel = labels.astype(int) == k
            out[f"mae_{TISSUE_NAMES.get(int(k), f'label_{int(k)}')}_hu"] = float(err[sel].mean())
    else:
        for name, (a, b) in HU_CLASSES.items():
            sel = m & (r >= a) & (r < b)
            if sel.any():
                out[f"mae_{name}_hu"] = float(err[sel].mean())
    return out


def _files(folder: str | Path | None, role: str) -> dict[str, Path]:
    if folder is None:
        return {}
    from medsynth.evaluation.images import volume_paths

    return {p.name: p for p in volume_paths(folder, role)}


def evaluate_translation(
    predicted: str | Path,
    reference: str | Path,
    *,
    mask: str | Path | None = None,
    labels: str | Path | None = None,
    config: EvaluationConfig | None = None,
) -> Report:
    """Score translated CTs against reference CTs (see the module docstring).

    Raises:
        DataValidationError: folders with no common file names, pairs of different shapes.
    """
    from medsynth.io.loading import load_volume

    t0 = time.perf_counter()
    cfg = config or EvaluationConfig()
    tc = cfg.translation
    pred, ref = _files(predicted, "predicted"), _files(reference, "reference")
    masks, labs = _files(mask, "mask"), _files(labels, "labels")
    names = sorted(set(pred) & set(ref))
    problems = []
    if not names:
        problems.append(f"no file name is in both '{predicted}' and '{reference}': pairs are matched by name (e.g. case_000.nii.gz in each)")
    unmatched = sorted(set(pred) ^ set(ref))
    for what, table in (("mask", masks), ("labels", labs)):
        if table and (missing := [n for n in names if n not in table]):
            problems.append(f"the {what} folder lacks {missing[:5]}")
    per_pair: dict[str, dict[str, float]] = {}
    shapes = []
    for n in names:
        p, r = load_volume(pred[n]), load_volume(ref[n])
        if p.spatial_shape != r.spatial_shape:
            problems.append(f"{n}: predicted shape {p.spatial_shape} differs from reference {r.spatial_shape}; resample the prediction to the reference grid")
            continue
        if not p.same_grid(r, atol=1e-2):
            problems.append(f"{n}: predicted and reference affines differ; the prediction must be on the reference CT's grid")
            continue
        m = load_volume(masks[n]).array > 0 if masks else r.array > tc.body_threshold_hu
        lab = load_volume(labs[n]).array if labs else None
        for what, arr in (("mask", m), ("labels", lab)):
            if arr is not None and arr.shape != r.array.shape:
                problems.append(f"{n}: {what} shape {arr.shape} differs from the CT's {r.array.shape}")
                arr = None
        if problems:
            continue
        per_pair[n] = score_pair(p.array, r.array, m, lab, tc.hu_range)
        shapes.append((n, p.array, r.array))
    if problems:
        raise DataValidationError(problems, context="translation evaluation inputs")

    def mean(key: str) -> float:
        vals = [v[key] for v in per_pair.values() if key in v and np.isfinite(v[key])]
        return float(np.mean(vals)) if vals else float("nan")

    results: list[MetricResult] = [
        judge("translation_mae_hu", SECTION, mean("mae_hu"), "minimize", "Mean absolute error of the translated CT in the body, in HU.",
              threshold=cfg.fidelity.translation_mae_hu, details={"pairs": per_pair}),
        judge("translation_psnr_db", SECTION, mean("psnr_db"), "maximize", f"Peak signal-to-noise ratio in the body (data range {tc.hu_range[1] - tc.hu_range[0]:g} HU).",
              note="" if np.isfinite(mean("psnr_db")) else "infinite: every prediction equals its reference inside the mask"),
        judge("translation_ssim", SECTION, mean("ssim"), "maximize", "Structural similarity in the body (1 = identical)."),
    ]
    tissue_keys = sorted({k for v in per_pair.values() for k in v if k.startswith("mae_") and k != "mae_hu"})
    tissue = {}
    for k in tissue_keys:
        tissue[k[4:-3]] = mean(k)
        results.append(judge(f"translation_{k}", SECTION, mean(k), "minimize", f"MAE in HU inside tissue '{k[4:-3]}'."))
    inputs = [{"role": role, "path": str(f), "sha256": fingerprint_input(f), "volumes": len(t)}
              for role, f, t in (("predicted", predicted, pred), ("reference", reference, ref), ("mask", mask, masks), ("labels", labels, labs)) if f is not None]
    notes = [f"{len(per_pair)} pairs scored after clipping to [{tc.hu_range[0]:g}, {tc.hu_range[1]:g}] HU; "
             + ("body masks given." if masks else f"body mask = reference CT > {tc.body_threshold_hu:g} HU.")
             + (" Tissues from the label maps." if labs else " Tissues from reference HU (air < -400, soft tissue -400..300, bone > 300).")]
    if unmatched:
        notes.append(f"Files without a partner were skipped: {unmatched[:10]}")
    report = Report(kind="translation", mode="evaluate", results=results, inputs=inputs, config=cfg.model_dump(mode="json"),
                    config_hash=config_hash(cfg), notes=notes)
    from medsynth.evaluation import plots

    rows = []
    for n, p, r in shapes[:3]:
        k = p.shape[2] // 2
        rows.append((n, [r[:, :, k], p[:, :, k], np.abs(np.clip(p, *tc.hu_range) - np.clip(r, *tc.hu_range))[:, :, k] - 1024]))
    report.figures["list"] = [
        {"section": SECTION, "title": "Reference | translated | |error|", "png": plots.slice_grid(rows, vmin=-1024, vmax=1500, titles=["reference CT", "translated", "|error| (+-1024)"]),
         "caption": "Middle axial slice; window -1024..1500 HU (the error panel is offset by -1024 so 0 HU error is black)."},
    ]
    if tissue:
        report.figures["list"].append({"section": SECTION, "title": "MAE per tissue", "png": plots.bars(tissue, title="MAE per tissue", ylabel="HU"), "caption": "Mean over pairs."})
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["evaluate_translation", "score_pair", "ssim_map"]
