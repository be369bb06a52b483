"""Training data of the imaging synthesizers: a folder, a CSV, a VolumeDataset or Volumes -> tensors.

Reuses :func:`~medsynth.io.datasets.discover_volumes` and :class:`~medsynth.io.datasets.VolumeDataset`
(read once, preprocessed, cached). For ``spatial_dims: 2`` each volume's axial slices become the
training images.
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
from medsynth.io.datasets import VolumeDataset, discover_volumes
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

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.images[i], self.labels[i]

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Shape of one preprocessed training image."""
        return tuple(int(s) for s in self.images[0].shape)


def _from_volumes(volumes: Sequence[Volume], cfg: ImageSynthConfig) -> tuple[list[torch.Tensor], list[str | None], tuple[float, float]]:
    pre = VolumePreprocessor(cfg.preprocessing)
    tensors, labels, windows, problems = [], [], [], []
    for i, vol in enumerate(volumes):
        name = vol.meta.get("source", f"volume {i}")
        if not isinstance(vol, Volume):
            problems.append(f"item {i} is a {type(vol).__name__}, not a Volume")
            continue
        if vol.modality != cfg.modality:
            problems.append(f"'{name}' is {vol.modality}, expected {cfg.modality} (config 'modality')")
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
    return tensors, labels, (float(np.median(arr[:, 0])), float(np.median(arr[:, 1])))


def load_training_data(data: Any, cfg: ImageSynthConfig, *, labels_csv: str | Path | None = None) -> TrainingData:
    """Turn ``data`` into :class:`TrainingData`.

    Args:
        data: a folder of NIfTI files / DICOM series (mixed), a CSV with ``path`` (and ``label``)
            columns, a :class:`~medsynth.io.datasets.VolumeDataset`, or a sequence of Volumes (labels
            from ``volume.meta["label"]``).
        cfg: the synthesizer config (modality, preprocessing, data section).
        labels_csv: overrides ``cfg.data.labels_csv``.

    Raises:
        DataValidationError: no volumes, unreadable or mismatched volumes (each file named), some
            volumes labelled and others not, or labels outside ``data.label_names``.
    """
    if isinstance(data, TrainingData):
        return data
    labels_csv = labels_csv if labels_csv is not None else cfg.data.labels_csv
    if isinstance(data, (str, Path)):
        items = discover_volumes(data, labels_csv=labels_csv)
        ds = VolumeDataset(
            items, VolumePreprocessor(cfg.preprocessing), modality=cfg.modality,
            cache_dir=cfg.data.cache_dir, label_names=cfg.data.label_names,
        )
        data = ds
    if isinstance(data, VolumeDataset):
        tensors = list(data.tensors)
        raw_labels: list[str | None] = [it.label for it in data.items]
        window = cfg.preprocessing.ct_window if cfg.modality == "CT" else data.median_window
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        if len(data) == 0:
            raise DataValidationError("no volumes given; pass a folder, a CSV of paths or a list of Volumes")
        tensors, raw_labels, window = _from_volumes(data, cfg)
        if cfg.modality == "CT":
            window = cfg.preprocessing.ct_window
    else:
        raise DataValidationError(
            f"cannot train on a {type(data).__name__}; pass a folder, a CSV of paths, a VolumeDataset or a list of Volumes"
        )
    if not tensors:
        raise DataValidationError("no usable volume in the data source")

    labelled = [lab for lab in raw_labels if lab is not None]
    names: list[str] = list(cfg.data.label_names) if cfg.data.label_names is not None else sorted(set(labelled))
    if labelled and len(labelled) != len(raw_labels):
        missing = [i for i, lab in enumerate(raw_labels) if lab is None]
        raise DataValidationError(
            f"{len(missing)} of {len(raw_labels)} volumes have no label (e.g. volume {missing[0]}); label every "
            "volume in the labels CSV, or train without labels (data.conditional: false)"
        )
    unknown = sorted(set(labelled) - set(names))
    if unknown:
        raise DataValidationError(f"labels {unknown} are not among data.label_names {names}; add them or fix the CSV")
    if not cfg.data.conditional:
        names, raw_labels = [], [None] * len(raw_labels)
    labels = [names.index(lab) if lab is not None else 0 for lab in raw_labels]

    h = hashlib.sha256()
    for t, lab in zip(tensors, raw_labels):
        h.update(fingerprint_array(t.numpy()).encode())
        h.update(str(lab).encode())
    counts = dict(sorted(Counter(lab for lab in raw_labels if lab is not None).items()))

    images, image_labels = tensors, labels
    if cfg.spatial_dims == 2:
        images, image_labels = [], []
        for t, lab in zip(tensors, labels):
            for k in range(t.shape[-1]):
                sl = t[..., k].contiguous()
                if cfg.data.skip_empty_slices and float(sl.max()) <= -0.99:
                    continue
                images.append(sl)
                image_labels.append(lab)
        if not images:
            raise DataValidationError("every axial slice is empty background; check the intensity window")
    return TrainingData(
        images=images, labels=image_labels, label_names=names, window=(float(window[0]), float(window[1])),
        fingerprint=h.hexdigest()[:16], n_volumes=len(tensors), label_counts=counts,
    )


__all__ = ["TrainingData", "load_training_data"]
