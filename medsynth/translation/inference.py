"""Whole-volume inference by sliding window with overlap blending (MONAI's inferer).

One path for the three modes, because each is a function of a 3D window (i, j, k):

* 3: the 3D generator on (i, j, k) windows;
* 2: the 2D generator on (i, j, 1) windows, i.e. slice by slice;
* 2.5: the 2D generator on (i, j, 2c+1) windows whose k axis becomes channels; the output stack
  is put back along k, so each slice is predicted 2c+1 times (once at each stack position) and the
  predictions are blended with Gaussian weights along k (``inference.depth_sigma``). The volume is
  first padded by c slices (edge values) at both ends so the first and last slices are also
  predicted from centred stacks.

By default a window is the whole slice in-plane (``inference.roi_size: null``): one window per
slice (per stack in 2.5), so there are no in-plane borders at all. Smaller windows overlap
(``inference.overlap``) and are blended with Gaussian weights, so window borders (where a
convolution saw zero padding) carry little weight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from medsynth.core.errors import DataValidationError
from medsynth.io.volume import Volume
from medsynth.translation.config import CycleGANConfig, NonFinite
from medsynth.translation.data import (
    AIR_OUTSIDE_HU,
    InputDimensionError,
    NonFiniteError,
    SourceModalityError,
    from_net,
    modality_problem,
    prepare,
    shape_problem,
    to_net,
)

if TYPE_CHECKING:
    from medsynth.io.transforms import VolumePreprocessor

#: What to do with NaN/inf voxels of an input MR: refuse it, or leave them out and mark them NaN.


def window_predictor(
    net: Callable[[torch.Tensor], torch.Tensor], spatial_dims: float, mirror_axes: tuple[int, ...] = (), *, second_moment: bool = False
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Wrap a generator so it maps (n, 1, i, j, k) windows to (n, 1, i, j, k) outputs (float32).

    With ``mirror_axes`` (spatial axes, 0 = i), the output is the mean over every subset of them of
    the prediction of the window mirrored along that subset, mirrored back (test-time mirroring).
    With ``second_moment`` a second channel holds the mean of the squared predictions, from which
    the spread of the averaged predictions follows (blending is linear, so both channels blend alike).
    """
    import itertools

    subsets = [tuple(2 + a for a in c) for r in range(len(mirror_axes) + 1) for c in itertools.combinations(mirror_axes, r)]

    def once(window: torch.Tensor) -> torch.Tensor:
        return from_net(net(to_net(window, spatial_dims)), spatial_dims).float()

    def predict(window: torch.Tensor) -> torch.Tensor:
        first = once(window)
        total, squares = first, first * first
        for dims in subsets[1:]:
            y = torch.flip(once(torch.flip(window, dims)), dims)
            total = total + y
            squares = squares + y * y
        if second_moment:
            return torch.cat([total, squares], 1) / len(subsets)
        return total / len(subsets)

    return predict


def sliding_translate(
    net: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    config: CycleGANConfig,
    *,
    device: torch.device | str = "cpu",
    autocast: Callable[[], object] | None = None,
    progress: bool = False,
    spread: bool = False,
) -> torch.Tensor:
    """Translate a whole preprocessed volume.

    Args:
        net: the MR->CT generator (in eval mode).
        x: (1, 1, i, j, k) MR in [-1, 1] on the network grid.
        config: the model's config (mode, window, overlap, blending).
        device: where the windows are computed (the stitched output stays on the CPU).
        autocast: a zero-argument callable returning the mixed-precision context.
        progress: show MONAI's progress bar.
        spread: also return the voxel-wise standard deviation of the predictions averaged into each
            voxel (the test-time mirrorings, and in 2.5D the 2c+1 stack positions, in 3D the
            overlapping windows), weighted as they are blended.

    Returns:
        (1, 1, i, j, k) CT in [-1, 1] on the same grid; with ``spread``, (1, 2, i, j, k): the CT and
        its spread (same units: 1 = half the CT window).
    """
    import contextlib

    from monai.inferers import sliding_window_inference

    inf = config.inference
    dims = config.spatial_dims
    roi = config.roi_3d(tuple(x.shape[2:]))
    pad = 0
    if dims == 2.5:
        pad = config.data.context_slices
        x = F.pad(x, (pad, pad, 0, 0, 0, 0), mode="replicate")
        overlap = (inf.overlap, inf.overlap, (roi[2] - 1) / roi[2])
        sigma = (0.125, 0.125, inf.depth_sigma / roi[2])
    elif dims == 2:
        overlap = (inf.overlap, inf.overlap, 0.0)
        sigma = (0.125, 0.125, 0.125)
    else:
        overlap = (inf.overlap,) * 3
        sigma = (0.125,) * 3
    ctx = autocast() if autocast is not None else contextlib.nullcontext()
    with torch.no_grad(), ctx:  # type: ignore[attr-defined]
        out = sliding_window_inference(
            x,
            roi_size=roi,
            sw_batch_size=inf.sw_batch_size,
            predictor=window_predictor(net, dims, tuple(inf.mirror_axes), second_moment=spread),
            overlap=overlap,
            mode=inf.blend,
            sigma_scale=sigma,
            padding_mode="constant",
            cval=-1.0,
            sw_device=device,
            device="cpu",
            progress=progress,
        )
    out = out.float()
    if pad:
        out = out[..., pad:-pad]
    mean = out[:, :1].clamp(-1.0, 1.0)
    if not spread:
        return mean
    var = (out[:, 1:2] - out[:, :1] ** 2).clamp_min(0.0)
    return torch.cat([mean, var.sqrt()], 1)


