"""Training data of the imaging synthesizers: a folder, a CSV, a VolumeDataset or Volumes -> tensors.

Reuses :func:`~medsynth.io.datasets.discover_volumes` and :class:`~medsynth.io.datasets.VolumeDataset`
(read once, preprocessed, cached). For ``spatial_dims: 2`` each volume's axial slices become the
training images. With a folder of label maps (``labels_dir``: one per volume, same file name) or
:class:`~medsynth.imaging.pairs.LabelledVolume` items, each image carries its label map, brought to
the training grid with nearest-neighbour resampling. Volumes with NaN/inf voxels are refused,
each file named.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medsynth.core.errors import DataValidationError, MedsynthError
from medsynth.core.files import fingerprint_array
from medsynth.imaging.config import ImageSynthConfig
from medsynth.io.datasets import VolumeDataset, discover_volumes, grid_problem, modality_problem
from medsynth.io.transforms import VolumePreprocessor
from medsynth.io.volume import Volume


@dataclass
class TrainingData:
    """Preprocessed training images (tensors in [-1, 1]) with class indices and provenance.

    Attributes:
        images: (1, *spatial) tensors (3D volumes, or 2D slices).
        labels: class index of each image (0 when unlabelled).
        label_names: ordered class names ([] for unlabelled data).
        window: intensities mapped to (-1, 1): the CT window, or the median MR window.
        fingerprint: SHA-256 prefix of every preprocessed volume and label, in order.
        n_volumes: number of source volumes.
    """

    images: list[torch.Tensor]
    labels: list[int]
    label_names: list[str]
    window: tuple[float, float]
    fingerprint: str
    n_volumes: int
    label_counts: dict[str, int] = field(default_factory=dict)
    masks: list[torch.Tensor] | None = None
    mask_classes: int = 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        if self.masks is not None:
            return self.images[i], self.labels[i], self.masks[i]
        return self.images[i], self.labels[i]

    def without_masks(self) -> TrainingData:
        """The same images and classes without label maps (for a model that ignores them)."""
        from dataclasses import replace

        return replace(self, masks=None, mask_classes=0)

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Shape of one preprocessed training image."""
        return tuple(int(s) for s in self.images[0].shape)


def _from_volumes(volumes: Sequence[Any], cfg: ImageSynthConfig) -> tuple[list[torch.Tensor], list[str | None], tuple[float, float],
                                                                         list[torch.Tensor] | None]:
    from medsynth.imaging.pairs import LabelledVolume

    pre = VolumePreprocessor(cfg.preprocessing)
    tensors, labels, windows, problems, masks = [], [], [], [], []
    pairs = [isinstance(v, LabelledVolume) for v in volumes]
    if any(pairs) and not all(pairs):
        raise DataValidationError("mix of LabelledVolume and plain Volume items: give every volume its label map, or none")
    for i, vol in enumerate(volumes):
        if isinstance(vol, LabelledVolume):
            try:
                m = pre(vol.label).tensor
            except MedsynthError as exc:
                problems.append(f"label map of item {i}: {exc}")
                continue
            masks.append((m.as_tensor() if hasattr(m, "as_tensor") else m).float().contiguous())
            vol = vol.image
        name = vol.meta.get("source", f"volume {i}") if isinstance(vol, Volume) else f"item {i}"
        if not isinstance(vol, Volume):
            problems.append(f"item {i} is a {type(vol).__name__}, not a Volume")
            continue
        if vol.modality != cfg.modality:
            problems.append(f"'{name}' is {vol.modality}, expected {cfg.modality} (config 'modality')")
            continue
        if (problem := modality_problem(vol, cfg.modality) or grid_problem(vol, cfg.preprocessing, spatial_dims=cfg.spatial_dims)):
            problems.append(f"'{name}' {problem}" if problem.startswith(("has", "spans")) else f"'{name}': {problem}")
            continue
        try:
            prepared = pre(vol)
        except MedsynthError as exc:
            problems.append(f"'{name}': {exc}")
            continue
        t = prepared.tensor
        t = t.as_tensor() if hasattr(t, "as_tensor") else t
        tensors.append(t.float().contiguous())
        labels.append(vol.meta.get("label"))
        windows.append((prepared.low, prepared.high))
    if problems:
        raise DataValidationError(problems, context=f"{len(problems)} of {len(volumes)} volumes cannot be used")
    arr = np.asarray(windows, dtype=float)
    return tensors, labels, (float(np.median(arr[:, 0])), float(np.median(arr[:, 1]))), (masks if all(pairs) and pairs else None)


