"""Preprocessing of volumes for the networks, built on MONAI transforms, and its exact inverse.

Forward: orientation (RAS by default) -> resampling to a target spacing -> intensity scaling to
[-1, 1] (CT: a fixed HU window; MR: robust percentiles of each volume) -> crop/pad to a shape
(padding with the value of air, -1). The spatial steps are MONAI invertible transforms applied to a
``MetaTensor``, so :meth:`VolumePreprocessor.invert` puts a network output back on the input's
grid; the intensity step is inverted from the recorded window, so CT comes back in HU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import field_validator

from medsynth.core.config import ConfigModel
from medsynth.core.errors import DataValidationError
from medsynth.io.volume import Modality, Volume, grid_affine

if TYPE_CHECKING:
    import torch

#: SynthRAD's CT range: everything below is air, above is dense bone/metal.
CT_HU_RANGE = (-1024.0, 3000.0)


class PreprocessConfig(ConfigModel):
    """How volumes are brought to the network's grid and range.

    Attributes:
        orientation: axis codes to reorient to (None keeps the input's).
        spacing: target voxel size in mm (None keeps the input's).
        spatial_size: crop/pad to this shape (None keeps the resampled shape).
        ct_window: HU mapped to [-1, 1]; values outside are clipped.
        mr_percentiles: per-volume percentiles mapped to [-1, 1] for MR (robust to outliers).
        interpolation: resampling mode for intensities (labels always use nearest).
    """

    orientation: str | None = "RAS"
    spacing: tuple[float, float, float] | None = None
    spatial_size: tuple[int, int, int] | None = None
    ct_window: tuple[float, float] = CT_HU_RANGE
    mr_percentiles: tuple[float, float] = (0.5, 99.5)
    interpolation: Literal["bilinear", "nearest"] = "bilinear"

    @field_validator("spacing")
    @classmethod
    def _positive_spacing(cls, v: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        if v is not None and any(s <= 0 for s in v):
            raise ValueError(f"spacing {v} must be positive millimetres, e.g. [2.0, 2.0, 2.0]")
        return v

    @field_validator("spatial_size")
    @classmethod
    def _positive_size(cls, v: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        if v is not None and any(s < 1 for s in v):
            raise ValueError(f"spatial_size {v} must be positive voxel counts, e.g. [64, 64, 64]")
        return v

    @field_validator("ct_window", "mr_percentiles")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] >= v[1]:
            raise ValueError(f"{v}: the lower bound must be below the upper bound")
        return v

    @field_validator("orientation")
    @classmethod
    def _axcodes(cls, v: str | None) -> str | None:
        if v is not None:
            v = v.upper()
            pairs = [set("LR"), set("AP"), set("IS")]
            if len(v) != 3 or any(sum(c in p for c in v) != 1 for p in pairs):
                raise ValueError(f"orientation '{v}' must be 3 axis codes, one of L/R, A/P, I/S each (e.g. RAS)")
        return v


@dataclass
class Prepared:
    """A preprocessed volume: a (1, i, j, k) MetaTensor in [-1, 1] and how to undo the scaling."""

    tensor: torch.Tensor
    modality: Modality
    low: float  # value mapped to -1
    high: float  # value mapped to +1


class VolumePreprocessor:
    """Forward and inverse preprocessing for one config.

    Example:
        >>> pre = VolumePreprocessor(PreprocessConfig(spacing=(2, 2, 2), spatial_size=(64, 64, 64)))
        >>> prepared = pre(ct_volume)            # tensor in [-1, 1] on a 2 mm 64^3 grid
        >>> back = pre.invert(prepared)          # Volume in HU on ct_volume's grid
    """

    def __init__(self, config: PreprocessConfig | None = None) -> None:
        self.config = config or PreprocessConfig()
        # MONAI inverts only the very transform objects that were applied: build them once.
        self._image_steps = self._build_spatial(labels=False)
        self._label_steps = self._build_spatial(labels=True)

    def _spatial(self, *, labels: bool = False):
        return self._label_steps if labels else self._image_steps

    def _build_spatial(self, *, labels: bool):
        from monai.transforms import Compose, Orientation, ResizeWithPadOrCrop, Spacing

        cfg = self.config
        steps = []
        if cfg.orientation:
            steps.append(Orientation(axcodes=cfg.orientation, labels=(("L", "R"), ("P", "A"), ("I", "S"))))
        if cfg.spacing:
            mode = "nearest" if labels else cfg.interpolation
            steps.append(Spacing(pixdim=cfg.spacing, mode=mode, padding_mode="border", dtype=np.float32))
        if cfg.spatial_size:
            steps.append(ResizeWithPadOrCrop(spatial_size=cfg.spatial_size, mode="constant", value=0 if labels else -1.0))
        return Compose(steps)

    def window(self, volume: Volume) -> tuple[float, float]:
        """The (low, high) values of ``volume`` mapped to (-1, 1)."""
        if volume.modality == "CT":
            return self.config.ct_window
        data = np.asarray(volume.array, dtype=np.float32)
        finite = data[np.isfinite(data)]
        if finite.size == 0:
            raise DataValidationError(f"{volume.meta.get('source', 'volume')}: no finite voxel values")
        lo, hi = (float(v) for v in np.percentile(finite, self.config.mr_percentiles))
        if hi <= lo:
            hi = lo + 1.0  # a constant image: any scale works, avoid dividing by zero
        return lo, hi

    def __call__(self, volume: Volume) -> Prepared:
        """Preprocess a Volume (3D or channel-first 4D) to a (C, i, j, k) MetaTensor in [-1, 1]."""
        import torch
        from monai.data import MetaTensor

        if volume.modality == "SEG":
            arr = volume.array if volume.array.ndim == 4 else volume.array[None]
            mt = MetaTensor(torch.as_tensor(np.ascontiguousarray(arr), dtype=torch.float32), affine=torch.as_tensor(volume.affine))
            return Prepared(self._spatial(labels=True)(mt), "SEG", 0.0, 1.0)
        lo, hi = self.window(volume)
        arr = volume.array if volume.array.ndim == 4 else volume.array[None]
        scaled = np.clip((np.asarray(arr, dtype=np.float32) - lo) / (hi - lo), 0.0, 1.0) * 2.0 - 1.0
        mt = MetaTensor(torch.as_tensor(np.ascontiguousarray(scaled)), affine=torch.as_tensor(volume.affine))
        out = self._spatial()(mt)
        return Prepared(out, volume.modality, lo, hi)

    @staticmethod
    def to_intensity(x: np.ndarray | torch.Tensor, low: float, high: float) -> np.ndarray:
        """Map network values in [-1, 1] back to intensities (HU for CT), clipping to the window."""
        arr = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
        return (np.clip(arr, -1.0, 1.0) + 1.0) / 2.0 * (high - low) + low

    def invert(self, prepared: Prepared, tensor: torch.Tensor | None = None) -> Volume:
        """Undo the preprocessing: back to the input's grid and intensities (HU for CT).

        Args:
            prepared: what :meth:`__call__` returned (it carries the transform record).
            tensor: a network output on the prepared grid, shape (C, i, j, k); defaults to
                ``prepared.tensor``. Its values are taken as [-1, 1].
        """
        import torch
        from monai.data import MetaTensor

        src = prepared.tensor
        t = src if tensor is None else tensor
        if tuple(t.shape[-3:]) != tuple(src.shape[-3:]):
            raise DataValidationError(f"tensor shape {tuple(t.shape)} does not match the prepared grid {tuple(src.shape)}")
        if t.ndim == 3:
            t = t[None]
        mt = MetaTensor(t.detach().float().cpu(), meta=dict(src.meta), applied_operations=list(src.applied_operations))
        labels = prepared.modality == "SEG"
        with torch.no_grad():
            restored = self._spatial(labels=labels).inverse(mt)
        affine = restored.affine.cpu().numpy().astype(np.float64)
        arr = restored.array if hasattr(restored, "array") else restored.numpy()
        arr = np.asarray(arr)
        if labels:
            values = np.rint(arr)
        else:
            values = self.to_intensity(arr, prepared.low, prepared.high)
        values = values[0] if values.shape[0] == 1 else values
        return Volume(array=values.astype(np.float32), affine=affine, modality=prepared.modality)

    def sample_to_volume(self, x: torch.Tensor | np.ndarray, modality: Modality, *, low: float | None = None, high: float | None = None) -> Volume:
        """A generated sample on the training grid, as a Volume with a RAS affine at the training spacing.

        CT samples use the HU window; MR samples need ``low``/``high`` (e.g. the training set's
        median window) or stay in [-1, 1] scaled to [0, 1].
        """
        arr = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
        if arr.ndim == 4 and arr.shape[0] == 1:
            arr = arr[0]
        if modality == "CT":
            lo, hi = self.config.ct_window
        else:
            lo, hi = (low, high) if low is not None and high is not None else (0.0, 1.0)
        spacing = self.config.spacing or (1.0, 1.0, 1.0)
        values = self.to_intensity(arr, lo, hi).astype(np.float32)
        return Volume(array=values, affine=grid_affine(spacing, arr.shape[-3:]), modality=modality)


__all__ = ["CT_HU_RANGE", "PreprocessConfig", "Prepared", "VolumePreprocessor"]