@dataclass
class Translation:
    """A synthetic CT and, when asked for, the spread of the predictions averaged into it.

    Attributes:
        ct: the synthetic CT in HU on the MR's grid.
        spread: voxel-wise standard deviation (HU) of the averaged predictions, or None.
        nonfinite: voxels of the input that were not finite (left out and written as NaN).
    """

    ct: Volume
    spread: Volume | None = None
    nonfinite: int = 0


def nonfinite_voxels(volume: Volume) -> int:
    """How many voxels of ``volume`` are NaN or infinite."""
    return int(np.size(volume.array) - np.count_nonzero(np.isfinite(volume.array)))


def check_input(volume: Volume, config: CycleGANConfig, nonfinite: NonFinite = "error") -> None:
    """Refuse an input that cannot be translated, before any work: NaN/inf voxels (unless ``nonfinite="mask"``), CT
    in HU, a multi-channel volume, a single 2D image for a 3D model (:func:`translate_volume` calls it).

    Raises:
        NonFiniteError, SourceModalityError, InputDimensionError: naming the file and what to do.
    """
    name = str(volume.meta.get("source", "volume"))
    bad = nonfinite_voxels(volume)
    if bad and nonfinite != "mask":
        raise NonFiniteError(
            f"'{name}' has {bad} non-finite voxel(s) (NaN or inf) of {volume.array.size}: a synthetic CT would invent HU "
            "there. Fix the input, or leave them out explicitly (translate(..., nonfinite='mask'); CLI: "
            "--nonfinite mask): they are then excluded from the body and written as NaN (no value)."
        )
    if bad:
        volume = volume.with_array(np.where(np.isfinite(volume.array), volume.array, 0.0).astype(np.float32))
    if (problem := shape_problem(volume, name)) is not None:  # (first: a 4D CT was refused for its HU, not for being 4D)
        raise InputDimensionError(problem)
    if (wrong := modality_problem(volume, name, "MR", hint="translate MR volumes (the model's source), not CT")) is not None:
        raise SourceModalityError(wrong)
    shape = volume.spatial_shape
    if config.spatial_dims == 3 and min(shape) == 1:
        raise InputDimensionError(
            f"'{name}' has shape {shape}: a single 2D image, but this model is 3D (spatial_dims 3) and "
            "needs a volume; translate it with a 2D or 2.5D model (configs/mr2ct_cyclegan_2d.yaml)"
        )


#: An input voxel this many times smaller or larger than every training grid's (along an axis) is resampled.
SPACING_TOLERANCE = 1.25


def _mm(spacing: Sequence[float] | None) -> str:
    return "x".join(f"{float(v):.3g}" for v in spacing) if spacing is not None else "?"


def _learned_grid(volume: Volume, config: CycleGANConfig,
                  learned: tuple[Sequence[float], Sequence[float]] | None) -> tuple[float, float, float] | None:
    """The voxel size to translate ``volume`` at when its own (in the preprocessing's axis order) lies outside what the
    model learned (else None). Reads only the affine: the volume is prepared once, on the grid chosen here."""
    if learned is None or config.preprocessing.spacing:
        return None
    orient = config.preprocessing.orientation
    own = volume.spacing_in(orient) if orient else volume.spacing  # (from the affine: no voxel is moved)
    lo, hi = (np.asarray(v, dtype=np.float64) for v in learned)
    axes = 2 if config.spatial_dims == 2 else 3  # a 2D model sees slices: their thickness does not change its scale
    at = np.asarray(own, dtype=np.float64)
    off = False
    for a in range(axes):
        if at[a] < lo[a] / SPACING_TOLERANCE or at[a] > hi[a] * SPACING_TOLERANCE:
            at[a] = min(max(at[a], lo[a]), hi[a])
            off = True
    return tuple(float(v) for v in at) if off else None  # type: ignore[return-value]


