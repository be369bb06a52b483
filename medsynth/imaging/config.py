"""Typed configs of the imaging synthesizers (``kind: vae3d`` and ``kind: gan3d``).

One config per model holds every default once. Both share the data, preprocessing, training and
sampling sections; they differ in ``model`` (the networks) and ``loss`` (the objective).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

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


__all__ = [
    "GAN3DConfig",
    "GANLossConfig",
    "GANNetConfig",
    "ImageDataConfig",
    "ImageSynthConfig",
    "SampleConfig",
    "VAE3DConfig",
    "VAELossConfig",
    "VAENetConfig",
]
