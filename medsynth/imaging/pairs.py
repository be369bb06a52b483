"""Image + label-map pairs: the sample type of mask-conditioned synthesis, and how pairs are written.

A :class:`LabelledVolume` holds an image (CT in HU or MR) and its label map (``modality="SEG"``,
non-negative integer labels) on one grid. :func:`write_pairs` writes a segmentation dataset that
MONAI and nnU-Net read directly::

    OUT/
      image/case_00000_0000.nii.gz    the image (nnU-Net's channel suffix _0000)
      label/case_00000.nii.gz         its label map (uint8/int16, same grid)
      dataset.json                    MONAI datalist ("training": [{"image", "label"}]) and the
                                      nnU-Net v2 keys (channel_names, labels, numTraining, file_ending);
                                      "absent_labels": labels that no written map holds
      manifest.csv                    file, label, seed, source mask, modality, shape, spacing

For nnU-Net v2, use ``image/`` as ``imagesTr`` and ``label/`` as ``labelsTr`` (rename or symlink).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsynth.core.errors import DataValidationError
from medsynth.core.files import atomic_dir
from medsynth.io.nifti import write_nifti
from medsynth.io.volume import Volume

PAIR_COLUMNS = ("image", "label", "seed", "mask_source", "modality", "shape", "spacing_mm")


@dataclass
class LabelledVolume:
    """An image and its label map on the same grid.

    Attributes:
        image: the image (CT/MR Volume).
        label: the label map (a SEG Volume of non-negative integers; 0 = background).

    Raises:
        DataValidationError: the label map is not SEG, not integer, or not on the image's grid.
    """

    image: Volume
    label: Volume

    def __post_init__(self) -> None:
        problems = []
        if self.label.modality != "SEG":
            problems.append(f"label map has modality {self.label.modality}; expected SEG (a label map)")
        if not self.image.same_grid(self.label, atol=1e-3):
            problems.append(
                f"label map grid (shape {self.label.spatial_shape}, spacing {tuple(round(s, 3) for s in self.label.spacing)}) "
                f"differs from the image's (shape {self.image.spatial_shape}, spacing {tuple(round(s, 3) for s in self.image.spacing)})"
            )
        arr = np.asarray(self.label.array)
        if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0 or not np.array_equal(arr, np.round(arr))):
            problems.append("label map must hold non-negative integers")
        if problems:
            raise DataValidationError(problems, context="LabelledVolume")

    @property
    def meta(self) -> dict:
        """The image's metadata (seed, model, class label...)."""
        return self.image.meta


def write_pairs(
    pairs: Iterable[LabelledVolume],
    out: str | Path,
    *,
    label_names: Mapping[int, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write image + label-map pairs as a MONAI / nnU-Net dataset folder (see the module docstring).

    Args:
        pairs: the pairs, written as they come (a generator is fine).
        out: the folder to create; it appears complete or not at all.
        label_names: name of each label value (default ``{0: "background", k: "label_k"}``).
        overwrite: replace an existing folder.

    Returns:
        The path of ``dataset.json``.
    """
    rows = []
    top = 0
    held: set[int] = set()
    modality = "CT"
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for i, pair in enumerate(pairs):
            case = f"case_{i:05d}"
            img_name, lab_name = f"image/{case}_0000.nii.gz", f"label/{case}.nii.gz"
            write_nifti(pair.image, tmp / img_name, synthetic=True)
            lab = pair.label.with_array(np.asarray(pair.label.array).astype(np.int16))
            write_nifti(lab, tmp / lab_name, synthetic=True)
            top = max(top, int(np.max(lab.array)) if lab.array.size else 0)
            held.update(int(v) for v in np.unique(lab.array))
            modality = pair.image.modality
            seed = pair.meta.get("seed")
            rows.append({
                "image": img_name, "label": lab_name, "seed": "" if seed is None else int(seed),
                "mask_source": pair.label.meta.get("mask_source", ""), "modality": pair.image.modality,
                "shape": "x".join(str(s) for s in pair.image.spatial_shape),
                "spacing_mm": "x".join(f"{s:.4g}" for s in pair.image.spacing),
            })
        if not rows:
            raise DataValidationError("no pairs to write")
        names = dict(label_names) if label_names is not None else {0: "background", **{k: f"label_{k}" for k in range(1, top + 1)}}
        # labels no written map holds stay in "labels" (nnU-Net v2 wants them numbered 0..K without gaps) but are named
        # absent: maps of {0, 3} listed label_1 and label_2 as if the dataset held them
        absent = {str(v): int(k) for k, v in sorted(names.items()) if k > 0 and k not in held}
        description = "Synthetic image + label-map pairs generated by medsynth (not real patients)."
        if absent:
            description += f" Labels {', '.join(absent)} occur in no label map (absent_labels)."
        dataset = {
            "name": "medsynth synthetic pairs",
            "description": description,
            "tensorImageSize": "3D",
            "modality": {"0": modality},
            "channel_names": {"0": modality},
            "labels": {str(v): int(k) for k, v in sorted(names.items())},
            **({"absent_labels": absent} if absent else {}),
            "numTraining": len(rows),
            "file_ending": ".nii.gz",
            "training": [{"image": r["image"], "label": r["label"]} for r in rows],
        }
        (tmp / "dataset.json").write_text(json.dumps(dataset, indent=2) + "\n", encoding="utf-8")
        with open(tmp / "manifest.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(PAIR_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
    return Path(out) / "dataset.json"


__all__ = ["LabelledVolume", "PAIR_COLUMNS", "write_pairs"]
