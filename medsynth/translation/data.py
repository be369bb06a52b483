"""Data for MRI -> CT translation: checking modalities, body masks, MR bias correction, patches.

Sources and targets are folders (NIfTI files and DICOM series, via
:func:`~medsynth.io.datasets.discover_volumes`), lists of paths, or lists of
:class:`~medsynth.io.volume.Volume`. Each volume is checked (an MR source must not look like CT in
HU; a CT target must), given a body mask on its own grid, optionally bias-corrected (MR), and
preprocessed once with :class:`~medsynth.io.transforms.VolumePreprocessor` to a (1, i, j, k) tensor
in [-1, 1]. Training patches are cut from these tensors by :class:`PatchSampler`, with positions
drawn from an explicit numpy Generator (one per step), so a resumed run sees the same patches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from medsynth.core.errors import DataValidationError, MedsynthError
from medsynth.io.volume import Volume

if TYPE_CHECKING:
    import torch

    from medsynth.io.transforms import Prepared, VolumePreprocessor
    from medsynth.translation.config import DataConfig

#: HU below which a voxel is air/lung; CT-like data has a clear share of voxels below it.
AIR_HU = -500.0
#: The HU written outside the body mask.
AIR_OUTSIDE_HU = -1024.0


class SourceModalityError(DataValidationError):
    """A volume given as MR source looks like CT in HU, or a CT target does not."""


class InputDimensionError(DataValidationError):
    """A volume's dimensions do not suit the model (a 2D image for a 3D model, a 4D series...)."""


class NonFiniteError(DataValidationError):
    """A volume holds NaN or infinite voxels (named with their count)."""


@dataclass
class DomainVolume:
    """One preprocessed volume of a domain (MR or CT).

    Attributes:
        name: where it came from (file name or ``volume[i]``).
        tensor: (1, i, j, k) float32 in [-1, 1] on the network grid.
        mask: (i, j, k) bool body mask on the same grid.
        spacing: the network grid's voxel size (mm) along i, j, k.
    """

    name: str
    tensor: torch.Tensor
    mask: torch.Tensor
    spacing: tuple[float, float, float] | None = None


def grid_spacing(tensor: Any) -> tuple[float, float, float] | None:
    """Voxel size (mm) along i, j, k of a preprocessed MetaTensor (None for a plain tensor)."""
    affine = getattr(tensor, "affine", None)
    if affine is None:
        return None
    a = np.asarray(affine.cpu() if hasattr(affine, "cpu") else affine, dtype=np.float64)
    return tuple(float(x) for x in np.linalg.norm(a[:3, :3], axis=0))  # type: ignore[return-value]


def ct_fraction(array: np.ndarray) -> float:
    """Share of finite voxels below -500 (air/lung in HU); MR magnitude data has none."""
    a = np.asarray(array, dtype=np.float32)
    finite = a[np.isfinite(a)]
    return float((finite <= AIR_HU).mean()) if finite.size else 0.0


def looks_like_ct(array: np.ndarray) -> bool:
    """True for data that looks like CT in HU: at least 1% of voxels at or below -500."""
    return ct_fraction(array) >= 0.01


def _value_range(array: np.ndarray) -> str:
    a = np.asarray(array, dtype=np.float32)
    return f"values {np.nanmin(a):g}..{np.nanmax(a):g}"


def _share(x: float) -> str:
    """A share as a percentage that is 0 only when nothing is there (0.3% of air printed as '0%' read as none)."""
    return "0%" if x == 0 else f"{100 * x:.2g}%"