def check_finite(tensors: Sequence[torch.Tensor], names: Sequence[str]) -> None:
    """Refuse volumes holding NaN/inf voxels, naming each file and its count.

    Raises:
        DataValidationError: one line per file with non-finite voxels.
    """
    problems = []
    for t, name in zip(tensors, names):
        bad = int((~torch.isfinite(t)).sum())
        if bad:
            problems.append(
                f"'{name}' holds non-finite (NaN/inf) voxel values: {bad} of {t.numel()} voxels on the training grid "
                "(after resampling); replace them (e.g. with the background value) or leave the file out"
            )
    if problems:
        raise DataValidationError(problems, context=f"{len(problems)} of {len(tensors)} volumes cannot be used")


def _mask_items(items: Sequence[Any], labels_dir: str | Path) -> list[Any]:
    """The label map of each volume: the file in ``labels_dir`` with the volume's name (any NIfTI/NRRD suffix)."""
    from medsynth.io.datasets import VolumeItem, _key

    folder = Path(labels_dir)
    if not folder.is_dir():
        raise DataValidationError(f"label-map folder '{folder}' does not exist; give a folder with one label map per volume (same file names)")
    found = {_key(it.path): it.path for it in discover_volumes(folder)}
    missing = [it.path.name for it in items if _key(it.path) not in found]
    if missing:
        raise DataValidationError(
            [f"'{m}' has no label map in '{folder}' (expected a file of the same name)" for m in missing[:10]]
            + ([f"... and {len(missing) - 10} more"] if len(missing) > 10 else []),
            context=f"{len(missing)} of {len(items)} volumes",
        )
    pairs = [(it, VolumeItem(found[_key(it.path)])) for it in items]
    _check_mask_grids(pairs)
    return [m for _, m in pairs]


def _check_mask_grids(pairs: Sequence[tuple[Any, Any]], *, atol_mm: float = 0.5) -> None:
    """Each label map must lie on its volume's grid (same shape and affine, from the headers); DICOM is not checked.

    Raises:
        DataValidationError: one line per mismatched pair, naming both files and what differs.
    """
    from medsynth.io.loading import volume_geometry

    problems = []
    for image, mask in pairs:
        try:
            a, b = volume_geometry(image.path), volume_geometry(mask.path)
        except MedsynthError as exc:
            problems.append(str(exc))
            continue
        if a is None or b is None:
            continue
        if a[0] != b[0]:
            problems.append(f"label map '{mask.path}' has shape {b[0]}, its volume '{image.path.name}' {a[0]}: not the same grid")
        elif not np.allclose(a[1], b[1], atol=atol_mm):
            problems.append(f"label map '{mask.path}' and its volume '{image.path.name}' have the same shape but other affines "
                            "(origin, spacing or orientation differ): the labels would be misplaced; resample the label map "
                            "onto the volume's grid")
    if problems:
        raise DataValidationError(problems, context=f"{len(problems)} of {len(pairs)} label maps")


#: The highest label a training label map may hold. Each label becomes a one-hot ControlNet channel at
#: full resolution; TotalSegmentator's 117 classes fit, an intensity image (thousands of values) does not.
MAX_MASK_LABEL = 255


