"""Reading label-map folders for image + label-map pairs (see :meth:`medsynth.imaging.api.ImageModel.sample_pairs`)."""

from __future__ import annotations

from pathlib import Path

from medsynth.core.errors import DataValidationError
from medsynth.io.volume import Volume


def read_masks(folder: str | Path) -> list[Volume]:
    """Every label map in ``folder`` (NIfTI/NRRD files or DICOM series), sorted by name, as SEG Volumes.

    Raises:
        DataValidationError: a missing or empty folder, unreadable files (each named).
    """
    from medsynth.core.errors import MedsynthError
    from medsynth.io.datasets import discover_volumes
    from medsynth.io.loading import load_volume

    items = discover_volumes(folder)
    vols, problems = [], []
    for it in items:
        try:
            v = load_volume(it.path, modality="SEG")
        except MedsynthError as exc:
            problems.append(f"'{it.path}': {exc}")
            continue
        v.meta["mask_source"] = it.path.name
        vols.append(v)
    if problems:
        raise DataValidationError(problems, context=f"{len(problems)} of {len(items)} label maps cannot be read")
    return vols


__all__ = ["read_masks"]