def translate_volume(
    net: Callable[[torch.Tensor], torch.Tensor],
    volume: Volume,
    config: CycleGANConfig,
    preprocessor: VolumePreprocessor,
    *,
    device: torch.device | str = "cpu",
    autocast: Callable[[], object] | None = None,
    progress: bool = False,
    spread: bool = False,
    nonfinite: NonFinite = "error",
    learned_spacing: tuple[Sequence[float], Sequence[float]] | None = None,
) -> Translation:
    """Translate one MR volume to CT in HU on the MR's own grid (see :meth:`CycleGANTranslator.translate`).

    ``learned_spacing`` (the smallest and largest voxel size, mm along i, j, k, of the training MR grids): a model
    trained on each volume's own spacing (``preprocessing.spacing`` null) sees anatomy at the scale it learned only
    when the input's voxels are of that size; an input whose voxels are more than ``SPACING_TOLERANCE`` times
    smaller or larger along an axis the network convolves over (i, j; and k unless 2D) is resampled to the nearest
    learned size, translated, and resampled back onto its own grid, with a
    :class:`~medsynth.core.errors.DataWarning` naming both sizes (``meta["translated_at_mm"]`` records it).

    Raises:
        DataValidationError: not a Volume.
        SourceModalityError: the volume looks like CT in HU.
        InputDimensionError: a 2D image given to a 3D model, or a multi-channel volume.
        NonFiniteError: NaN/inf voxels and ``nonfinite="error"``.
    """
    if not isinstance(volume, Volume):
        raise DataValidationError(
            f"translate() takes a medsynth Volume, not {type(volume).__name__}; read files with "
            "medsynth.io.loading.load_volume(path)"
        )
    check_input(volume, config, nonfinite)
    name, shape = str(volume.meta.get("source", "volume")), volume.spatial_shape
    bad = nonfinite_voxels(volume)
    invalid = ~np.isfinite(volume.array) if bad else None
    if invalid is not None:
        volume = volume.with_array(np.where(invalid, 0.0, volume.array).astype(np.float32))
        if invalid.ndim == 4:
            invalid = invalid[0]
    from medsynth.io.transforms import Prepared

    at = _learned_grid(volume, config, learned_spacing)
    if at is not None:
        import warnings

        from medsynth.core.errors import DataWarning
        from medsynth.io.transforms import VolumePreprocessor

        orient = config.preprocessing.orientation
        own = volume.spacing_in(orient) if orient else volume.spacing
        warnings.warn(DataWarning(
            f"'{name}' has voxels of {_mm(own)} mm, but the model learned on {_mm(learned_spacing[0])} to "  # type: ignore[index]
            f"{_mm(learned_spacing[1])} mm: translated at {_mm(at)} mm (the scale of anatomy it learned) and resampled "  # type: ignore[index]
            "back onto the input's grid; train on MR of this voxel size, or set preprocessing.spacing to train and "
            "translate on one grid"), stacklevel=3)
        preprocessor = VolumePreprocessor(config.preprocessing.model_copy(update={"spacing": at}))
    prepared, mask, _ = prepare(volume, "MR", preprocessor, config.data)
    if invalid is not None:
        mask = mask & ~invalid
    x = prepared.tensor
    x = (x.as_tensor() if hasattr(x, "as_tensor") else x)[None].float()
    y = sliding_translate(net, x, config, device=device, autocast=autocast, progress=progress, spread=spread)
    lo, hi = config.preprocessing.ct_window
    ct = preprocessor.invert(Prepared(prepared.tensor, "CT", lo, hi), y[0, :1])
    arr = ct.array
    if arr.shape != shape:
        raise DataValidationError(f"internal: translated shape {arr.shape} differs from the input {shape}; please report this")
    outside = ~mask if config.inference.body_mask else np.zeros(shape, dtype=bool)
    arr = np.where(outside, AIR_OUTSIDE_HU, arr)
    if invalid is not None:
        arr = np.where(invalid, np.nan, arr)
    meta = {
        "source": name,
        "derived_from": "MR",
        "translator": "cyclegan",
        "series_description": "synthetic CT (medsynth CycleGAN MR->CT)",
    }
    if bad:
        meta["nonfinite_input_voxels"] = bad
    if at is not None:
        meta["translated_at_mm"] = list(at)
    if volume.meta.get("frame_of_reference_uid"):  # an MR read from DICOM: written with it only when asked to
        meta["source_frame_of_reference"] = volume.meta["frame_of_reference_uid"]
    meta["derivation"] = "SYNTHETIC CT computed by medsynth (CycleGAN MR->CT) from an MR series, not acquired"
    out = Translation(Volume(arr.astype(np.float32), affine=volume.affine.copy(), modality="CT", units="HU", meta=meta), nonfinite=bad)
    if spread:
        # [-1, 1] units -> HU: the window's half width; inverted through the same spatial steps.
        s = preprocessor.invert(Prepared(prepared.tensor, "CT", 0.0, (hi - lo) / 2.0), y[0, 1:] * 2.0 - 1.0).array
        s = np.where(outside, 0.0, s)
        if invalid is not None:
            s = np.where(invalid, np.nan, s)
        out.spread = Volume(s.astype(np.float32), affine=volume.affine.copy(), modality="OT", units="HU",
                            meta={"source": name, "description": "spread (SD, HU) of the averaged sCT predictions"})
    return out


__all__ = ["NonFinite", "Translation", "nonfinite_voxels", "sliding_translate", "translate_volume", "window_predictor"]
