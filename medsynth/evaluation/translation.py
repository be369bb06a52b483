"""MR->CT translation accuracy against a reference CT, SynthRAD-style.

Pairs are matched by case name between the predicted and reference folders (and the optional mask
and label folders): a file's name without its extension and, on the predicted side, without the
``_sct`` suffix that ``medsynth translate apply`` adds (``sct/case_000_sct.nii.gz`` pairs with
``ct/case_000.nii.gz``; identical names pair too). The voxel-wise spread maps that ``translate apply
--uncertainty`` writes beside the predictions (``*_sct_spread``) are not predictions and are left out.

For each pair, both CTs are clipped to ``hu_range`` ([-1024, 3000] HU as in SynthRAD) and scored
inside the body mask (given, or reference CT above ``body_threshold_hu``) with
:mod:`medsynth.evaluation.hu_metrics`:

* ``translation_mae_hu``: mean absolute error in HU (judged);
* ``translation_psnr_db``: PSNR in dB with the data range of the clipping window (4024 HU);
* ``translation_ms_ssim``: SynthRAD's masked multi-scale SSIM; ``translation_ssim``: single-scale SSIM;
* ``translation_bone_dice``: Dice of bone (HU above ``bone_threshold_hu``, 250) in both (judged);
* ``translation_mae_<tissue>_hu``: MAE per tissue label, with tissue names from the config, or from
  ``tissues.json`` in the labels folder, else ``label_<k>``. Without labels, tissues come from the
  reference CT by HU (``hu_class_edges`` / ``hu_class_names``: air < -400, soft tissue, bone > 250).

Values are the mean over pairs; every pair's numbers are in the details.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from medsynth.core.config import config_hash
from medsynth.core.errors import DataValidationError
from medsynth.evaluation import hu_metrics as hm
from medsynth.evaluation.config import EvaluationConfig, TranslationEvalConfig
from medsynth.evaluation.report import Report, fingerprint_input
from medsynth.evaluation.results import MetricResult, judge

SECTION = "translation"
#: The suffix ``translate apply`` adds to each output name, and the one of its spread maps.
SCT_SUFFIX = "_sct"
SPREAD_SUFFIX = "_sct_spread"
#: Sidecar naming the labels of a label folder: {"0": "air", "1": "fat", ...}.
TISSUES_FILE = "tissues.json"


def case_name(path: Path, *, predicted: bool = False) -> str:
    """A volume's case name: its file name without the volume ending (and, when ``predicted``, without ``_sct``)."""
    from medsynth.io.loading import volume_stem

    name = volume_stem(path)
    if predicted and name.endswith(SCT_SUFFIX):
        name = name[: -len(SCT_SUFFIX)]
    return name


def tissue_names(labels_folder: str | Path | None, config: TranslationEvalConfig) -> dict[int, str]:
    """Label value -> tissue name: the config's, else the labels folder's ``tissues.json``, else none.

    Raises:
        DataValidationError: an unreadable or malformed ``tissues.json``.
    """
    if config.tissue_names:
        return {int(k): str(v) for k, v in config.tissue_names.items()}
    if labels_folder is None:
        return {}
    path = Path(labels_folder) / TISSUES_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(k): str(v) for k, v in data.items()}
    except (ValueError, AttributeError, OSError) as exc:
        raise DataValidationError(
            f"'{path}' must map label values to tissue names, e.g. {{\"0\": \"air\", \"4\": \"bone\"}} ({exc})"
        ) from None


def hu_class_labels(ref: np.ndarray, config: TranslationEvalConfig) -> tuple[np.ndarray, dict[int, str]]:
    """Tissue classes of a reference CT by HU (``hu_class_edges``), with their names."""
    labels = np.digitize(np.asarray(ref, dtype=np.float64), np.asarray(config.hu_class_edges, dtype=np.float64))
    return labels, dict(enumerate(config.hu_class_names))


