"""Medical image and table IO: Volume, NIfTI, DICOM series, preprocessing, phantoms."""

from __future__ import annotations

from medsynth.io.dicom import read_dicom_series, scan_series, write_dicom_series
from medsynth.io.loading import load_volume, read_volume, save_volume, write_volume
from medsynth.io.nifti import read_nifti, write_nifti
from medsynth.io.volume import Volume, grid_affine

__all__ = [
    "Volume",
    "grid_affine",
    "load_volume",
    "read_dicom_series",
    "read_nifti",
    "read_volume",
    "save_volume",
    "scan_series",
    "write_dicom_series",
    "write_nifti",
    "write_volume",
]
