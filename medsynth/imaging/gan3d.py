"""``gan3d``: a class-conditional GAN for CT/MR volumes with a stable recipe.

* Generator: noise + class embedding -> MONAI ResidualUnits with GroupNorm and nearest upsampling.
* Discriminator: spectral norm on every weight, LeakyReLU, global sum pooling, projection head.
* Hinge loss (or non-saturating), two-time-scale learning rates (D at ``disc_lr_scale`` x lr),
  Adam(0, 0.99), differentiable augmentation of D's inputs (few volumes), and an exponential moving
  average of the generator that is what sampling and saving use.

Example:
    >>> from medsynth.imaging import GAN3D, GAN3DConfig
    >>> gan = GAN3D(GAN3DConfig(modality="MR")).fit("mr_folder/", out="runs/gan", labels_csv="labels.csv")
    >>> volumes = gan.sample(4, seed=1, label="lesion")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import torch

from medsynth.core.training import EMA, TrainSession, accumulation, unwrap
from medsynth.imaging.base import ImageSynthesizer
from medsynth.imaging.config import GAN3DConfig
from medsynth.imaging.losses import d_loss, diff_augment, g_loss
from medsynth.imaging.networks import Discriminator, Generator, check_spatial_shape


class GAN3D(ImageSynthesizer):
    """A (conditional) GAN for 3D (or 2D) CT/MR; see the module docstring."""

    name: ClassVar[str] = "gan3d"
    config_class: ClassVar[type[GAN3DConfig]] = GAN3DConfig  # type: ignore[assignment]
    saved_networks: ClassVar[tuple[str, ...]] = ("generator_ema",)
    config: GAN3DConfig

    def __init__(self, config: GAN3DConfig | None = None) -> None:
        super().__init__(config)

    def check_shape(self, in_shape: tuple[int, ...]) -> None:
        check_spatial_shape(in_shape, len(self.config.model.gen_channels) - 1)
        n_down = len(self.config.model.disc_channels)
        small = [s for s in in_shape[1:] if s < 2**n_down]
        if small:
            from medsynth.core.errors import ConfigError

            raise ConfigError(
                f"in_shape {tuple(in_shape)}: the discriminator halves the grid {n_down} times, so every size must "
                f"be at least {2**n_down}; use fewer model.disc_channels or a larger spatial_size"
            )

    @property
    def batches_per_step(self) -> int:
        """Each discriminator update draws its own accumulation's worth of batches."""
        return self.config.train.grad_accum_steps * self.config.loss.disc_steps

    def _generator(self) -> Generator:
        m = self.config.model
        return Generator(self.config.spatial_dims, self.spatial, m.latent_dim, m.gen_channels,
                         norm_num_groups=m.norm_num_groups, n_classes=self.n_classes, embed_dim=m.label_embed_dim)

    def build(self) -> None:
        self.nets = {"generator_ema": self._generator().to(self.device).eval()}

    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one noise vector, ``(latent_dim,)``."""
        return (self.config.model.latent_dim,)

    def _decode(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.nets["generator_ema"](z, labels)

    # -- training --------------------------------------------------------------------------------
    def _setup_training(self, session: TrainSession) -> dict[str, Any]:
        cfg = self.config
        gen = self._generator().to(self.device)
        disc = Discriminator(cfg.spatial_dims, cfg.model.disc_channels, n_classes=self.n_classes).to(self.device)
        self._g = session.wrap(gen)
        self._d = session.wrap(disc)
        # After wrapping (DDP broadcasts rank 0's weights), so every rank's EMA starts equal.
        self._ema = EMA(gen, decay=cfg.model.ema_decay)
        self.nets = {"generator": gen, "discriminator": disc, "generator_ema": self._ema.shadow}
        lr, betas = cfg.train.lr, tuple(cfg.loss.betas)
        self._opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=betas)
        self._opt_d = torch.optim.Adam(disc.parameters(), lr=lr * cfg.loss.disc_lr_scale, betas=betas)
        self._scaler = torch.amp.GradScaler("cuda", enabled=cfg.train.precision == "fp16" and session.device.type == "cuda")
        gen.train()
        disc.train()
        return {"generator": gen, "discriminator": disc, "ema": self._ema,
                "opt_g": self._opt_g, "opt_d": self._opt_d, "scaler": self._scaler}

    def _aug(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x) if self.config.loss.augment else x

    def _train_step(self, session: TrainSession, data: Iterator[Any], step: int) -> dict[str, float]:
        cfg, dev = self.config, session.device
        n_acc = cfg.train.grad_accum_steps
        kind = cfg.loss.loss
        g_raw, d_raw = unwrap(self._g), unwrap(self._d)
        out = {"d_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
        micro: list[tuple[torch.Tensor, torch.Tensor | None]] = []
        for _ in range(cfg.loss.disc_steps):
            self._opt_d.zero_grad(set_to_none=True)
            micro = []
            for k in range(n_acc):
                x, y = next(data)
                x = x.to(dev, non_blocking=True)
                y = y.to(dev) if self.n_classes else None
                micro.append((x, y))
                z = torch.randn(x.shape[0], cfg.model.latent_dim, device=dev)
                with torch.no_grad(), session.autocast():
                    fake = g_raw(z, y)
                # One D forward on [real, fake]: DDP sees each parameter used once per backward.
                with accumulation(self._d, k, n_acc):
                    yy = torch.cat([y, y]) if y is not None else None
                    with session.autocast():
                        scores = self._d(self._aug(torch.cat([x, fake.to(x.dtype)])), yy)
                    real_s, fake_s = scores.float().split(x.shape[0])
                    loss = d_loss(real_s, fake_s, kind)
                    self._scaler.scale(loss / n_acc).backward()
                out["d_loss"] += float(loss.detach()) / (n_acc * cfg.loss.disc_steps)
                out["d_real"] += float(real_s.detach().mean()) / (n_acc * cfg.loss.disc_steps)
                out["d_fake"] += float(fake_s.detach().mean()) / (n_acc * cfg.loss.disc_steps)
            self._scaler.step(self._opt_d)
            self._scaler.update()

        # Generator step: D is used unwrapped and frozen, so no D gradient is computed or reduced.
        d_raw.requires_grad_(False)
        self._opt_g.zero_grad(set_to_none=True)
        gl = 0.0
        try:
            for k, (x, y) in enumerate(micro):
                z = torch.randn(x.shape[0], cfg.model.latent_dim, device=dev)
                with accumulation(self._g, k, n_acc):
                    with session.autocast():
                        scores = d_raw(self._aug(self._g(z, y)), y)
                    loss = g_loss(scores, kind)
                    self._scaler.scale(loss / n_acc).backward()
                gl += float(loss.detach()) / n_acc
        finally:
            d_raw.requires_grad_(True)
        self._scaler.step(self._opt_g)
        self._scaler.update()
        # EMA warm-up (decay grows to ema_decay), so short runs are not stuck near the initial weights.
        self._ema.update(g_raw, step)
        out["g_loss"] = gl
        return out


__all__ = ["GAN3D", "GAN3DConfig"]
