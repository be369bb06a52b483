"""MRI -> CT CycleGAN: ``fit(mr, ct)`` on unpaired (or paired) volumes, ``translate(mr) -> CT in HU``.

Training (Zhu et al. 2017, with the sCT practice around it):

* two generators G: MR->CT and F: CT->MR, two PatchGAN discriminators (MONAI), least-squares
  adversarial loss, L1 cycle-consistency (both ways) and identity terms, an optional paired L1 term
  to the registered CT, image pools for the discriminators, Adam(0.5, 0.999), linear LR decay;
* patches: 2D slices, 2.5D slice stacks or 3D patches (``spatial_dims``), mostly centred on the body;
* everything around the loop (device, DDP under torchrun, run directory, checkpoints, resume,
  progress, metrics.jsonl, autocast) is :class:`~medsynth.core.training.TrainSession`.

Inference: bias correction (optional) and preprocessing of the MR, sliding-window whole-volume
translation with Gaussian blending, mapping back to the input grid and to HU, and air (-1024 HU)
outside a body mask found on the MR. The output has the input's shape and affine.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from medsynth.core.config import config_hash, config_to_yaml, read_yaml, validate_config
from medsynth.core.errors import DataValidationError, NotFittedError, RunDirectoryError
from medsynth.core.training import EMA, TrainSession, accumulation, unwrap
from medsynth.io.transforms import VolumePreprocessor
from medsynth.io.volume import Volume
from medsynth.translation.config import CycleGANConfig
from medsynth.translation.data import DomainVolume, InputDimensionError, PatchSampler, load_domain, to_net
from medsynth.translation.inference import NonFinite, sliding_translate, translate_volume
from medsynth.translation.losses import ImagePool, generator_terms, linear_decay, lsgan_loss
from medsynth.translation.networks import build_discriminator, build_generator

WEIGHTS = "weights.pt"
CONFIG = "config.yaml"
META = "meta.json"
FORMAT_VERSION = 1


class CycleGenerators(nn.Module):
    """Both generators in one module, so one forward (and one DDP all-reduce) covers every use."""

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__()
        self.mr2ct = build_generator(config, bone_head=config.loss.bone_segmentation > 0)
        self.ct2mr = build_generator(config)

    def forward(self, mr: torch.Tensor, ct: torch.Tensor, identity: bool = True, cycle: bool = True) -> dict[str, torch.Tensor]:
        """The outputs the active loss terms need: ``fake_ct`` always; with ``cycle`` the CT->MR direction
        (``fake_mr``) and both reconstructions; with ``identity`` the identity mappings."""
        parts = getattr(self.mr2ct, "parts", None)
        if parts is not None:  # a bone head: its logit and bone value for the bone terms
            fake, out_logit, out_bone = parts(mr)
            out = {"fake_ct": fake, "bone_logit": out_logit, "bone_value": out_bone}
        else:
            out = {"fake_ct": self.mr2ct(mr)}
        if cycle:
            out["fake_mr"] = self.ct2mr(ct)
            out["rec_mr"] = self.ct2mr(out["fake_ct"])
            out["rec_ct"] = self.mr2ct(out["fake_mr"])
        if identity:
            out["idt_ct"] = self.mr2ct(ct)
            out["idt_mr"] = self.ct2mr(mr)
        return out


class CycleDiscriminators(nn.Module):
    """The CT and MR discriminators in one module (one DDP wrapper), plus one CT discriminator per HU
    window of ``discriminator.ct_windows`` (each sees the CT through that window)."""

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__()
        self.ct = build_discriminator(config)
        self.mr = build_discriminator(config)
        lo, hi = config.preprocessing.ct_window
        self.windows = [((a - lo) / (hi - lo) * 2 - 1, (b - lo) / (hi - lo) * 2 - 1) for a, b in config.discriminator.ct_windows]
        self.ct_windows = nn.ModuleList(build_discriminator(config) for _ in self.windows)

    def forward(self, ct: torch.Tensor, mr: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """(CT scores: the full-range discriminator's, then each window's), MR score."""
        scores = [self.ct(ct)]
        for d, (a, b) in zip(self.ct_windows, self.windows):
            scores.append(d(((ct - a) / (b - a) * 2 - 1).clamp(-1.0, 1.0)))
        return scores, self.mr(mr)


def _spacing_range(domain: list[DomainVolume]) -> dict[str, dict[str, list[float]]]:
    """``{"source_spacing_mm": {"min": [i, j, k], "max": [...]}}``: the network grids' voxel sizes the model learned
    on (what :meth:`CycleGANTranslator.translate` compares an input with); empty when one is unknown."""
    sizes = [d.spacing for d in domain]
    if not sizes or any(s is None for s in sizes):
        return {}
    a = np.asarray(sizes, dtype=np.float64)
    return {"source_spacing_mm": {"min": [round(float(x), 4) for x in a.min(axis=0)],
                                  "max": [round(float(x), 4) for x in a.max(axis=0)]}}


def _fingerprint(domain: list[DomainVolume]) -> str:
    """SHA-256 (16 hex digits) over the preprocessed training tensors, in order."""
    import hashlib

    from medsynth.core.files import fingerprint_array

    h = hashlib.sha256()
    for d in domain:
        h.update(fingerprint_array(d.tensor.numpy()).encode())
    return h.hexdigest()[:16]


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class CycleGANTranslator:
    """MR -> CT translation with a CycleGAN (the ``cyclegan`` entry of the translator registry).

    Args:
        config: a :class:`CycleGANConfig` or a mapping validated into one (defaults when None).

    Example:
        >>> tr = CycleGANTranslator(load_config(CycleGANConfig, "configs/mr2ct_cyclegan_2d.yaml"))
        >>> tr.fit("data/mr", "data/ct", out="runs/mr2ct")
        >>> ct = tr.translate(load_volume("patient_mr.nii.gz"))   # HU, same grid as the MR
        >>> tr.save("runs/mr2ct/model"); tr = CycleGANTranslator.load("runs/mr2ct/model")
    """

    config_class = CycleGANConfig

    def __init__(self, config: CycleGANConfig | Mapping[str, Any] | None = None) -> None:
        if config is None:
            config = CycleGANConfig()
        elif not isinstance(config, CycleGANConfig):
            config = validate_config(CycleGANConfig, config, source="CycleGANTranslator config")
        self.config: CycleGANConfig = config
        self.preprocessor = VolumePreprocessor(config.preprocessing)
        self.generators: CycleGenerators | None = None
        self.device = torch.device("cpu")
        self.meta: dict[str, Any] = {}
        self.run_dir: Path | None = None

    # -- training -------------------------------------------------------------------------------
    def fit(self, source: Any, target: Any, *, out: str | Path | None = None, resume: bool = False, force: bool = False) -> CycleGANTranslator:
        """Train on MR ``source`` and CT ``target`` volumes (unpaired unless ``data.paired``).

        The run directory (``run.json`` with kind and model, checkpoints, ``model/``) is created by
        :func:`medsynth.translation.api.fit_run`, the job function behind ``medsynth.translate.train``.

        Args:
            source: MR volumes: a folder (NIfTI / DICOM series), a CSV of paths, or a list of
                paths or Volumes.
            target: CT volumes in HU, likewise.
            out: the run directory (config, metrics.jsonl, checkpoints, and the trained model in
                ``out/model``); a temporary one, deleted afterwards, when None.
            resume: continue the run in ``out`` from its last checkpoint.
            force: overwrite an existing run in ``out``.

        Raises:
            SourceModalityError: CT given as source, or non-CT as target.
            DataValidationError: empty folders, unreadable files, mismatched pairs.
            RunDirectoryError: ``out`` exists (without resume/force), or there is nothing to resume.
        """
        from medsynth.translation.api import fit_run

        fit_run(self, source, target, out, resume=resume, force=force)
        return self

    def training_data(self, source: Any, target: Any) -> tuple[list[DomainVolume], list[DomainVolume]]:
        """Read, check and preprocess the MR ``source`` and CT ``target`` volumes (nothing is written).

        Raises:
            SourceModalityError: CT given as source, or non-CT as target.
            DataValidationError: empty folders, unreadable files, mismatched pairs, 2D images for a 3D model.
        """
        cfg = self.config
        src = load_domain(source, "MR", self.preprocessor, cfg.data, what="source (MR)")
        tgt = load_domain(target, "CT", self.preprocessor, cfg.data, what="target (CT)")
        self._check_training_data(src, tgt)
        return src, tgt

    def _check_training_data(self, src: list[DomainVolume], tgt: list[DomainVolume]) -> None:
        cfg = self.config
        if cfg.spatial_dims == 3:
            flat = [f"'{d.name}' has shape {tuple(d.tensor.shape[-3:])}" for d in src + tgt if min(d.tensor.shape[-3:]) == 1]
            if flat:
                raise InputDimensionError(
                    [f"{f}: a single 2D image cannot train a 3D model (spatial_dims 3); use spatial_dims 2 "
                     "or give 3D volumes" for f in flat]
                )
        if cfg.data.paired:
            problems = []
            if len(src) != len(tgt):
                problems.append(f"data.paired needs as many MR as CT volumes, in the same order; got {len(src)} MR and {len(tgt)} CT")
            for a, b in zip(src, tgt):
                if a.tensor.shape != b.tensor.shape:
                    problems.append(
                        f"'{a.name}' {tuple(a.tensor.shape[-3:])} and '{b.name}' {tuple(b.tensor.shape[-3:])} are not on one "
                        "grid after preprocessing; register (resample) the MR to its CT first"
                    )
            if problems:
                raise DataValidationError(problems, context="paired training data")

    def train_session(self, session: TrainSession, src: list[DomainVolume], tgt: list[DomainVolume]) -> None:
        """The training loop in an open :class:`TrainSession` (its run directory is created by the caller,
        :func:`medsynth.translation.api.fit_run`); leaves the trained generators in place."""
        cfg = self.config
        tc = cfg.train
        src_sampler = PatchSampler(src, cfg.patch_3d, cfg.data.foreground_fraction)
        tgt_sampler = PatchSampler(tgt, cfg.patch_3d, cfg.data.foreground_fraction)
        one_way = cfg.loss.cycle == 0 and cfg.loss.identity == 0  # the CT->MR generator gets no gradient (DDP must know)
        gens = session.wrap(CycleGenerators(cfg), **({"find_unused_parameters": True} if one_way else {}))
        discs = session.wrap(CycleDiscriminators(cfg))
        betas = (cfg.optim.beta1, cfg.optim.beta2)
        opt_g = torch.optim.Adam(gens.parameters(), lr=tc.lr, betas=betas)
        opt_d = torch.optim.Adam(discs.parameters(), lr=tc.lr, betas=betas)
        decay = linear_decay(tc.max_steps, cfg.optim.decay_start)
        sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, decay)
        sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, decay)
        pools = (ImagePool(cfg.optim.pool_size), ImagePool(cfg.optim.pool_size))
        objects = {
            "generators": gens, "discriminators": discs, "opt_g": opt_g, "opt_d": opt_d,
            "sched_g": sched_g, "sched_d": sched_d, "pool_ct": pools[0], "pool_mr": pools[1],
        }
        ema = EMA(gens, cfg.optim.ema) if cfg.optim.ema > 0 else None
        if ema is not None:
            objects["ema_generators"] = ema
        start = session.restore(objects)
        for step in session.steps(start):
            # One generator per step (seed, rank, step): a resumed run draws what an uninterrupted one would.
            rng = np.random.default_rng([tc.seed, session.dist.rank, step])
            losses = self._step(session, gens, discs, opt_g, opt_d, pools, src_sampler, tgt_sampler, rng)
            if ema is not None:
                ema.update(gens, step)
            sched_g.step()
            sched_d.step()
            losses["lr"] = sched_g.get_last_lr()[0]
            session.log(step, losses)
            if tc.sample_every and step % tc.sample_every == 0 and session.is_main:
                self._write_preview(session, unwrap(gens), src_sampler, step)
            session.maybe_checkpoint(step, objects)
        # The averaged weights when there are any: they are what inference and save use.
        self.generators = (ema.shadow if ema is not None else unwrap(gens)).eval()
        self.device = session.device
        self.meta = {
            "steps": tc.max_steps,
            "resumed_from_step": start if session.resume else None,
            "trained_on": str(session.device),
            "world_size": session.dist.world_size,
            # Counts and content fingerprints only: file names can identify patients and a model travels.
            "data": {
                "source_volumes": len(src),
                "target_volumes": len(tgt),
                "source_fingerprint": _fingerprint(src),
                "target_fingerprint": _fingerprint(tgt),
                **_spacing_range(src),
            },
        }
        if cfg.loss.bone_segmentation > 0 and cfg.data.paired:
            self.calibrate_bone_head(src, tgt)  # (adds meta["bone_head"])

    #: Bone probabilities tried by :meth:`calibrate_bone_head` as the head's new 0.5 (0.5: unchanged).
    BONE_THRESHOLDS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    #: At most this many training pairs are translated per threshold (the first ones).
    CALIBRATION_PAIRS = 8

    def calibrate_bone_head(self, src: list[DomainVolume], tgt: list[DomainVolume]) -> dict[str, float] | None:
        """Set the bone head's mixing threshold (``loss.bone_segmentation``) from registered training pairs.

        For each probability of :attr:`BONE_THRESHOLDS` made the head's 0.5 (its ``offset``), the first
        :attr:`CALIBRATION_PAIRS` training MRs are translated as at inference (windows, mirrorings) and the synthetic
        CT's bone (above ``loss.bone_hu``) is scored against the registered CT's (Dice over both body masks, counts
        only); the best becomes the offset, saved with the weights, and ``meta["bone_head"]`` says so. Scored on the
        image, not on the probability: the other branch learns bone values too, so ``p > threshold`` is not where
        the image shows bone. Set with the inference settings of the fit; a later ``configure_inference`` does not
        recalibrate. Returns the chosen threshold and the training Dice at it and at 0.5; None without a bone head."""
        from medsynth.translation.networks import BoneHeadGenerator

        gens = self._require_fitted()
        head = gens.mr2ct
        if not isinstance(head, BoneHeadGenerator) or not src:
            return None
        lo, hi = self.config.preprocessing.ct_window
        bone_t = (self.config.loss.bone_hu - lo) / (hi - lo) * 2.0 - 1.0
        pairs = list(zip(src, tgt, strict=True))[: self.CALIBRATION_PAIRS]
        bodies = [s.mask | t.mask for s, t in pairs]
        truth = [(t.tensor[0] > bone_t) & body for (_, t), body in zip(pairs, bodies, strict=True)]
        scores = {}
        for th in self.BONE_THRESHOLDS:
            head.offset.fill_(math.log(th / (1 - th)))
            both = pred = true = 0
            for (s, _), body, ref in zip(pairs, bodies, truth, strict=True):
                out = sliding_translate(head, s.tensor.unsqueeze(0), self.config, device=self.device,
                                        autocast=self.autocast)[0, 0]
                mine = (out > bone_t) & body
                both, pred, true = both + int((mine & ref).sum()), pred + int(mine.sum()), true + int(ref.sum())
            scores[th] = 2 * both / max(pred + true, 1)
        best = max(scores, key=lambda th: (scores[th], th == 0.5))  # (a tie keeps 0.5: the head as trained)
        head.offset.fill_(math.log(best / (1 - best)))
        out = {"probability_threshold": best, "train_dice": round(scores[best], 4), "train_dice_at_0.5": round(scores[0.5], 4),
               "pairs": len(pairs)}
        self.meta["bone_head"] = out
        return out

    def _batch(
        self, src: PatchSampler, tgt: PatchSampler, rng: np.random.Generator, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One micro-batch (MR, CT, registered CT or None) in the networks' layout, on ``device``."""
        cfg = self.config
        n = cfg.train.batch_size
        pos = src.positions(rng, n)
        mr = src.crop(pos)
        if cfg.data.paired:
            ct = tgt.crop(pos)  # the registered CT under the same patch
            paired = ct
        else:
            ct = tgt.sample(rng, n)
            paired = None
        if cfg.data.flip_axes:  # mirror each sample along each axis with probability 1/2 (pairs alike)
            flips = rng.uniform(size=(n, len(cfg.data.flip_axes))) < 0.5
            mr, ct = mr.clone(), ct.clone()
            for b in range(n):  # a sample is (1, i, j, k): spatial axis a is dim 1 + a
                axes = [1 + a for a, f in zip(cfg.data.flip_axes, flips[b]) if f]
                if axes:
                    mr[b] = torch.flip(mr[b], axes)
                    ct[b] = torch.flip(ct[b], axes)
            paired = ct if paired is not None else None
        a = cfg.data.mr_intensity_augment
        if a > 0:  # per-patch scale and gamma of the MR on its [0, 1] scale
            scale = torch.as_tensor(rng.uniform(1 - a, 1 + a, n), dtype=mr.dtype).view(n, 1, 1, 1, 1)
            gamma = torch.as_tensor(np.exp(rng.uniform(-np.log1p(a), np.log1p(a), n)), dtype=mr.dtype).view(n, 1, 1, 1, 1)
            mr = (((mr + 1) / 2 * scale).clamp(0, 1) ** gamma) * 2 - 1
        dims = cfg.spatial_dims
        put = lambda t: to_net(t, dims).to(device, non_blocking=True)  # noqa: E731
        return put(mr), put(ct), (put(paired) if paired is not None else None)

    def _step(
        self,
        session: TrainSession,
        gens: nn.Module,
        discs: nn.Module,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        pools: tuple[ImagePool, ImagePool],
        src: PatchSampler,
        tgt: PatchSampler,
        rng: np.random.Generator,
    ) -> dict[str, float]:
        """One optimisation step: generators (cycle, identity, adversarial, paired), then discriminators."""
        cfg = self.config
        w = cfg.loss
        lo, hi = cfg.preprocessing.ct_window
        bone_t = (w.bone_hu - lo) / (hi - lo) * 2.0 - 1.0  # bone_hu on the network's [-1, 1] scale
        n_micro = cfg.train.grad_accum_steps
        micro = [self._batch(src, tgt, rng, session.device) for _ in range(n_micro)]
        d_plain = unwrap(discs)
        sums: dict[str, float] = {}
        fakes = []
        # Generators: the discriminators are used without their DDP wrapper and without gradients.
        _set_requires_grad(discs, False)
        opt_g.zero_grad(set_to_none=True)
        for m, (mr, ct, paired) in enumerate(micro):
            with accumulation(gens, m, n_micro):
                with session.autocast():
                    o = gens(mr, ct, identity=w.identity > 0, cycle=w.cycle > 0)
                    total, terms = generator_terms(o, mr, ct, paired, w, d_plain if w.adversarial > 0 else None, bone_t)
                (total / n_micro).backward()
            fakes.append((o["fake_ct"].detach(), o["fake_mr"].detach() if "fake_mr" in o else None))
            for k, v in {**terms, "loss_g": total}.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) / n_micro
        opt_g.step()
        _set_requires_grad(discs, True)
        if w.adversarial > 0:
            opt_d.zero_grad(set_to_none=True)
            for m, ((mr, ct, _), (fake_ct, fake_mr)) in enumerate(zip(micro, fakes)):
                fake_ct = pools[0].query(fake_ct, rng)
                # Without the CT->MR direction (loss.cycle 0) the MR discriminator sees real MR only: no loss.
                fake_mr = pools[1].query(fake_mr, rng) if fake_mr is not None else mr[:0]
                with accumulation(discs, m, n_micro), session.autocast():
                    # Real and fake in one forward (one DDP pass); instance norm keeps samples apart.
                    ct_s, mr_s = discs(torch.cat([ct, fake_ct]), torch.cat([mr, fake_mr]))
                    d_ct = sum(0.5 * (lsgan_loss(a, True) + lsgan_loss(b, False))
                               for a, b in (x.split([len(ct), len(fake_ct)]) for x in ct_s)) / len(ct_s)
                    real_mr_s, fake_mr_s = mr_s.split([len(mr), len(fake_mr)])
                    d_mr = 0.5 * (lsgan_loss(real_mr_s, True) + lsgan_loss(fake_mr_s, False)) if len(fake_mr) else 0.0 * mr_s.sum()
                ((d_ct + d_mr) / n_micro).backward()
                sums["d_ct"] = sums.get("d_ct", 0.0) + float(d_ct.detach()) / n_micro
                sums["d_mr"] = sums.get("d_mr", 0.0) + float(d_mr.detach()) / n_micro
            opt_d.step()
        return sums

    def _write_preview(self, session: TrainSession, gens: CycleGenerators, src: PatchSampler, step: int) -> None:
        """A PNG of one fixed MR patch's middle slice and its translation (``samples/``)."""
        from PIL import Image

        from medsynth.core.files import atomic_path

        mr = src.crop(src.positions(np.random.default_rng(0), 1))
        with torch.no_grad(), session.autocast():
            gens.eval()
            fake = gens.mr2ct(to_net(mr, self.config.spatial_dims).to(session.device)).float().cpu()
            gens.train()
        k = mr.shape[-1] // 2
        a = mr[0, 0, :, :, k].numpy()
        b = fake[0, 0, :, :, k].numpy() if self.config.spatial_dims == 3 else fake[0, fake.shape[1] // 2].numpy()
        img = ((np.concatenate([a, b], axis=1).T[::-1] + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
        dest = session.run.path / "samples" / f"step_{step:08d}.png"
        with atomic_path(dest) as tmp:
            Image.fromarray(img).save(tmp, format="PNG")

    # -- inference --------------------------------------------------------------------------------
    def _require_fitted(self) -> CycleGenerators:
        if self.generators is None:
            raise NotFittedError("this CycleGANTranslator is not trained: call fit(source, target) or CycleGANTranslator.load(dir)")
        return self.generators

    def configure_inference(self, overrides: list[str]) -> None:
        """Change how the model is applied (``inference.*`` only), e.g. ``["inference.overlap=0.25"]``.

        Raises:
            ConfigError: for keys outside ``inference`` (they would not match the trained weights)
                or invalid values.
        """
        from medsynth.core.config import apply_overrides
        from medsynth.core.errors import ConfigError

        bad = [o for o in overrides if not o.strip().startswith("inference.")]
        if bad:
            raise ConfigError(
                f"{bad}: only inference.* settings can change after training (roi_size, overlap, blend, "
                "sw_batch_size, depth_sigma, body_mask, mirror_axes); retrain to change anything else"
            )
        data = apply_overrides(self.config.model_dump(mode="json"), overrides)
        self.config = validate_config(CycleGANConfig, data, source="inference overrides")

    def autocast(self) -> contextlib.AbstractContextManager:
        """The mixed-precision context for this model's device and ``train.precision``."""
        from medsynth.core.runtime import autocast

        return autocast(self.device, self.config.train.precision)

    def translate(
        self,
        volume: Volume,
        *,
        progress: bool = False,
        return_spread: bool = False,
        nonfinite: NonFinite = "error",
    ) -> Volume | tuple[Volume, Volume]:
        """Translate one MR volume to CT in HU, on the MR's own grid (same shape and affine).

        Args:
            volume: the MR.
            progress: show a progress bar.
            return_spread: also return the voxel-wise spread (standard deviation, HU) of the
                predictions averaged into the sCT: the test-time mirrorings
                (``inference.mirror_axes``), and in 2.5D the 2c+1 stack positions, in 3D the overlapping
                windows. High where the model is unsure (0 outside the body).
            nonfinite: "error" refuses an MR with NaN/inf voxels (naming their count); "mask" leaves
                them out of the body and writes them as NaN (no value) in the sCT and the spread.

        Returns:
            The sCT, or (sCT, spread) with ``return_spread``.

        Raises:
            NotFittedError: before fit or load.
            SourceModalityError: the volume looks like CT in HU.
            InputDimensionError: a 2D image given to a 3D model, or a multi-channel volume.
            NonFiniteError: NaN/inf voxels with ``nonfinite="error"``.
            ConfigError: ``return_spread`` for a model that averages a single prediction per voxel.
        """
        gens = self._require_fitted()
        if return_spread:
            self._check_spread()
        gens.eval()
        learned = self.meta.get("data", {}).get("source_spacing_mm")
        out = translate_volume(gens.mr2ct, volume, self.config, self.preprocessor, device=self.device, autocast=self.autocast,
                               progress=progress, spread=return_spread, nonfinite=nonfinite,
                               learned_spacing=(learned["min"], learned["max"]) if learned else None)
        if return_spread:
            return out.ct, out.spread  # type: ignore[return-value]
        return out.ct

    def _check_spread(self) -> None:
        from medsynth.core.errors import ConfigError

        inf = self.config.inference
        if self.config.spatial_dims == 2 and not inf.mirror_axes:
            raise ConfigError(
                "a spread map needs several predictions per voxel, but this 2D model averages one (inference.mirror_axes "
                "is []); set inference.mirror_axes=[0] (CLI: --set inference.mirror_axes=[0])"
            )

    # -- persistence --------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``config.yaml``, ``weights.pt`` (both generators' state_dicts) and ``meta.json``.

        An earlier saved translator in ``path`` is replaced atomically; any other non-empty folder is
        refused (so a run directory is never overwritten by mistake).
        """
        from medsynth.core.files import atomic_dir, write_json
        from medsynth.core.rundir import environment_info

        gens = self._require_fitted()
        dest = Path(path)
        if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / WEIGHTS).is_file())):
            raise RunDirectoryError(
                f"refusing to save into '{dest}': it exists and does not hold a saved translator (a run "
                "directory?); save into a new folder such as RUN/model"
            )
        state = {k: v.detach().cpu() for k, v in gens.state_dict().items()}
        meta = {
            "format_version": FORMAT_VERSION,
            "model": "cyclegan",
            "kind": self.config.kind,
            "spatial_dims": self.config.spatial_dims,
            "config_hash": config_hash(self.config),
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "versions": environment_info(),
            "parameters": int(sum(p.numel() for p in gens.parameters())),
            **self.meta,
        }
        with atomic_dir(dest, overwrite=True) as tmp:
            (tmp / CONFIG).write_text(config_to_yaml(self.config), encoding="utf-8")
            torch.save(state, tmp / WEIGHTS)
            write_json(tmp / META, meta)
        return dest

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> CycleGANTranslator:
        """Load a saved translator (a model folder, or a run directory holding ``model/``).

        Raises:
            RunDirectoryError: the folder does not hold a saved CycleGAN.
        """
        import json

        from medsynth.core.runtime import resolve_device

        p = Path(path)
        if not (p / WEIGHTS).is_file() and (p / "model" / WEIGHTS).is_file():
            p = p / "model"
        missing = [n for n in (CONFIG, WEIGHTS, META) if not (p / n).is_file()]
        if missing:
            raise RunDirectoryError(
                f"'{path}' is not a saved CycleGAN translator (missing {', '.join(missing)}); give the folder "
                "written by save() or the --out of 'medsynth translate train'"
            )
        config = validate_config(CycleGANConfig, read_yaml(p / CONFIG), source=str(p / CONFIG))
        tr = cls(config)
        dev = resolve_device(device)
        gens = CycleGenerators(config)
        try:
            state = torch.load(p / WEIGHTS, map_location=dev, weights_only=True)
            gens.load_state_dict(state)
        except (RuntimeError, OSError, KeyError) as exc:
            raise RunDirectoryError(f"weights '{p / WEIGHTS}' do not fit the config in '{p / CONFIG}' ({exc})") from None
        tr.generators = gens.to(dev).eval()
        tr.device = dev
        tr.meta = json.loads((p / META).read_text(encoding="utf-8"))
        return tr


__all__ = ["CycleDiscriminators", "CycleGANTranslator", "CycleGenerators"]
