"""Networks of the imaging synthesizers, built from MONAI blocks; 2D and 3D through ``spatial_dims``.

* :class:`ConditionalVAE`: MONAI's AutoencoderKL with a class embedding broadcast as extra input
  channels to the encoder and mixed into the latent before the decoder (a conditional VAE).
* :class:`Generator`: noise (+ class embedding) -> a coarse grid -> ``len(channels) - 1`` stages of
  nearest upsampling + MONAI ResidualUnit (GroupNorm) -> tanh.
* :class:`Discriminator`: MONAI Convolution blocks (stride 2, LeakyReLU, no norm) with spectral norm
  on every weight, global sum pooling and a projection head for the class (Miyato & Koyama 2018).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from medsynth.core.errors import ConfigError


def check_spatial_shape(in_shape: Sequence[int], downsamplings: int, *, what: str = "in_shape") -> None:
    """Raise a ConfigError unless every spatial size is divisible by ``2 ** downsamplings``.

    Args:
        in_shape: ``(C, *spatial)``.
        downsamplings: how many times the network halves the grid.

    Raises:
        ConfigError: e.g. "in_shape (1, 97, 96, 96): spatial sizes must be divisible by 8 (2**3
            downsamplings); crop to 96 or pad to 104."
    """
    factor = 2**downsamplings
    bad = sorted({int(s) for s in in_shape[1:] if int(s) % factor})
    if not bad:
        return
    fixes = " and ".join(
        f"crop {s} to {(s // factor) * factor} or pad to {(s // factor + 1) * factor}" if len(bad) > 1
        else f"crop to {(s // factor) * factor} or pad to {(s // factor + 1) * factor}"
        for s in bad
    )
    raise ConfigError(
        f"{what} {tuple(int(s) for s in in_shape)}: spatial sizes must be divisible by {factor} "
        f"(2**{downsamplings} downsamplings); {fixes} (set preprocessing.spatial_size), or use fewer levels."
    )


def _broadcast(emb: torch.Tensor, spatial: Sequence[int]) -> torch.Tensor:
    """(B, E) -> (B, E, *spatial)."""
    return emb.view(*emb.shape, *([1] * len(spatial))).expand(*emb.shape, *spatial)


class ConditionalVAE(nn.Module):
    """A KL-regularised autoencoder (MONAI AutoencoderKL) with optional class conditioning.

    Args:
        spatial_dims: 2 or 3.
        channels: feature maps per level (``len - 1`` downsamplings).
        latent_channels: channels of the spatial latent.
        num_res_blocks: residual blocks per level.
        norm_num_groups: GroupNorm groups.
        n_classes: number of classes (0 = unconditional).
        embed_dim: class embedding size.
        use_checkpoint: gradient checkpointing in encoder and decoder.
    """

    def __init__(
        self,
        spatial_dims: int,
        channels: Sequence[int],
        latent_channels: int,
        num_res_blocks: int,
        norm_num_groups: int,
        n_classes: int = 0,
        embed_dim: int = 8,
        use_checkpoint: bool = False,
    ) -> None:
        super().__init__()
        from monai.networks.blocks import Convolution
        from monai.networks.nets import AutoencoderKL

        bad = [c for c in channels if c % norm_num_groups]
        if bad:
            raise ConfigError(
                f"model.channels {list(channels)}: {bad} not divisible by model.norm_num_groups={norm_num_groups}; "
                "use multiples of it or lower norm_num_groups"
            )
        self.spatial_dims = spatial_dims
        self.n_classes = n_classes
        self.downsamplings = len(channels) - 1
        extra = embed_dim if n_classes > 0 else 0
        self.ae = AutoencoderKL(
            spatial_dims=spatial_dims,
            in_channels=1 + extra,
            out_channels=1,
            channels=tuple(channels),
            latent_channels=latent_channels,
            num_res_blocks=num_res_blocks,
            norm_num_groups=norm_num_groups,
            attention_levels=(False,) * len(channels),
            with_encoder_nonlocal_attn=False,
            with_decoder_nonlocal_attn=False,
            use_checkpoint=use_checkpoint,
        )
        if n_classes > 0:
            self.embed = nn.Embedding(n_classes, embed_dim)
            # The decoder sees the latent and the class: a 1x1 conv over [z, embedding].
            self.ae.post_quant_conv = Convolution(
                spatial_dims=spatial_dims, in_channels=latent_channels + embed_dim, out_channels=latent_channels,
                strides=1, kernel_size=1, padding=0, conv_only=True,
            )
        else:
            self.embed = None
        self.latent_channels = latent_channels

    def latent_shape(self, spatial: Sequence[int]) -> tuple[int, ...]:
        """The latent's shape (without batch) for images of spatial size ``spatial``."""
        f = 2**self.downsamplings
        return (self.latent_channels, *(int(s) // f for s in spatial))

    def _cond(self, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if self.embed is None:
            return t
        if labels is None:
            raise ConfigError("this model is class-conditional: give a label for every sample")
        emb = self.embed(labels).to(t.dtype)
        return torch.cat([t, _broadcast(emb, t.shape[2:])], dim=1)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation of the latent."""
        return self.ae.encode(self._cond(x, labels))

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Decode a latent (B, latent_channels, *latent_spatial) to an image (B, 1, *spatial)."""
        return self.ae.decode(self._cond(z, labels))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, sigma = self.encode(x, labels)
        z = mu + torch.randn_like(sigma) * sigma
        return self.decode(z, labels), mu, sigma


def _groups(width: int, groups: int) -> int:
    g = min(groups, width)
    while width % g:
        g -= 1
    return g


class Generator(nn.Module):
    """Noise (+ class) -> image in [-1, 1].

    Args:
        spatial_dims: 2 or 3.
        out_spatial: the output grid (each size divisible by ``2 ** (len(channels) - 1)``).
        latent_dim: noise size.
        channels: widths from the coarsest grid to the finest.
        norm_num_groups: GroupNorm groups (capped per width).
        n_classes: number of classes (0 = unconditional).
        embed_dim: class embedding size.
    """

    def __init__(
        self,
        spatial_dims: int,
        out_spatial: Sequence[int],
        latent_dim: int,
        channels: Sequence[int],
        norm_num_groups: int = 8,
        n_classes: int = 0,
        embed_dim: int = 16,
    ) -> None:
        super().__init__()
        from monai.networks.blocks import Convolution, ResidualUnit, UpSample

        n_up = len(channels) - 1
        check_spatial_shape((1, *out_spatial), n_up, what="in_shape")
        self.spatial_dims = spatial_dims
        self.latent_dim = latent_dim
        self.n_classes = n_classes
        self.base = tuple(int(s) // 2**n_up for s in out_spatial)
        self.embed = nn.Embedding(n_classes, embed_dim) if n_classes > 0 else None
        in_dim = latent_dim + (embed_dim if n_classes > 0 else 0)
        n_base = 1
        for s in self.base:
            n_base *= s
        self.fc = nn.Linear(in_dim, channels[0] * n_base)
        self.c0 = channels[0]

        def block(c_in: int, c_out: int) -> nn.Module:
            return ResidualUnit(
                spatial_dims=spatial_dims, in_channels=c_in, out_channels=c_out, subunits=2,
                act=("LEAKYRELU", {"negative_slope": 0.2}),
                norm=("GROUP", {"num_groups": _groups(c_out, norm_num_groups)}), adn_ordering="NDA",
            )

        layers: list[nn.Module] = [block(channels[0], channels[0])]
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers.append(UpSample(spatial_dims, c_in, c_in, scale_factor=2, mode="nontrainable", interp_mode="nearest", align_corners=None))
            layers.append(block(c_in, c_out))
        layers.append(Convolution(spatial_dims, channels[-1], 1, kernel_size=3, conv_only=True))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            if labels is None:
                raise ConfigError("this model is class-conditional: give a label for every sample")
            z = torch.cat([z, self.embed(labels).to(z.dtype)], dim=1)
        h = self.fc(z).view(z.shape[0], self.c0, *self.base)
        return torch.tanh(self.body(h))


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Apply spectral norm (torch parametrization) to every conv and linear weight in ``module``."""
    from torch.nn.utils.parametrizations import spectral_norm

    for name, child in list(module.named_children()):
        if isinstance(child, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear, nn.Embedding)):
            setattr(module, name, spectral_norm(child))
        else:
            spectral_normalize(child)
    return module


class Discriminator(nn.Module):
    """Image (+ class) -> one realness score per sample (projection discriminator, spectral norm).

    Args:
        spatial_dims: 2 or 3.
        channels: widths; each entry is one stride-2 block.
        n_classes: number of classes (0 = unconditional).
    """

    def __init__(self, spatial_dims: int, channels: Sequence[int], n_classes: int = 0) -> None:
        super().__init__()
        from monai.networks.blocks import Convolution

        act = ("LEAKYRELU", {"negative_slope": 0.2})
        layers: list[nn.Module] = []
        c_prev = 1
        for c in channels:
            layers.append(Convolution(spatial_dims, c_prev, c, strides=2, kernel_size=4, padding=1, act=act, norm=None))
            layers.append(Convolution(spatial_dims, c, c, strides=1, kernel_size=3, act=act, norm=None))
            c_prev = c
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c_prev, 1)
        self.embed = nn.Embedding(n_classes, c_prev) if n_classes > 0 else None
        spectral_normalize(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x)
        h = h.sum(dim=tuple(range(2, h.ndim)))  # global sum pooling
        out = self.head(h).squeeze(1)
        if self.embed is not None and labels is not None:
            out = out + (self.embed(labels) * h).sum(dim=1)
        return out


__all__ = ["ConditionalVAE", "Discriminator", "Generator", "check_spatial_shape", "spectral_normalize"]
