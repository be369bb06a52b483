"""NIfTI read/write with nibabel, geometry preserved exactly (the affine as stored, sform first)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsynth.core.errors import DataValidationError, ImageReadError
from medsynth.core.files import atomic_path
from medsynth.io.volume import Modality, Volume

NIFTI_SUFFIXES = (".nii", ".nii.gz")


def is_nifti(path: str | Path) -> bool:
    """Whether ``path`` names a NIfTI file (by its suffix)."""
    name = str(path).lower()
    return name.endswith(NIFTI_SUFFIXES)


def read_nifti(path: str | Path, *, modality: Modality | None = None) -> Volume:
    """Read a NIfTI file into a Volume (float32 values after the header's scaling).

    Args:
        path: a ``.nii`` or ``.nii.gz`` file.
        modality: "CT", "MR", "SEG"... NIfTI does not record it; when ``None`` it is guessed:
            integer data in [-1100, 4000] with a minimum at or below -900 is taken as CT in HU,
            everything else as "OT".

    Raises:
        ImageReadError: missing, truncated or non-NIfTI file (naming it).
    """
    import nibabel as nib

    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"file '{p}' does not exist")
    try:
        img = nib.load(str(p))
        data = np.asarray(img.dataobj, dtype=np.float32)
    except Exception as exc:  # nibabel raises ImageFileError, EOFError, OSError, zlib.error...
        raise ImageReadError(f"'{p}' cannot be read as NIfTI ({type(exc).__name__}: {exc}); is the file complete?") from None
    if data.ndim == 4 and data.shape[-1] == 1:
        data = data[..., 0]
    elif data.ndim == 4:
        data = np.moveaxis(data, -1, 0)  # NIfTI stores channels/time last; medsynth puts them first
    if data.ndim not in (3, 4):
        raise ImageReadError(f"'{p}' holds a {data.ndim}D image of shape {data.shape}; medsynth needs 3D volumes")
    affine = np.asarray(img.affine, dtype=np.float64)
    if modality is None:
        modality = guess_modality(data)
    meta: dict = {"source": p.name}
    descrip = bytes(img.header.get("descrip", b"")).split(b"\0")[0].decode("latin-1", "replace") if hasattr(img, "header") else ""
    if descrip.startswith("SYNTHETIC"):  # (written by medsynth's generators: a conversion of it stays marked)
        meta["synthetic"] = True
    meta.update(_read_source_record(img))
    slope, inter = img.header.get_slope_inter()
    if slope in (None, 1.0) and inter in (None, 0.0):  # stored values are the values: their type is worth keeping
        meta["stored_dtype"] = str(img.get_data_dtype())
    return Volume(array=data, affine=affine, modality=modality, meta=meta)


#: Key of the JSON comment extension in which a real scan's NIfTI keeps its DICOM acquisition attributes (:data:`medsynth.io.dicom.ACQUISITION_KEYWORDS`), so that converting it back to DICOM restores them.
SOURCE_RECORD_KEY = "medsynth_source_record"
_COMMENT_CODE = 6  # NIfTI extension code "comment"


def _source_record(volume: Volume) -> dict:
    record: dict = {}  # (no free-text SeriesDescription: it may hold dates and names, a reviewer)
    if volume.meta.get("acquisition"):
        record["acquisition"] = dict(volume.meta["acquisition"])
    return record


def _read_source_record(img) -> dict:
    """``acquisition`` from a medsynth comment extension ({} when there is none)."""
    import json

    for ext in getattr(img.header, "extensions", []):
        if ext.get_code() != _COMMENT_CODE:
            continue
        raw = ext.get_content()
        try:
            record = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)).get(SOURCE_RECORD_KEY)
        except (ValueError, AttributeError, UnicodeDecodeError):
            continue  # another tool's comment
        if isinstance(record, dict):
            return {"acquisition": record["acquisition"]} if isinstance(record.get("acquisition"), dict) else {}
    return {}


def guess_modality(data: np.ndarray) -> Modality:
    """CT if values look like Hounsfield units (air near -1000), else "OT"."""
    finite = data[np.isfinite(data)]
    if finite.size and finite.min() <= -900 and finite.min() >= -3100 and finite.max() <= 5000:
        return "CT"
    return "OT"


def _output_dtype(volume: Volume) -> np.dtype:
    arr = volume.array
    if volume.modality == "SEG":
        return np.dtype(np.uint8) if arr.min() >= 0 and arr.max() <= 255 else np.dtype(np.int16)
    if volume.modality == "CT" and volume.units == "HU":
        return np.dtype(np.int16)  # HU are integers in clinical CT; int16 is the usual storage
    stored = volume.meta.get("stored_dtype")  # the integer type the values were read from (NIfTI, NRRD)
    if stored is not None and arr.size and np.issubdtype(np.dtype(stored), np.integer):
        info = np.iinfo(np.dtype(stored))
        finite = bool(np.isfinite(arr).all())
        if finite and arr.min() >= info.min and arr.max() <= info.max and np.array_equal(arr, np.rint(arr)):
            return np.dtype(stored)  # e.g. the uint8 MNI template and label maps stay uint8, not 4x larger float32
    return np.dtype(np.float32)


#: The NIfTI header's ``descrip`` of a volume a generator made (80 bytes at most): a file parted from its manifest still
#: says it holds no real patient (an imaging researcher found sampled CTs with an empty descrip).
SYNTHETIC_DESCRIP = "SYNTHETIC - generated by medsynth; not a real patient"


def write_nifti(volume: Volume, path: str | Path, *, dtype: str | np.dtype | None = None,
                synthetic: bool | None = None) -> Path:
    """Write a Volume as NIfTI (``.nii`` or ``.nii.gz``), atomically.

    CT in HU is rounded to int16 and label maps stored as integers unless ``dtype`` says otherwise;
    integer-valued data read from an integer NIfTI/NRRD file keeps that type (``meta["stored_dtype"]``);
    other data is float32. The affine is written to both sform and qform (code 1, scanner). A synthetic volume
    (``synthetic``, else ``meta["synthetic"]``) gets :data:`SYNTHETIC_DESCRIP` in its header; a real one read from
    DICOM keeps its acquisition attributes in a JSON comment extension
    (:data:`SOURCE_RECORD_KEY`; a DICOM -> NIfTI -> DICOM round trip lost SliceThickness 3 and PatientPosition HFS).

    Raises:
        DataValidationError: for a path without a NIfTI suffix or values that do not fit ``dtype``.
    """
    import nibabel as nib

    p = Path(path)
    if not is_nifti(p):
        raise DataValidationError(f"output '{p}' must end with .nii or .nii.gz")
    out_dtype = np.dtype(dtype) if dtype is not None else _output_dtype(volume)
    arr = volume.array
    if arr.ndim == 4:
        arr = np.moveaxis(arr, 0, -1)
    if np.issubdtype(out_dtype, np.integer):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise DataValidationError(
                f"{bad} of {arr.size} voxels are NaN or infinite; {out_dtype} cannot store them (they would become "
                f"0): fill them first (medsynth convert --fill-nonfinite VALUE) or pass dtype='float32'"
            )
        info = np.iinfo(out_dtype)
        rounded = np.rint(arr)
        if rounded.size and (rounded.min() < info.min or rounded.max() > info.max):
            raise DataValidationError(
                f"values {rounded.min():g}..{rounded.max():g} do not fit {out_dtype}; pass dtype='float32'"
            )
        arr = rounded.astype(out_dtype)
    else:
        arr = arr.astype(out_dtype)
    img = nib.Nifti1Image(arr, volume.affine)
    img.set_sform(volume.affine, code=1)
    img.set_qform(volume.affine, code=1)
    img.header.set_xyzt_units("mm", "sec")
    if synthetic if synthetic is not None else volume.meta.get("synthetic", False):
        img.header["descrip"] = SYNTHETIC_DESCRIP.encode("ascii")
    elif record := _source_record(volume):  # a real scan's DICOM description and acquisition, for a conversion back
        import json

        payload = json.dumps({SOURCE_RECORD_KEY: record}, sort_keys=True).encode("utf-8")
        img.header.extensions.append(nib.nifti1.Nifti1Extension(_COMMENT_CODE, payload))
    suffix = ".nii.gz" if str(p).lower().endswith(".gz") else ".nii"
    with atomic_path(p) as tmp:
        tmp_named = tmp.with_name(tmp.name + suffix)
        try:
            nib.save(img, str(tmp_named))
            tmp_named.replace(tmp)
        finally:
            tmp_named.unlink(missing_ok=True)
    return p


__all__ = ["NIFTI_SUFFIXES", "SOURCE_RECORD_KEY", "guess_modality", "is_nifti", "read_nifti", "write_nifti"]
