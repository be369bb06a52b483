"""The imaging objectives as plain functions (kept apart from the networks and the training loop)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kl_per_voxel(mu: torch.Tensor, sigma: torch.Tensor, n_voxels: int) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) summed over latent elements, divided by the image's voxel count, batch mean."""
    var = sigma.float().pow(2)
    kl = 0.5 * (mu.float().pow(2) + var - torch.log(var.clamp_min(1e-12)) - 1.0)
    return kl.flatten(1).sum(1).mean() / float(n_voxels)


def d_loss(real: torch.Tensor, fake: torch.Tensor, kind: str = "hinge") -> torch.Tensor:
    """Discriminator loss on real and fake scores (``hinge`` or ``nonsaturating``)."""
    real, fake = real.float(), fake.float()
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_loss(fake: torch.Tensor, kind: str = "hinge") -> torch.Tensor:
    """Generator loss on the scores of its samples."""
    fake = fake.float()
    if kind == "hinge":
        return -fake.mean()
    return F.softplus(-fake).mean()


def lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Least-squares discriminator loss for patch outputs (VAE-GAN)."""
    return 0.5 * ((real.float() - 1.0).pow(2).mean() + fake.float().pow(2).mean())


def lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    """Least-squares generator loss for patch outputs."""
    return 0.5 * (fake.float() - 1.0).pow(2).mean()


def diff_augment(x: torch.Tensor, *, max_shift: float = 0.125, generator: torch.Generator | None = None) -> torch.Tensor:
    """Differentiable augmentation applied alike to real and fake discriminator inputs (DiffAugment).

    Per sample: a brightness shift (+-0.1), a contrast scale (0.8-1.2) around the mean and an integer
    translation of up to ``max_shift`` of each axis (zero-filled with the background value -1).
    """
    b = x.shape[0]
    shape = (b,) + (1,) * (x.ndim - 1)
    dev = x.device
    bright = (torch.rand(shape, generator=generator) - 0.5).to(dev, x.dtype) * 0.2
    contrast = (torch.rand(shape, generator=generator) * 0.4 + 0.8).to(dev, x.dtype)
    mean = x.mean(dim=tuple(range(1, x.ndim)), keepdim=True)
    x = (x - mean) * contrast + mean + bright
    spatial = x.shape[2:]
    pad = [int(round(s * max_shift)) for s in spatial]
    if max(pad) == 0:
        return x
    padded = F.pad(x, [p for s in reversed(pad) for p in (s, s)], value=-1.0)
    out = torch.empty_like(x)
    for i in range(b):
        starts = [int(torch.randint(0, 2 * p + 1, (1,), generator=generator)) for p in pad]
        idx = (i, slice(None), *(slice(st, st + s) for st, s in zip(starts, spatial)))
        out[i] = padded[idx]
    return out


__all__ = ["d_loss", "diff_augment", "g_loss", "kl_per_voxel", "lsgan_d", "lsgan_g"]