def label_map_problem(values: np.ndarray | torch.Tensor, name: str, *, top: int | None = None) -> str | None:
    """Why ``values`` is not a label map of integer labels ``0..top``, quoting its values; None when it is one.

    Shared by training (``top`` None: at most :data:`MAX_MASK_LABEL`) and by sampling from masks (``top``:
    the model's highest label), so both say the same thing about an image given as a label map.

    Args:
        values: the label map's voxels.
        name: the file (or item) named in the message.
        top: the highest label allowed; None for training label maps.
    """
    a = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    if a.size == 0:
        return None
    finite = np.isfinite(a)
    limit = MAX_MASK_LABEL if top is None else top
    vals = np.unique(a[finite])
    odd = vals[(vals < 0) | (vals > limit) | (vals != np.rint(vals))]
    if finite.all() and odd.size == 0:
        return None
    shown = ", ".join(f"{v:g}" for v in vals[:8]) + (f", ... ({vals.size} values)" if vals.size > 8 else "")
    bad = [f"{v:g}" for v in odd[:5]] + ([] if finite.all() else ["NaN/inf"])
    more = f" and {odd.size - 5} more" if odd.size > 5 else ""
    kinds = [k for k, hit in (("not integer", bool((odd != np.rint(odd)).any())), ("negative", bool((odd < 0).any())),
                              (f"above {limit}", bool((odd > limit).any()))) if hit]
    why = f"{', '.join(bad)}{more} ({', '.join(kinds) or 'not finite'})"
    if top is None:
        expect = f"a label map holds integer labels 0..{MAX_MASK_LABEL} (0 = background)"
        hint = "is it an image or a probability map rather than a label map?"
    else:
        expect = f"the model knows the integer labels 0..{top}"
        hint = "is it an image rather than a label map, or numbered differently from the training label maps?"
    return f"'{name}' holds values {shown}; offending: {why}; {expect}: {hint}"


def _check_masks(masks: Sequence[torch.Tensor], names: Sequence[str]) -> int:
    """Label maps must hold integer labels 0..MAX_MASK_LABEL (:func:`label_map_problem`); returns the number of
    classes (max label + 1).

    Raises:
        DataValidationError: one line per bad map, naming its file and its values; or every map empty.
    """
    problems = [p for m, name in zip(masks, names) if (p := label_map_problem(m, name)) is not None]
    if problems:
        raise DataValidationError(problems, context=f"{len(problems)} of {len(masks)} label maps")
    top = max((int(m.max()) for m in masks), default=0)
    if top == 0:
        raise DataValidationError("every label map is empty (all 0): a mask-conditioned model needs labelled structures")
    _warn_unused_labels(masks, names, top)
    return top + 1


def _warn_unused_labels(masks: Sequence[torch.Tensor], names: Sequence[str], top: int) -> None:
    """A :class:`~medsynth.core.errors.DataWarning` naming the training maps with no foreground on the training grid,
    and one for the labels 1..``top`` that no map holds: maps of only {0, 3} and all 0 trained "with 4-label maps" in
    silence, and ``--new-masks`` then listed label_1 and label_2 in dataset.json."""
    import warnings

    from medsynth.core.errors import DataWarning

    held: set[int] = set()
    for m in masks:
        held |= {int(v) for v in torch.unique(torch.round(m)).tolist()}
    empty = [f"'{name}'" for m, name in zip(masks, names) if float(m.max()) <= 0]
    if empty:
        warnings.warn(DataWarning(
            f"{len(empty)} of {len(masks)} training label maps hold no foreground (all 0) on the training grid: "
            f"{', '.join(empty[:6])}{', ...' if len(empty) > 6 else ''}; they teach the model nothing of the structures: "
            "fix them (an empty export? structures outside the training crop?) or remove them and their volumes"),
            stacklevel=4)
    unused = [k for k in range(1, top + 1) if k not in held]
    if unused:
        warnings.warn(DataWarning(
            f"label(s) {unused} occur in none of the {len(masks)} training label maps (they hold "
            f"{sorted(held)}), yet the model takes labels 0..{top}: it learns nothing for them and new masks will not "
            "hold them; number the labels 0..K without gaps, or check the maps (a crop that lost a structure?)"),
            stacklevel=4)


#: A label map keeping less than this share of its labelled volume (mm3) on the training grid is named in a warning.
LABEL_KEPT_SHARE = 0.5


