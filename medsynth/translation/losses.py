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
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from medsynth.translation.config import LossConfig


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


def bone_histogram_loss(fake: torch.Tensor, real: torch.Tensor, threshold: float) -> torch.Tensor:
    """:func:`histogram_loss` of the values clipped from below at ``threshold``: only the bone tail counts."""
    return histogram_loss(fake.float().clamp_min(threshold), real.float().clamp_min(threshold))


def paired_l1(fake: torch.Tensor, target: torch.Tensor, bone_threshold: float, bone_weight: float = 1.0) -> torch.Tensor:
    """L1 to the registered CT, with the voxels whose ``target`` is above ``bone_threshold`` weighted ``bone_weight``
    (a weighted mean: ``sum(w |fake - target|) / sum(w)``; ``bone_weight`` 1 is the plain mean)."""
    err = (fake.float() - target).abs()
    if bone_weight == 1.0:
        return err.mean()
    w = 1.0 + (bone_weight - 1.0) * (target > bone_threshold).to(err.dtype)
    return (w * err).sum() / w.sum()


def generator_terms(
    out: Mapping[str, torch.Tensor],
    mr: torch.Tensor,
    ct: torch.Tensor,
    paired: torch.Tensor | None,
    weights: LossConfig,
    discriminators: Callable[[torch.Tensor, torch.Tensor], tuple[list[torch.Tensor], torch.Tensor]] | None,
    bone_threshold: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The generators' weighted loss and its terms for one micro-batch.

    Args:
        out: the generators' outputs: ``fake_ct``; ``fake_mr``, ``rec_mr``, ``rec_ct`` when the
            cycle term is on (without them the MR-side terms are left out); ``idt_ct``/``idt_mr``
            when the identity term is on.
        mr: the real MR batch.
        ct: the real CT batch.
        paired: the registered CT under the MR patches, or None.
        weights: the loss weights (0 switches a term off).
        discriminators: (CT scores, MR score) of (fake CT, fake MR), without gradients to the
            discriminators (a list of CT scores: the full-range one and one per HU window, averaged);
            None when ``weights.adversarial`` is 0.
        bone_threshold: ``weights.bone_hu`` on the networks' [-1, 1] scale (the bone tail of ``bone_histogram``
            and the bone voxels that ``paired_bone_weight`` weights).
    """
    w = weights
    both = "fake_mr" in out  # the CT->MR direction ran (loss.cycle > 0): its terms count too
    terms: dict[str, torch.Tensor] = {}
    total = out["fake_ct"].new_zeros(())
    if "rec_mr" in out:
        terms["cycle_mr"] = F.l1_loss(out["rec_mr"].float(), mr)
        terms["cycle_ct"] = F.l1_loss(out["rec_ct"].float(), ct)
        total = total + w.cycle * (terms["cycle_mr"] + terms["cycle_ct"])
    if w.adversarial > 0 and discriminators is not None:
        fake_mr = out["fake_mr"] if both else mr[:0]
        scores_ct, score_mr = discriminators(out["fake_ct"], fake_mr)
        terms["g_adv_ct"] = sum(lsgan_loss(x, True) for x in scores_ct) / len(scores_ct)
        total = total + w.adversarial * terms["g_adv_ct"]
        if both:
            terms["g_adv_mr"] = lsgan_loss(score_mr, True)
            total = total + w.adversarial * terms["g_adv_mr"]
    if w.identity > 0:
        terms["idt_ct"] = F.l1_loss(out["idt_ct"].float(), ct)
        terms["idt_mr"] = F.l1_loss(out["idt_mr"].float(), mr)
        total = total + w.identity * (terms["idt_ct"] + terms["idt_mr"])
    if w.structure > 0:
        terms["struct_ct"] = structure_loss(mr, out["fake_ct"])
        total = total + w.structure * terms["struct_ct"]
        if both:
            terms["struct_mr"] = structure_loss(ct, out["fake_mr"])
            total = total + w.structure * terms["struct_mr"]
    if w.histogram > 0:
        terms["hist_ct"] = histogram_loss(out["fake_ct"], ct)
        total = total + w.histogram * terms["hist_ct"]
        if both:
            terms["hist_mr"] = histogram_loss(out["fake_mr"], mr)
            total = total + w.histogram * terms["hist_mr"]
    if w.bone_histogram > 0:
        terms["hist_bone"] = bone_histogram_loss(out["fake_ct"], ct, bone_threshold)
        total = total + w.bone_histogram * terms["hist_bone"]
    if paired is not None and w.paired > 0:
        terms["paired_l1"] = paired_l1(out["fake_ct"], paired, bone_threshold, w.paired_bone_weight)
        total = total + w.paired * terms["paired_l1"]
    if paired is not None and w.bone_segmentation > 0 and "bone_logit" in out:
        terms["bone_seg"] = bone_segmentation_loss(out["bone_logit"], out["bone_value"], paired, bone_threshold)
        total = total + w.bone_segmentation * terms["bone_seg"]
    return total, terms


def bone_segmentation_loss(logit: torch.Tensor, bone_value: torch.Tensor, paired: torch.Tensor,
                           bone_threshold: float) -> torch.Tensor:
    """The bone head's terms against the registered CT (``paired``, network scale): binary cross-entropy plus a
    soft Dice loss of the bone probability against the mask ``paired > bone_threshold`` (Dice weighs the ~3% of
    bone voxels as much as the rest), plus the L1 of the bone value to the CT inside that mask."""
    logit, bone_value, paired = logit.float(), bone_value.float(), paired.float()
    mask = (paired > bone_threshold).float()
    bce = F.binary_cross_entropy_with_logits(logit, mask)
    p = torch.sigmoid(logit)
    dice = 1 - (2 * (p * mask).sum() + 1.0) / (p.sum() + mask.sum() + 1.0)
    value = (mask * (bone_value - paired).abs()).sum() / mask.sum().clamp_min(1.0)
    return bce + dice + value


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


__all__ = ["ImagePool", "bone_histogram_loss", "bone_segmentation_loss", "generator_terms", "histogram_loss", "linear_decay", "lsgan_loss", "mind", "paired_l1", "structure_loss"]
