"""What the imaging synthesizers share: fitting (data, run directory, resume checks), sampling with
seeds, latent interpolation, and save/load (config YAML + state_dict weights + meta.json).

A model subclass defines its networks (:meth:`build`), its training objects and one optimisation
step (:meth:`_setup_training`, :meth:`_train_step`), and how a latent becomes an image
(:meth:`_decode`); :meth:`stages` turns those into the hooks of the one training loop,
:func:`medsynth.core.training.train_stages` (run directory, DDP, resume, per-stage checkpoints,
progress, previews). A multi-stage model (ldm3d) overrides :meth:`stages`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from medsynth.core.config import config_hash, config_to_yaml, read_yaml, validate_config
from medsynth.core.errors import ConfigError, NotFittedError, RunDirectoryError
from medsynth.core.files import atomic_dir, write_json, write_text
from medsynth.core.rundir import environment_info
from medsynth.core.runtime import autocast, resolve_device
from medsynth.core.training import Stage, TrainSession, batches, train_stages
from medsynth.imaging.config import ImageSynthConfig
from medsynth.imaging.data import TrainingData, load_training_data
from medsynth.imaging.resume import DATA_RECORD, check_resume_config, check_resume_data, data_record
from medsynth.io.transforms import VolumePreprocessor
from medsynth.io.volume import Volume

WEIGHTS = "weights.pt"
META = "meta.json"
CONFIG = "config.yaml"
#: Where a run keeps its trained model (runs written before it kept the model files at the run root).
MODEL_DIR = "model"
FORMAT_VERSION = 1
_MODEL_FILES = (CONFIG, META, WEIGHTS)


def model_folder(path: str | Path) -> Path:
    """The folder holding the model files of ``path``: ``RUN/model/``, or ``path`` itself (a model folder, or an
    older run that kept its model at the root)."""
    p = Path(path)
    return p / MODEL_DIR if (p / MODEL_DIR / META).is_file() else p


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between two Gaussian latents (keeps their norm typical)."""
    af, bf = a.flatten().double(), b.flatten().double()
    cos = torch.clamp(torch.dot(af, bf) / (af.norm() * bf.norm() + 1e-12), -1.0, 1.0)
    omega = torch.arccos(cos)
    if float(omega) < 1e-6:
        return (1 - t) * a + t * b
    s = torch.sin(omega)
    return ((torch.sin((1 - t) * omega) / s) * af + (torch.sin(t * omega) / s) * bf).view_as(a).to(a.dtype)


