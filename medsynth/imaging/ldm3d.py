"""``ldm3d``: latent diffusion on a vae3d first stage, class-conditional with classifier-free guidance,
optionally conditioned on label maps (ControlNet) to make image + mask pairs.

Training runs up to three stages of the shared loop (:func:`medsynth.core.training.train_stages`),
each with its own checkpoint folder; ``train.max_steps`` is shared between them (``stages``):

1. ``autoencoder``: a :class:`~medsynth.imaging.vae3d.VAE3D` (unconditional, weak KL), composed inside
   this model, not inherited; skipped when ``model.autoencoder`` names a trained vae3d run.
2. ``diffusion``: every training volume is encoded once by the frozen VAE (posterior mean and
   spread; left-right mirrored copies too with ``diffusion.flip_augment``); the latent scale factor is
   1 / std of the sampled latents, as MAISI sets it. MONAI's DiffusionModelUNet learns to denoise
   latents (``DiffusionInferer`` forward pass) under a rectified-flow or DDPM/DDIM schedule, the class
   condition (one-hot cross-attention context) dropped on ``cond_drop_prob`` of the steps so the same
   network gives the unconditional prediction for guidance. An EMA of its weights is what samples.
3. ``controlnet`` (with label maps): MONAI's ControlNet, started from the trained UNet, learns to steer
   it with the one-hot label map at full resolution while the UNet stays frozen.

Sampling draws latent noise from each sample's seed and runs MONAI's ``LatentDiffusionInferer`` (or
``ControlNetDiffusionInferer`` then the VAE decoder) for ``diffusion.inference_steps`` steps; both
schedulers sample deterministically, so the same seed gives the same volume. Images made from label
maps are then calibrated per tissue (``masks.calibrate``, :mod:`medsynth.imaging.calibration`): each
label's voxels take, by rank, that label's intensity quantiles in the training images, which the
small first stage otherwise loses for small and thin tissues.

Example:
    >>> from medsynth.imaging import LDM3D, LDM3DConfig
    >>> ldm = LDM3D(LDM3DConfig(modality="CT")).fit("ct/", out="runs/ldm", labels_dir="ct_labels/")
    >>> pairs = ldm.sample_pairs(ldm.new_masks(16, seed=0), seed=0)
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from medsynth.core.errors import ConfigError, DataValidationError
from medsynth.core.training import EMA, Stage, TrainSession, accumulation, batches, split_steps
from medsynth.imaging.base import ImageSynthesizer
from medsynth.imaging.calibration import calibrate, tissue_quantiles
from medsynth.imaging.config import LDM3DConfig, VAE3DConfig
from medsynth.imaging.data import TrainingData, label_map_problem
from medsynth.imaging.diffusion import (
    build_controlnet,
    build_scheduler,
    build_unet,
    class_context,
    latent_grid,
    one_hot_masks,
    training_target,
    training_timesteps,
)
from medsynth.imaging.networks import check_spatial_shape
from medsynth.imaging.pairs import LabelledVolume
from medsynth.imaging.vae3d import VAE3D
from medsynth.io.volume import Volume, grid_affine

#: Where a mask-conditioned run keeps its training label maps (for --new-masks): under RUN/private/,
#: since they are real data (never released).
TRAINING_MASKS = "private/training_masks.npz"


class _Value:
    """A float that a checkpoint holds (the latent scale factor)."""

    def __init__(self, value: float = 1.0) -> None:
        self.value = float(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"value": torch.tensor(self.value, dtype=torch.float64)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.value = float(state["value"])


class _Latents:
    """Cached first-stage posteriors: (mu, sigma, class, [label map]) per (possibly mirrored) volume."""

    def __init__(self, mu: list[torch.Tensor], sigma: list[torch.Tensor], labels: list[int], masks: list[torch.Tensor] | None) -> None:
        self.mu, self.sigma, self.labels, self.masks = mu, sigma, labels, masks

    def __len__(self) -> int:
        return len(self.mu)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        if self.masks is not None:
            return self.mu[i], self.sigma[i], self.labels[i], self.masks[i]
        return self.mu[i], self.sigma[i], self.labels[i]


class LDM3D(ImageSynthesizer):
    """Latent diffusion for 3D (or 2D) CT/MR, and image + label-map pairs; see the module docstring."""

    name: ClassVar[str] = "ldm3d"
    config_class: ClassVar[type[LDM3DConfig]] = LDM3DConfig  # type: ignore[assignment]
    saved_networks: ClassVar[tuple[str, ...]] = ("vae", "unet")
    supports_masks: ClassVar[bool] = True
    config: LDM3DConfig

    def __init__(self, config: LDM3DConfig | None = None) -> None:
        super().__init__(config)
        self.autoencoder = VAE3D(self._vae_config())
        self.scale_factor = 1.0
        self.mask_classes = 0
        self.autoencoder_source: str | None = None
        self.stage_steps: dict[str, int] = {}
        self._latents: _Latents | None = None
        self._train_masks: list[np.ndarray] | None = None
        self.tissue_quantiles: list[list[float] | None] | None = None

    # -- composition and shapes ------------------------------------------------------------------
    def _vae_config(self) -> VAE3DConfig:
        c = self.config
        return VAE3DConfig(modality=c.modality, spatial_dims=c.spatial_dims, data=c.data.model_copy(update={"conditional": False}),
                           preprocessing=c.preprocessing, train=c.train, sample=c.sample, model=c.model.vae, loss=c.loss.vae)

    @property
    def downsamplings(self) -> int:
        """How many times the first stage halves the grid."""
        return len(self.autoencoder.config.model.channels) - 1

    def check_shape(self, in_shape: tuple[int, ...]) -> None:
        vae_down = len(self.config.model.vae.channels) - 1
        # the autoencoder's and the latent UNet's halvings together, said in image voxels (the latent grid's sizes,
        # 'crop to 4 or pad to 8', sent a researcher to spatial sizes that do not exist)
        # (a size divisible by both together gives a latent grid the UNet divides: no second check)
        check_spatial_shape(in_shape, vae_down + len(self.config.model.unet.channels) - 1)

    def latent_shape(self) -> tuple[int, ...]:
        return (self.autoencoder.config.model.latent_channels, *latent_grid(self.spatial, self.downsamplings))

    def saved_network_names(self) -> tuple[str, ...]:
        return ("vae", "unet", "controlnet") if self.mask_classes else ("vae", "unet")

    def build(self) -> None:
        self.autoencoder.device = self.device
        if not self.autoencoder.nets:
            self.autoencoder.build()
        lc = self.autoencoder.config.model.latent_channels
        u = self.config.model.unet
        self.nets = {"vae": self.autoencoder.nets["vae"].to(self.device),
                     "unet": build_unet(u, self.config.spatial_dims, lc, self.n_classes).to(self.device).eval()}
        if self.mask_classes:
            self.nets["controlnet"] = build_controlnet(u, self.config.spatial_dims, lc, self.n_classes, self.mask_classes,
                                                       self.downsamplings).to(self.device).eval()
        self.scheduler = build_scheduler(self.config.diffusion, self.config.spatial_dims)

    def _extra_meta(self) -> dict[str, Any]:
        return {"latent_scale_factor": self.scale_factor, "mask_classes": self.mask_classes,
                "mask_label_names": self._mask_names(), "autoencoder_source": self.autoencoder_source,
                "stage_steps": self.stage_steps, "scheduler": self.config.diffusion.scheduler,
                "inference_steps": self.config.diffusion.inference_steps, "tissue_quantiles": self.tissue_quantiles}

    def _restore_meta(self, meta: dict[str, Any]) -> None:
        self.scale_factor = float(meta.get("latent_scale_factor", 1.0))
        self.mask_classes = int(meta.get("mask_classes", 0))
        self.autoencoder_source = meta.get("autoencoder_source")
        self.stage_steps = dict(meta.get("stage_steps") or {})
        self.tissue_quantiles = meta.get("tissue_quantiles")  # absent in runs made before calibration existed

    def _mask_names(self) -> dict[int, str]:
        names = self.config.masks.label_names
        if names:
            return {i: str(n) for i, n in enumerate(names)}
        return {0: "background", **{k: f"label_{k}" for k in range(1, max(self.mask_classes, 1))}}

    # -- training --------------------------------------------------------------------------------
    def fit(self, data: Any, *, out: str | Path | None = None, resume: bool = False, force: bool = False,
            labels_csv: str | Path | None = None, labels_dir: str | Path | None = None) -> LDM3D:
        """Train the stages on ``data`` (see :meth:`ImageSynthesizer.fit`); ``labels_dir`` adds the ControlNet stage."""
        path = self.config.model.autoencoder
        if path is not None:
            self._use_trained_autoencoder(Path(path))
        super().fit(data, out=out, resume=resume, force=force, labels_csv=labels_csv, labels_dir=labels_dir)
        return self

    def _use_trained_autoencoder(self, path: Path) -> None:
        vae = VAE3D.load(path, device="cpu")
        mine, theirs = self.config, vae.config
        diff = [f"{k}: {getattr(theirs, k)!r} there, {getattr(mine, k)!r} here" for k in ("modality", "spatial_dims") if getattr(theirs, k) != getattr(mine, k)]
        for k in ("spacing", "spatial_size", "orientation", "ct_window", "mr_percentiles"):
            a, b = getattr(theirs.preprocessing, k), getattr(mine.preprocessing, k)
            if a != b:
                diff.append(f"preprocessing.{k}: {a!r} there, {b!r} here")
        if diff:
            raise ConfigError(f"model.autoencoder '{path}' was trained on another grid or modality ({'; '.join(diff)}); "
                              "use the same preprocessing, or let ldm3d train its own autoencoder (model.autoencoder: null)")
        if vae.n_classes:
            raise ConfigError(f"model.autoencoder '{path}' is class-conditional ({vae.label_names}); ldm3d needs an unconditional "
                              "first stage (train it with data.conditional: false): the classes belong to the diffusion model")
        self.autoencoder = vae
        self.autoencoder_source = str(path.resolve())
        # the saved config records the first stage's real architecture (so load() rebuilds it)
        self.config = self.config.model_copy(update={"model": self.config.model.model_copy(update={"vae": vae.config.model})})
        self.check_shape(self.in_shape)  # its downsampling must leave a latent grid the UNet can take

    def stages(self, train_data: TrainingData) -> list[Stage]:
        cfg = self.config
        self.mask_classes = train_data.mask_classes
        if self.mask_classes:
            self._train_masks = [m[0].numpy().astype(np.uint8) for m in (train_data.masks or [])[: train_data.n_volumes]]
            self.tissue_quantiles = tissue_quantiles(train_data.images, train_data.masks or [], self.mask_classes)
            self.build()  # the ControlNet exists only for mask-conditioned data
        shares: dict[str, float] = {}
        if self.autoencoder_source is None:
            shares["autoencoder"] = cfg.stages.autoencoder
        shares["diffusion"] = cfg.stages.diffusion
        if self.mask_classes:
            shares["controlnet"] = cfg.stages.controlnet
        self.stage_steps = split_steps(cfg.train.max_steps, shares)
        out: list[Stage] = []
        if "autoencoder" in self.stage_steps:
            vae_stage = self.autoencoder.model_stage(train_data.without_masks(), name="autoencoder", max_steps=self.stage_steps["autoencoder"])
            out.append(dataclasses.replace(vae_stage, preview=None))
        out.append(self._latent_stage(train_data, "diffusion", self.stage_steps["diffusion"]))
        if self.mask_classes:
            out.append(self._latent_stage(train_data, "controlnet", self.stage_steps["controlnet"]))
        return out

    @torch.no_grad()
    def _encode(self, train_data: TrainingData, device: torch.device) -> _Latents:
        """Posterior (mu, sigma) of every training image (and its mirror image) through the frozen VAE."""
        vae = self.autoencoder.nets["vae"].to(device).eval()
        mus, sigmas, labels, masks = [], [], [], []
        flip = self.config.diffusion.flip_augment
        n = len(train_data)
        bs = max(1, self.config.sample.batch_size)
        for s in range(0, n, bs):
            items = [train_data[i] for i in range(s, min(n, s + bs))]
            x = torch.stack([it[0] for it in items]).to(device)
            views = [(x, [it[2] for it in items] if train_data.masks is not None else None)]
            if flip:
                views.append((x.flip(2), [it[2].flip(1) for it in items] if train_data.masks is not None else None))
            for xv, mv in views:
                with self.autoencoder_autocast(device):
                    mu, sigma = vae.encode(xv)
                mus += list(mu.float().cpu())
                sigmas += list(sigma.float().cpu())
                labels += [int(it[1]) for it in items]
                if mv is not None:
                    masks += [m.to(torch.uint8) for m in mv]
        return _Latents(mus, sigmas, labels, masks if train_data.masks is not None else None)

    def autoencoder_autocast(self, device: torch.device) -> Any:
        """The run's mixed-precision context (runtime.autocast) for encoding with the first stage."""
        from medsynth.core.runtime import autocast

        return autocast(device, self.config.train.precision)

    def _latent_stage(self, train_data: TrainingData, which: str, max_steps: int) -> Stage:
        """The ``diffusion`` (UNet) or ``controlnet`` stage on cached latents."""
        from monai.inferers import ControlNetDiffusionInferer, DiffusionInferer

        cfg, tc = self.config, self.config.train
        dc = cfg.diffusion
        key = "unet" if which == "diffusion" else "controlnet"  # what samples: the EMA of the trained network
        box: dict[str, Any] = {}

        def setup(session: TrainSession) -> dict[str, Any]:
            self.device = session.device
            if which == "controlnet" and session.is_main and self._train_masks is not None:
                self._save_training_masks(session.run.private_dir)
            if self._latents is None:
                self._latents = self._encode(train_data, session.device)
            lat = self._latents
            scale = _Value(self.scale_factor)
            if which == "diffusion":
                gen = torch.Generator().manual_seed(tc.seed)
                z = torch.stack([m + s * torch.randn(m.shape, generator=gen) for m, s in zip(lat.mu, lat.sigma)])
                scale.value = float(1.0 / z.std().clamp_min(1e-6))
                self.scale_factor = scale.value
                net = self.nets["unet"]
            else:
                frozen = self.nets["unet"]
                frozen.requires_grad_(False)
                box["frozen"] = frozen.eval()
                net = build_controlnet(cfg.model.unet, cfg.spatial_dims, self.autoencoder.config.model.latent_channels, self.n_classes,
                                       self.mask_classes, self.downsamplings, unet=frozen).to(session.device)
            net = net.to(session.device).train()
            net.requires_grad_(True)
            box["net"], box["ddp"], box["session"] = net, session.wrap(net), session
            box["ema"] = EMA(net, decay=cfg.model.unet.ema_decay) if cfg.model.unet.ema_decay > 0 else None
            self.nets[key] = box["ema"].shadow if box["ema"] is not None else net
            box["opt"] = torch.optim.AdamW(net.parameters(), lr=dc.lr or tc.lr, weight_decay=1e-2)
            box["scaler"] = torch.amp.GradScaler("cuda", enabled=tc.precision == "fp16" and session.device.type == "cuda")
            box["inferer"] = DiffusionInferer(self.scheduler) if which == "diffusion" else ControlNetDiffusionInferer(self.scheduler)
            box["scale"] = scale
            objects = {which: net, f"opt_{which}": box["opt"], f"scaler_{which}": box["scaler"], "latent_scale": scale}
            if box["ema"] is not None:
                objects[f"{which}_ema"] = box["ema"]
            return objects

        def start(first: int) -> None:
            self.scale_factor = box["scale"].value  # the restored value on resume
            bs = min(dc.batch_size or tc.batch_size, len(self._latents))  # type: ignore[arg-type]
            box["data"] = batches(self._latents, bs, box["session"].dist, seed=tc.seed + (1 if which == "diffusion" else 2),
                                  skip=first * tc.grad_accum_steps)

        def step(k: int) -> dict[str, float]:
            session, n_acc = box["session"], tc.grad_accum_steps
            box["opt"].zero_grad(set_to_none=True)
            total = 0.0
            for a in range(n_acc):
                item = next(box["data"])
                mu, sigma, y = (t.to(session.device) for t in item[:3])
                z = (mu + sigma * torch.randn_like(sigma)) * self.scale_factor
                noise = torch.randn_like(z)
                t = training_timesteps(self.scheduler, z)
                drop = torch.rand(z.shape[0], device=z.device) < dc.cond_drop_prob
                ctx = class_context(y, self.n_classes, drop)
                with accumulation(box["ddp"], a, n_acc):
                    with session.autocast():
                        if which == "diffusion":
                            pred = box["inferer"](inputs=z, diffusion_model=box["ddp"], noise=noise, timesteps=t, condition=ctx)
                        else:
                            cond = one_hot_masks(item[3].to(session.device), self.mask_classes)
                            pred = box["inferer"](inputs=z, diffusion_model=box["frozen"], controlnet=box["ddp"], noise=noise,
                                                  timesteps=t, cn_cond=cond, condition=ctx)
                    loss = torch.nn.functional.mse_loss(pred.float(), training_target(self.scheduler, z, noise, t).float())
                    box["scaler"].scale(loss / n_acc).backward()
                total += float(loss.detach()) / n_acc
            box["scaler"].step(box["opt"])
            box["scaler"].update()
            if box["ema"] is not None:
                box["ema"].update(box["net"], k)
            self.steps_trained = k
            return {"loss": total}

        def finish() -> None:
            self.scale_factor = box["scale"].value
            self.nets[key].eval()

        def preview(path: Path, k: int) -> None:
            if which == "diffusion":
                self._preview(path)

        return Stage(name=which, max_steps=max_steps, setup=setup, step=step, start=start, finish=finish, preview=preview,
                     diverged_hint="lower diffusion.lr or use precision fp32")

    def _save_training_masks(self, private_dir: Path) -> None:
        """Keep the training label maps for --new-masks in ``RUN/private/`` (real data: never released)."""
        from medsynth.core.files import atomic_path

        dest = private_dir / Path(TRAINING_MASKS).name
        if dest.is_file():
            return
        with atomic_path(dest) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, *self._train_masks)  # type: ignore[misc]

    # -- sampling --------------------------------------------------------------------------------
    def _guidance(self, ctx: torch.Tensor | None) -> float | None:
        g = self.config.diffusion.guidance_scale
        return g if ctx is not None and g > 1.0 else None

    def _decode(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        from monai.inferers import LatentDiffusionInferer

        ctx = class_context(labels, self.n_classes)
        inferer = LatentDiffusionInferer(self.scheduler, scale_factor=self.scale_factor)
        return inferer.sample(input_noise=z, autoencoder_model=self.nets["vae"].ae, diffusion_model=self.nets["unet"],
                              conditioning=ctx, mode="crossattn", verbose=False, cfg=self._guidance(ctx))

    @torch.no_grad()
    def generate_from_masks(self, z: torch.Tensor, labels: Sequence[int | None], masks: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] for latents ``z`` steered by label maps ``masks`` (B, 1, *spatial) on the training grid."""
        from monai.inferers import ControlNetDiffusionInferer

        from medsynth.core.runtime import autocast

        self._require_fitted()
        if not self.mask_classes:
            raise ConfigError("this ldm3d was trained without label maps (--labels-dir); it cannot follow masks")
        y = torch.as_tensor([int(lab or 0) for lab in labels], dtype=torch.long, device=self.device) if self.n_classes else None
        ctx = class_context(y, self.n_classes)
        cond = one_hot_masks(masks.to(self.device), self.mask_classes)
        scale = self.config.diffusion.controlnet_scale
        cn = self.nets["controlnet"] if scale == 1.0 else functools.partial(self.nets["controlnet"], conditioning_scale=scale)
        with autocast(self.device, self.config.train.precision):
            latent = ControlNetDiffusionInferer(self.scheduler).sample(
                input_noise=z.to(self.device), diffusion_model=self.nets["unet"], controlnet=cn, cn_cond=cond,
                conditioning=ctx, mode="crossattn", verbose=False, cfg=self._guidance(ctx))
            x = self.nets["vae"].ae.decode_stage_2_outputs(latent / self.scale_factor)
        x = x.float().clamp(-1.0, 1.0).cpu()
        if self.config.masks.calibrate and self.tissue_quantiles is not None:
            x = torch.stack([calibrate(xi, mi, self.tissue_quantiles) for xi, mi in zip(x, masks.cpu())])
        return x

    def mask_on_grid(self, mask: Volume) -> torch.Tensor:
        """A label map brought to the training grid (nearest neighbour), as (1, *spatial) integers."""
        seg = mask if mask.modality == "SEG" else mask.with_array(np.asarray(mask.array), modality="SEG")
        t = self.preprocessor(seg).tensor
        t = (t.as_tensor() if hasattr(t, "as_tensor") else t).round()
        if self.config.spatial_dims == 2:
            t = t[..., t.shape[-1] // 2]
        return t

    def mask_volume(self, arr: np.ndarray, **meta: Any) -> Volume:
        """An integer array on the training grid as a SEG Volume (RAS, the training spacing)."""
        spacing = self.config.preprocessing.spacing or (1.0, 1.0, 1.0)
        a = np.asarray(arr)
        a = a[..., None] if a.ndim == 2 else a
        return Volume(a.astype(np.int16), grid_affine(spacing, a.shape[-3:]), modality="SEG", meta=dict(meta))

    def iter_pairs(self, masks: Sequence[Volume], *, seed: int | None = None, label: str | int | None = None,
                   batch_size: int | None = None) -> Iterator[LabelledVolume]:
        """One synthetic image per label map, yielded as :class:`LabelledVolume` pairs on the training grid.

        Pair ``i`` uses seed ``seed + i`` (its noise and, without ``label``, its class).
        """
        self._require_fitted()
        if not masks:
            raise DataValidationError("no label map given")
        self._check_masks(masks)
        lab = self.label_index(label)
        seeds = self.sample_seeds(len(masks), seed)
        bs = batch_size or self.config.sample.batch_size
        for s in range(0, len(masks), bs):
            chunk = list(range(s, min(len(masks), s + bs)))
            grid = torch.stack([self.mask_on_grid(masks[i]) for i in chunk])
            self._warn_lost_labels([masks[i] for i in chunk], grid)
            labels = [self._label_for(seeds[i], lab) for i in chunk]
            x = self.generate_from_masks(torch.stack([self._noise(seeds[i]) for i in chunk]), labels, grid)
            for xi, i, li, m in zip(x, chunk, labels, grid):
                image = self.to_volume(xi, seed=seeds[i], label=li, extra={"mask_source": masks[i].meta.get("mask_source", "")})
                arr = m[0].numpy() if self.config.spatial_dims == 3 else m[0].numpy()[..., None]
                label_vol = Volume(np.rint(arr).astype(np.int16), image.affine, modality="SEG",
                                   meta={"mask_source": masks[i].meta.get("mask_source", "")})
                yield LabelledVolume(image, label_vol)

    def _warn_lost_labels(self, masks: Sequence[Volume], grid: torch.Tensor) -> None:
        """:func:`~medsynth.imaging.data.warn_lost_labels` for each label of a given map that keeps less than
        ``LABEL_KEPT_SHARE`` of its volume in mm3 on the training grid (finer than its spacing, or outside its crop): an
        imaging researcher's brain tumour of 453 voxels came out as 1 voxel on an 8 mm grid, written as a pair, silently.
        A 2D model takes the middle slice alone, so its grid is not compared here."""
        from medsynth.imaging.data import LABEL_KEPT_SHARE, labels_kept, warn_lost_labels

        if self.config.spatial_dims == 2:
            return
        lost = []
        for m, g in zip(masks, grid):
            if m.meta.get("mask_source", "").startswith("new:"):
                continue
            name = m.meta.get("mask_source") or m.meta.get("source", "?")
            for k, kept in labels_kept(m.array, m.spacing, g.numpy(), self.config.preprocessing.spacing, per_label=True).items():
                if kept < LABEL_KEPT_SHARE:
                    lost.append(f"'{name}' label {k} keeps {kept:.0%}")
        warn_lost_labels(lost, "label(s) of the given maps", self.config)

    def _check_masks(self, masks: Sequence[Volume]) -> None:
        """Every label map must hold integer labels the model was trained with (checked before any sampling).

        Raises:
            DataValidationError: one line per bad map, naming its file and its values.
        """
        names = [m.meta.get("mask_source") or m.meta.get("source") or f"label map {i}" for i, m in enumerate(masks)]
        problems = [p for m, name in zip(masks, names) if (p := label_map_problem(m.array, name, top=self.mask_classes - 1)) is not None]
        if problems:
            raise DataValidationError(problems, context=f"{len(problems)} of {len(masks)} label maps")

    def sample_pairs(self, masks: Sequence[Volume], *, seed: int | None = None, label: str | int | None = None,
                     batch_size: int | None = None) -> list[LabelledVolume]:
        """See :meth:`iter_pairs`."""
        return list(self.iter_pairs(masks, seed=seed, label=label, batch_size=batch_size))

    def training_masks(self, run: str | Path) -> list[np.ndarray]:
        """The training label maps a mask-conditioned run kept in ``RUN/private/`` (on the training grid).

        Raises:
            DataValidationError: the run has none (copied without ``private/``, or trained without masks).
        """
        f = Path(run) / TRAINING_MASKS
        if self._train_masks is not None:
            return self._train_masks
        if not f.is_file():
            raise DataValidationError(f"'{run}' holds no training label maps ({TRAINING_MASKS}); give --masks DIR to make new "
                                      "masks from, or use the run folder of a model trained with --labels-dir")
        with np.load(f) as z:
            return [z[k] for k in z.files]

    def new_masks(self, n: int, *, seed: int = 0, sources: Sequence[np.ndarray] | None = None, run: str | Path | None = None) -> list[Volume]:
        """``n`` new label maps (see :mod:`medsynth.imaging.masks`) from ``sources`` or the training maps."""
        from medsynth.imaging.masks import new_masks

        if sources is None:
            sources = self._train_masks if self._train_masks is not None else self.training_masks(run or ".")
        made = new_masks(list(sources), n, self.config.masks, seed=seed)
        return [self.mask_volume(m, mask_source=f"new:{log['source_index']}", edits=log) for m, log in made]


__all__ = ["LDM3D", "LDM3DConfig", "TRAINING_MASKS"]
