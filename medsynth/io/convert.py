"""Convert one volume between NIfTI and DICOM, refusing what would silently change it.

Behind ``medsynth convert``. Non-finite voxels (NaN, +-inf) are an error naming the file and the
count unless the caller asks to fill them with a value; a 4D file (several frames or channels) is an
error unless the caller picks one frame. The output path is checked before anything is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsynth.core.errors import DataValidationError, ImageReadError
from medsynth.core.files import check_output
from medsynth.io.loading import load_volume, save_volume
from medsynth.io.nifti import is_nifti
from medsynth.io.volume import Modality, Volume


@dataclass
class ConversionResult:
    """What :func:`convert_volume` wrote.

    Attributes:
        volume: the volume written (3D).
        path: the output file (NIfTI) or folder (DICOM series).
        format: "nifti" or "dicom".
        filled: how many non-finite voxels were replaced by the fill value (0 when none).
        frame: the frame taken from a 4D input, or None.
        synthetic: whether the output is marked synthetic.
    """

    volume: Volume
    path: Path
    format: str
    filled: int = 0
    frame: int | None = None
    synthetic: bool = False


def nonfinite_counts(array: np.ndarray) -> dict[str, int]:
    """Counts of NaN, +inf and -inf values (only those present)."""
    arr = np.asarray(array)
    if not np.issubdtype(arr.dtype, np.floating):
        return {}
    counts = {"NaN": int(np.isnan(arr).sum()), "+inf": int(np.isposinf(arr).sum()), "-inf": int(np.isneginf(arr).sum())}
    return {k: v for k, v in counts.items() if v}


#: Image file extensions that are no folder name: an output with one of them is not taken for a DICOM folder.
FILE_SUFFIXES = (".mha", ".mhd", ".nrrd", ".nhdr", ".dcm", ".img", ".hdr", ".mgz", ".png", ".jpg", ".tif", ".tiff", ".npy",
                 ".npz", ".gz")


def convert_volume(
    source: str | Path,
    dest: str | Path,
    *,
    modality: Modality | None = None,
    series_uid: str | None = None,
    frame: int | None = None,
    fill_nonfinite: float | None = None,
    overwrite: bool = False,
    synthetic: bool | None = None,
) -> ConversionResult:
    """Read a NIfTI file / NRRD file / DICOM series and write it as NIfTI (``dest`` ending .nii/.nii.gz) or DICOM.

    Args:
        source: the input file or DICOM folder.
        dest: a .nii/.nii.gz file, or a folder for a DICOM series.
        modality: "CT" or "MR" (NIfTI does not store it).
        series_uid: which series of a DICOM folder holding several.
        frame: which frame of a 4D input to write (a 4D input without it is an error).
        fill_nonfinite: value written where the input has NaN/inf (e.g. -1024 for air in CT); without
            it such voxels are an error.
        overwrite: replace an existing output.
        synthetic: mark the output synthetic (True: a volume a generator made); None: as the input says (a medsynth
            NIfTI's ``descrip``, a DICOM series' SyntheticData), else a real scan: a DICOM output then carries no
            synthetic marker and no patient name.

    Raises:
        OutputPathError: ``dest`` cannot be created (checked before reading).
        DataValidationError: non-finite voxels, a 4D input without ``frame``, a bad ``frame``, an existing
            output without ``overwrite``, or DICOM output of data that is neither CT nor MR.
    """
    src, out = Path(source), Path(dest)
    to_nifti = is_nifti(out)
    if not to_nifti and out.suffix.lower() in FILE_SUFFIXES and not out.is_dir():  # (out.mha became a DICOM folder)
        raise DataValidationError(f"output '{out}': medsynth writes NIfTI (.nii, .nii.gz) or a DICOM series (a folder), not "
                                  f"'{out.suffix}'; give a .nii.gz path, or a folder name without an extension for DICOM")
    check_output(out, kind="file" if to_nifti else "dir", what="output")
    if out.exists() and not overwrite and (to_nifti or (out.is_dir() and any(out.iterdir()))):
        raise ImageReadError(f"output '{out}' already exists; choose another path or pass --force")
    volume = load_volume(src, modality=modality, series_uid=series_uid)
    picked = None
    if volume.array.ndim == 4:
        n = volume.array.shape[0]
        if frame is None:
            raise DataValidationError(
                f"'{src}' is 4D: {n} frames (or channels) of {volume.spatial_shape} voxels; convert writes one 3D "
                f"volume: pass --frame I (0..{n - 1}) to pick one"
            )
        if not 0 <= frame < n:
            raise DataValidationError(f"--frame {frame}: '{src}' has frames 0..{n - 1}")
        volume, picked = volume.with_array(volume.array[frame]), frame
    elif frame not in (None, 0):
        raise DataValidationError(f"--frame {frame}: '{src}' is a 3D volume (one frame); leave --frame out")
    bad = nonfinite_counts(volume.array)
    filled = 0
    if bad:
        total = sum(bad.values())
        what = ", ".join(f"{v} {k}" for k, v in bad.items())
        if fill_nonfinite is None:
            raise DataValidationError(
                f"'{src}' has {total} non-finite voxel(s) ({what}) of {volume.array.size}; they cannot be written as "
                "numbers. Fix the file, or pass --fill-nonfinite VALUE to write VALUE there (e.g. -1024, air, for CT)"
            )
        if not np.isfinite(fill_nonfinite):
            raise DataValidationError(f"--fill-nonfinite {fill_nonfinite}: the fill value must be a finite number")
        arr = np.where(np.isfinite(volume.array), volume.array, np.float32(fill_nonfinite)).astype(volume.array.dtype)
        volume, filled = volume.with_array(arr), total
    if not to_nifti and volume.modality not in ("CT", "MR"):
        raise DataValidationError(
            f"'{src}' does not look like CT in HU (values {volume.array.min():g}..{volume.array.max():g}); "
            "pass --modality CT or --modality MR to write DICOM"
        )
    marked = bool(volume.meta.get("synthetic", False)) if synthetic is None else synthetic
    save_volume(volume, out, format="nifti" if to_nifti else "dicom", overwrite=overwrite, synthetic=marked)
    return ConversionResult(volume=volume, path=out, format="nifti" if to_nifti else "dicom", filled=filled, frame=picked,
                            synthetic=marked)


__all__ = ["ConversionResult", "convert_volume", "nonfinite_counts"]
