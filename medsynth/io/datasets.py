"""Datasets of volumes for training: discovery (folder or CSV), preprocessing, caching.

A data source is a folder (NIfTI files and/or DICOM series folders, found recursively and mixed) or
a CSV with a ``path`` column and optional ``label`` column. Every volume is read once, preprocessed
with :class:`~medsynth.io.transforms.VolumePreprocessor` and kept in memory (and, with
``cache_dir``, on disk as ``.pt`` tensors keyed by the file's fingerprint), so an epoch never
re-reads DICOM. Unreadable or mismatched volumes raise one DataValidationError naming each file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from medsynth.core.errors import DataValidationError, MedsynthError
from medsynth.io.dicom import is_dicom_file
from medsynth.io.loading import load_volume
from medsynth.io.nifti import is_nifti
from medsynth.io.nrrd import is_nrrd
from medsynth.io.transforms import PreprocessConfig, VolumePreprocessor
from medsynth.io.volume import Modality, Volume

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class VolumeItem:
    """One entry of a data source: where the volume is and its optional class label."""

    path: Path
    label: str | None = None


def discover_volumes(source: str | Path, *, labels_csv: str | Path | None = None) -> list[VolumeItem]:
    """List the volumes in a folder (NIfTI files and DICOM series folders) or a CSV of paths.

    Args:
        source: a folder, or a CSV with a ``path`` column (relative paths are relative to the CSV)
            and an optional ``label`` column.
        labels_csv: a CSV mapping file names to labels (columns ``file`` or ``path``, and ``label``)
            for a folder source.

    Raises:
        DataValidationError: the source does not exist, holds no volume, or the CSV is malformed.
    """
    src = Path(source)
    if not src.exists():
        raise DataValidationError(f"data source '{src}' does not exist; give a folder of NIfTI/DICOM or a CSV of paths")
    items: list[VolumeItem] = []
    if src.is_file() and src.suffix.lower() == ".csv":
        with open(src, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "path" not in reader.fieldnames:
                raise DataValidationError(f"CSV '{src}' needs a 'path' column (found {reader.fieldnames})")
            for row in reader:
                p = Path(row["path"])
                items.append(VolumeItem(p if p.is_absolute() else src.parent / p, row.get("label") or None))
    elif src.is_dir():
        dicom_dirs: set[Path] = set()
        for f in sorted(_walk(src)):
            if not f.is_file() or f.name.startswith("."):
                continue
            if is_nifti(f) or is_nrrd(f):
                items.append(VolumeItem(f))
            elif is_dicom_file(f):  # by content: 'CT.1.3.12.2...' slices have a digits "suffix"
                dicom_dirs.add(f.parent)
        items.extend(VolumeItem(d) for d in sorted(dicom_dirs))
        items.sort(key=lambda it: str(it.path))
    elif src.is_file():
        items.append(VolumeItem(src))
    if not items:
        raise DataValidationError(f"no NIfTI file or DICOM series found in '{src}'")
    if labels_csv is not None:
        mapping = _read_labels(Path(labels_csv))
        missing = [it.path.name for it in items if _key(it.path) not in mapping]
        if missing:
            raise DataValidationError(
                [f"'{m}' has no label in {labels_csv}" for m in missing[:10]]
                + ([f"... and {len(missing) - 10} more"] if len(missing) > 10 else [])
            )
        items = [VolumeItem(it.path, mapping[_key(it.path)]) for it in items]
    return items


def _walk(root: Path) -> list[Path]:
    """Every file under ``root``, following linked folders (``rglob`` does not: a DICOM series linked into a training
    folder was skipped without a word), each real folder once."""
    out, seen = [], set()
    for here, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(here)
        if real in seen:  # a link back up the tree
            dirs[:] = []
            continue
        seen.add(real)
        out.extend(Path(here) / f for f in files)
    return out


def _key(path: Path) -> str:
    from medsynth.io.loading import volume_stem

    return volume_stem(path)


def _read_labels(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise DataValidationError(f"labels CSV '{path}' does not exist")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        key = "file" if "file" in cols else "path" if "path" in cols else None
        if key is None or "label" not in cols:
            raise DataValidationError(f"labels CSV '{path}' needs columns 'file' (or 'path') and 'label'; found {cols}")
        return {_key(Path(row[key])): str(row["label"]) for row in reader}


#: A training volume must span at least this share of the training grid along every axis (else it is padding).
MIN_GRID_COVERAGE = 0.1


#: CT in HU holds air (at or below -500) in at least this share of its voxels ...
CT_AIR_SHARE = 0.01
#: ... or, cropped to the body, fat (at or below -50) in at least this share.
CT_FAT_SHARE = 0.05


def modality_problem(volume: Volume, expected: str) -> str | None:
    """Why the values of ``volume`` cannot be the ``expected`` modality ("CT" in HU, or "MR"); None when they can.

    NIfTI and NRRD do not record the modality, so a file is read as the config's. CT in HU always holds fat,
    water or air below 0; MR magnitude data has (almost) nothing at or below -500 HU-like values.
    """
    a = np.asarray(volume.array, dtype=np.float32)
    finite = a[np.isfinite(a)]
    if not finite.size or expected not in ("CT", "MR"):
        return None
    lo, hi = float(finite.min()), float(finite.max())
    air = float((finite <= -500).mean())
    if expected == "CT" and air < CT_AIR_SHARE and float((finite <= -50).mean()) < CT_FAT_SHARE:
        # (a few slightly negative voxels are MR's interpolation ringing: a real MR at -47..833 trained as CT)
        return (
            f"values {lo:g}..{hi:g} hold no air (-1000) and no fat (about -100) to speak of ({100 * air:.1f}% of voxels "
            f"at or below -500), so they are not CT in Hounsfield units: is it MR (use an MR config, modality: MR), or CT "
            "stored without its RescaleSlope/Intercept (rescale it to HU)?"
        )
    if expected == "MR" and air >= 0.01:
        return (
            f"values {lo:g}..{hi:g} with {100 * air:.0f}% of voxels at or below -500 look like CT in HU, not MR: "
            "use a CT config (modality: CT) for CT volumes"
        )
    return None


def grid_coverage(volume: Volume, config: PreprocessConfig) -> tuple[float, float, float] | None:
    """The share of the training grid (``spatial_size`` at ``spacing``) that ``volume`` spans along each output axis.

    Axes follow ``config.orientation`` (nibabel's io_orientation maps the input axes onto them). None when the
    config keeps every volume's own shape.
    """
    import nibabel as nib

    if config.spatial_size is None:
        return None
    shape = np.asarray(volume.spatial_shape, dtype=float)
    spacing = np.asarray(volume.spacing, dtype=float)
    order = np.arange(3)
    if config.orientation:
        order = nib.orientations.io_orientation(volume.affine)[:, 0].astype(int)  # output axis of each input axis
    span = np.zeros(3)
    for i in range(3):
        target = config.spacing[order[i]] if config.spacing else spacing[i]
        span[order[i]] = shape[i] * spacing[i] / target
    return tuple(float(min(1.0, v / n)) for v, n in zip(span, config.spatial_size))  # type: ignore[return-value]


def grid_problem(volume: Volume, config: PreprocessConfig, *, spatial_dims: int = 3) -> str | None:
    """Why ``volume`` is too small for the training grid (a single slice for a 3D model, or mostly padding); or None."""
    shape = volume.spatial_shape
    axes = 3 if spatial_dims == 3 else 2
    if spatial_dims == 3 and min(shape) == 1:
        return (f"has shape {shape}: a single 2D slice, not a volume; a 3D model would learn a {config.spatial_size} "
                "cube of padding around it: give 3D volumes (or leave this file out)")
    cover = grid_coverage(volume, config)
    if cover is None:
        return None
    small = [i for i in range(axes) if cover[i] < MIN_GRID_COVERAGE]
    if small:
        extent = ", ".join(f"{s * d:.0f}" for s, d in zip(shape, volume.spacing))
        grid = ", ".join(f"{n * d:g}" for n, d in zip(config.spatial_size or (), config.spacing or volume.spacing))
        return (
            f"spans only {', '.join(f'{100 * cover[i]:.0f}%' for i in small)} of the training grid along axis "
            f"{', '.join(str(i) for i in small)} ({extent} mm of a {grid} mm grid: the rest would be padding); "
            "leave it out, or train on a finer grid (preprocessing.spacing / spatial_size)"
        )
    return None


#: A CT voxel above this many HU is body (soft tissue, bone; not air or lung) for the crop warning ...
BODY_HU = -500.0
#: ... which names volumes whose prepared tensor keeps less than this share of their body's physical volume.
BODY_KEPT_SHARE = 0.85
#: A CT volume whose body holds at least this share of voxels above the HU window's top (dense bone, contrast, metal:
#: clipped to it in training, never generated) is named in a warning.
ABOVE_WINDOW_SHARE = 0.001


class VolumeDataset:
    """Preprocessed volumes as tensors (C, i, j, k) in [-1, 1], read once and cached.

    Args:
        items: from :func:`discover_volumes`.
        preprocessor: brings every volume to one grid; its config must fix ``spatial_size``.
        modality: expected modality ("CT" or "MR"); NIfTI volumes are read as this modality.
        cache_dir: optional folder for an on-disk tensor cache (reused across runs).
        label_names: the ordered class names (default: sorted labels found); items without a label
            get class 0.

    Raises:
        DataValidationError: listing every file that cannot be read or has a wrong modality.
    """

    def __init__(
        self,
        items: Sequence[VolumeItem],
        preprocessor: VolumePreprocessor,
        *,
        modality: Modality,
        cache_dir: str | Path | None = None,
        label_names: Sequence[str] | None = None,
        spatial_dims: int = 3,
    ) -> None:

        if preprocessor.config.spatial_size is None:
            raise DataValidationError("preprocessing.spatial_size must be set so every volume has the same shape")
        self.items = list(items)
        self.preprocessor = preprocessor
        self.modality = modality
        self.spatial_dims = spatial_dims
        found = sorted({it.label for it in self.items if it.label is not None})
        self.label_names: list[str] = list(label_names) if label_names is not None else found
        unknown = sorted(set(found) - set(self.label_names))
        if unknown:
            raise DataValidationError(f"labels {unknown} are not among the configured classes {self.label_names}")
        self.tensors: list[torch.Tensor] = []
        self.windows: list[tuple[float, float]] = []
        self.body_kept: dict[str, float] = {}  # CT volumes whose body the crop cuts: name -> share of it kept
        self.above_window: dict[str, tuple[float, float]] = {}  # CT volumes the window clips: name -> (share, max HU)
        problems: list[str] = []
        cache = Path(cache_dir) if cache_dir is not None else None
        for it in self.items:
            try:
                t, win = self._load(it, cache)
            except MedsynthError as exc:
                msg = str(exc)  # a message that starts by naming the file is not prefixed with it twice
                problems.append(msg if msg.startswith(f"'{it.path}'") else f"'{it.path}': {msg}")
                continue
            self.tensors.append(t)
            self.windows.append(win)
        if problems:
            raise DataValidationError(problems, context=f"{len(problems)} of {len(self.items)} volumes cannot be used")
        if self.body_kept:  # (the shipped 64^3 at 4 mm kept 62% of a real abdomen, and training said nothing)
            import warnings

            from medsynth.core.errors import DataWarning

            cut = [f"'{name}' keeps {share:.0%}" for name, share in self.body_kept.items()]
            cfg = preprocessor.config
            warnings.warn(DataWarning(
                f"{len(cut)} of {len(self.items)} CT volumes lose part of the body (voxels above {BODY_HU:g} HU) to the "
                f"training grid's centred crop (spacing {cfg.spacing}, size {cfg.spatial_size}): {', '.join(cut[:6])}"
                f"{', ...' if len(cut) > 6 else ''}; the model never sees what is cut: enlarge preprocessing.spatial_size "
                "or coarsen the spacing, or crop the volumes around the anatomy first"), stacklevel=3)
        if self.above_window:  # (a real abdomen's 3,382 HU cut at the configs' 2,048, and training said nothing)
            import warnings

            from medsynth.core.errors import DataWarning

            top = preprocessor.config.ct_window[1]
            over = [f"'{name}' {share:.2%} (up to {hu:.0f} HU)" for name, (share, hu) in self.above_window.items()]
            warnings.warn(DataWarning(
                f"{len(over)} of {len(self.items)} CT volumes hold body voxels above the HU window's top ({top:g} HU), "
                f"clipped to it in training and never generated: {', '.join(over[:6])}{', ...' if len(over) > 6 else ''}; "
                "raise preprocessing.ct_window's top (e.g. 3071) to keep dense bone, contrast and metal"), stacklevel=3)

    def _body_kept(self, vol: Volume, tensor: torch.Tensor, low: float, high: float) -> float | None:
        """The share of a CT volume's body (voxels above ``BODY_HU``, by physical volume) that the prepared tensor keeps,
        or None when it keeps ``BODY_KEPT_SHARE`` or more (or the volume is not CT)."""
        import math

        if self.modality != "CT" or vol.array.ndim != 3:
            return None
        before = float(np.count_nonzero(np.asarray(vol.array) > BODY_HU)) * math.prod(vol.spacing)
        thr = (BODY_HU - low) / (high - low) * 2.0 - 1.0
        spacing = self.preprocessor.config.spacing or vol.spacing
        after = float((tensor > thr).sum()) * math.prod(spacing)
        return after / before if before > 0 and after < BODY_KEPT_SHARE * before else None

    def _load(self, item: VolumeItem, cache: Path | None) -> tuple[torch.Tensor, tuple[float, float]]:
        import hashlib

        import torch

        key = None
        if cache is not None:
            st = item.path.stat()
            raw = f"{item.path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self.preprocessor.config.model_dump_json()}"
            key = cache / (hashlib.sha256(raw.encode()).hexdigest()[:24] + ".pt")
            if key.is_file():
                blob = torch.load(key, map_location="cpu", weights_only=True)
                return blob["tensor"], (float(blob["low"]), float(blob["high"]))
        file_without_modality = is_nifti(item.path) or is_nrrd(item.path)
        vol = load_volume(item.path, modality=self.modality if file_without_modality else None)
        if vol.modality != self.modality:
            raise DataValidationError(f"is {vol.modality}, expected {self.modality}")
        if self.modality != "SEG":
            if vol.array.ndim == 4 and vol.array.shape[0] > 1:
                raise DataValidationError(
                    f"is 4D: {vol.array.shape[0]} frames (or channels) of {vol.spatial_shape} voxels; give one 3D volume "
                    "per file (medsynth convert FILE OUT.nii.gz --frame I writes one frame)"
                )
            problem = modality_problem(vol, self.modality) or grid_problem(vol, self.preprocessor.config, spatial_dims=self.spatial_dims)
            if problem is not None:
                raise DataValidationError(problem)
        prepared = self.preprocessor(vol)
        tensor = prepared.tensor.as_tensor().float().contiguous() if hasattr(prepared.tensor, "as_tensor") else prepared.tensor
        if tensor.shape[0] != 1:
            raise DataValidationError(f"has {tensor.shape[0]} channels; one is expected")
        kept = self._body_kept(vol, tensor, prepared.low, prepared.high)
        if kept is not None:
            self.body_kept[item.path.name] = kept
        if self.modality == "CT":
            arr = np.asarray(vol.array)
            body, over = int(np.count_nonzero(arr > BODY_HU)), arr > prepared.high
            if body and np.count_nonzero(over) >= ABOVE_WINDOW_SHARE * body:
                self.above_window[item.path.name] = (float(np.count_nonzero(over)) / body, float(arr[over].max()))
        if key is not None:
            from medsynth.core.files import atomic_path

            key.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(key) as tmp:
                torch.save({"tensor": tensor, "low": prepared.low, "high": prepared.high}, tmp)
        return tensor, (prepared.low, prepared.high)

    def __len__(self) -> int:
        return len(self.tensors)

    def label_index(self, i: int) -> int:
        """Class index of item ``i`` (0 when unlabelled)."""
        lab = self.items[i].label
        return self.label_names.index(lab) if lab is not None and self.label_names else 0

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.tensors[i], self.label_index(i)

    @property
    def median_window(self) -> tuple[float, float]:
        """The median (low, high) intensity window: how MR samples are mapped back to intensities."""
        arr = np.asarray(self.windows, dtype=float)
        return float(np.median(arr[:, 0])), float(np.median(arr[:, 1]))


__all__ = ["MIN_GRID_COVERAGE", "VolumeDataset", "VolumeItem", "discover_volumes", "grid_coverage", "grid_problem",
           "modality_problem"]
