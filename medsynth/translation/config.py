"""The typed config of the MRI -> CT CycleGAN (``kind: mr2ct_cyclegan``): each default held once.

One config describes the model (generators, discriminators), the losses, the data sampling, the
intensity handling (reusing :class:`~medsynth.io.transforms.PreprocessConfig`), whole-volume
inference, and the training run (:class:`~medsynth.core.training.TrainConfig`). It is validated
as a whole, so impossible combinations (a 3D patch too thin for the discriminator, a patch that
the generator cannot downsample) are caught before any data is read, with the fix in the message.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from medsynth.core.config import ConfigModel
from medsynth.core.training import TrainConfig
from medsynth.io.transforms import PreprocessConfig

#: "2" = single slices, "2.5" = a stack of neighbouring slices as channels, "3" = 3D patches.
SpatialDims = Literal[2, 2.5, 3]
#: What inference does with NaN/inf MR voxels: refuse the volume, or leave them out (written as NaN).
NonFinite = Literal["error", "mask"]


class GeneratorConfig(ConfigModel):
    """The two generators (MR->CT and CT->MR), built from MONAI blocks.

    Attributes:
        arch: "resnet" (CycleGAN's encoder / residual blocks / decoder) or "unet" (MONAI UNet).
        base_channels: channels of the first layer (doubled at each downsampling).
        n_down: stride-2 downsamplings (patch sizes must be divisible by 2**n_down).
        n_res_blocks: residual blocks at the bottleneck ("resnet") or residual units per level ("unet").
        norm: normalisation layer ("INSTANCE" as in CycleGAN; "GROUP" is also DP/opacus-safe).
        stem_kernel: kernel size of the ResNet generator's first and last convolutions (CycleGAN: 7).
            In 3D a 7x7x7 kernel is 7x the work of 7x7 and dominates a step on CPU; 3 keeps the 3D
            generator affordable (the residual blocks still give it a wide receptive field).
    """

    arch: Literal["resnet", "unet"] = "resnet"
    base_channels: int = Field(32, ge=4)
    n_down: int = Field(2, ge=1, le=5)
    n_res_blocks: int = Field(6, ge=0, le=16)
    norm: Literal["INSTANCE", "BATCH", "GROUP"] = "INSTANCE"
    stem_kernel: Literal[3, 5, 7] = 7


class DiscriminatorConfig(ConfigModel):
    """The two PatchGAN discriminators (MONAI ``PatchDiscriminator``).

    Attributes:
        channels: channels of the first layer.
        num_layers: stride-2 layers; the receptive field grows with it (3 = 70x70 in 2D).
        ct_windows: extra CT discriminators, one per HU window [low, high]: each sees the real and
            synthetic CTs mapped through that window (as a radiologist's soft-tissue or bone window),
            so contrast that is small on the full -1024..3000 HU range (fat against muscle) or
            structure confined to one range (bone) gets a critic of its own. The CT adversarial term
            is the mean over the full-range and the windowed discriminators. () = the full range only.
    """

    channels: int = Field(64, ge=4)
    num_layers: int = Field(3, ge=1, le=5)
    ct_windows: tuple[tuple[float, float], ...] = ()


class LossConfig(ConfigModel):
    """Weights of the loss terms (0 switches a term off).

    Attributes:
        adversarial: least-squares GAN loss weight (LSGAN, Mao et al. 2017).
        cycle: L1 cycle-consistency weight, both directions (CycleGAN's lambda = 10). 0 trains the
            MR->CT generator alone (the CT->MR generator and the MR-side terms are not computed): with
            ``paired`` that is a pix2pix-style supervised model, about 4x cheaper per step.
        identity: L1 identity weight (G_mr2ct(CT) ~ CT and G_ct2mr(MR) ~ MR); CycleGAN uses 0.5 * cycle.
        paired: L1 to the registered real CT (pix2pix-style); needs ``data.paired: true``.
        structure: structure consistency, L1 between the MIND descriptors (Heinrich et al. 2012) of
            each generator's input and output (MR vs synthetic CT, CT vs synthetic MR), as in
            structure-constrained CycleGAN (Yang et al. 2018); still unpaired. Keeps thin layers
            (fat) and small bones of the MR in place in the synthetic CT.
        histogram: intensity-distribution matching, mean absolute distance between the sorted values
            of each synthetic batch and of the unpaired real batch of that domain drawn in the same
            step (the 1D Wasserstein-1 distance between their histograms); still unpaired. A patch
            discriminator barely sees a tissue that is 100 HU too dark everywhere; this term does.
            Zero in expectation for a generator whose output has the target's intensity distribution.
        bone_histogram: the histogram term restricted to the bone tail of the synthetic CT: the
            1D Wasserstein-1 distance between the batches' values clipped from below at ``bone_hu``
            (everything softer counts as ``bone_hu``), so it only sees how much bone there is and how
            dense; still unpaired. Bone is ~3% of the body: in the full histogram term its share is a
            small part of the distance, and a generator that drops bone pays little.
        bone_hu: the HU where the bone tail starts for ``bone_histogram``, ``paired_bone_weight`` and ``bone_segmentation``.
        paired_bone_weight: weight of the voxels whose registered CT is above ``bone_hu`` in the
            ``paired`` L1 (a weighted mean; 1 = plain L1). Bone is ~3% of the body and, on T1 MR, reads
            between soft tissue and fat (marrow), so plain L1 settles on soft-tissue HU wherever the MR
            is ambiguous; a weight k moves that choice towards bone where bone is at least 1/(k+1) likely.
        bone_segmentation: weight of the bone head's terms (needs ``data.paired: true``): the MR->CT generator then
            outputs a bone probability, a bone value and a value for the rest, mixed into its image
            (:class:`~medsynth.translation.networks.BoneHeadGenerator`), and the probability is trained against
            the registered CT's bone mask (above ``bone_hu``; cross-entropy + soft Dice), the bone value against
            the CT's HU in that mask. 0: the plain generator.
    """

    adversarial: float = Field(1.0, ge=0)
    cycle: float = Field(10.0, ge=0)
    identity: float = Field(5.0, ge=0)
    paired: float = Field(0.0, ge=0)
    structure: float = Field(0.0, ge=0)
    histogram: float = Field(0.0, ge=0)
    bone_histogram: float = Field(0.0, ge=0)
    bone_hu: float = 150.0
    paired_bone_weight: float = Field(1.0, ge=1.0)
    bone_segmentation: float = Field(0.0, ge=0)


class OptimConfig(ConfigModel):
    """Adam and the learning-rate schedule (the learning rate itself is ``train.lr``).

    Attributes:
        beta1: Adam's first beta (0.5 for GANs).
        beta2: Adam's second beta.
        decay_start: fraction of ``train.max_steps`` after which the rate decays linearly to 0.
        pool_size: fake images kept in each image pool (Shrivastava et al.); 0 disables the pool.
        ema: decay of an exponential moving average of the generators' weights, updated every step
            (warming up: min(ema, (1 + step) / (10 + step)), so short runs are not stuck near the
            initial weights), checkpointed, and used for inference and save (0 = off, the last weights
            are used). Averages out the step-to-step oscillation of GAN training.
    """

    beta1: float = Field(0.5, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    decay_start: float = Field(0.5, ge=0, le=1)
    pool_size: int = Field(50, ge=0)
    ema: float = Field(0.0, ge=0, lt=1)


class DataConfig(ConfigModel):
    """How training patches are drawn from the preprocessed volumes.

    Attributes:
        patch_size: in-plane (i, j) size for ``spatial_dims`` 2 and 2.5, or (i, j, k) for 3.
        context_slices: for 2.5: neighbouring slices on each side (the stack has 2c+1 channels).
        foreground_fraction: share of patches centred on a body voxel (the rest anywhere).
        paired: source and target are registered pairs (same count, order and grid); patches are
            then cut at the same place in both, which the ``loss.paired`` term needs.
        bias_correction: divide MR by a smooth (homomorphic) estimate of its bias field first.
        bias_sigma_mm: Gaussian width of that estimate in mm.
        body_threshold: the body is MR above this fraction of its 99th percentile (then holes
            filled slice by slice, components of 1% of the largest and more kept); CT above -500 HU.
        flip_axes: training augmentation: each patch is mirrored along each of these axes (0 = i,
            left-right on the RAS grid) with probability 1/2 (MR and registered CT alike); () = none.
        mr_intensity_augment: training augmentation of the MR patches' intensities (0 = none): on
            the [0, 1] scale, each patch is multiplied by a factor in [1 - a, 1 + a] and raised to a
            power in [1 / (1 + a), 1 + a], drawn per patch. MR intensities have no absolute scale (coil,
            sequence, the per-volume percentile window), so the model should not hang on them.
    """

    patch_size: tuple[int, ...] = (128, 128)
    context_slices: int = Field(1, ge=1, le=8)
    foreground_fraction: float = Field(0.9, ge=0, le=1)
    paired: bool = False
    bias_correction: bool = False
    bias_sigma_mm: float = Field(40.0, gt=0)
    body_threshold: float = Field(0.1, gt=0, lt=1)
    flip_axes: tuple[int, ...] = ()
    mr_intensity_augment: float = Field(0.0, ge=0, lt=1)


class InferenceConfig(ConfigModel):
    """Whole-volume sliding-window inference (MONAI ``sliding_window_inference``).

    Attributes:
        roi_size: window size (i, j) or (i, j, k); ``"patch"`` = the training patch
            (``data.patch_size``, so every window looks like what the networks were trained on); None =
            the whole slice in-plane (each input's (i, j), rounded up to a multiple of 2**generator.n_down),
            and the training patch's k for ``spatial_dims`` 3. The generators are fully convolutional,
            but instance normalisation makes their output depend on what a window holds: on the
            procedural phantoms (one field of view for all) whole slices were more accurate and ~2x faster
            (benchmarks/results/translation_windows.json), while on real anatomy, whose fields of view
            differ (arms, a larger FOV with more air), the training patch cut MAE from 167 to 131 HU
            (unpaired 2D) and from 117 to 84 HU (paired 2D) on the same models
            (translation_real_anatomy_window_*_2d.json); the ready-made configs use ``"patch"``.
        overlap: fraction of overlap between neighbouring windows in-plane (and along k in 3D);
            with whole-slice windows it only matters along k in 3D.
        blend: "gaussian" weights each window's centre most (no visible seams); "constant" averages.
        sw_batch_size: windows per forward pass.
        depth_sigma: 2.5: Gaussian width (in slices) of the weights along k when averaging the
            2c+1 predictions of each slice; larger = more averaging = smoother across slices.
        body_mask: set everything outside the body (found on the MR) to -1024 HU.
        mirror_axes: test-time mirroring: the prediction is averaged with the un-mirrored predictions
            of the input mirrored along each combination of these axes (0 = i, 1 = j, 2 = k, on the
            RAS-reoriented grid), as nnU-Net does. The default (0,) is left-right: anatomy is roughly
            left-right symmetric, so the mirrored input is one the model has seen the like of; it costs
            2x the inference time and on the phantom benchmark cut MAE by 6-12 HU in each of six runs
            (2D and 2.5D; e.g. 58.6 -> 49.1 HU). Front-back (1) mirrors the spine to the front and made bone
            worse there. () switches it off.
    """

    roi_size: tuple[int, ...] | Literal["patch"] | None = None
    overlap: float = Field(0.25, ge=0, lt=1)
    blend: Literal["gaussian", "constant"] = "gaussian"
    sw_batch_size: int = Field(8, ge=1)
    depth_sigma: float = Field(1.0, gt=0)
    body_mask: bool = True
    mirror_axes: tuple[int, ...] = (0,)


class CycleGANConfig(ConfigModel):
    """Everything about one MRI -> CT CycleGAN experiment (``configs/mr2ct_cyclegan_*.yaml``).

    Attributes:
        spatial_dims: 2 (axial slices), 2.5 (a stack of 2c+1 neighbouring slices as channels, in and
            out) or 3 (3D patches).
    """

    kind: Literal["mr2ct_cyclegan"] = "mr2ct_cyclegan"
    spatial_dims: SpatialDims = 2
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = Field(default_factory=DiscriminatorConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    preprocessing: PreprocessConfig = Field(default_factory=lambda: PreprocessConfig(orientation="RAS"))
    inference: InferenceConfig = Field(default_factory=InferenceConfig)
    train: TrainConfig = Field(default_factory=lambda: TrainConfig(batch_size=4, max_steps=2000))

    @property
    def model(self) -> str:
        """The translator's registry name (``cyclegan``), recorded as ``model`` in a run's run.json."""
        return "cyclegan"

    @property
    def channels(self) -> int:
        """Network channels: 2c+1 for 2.5, else 1."""
        return 2 * self.data.context_slices + 1 if self.spatial_dims == 2.5 else 1

    @property
    def net_dims(self) -> int:
        """Spatial dimensions of the networks (2.5 runs 2D networks on slice stacks)."""
        return 3 if self.spatial_dims == 3 else 2

    @property
    def patch_3d(self) -> tuple[int, int, int]:
        """The training patch as (i, j, k): k = 1 for 2, 2c+1 for 2.5."""
        p = self.data.patch_size
        if self.spatial_dims == 3:
            return (p[0], p[1], p[2])
        return (p[0], p[1], self.channels)

    def roi_3d(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        """The inference window as (i, j, k) for a volume of spatial ``shape`` (i, j, k)."""
        r = self.inference.roi_size
        if r == "patch":
            return self.patch_3d
        if r is None:
            f = 2**self.generator.n_down
            i, j = (max(f, -(-int(s) // f) * f) for s in shape[:2])
            return (i, j, self.patch_3d[2])
        if self.spatial_dims == 3:
            return (r[0], r[1], r[2])
        return (r[0], r[1], self.channels)

    @model_validator(mode="after")
    def _check(self) -> CycleGANConfig:
        problems: list[str] = []
        p = tuple(self.data.patch_size)
        want = 3 if self.spatial_dims == 3 else 2
        if len(p) != want:
            example = "[64, 64, 32]" if want == 3 else "[128, 128]"
            problems.append(
                f"data.patch_size {list(p)} must have {want} values for spatial_dims {self.spatial_dims} "
                f"(e.g. {example})"
            )
        roi = self.inference.roi_size
        if roi == "patch":
            roi = None  # the training patch: checked as data.patch_size
        if roi is not None and len(roi) != want:
            problems.append(f"inference.roi_size {list(roi)} must have {want} values for spatial_dims {self.spatial_dims}")
        lo, hi = self.preprocessing.ct_window
        bone_terms = [n for n, on in (("loss.bone_segmentation", self.loss.bone_segmentation > 0),
                                      ("loss.bone_histogram", self.loss.bone_histogram > 0),
                                      ("loss.paired_bone_weight", self.loss.paired_bone_weight > 1)) if on]
        if bone_terms and not lo < self.loss.bone_hu < hi:
            problems.append(f"loss.bone_hu {self.loss.bone_hu:g} is outside preprocessing.ct_window [{lo:g}, {hi:g}]: "
                            f"{', '.join(bone_terms)} would see no bone; use a bone_hu inside the window (e.g. 250)")
        if self.loss.bone_segmentation > 0 and not self.data.paired:
            problems.append(f"loss.bone_segmentation {self.loss.bone_segmentation:g} needs registered pairs "
                            "(data.paired: true): the bone head learns the registered CT's bone mask; set it to 0 for "
                            "unpaired training")
        bad_windows = [list(w) for w in self.discriminator.ct_windows if w[0] >= w[1]]
        if bad_windows:
            problems.append(f"discriminator.ct_windows {bad_windows}: each window is [low, high] HU with low < high, e.g. [150, 1500]")
        flips = tuple(self.data.flip_axes)
        allowed = (0, 1, 2) if self.spatial_dims == 3 else (0, 1)
        if len(set(flips)) != len(flips) or any(a not in allowed for a in flips):
            problems.append(f"data.flip_axes {list(flips)}: distinct axes from {list(allowed)} for spatial_dims {self.spatial_dims}")
        axes = tuple(self.inference.mirror_axes)
        if len(set(axes)) != len(axes) or any(a not in allowed for a in axes):
            problems.append(
                f"inference.mirror_axes {list(axes)}: distinct axes from {list(allowed)} for spatial_dims "
                f"{self.spatial_dims} (0 = left-right, 1 = front-back{', 2 = k' if self.spatial_dims == 3 else '; k is the slice axis'}); "
                "e.g. [0], or [] for none"
            )
        factor = 2**self.generator.n_down
        # PatchDiscriminator halves num_layers times, then a normalised stride-1 conv needs >= 2x2 left.
        d_min = 3 * 2**self.discriminator.num_layers
        for name, size in (("data.patch_size", p), ("inference.roi_size", roi)):
            if size is None or len(size) != want:
                continue
            bad = [s for s in size if s % factor]
            if bad:
                fix = [((s + factor - 1) // factor) * factor for s in size]
                problems.append(
                    f"{name} {list(size)}: sizes must be divisible by {factor} (2**generator.n_down); use {fix}"
                )
        if len(p) == want and any(s < d_min for s in p):
            problems.append(
                f"data.patch_size {list(p)}: every size must be at least {d_min} for a "
                f"{self.discriminator.num_layers}-layer PatchGAN discriminator; enlarge the patch or lower "
                "discriminator.num_layers"
            )
        if self.loss.paired > 0 and not self.data.paired:
            problems.append(
                f"loss.paired = {self.loss.paired} needs registered MR/CT pairs: set data.paired: true "
                "(or loss.paired: 0 for unpaired training)"
            )
        if self.loss.adversarial == 0 and self.loss.paired == 0:
            problems.append("loss.adversarial and loss.paired are both 0: nothing would teach the MR->CT generator")
        if self.loss.cycle == 0 and self.loss.paired == 0:
            problems.append(
                "loss.cycle is 0 without loss.paired: unpaired training needs the cycle term (set loss.cycle, e.g. 10), "
                "or give registered pairs (data.paired: true, loss.paired: 10)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


__all__ = [
    "CycleGANConfig",
    "DataConfig",
    "DiscriminatorConfig",
    "GeneratorConfig",
    "InferenceConfig",
    "LossConfig",
    "OptimConfig",
    "SpatialDims",
]
