"""Sliding-window inference: stitching is exact (no seams) for every mode; the body mask is right."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medsynth.io.phantoms import make_phantom
from medsynth.translation.config import CycleGANConfig
from medsynth.translation.data import correct_bias, ct_body_mask, mr_body_mask
from medsynth.translation.inference import sliding_translate


class Scale(torch.nn.Module):
    """A stand-in generator with a known answer: halves its input, channel by channel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x


@pytest.mark.parametrize(
    "dims,patch,roi",
    [(2, [16, 16], None), (2.5, [16, 16], None), (3, [16, 16, 16], [16, 16, 8]), (2, [16, 16], [32, 32]),
     (2, [16, 16], "patch"), (2.5, [16, 16], "patch"), (3, [16, 16, 12], "patch")],
)
def test_stitching_is_exact(dims: float, patch: list[int], roi: list[int] | str | None):
    cfg = CycleGANConfig.model_validate({
        "spatial_dims": dims,
        "data": {"patch_size": patch, "context_slices": 2},
        "discriminator": {"num_layers": 2},
        "inference": {"roi_size": roi, "overlap": 0.5, "sw_batch_size": 3},
    })
    x = torch.rand(1, 1, 37, 29, 11) * 2 - 1  # sizes that are not multiples of the window
    y = sliding_translate(Scale(), x, cfg)
    assert y.shape == x.shape
    torch.testing.assert_close(y, 0.5 * x, atol=1e-5, rtol=0)


def test_body_masks_cover_the_phantom_body():
    ph = make_phantom(3)
    body = ph.labels.array > 0
    mr_mask = mr_body_mask(ph.mr.array, ph.mr.affine)
    ct_mask = ct_body_mask(ph.ct.array, ph.ct.affine)
    assert (body & ~mr_mask).sum() <= 0.001 * body.sum()  # almost no body voxel is lost to air
    assert (mr_mask & ~body).sum() <= 0.15 * body.sum()  # at most a partial-volume rim is added
    assert (body ^ ct_mask).sum() <= 0.02 * body.sum()


def test_bias_correction_flattens_a_smooth_field():
    rng = np.random.default_rng(0)
    mask = np.zeros((40, 40, 20), dtype=bool)
    mask[5:35, 5:35, 2:18] = True
    field = np.exp(0.3 * np.linspace(-1, 1, 40))[:, None, None] * np.ones((40, 40, 20))
    img = np.where(mask, 500.0 * field, 0.0) + rng.normal(0, 1, mask.shape)
    out = correct_bias(img, mask, (2.0, 2.0, 2.0), sigma_mm=20.0)
    core = np.zeros_like(mask)
    core[12:28, 12:28, 6:14] = True
    before = img[core].std() / img[core].mean()
    after = out[core].std() / out[core].mean()
    assert after < 0.5 * before


@pytest.mark.parametrize("dims,patch,want", [(2, [16, 16], (40, 32, 1)), (2.5, [16, 16], (40, 32, 5)), (3, [16, 16, 8], (40, 32, 8))])
def test_default_window_is_the_whole_slice(dims: float, patch: list[int], want: tuple[int, int, int]):
    cfg = CycleGANConfig.model_validate({"spatial_dims": dims, "data": {"patch_size": patch, "context_slices": 2},
                                         "discriminator": {"num_layers": 1}})
    assert cfg.inference.roi_size is None
    assert cfg.roi_3d((37, 29, 11)) == want  # rounded up to a multiple of 2**n_down = 4
    explicit = cfg.model_copy(update={"inference": cfg.inference.model_copy(update={"roi_size": tuple(patch)})})
    assert explicit.roi_3d((37, 29, 11))[:2] == (16, 16)


class AddRamp(torch.nn.Module):
    """A stand-in generator that is not mirror-symmetric: adds a ramp along the first spatial axis."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ramp = torch.linspace(0.0, 1.0, x.shape[2]).reshape(1, 1, -1, *([1] * (x.ndim - 3)))
        return x + ramp


@pytest.mark.parametrize("dims,patch", [(2, [16, 16]), (2.5, [16, 16]), (3, [16, 16, 16])])
def test_mirroring_averages_the_mirrored_predictions(dims: float, patch: list[int]):
    base = {"spatial_dims": dims, "data": {"patch_size": patch, "context_slices": 1}, "discriminator": {"num_layers": 2}}
    x = torch.rand(1, 1, 16, 16, 16) * 2 - 1
    plain = sliding_translate(AddRamp(), x, CycleGANConfig.model_validate({**base, "inference": {"mirror_axes": []}}))
    mirrored = sliding_translate(AddRamp(), x, CycleGANConfig.model_validate(base))  # default: [0], left-right
    ramp = torch.linspace(0.0, 1.0, 16).reshape(1, 1, -1, 1, 1)
    torch.testing.assert_close(plain, (x + ramp).clamp(-1, 1), atol=1e-5, rtol=0)
    # mean of f(x) and flip(f(flip(x))): the ramp and its mirror image average to a constant 0.5
    torch.testing.assert_close(mirrored, (x + 0.5).clamp(-1, 1), atol=1e-5, rtol=0)


@pytest.mark.parametrize("dims,patch,want", [(2, [16, 24], (16, 24, 1)), (2.5, [16, 24], (16, 24, 5)), (3, [16, 24, 8], (16, 24, 8))])
def test_patch_window_is_the_training_patch(dims: float, patch: list[int], want: tuple[int, int, int]):
    cfg = CycleGANConfig.model_validate({"spatial_dims": dims, "data": {"patch_size": patch, "context_slices": 2},
                                         "discriminator": {"num_layers": 1}, "inference": {"roi_size": "patch"}})
    assert cfg.roi_3d((37, 29, 11)) == want  # whatever the volume's size
    with pytest.raises(ValueError, match="roi_size"):
        CycleGANConfig.model_validate({"spatial_dims": dims, "data": {"patch_size": patch}, "inference": {"roi_size": "slice"}})


def test_shipped_configs_use_training_patch_windows():
    from pathlib import Path

    from medsynth.core.config import load_config

    configs = Path(__file__).resolve().parents[2] / "configs"
    for name in ("mr2ct_cyclegan_2d.yaml", "mr2ct_cyclegan_25d.yaml", "mr2ct_cyclegan_3d.yaml"):
        cfg = load_config(CycleGANConfig, configs / name, overrides=["data.patch_size=[32,32]" if "3d" not in name else "data.patch_size=[32,32,24]"])
        assert cfg.inference.roi_size == "patch" and cfg.roi_3d((200, 180, 40))[:2] == (32, 32)


def test_mirror_axes_are_checked():
    with pytest.raises(ValueError, match=r"inference.mirror_axes \[2\].*k is the slice axis"):
        CycleGANConfig.model_validate({"spatial_dims": 2, "data": {"patch_size": [64, 64]}, "inference": {"mirror_axes": [2]}})
    with pytest.raises(ValueError, match=r"inference.mirror_axes \[0, 0\]"):
        CycleGANConfig.model_validate({"spatial_dims": 3, "data": {"patch_size": [64, 64, 32]}, "inference": {"mirror_axes": [0, 0]}})
