"""Typed configs of the imaging synthesizers (``kind: vae3d``, ``kind: gan3d``, ``kind: ldm3d``).

One config per model holds every default once. All share the data, preprocessing, training and
sampling sections; they differ in ``model`` (the networks) and ``loss`` (the objective); ldm3d adds
``diffusion`` (scheduler, guidance), ``stages`` (how ``train.max_steps`` is shared) and ``masks``
(how new label maps are made for image + mask pairs).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from medsynth.core.config import ConfigModel
from medsynth.core.training import TrainConfig
from medsynth.io.transforms import PreprocessConfig


class ImageDataConfig(ConfigModel):
    """Where labels come from and how volumes are cached.

    Attributes:
        labels_csv: CSV with columns ``file`` (or ``path``) and ``label`` for a folder source (a CSV
            source may carry its own ``label`` column instead).
        label_names: the ordered class names (default: the sorted labels found in the data). Fixing
            them keeps class indices stable between datasets.
        conditional: train a class-conditional model when the data has two or more classes.
        cache_dir: folder for an on-disk cache of preprocessed tensors (reused across runs).
        skip_empty_slices: for ``spatial_dims: 2``, drop axial slices that are all background.
    """

    labels_csv: str | None = None
    label_names: list[str] | None = None
    conditional: bool = True
    cache_dir: str | None = None
    skip_empty_slices: bool = True


class SampleConfig(ConfigModel):
    """Defaults of ``medsynth image sample``.

    Attributes:
        batch_size: volumes generated per forward pass.
        format: "nifti" (one .nii.gz per sample) or "dicom" (one synthetic-safe series folder each).
        temperature: scale of the latent noise (below 1 trades variety for typicality).
    """

    batch_size: int = Field(4, ge=1)
    format: Literal["nifti", "dicom"] = "nifti"
    temperature: float = Field(1.0, gt=0.0, le=2.0)


def _default_preprocessing() -> PreprocessConfig:
    return PreprocessConfig(spacing=(2.0, 2.0, 2.0), spatial_size=(64, 64, 64))


class VAENetConfig(ConfigModel):
    """The VAE's networks: a MONAI AutoencoderKL (encoder/decoder of ResNet blocks, GroupNorm).

    Attributes:
        channels: feature maps per level; ``len(channels) - 1`` downsamplings, so the spatial
            size must be divisible by ``2 ** (len(channels) - 1)``.
        latent_channels: channels of the spatial latent (size / 2**downsamplings per axis).
        num_res_blocks: residual blocks per level.
        norm_num_groups: GroupNorm groups (must divide every entry of ``channels``).
        label_embed_dim: size of the class embedding fed to encoder and decoder.
        use_checkpoint: gradient checkpointing (saves memory at 128^3, costs ~30% speed).
        disc_channels: first-layer channels of the optional PatchDiscriminator.
        disc_layers: its strided layers.
    """

    channels: tuple[int, ...] = (32, 64, 64, 128)
    latent_channels: int = Field(4, ge=1)
    num_res_blocks: int = Field(1, ge=1)
    norm_num_groups: int = Field(16, ge=1)
    label_embed_dim: int = Field(8, ge=1)
    use_checkpoint: bool = False
    disc_channels: int = Field(32, ge=1)
    disc_layers: int = Field(3, ge=1)

    @field_validator("channels")
    @classmethod
    def _levels(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) < 2 or any(c < 1 for c in v):
            raise ValueError(f"channels {list(v)} needs at least two positive entries, e.g. [32, 64, 128]")
        return v


class VAELossConfig(ConfigModel):
    """The VAE objective: L1 reconstruction + beta * KL (+ optional adversarial term).

    Attributes:
        kl_weight: weight of the KL divergence, summed over latent elements and divided by the number
            of image voxels (so it does not depend on the volume size).
        kl_warmup_steps: ramp the KL weight linearly from 0 over these steps.
        adv_weight: weight of a PatchDiscriminator (least-squares) term; 0 disables it (plain VAE).
        adv_start_step: step at which the adversarial term starts (let reconstructions settle first).
        disc_lr_scale: discriminator learning rate relative to ``train.lr``.
    """

    kl_weight: float = Field(0.5, ge=0.0)
    kl_warmup_steps: int = Field(0, ge=0)
    adv_weight: float = Field(0.0, ge=0.0)
    adv_start_step: int = Field(0, ge=0)
    disc_lr_scale: float = Field(1.0, gt=0.0)


class GANNetConfig(ConfigModel):
    """The GAN's networks, built from MONAI blocks.

    Attributes:
        latent_dim: size of the noise vector.
        gen_channels: generator widths from the coarsest grid to the finest; ``len - 1``
            upsamplings, so the spatial size must be divisible by ``2 ** (len(gen_channels) - 1)``.
        disc_channels: discriminator widths, one stride-2 block each (spectral norm, LeakyReLU).
        norm_num_groups: GroupNorm groups in the generator (capped at each width).
        label_embed_dim: size of the class embedding (generator input; the discriminator uses a
            projection with its own embedding).
        ema_decay: decay of the generator's exponential moving average (used for sampling).
    """

    latent_dim: int = Field(128, ge=1)
    gen_channels: tuple[int, ...] = (256, 128, 64, 32)
    disc_channels: tuple[int, ...] = (32, 64, 128, 256)
    norm_num_groups: int = Field(8, ge=1)
    label_embed_dim: int = Field(16, ge=1)
    ema_decay: float = Field(0.999, ge=0.0, lt=1.0)

    @field_validator("gen_channels", "disc_channels")
    @classmethod
    def _levels(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) < 2 or any(c < 1 for c in v):
            raise ValueError(f"channels {list(v)} needs at least two positive entries, e.g. [128, 64, 32]")
        return v


class GANLossConfig(ConfigModel):
    """The GAN objective.

    Attributes:
        loss: "hinge" (default, with spectral norm) or "nonsaturating" (logistic).
        disc_lr_scale: discriminator learning rate relative to ``train.lr`` (TTUR).
        disc_steps: discriminator updates per generator update.
        augment: differentiable augmentation of real and fake inputs to the discriminator
            (translation, intensity), which curbs discriminator overfitting on few volumes.
        betas: Adam betas of both optimizers.
    """

    loss: Literal["hinge", "nonsaturating"] = "hinge"
    disc_lr_scale: float = Field(2.0, gt=0.0)
    disc_steps: int = Field(1, ge=1)
    augment: bool = True
    betas: tuple[float, float] = (0.0, 0.99)


class ImageSynthConfig(ConfigModel):
    """Sections every imaging synthesizer config has.

    Attributes:
        modality: "CT" (intensities in HU) or "MR".
        spatial_dims: 3 (volumes) or 2 (axial slices).
    """

    modality: Literal["CT", "MR"] = "CT"
    spatial_dims: Literal[2, 3] = 3
    data: ImageDataConfig = Field(default_factory=ImageDataConfig)
    preprocessing: PreprocessConfig = Field(default_factory=_default_preprocessing)
    train: TrainConfig = Field(default_factory=TrainConfig)
    sample: SampleConfig = Field(default_factory=SampleConfig)


class VAE3DConfig(ImageSynthConfig):
    """``kind: vae3d``: a (class-conditional) KL-VAE, optionally with an adversarial term."""

    kind: Literal["vae3d"] = "vae3d"
    model: VAENetConfig = Field(default_factory=VAENetConfig)
    loss: VAELossConfig = Field(default_factory=VAELossConfig)


class GAN3DConfig(ImageSynthConfig):
    """``kind: gan3d``: a (class-conditional) GAN, hinge loss + spectral norm + EMA generator."""

    kind: Literal["gan3d"] = "gan3d"
    model: GANNetConfig = Field(default_factory=GANNetConfig)
    loss: GANLossConfig = Field(default_factory=GANLossConfig)


class UNetConfig(ConfigModel):
    """The latent diffusion network: MONAI's DiffusionModelUNet (and its ControlNet copy).

    Attributes:
        channels: widths per level of the UNet on the latent grid (``len - 1`` downsamplings of the
            latent, so the latent size must be divisible by ``2 ** (len - 1)``).
        attention_levels: self-attention (and, for class conditioning, cross-attention) per level.
        num_res_blocks: residual blocks per level.
        norm_num_groups: GroupNorm groups (must divide every width).
        num_head_channels: channels per attention head.
        ema_decay: decay of the exponential moving average of the UNet/ControlNet weights that
            sampling uses (0 = use the trained weights).
        controlnet_conditioning: first width of ControlNet's label-map encoder, doubled at each of its
            stride-2 convolutions (one per VAE downsampling: the full-resolution label map is encoded
            down to the latent grid, so small structures are not lost to interpolation).
    """

    channels: tuple[int, ...] = (64, 128, 256)
    attention_levels: tuple[bool, ...] = (False, True, True)
    num_res_blocks: int = Field(2, ge=1)
    norm_num_groups: int = Field(32, ge=1)
    num_head_channels: int = Field(32, ge=1)
    ema_decay: float = Field(0.999, ge=0.0, lt=1.0)
    controlnet_conditioning: int = Field(16, ge=1)

    @model_validator(mode="after")
    def _levels(self) -> UNetConfig:
        if len(self.channels) < 2 or any(c < 1 for c in self.channels):
            raise ValueError(f"channels {list(self.channels)} needs at least two positive entries, e.g. [64, 128, 256]")
        if len(self.attention_levels) != len(self.channels):
            raise ValueError(f"attention_levels {list(self.attention_levels)} needs one entry per level of channels {list(self.channels)}")
        bad = [c for c in self.channels if c % self.norm_num_groups]
        if bad:
            raise ValueError(f"channels {bad} are not divisible by norm_num_groups={self.norm_num_groups}")
        return self


class LDMNetConfig(ConfigModel):
    """ldm3d's networks: a vae3d first stage (composed, not inherited) and a latent UNet.

    Attributes:
        autoencoder: a trained vae3d run (its ``--out`` folder) to use as the first stage; null trains one here.
        vae: the first stage's networks when trained here (an unconditional vae3d).
        unet: the latent diffusion UNet (and ControlNet for label maps).
    """

    autoencoder: str | None = None
    vae: VAENetConfig = Field(default_factory=lambda: VAENetConfig(channels=(32, 64, 64), latent_channels=4))
    unet: UNetConfig = Field(default_factory=UNetConfig)


class LDMLossConfig(ConfigModel):
    """ldm3d's objectives: the first stage's (see VAELossConfig) and the diffusion loss (MSE on the target).

    Attributes:
        vae: the autoencoder's loss; a weak KL keeps fine detail in the latent (its scale is then set
            from the latent standard deviation, as MAISI does).
    """

    vae: VAELossConfig = Field(default_factory=lambda: VAELossConfig(kl_weight=0.01))


class DiffusionConfig(ConfigModel):
    """The diffusion process in the latent space (MONAI schedulers and inferers).

    Attributes:
        scheduler: "rflow" (rectified flow, velocity target) or "ddim" (DDPM training, DDIM sampling).
        num_train_timesteps: timesteps of the training process.
        inference_steps: sampling steps (10-50 is the useful range).
        prediction_type: DDIM only: "v_prediction" or "epsilon" (rectified flow always predicts velocity).
        timestep_sampling: rectified flow only: "logit-normal" (more steps at mid noise) or "uniform".
        guidance_scale: classifier-free guidance scale for class-conditional models (1 = none).
        cond_drop_prob: share of training steps whose class condition is dropped (teaches the
            unconditional model that guidance needs).
        lr: learning rate of the diffusion and ControlNet stages (default: train.lr).
        batch_size: latents per step (default: train.batch_size; latents are small).
        flip_augment: also train on left-right mirrored volumes (axis 0, RAS), encoded once.
        controlnet_scale: weight of the ControlNet residuals when sampling from label maps.
    """

    scheduler: Literal["rflow", "ddim"] = "rflow"
    num_train_timesteps: int = Field(1000, ge=10)
    inference_steps: int = Field(30, ge=1, le=1000)
    prediction_type: Literal["v_prediction", "epsilon"] = "v_prediction"
    timestep_sampling: Literal["logit-normal", "uniform"] = "logit-normal"
    guidance_scale: float = Field(2.0, ge=1.0)
    cond_drop_prob: float = Field(0.15, ge=0.0, lt=1.0)
    lr: float | None = Field(None, gt=0)
    batch_size: int | None = Field(None, ge=1)
    flip_augment: bool = True
    controlnet_scale: float = Field(1.0, ge=0.0)

    @model_validator(mode="after")
    def _steps(self) -> DiffusionConfig:
        if self.inference_steps > self.num_train_timesteps:
            raise ValueError(f"inference_steps={self.inference_steps} exceeds num_train_timesteps={self.num_train_timesteps}")
        return self


class StageShares(ConfigModel):
    """How ``train.max_steps`` is shared between ldm3d's training stages (renormalised over the stages that run).

    Attributes:
        autoencoder: the vae3d first stage (skipped when ``model.autoencoder`` names a trained run).
        diffusion: the latent diffusion UNet.
        controlnet: the label-map ControlNet (only with ``--labels-dir``).
    """

    autoencoder: float = Field(0.4, ge=0.0)
    diffusion: float = Field(0.6, ge=0.0)
    controlnet: float = Field(0.4, ge=0.0)


class MaskConfig(ConfigModel):
    """How ``image sample --new-masks`` makes new label maps from the training ones.

    Attributes:
        elastic_sigma: smoothness of the random displacement field (voxels; MONAI Rand3DElastic).
        elastic_magnitude: range of the displacement's deviation along each axis, in voxels (a label's edge moves
            about 1.6 times that).
        flip_axes: axes that may be mirrored (0 = left-right in RAS; anatomy is not up-down symmetric).
        organ_label: the label lesions live in (null: no lesion insertion/removal).
        lesion_label: the lesion's label.
        lesion_radius: lesion radius range in voxels (1.5 makes a lesion at least 3 voxels across).
        insert_probability: chance that a new mask gets one more lesion inside the organ.
        remove_probability: chance that a new mask loses its lesions (they become organ).
        label_names: names of the label values 0, 1, ... (written to the pairs' dataset.json).
        calibrate: map each tissue's intensities in a generated image, by rank, onto the training
            images' intensities inside that label (see :mod:`medsynth.imaging.calibration`); without
            it, small and thin tissues come out at their neighbours' intensity on small models.
    """

    elastic_sigma: tuple[float, float] = (5.0, 7.0)
    elastic_magnitude: tuple[float, float] = (1.0, 3.0)
    flip_axes: tuple[int, ...] = (0,)
    organ_label: int | None = None
    lesion_label: int | None = None
    lesion_radius: tuple[float, float] = (1.5, 3.0)
    insert_probability: float = Field(0.5, ge=0.0, le=1.0)
    remove_probability: float = Field(0.2, ge=0.0, le=1.0)
    label_names: list[str] | None = None
    calibrate: bool = True

    @model_validator(mode="after")
    def _labels(self) -> MaskConfig:
        if (self.organ_label is None) != (self.lesion_label is None):
            raise ValueError("set organ_label and lesion_label together (or neither)")
        if self.organ_label is not None and self.organ_label == self.lesion_label:
            raise ValueError("organ_label and lesion_label must differ")
        if any(a not in (0, 1, 2) for a in self.flip_axes):
            raise ValueError(f"flip_axes {list(self.flip_axes)} must be among 0, 1, 2")
        return self


class LDM3DConfig(ImageSynthConfig):
    """``kind: ldm3d``: latent diffusion on a vae3d first stage, class-conditional with guidance,
    optionally conditioned on label maps (ControlNet) for image + mask pairs."""

    kind: Literal["ldm3d"] = "ldm3d"
    model: LDMNetConfig = Field(default_factory=LDMNetConfig)
    loss: LDMLossConfig = Field(default_factory=LDMLossConfig)
    diffusion: DiffusionConfig = Field(default_factory=DiffusionConfig)
    stages: StageShares = Field(default_factory=StageShares)
    masks: MaskConfig = Field(default_factory=MaskConfig)


__all__ = [
    "DiffusionConfig",
    "GAN3DConfig",
    "LDM3DConfig",
    "LDMLossConfig",
    "LDMNetConfig",
    "MaskConfig",
    "StageShares",
    "UNetConfig",
    "GANLossConfig",
    "GANNetConfig",
    "ImageDataConfig",
    "ImageSynthConfig",
    "SampleConfig",
    "VAE3DConfig",
    "VAELossConfig",
    "VAENetConfig",
]