class ImageSynthesizer:
    """Base of :class:`~medsynth.imaging.vae3d.VAE3D` and :class:`~medsynth.imaging.gan3d.GAN3D`.

    Args:
        config: the model's config (defaults when None).
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type[ImageSynthConfig]] = ImageSynthConfig
    #: networks saved in weights.pt and needed to sample.
    saved_networks: ClassVar[tuple[str, ...]] = ()
    #: whether ``fit(labels_dir=...)`` trains a mask-conditioned generator.
    supports_masks: ClassVar[bool] = False

    def __init__(self, config: ImageSynthConfig | None = None) -> None:
        cfg = config if config is not None else self.config_class()
        if not isinstance(cfg, self.config_class):
            raise ConfigError(
                f"{type(self).__name__} needs a {self.config_class.__name__} (kind: {self.name}), "
                f"got {type(cfg).__name__}"
            )
        self.config = cfg
        pre = cfg.preprocessing
        problems = []
        if pre.spatial_size is None:
            problems.append("preprocessing.spatial_size must be set (e.g. [64, 64, 64]) so every volume has one shape")
        if pre.spacing is None:
            problems.append("preprocessing.spacing must be set (e.g. [2.0, 2.0, 2.0]) so samples have a voxel size")
        if problems:
            raise ConfigError("; ".join(problems))
        self.check_shape(self.in_shape)
        self.label_names: list[str] = []
        self.label_counts: dict[str, int] = {}
        self.window: tuple[float, float] = tuple(pre.ct_window)  # type: ignore[assignment]
        self.fingerprint: str | None = None
        self.n_volumes = 0
        self.steps_trained = 0
        self.device = torch.device("cpu")
        self.nets: dict[str, nn.Module] = {}
        self._pre: VolumePreprocessor | None = None

    # -- shapes ----------------------------------------------------------------------------------
    @property
    def spatial(self) -> tuple[int, ...]:
        """The training grid's spatial size (2D: the axial plane)."""
        size = tuple(int(s) for s in self.config.preprocessing.spatial_size or ())
        return size[:2] if self.config.spatial_dims == 2 else size

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Shape of one network input, ``(channels, *spatial)``."""
        return (1, *self.spatial)

    @property
    def n_classes(self) -> int:
        """Classes the networks are conditioned on (0 when fewer than two)."""
        return len(self.label_names) if len(self.label_names) >= 2 else 0

    def check_shape(self, in_shape: Sequence[int]) -> None:
        """Raise ConfigError when the networks cannot take ``in_shape``."""

    # -- hooks a model defines -------------------------------------------------------------------
    def build(self) -> None:
        """Create ``self.nets`` for the current label set (on CPU)."""
        raise NotImplementedError

    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one latent sample (without the batch axis)."""
        raise NotImplementedError

    def _decode(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    @property
    def batches_per_step(self) -> int:
        """Batches one training step draws from the data (per rank)."""
        return self.config.train.grad_accum_steps

    def _setup_training(self, session: TrainSession) -> dict[str, Any]:
        """Wrap networks, make optimizers; return every object a checkpoint must hold."""
        raise NotImplementedError

    def _train_step(self, session: TrainSession, data: Iterator[Any], step: int) -> dict[str, float]:
        raise NotImplementedError

    # -- training --------------------------------------------------------------------------------
    def fit(
        self,
        data: Any,
        *,
        out: str | Path | None = None,
        resume: bool = False,
        force: bool = False,
        labels_csv: str | Path | None = None,
        labels_dir: str | Path | None = None,
    ) -> ImageSynthesizer:
        """Train on ``data`` (a folder, CSV, VolumeDataset or list of Volumes).

        Args:
            data: see :func:`~medsynth.imaging.data.load_training_data`.
            out: run directory (config, metrics.jsonl, checkpoints, previews, and the saved model at
                the end). ``None`` trains in a temporary folder that is removed afterwards.
            resume: continue the run in ``out`` from its last checkpoint.
            force: overwrite an earlier run in ``out``.
            labels_csv: class labels per file (overrides ``data.labels_csv``).
            labels_dir: a folder of label maps, one per volume with the same file name (models with
                ``supports_masks``: a mask-conditioned generator of image + label-map pairs).

        Raises:
            DataValidationError: unreadable, mismatched or non-finite volumes (each file named), or
                ``resume`` with data other than the run was trained on (both sources named).

        Under ``torchrun`` every process calls ``fit``; gradients are averaged (DDP) and only rank 0
        writes.
        """
        cfg = self.config
        if resume and out is None:
            raise ConfigError("resume needs the run directory (out=...) to continue from")
        if labels_dir is not None and not self.supports_masks:
            raise ConfigError(
                f"{self.name} does not train on image + label-map pairs (--labels-dir); use kind: ldm3d "
                "(a mask-conditioned latent diffusion model), or leave out the label maps"
            )
        if resume:
            self._check_resume_config(Path(out))  # type: ignore[arg-type]
        train_data = load_training_data(data, cfg, labels_csv=labels_csv, labels_dir=labels_dir)
        got = train_data.in_shape
        if got != self.in_shape:
            raise ConfigError(f"training images have shape {got}, the networks expect {self.in_shape}")
        record = data_record(data, train_data, labels_dir)
        if resume:
            check_resume_data(Path(out), record)  # type: ignore[arg-type]
        self.label_names = train_data.label_names
        self.label_counts = train_data.label_counts
        self.window = train_data.window
        self.fingerprint = train_data.fingerprint
        self.n_volumes = train_data.n_volumes
        tmp = tempfile.TemporaryDirectory(prefix="medsynth-fit-") if out is None else None
        run_path = Path(tmp.name) / "run" if tmp is not None else Path(out)  # type: ignore[arg-type]
        try:
            session = TrainSession(cfg.train, run_path, config=cfg, resume=resume, force=force,
                                   command=None if out is not None else f"{self.name}.fit")
            if session.is_main:  # what `medsynth runs` lists and what `load` checks before reading
                session.run._update_marker(kind=self.name, model=self.name)
            if not resume:  # derived from the real data: private/, never released
                session.run.write_private_json(Path(DATA_RECORD).name, record)
            self._run(session, train_data)
            if out is not None and session.is_main:
                self.save(run_path / MODEL_DIR)
            session.close()
        finally:
            if tmp is not None:
                tmp.cleanup()
        return self

    def _run(self, session: TrainSession, train_data: TrainingData) -> None:
        self.device = session.device
        self.build()
        # Data order is a function of (seed, epoch, rank) and the loop seeds each step's draws, so a
        # resumed run continues exactly as an uninterrupted one would.
        with session.run.marks_failure():  # run.json says "failed" if training raises
            train_stages(session, self.stages(train_data))

    def stages(self, train_data: TrainingData) -> list[Stage]:
        """The training stages (hooks for :func:`~medsynth.core.training.train_stages`): one for vae3d/gan3d."""
        return [self.model_stage(train_data, name=self.name, max_steps=self.config.train.max_steps)]

    def model_stage(self, train_data: TrainingData, *, name: str, max_steps: int) -> Stage:
        """This model's own training as one :class:`Stage` (what a composing model, e.g. ldm3d, runs first)."""
        tc = self.config.train
        box: dict[str, Any] = {}

        def setup(session: TrainSession) -> dict[str, Any]:
            box["session"] = session
            self.device = session.device
            return self._setup_training(session)

        def start(first: int) -> None:
            session = box["session"]
            box["data"] = batches(train_data, tc.batch_size, session.dist, seed=tc.seed, skip=first * self.batches_per_step)
            self.steps_trained = first

        def step(k: int) -> dict[str, float]:
            metrics = self._train_step(box["session"], box["data"], k)
            self.steps_trained = k
            return metrics

        def finish() -> None:
            for net in self.nets.values():
                net.eval()

        return Stage(name=name, max_steps=max_steps, setup=setup, step=step, start=start,
                     preview=lambda path, k: self._preview(path), finish=finish)

    def _check_resume_config(self, out: Path) -> None:
        check_resume_config(out, self.config)

    # -- sampling --------------------------------------------------------------------------------
    def _require_fitted(self) -> None:
        if not self.nets:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() or load() first")

    def label_index(self, label: str | int | None) -> int | None:
        """The class index of ``label`` (a name, or an index), validated."""
        if label is None:
            return None
        if not self.label_names:
            raise ConfigError(f"label {label!r} given but the model was trained without classes")
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if not 0 <= int(label) < len(self.label_names):
                raise ConfigError(f"label index {label} is out of range; classes are {self.label_names}")
            return int(label)
        if str(label) not in self.label_names:
            import difflib

            close = difflib.get_close_matches(str(label), self.label_names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"unknown label '{label}'{hint} (classes: {', '.join(self.label_names)})")
        return self.label_names.index(str(label))

    def _noise(self, seed: int) -> torch.Tensor:
        """The latent of sample ``seed`` (drawn on CPU, so it is the same on any device)."""
        gen = torch.Generator().manual_seed(int(seed))
        return torch.randn(self.latent_shape(), generator=gen) * self.config.sample.temperature

    def _label_for(self, seed: int, label: int | None) -> int | None:
        if not self.label_names:
            return None
        if label is not None:
            return label
        counts = np.array([self.label_counts.get(n, 0) for n in self.label_names], dtype=float)
        p = counts / counts.sum() if counts.sum() > 0 else np.full(len(counts), 1.0 / len(counts))
        return int(np.random.default_rng([int(seed), 1]).choice(len(counts), p=p))

    @torch.no_grad()
    def generate(self, z: torch.Tensor, labels: Sequence[int | None]) -> torch.Tensor:
        """Decode a batch of latents (B, *latent_shape) to images in [-1, 1], (B, 1, *spatial)."""
        self._require_fitted()
        y = None
        if self.n_classes:
            y = torch.as_tensor([int(lab or 0) for lab in labels], dtype=torch.long, device=self.device)
        with autocast(self.device, self.config.train.precision):
            x = self._decode(z.to(self.device), y)
        return x.float().clamp(-1.0, 1.0).cpu()

    def sample_seeds(self, n: int, seed: int | None = None) -> list[int]:
        """The per-sample seeds of ``sample(n, seed=seed)``: ``seed, seed+1, ...`` (random when None)."""
        if n < 1:
            raise ConfigError(f"n={n}: ask for at least one sample")
        base = int(np.random.SeedSequence().entropy % 2**31) if seed is None else int(seed)
        return [base + i for i in range(n)]

    def iter_samples(self, n: int, *, seed: int | None = None, label: str | int | None = None,
                     batch_size: int | None = None) -> Iterator[Volume]:
        """Yield ``n`` synthetic Volumes (batch by batch): sample ``i`` uses seed ``seed + i``."""
        self._require_fitted()
        lab = self.label_index(label)
        seeds = self.sample_seeds(n, seed)
        bs = batch_size or self.config.sample.batch_size
        for s in range(0, n, bs):
            chunk = seeds[s : s + bs]
            labels = [self._label_for(sd, lab) for sd in chunk]
            x = self.generate(torch.stack([self._noise(sd) for sd in chunk]), labels)
            for xi, sd, li in zip(x, chunk, labels):
                yield self.to_volume(xi, seed=sd, label=li)

    def sample(self, n: int, *, seed: int | None = None, label: str | int | None = None,
               batch_size: int | None = None) -> list[Volume]:
        """``n`` synthetic Volumes on the training grid (HU for CT). Same seed, same samples.

        Args:
            n: how many.
            seed: sample ``i`` uses seed ``seed + i`` (its noise and, when no label is given, its
                class, drawn with the training class frequencies). Random when None.
            label: class name (or index) of every sample, for a class-conditional model.
            batch_size: volumes per forward pass (``sample.batch_size`` by default).
        """
        return list(self.iter_samples(n, seed=seed, label=label, batch_size=batch_size))

    def interpolate(self, seed_a: int, seed_b: int, steps: int = 8, *, label: str | int | None = None,
                    label_b: str | int | None = None) -> list[Volume]:
        """Samples along the spherical path between the latents of seeds ``seed_a`` and ``seed_b``.

        Args:
            seed_a: seed of the first end (as in :meth:`sample`).
            seed_b: seed of the second end.
            steps: number of volumes, ends included (>= 2).
            label: class of every volume (default: the class drawn for ``seed_a``).
            label_b: a different class for the second end: the class embedding is then switched at
                the middle, a class-to-class morph.
        """
        self._require_fitted()
        if steps < 2:
            raise ConfigError(f"steps={steps}: an interpolation needs at least 2 volumes (its two ends)")
        la = self._label_for(seed_a, self.label_index(label))
        lb = self.label_index(label_b) if label_b is not None else la
        za, zb = self._noise(seed_a), self._noise(seed_b)
        ts = [i / (steps - 1) for i in range(steps)]
        z = torch.stack([slerp(za, zb, t) for t in ts])
        labels = [la if t < 0.5 else lb for t in ts]
        x = self.generate(z, labels)
        return [self.to_volume(xi, seed=None, label=li, extra={"t": round(t, 4), "seeds": [seed_a, seed_b]})
                for xi, li, t in zip(x, labels, ts)]

    @property
    def preprocessor(self) -> VolumePreprocessor:
        """The volume preprocessor of this model's config (built once)."""
        if self._pre is None:
            self._pre = VolumePreprocessor(self.config.preprocessing)
        return self._pre

    def to_volume(self, x: torch.Tensor, *, seed: int | None, label: int | None, extra: dict[str, Any] | None = None) -> Volume:
        """A generated image (1, *spatial) in [-1, 1] -> a Volume on the training grid, in HU for CT."""
        arr = x[0] if x.ndim == self.config.spatial_dims + 1 else x
        if self.config.spatial_dims == 2:
            arr = arr[..., None]
        low, high = self.window
        vol = self.preprocessor.sample_to_volume(arr, self.config.modality, low=low, high=high)
        vol.meta.update({
            "synthetic": True, "model": self.name, "seed": seed,
            "label": self.label_names[label] if label is not None and self.label_names else None,
            **(extra or {}),
        })
        return vol

    def _preview(self, path: Path) -> None:
        """Save mid-slices of a few fixed-seed samples as a PNG (to watch training)."""
        from medsynth.imaging.outputs import save_preview

        was = {k: n.training for k, n in self.nets.items()}
        for n in self.nets.values():
            n.eval()
        try:
            k = max(1, len(self.label_names)) if self.n_classes else 1
            n = max(4, k)
            labels = [i % k if self.n_classes else None for i in range(n)]
            x = self.generate(torch.stack([self._noise(10_000 + i) for i in range(n)]), labels)
            titles = [self.label_names[lab] if lab is not None else f"seed {10_000 + i}" for i, lab in enumerate(labels)]
            save_preview(x, path, titles=titles)
        finally:
            for key, net in self.nets.items():
                net.train(was[key])

    # -- persistence -----------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        """What ``meta.json`` records about the model (versions, config hash, classes, grid, window)."""
        cfg = self.config
        return {
            "format_version": FORMAT_VERSION,
            "model": self.name,
            "versions": environment_info(),
            "config_hash": config_hash(cfg),
            "modality": cfg.modality,
            "spatial_dims": cfg.spatial_dims,
            "label_names": self.label_names,
            "label_counts": self.label_counts,
            "intensity_window": list(self.window),
            "units": "HU" if cfg.modality == "CT" else "a.u.",
            "training_grid": {
                "spatial_size": list(cfg.preprocessing.spatial_size or ()),
                "spacing": list(cfg.preprocessing.spacing or ()),
                "orientation": "RAS",
            },
            "latent_shape": list(self.latent_shape()),
            "data_fingerprint": self.fingerprint,
            "n_training_volumes": self.n_volumes,
            "steps_trained": self.steps_trained,
            "synthetic": True,
            **self._extra_meta(),
        }

    def _extra_meta(self) -> dict[str, Any]:
        """Model-specific entries of meta.json (read back by :meth:`_restore_meta`)."""
        return {}

    def _restore_meta(self, meta: dict[str, Any]) -> None:
        """Restore model-specific state from meta.json before :meth:`build` (see :meth:`_extra_meta`)."""

    def saved_network_names(self) -> tuple[str, ...]:
        """Networks saved in weights.pt and needed to sample (``saved_networks`` by default)."""
        return self.saved_networks

    def save(self, path: str | Path) -> Path:
        """Write the model folder ``path`` (``config.yaml``, ``weights.pt`` state_dicts, ``meta.json``) atomically.

        The folder appears complete or not at all; an earlier model saved there is replaced.

        Raises:
            OutputPathError: ``path`` is a file, or a folder holding other files than a saved model (a run
                directory: save into its ``model/``).
        """
        from medsynth.core.errors import OutputPathError

        self._require_fitted()
        p = Path(path)
        if p.is_dir():
            other = sorted(f.name for f in p.iterdir() if f.name not in _MODEL_FILES)
            if other:
                raise OutputPathError(
                    f"cannot save the model into '{p}': it holds other files ({', '.join(other[:4])}); give a new folder "
                    f"(a run keeps its model in RUN/{MODEL_DIR}/)"
                )
        weights = {k: {n: t.detach().cpu() for n, t in self.nets[k].state_dict().items()} for k in self.saved_network_names()}
        with atomic_dir(p, overwrite=True) as tmp:
            torch.save(weights, tmp / WEIGHTS)
            write_text(tmp / CONFIG, config_to_yaml(self.config))
            write_json(tmp / META, self.meta())
        return p

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> ImageSynthesizer:
        """Load a model saved by :meth:`save` (a run directory works: its ``model/``, or older runs' root), on ``device``.

        Raises:
            RunDirectoryError: the folder lacks the model files or they are unreadable.
            ConfigError: the folder holds another kind of model.
        """
        p = model_folder(path)
        missing = [f for f in (CONFIG, META, WEIGHTS) if not (p / f).is_file()]
        if missing:
            raise RunDirectoryError(
                f"'{p}' is not a saved imaging model (missing {', '.join(missing)}); give the --out folder of a "
                "finished `medsynth image train` run"
            )
        meta = json.loads((p / META).read_text(encoding="utf-8"))
        if meta.get("model") != cls.name:
            raise ConfigError(f"'{p}' holds a '{meta.get('model')}' model, not '{cls.name}'")
        if int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise RunDirectoryError(f"'{p}' was saved by a newer medsynth (format {meta['format_version']}); upgrade")
        cfg = validate_config(cls.config_class, read_yaml(p / CONFIG), source=str(p / CONFIG))
        self = cls(cfg)
        self.label_names = list(meta.get("label_names") or [])
        self.label_counts = dict(meta.get("label_counts") or {})
        self.window = tuple(float(v) for v in meta["intensity_window"])  # type: ignore[assignment]
        self.fingerprint = meta.get("data_fingerprint")
        self.n_volumes = int(meta.get("n_training_volumes", 0))
        self.steps_trained = int(meta.get("steps_trained", 0))
        self.device = resolve_device(device)
        self._restore_meta(meta)
        self.build()
        try:
            state = torch.load(p / WEIGHTS, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for a corrupt file
            raise RunDirectoryError(f"'{p / WEIGHTS}' cannot be read ({type(exc).__name__}: {exc})") from None
        absent = [k for k in self.saved_network_names() if k not in state]
        if absent:
            raise RunDirectoryError(f"'{p / WEIGHTS}' lacks {absent}; it was written by a different model")
        for k in self.saved_network_names():
            self.nets[k].load_state_dict(state[k])
        for net in self.nets.values():
            net.to(self.device).eval()
        return self


def load_image_synthesizer(path: str | Path, *, device: str = "cpu") -> ImageSynthesizer:
    """Load whichever imaging synthesizer (vae3d, gan3d, ldm3d) is saved in ``path``."""
    from medsynth.core.registry import SYNTHESIZERS, resolve

    p = model_folder(path)
    meta_file = p / META
    if not meta_file.is_file():
        raise RunDirectoryError(
            f"'{p}' holds no {META}; give the --out folder of a finished `medsynth image train` run"
        )
    name = json.loads(meta_file.read_text(encoding="utf-8")).get("model", "")
    cls = resolve(SYNTHESIZERS, name, what="synthesizer")
    return cls.load(p, device=device)


__all__ = ["MODEL_DIR", "ImageSynthesizer", "load_image_synthesizer", "model_folder", "slerp"]
