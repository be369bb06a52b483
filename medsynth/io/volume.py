"""Volume: a medical image array together with its geometry and meaning.

Conventions (the NIfTI/nibabel ones, used throughout medsynth):

* ``array`` is indexed in voxel order ``(i, j, k)`` for a 3D volume, or ``(c, i, j, k)`` with a
  leading channel axis. (The issue text calls this (D, H, W); the order is the one the affine maps.)
* ``affine`` (4x4) maps a voxel index ``(i, j, k, 1)`` to world millimetres in **RAS+**, as NIfTI
  does (DICOM's LPS is converted on read and write).
* CT values are Hounsfield units (``units="HU"``); MR values are arbitrary units (``"a.u."``);
  label maps have ``modality="SEG"`` and ``units="label"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from medsynth.core.errors import DataValidationError

#: The world frame of every affine (nibabel's RAS+; DICOM's LPS flips the signs of x and y).
AFFINE_CONVENTION = "RAS+: x increases to the patient's Right, y Anterior, z Superior (nibabel)"

Modality = Literal["CT", "MR", "SEG", "OT"]
_DEFAULT_UNITS = {"CT": "HU", "MR": "a.u.", "SEG": "label", "OT": "a.u."}


@dataclass
class Volume:
    """An image volume with its geometry.

    Attributes:
        array: voxel values, shape ``(i, j, k)`` or ``(c, i, j, k)``.
        affine: 4x4 voxel-to-world (RAS+, mm) matrix.
        modality: "CT", "MR", "SEG" (label map) or "OT" (other).
        units: "HU" for CT, "a.u." for MR, "label" for SEG (default from the modality).
        meta: non-identifying extra information (source file name, series description...).
    """

    array: np.ndarray
    affine: np.ndarray = field(default_factory=lambda: np.eye(4))
    modality: Modality = "OT"
    units: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        self.array = np.asarray(self.array)
        self.affine = np.asarray(self.affine, dtype=np.float64)
        if self.array.ndim not in (3, 4):
            problems.append(
                f"array has shape {self.array.shape}: a Volume needs 3 spatial dimensions (i, j, k), "
                "optionally after one channel axis"
            )
        if self.affine.shape != (4, 4):
            problems.append(f"affine has shape {self.affine.shape}, expected (4, 4)")
        elif not np.all(np.isfinite(self.affine)) or abs(np.linalg.det(self.affine[:3, :3])) < 1e-12:
            problems.append("affine is singular or not finite; each voxel axis needs a non-zero spacing")
        if self.modality not in _DEFAULT_UNITS:
            problems.append(f"modality '{self.modality}' is not one of {sorted(_DEFAULT_UNITS)}")
        if problems:
            raise DataValidationError(problems, context="Volume")
        if not self.units:
            self.units = _DEFAULT_UNITS[self.modality]

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        """The last three axes of the array, ``(i, j, k)``."""
        return tuple(int(s) for s in self.array.shape[-3:])  # type: ignore[return-value]

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along i, j, k (the column norms of the affine)."""
        return tuple(float(s) for s in np.linalg.norm(self.affine[:3, :3], axis=0))  # type: ignore[return-value]

    @property
    def origin(self) -> tuple[float, float, float]:
        """Position of voxel (0, 0, 0) in RAS+ mm."""
        return tuple(float(v) for v in self.affine[:3, 3])  # type: ignore[return-value]

    @property
    def orientation(self) -> str:
        """Axis codes, e.g. "RAS" or "LPS" (nibabel's aff2axcodes)."""
        import nibabel as nib

        return "".join(nib.aff2axcodes(self.affine))

    def spacing_in(self, axcodes: str) -> tuple[float, float, float]:
        """The voxel size along the axes of :meth:`reoriented` ``(axcodes)``, from the affine alone (no array moved)."""
        import nibabel as nib

        move = nib.orientations.ornt_transform(nib.orientations.io_orientation(self.affine),
                                               nib.orientations.axcodes2ornt(tuple(_check_axcodes(axcodes))))
        out = [0.0, 0.0, 0.0]
        for old, (new, _) in enumerate(move):
            out[int(new)] = self.spacing[old]
        return tuple(out)  # type: ignore[return-value]

    def reoriented(self, axcodes: str) -> Volume:
        """The same image with its voxel axes permuted and flipped to ``axcodes`` (e.g. "RAS", "LPS").

        Only indices move (no resampling): every voxel keeps its value and its world position, so an oblique grid
        goes to the nearest axis codes. A channel axis stays first.
        """
        import nibabel as nib

        codes = _check_axcodes(axcodes)
        have = nib.orientations.io_orientation(self.affine)
        move = nib.orientations.ornt_transform(have, nib.orientations.axcodes2ornt(codes))
        if np.array_equal(move, [[0, 1], [1, 1], [2, 1]]):
            return self
        lead = self.array.ndim - 3
        full = np.concatenate([[[i, 1] for i in range(lead)], move + [lead, 0]]) if lead else move
        array = nib.orientations.apply_orientation(self.array, full)
        affine = self.affine @ nib.orientations.inv_ornt_aff(move, self.spatial_shape)
        return replace(self, array=np.ascontiguousarray(array), affine=affine, meta=dict(self.meta))

    def with_array(self, array: np.ndarray, **changes: Any) -> Volume:
        """A copy with a new array on the same grid (and optional field changes)."""
        return replace(self, array=array, meta=dict(self.meta), **changes)

    def same_grid(self, other: Volume, *, atol: float = 1e-4) -> bool:
        """True when both volumes share spatial shape and affine."""
        return self.spatial_shape == other.spatial_shape and np.allclose(self.affine, other.affine, atol=atol)

    def __repr__(self) -> str:
        sp = ", ".join(f"{s:.3g}" for s in self.spacing)
        return (
            f"Volume(shape={self.array.shape}, dtype={self.array.dtype}, spacing=({sp}) mm, "
            f"modality={self.modality}, units={self.units}, orientation={self.orientation})"
        )


def _check_axcodes(axcodes: str) -> tuple[str, str, str]:
    """``axcodes`` as three upper-case codes, one of R/L, A/P, S/I each; else a named error."""
    codes = tuple(str(axcodes).upper())
    world = {"R": 0, "L": 0, "A": 1, "P": 1, "S": 2, "I": 2}
    if len(codes) != 3 or not set(codes) <= set(world) or len({world[c] for c in codes}) != 3:
        raise DataValidationError(f"axis codes '{axcodes}' are not three of R/L, A/P, S/I, one of each "
                                  "(e.g. 'RAS' or 'LPS')")
    return codes  # type: ignore[return-value]


def grid_affine(spacing: tuple[float, float, float] | float, shape: tuple[int, int, int] | None = None) -> np.ndarray:
    """A RAS+ affine with the given spacing, centred on the world origin when ``shape`` is given."""
    sp = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (3,))
    aff = np.diag([*sp, 1.0])
    if shape is not None:
        aff[:3, 3] = -sp * (np.asarray(shape, dtype=np.float64) - 1) / 2.0
    return aff


__all__ = ["AFFINE_CONVENTION", "Modality", "Volume", "grid_affine"]
