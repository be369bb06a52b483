"""Evaluate or audit synthetic volumes against real training and holdout volumes.

Every volume is read with :func:`medsynth.io.load_volume` (NIfTI files, or DICOM series in
sub-folders) and brought to one grid with :class:`medsynth.io.transforms.VolumePreprocessor`:
RAS orientation, the common spacing and shape (by default the first training volume's; the privacy checks, copies and
membership, use the synthetic volumes' own grid where they share one: the generator's), and
intensities in [-1, 1] (CT: the fixed HU window [-1024, 3000]; MR: each volume's 0.5-99.5th
percentiles). Every volume is read with one modality: the one given, else one decided from the training
volumes as a whole (:func:`decide_modality`); the report's notes say which and how. Volumes already on
one grid are not resampled. With ``images.grid: refuse`` differing grids are an error instead. No registration is done beyond this common grid.

Label maps (optional, for per-tissue intensities) are matched to volumes by file name (an nnU-Net
channel suffix ``_0000`` is ignored) and resampled with nearest neighbours. A synthetic folder with
``image/`` and ``label/`` sub-folders (what ``medsynth image sample --masks`` writes) brings its own.

Degenerate inputs are refused or reviewed, with the reason: a holdout that holds the training
volumes (a leaky split: no baseline is left), volumes whose intensities do not look like the
training modality (e.g. MR given as synthetic CT), and fewer synthetic volumes than a verdict needs
(``synthetic_volume_count`` is then "review"). Flat synthetic volumes (almost one value: a collapsed
generator) are not refused but judged: ``synthetic_flat_volume_share`` fails them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from medsynth.core.config import config_hash
from medsynth.core.errors import DataValidationError
from medsynth.evaluation.config import EvaluationConfig, Threshold
from medsynth.evaluation.image_context import ImageContext
from medsynth.evaluation.registry import IMAGE_METRICS, selected
from medsynth.evaluation.report import Report, fingerprint_input, ledger_notes, read_privacy_ledger
from medsynth.evaluation.results import MetricResult, judge
from medsynth.io.volume import Modality, Volume

#: Roles of an image evaluation, in order.
ROLES = ("train", "holdout", "synthetic")


@dataclass
class ImageSet:
    """Volumes of one role on the common grid.

    Attributes:
        role: "train", "holdout" or "synthetic".
        names: file or folder names, in order.
        arrays: (n, i, j, k) float32 in [-1, 1].
        modality: shared modality.
        window: (low, high) intensities mapped to (-1, 1) for CT (None for MR: per volume).
        labels: (n, i, j, k) integer label maps on the same grid, when given.
    """

    role: str
    names: list[str]
    arrays: np.ndarray
    modality: Modality
    window: tuple[float, float] | None
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.names)

    def to_units(self, x: np.ndarray) -> np.ndarray:
        """[-1, 1] values back to HU for CT (unchanged for MR)."""
        if self.window is None:
            return x
        lo, hi = self.window
        return (x + 1.0) / 2.0 * (hi - lo) + lo


def _is_volume(x: Path) -> bool:
    """A NIfTI or NRRD file, or a folder holding a DICOM series (found by content: slices may have any name)."""
    from medsynth.io.dicom import is_dicom_file
    from medsynth.io.nifti import is_nifti
    from medsynth.io.nrrd import is_nrrd

    if x.is_file():
        return is_nifti(x) or is_nrrd(x)
    return x.is_dir() and not x.name.startswith(".") and any(f.is_file() and is_dicom_file(f) for f in x.rglob("*"))


def pair_folders(folder: str | Path) -> tuple[Path, Path] | None:
    """``(image/, label/)`` when ``folder`` is a pairs dataset (as ``image sample --masks`` writes), else None."""
    p = Path(folder)
    img, lab = p / "image", p / "label"
    if img.is_dir() and lab.is_dir() and not any(x.is_file() and _is_volume(x) for x in p.iterdir()):
        return img, lab
    return None


def volume_paths(folder: str | Path, role: str) -> list[Path]:
    """NIfTI and NRRD files and DICOM series sub-folders of ``folder`` (or of its ``image/``), sorted by name; a folder
    of DICOM slices is itself one volume."""
    p = Path(folder)
    if not p.is_dir():
        raise DataValidationError(f"{role} folder '{p}' does not exist or is not a folder; give a folder of NIfTI files or DICOM series")
    pairs = pair_folders(p)
    if pairs is not None:
        p = pairs[0]
    items = sorted(x for x in p.iterdir() if _is_volume(x))
    if not items and _is_volume(p) and any(f.is_file() and _is_dicom(f) for f in p.iterdir()):
        items = [p]  # the folder is itself one DICOM series (slices directly inside)
    if not items:
        raise DataValidationError(f"{role} folder '{p}' holds no volumes (NIfTI or NRRD files, or DICOM series folders)")
    return items


def _is_dicom(x: Path) -> bool:
    from medsynth.io.dicom import is_dicom_file

    return is_dicom_file(x)


def _key(name: str) -> str:
    from medsynth.io.loading import volume_stem

    name = volume_stem(name)
    return name[:-5] if name.endswith("_0000") else name


def label_paths(images: list[Path], folder: str | Path, role: str) -> list[Path]:
    """The label map of each volume in ``folder``, matched by name.

    Raises:
        DataValidationError: the folder is missing, or a volume has no label map (each named).
    """
    f = Path(folder)
    if not f.is_dir():
        raise DataValidationError(f"{role} label-map folder '{f}' does not exist")
    found = {_key(x.name): x for x in f.iterdir() if _is_volume(x)}
    missing = [p.name for p in images if _key(p.name) not in found]
    if missing:
        raise DataValidationError([f"{role} volume '{m}' has no label map in '{f}' (matched by file name)" for m in missing[:10]],
                                  context=f"{len(missing)} of {len(images)} {role} volumes")
    return [found[_key(p.name)] for p in images]


def _read(paths: list[Path]) -> list[Volume]:
    from medsynth.io.loading import load_volume

    vols = [load_volume(p) for p in paths]
    for v, p in zip(vols, paths):
        v.meta["name"] = p.name
        v.meta["tagged_modality"] = v.modality if p.is_dir() else None  # DICOM records it; NIfTI does not
        if v.array.ndim != 3:
            raise DataValidationError(f"'{p}' has shape {v.array.shape}; image evaluation needs single-channel 3D volumes")
        bad = int(np.count_nonzero(~np.isfinite(np.asarray(v.array, dtype=np.float32))))
        if bad:  # (a NaN voxel ended an audit in a traceback deep in scikit-learn, with the exit code of a failed verdict)
            raise DataValidationError(f"'{p}' holds {bad} voxel(s) that are NaN or infinite; fill or mask them (e.g. with the "
                                      "background value) before evaluating")
    return vols


def decide_modality(vols: dict[str, list[Volume]], given: Modality | None) -> tuple[Modality, str]:
    """The one modality every volume is read with, and a sentence saying how it was decided.

    ``given`` when passed; else the training DICOM series' Modality tag where they all carry one; else the NIfTI rule
    (:func:`medsynth.io.nifti.guess_modality`) applied to the training volumes as a whole, never volume by volume: a
    real body-only CT crop (-695..3034 HU, no air) was guessed 'OT' alone and scaled by its own percentiles, and
    blurred synthetic CTs with it, which put intensity_wasserstein at 772 HU instead of 22.9.
    """
    from medsynth.io.nifti import guess_modality

    train = vols["train"]
    if given is not None:
        return given, f"Modality: {given} for every volume (training, holdout, synthetic), as given."
    tags = [v.meta.get("tagged_modality") for v in train]
    if None not in tags and len(set(tags)) == 1:
        return tags[0], (f"Modality: {tags[0]} for every volume (training, holdout, synthetic), from the Modality tag of the "
                         f"{len(train)} training DICOM series; pass --modality to force another.")
    lo = min(float(np.min(np.asarray(v.array))) for v in train)
    hi = max(float(np.max(np.asarray(v.array))) for v in train)
    modality = guess_modality(np.array([lo, hi], dtype=np.float32))
    why = (f"their values {lo:g}..{hi:g} look like HU (air at or below -900)" if modality == "CT" else
           f"their values {lo:g}..{hi:g} do not look like CT in HU (no air at or below -900 within -3100..5000), so each "
           "volume is scaled by its own 0.5-99.5th percentiles; pass --modality CT if they are CT in HU")
    return modality, (f"Modality: {modality} for every volume (training, holdout, synthetic), decided from the {len(train)} "
                      f"training volumes as a whole: {why}.")


def _read_labels(paths: list[Path]) -> list[Volume]:
    from medsynth.io.loading import load_volume

    out = []
    for p in paths:
        v = load_volume(p, modality="SEG")
        v.meta["name"] = p.name
        out.append(v)
    return out


def synthetic_grid(sets: dict[str, list[Volume]]) -> Volume | None:
    """The synthetic volumes' grid (its first volume) where they share one and it is not the first training volume's."""
    syn, ref = sets.get("synthetic") or [], sets["train"][0]
    if syn and all(v.same_grid(syn[0], atol=1e-3) for v in syn) and not syn[0].same_grid(ref, atol=1e-3):
        return syn[0]
    return None


def common_grid(sets: dict[str, list[Volume]], config: EvaluationConfig,
                labels: dict[str, list[Volume]] | None = None, *, on: Volume | None = None) -> dict[str, ImageSet]:
    """Bring every volume (and label map) to one grid and to [-1, 1] (see the module docstring).

    Raises:
        DataValidationError: differing grids with ``grid="refuse"``, listing each odd volume; a label
            map not on its volume's grid.
    """
    from medsynth.io.transforms import PreprocessConfig, VolumePreprocessor

    cfg = config.images
    ref = on or sets["train"][0]  # (``on``: another volume's grid, the synthetic volumes' for the privacy checks)
    # axes in the reference's order first: a flip or a permutation is exact (a DICOM series reads LPS, a NIfTI is often
    # RAS: the same grid, which no resampling should blur)
    sets = {role: [v.reoriented(ref.orientation) for v in vs] for role, vs in sets.items()}
    if labels is not None:
        labels = {role: None if labs is None else [lab.reoriented(ref.orientation) for lab in labs]
                  for role, labs in labels.items()}
    all_vols = [v for vs in sets.values() for v in vs]
    same = all(v.same_grid(ref, atol=1e-3) for v in all_vols)
    if not same and cfg.grid == "refuse":
        odd = [f"{v.meta['name']}: shape {v.spatial_shape}, spacing {tuple(round(s, 3) for s in v.spacing)}"
               for v in all_vols if not v.same_grid(ref, atol=1e-3)]
        raise DataValidationError(
            [f"volume not on the grid of {ref.meta['name']} (shape {ref.spatial_shape}, spacing "
             f"{tuple(round(s, 3) for s in ref.spacing)}): {o}" for o in odd]
            + ["resample them to one grid first, or set images.grid: resample"],
            context="image evaluation inputs",
        )
    if same and cfg.spacing is None and cfg.spatial_size is None:
        pre = VolumePreprocessor(PreprocessConfig(orientation=None, spacing=None, spatial_size=None))
    else:
        spacing = cfg.spacing or ref.spacing
        size = cfg.spatial_size or tuple(int(round(n * s / t)) for n, s, t in zip(ref.spatial_shape, ref.spacing, spacing))
        pre = VolumePreprocessor(PreprocessConfig(orientation="RAS", spacing=tuple(spacing), spatial_size=tuple(size)))
    modality = sets["train"][0].modality  # (one for every volume: evaluate_images sets it, see decide_modality)
    out = {}
    for role, vols in sets.items():
        arrays = [np.asarray(pre(v).tensor[0], dtype=np.float32) for v in vols]
        window = pre.config.ct_window if modality == "CT" else None
        maps = None
        if labels is not None and labels.get(role) is not None:
            bad = [f"label map '{lab.meta['name']}' is not on the grid of '{v.meta['name']}'" for v, lab in zip(vols, labels[role])
                   if not v.same_grid(lab, atol=1e-3)]
            if bad:
                raise DataValidationError(bad, context=f"{role} label maps")
            maps = np.stack([np.rint(np.asarray(pre(lab).tensor[0])).astype(np.int16) for lab in labels[role]])
        out[role] = ImageSet(role, [v.meta["name"] for v in vols], np.stack(arrays), modality, window, maps)
    return out


#: A synthetic volume whose 0.5-99.5th percentile spread is at most this share of the training volumes' (median) one
#: holds almost one value: a collapsed generator's output (all 40 HU, all -1000 HU), not another modality.
FLAT_SPREAD = 0.01


def _spread(v: Volume) -> float:
    lo, hi = np.percentile(np.asarray(v.array, dtype=np.float32), (0.5, 99.5))
    return float(hi - lo)


def flat_volumes(vols: dict[str, list[Volume]]) -> list[str]:
    """Names of the synthetic volumes that hold almost one value (see :data:`FLAT_SPREAD`)."""
    ref = float(np.median([_spread(v) for v in vols["train"]]))
    return [v.meta["name"] for v in vols["synthetic"] if _spread(v) <= FLAT_SPREAD * ref]


def _flat_check(flat: list[str], n: int) -> MetricResult:
    """A fidelity check failing the flat ones (:func:`flat_volumes`) of ``n`` synthetic volumes, with their names.

    A collapsed generator writing all 40 HU was refused as "not CT in HU" (exit 2, no report) and one writing all
    -1000 HU was judged by metrics that need spread; such output is exactly what the report must fail, and say why.
    """
    names = ", ".join(f"'{x}'" for x in flat[:5]) + (f" and {len(flat) - 5} more" if len(flat) > 5 else "")
    return judge("synthetic_flat_volume_share", "fidelity", len(flat) / max(1, n), "minimize",
                 f"Share of synthetic volumes that hold almost one value (0.5-99.5th percentile spread at most "
                 f"{100 * FLAT_SPREAD:g}% of the training volumes'): a collapsed generator's output, not an image.",
                 threshold=Threshold(review=0.0, fail=0.1), baseline=0.0,
                 note="" if not flat else f"{len(flat)} of {n} synthetic volume(s) are flat ({names}): the generator "
                                          "collapsed to a constant; check its training (loss, steps) and sampling",
                 details={"flat_volumes": flat})


def _low_share(vols: list[Volume], below: float = -150.0) -> float:
    """Share of voxels below ``below`` (HU: fat and air) over a set of raw volumes."""
    n = sum(int(np.count_nonzero(np.asarray(v.array) < below)) for v in vols)
    return n / max(1, sum(int(np.asarray(v.array).size) for v in vols))


def check_inputs(paths: dict[str, list[Path]], vols: dict[str, list[Volume]], inputs: list[dict], config: EvaluationConfig) -> None:
    """Refuse degenerate inputs (see the module docstring), saying why.

    Raises:
        DataValidationError: the holdout holds training volumes; the modalities differ.
    """
    import hashlib

    sha = {i["role"]: i["sha256"] for i in inputs}
    folders = {i["role"]: i["path"] for i in inputs}
    if sha["train"] == sha["holdout"]:
        raise DataValidationError(
            f"the holdout folder '{folders['holdout']}' holds exactly the training volumes of '{folders['train']}' (same sha256 "
            f"{sha['train'][:16]}...): the privacy baselines need real volumes the generator never saw; give a separate holdout"
        )

    def digest(v: Volume) -> str:
        return hashlib.sha256(np.ascontiguousarray(v.array, dtype=np.float32).tobytes()).hexdigest()

    train_hash = {digest(v): v.meta["name"] for v in vols["train"]}
    shared = [f"holdout '{v.meta['name']}' equals training volume '{train_hash[d]}'" for v in vols["holdout"] if (d := digest(v)) in train_hash]
    if shared:
        raise DataValidationError(shared + ["a holdout volume the generator saw is no baseline: remove it from the holdout"],
                                  context=f"{len(shared)} of {len(vols['holdout'])} holdout volumes are training volumes")
    tagged = {role: {v.meta.get("tagged_modality") for v in vs} - {None} for role, vs in vols.items()}
    ref_tags = tagged["train"]
    for role in ("holdout", "synthetic"):
        if ref_tags and tagged[role] and tagged[role] != ref_tags:
            raise DataValidationError(f"{role} volumes are {sorted(tagged[role])} (DICOM Modality) but training volumes are "
                                      f"{sorted(ref_tags)}: compare volumes of one modality")
    if not config.images.check_modality or vols["train"][0].modality != "CT":
        return
    ref = _low_share(vols["train"])
    # flat synthetic volumes are a broken generator's, not another modality: the report judges them (_flat_check)
    flat = set(flat_volumes(vols))
    judged = {"holdout": vols["holdout"], "synthetic": [v for v in vols["synthetic"] if v.meta["name"] not in flat]}
    for role in ("holdout", "synthetic"):
        got = _low_share(judged[role])
        if ref >= 0.01 and got < 0.001 and judged[role]:
            raise DataValidationError(
                f"{role} volumes do not look like CT in HU: {100 * got:.3g}% of their voxels are below -150 HU (fat, air) against "
                f"{100 * ref:.3g}% in the training CTs; MR or other intensities passed as CT are not comparable. Give CT volumes "
                "in HU, or set images.check_modality: false if these really are CT",
            )
    # one volume at a time too: an MR among CTs passed where the folder's pooled share still looked like CT
    # (MR magnitudes are never negative; a CT inside the body still holds fat and noise below zero)
    # (synthetic volumes only: real organ crops hold no fat nor air and were refused as training volumes in review)
    odd = [f"synthetic '{v.meta['name']}' ({100 * _low_share([v]):.3g}% of its voxels below -150 HU, none below 0)"
           for v in judged["synthetic"] if _low_share([v]) < 0.001 and float(np.min(np.asarray(v.array))) >= 0.0] \
        if ref >= 0.01 else []
    if odd:
        raise DataValidationError(odd + ["these do not look like CT in HU (MR or other intensities among CTs are not "
                                         "comparable): remove them, or set images.check_modality: false if they really are CT"],
                                  context=f"{len(odd)} volume(s) unlike the training CTs")


def evaluate_images(
    train: str | Path,
    holdout: str | Path,
    synthetic: str | Path,
    *,
    config: EvaluationConfig | None = None,
    modality: Modality | None = None,
    run_dir: str | Path | None = None,
    mode: Literal["evaluate", "audit"] = "evaluate",
    train_labels: str | Path | None = None,
    holdout_labels: str | Path | None = None,
    synthetic_labels: str | Path | None = None,
    tissue_names: dict[int, str] | None = None,
) -> Report:
    """Judge synthetic volumes: realism (detection), intensities, feature distances, diversity, memorisation.

    Args:
        train: folder of real training volumes (NIfTI files or DICOM series folders).
        holdout: folder of real volumes the generator never saw.
        synthetic: folder of synthetic volumes, or a pairs dataset (``image/`` + ``label/``).
        config: thresholds and settings (``images.weights`` for local feature-network weights).
        modality: force "CT" or "MR" for every volume (default: decided once from the training volumes as a whole,
            see :func:`decide_modality`; the report's notes say which and how).
        run_dir: the producer's run directory (its privacy ledger is shown).
        mode: "evaluate" or "audit" (memorisation / membership only).
        train_labels: folder of label maps of the training volumes (matched by file name), for
            per-tissue intensities.
        holdout_labels: label maps of the holdout volumes (the per-tissue baseline).
        synthetic_labels: label maps of the synthetic volumes (default: the pairs dataset's ``label/``).
        tissue_names: names of label values (default: read from a pairs dataset's dataset.json).

    Raises:
        DataValidationError: a missing or empty folder, unreadable volumes, differing grids with
            ``grid="refuse"``, a holdout holding training volumes, mismatched modalities.
    """
    t0 = time.perf_counter()
    cfg = config or EvaluationConfig()
    folders = {"train": train, "holdout": holdout, "synthetic": synthetic}
    paths = {role: volume_paths(folders[role], role) for role in ROLES}
    vols = {role: _read(p) for role, p in paths.items()}
    modality, modality_note = decide_modality(vols, modality)
    for v in (v for vs in vols.values() for v in vs):
        v.modality = modality
    inputs = [{"role": role, "path": str(folders[role]), "sha256": fingerprint_input(folders[role]), "volumes": len(paths[role])}
              for role in ROLES]
    check_inputs(paths, vols, inputs, cfg)
    label_dirs = {"train": train_labels, "holdout": holdout_labels, "synthetic": synthetic_labels}
    pairs = pair_folders(synthetic)
    if pairs is not None and synthetic_labels is None:
        label_dirs["synthetic"] = pairs[1]
    labels = {role: _read_labels(label_paths(paths[role], d, role)) if d is not None else None for role, d in label_dirs.items()}
    sets = common_grid(vols, cfg, labels)
    ledger = read_privacy_ledger(run_dir) if run_dir is not None else None
    context = ImageContext(sets=sets, config=cfg, tissue_names=tissue_names or _tissue_names(synthetic))
    # copies are looked for on the synthetic volumes' own grid where they share one (the generator's: a model trained at
    # 8 mm that wrote its training CTs back passed the audit once they were upsampled to the first training file's
    # 3 mm, NCC 0.78); fidelity stays on the training grid (a coarse generator judged on its own grid passed realism)
    own = synthetic_grid(vols) if cfg.images.spacing is None and cfg.images.spatial_size is None else None
    private_sets = common_grid(vols, cfg, labels, on=own) if own is not None else sets
    private_context = context if own is None else ImageContext(
        sets=private_sets, config=cfg, tissue_names=context.tissue_names, notes=context.notes, figures=context.figures)
    results: list[MetricResult] = [_count_check(len(sets["synthetic"]), cfg)]
    flat = flat_volumes(vols)
    if mode == "evaluate" or flat:  # (an audit shows it only when there are some: fidelity is not its job)
        results.append(_flat_check(flat, len(vols["synthetic"])))
    if len(sets["synthetic"]) < cfg.min_samples_for_verdict:
        context.note(f"Only {len(sets['synthetic'])} synthetic volume(s): a verdict needs at least {cfg.min_samples_for_verdict} "
                     "(min_samples_for_verdict); the report cannot pass.")
    for cls in selected(IMAGE_METRICS, cfg.metrics, privacy_only=mode == "audit"):
        on, ctx = (private_sets, private_context) if getattr(cls, "section", "") == "privacy" else (sets, context)
        results.extend(cls().compute(on, on["synthetic"], context=ctx))
    if (unjudged := _realism_check(results, sets, cfg)) is not None:
        at = next((i for i, r in enumerate(results) if r.name == "detection_auc_image"), len(results))
        results.insert(at, unjudged)
    shape = sets["train"].arrays.shape[1:]
    notes = ledger_notes(ledger) + context.notes + [modality_note]
    notes.append(f"{len(sets['train'])} training, {len(sets['holdout'])} holdout and {len(sets['synthetic'])} synthetic "
                 f"{sets['train'].modality} volumes compared on one {shape[0]}x{shape[1]}x{shape[2]} grid"
                 + (f" (copies and membership on the synthetic volumes' own {'x'.join(map(str, private_sets['train'].arrays.shape[1:]))} "
                    "grid)." if own is not None else "."))
    figures = list(context.figures)
    if mode == "evaluate":
        from medsynth.evaluation.image_metrics import slice_figure

        figures.insert(0, slice_figure(sets))
    report = Report(kind="images", mode=mode, results=results, inputs=inputs, config=cfg.model_dump(mode="json"),
                    config_hash=config_hash(cfg), notes=notes, privacy_ledger=ledger, figures={"list": figures})  # type: ignore[dict-item]
    report.seconds = time.perf_counter() - t0
    return report


def _count_check(n: int, cfg: EvaluationConfig) -> MetricResult:
    need = cfg.min_samples_for_verdict
    return judge("synthetic_volume_count", "inputs", float(n), "maximize",
                 f"Synthetic volumes judged: fewer than {need} (min_samples_for_verdict) cannot support a verdict on memorisation "
                 "or realism, so the report is at best 'review'.",
                 threshold=Threshold(review=float(need), fail=1.0), baseline=float(need),
                 note="" if n >= need else f"only {n} synthetic volume(s); generate at least {need}")


def _realism_check(results: list[MetricResult], sets: dict[str, ImageSet], cfg: EvaluationConfig) -> MetricResult | None:
    """A fidelity check that keeps the Fidelity section (and so the report) from passing when realism could not be judged.

    The detector needs ``min(min_samples_for_verdict, 2 x detection_folds)`` volumes per class; below that
    ``detection_auc_image`` is skipped or shown for information. A fidelity section judged only on diversity
    and tissue intensities said PASS for two brain MRs against two samples of a 4-step model, and for four
    volumes of uniform noise (detection AUC 1.0 shown as info); this check sits in that section and says
    which metric was not judged and how many volumes it needs.
    """
    det = next((r for r in results if r.name == "detection_auc_image"), None)
    n = min(len(sets["train"]), len(sets["synthetic"]))
    need = min(cfg.min_samples_for_verdict, 2 * cfg.images.detection_folds)
    if det is None or det.verdict not in ("skipped", "info") or n >= need:
        return None
    return judge("realism_volumes_per_class", "fidelity", float(n), "maximize",
                 f"Volumes per class for the real-vs-synthetic detector (detection_auc_image, the realism judge): below {need} "
                 "realism is not judged, so the Fidelity section and the report are at best 'review'.",
                 threshold=Threshold(review=float(need), fail=0.0), baseline=float(need),
                 note=f"detection_auc_image (realism) not judged: {len(sets['train'])} training and {len(sets['synthetic'])} "
                      f"synthetic volume(s); it needs at least {need} of each (min(min_samples_for_verdict, 2 x "
                      "images.detection_folds))")


def _tissue_names(synthetic: str | Path) -> dict[int, str]:
    """Label names from a pairs dataset's dataset.json ({name: value}), else {}."""
    import json

    f = Path(synthetic) / "dataset.json"
    if not f.is_file():
        return {}
    try:
        labels = json.loads(f.read_text(encoding="utf-8")).get("labels", {})
        return {int(v): str(k) for k, v in labels.items()}
    except (ValueError, AttributeError):
        return {}


__all__ = ["ImageSet", "check_inputs", "common_grid", "evaluate_images", "label_paths", "pair_folders", "volume_paths"]