def modality_problem(volume: Volume, name: str, role: Literal["MR", "CT"], *,
                     hint: str = "did you swap --source and --target?") -> str | None:
    """Why ``volume`` cannot serve as an MR source or a CT target (None when it can); ``hint`` ends the message
    (training asks about swapped --source/--target; translating a volume has no such options)."""
    if role == "MR" and (volume.modality == "CT" or looks_like_ct(volume.array)):
        share = ct_fraction(volume.array)
        # the reason it was taken for CT: its air, else its minimum (NIfTI's HU guess) or its DICOM Modality (a 4D CT
        # was said to hold "0% of voxels at or below -500": 0.3%, below the 1% that the air rule needs)
        lowest = float(np.nanmin(np.asarray(volume.array, dtype=np.float32)))
        why = (f"{_share(share)} of voxels at or below -500, air" if looks_like_ct(volume.array) else
               f"its minimum {lowest:g} is air in HU; {_share(share)} of voxels at or below -500" if lowest <= -900 else
               "its modality is CT (a DICOM Modality tag, or as given)")
        return f"'{name}' looks like CT in HU ({_value_range(volume.array)}; {why}): the source must be MR; {hint}"
    if role == "CT" and (volume.modality == "MR" or not looks_like_ct(volume.array)):
        return (
            f"'{name}' does not look like CT in HU ({_value_range(volume.array)}, no air near -1000): the "
            f"target must be CT in Hounsfield units (apply RescaleSlope/Intercept); {hint}"
        )
    return None


def shape_problem(volume: Volume, name: str) -> str | None:
    """Why ``volume`` is not one 3D image (None when it is)."""
    if volume.array.ndim == 4 and volume.array.shape[0] != 1:
        return (f"'{name}' is 4D: {volume.array.shape[0]} channels/time points of {volume.spatial_shape} voxels; give one 3D "
                f"volume per file (pick one: medsynth convert '{name}' OUT.nii.gz --frame 0)")
    return None


