"""CycleGAN's networks on MONAI blocks: one code path for 2D and 3D via ``spatial_dims``.

* :class:`ResnetGenerator`: CycleGAN's generator (Zhu et al. 2017): a 7-wide stem (``stem_kernel``), ``n_down``
  stride-2 convolutions, residual blocks, then nearest-neighbour upsampling + convolution (not
  transposed convolutions, whose checkerboard pattern shows in HU), a head as wide as the stem and ``tanh``.
* ``"unet"``: MONAI's UNet with a ``tanh`` head.
* :func:`build_discriminator`: MONAI's ``PatchDiscriminator`` (LSGAN: no sigmoid), instance norm.
"""

from __future__ import annotations

import torch
from monai.networks.blocks import Convolution
from torch import nn

from medsynth.translation.config import CycleGANConfig, DiscriminatorConfig, GeneratorConfig


def _norm(name: str, channels: int) -> tuple | str:
    if name == "GROUP":
        return ("GROUP", {"num_groups": min(8, channels)})
    return name


class ResidualBlock(nn.Module):
    """x + conv-norm-relu-conv-norm(x), as in CycleGAN's ResNet generator."""

    def __init__(self, spatial_dims: int, channels: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            Convolution(spatial_dims, channels, channels, kernel_size=3, act="RELU", norm=_norm(norm, channels)),
            Convolution(spatial_dims, channels, channels, kernel_size=3, act=None, norm=_norm(norm, channels)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's ResNet generator for 2D or 3D images with values in [-1, 1].

    Args:
        spatial_dims: 2 or 3.
        in_channels: input channels (the slice-stack depth in 2.5D).
        out_channels: output channels.
        config: widths, depth and normalisation.
    """

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, config: GeneratorConfig) -> None:
        super().__init__()
        ch = config.base_channels
        norm = config.norm
        k = config.stem_kernel
        layers: list[nn.Module] = [Convolution(spatial_dims, in_channels, ch, kernel_size=k, act="RELU", norm=_norm(norm, ch))]
        for _ in range(config.n_down):
            layers.append(Convolution(spatial_dims, ch, ch * 2, strides=2, kernel_size=3, act="RELU", norm=_norm(norm, ch * 2)))
            ch *= 2
        layers.extend(ResidualBlock(spatial_dims, ch, norm) for _ in range(config.n_res_blocks))
        for _ in range(config.n_down):
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            layers.append(Convolution(spatial_dims, ch, ch // 2, kernel_size=3, act="RELU", norm=_norm(norm, ch // 2)))
            ch //= 2
        layers.append(Convolution(spatial_dims, ch, out_channels, kernel_size=k, conv_only=True))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(x))


class UNetGenerator(nn.Module):
    """MONAI's UNet with a tanh head (outputs in [-1, 1])."""

    def __init__(self, spatial_dims: int, in_channels: int, out_channels: int, config: GeneratorConfig) -> None:
        super().__init__()
        from monai.networks.nets import UNet

        chans = [config.base_channels * 2**i for i in range(config.n_down + 1)]
        self.net = UNet(
            spatial_dims=spatial_dims,
            in_channels=in_channels,
            out_channels=out_channels,
            channels=chans,
            strides=[2] * config.n_down,
            num_res_units=min(config.n_res_blocks, 2),
            norm=_norm(config.norm, config.base_channels),
            act="RELU",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(x))


class PatchGAN(nn.Module):
    """MONAI's PatchDiscriminator returning only its final patch map (LSGAN scores, no sigmoid)."""

    def __init__(self, spatial_dims: int, in_channels: int, config: DiscriminatorConfig) -> None:
        super().__init__()
        from monai.networks.nets import PatchDiscriminator

        self.net = PatchDiscriminator(
            spatial_dims=spatial_dims,
            channels=config.channels,
            in_channels=in_channels,
            out_channels=1,
            num_layers_d=config.num_layers,
            norm="INSTANCE",
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[-1]


class BoneHeadGenerator(nn.Module):
    """A generator with a bone head (``loss.bone_segmentation``): its network gives, per output channel, a value for
    bone, a value for everything else and a bone logit; the output is their mixture ``p * bone + (1 - p) * other``
    with ``p = sigmoid(logit - offset)`` (``offset`` 0 in training, set by the calibration after it), in [-1, 1] like the plain generator's, so every caller (inference, the other
    loss terms) sees one image. :meth:`parts` also returns the logit and the bone value, which the bone terms
    supervise with the registered CT's bone mask. An L1 alone regresses a voxel that is bone in some of the
    images that look like it to soft tissue (bone 380 HU low, Dice 0.14 on real anatomy); the head decides
    "bone or not" and the bone value keeps bone's HU."""

    def __init__(self, cls: type[nn.Module], spatial_dims: int, in_channels: int, out_channels: int,
                 config: GeneratorConfig) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.body = cls(spatial_dims, in_channels, 3 * out_channels, config)
        # subtracted from the logit when mixing: 0 in training; after it, the logit of the probability that, made the
        # mixing's 0.5, gave the training pairs' synthetic CTs the best bone (CycleGANTranslator.calibrate_bone_head)
        self.register_buffer("offset", torch.zeros(()))

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(the mixed output, the bone logit, the bone value), each with ``out_channels`` channels."""
        raw = self.body.net(x)  # (the body's own forward would squash the logit with tanh)
        c = self.out_channels
        other, bone, logit = torch.tanh(raw[:, :c]), torch.tanh(raw[:, c : 2 * c]), raw[:, 2 * c :]
        p = torch.sigmoid(logit - self.offset.to(logit.dtype))
        return p * bone + (1 - p) * other, logit, bone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.parts(x)[0]


def build_generator(config: CycleGANConfig, *, bone_head: bool = False) -> nn.Module:
    """One generator (both directions use the same architecture); ``bone_head`` for MR -> CT with
    ``loss.bone_segmentation`` (:class:`BoneHeadGenerator`)."""
    cls = ResnetGenerator if config.generator.arch == "resnet" else UNetGenerator
    if bone_head:
        return BoneHeadGenerator(cls, config.net_dims, config.channels, config.channels, config.generator)
    return cls(config.net_dims, config.channels, config.channels, config.generator)


def build_discriminator(config: CycleGANConfig) -> nn.Module:
    """One PatchGAN discriminator (it sees the whole slice stack in 2.5D)."""
    return PatchGAN(config.net_dims, config.channels, config.discriminator)


__all__ = ["BoneHeadGenerator", "PatchGAN", "ResidualBlock", "ResnetGenerator", "UNetGenerator", "build_discriminator", "build_generator"]
