"""The math of CycleGAN training, apart from weights and pipelines.

* :func:`lsgan_loss`: least-squares GAN loss (Mao et al. 2017), as in CycleGAN.
* :class:`ImagePool`: a history of generated images for the discriminators (Shrivastava et al. 2017),
  driven by an explicit numpy Generator so that a resumed run draws exactly what an uninterrupted
  one would.
* :func:`linear_decay`: constant learning rate, then linear decay to zero.
* :func:`mind` / :func:`structure_loss`: the MIND descriptor (Heinrich et al. 2012) and the L1
  distance between the descriptors of a generator's input and output, the structure-consistency
  term of structure-constrained CycleGANs (Yang et al. 2018): modality independent, so it keeps
  edges and thin layers of the MR in place in the synthetic CT whatever their contrast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F


def lsgan_loss(prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    """Mean squared distance of the discriminator's patch scores to 1 (real) or 0 (fake)."""
    pred = prediction.float()
    target = torch.ones_like(pred) if target_is_real else torch.zeros_like(pred)
    return F.mse_loss(pred, target)


def linear_decay(max_steps: int, decay_start: float) -> Callable[[int], float]:
    """LambdaLR factor: 1 until ``decay_start * max_steps`` steps, then linearly to 0 at ``max_steps``.

    Args:
        max_steps: total optimisation steps.
        decay_start: fraction of the run kept at the full rate (CycleGAN: half).
    """
    start = int(round(decay_start * max_steps))
    span = max(1, max_steps - start)

    def factor(done: int) -> float:
        if done < start:
            return 1.0
        return max(0.0, 1.0 - (done - start) / span)

    return factor


def mind(x: torch.Tensor, radius: int = 1, eps: float = 1e-3) -> torch.Tensor:
    """MIND descriptor of (n, c, *spatial) images, 2D or 3D, each channel on its own.

    For each of the 2 * dims nearest-neighbour offsets r: D_r = local mean of (x - x shifted by r)^2
    over a (2 * radius + 1) box; V = mean of the D_r (local variance estimate); MIND_r = exp(-D_r / V),
    scaled so its maximum over r is 1. Returns (n, c * 2 * dims, *spatial).
    """
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    nd = len(spatial)
    x = x.float().reshape(n * c, 1, *spatial)
    pad = [1, 1] * nd
    xp = F.pad(x, pad, mode="replicate")
    pool = F.avg_pool2d if nd == 2 else F.avg_pool3d
    ds = []
    for axis in range(nd):
        for step in (-1, 1):
            idx = [slice(None), slice(None)] + [slice(1, 1 + s) for s in spatial]
            idx[2 + axis] = slice(1 + step, 1 + step + spatial[axis])
            d = (x - xp[tuple(idx)]) ** 2
            d = pool(F.pad(d, [radius, radius] * nd, mode="replicate"), 2 * radius + 1, stride=1)
            ds.append(d)
    dist = torch.cat(ds, 1)
    var = dist.mean(1, keepdim=True).clamp_min(eps)
    desc = torch.exp(-dist / var)
    desc = desc / desc.amax(1, keepdim=True).clamp_min(eps)
    return desc.reshape(n, c * 2 * nd, *spatial)


def structure_loss(source: torch.Tensor, translated: torch.Tensor) -> torch.Tensor:
    """Mean |MIND(source) - MIND(translated)|: structure consistency across modalities."""
    return F.l1_loss(mind(translated), mind(source).detach())


def histogram_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the sorted values of ``fake`` and ``real`` (same number of values).

    That is the Wasserstein-1 distance between the two empirical intensity distributions; its
    gradient moves each synthetic value towards the real value of the same rank by a fixed step,
    so a small bias of a whole tissue (50 HU) is pushed as hard as a large one (an L2 version
    barely moves small biases). When the generator's output has the target's distribution, the
    fake and real batches are exchangeable and the expected gradient is zero. ``real`` is detached:
    only the generator that made ``fake`` learns from it.
    """
    f = fake.float().flatten().sort().values
    r = real.detach().float().flatten().sort().values
    if f.numel() != r.numel():
        raise ValueError(f"histogram_loss needs batches of equal size, got {f.numel()} and {r.numel()} values")
    return F.l1_loss(f, r)


class ImagePool:
    """Keeps up to ``size`` generated images; a query returns a mix of new and remembered ones.

    With probability 1/2 each new image replaces a random remembered one, which is returned instead,
    so the discriminator also sees older generator outputs and the training oscillates less.

    Args:
        size: images kept (0 returns the input unchanged).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """Images for the discriminator (detached), the pool updated."""
        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for img in images:
            img = img.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif rng.uniform() < 0.5:
                i = int(rng.integers(len(self.images)))
                out.append(self.images[i].to(img.device).clone())
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.cat(out, 0)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The pooled images, for a checkpoint."""
        if not self.images:
            return {"images": torch.empty(0)}
        return {"images": torch.cat(self.images, 0).cpu()}

    def load_state_dict(self, state: Mapping[str, torch.Tensor], device: torch.device | str = "cpu") -> None:
        """Restore the pooled images from a checkpoint onto ``device``."""
        imgs = state["images"]
        self.images = [] if imgs.numel() == 0 else [im.unsqueeze(0).to(device) for im in imgs]


__all__ = ["ImagePool", "histogram_loss", "linear_decay", "lsgan_loss", "mind", "structure_loss"]
