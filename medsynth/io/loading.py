"""One entry point to read any supported volume (NIfTI file, NRRD file, DICOM folder) and to write."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from medsynth.core.errors import ImageReadError
from medsynth.io.dicom import is_dicom_file, read_dicom_series, series_files_of, write_dicom_series
from medsynth.io.nifti import is_nifti, read_nifti, write_nifti
from medsynth.io.nrrd import is_nrrd, nrrd_geometry, read_nrrd
from medsynth.io.volume import Modality, Volume

OutputFormat = Literal["nifti", "dicom"]

#: File name endings of single-file volumes, longest first (a case's name is what is left).
VOLUME_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".dcm", ".ima")


def volume_stem(name: str | Path) -> str:
    """A volume file's case name: ``case_000.nii.gz``, ``brain1.nrrd`` -> ``case_000``, ``brain1`` (case-insensitive
    endings; a DICOM folder keeps its name). The one rule every reader and writer pairs files by."""
    base = Path(name).name
    for suffix in VOLUME_SUFFIXES:
        if base.lower().endswith(suffix):
            return base[: -len(suffix)]
    return base


def load_volume(path: str | Path, *, modality: Modality | None = None, series_uid: str | None = None) -> Volume:
    """Read a NIfTI file (``.nii``/``.nii.gz``), an NRRD file, or a DICOM series (a folder or one of its files).

    One DICOM file reads the series it belongs to from its folder; other series and files there are ignored.

    Args:
        path: the file or folder.
        modality: override the modality (NIfTI does not store it; DICOM does).
        series_uid: which series, for a folder with several.

    Raises:
        ImageReadError: the path does not exist or is not a supported image.
    """
    p = Path(path)
    if not p.exists():
        raise ImageReadError(f"'{p}' does not exist")
    if p.is_file() and is_nifti(p):
        return read_nifti(p, modality=modality)
    if p.is_file() and is_nrrd(p):
        return read_nrrd(p, modality=modality or "OT")
    if p.is_dir() or p.suffix.lower() in (".dcm", ".ima", "") or is_dicom_file(p):
        if p.is_dir() or series_uid is not None:
            vol = read_dicom_series(p if p.is_dir() else p.parent, series_uid=series_uid)
        else:  # one slice names its series: the files of that series beside it, nothing else in the folder
            vol = read_dicom_series(series_files_of(p))
        if modality is not None:
            vol.modality = modality
        return vol
    raise ImageReadError(
        f"'{p}' is neither a NIfTI file (.nii, .nii.gz), an NRRD file nor a DICOM series folder; convert it first"
    )


def volume_geometry(path: str | Path) -> tuple[tuple[int, int, int], np.ndarray] | None:
    """Spatial shape and RAS+ affine of a NIfTI or NRRD file from its header (no voxel data read); None for DICOM.

    Raises:
        ImageReadError: an unreadable header.
    """
    p = Path(path)
    if p.is_file() and is_nifti(p):
        import nibabel as nib

        try:
            img = nib.load(str(p))
        except Exception as exc:  # nibabel raises ImageFileError, OSError...
            raise ImageReadError(f"'{p}' cannot be read as NIfTI ({type(exc).__name__}: {exc})") from None
        return tuple(int(s) for s in img.shape[:3]), np.asarray(img.affine, dtype=np.float64)  # type: ignore[return-value]
    if p.is_file() and is_nrrd(p):
        shape, affine = nrrd_geometry(p)
        return shape[:3], affine  # type: ignore[return-value]
    return None


def save_volume(volume: Volume, path: str | Path, *, format: OutputFormat | None = None, overwrite: bool = False,
                synthetic: bool | None = None) -> Path:
    """Write a Volume as NIfTI (``path`` ending .nii/.nii.gz) or a synthetic-safe DICOM series (a folder).

    Args:
        volume: what to write.
        path: the file (NIfTI) or folder (DICOM).
        format: "nifti" or "dicom"; guessed from ``path`` when None.
        overwrite: replace an existing output.
        synthetic: mark it as synthetic (NIfTI ``descrip``; DICOM SyntheticData YES and a synthetic patient); None:
            as ``meta["synthetic"]`` says, else not (a real scan read and written again is never labelled synthetic).
    """
    p = Path(path)
    fmt = format or ("nifti" if is_nifti(p) else "dicom")
    if fmt == "nifti":
        if p.exists() and not overwrite:
            raise ImageReadError(f"output '{p}' already exists; choose another path or allow overwriting")
        return write_nifti(volume, p, synthetic=synthetic)
    write_dicom_series(volume, p, overwrite=overwrite, synthetic=synthetic)
    return p


def read_volume(path: str | Path, *, modality: Modality | None = None, series_uid: str | None = None) -> Volume:
    """Read a NIfTI or NRRD file, or a DICOM series, as a :class:`Volume` (the public name of :func:`load_volume`).

    Example:
        >>> vol = medsynth.io.read_volume("ct.nii.gz", modality="CT")   # doctest: +SKIP
    """
    return load_volume(path, modality=modality, series_uid=series_uid)


def write_volume(volume: Volume, path: str | Path, *, format: OutputFormat | None = None, overwrite: bool = False,
                 synthetic: bool | None = None) -> Path:
    """Write a :class:`Volume` as NIfTI or a synthetic-safe DICOM series (the public name of :func:`save_volume`)."""
    return save_volume(volume, path, format=format, overwrite=overwrite, synthetic=synthetic)


__all__ = ["OutputFormat", "load_volume", "read_volume", "save_volume", "volume_geometry", "write_volume"]