def score_pair(
    pred: np.ndarray,
    ref: np.ndarray,
    mask: np.ndarray,
    labels: np.ndarray | None,
    config: TranslationEvalConfig | None = None,
    names: dict[int, str] | None = None,
) -> dict[str, float]:
    """MAE, PSNR, SSIM, MS-SSIM, bone Dice in the mask, and MAE per tissue, for one predicted/reference pair.

    Raises:
        DataValidationError: an empty body mask.
    """
    cfg = config or TranslationEvalConfig()
    hr = tuple(cfg.hu_range)
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        raise DataValidationError("the body mask is empty; check the mask file or lower translation.body_threshold_hu")
    out = {
        "mae_hu": hm.mae_hu(pred, ref, m, hr),
        "psnr_db": hm.psnr_hu(pred, ref, m, hr),
        "ssim": hm.ssim_hu(pred, ref, m, hu_range=hr),
        "ms_ssim": hm.ms_ssim_hu(pred, ref, m, hu_range=hr),
        "bone_dice": hm.bone_dice(pred, ref, m, cfg.bone_threshold_hu),
        "bone_share_pred": hm.bone_share(pred, m, cfg.bone_threshold_hu),
        "bone_share_ref": hm.bone_share(ref, m, cfg.bone_threshold_hu),
    }
    if labels is not None:
        per = hm.tissue_errors(pred, ref, labels, names, hu_range=hr)
    else:
        lab, class_names = hu_class_labels(ref, cfg)
        per = hm.tissue_errors(pred, ref, lab, class_names, mask=m, hu_range=hr)
    for tissue, value in per["mae"].items():
        out[f"mae_{tissue}_hu"] = value
    return out