def _clean_mask(fg: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Large, non-flat connected components with holes filled per axial slice (:func:`medsynth.io.phantoms.clean_body_mask`)."""
    from medsynth.io.phantoms import clean_body_mask

    return clean_body_mask(fg, affine)


def mr_body_mask(array: np.ndarray, affine: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """Body mask of an MR volume: signal above ``threshold`` x its 99th percentile.

    Then a one-voxel opening (noise specks), the large connected components (the trunk and the arms
    beside it; specks and flat plates go: :func:`medsynth.io.phantoms.clean_body_mask`), and holes
    filled on each axial slice (lungs, bowel gas and cortical bone are dark on MR but inside the body). The
    threshold errs on the generous side: a body voxel wrongly set to air costs ~1000 HU, an air
    voxel kept costs little (the network predicts air there).
    """
    a = np.nan_to_num(np.asarray(array, dtype=np.float32))
    ref = float(np.percentile(a, 99))
    if ref <= 0:
        return np.zeros(a.shape, dtype=bool)
    return _clean_mask(a > threshold * ref, affine)


def ct_body_mask(array: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Body mask of a CT volume: above -500 HU, large components (trunk, arms; not the couch), holes (lungs)
    filled per slice (:func:`medsynth.io.phantoms.ct_body`)."""
    from medsynth.io.phantoms import ct_body

    return ct_body(array, affine)


def correct_bias(array: np.ndarray, mask: np.ndarray, spacing: Sequence[float], sigma_mm: float = 40.0) -> np.ndarray:
    """Divide MR by a smooth estimate of its multiplicative bias field (homomorphic filtering).

    The field is the masked Gaussian average of the image (width ``sigma_mm``) normalised to a
    median of 1 inside the body; outside the mask the image is left as it is. Cruder than N4 (no
    SimpleITK here) but it removes slow coil shading without touching tissue contrast at the
    scale of organs much smaller than ``sigma_mm``.
    """
    from scipy.ndimage import gaussian_filter

    a = np.clip(np.asarray(array, dtype=np.float32), 0.0, None)
    if not mask.any():
        return a
    m = mask.astype(np.float32)
    sigma = [sigma_mm / max(s, 1e-6) for s in spacing]
    num = gaussian_filter(a * m, sigma)
    den = gaussian_filter(m, sigma)
    field = np.where(den > 1e-3, num / np.maximum(den, 1e-3), 1.0)
    med = float(np.median(field[mask]))
    field = np.clip(field / (med if med > 0 else 1.0), 0.2, 5.0)
    return np.where(mask, a / field, a).astype(np.float32)


def _as_3d(volume: Volume) -> Volume:
    if volume.array.ndim == 4:
        return volume.with_array(volume.array[0])
    return volume


def prepare(
    volume: Volume,
    role: Literal["MR", "CT"],
    preprocessor: VolumePreprocessor,
    data: DataConfig,
) -> tuple[Prepared, np.ndarray, torch.Tensor]:
    """Body mask, optional bias correction (MR), preprocessing; returns (Prepared, mask, mask on the grid).

    Returns:
        The :class:`~medsynth.io.transforms.Prepared` image, the body mask on the volume's own grid,
        and the body mask as a bool tensor (i, j, k) on the network grid.
    """
    vol = _as_3d(volume)
    arr = np.nan_to_num(np.asarray(vol.array, dtype=np.float32))
    if role == "MR":
        mask = mr_body_mask(arr, vol.affine, data.body_threshold)
        if data.bias_correction:
            arr = correct_bias(arr, mask, vol.spacing, data.bias_sigma_mm)
    else:
        mask = ct_body_mask(arr, vol.affine)
    prepared = preprocessor(Volume(arr, vol.affine, modality=role))
    grid_mask = preprocessor(Volume(mask.astype(np.uint8), vol.affine, modality="SEG")).tensor[0] > 0.5
    return prepared, mask, grid_mask.as_tensor() if hasattr(grid_mask, "as_tensor") else grid_mask


def gather_volumes(source: Any, role: Literal["MR", "CT"], what: str) -> list[tuple[str, Volume]]:
    """Read a domain: a folder / CSV / file path, a Volume, or a sequence of paths and Volumes.

    Every volume is checked for its role; all problems are raised together.

    Raises:
        DataValidationError: no volume found, unreadable files (each named).
        SourceModalityError: CT given as MR source, or non-CT given as CT target.
    """
    from medsynth.io.datasets import discover_volumes
    from medsynth.io.loading import load_volume

    if isinstance(source, (str, Path)):
        entries: list[Any] = [it.path for it in discover_volumes(source)]
    elif isinstance(source, Volume):
        entries = [source]
    elif isinstance(source, Sequence):
        entries = list(source)
    else:
        raise DataValidationError(
            f"{what} is a {type(source).__name__}; give a folder, a file, or a list of paths or Volumes"
        )
    if not entries:
        raise DataValidationError(f"{what} is empty: give at least one {role} volume")
    out: list[tuple[str, Volume]] = []
    problems: list[str] = []
    modality_errors: list[str] = []
    for i, entry in enumerate(entries):
        if isinstance(entry, Volume):
            name, vol = entry.meta.get("source", f"{what}[{i}]"), entry
        else:
            name = str(entry)
            try:
                vol = load_volume(entry)
            except MedsynthError as exc:
                problems.append(str(exc))
                continue
        if (bad := shape_problem(vol, name)) is not None:  # (first: a 4D CT was judged on its intensities alone)
            problems.append(bad)
        elif (wrong := modality_problem(vol, name, role)) is not None:
            modality_errors.append(wrong)
        out.append((name, vol))
    every = modality_errors + problems
    if modality_errors:
        raise SourceModalityError(every, context=f"{what}: {len(every)} problem(s)")
    if problems:
        raise DataValidationError(problems, context=f"{what}: {len(problems)} volume(s) cannot be used")
    return out


def load_domain(
    source: Any, role: Literal["MR", "CT"], preprocessor: VolumePreprocessor, data: DataConfig, *, what: str
) -> list[DomainVolume]:
    """Read, check and preprocess every volume of a domain."""
    domain = []
    for name, vol in gather_volumes(source, role, what):
        prepared, _, grid_mask = prepare(vol, role, preprocessor, data)
        t = prepared.tensor
        spacing = grid_spacing(t)
        t = t.as_tensor() if hasattr(t, "as_tensor") else t
        domain.append(DomainVolume(name=name, tensor=t.float().contiguous(), mask=grid_mask.bool().contiguous(), spacing=spacing))
    return domain


class PatchSampler:
    """Random patches (i, j, k) from a list of preprocessed volumes, mostly centred on the body.

    Args:
        volumes: the domain's volumes.
        patch: patch size (i, j, k); volumes smaller than it are padded with air (-1).
        foreground_fraction: share of patches centred on a random body voxel.
        max_coords: body voxels remembered per volume (a random subset) to draw centres from.
    """

    def __init__(self, volumes: Sequence[DomainVolume], patch: tuple[int, int, int], foreground_fraction: float, *, max_coords: int = 100_000) -> None:
        import torch.nn.functional as F

        self.patch = patch
        self.foreground_fraction = foreground_fraction
        self.tensors = []
        self.coords = []
        rng = np.random.default_rng(0)
        for v in volumes:
            t, m = v.tensor, v.mask
            pad = [max(0, p - s) for p, s in zip(patch, t.shape[-3:])]
            if any(pad):
                spec = [0, pad[2], 0, pad[1], 0, pad[0]]
                t = F.pad(t, spec, value=-1.0)
                m = F.pad(m, spec, value=False)
            self.tensors.append(t)
            idx = np.argwhere(m.numpy())
            if len(idx) > max_coords:
                idx = idx[rng.choice(len(idx), max_coords, replace=False)]
            self.coords.append(idx.astype(np.int32))

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """Spatial shape of each preprocessed volume."""
        return [tuple(t.shape[-3:]) for t in self.tensors]

    def positions(self, rng: np.random.Generator, n: int) -> list[tuple[int, int, int, int]]:
        """``n`` random (volume, i0, j0, k0) patch corners."""
        out = []
        for _ in range(n):
            v = int(rng.integers(len(self.tensors)))
            shape = self.tensors[v].shape[-3:]
            coords = self.coords[v]
            if len(coords) and rng.uniform() < self.foreground_fraction:
                centre = coords[int(rng.integers(len(coords)))]
            else:
                centre = [int(rng.integers(s)) for s in shape]
            corner = [int(np.clip(c - p // 2, 0, s - p)) for c, p, s in zip(centre, self.patch, shape)]
            out.append((v, *corner))
        return out

    def crop(self, positions: Sequence[tuple[int, int, int, int]]) -> torch.Tensor:
        """Patches at ``positions`` as one (n, 1, i, j, k) tensor."""
        import torch

        pi, pj, pk = self.patch
        return torch.stack([self.tensors[v][:, i : i + pi, j : j + pj, k : k + pk] for v, i, j, k in positions])

    def sample(self, rng: np.random.Generator, n: int) -> torch.Tensor:
        """``n`` random training patches (positions drawn from ``rng``)."""
        return self.crop(self.positions(rng, n))


def to_net(x: torch.Tensor, spatial_dims: float) -> torch.Tensor:
    """(n, 1, i, j, k) patches -> the networks' input: unchanged in 3D, (n, k, i, j) slice stacks in 2D/2.5D."""
    if spatial_dims == 3:
        return x
    return x[:, 0].permute(0, 3, 1, 2)


def from_net(y: torch.Tensor, spatial_dims: float) -> torch.Tensor:
    """Inverse of :func:`to_net`: back to (n, 1, i, j, k)."""
    if spatial_dims == 3:
        return y
    return y.permute(0, 2, 3, 1).unsqueeze(1)


__all__ = [
    "AIR_OUTSIDE_HU",
    "DomainVolume",
    "InputDimensionError",
    "NonFiniteError",
    "PatchSampler",
    "SourceModalityError",
    "correct_bias",
    "ct_body_mask",
    "from_net",
    "gather_volumes",
    "load_domain",
    "looks_like_ct",
    "modality_problem",
    "mr_body_mask",
    "prepare",
    "shape_problem",
    "to_net",
]
