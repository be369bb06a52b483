"""Writing synthetic volumes: NIfTI files or synthetic-safe DICOM series, a manifest CSV, previews."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from medsynth.core.files import atomic_dir, atomic_path
from medsynth.io.dicom import write_dicom_series
from medsynth.io.nifti import write_nifti
from medsynth.io.volume import Volume

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("file", "seed", "label", "modality", "shape", "spacing_mm")


def write_volumes(
    volumes: Iterable[Volume],
    out: str | Path,
    *,
    format: Literal["nifti", "dicom"] = "nifti",
    prefix: str = "sample",
    overwrite: bool = False,
) -> Path:
    """Write volumes (as they come) into a new folder ``out`` with a ``manifest.csv``.

    NIfTI: ``out/sample_00000.nii.gz`` (CT as int16 HU, MR float32; affine at the training spacing).
    DICOM: ``out/sample_00000/`` series written by the synthetic-safe writer (new UIDs, no
    identifiers, SyntheticData YES). The folder appears complete or not at all.

    Returns:
        The manifest's path. Columns: file (relative to ``out``), seed, label, modality, shape, spacing_mm.
    """
    rows = []
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for i, vol in enumerate(volumes):
            name = f"{prefix}_{i:05d}" + (".nii.gz" if format == "nifti" else "")
            if format == "nifti":
                write_nifti(vol, tmp / name, synthetic=True)
            else:
                label = vol.meta.get("label")
                desc = f"{vol.meta.get('model', 'medsynth')} seed {vol.meta.get('seed')}" + (f" {label}" if label else "")
                write_dicom_series(vol, tmp / name, series_description=desc, synthetic=True)
            seed = vol.meta.get("seed")
            rows.append({
                "file": name,
                "seed": "" if seed is None else int(seed),
                "label": vol.meta.get("label") or "",
                "modality": vol.modality,
                "shape": "x".join(str(s) for s in vol.spatial_shape),
                "spacing_mm": "x".join(f"{s:.4g}" for s in vol.spacing),
            })
        with open(tmp / MANIFEST, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(MANIFEST_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
    return Path(out) / MANIFEST


def _mid_slices(x: np.ndarray) -> list[np.ndarray]:
    """(1, *spatial) -> the image itself (2D) or its three orthogonal mid slices (3D)."""
    a = x[0]
    if a.ndim == 2:
        return [a.T]
    i, j, k = (s // 2 for s in a.shape)
    return [a[:, :, k].T, a[:, j, :].T, a[i, :, :].T]


def save_preview(images: Sequence[np.ndarray] | np.ndarray, path: str | Path, *, titles: Sequence[str] | None = None) -> Path:
    """A PNG grid: one row per image, its mid slices (axial, coronal, sagittal) in [-1, 1] grey."""
    from matplotlib.figure import Figure  # object API: no pyplot, no global backend change

    arrs = [np.asarray(im.detach().cpu() if hasattr(im, "detach") else im, dtype=np.float32) for im in images]
    panels = [_mid_slices(a) for a in arrs]
    ncol = len(panels[0])
    fig = Figure(figsize=(2.0 * ncol, 2.0 * len(panels)), dpi=80)
    for r, row in enumerate(panels):
        for c, img in enumerate(row):
            ax = fig.add_subplot(len(panels), ncol, r * ncol + c + 1)
            ax.imshow(img, cmap="gray", vmin=-1, vmax=1, origin="lower")
            ax.set_axis_off()
            if c == 0 and titles is not None:
                ax.set_title(str(titles[r]), fontsize=7, loc="left")
    fig.tight_layout()
    p = Path(path)
    with atomic_path(p) as tmp:
        fig.savefig(tmp, format="png")
    return p


__all__ = ["MANIFEST", "save_preview", "write_volumes"]