def _files(folder: str | Path | None, role: str, *, predicted: bool = False) -> tuple[dict[str, Path], list[str]]:
    """Case name -> path in ``folder``, and the spread maps left out."""
    if folder is None:
        return {}, []
    from medsynth.evaluation.images import volume_paths

    out: dict[str, Path] = {}
    spread: list[str] = []
    problems = []
    for p in volume_paths(folder, role):
        if predicted and case_name(p).endswith(SPREAD_SUFFIX):
            spread.append(p.name)
            continue
        key = case_name(p, predicted=predicted)
        if key in out:
            problems.append(f"'{out[key].name}' and '{p.name}' in the {role} folder are both case '{key}'; keep one")
            continue
        out[key] = p
    if problems:
        raise DataValidationError(problems, context=f"{role} folder '{folder}'")
    return out, spread


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
        DataValidationError: folders with no common case names, pairs of different shapes or grids.
    """
    from medsynth.io.loading import load_volume

    t0 = time.perf_counter()
    cfg = config or EvaluationConfig()
    tc = cfg.translation
    pred, spread = _files(predicted, "predicted", predicted=True)
    ref, _ = _files(reference, "reference")
    masks, _ = _files(mask, "mask")
    labs, _ = _files(labels, "labels")
    names_of = tissue_names(labels, tc)
    names = sorted(set(pred) & set(ref))
    problems = []
    if not names:
        problems.append(
            f"no case is in both '{predicted}' and '{reference}': pairs are matched by name, e.g. case_000.nii.gz "
            f"(or case_000{SCT_SUFFIX}.nii.gz from 'medsynth translate apply') with reference case_000.nii.gz"
        )
    unmatched = sorted(set(pred) ^ set(ref))
    for what, table in (("mask", masks), ("labels", labs)):
        if table and (missing := [n for n in names if n not in table]):
            problems.append(f"the {what} folder lacks {missing[:5]}")
    per_pair: dict[str, dict[str, float]] = {}
    shapes = []
    for n in names:
        r = load_volume(ref[n])
        p = load_volume(pred[n]).reoriented(r.orientation)  # a DICOM prediction is stored LPS, a NIfTI often RAS
        if p.spatial_shape != r.spatial_shape:
            problems.append(f"{n}: predicted shape {p.spatial_shape} differs from reference {r.spatial_shape}; resample the prediction to the reference grid")
            continue
        if not p.same_grid(r, atol=1e-2):
            problems.append(f"{n}: predicted and reference affines differ; the prediction must be on the reference CT's grid")
            continue
        m = load_volume(masks[n]).reoriented(r.orientation).array > 0 if masks else r.array > tc.body_threshold_hu
        lab = load_volume(labs[n]).reoriented(r.orientation).array if labs else None
        for what, arr in (("mask", m), ("labels", lab)):
            if arr is not None and arr.shape != r.array.shape:
                problems.append(f"{n}: {what} shape {arr.shape} differs from the CT's {r.array.shape}")
                arr = None
        if problems:
            continue
        for what, arr in (("predicted", p.array), ("reference", r.array)):
            if bad := int(np.count_nonzero(~np.isfinite(arr[m]))):
                problems.append(f"{n}: the {what} CT has {bad} non-finite voxel(s) (NaN/inf) inside the body mask; "
                                "they cannot be scored (mask them out with --mask, or fix the file)")
        if problems:
            continue
        per_pair[n] = score_pair(p.array, r.array, m, lab, tc, names_of)
        shapes.append((n, p.array, r.array))
    if problems:
        raise DataValidationError(problems, context="translation evaluation inputs")

    def mean(key: str) -> float:
        vals = [v[key] for v in per_pair.values() if key in v and np.isfinite(v[key])]
        return float(np.mean(vals)) if vals else float("nan")

    width = tc.hu_range[1] - tc.hu_range[0]
    results: list[MetricResult] = [
        judge("translation_mae_hu", SECTION, mean("mae_hu"), "minimize", "Mean absolute error of the translated CT in the body, in HU.",
              threshold=cfg.fidelity.translation_mae_hu, details={"pairs": per_pair}),
        judge("translation_psnr_db", SECTION, mean("psnr_db"), "maximize", f"Peak signal-to-noise ratio in the body (data range {width:g} HU).",
              note="" if np.isfinite(mean("psnr_db")) else "infinite: every prediction equals its reference inside the mask"),
        judge("translation_ms_ssim", SECTION, mean("ms_ssim"), "maximize", "Masked multi-scale SSIM in the body, as SynthRAD computes it (1 = identical)."),
        judge("translation_ssim", SECTION, mean("ssim"), "maximize", "Structural similarity in the body (1 = identical)."),
        judge("translation_bone_dice", SECTION, mean("bone_dice"), "maximize",
              f"Dice overlap of bone (HU > {tc.bone_threshold_hu:g}) in the translated and the reference CT, in the body.",
              threshold=cfg.fidelity.translation_bone_dice,
              details={"bone_share_pred": mean("bone_share_pred"), "bone_share_ref": mean("bone_share_ref")}),
    ]
    tissue_keys = sorted({k for v in per_pair.values() for k in v if k.startswith("mae_") and k != "mae_hu"})
    tissue = {}
    for k in tissue_keys:
        tissue[k[4:-3]] = mean(k)
        results.append(judge(f"translation_{k}", SECTION, mean(k), "minimize", f"MAE in HU inside tissue '{k[4:-3]}'."))
    inputs = [{"role": role, "path": str(f), "sha256": fingerprint_input(f), "volumes": len(t)}
              for role, f, t in (("predicted", predicted, pred), ("reference", reference, ref), ("mask", mask, masks), ("labels", labels, labs)) if f is not None]
    edges = ", ".join(f"{a} < {e:g}" for a, e in zip(tc.hu_class_names, tc.hu_class_edges))
    notes = [f"{len(per_pair)} pairs scored after clipping to [{tc.hu_range[0]:g}, {tc.hu_range[1]:g}] HU; "
             + ("body masks given." if masks else f"body mask = reference CT > {tc.body_threshold_hu:g} HU.")
             + (" Tissues from the label maps" + (" (names from the config or tissues.json)." if names_of else " (no tissue names: label_<k>).")
                if labs else f" Tissues from reference HU ({edges}, {tc.hu_class_names[-1]} above).")]
    if unmatched:
        notes.append(f"Cases without a partner were skipped: {unmatched[:10]}")
    if spread:
        notes.append(f"{len(spread)} spread (uncertainty) map(s) in the predicted folder were left out: {spread[:5]}")
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


__all__ = ["case_name", "evaluate_translation", "hu_class_labels", "score_pair", "tissue_names"]
