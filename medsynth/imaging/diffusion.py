"""The diffusion parts of ldm3d, kept apart from the model's weights and its pipeline.

Networks and schedules are MONAI's, used as they are: :class:`~monai.networks.nets.DiffusionModelUNet`,
:class:`~monai.networks.nets.ControlNet`, :class:`~monai.networks.schedulers.RFlowScheduler` and
:class:`~monai.networks.schedulers.DDIMScheduler`, and the inferers that train and sample with them
(:class:`~monai.inferers.DiffusionInferer` on cached latents, :class:`~monai.inferers.LatentDiffusionInferer`
and :class:`~monai.inferers.ControlNetDiffusionInferer` for sampling). This module only builds them
from a config and holds the small pieces of math around them:

* the training target of each scheduler (rectified flow: the velocity ``x0 - noise``; DDIM: ``v``
  or the noise) and how training timesteps are drawn;
* class conditioning as a cross-attention context: a one-hot row per sample, or a row of -1 (the
  inferers' classifier-free-guidance fill value) when the condition is dropped;
* label maps as one-hot channels for ControlNet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from medsynth.core.errors import ConfigError

if TYPE_CHECKING:
    from torch import nn

    from medsynth.imaging.config import DiffusionConfig, UNetConfig

#: The inferers' fill value for an unconditioned sample under classifier-free guidance.
UNCONDITIONED = -1.0


def build_unet(cfg: UNetConfig, spatial_dims: int, latent_channels: int, n_classes: int) -> nn.Module:
    """MONAI's DiffusionModelUNet on the latent; class-conditional through cross-attention when ``n_classes``."""
    from monai.networks.nets import DiffusionModelUNet

    cond = n_classes > 0
    if cond and not any(cfg.attention_levels):
        raise ConfigError("a class-conditional ldm3d needs cross-attention: set at least one of model.unet.attention_levels true")
    return DiffusionModelUNet(
        spatial_dims=spatial_dims, in_channels=latent_channels, out_channels=latent_channels,
        num_res_blocks=cfg.num_res_blocks, channels=tuple(cfg.channels), attention_levels=tuple(cfg.attention_levels),
        norm_num_groups=cfg.norm_num_groups, num_head_channels=cfg.num_head_channels,
        with_conditioning=cond, cross_attention_dim=n_classes if cond else None,
    )


def build_controlnet(cfg: UNetConfig, spatial_dims: int, latent_channels: int, n_classes: int, mask_classes: int,
                     downsamplings: int, unet: nn.Module | None = None) -> nn.Module:
    """MONAI's ControlNet for ``mask_classes`` one-hot label channels at full image resolution.

    Its conditioning encoder halves the grid ``downsamplings`` times (the VAE's factor), so the label
    map reaches the latent grid without being interpolated first. When ``unet`` is given, the shared
    layers start as its trained weights (the ControlNet recipe); the zero convolutions start at 0.
    """
    from monai.networks.nets import ControlNet

    cond = n_classes > 0
    net = ControlNet(
        spatial_dims=spatial_dims, in_channels=latent_channels, num_res_blocks=cfg.num_res_blocks,
        channels=tuple(cfg.channels), attention_levels=tuple(cfg.attention_levels), norm_num_groups=cfg.norm_num_groups,
        num_head_channels=cfg.num_head_channels, with_conditioning=cond, cross_attention_dim=n_classes if cond else None,
        conditioning_embedding_in_channels=mask_classes,
        conditioning_embedding_num_channels=tuple(cfg.controlnet_conditioning * 2**i for i in range(downsamplings + 1)),
    )
    if unet is not None:
        net.load_state_dict(unet.state_dict(), strict=False)
    return net


def build_scheduler(cfg: DiffusionConfig, spatial_dims: int) -> Any:
    """The scheduler named by ``diffusion.scheduler``, with its inference timesteps set."""
    from monai.networks.schedulers import DDIMScheduler, RFlowScheduler

    if cfg.scheduler == "rflow":
        sched = RFlowScheduler(num_train_timesteps=cfg.num_train_timesteps, use_discrete_timesteps=False,
                               sample_method=cfg.timestep_sampling, spatial_dim=spatial_dims)
    else:
        # scaled-linear betas (latent diffusion's); no clipping: latents are not bounded to [-1, 1]
        sched = DDIMScheduler(num_train_timesteps=cfg.num_train_timesteps, schedule="scaled_linear_beta", beta_start=0.0015,
                              beta_end=0.0195, clip_sample=False, prediction_type=cfg.prediction_type)
    sched.set_timesteps(cfg.inference_steps)
    return sched


def training_timesteps(scheduler: Any, latent: torch.Tensor) -> torch.Tensor:
    """Random training timesteps for a batch (drawn from torch's global generator, seeded per step)."""
    from monai.networks.schedulers import RFlowScheduler

    if isinstance(scheduler, RFlowScheduler):
        return scheduler.sample_timesteps(latent)
    return torch.randint(0, scheduler.num_train_timesteps, (latent.shape[0],), device=latent.device).long()


def training_target(scheduler: Any, latent: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
    """What the network learns to predict: RFlow velocity ``x0 - noise``, DDIM ``v`` or ``noise``."""
    from monai.networks.schedulers import RFlowScheduler

    if isinstance(scheduler, RFlowScheduler):
        return latent - noise
    if scheduler.prediction_type == "v_prediction":
        return scheduler.get_velocity(latent, noise, timesteps)
    return noise


def class_context(labels: torch.Tensor | None, n_classes: int, drop: torch.Tensor | None = None) -> torch.Tensor | None:
    """(B, 1, n_classes) one-hot rows for cross-attention; dropped rows are filled with -1 (unconditioned)."""
    if n_classes == 0 or labels is None:
        return None
    ctx = torch.nn.functional.one_hot(labels.long(), n_classes).float()[:, None, :]
    if drop is not None:
        ctx = torch.where(drop.view(-1, 1, 1), torch.full_like(ctx, UNCONDITIONED), ctx)
    return ctx


def one_hot_masks(masks: torch.Tensor, mask_classes: int) -> torch.Tensor:
    """(B, 1, *spatial) integer label maps -> (B, mask_classes, *spatial) float one-hot channels.

    Raises:
        ConfigError: a label value the model was not trained with.
    """
    m = masks.long()
    if m.ndim == masks.ndim and m.shape[1] == 1:
        m = m[:, 0]
    top = int(m.max()) if m.numel() else 0
    if top >= mask_classes or int(m.min()) < 0:
        raise ConfigError(f"label map holds label {top}, but the model knows labels 0..{mask_classes - 1}; relabel it")
    return torch.nn.functional.one_hot(m, mask_classes).movedim(-1, 1).float()


def latent_grid(spatial: Sequence[int], downsamplings: int) -> tuple[int, ...]:
    """The latent's spatial size for an image grid halved ``downsamplings`` times."""
    f = 2**downsamplings
    return tuple(int(s) // f for s in spatial)


__all__ = [
    "UNCONDITIONED",
    "build_controlnet",
    "build_scheduler",
    "build_unet",
    "class_context",
    "latent_grid",
    "one_hot_masks",
    "training_target",
    "training_timesteps",
]