def labels_kept(source: np.ndarray, source_spacing: Sequence[float], grid: np.ndarray, grid_spacing: Sequence[float], *,
                per_label: bool = False) -> dict[int, float]:
    """The share of a label map's labelled volume (mm3) that the training grid keeps: of every label together (key 0),
    or of each label present (``per_label``); labels absent from ``source`` are left out."""
    import math

    src, on = np.rint(np.asarray(source)), np.rint(np.asarray(grid))
    v_src, v_on = math.prod(source_spacing), math.prod(grid_spacing)
    if not per_label:
        before = float(np.count_nonzero(src > 0)) * v_src
        return {0: float(np.count_nonzero(on > 0)) * v_on / before} if before > 0 else {}
    return {int(k): float(np.count_nonzero(on == k)) * v_on / (float(np.count_nonzero(src == k)) * v_src)
            for k in np.unique(src[src > 0])}


def warn_lost_labels(lost: Sequence[str], of: str, cfg: ImageSynthConfig) -> None:
    """A :class:`~medsynth.core.errors.DataWarning` naming what keeps less than ``LABEL_KEPT_SHARE`` of its labelled
    volume on the training grid (``lost``: "'name' keeps 12%" or "'name' label 5 keeps 0%"; ``of``: out of what)."""
    import warnings

    from medsynth.core.errors import DataWarning

    if lost:
        warnings.warn(DataWarning(
            f"{len(lost)} {of} lose most of their labelled volume on the training grid (spacing "
            f"{cfg.preprocessing.spacing}, size {cfg.preprocessing.spatial_size}): {', '.join(lost[:6])}"
            f"{', ...' if len(lost) > 6 else ''}; their structures lie outside the centred crop or are finer than the "
            "spacing: enlarge preprocessing.spatial_size, refine the spacing, or crop the volumes around the structures"),
            stacklevel=4)


def _warn_lost_labels(items: Sequence[Any], masks: Sequence[torch.Tensor], names: Sequence[str], cfg: ImageSynthConfig) -> None:
    """:func:`warn_lost_labels` for the training label maps that keep less than ``LABEL_KEPT_SHARE`` of their labelled
    volume once resampled and cropped to the training grid: a brain tumour outside the centred crop left its map all
    background, silently, and the model learned a 'tumour' image with no tumour."""
    from medsynth.io.loading import load_volume

    lost = []
    for it, m, name in zip(items, masks, names):
        raw = load_volume(it.path, modality="SEG")
        kept = labels_kept(raw.array, raw.spacing, m.numpy(), cfg.preprocessing.spacing or raw.spacing).get(0)
        if kept is not None and kept < LABEL_KEPT_SHARE:
            lost.append(f"'{name}' keeps {kept:.0%}")
    warn_lost_labels(lost, f"of {len(masks)} label maps", cfg)


