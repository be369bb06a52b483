"""Evaluate or audit synthetic volumes against real training and holdout volumes.

Every volume is read with :func:`medsynth.io.load_volume` (NIfTI files, or DICOM series in
sub-folders) and brought to one grid with :class:`medsynth.io.transforms.VolumePreprocessor`:
RAS orientation, the common spacing and shape (by default the first training volume's), and
intensities in [-1, 1] (CT: the fixed HU window [-1024, 3000]; MR: each volume's 0.5-99.5th
percentiles). Volumes already on one grid are not resampled. With ``images.grid: refuse`` differing
grids are an error instead. No registration is done beyond this common grid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from medsynth.core.config import config_hash
from medsynth.core.errors import DataValidationError
from medsynth.evaluation.config import EvaluationConfig
from medsynth.evaluation.registry import IMAGE_METRICS, selected
from medsynth.evaluation.report import Report, fingerprint_input, ledger_notes, read_privacy_ledger
from medsynth.evaluation.results import MetricResult
from medsynth.io.volume import Modality, Volume


@dataclass
class ImageSet:
    """Volumes of one role on the common grid.

    Attributes:
        role: "train", "holdout" or "synthetic".
        names: file or folder names, in order.
        arrays: (n, i, j, k) float32 in [-1, 1].
        modality: shared modality.
        window: (low, high) intensities mapped to (-1, 1) for CT (None for MR: per volume).
    """

    role: str
    names: list[str]
    arrays: np.ndarray
    modality: Modality
    window: tuple[float, float] | None

    def __len__(self) -> int:
        return len(self.names)

    def to_units(self, x: np.ndarray) -> np.ndarray:
        """[-1, 1] values back to HU for CT (unchanged for MR)."""
        if self.window is None:
            return x
        lo, hi = self.window
        return (x + 1.0) / 2.0 * (hi - lo) + lo


def volume_paths(folder: str | Path, role: str) -> list[Path]:
    """NIfTI files and DICOM series sub-folders of ``folder``, sorted by name."""
    p = Path(folder)
    if not p.is_dir():
        raise DataValidationError(f"{role} folder '{p}' does not exist or is not a folder; give a folder of NIfTI files or DICOM series")
    items = sorted(x for x in p.iterdir() if (x.is_file() and x.name.lower().endswith((".nii", ".nii.gz"))) or (x.is_dir() and any(x.iterdir())))
    if not items:
        raise DataValidationError(f"{role} folder '{p}' holds no volumes (.nii/.nii.gz files or DICOM series folders)")
    return items


def _read(paths: list[Path], modality: Modality | None) -> list[Volume]:
    from medsynth.io.loading import load_volume

    vols = [load_volume(p) for p in paths]
    for v, p in zip(vols, paths):
        v.meta["name"] = p.name
        if v.array.ndim != 3:
            raise DataValidationError(f"'{p}' has shape {v.array.shape}; image evaluation needs single-channel 3D volumes")
    if modality is not None:
        for v in vols:
            v.modality = modality
    return vols


def common_grid(sets: dict[str, list[Volume]], config: EvaluationConfig) -> dict[str, ImageSet]:
    """Bring every volume to one grid and to [-1, 1] (see the module docstring).

    Raises:
        DataValidationError: differing grids with ``grid="refuse"``, listing each odd volume.
    """
    from medsynth.io.transforms import PreprocessConfig, VolumePreprocessor

    cfg = config.images
    ref = sets["train"][0]
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
    modality = ref.modality
    out = {}
    for role, vols in sets.items():
        arrays = [np.asarray(pre(v).tensor[0], dtype=np.float32) for v in vols]
        window = pre.config.ct_window if modality == "CT" else None
        out[role] = ImageSet(role, [v.meta["name"] for v in vols], np.stack(arrays), modality, window)
    return out


def evaluate_images(
    train: str | Path,
    holdout: str | Path,
    synthetic: str | Path,
    *,
    config: EvaluationConfig | None = None,
    modality: Modality | None = None,
    run_dir: str | Path | None = None,
    mode: Literal["evaluate", "audit"] = "evaluate",
) -> Report:
    """Judge synthetic volumes: intensity and feature distances, diversity, memorisation.

    Args:
        train: folder of real training volumes (NIfTI files or DICOM series folders).
        holdout: folder of real volumes the generator never saw.
        synthetic: folder of synthetic volumes.
        config: thresholds and settings (``images.weights`` for local feature-network weights).
        modality: force "CT" or "MR" for every volume (default: the first training volume's).
        run_dir: the producer's run directory (its privacy ledger is shown).
        mode: "evaluate" or "audit" (memorisation / membership only).

    Raises:
        DataValidationError: a missing or empty folder, unreadable volumes, differing grids
            with ``grid="refuse"``.
    """
    t0 = time.perf_counter()
    cfg = config or EvaluationConfig()
    paths = {role: volume_paths(folder, role) for role, folder in (("train", train), ("holdout", holdout), ("synthetic", synthetic))}
    vols = {role: _read(p, modality) for role, p in paths.items()}
    sets = common_grid(vols, cfg)
    inputs = [{"role": role, "path": str(folder), "sha256": fingerprint_input(folder), "volumes": len(paths[role])}
              for role, folder in (("train", train), ("holdout", holdout), ("synthetic", synthetic))]
    ledger = read_privacy_ledger(run_dir) if run_dir is not None else None
    results: list[MetricResult] = []
    report = Report(kind="images", mode=mode, results=results, inputs=inputs, config=cfg.model_dump(mode="json"),
                    config_hash=config_hash(cfg), notes=ledger_notes(ledger), privacy_ledger=ledger)
    report.figures["list"] = []
    for cls in selected(IMAGE_METRICS, cfg.metrics, privacy_only=mode == "audit"):
        results.extend(cls().compute(sets, sets["synthetic"], context=report))
    shape = sets["train"].arrays.shape[1:]
    report.notes.append(f"{len(sets['train'])} training, {len(sets['holdout'])} holdout and {len(sets['synthetic'])} synthetic "
                        f"{sets['train'].modality} volumes compared on one {shape[0]}x{shape[1]}x{shape[2]} grid.")
    if mode == "evaluate":
        from medsynth.evaluation.image_metrics import slice_figure

        report.figures["list"].insert(0, slice_figure(sets))
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["ImageSet", "common_grid", "evaluate_images", "volume_paths"]
