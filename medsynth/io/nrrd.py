"""NRRD read (pynrrd), for research volumes such as 3D Slicer / pyradiomics exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsynth.core.errors import ImageReadError
from medsynth.io.volume import Modality, Volume

NRRD_SUFFIXES = (".nrrd", ".nhdr")
#: NRRD 'space' values and the sign flips that take them to RAS+.
_TO_RAS = {
    "right-anterior-superior": (1.0, 1.0, 1.0),
    "ras": (1.0, 1.0, 1.0),
    "left-posterior-superior": (-1.0, -1.0, 1.0),
    "lps": (-1.0, -1.0, 1.0),
    "left-anterior-superior": (-1.0, 1.0, 1.0),
    "las": (-1.0, 1.0, 1.0),
}


def is_nrrd(path: str | Path) -> bool:
    """Whether ``path`` names an NRRD file (by its suffix)."""
    return str(path).lower().endswith(NRRD_SUFFIXES)


def read_nrrd(path: str | Path, *, modality: Modality = "OT") -> Volume:
    """Read a 3D NRRD file into a Volume with a RAS+ affine.

    Args:
        path: a ``.nrrd`` (or ``.nhdr``) file.
        modality: NRRD does not record it: "MR", "CT", "SEG"...

    Raises:
        ImageReadError: unreadable file, or not a 3D scalar volume in a known space.
    """
    import nrrd

    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"file '{p}' does not exist")
    try:
        data, header = nrrd.read(str(p))
    except Exception as exc:  # pynrrd raises NRRDError, OSError, zlib errors...
        raise ImageReadError(f"'{p}' cannot be read as NRRD ({type(exc).__name__}: {exc})") from None
    if data.ndim != 3:
        raise ImageReadError(f"'{p}' holds a {data.ndim}D array {data.shape}; a 3D scalar volume is needed")
    meta = {"source": p.name, "stored_dtype": str(data.dtype)}
    return Volume(array=data.astype(np.float32), affine=nrrd_affine(header, p), modality=modality, meta=meta)


def nrrd_affine(header: dict, path: str | Path = "NRRD") -> np.ndarray:
    """The RAS+ voxel-to-world affine of an NRRD header (pynrrd's ``nrrd.read_header``).

    Raises:
        ImageReadError: a space other than RAS, LPS or LAS.
    """
    space = str(header.get("space", "left-posterior-superior")).lower()
    if space not in _TO_RAS:
        raise ImageReadError(f"'{path}': NRRD space '{space}' is not supported (use RAS, LPS or LAS)")
    directions = np.asarray(header.get("space directions", np.eye(3)), dtype=np.float64)
    origin = np.asarray(header.get("space origin", np.zeros(3)), dtype=np.float64)
    affine = np.eye(4)
    affine[:3, :3] = directions.T  # NRRD lists one direction vector per axis (rows)
    affine[:3, 3] = origin
    return np.diag([*_TO_RAS[space], 1.0]) @ affine


def nrrd_geometry(path: str | Path) -> tuple[tuple[int, ...], np.ndarray]:
    """Shape and RAS+ affine of an NRRD file, from its header alone (no voxel data read)."""
    import nrrd

    try:
        header = nrrd.read_header(str(path))
    except Exception as exc:  # pynrrd raises NRRDError, OSError...
        raise ImageReadError(f"'{path}' cannot be read as NRRD ({type(exc).__name__}: {exc})") from None
    return tuple(int(s) for s in header.get("sizes", ())), nrrd_affine(header, path)


__all__ = ["NRRD_SUFFIXES", "is_nrrd", "nrrd_affine", "nrrd_geometry", "read_nrrd"]
