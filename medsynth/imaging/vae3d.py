"""``vae3d``: a class-conditional KL-VAE on CT/MR volumes (MONAI AutoencoderKL), optionally a VAE-GAN.

Objective per step: L1(x, x_hat) + beta * KL(q(z|x, y) || N(0, I)) (KL per image voxel, warmed up
over ``loss.kl_warmup_steps``), plus, when ``loss.adv_weight > 0``, a least-squares PatchGAN term
(MONAI PatchDiscriminator, instance norm) from ``loss.adv_start_step`` on. Sampling decodes
N(0, I) latents of shape (latent_channels, *spatial / 2**levels).

Example:
    >>> from medsynth.imaging import VAE3D, VAE3DConfig
    >>> vae = VAE3D(VAE3DConfig(modality="CT")).fit("ct_folder/", out="runs/vae")
    >>> volumes = vae.sample(8, seed=0)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import torch

from medsynth.core.errors import ConfigError
from medsynth.core.training import TrainSession, accumulation, unwrap
from medsynth.imaging.base import ImageSynthesizer
from medsynth.imaging.config import VAE3DConfig
from medsynth.imaging.losses import kl_per_voxel, lsgan_d, lsgan_g
from medsynth.imaging.networks import ConditionalVAE, check_spatial_shape
from medsynth.io.volume import Volume


class VAE3D(ImageSynthesizer):
    """A (conditional) variational autoencoder for 3D (or 2D) CT/MR; see the module docstring."""

    name: ClassVar[str] = "vae3d"
    config_class: ClassVar[type[VAE3DConfig]] = VAE3DConfig  # type: ignore[assignment]
    saved_networks: ClassVar[tuple[str, ...]] = ("vae",)
    config: VAE3DConfig

    def __init__(self, config: VAE3DConfig | None = None) -> None:
        super().__init__(config)

    def check_shape(self, in_shape: tuple[int, ...]) -> None:
        check_spatial_shape(in_shape, len(self.config.model.channels) - 1)

    def build(self) -> None:
        m = self.config.model
        self.nets = {
            "vae": ConditionalVAE(
                self.config.spatial_dims, m.channels, m.latent_channels, m.num_res_blocks, m.norm_num_groups,
                n_classes=self.n_classes, embed_dim=m.label_embed_dim, use_checkpoint=m.use_checkpoint,
            )
        }
        if self.config.loss.adv_weight > 0:
            from monai.networks.nets import PatchDiscriminator

            self.nets["disc"] = PatchDiscriminator(
                spatial_dims=self.config.spatial_dims, channels=m.disc_channels, in_channels=1,
                num_layers_d=m.disc_layers, norm="INSTANCE",
            )
        for net in self.nets.values():
            net.to(self.device)

    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one spatial latent, ``(latent_channels, *spatial / 2**downsamplings)``."""
        m = self.config.model
        f = 2 ** (len(m.channels) - 1)
        return (m.latent_channels, *(s // f for s in self.spatial))

    def _decode(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.nets["vae"].decode(z, labels)

    # -- training --------------------------------------------------------------------------------
    def _setup_training(self, session: TrainSession) -> dict[str, Any]:
        t = self.config.train
        self._vae = session.wrap(self.nets["vae"])
        self._opt = torch.optim.Adam(self.nets["vae"].parameters(), lr=t.lr, betas=(0.9, 0.99))
        objects: dict[str, Any] = {"vae": self.nets["vae"], "opt": self._opt}
        self._disc = None
        if "disc" in self.nets:
            self._disc = session.wrap(self.nets["disc"])
            self._opt_d = torch.optim.Adam(
                self.nets["disc"].parameters(), lr=t.lr * self.config.loss.disc_lr_scale, betas=(0.5, 0.99)
            )
            objects.update(disc=self.nets["disc"], opt_d=self._opt_d)
        self._scaler = torch.amp.GradScaler("cuda", enabled=t.precision == "fp16" and session.device.type == "cuda")
        objects["scaler"] = self._scaler
        for net in self.nets.values():
            net.train()
        return objects

    def _train_step(self, session: TrainSession, data: Iterator[Any], step: int) -> dict[str, float]:
        cfg, dev = self.config, session.device
        n_acc = cfg.train.grad_accum_steps
        loss_cfg = cfg.loss
        beta = loss_cfg.kl_weight * (min(1.0, step / loss_cfg.kl_warmup_steps) if loss_cfg.kl_warmup_steps else 1.0)
        adv_on = self._disc is not None and step >= loss_cfg.adv_start_step
        n_vox = 1
        for s in self.spatial:
            n_vox *= s
        sums = {"loss": 0.0, "l1": 0.0, "kl": 0.0}
        pairs = []
        self._opt.zero_grad(set_to_none=True)
        disc_raw = unwrap(self._disc) if self._disc is not None else None
        if disc_raw is not None:
            disc_raw.requires_grad_(False)
        for k in range(n_acc):
            x, y = next(data)
            x = x.to(dev, non_blocking=True)
            y = y.to(dev) if self.n_classes else None
            with accumulation(self._vae, k, n_acc):
                with session.autocast():
                    recon, mu, sigma = self._vae(x, y)
                l1 = (recon.float() - x).abs().mean()
                kl = kl_per_voxel(mu, sigma, n_vox)
                loss = l1 + beta * kl
                if adv_on:
                    with session.autocast():
                        logits = disc_raw(recon)[-1]
                    adv = lsgan_g(logits)
                    loss = loss + loss_cfg.adv_weight * adv
                    sums["adv_g"] = sums.get("adv_g", 0.0) + float(adv.detach()) / n_acc
                    pairs.append((x, recon.detach()))
                self._scaler.scale(loss / n_acc).backward()
            sums["loss"] += float(loss.detach()) / n_acc
            sums["l1"] += float(l1.detach()) / n_acc
            sums["kl"] += float(kl.detach()) / n_acc
        self._scaler.step(self._opt)
        self._scaler.update()
        if disc_raw is not None:
            disc_raw.requires_grad_(True)
        if adv_on:
            self._opt_d.zero_grad(set_to_none=True)
            for k, (x, fake) in enumerate(pairs):
                with accumulation(self._disc, k, n_acc):
                    with session.autocast():
                        logits = self._disc(torch.cat([x, fake]))[-1]
                    real_l, fake_l = logits.float().split(x.shape[0])
                    d = lsgan_d(real_l, fake_l)
                    self._scaler.scale(d / n_acc).backward()
                sums["adv_d"] = sums.get("adv_d", 0.0) + float(d.detach()) / n_acc
            self._scaler.step(self._opt_d)
            self._scaler.update()
        sums["beta"] = beta
        return sums

    # -- encoding real volumes -------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, volume: Volume, *, label: str | int | None = None) -> torch.Tensor:
        """The posterior mean latent of a real volume (preprocessed like the training data).

        Raises:
            ConfigError: the volume's modality differs from the model's.
        """
        self._require_fitted()
        if volume.modality != self.config.modality:
            raise ConfigError(f"volume is {volume.modality}; this model was trained on {self.config.modality}")
        prepared = self.preprocessor(volume)
        t = prepared.tensor
        t = (t.as_tensor() if hasattr(t, "as_tensor") else t).float()
        if self.config.spatial_dims == 2:
            t = t[..., t.shape[-1] // 2]
        lab = self.label_index(label)
        y = torch.tensor([lab or 0], device=self.device) if self.n_classes else None
        if self.n_classes and lab is None:
            raise ConfigError(f"this model is class-conditional: pass label= one of {self.label_names}")
        mu, _ = self.nets["vae"].encode(t[None].to(self.device), y)
        return mu[0].float().cpu()

    def interpolate_volumes(self, a: Volume, b: Volume, steps: int = 8, *, label: str | int | None = None) -> list[Volume]:
        """Decode the straight path between the latents of two real volumes (ends are reconstructions)."""
        if steps < 2:
            raise ConfigError(f"steps={steps}: an interpolation needs at least 2 volumes")
        za, zb = self.encode(a, label=label), self.encode(b, label=label)
        ts = [i / (steps - 1) for i in range(steps)]
        lab = self.label_index(label)
        x = self.generate(torch.stack([(1 - t) * za + t * zb for t in ts]), [lab] * steps)
        return [self.to_volume(xi, seed=None, label=lab, extra={"t": round(t, 4)}) for xi, t in zip(x, ts)]


__all__ = ["VAE3D", "VAE3DConfig"]