def load_training_data(data: Any, cfg: ImageSynthConfig, *, labels_csv: str | Path | None = None,
                       labels_dir: str | Path | None = None) -> TrainingData:
    """Turn ``data`` into :class:`TrainingData`.

    Args:
        data: a folder of NIfTI files / DICOM series (mixed), a CSV with ``path`` (and ``label``)
            columns, a :class:`~medsynth.io.datasets.VolumeDataset`, or a sequence of Volumes (labels
            from ``volume.meta["label"]``).
        cfg: the synthesizer config (modality, preprocessing, data section).
        labels_csv: overrides ``cfg.data.labels_csv``.
        labels_dir: a folder with one label map per volume (same file name), for mask-conditioned
            models; with a list of :class:`~medsynth.imaging.pairs.LabelledVolume` the maps come with it.

    Raises:
        DataValidationError: no volumes, unreadable or mismatched volumes (each file named), NaN/inf
            voxels (each file named, with the count), some volumes labelled and others not, labels
            outside ``data.label_names``, missing or non-integer label maps.
    """
    if isinstance(data, TrainingData):
        return data
    labels_csv = labels_csv if labels_csv is not None else cfg.data.labels_csv
    masks: list[torch.Tensor] | None = None
    mask_names: list[str] | None = None
    if isinstance(data, (str, Path)):
        items = discover_volumes(data, labels_csv=labels_csv)
        mask_items = _mask_items(items, labels_dir) if labels_dir is not None else None
        ds = VolumeDataset(
            items, VolumePreprocessor(cfg.preprocessing), modality=cfg.modality,
            cache_dir=cfg.data.cache_dir, label_names=cfg.data.label_names, spatial_dims=cfg.spatial_dims,
        )
        if mask_items is not None:
            masks = list(VolumeDataset(mask_items, VolumePreprocessor(cfg.preprocessing), modality="SEG").tensors)
            mask_names = [Path(it.path).name for it in mask_items]
            _warn_lost_labels(mask_items, masks, mask_names, cfg)
        data = ds
    elif labels_dir is not None:
        raise DataValidationError("labels_dir needs a folder (or CSV) data source; for in-memory data pass LabelledVolume items")
    if isinstance(data, VolumeDataset):
        tensors = list(data.tensors)
        raw_labels: list[str | None] = [it.label for it in data.items]
        names = [str(it.path) for it in data.items]
        window = cfg.preprocessing.ct_window if cfg.modality == "CT" else data.median_window
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        if len(data) == 0:
            raise DataValidationError("no volumes given; pass a folder, a CSV of paths or a list of Volumes")
        tensors, raw_labels, window, masks = _from_volumes(data, cfg)
        names = [str(getattr(getattr(v, "image", v), "meta", {}).get("source", f"volume {i}")) for i, v in enumerate(data)]
        if cfg.modality == "CT":
            window = cfg.preprocessing.ct_window
    else:
        raise DataValidationError(
            f"cannot train on a {type(data).__name__}; pass a folder, a CSV of paths, a VolumeDataset or a list of Volumes"
        )
    if not tensors:
        raise DataValidationError("no usable volume in the data source")
    check_finite(tensors, names)
    mask_classes = _check_masks(masks, mask_names or [f"label map of '{n}'" for n in names]) if masks is not None else 0

    labelled = [lab for lab in raw_labels if lab is not None]
    class_names: list[str] = list(cfg.data.label_names) if cfg.data.label_names is not None else sorted(set(labelled))
    if labelled and len(labelled) != len(raw_labels):
        missing = [i for i, lab in enumerate(raw_labels) if lab is None]
        raise DataValidationError(
            f"{len(missing)} of {len(raw_labels)} volumes have no label (e.g. volume {missing[0]}); label every "
            "volume in the labels CSV, or train without labels (data.conditional: false)"
        )
    unknown = sorted(set(labelled) - set(class_names))
    if unknown:
        raise DataValidationError(f"labels {unknown} are not among data.label_names {class_names}; add them or fix the CSV")
    if not cfg.data.conditional:
        class_names, raw_labels = [], [None] * len(raw_labels)
    labels = [class_names.index(lab) if lab is not None else 0 for lab in raw_labels]

    h = hashlib.sha256()
    for i, (t, lab) in enumerate(zip(tensors, raw_labels)):
        h.update(fingerprint_array(t.numpy()).encode())
        h.update(str(lab).encode())
        if masks is not None:
            h.update(fingerprint_array(masks[i].numpy()).encode())
    counts = dict(sorted(Counter(lab for lab in raw_labels if lab is not None).items()))

    images, image_labels, image_masks = tensors, labels, masks
    if cfg.spatial_dims == 2:
        images, image_labels, image_masks = [], [], ([] if masks is not None else None)
        for i, (t, lab) in enumerate(zip(tensors, labels)):
            for k in range(t.shape[-1]):
                sl = t[..., k].contiguous()
                if cfg.data.skip_empty_slices and float(sl.max()) <= -0.99:
                    continue
                images.append(sl)
                image_labels.append(lab)
                if image_masks is not None and masks is not None:
                    image_masks.append(masks[i][..., k].contiguous())
        if not images:
            raise DataValidationError("every axial slice is empty background; check the intensity window")
    return TrainingData(
        images=images, labels=image_labels, label_names=class_names, window=(float(window[0]), float(window[1])),
        fingerprint=h.hexdigest()[:16], n_volumes=len(tensors), label_counts=counts, masks=image_masks,
        mask_classes=mask_classes,
    )


__all__ = ["MAX_MASK_LABEL", "TrainingData", "check_finite", "label_map_problem", "load_training_data"]
