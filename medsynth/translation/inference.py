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

from collections.abc import Callable

import torch
import torch.nn.functional as F

from medsynth.translation.config import CycleGANConfig
from medsynth.translation.data import from_net, to_net


def window_predictor(
    net: Callable[[torch.Tensor], torch.Tensor], spatial_dims: float, mirror_axes: tuple[int, ...] = ()
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Wrap a generator so it maps (n, 1, i, j, k) windows to (n, 1, i, j, k) outputs (float32).

    With ``mirror_axes`` (spatial axes, 0 = i), the output is the mean over every subset of them of
    the prediction of the window mirrored along that subset, mirrored back (test-time mirroring).
    """
    import itertools

    subsets = [tuple(2 + a for a in c) for r in range(len(mirror_axes) + 1) for c in itertools.combinations(mirror_axes, r)]

    def once(window: torch.Tensor) -> torch.Tensor:
        return from_net(net(to_net(window, spatial_dims)), spatial_dims).float()

    def predict(window: torch.Tensor) -> torch.Tensor:
        total = once(window)
        for dims in subsets[1:]:
            total = total + torch.flip(once(torch.flip(window, dims)), dims)
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
) -> torch.Tensor:
    """Translate a whole preprocessed volume.

    Args:
        net: the MR->CT generator (in eval mode).
        x: (1, 1, i, j, k) MR in [-1, 1] on the network grid.
        config: the model's config (mode, window, overlap, blending).
        device: where the windows are computed (the stitched output stays on the CPU).
        autocast: a zero-argument callable returning the mixed-precision context.
        progress: show MONAI's progress bar.

    Returns:
        (1, 1, i, j, k) CT in [-1, 1] on the same grid.
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
            predictor=window_predictor(net, dims, tuple(inf.mirror_axes)),
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
    return out.clamp(-1.0, 1.0)


__all__ = ["sliding_translate", "window_predictor"]
