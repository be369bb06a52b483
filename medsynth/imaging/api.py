"""The Python face of the imaging job: train a vae3d / gan3d / ldm3d, load any image run, sample volumes or pairs.

Example::

    import medsynth.image as mi

    model = mi.train("configs/ct_vae3d_64.yaml", "ct/", "runs/vae", overrides={"train.max_steps": 200}, seed=0)
    volumes = model.sample(4, seed=0)                     # list[medsynth.io.Volume], CT in HU
    model = mi.load("runs/vae")                           # any image run: vae3d, gan3d or ldm3d
    model.write_samples("synth/", 100, seed=0)            # NIfTI (or format="dicom") + manifest.csv

    pairs = mi.load("runs/ldm").sample_pairs(new_masks=8, seed=0)   # ldm3d trained with labels_dir
    pairs[0].image, pairs[0].label                                  # a Volume and its label map

``medsynth image train/sample/interpolate`` only parse their flags and call these functions; errors are
the same named :class:`~medsynth.core.errors.MedsynthError` subclasses. A run keeps its model in
``RUN/model/`` (written atomically); runs written before that kept it at the run root and still load.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from medsynth.core.config import apply_overrides
from medsynth.core.errors import ConfigError, DataValidationError, RunDirectoryError

if TYPE_CHECKING:  # pragma: no cover
    from medsynth.imaging.base import ImageSynthesizer
    from medsynth.imaging.config import ImageSynthConfig
    from medsynth.imaging.pairs import LabelledVolume
    from medsynth.io.volume import Volume

#: Run kinds this API trains and loads.
IMAGE_KINDS: tuple[str, ...] = ("vae3d", "gan3d", "ldm3d")
#: Formats synthetic volumes are written in.
FORMATS: tuple[str, ...] = ("nifti", "dicom")


# -- configs ---------------------------------------------------------------------------------------
def resolve_config(
    config: str | Path | Mapping[str, Any] | ImageSynthConfig,
    *,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    device: str | None = None,
    seed: int | None = None,
    max_steps: int | None = None,
) -> ImageSynthConfig:
    """The validated config of an image run from a YAML path, a mapping or a config object, with overrides.

    ``device``, ``seed`` and ``max_steps`` set ``train.device``, ``train.seed`` and ``train.max_steps`` (after
    ``overrides``).

    Raises:
        ConfigError: a missing or malformed file, a kind other than vae3d/gan3d/ldm3d, or invalid values
            (every problem listed).
    """
    from pydantic import BaseModel

    from medsynth.core.config import read_yaml, validate_config
    from medsynth.core.registry import config_schema

    source: str | None = None
    if isinstance(config, BaseModel):
        data = config.model_dump(mode="json")
    elif isinstance(config, Mapping):
        data = apply_overrides(config, None)
    elif isinstance(config, (str, Path)):
        source = str(config)
        data = read_yaml(config)
    else:
        raise ConfigError(f"config must be a YAML path, a dict or an image config object, got {type(config).__name__}")
    kind = data.get("kind")
    if kind not in IMAGE_KINDS:
        where = f"'{source}'" if source else "the config"
        raise ConfigError(f"{where} has kind {kind!r}; `medsynth image train` needs kind: vae3d, gan3d or ldm3d "
                          "(see configs/ct_vae3d_64.yaml and the others there)")
    data = apply_overrides(data, overrides)
    extra = {"train.device": device, "train.seed": seed, "train.max_steps": max_steps}
    for key, value in extra.items():
        if value is not None:
            data = apply_overrides(data, {key: value})
    return validate_config(config_schema(kind), data, source=source)


def check_format(format: str) -> Literal["nifti", "dicom"]:
    """``format`` lower-cased, checked to be ``nifti`` or ``dicom``.

    Raises:
        ConfigError: any other format.
    """
    fmt = str(format).lower()
    if fmt not in FORMATS:
        raise ConfigError(f"format '{format}' must be nifti or dicom")
    return fmt  # type: ignore[return-value]


# -- the model -------------------------------------------------------------------------------------
class ImageModel:
    """A trained image synthesizer (vae3d, gan3d or ldm3d) and the run it came from.

    Made by :func:`train` and :func:`load`. The underlying synthesizer is :attr:`synthesizer` (for
    what this class does not wrap, e.g. ``VAE3D.encode``).

    Args:
        synthesizer: a fitted :class:`~medsynth.imaging.base.ImageSynthesizer`.
        run_dir: the run directory it was trained in or loaded from (None for one trained without a run).
    """

    def __init__(self, synthesizer: ImageSynthesizer, run_dir: str | Path | None = None) -> None:
        self.synthesizer = synthesizer
        self.run_dir = Path(run_dir) if run_dir is not None else None

    @property
    def kind(self) -> str:
        """The model kind: ``vae3d``, ``gan3d`` or ``ldm3d``."""
        return self.synthesizer.name

    @property
    def config(self) -> ImageSynthConfig:
        """The resolved config the model was trained with."""
        return self.synthesizer.config

    @property
    def modality(self) -> str:
        """``CT`` (samples in HU) or ``MR`` (arbitrary units)."""
        return self.synthesizer.config.modality

    @property
    def label_names(self) -> list[str]:
        """The classes of a class-conditional model (empty otherwise)."""
        return list(self.synthesizer.label_names)

    @property
    def mask_conditioned(self) -> bool:
        """Whether the model makes image + label-map pairs (ldm3d trained with ``labels_dir``)."""
        return bool(getattr(self.synthesizer, "mask_classes", 0))

    @property
    def steps_trained(self) -> int:
        """Optimisation steps trained (all stages of an ldm3d together, as ``--max-steps`` counts them)."""
        stages = getattr(self.synthesizer, "stage_steps", None)
        return int(sum(stages.values())) if stages else self.synthesizer.steps_trained

    def __repr__(self) -> str:
        s = self.synthesizer
        grid = "x".join(str(v) for v in s.config.preprocessing.spatial_size or ())
        spacing = "x".join(f"{v:g}" for v in s.config.preprocessing.spacing or ())
        bits = [f"kind={self.kind!r}", f"{self.modality} {grid} at {spacing} mm"]
        if self.label_names:
            bits.append(f"classes={self.label_names}")
        if self.mask_conditioned:
            bits.append(f"label maps with {s.mask_classes} labels")  # type: ignore[attr-defined]
        bits.append(f"{self.steps_trained} steps on {s.n_volumes} volumes")
        bits.append(f"run={str(self.run_dir)!r}" if self.run_dir is not None else "run=None")
        return f"ImageModel({', '.join(bits)})"

    # -- volumes ---------------------------------------------------------------------------------
    def iter_samples(self, n: int, label: str | int | None = None, seed: int | None = None, *,
                     batch_size: int | None = None) -> Iterator[Volume]:
        """Yield ``n`` synthetic volumes batch by batch (see :meth:`sample`)."""
        return self.synthesizer.iter_samples(n, seed=seed, label=label, batch_size=batch_size)

    def sample(self, n: int, label: str | int | None = None, seed: int | None = None, *,
               batch_size: int | None = None) -> list[Volume]:
        """``n`` synthetic volumes on the training grid: CT in HU, MR in the training window; same seed, same volumes.

        Args:
            n: how many (>= 1).
            label: class name (or index) of every volume, for a class-conditional model; default: drawn
                with the training class frequencies.
            seed: volume ``i`` uses seed ``seed + i``; random when None.
            batch_size: volumes per forward pass (the config's ``sample.batch_size`` by default).

        Raises:
            ConfigError: ``n`` < 1, or an unknown label (with a did-you-mean).
        """
        return self.synthesizer.sample(n, seed=seed, label=label, batch_size=batch_size)

    def interpolate(self, seed_a: int, seed_b: int, steps: int = 8, *, label: str | int | None = None,
                    label_b: str | int | None = None) -> list[Volume]:
        """Volumes along the latent path between seeds ``seed_a`` and ``seed_b`` (ends included); ``label_b`` morphs class."""
        return self.synthesizer.interpolate(seed_a, seed_b, steps, label=label, label_b=label_b)

    def write_samples(self, out: str | Path, n: int, *, label: str | int | None = None, seed: int | None = 0,
                      format: str = "nifti", batch_size: int | None = None, overwrite: bool = False) -> Path:
        """Write ``n`` volumes into a new folder ``out`` (NIfTI files or DICOM series, and ``manifest.csv``).

        Checks ``out``, ``format`` and ``label`` before sampling; the folder appears complete or not at all.

        Returns:
            The manifest's path.
        """
        from medsynth.core.files import check_output
        from medsynth.imaging.outputs import write_volumes

        fmt = check_format(format)
        check_output(out, kind="dir", what="out")
        self.synthesizer.label_index(label)  # fail before writing anything
        if n < 1:
            raise ConfigError(f"n={n}: ask for at least one volume")
        return write_volumes(self.iter_samples(n, label, seed, batch_size=batch_size), out, format=fmt, overwrite=overwrite)

    # -- image + label-map pairs -----------------------------------------------------------------
    def _require_masks(self) -> Any:
        if not self.mask_conditioned:
            where = f"'{self.run_dir}' holds" if self.run_dir is not None else "this is"
            raise ConfigError(f"{where} a {self.kind} model trained without label maps; image + mask pairs need an ldm3d "
                              "trained with label maps (labels_dir=... / `medsynth image train ... --labels-dir DIR`)")
        return self.synthesizer

    def new_masks(self, n: int, *, masks: str | Path | Sequence[Volume] | None = None, seed: int = 0) -> list[Volume]:
        """``n`` new label maps made from ``masks`` (or the run's training maps) by elastic deformation, flips and
        lesion insertion/removal within the organ (:mod:`medsynth.imaging.masks`).

        Raises:
            ConfigError: the model is not mask-conditioned.
            DataValidationError: no source maps (a run copied without ``private/`` and no ``masks``).
        """
        synth = self._require_masks()
        given = _as_masks(masks) if masks is not None else None
        sources = [synth.mask_on_grid(v)[0].numpy() for v in given] if given is not None else None
        if n < 1:
            raise ConfigError(f"new_masks={n}: ask for at least one label map")
        return synth.new_masks(int(n), seed=seed, sources=sources, run=self.run_dir or ".")

    def _pair_masks(self, masks: str | Path | Sequence[Volume] | None, new_masks: int | None, seed: int | None) -> list[Volume]:
        if masks is None and not new_masks:
            raise ConfigError("give masks (a folder of label maps, or Volumes: one image per map) and/or new_masks=N "
                              "(new label maps)")
        if new_masks:
            return self.new_masks(int(new_masks), masks=masks, seed=0 if seed is None else seed)
        return _as_masks(masks)  # type: ignore[arg-type]

    def iter_pairs(self, masks: str | Path | Sequence[Volume] | None = None, *, new_masks: int | None = None,
                   seed: int | None = None, label: str | int | None = None, batch_size: int | None = None) -> Iterator[LabelledVolume]:
        """Yield image + label-map pairs (see :meth:`sample_pairs`)."""
        synth = self._require_masks()
        synth.label_index(label)
        todo = self._pair_masks(masks, new_masks, seed)
        return synth.iter_pairs(todo, seed=seed, label=label, batch_size=batch_size)

    def sample_pairs(self, masks: str | Path | Sequence[Volume] | None = None, *, new_masks: int | None = None,
                     seed: int | None = None, label: str | int | None = None,
                     batch_size: int | None = None) -> list[LabelledVolume]:
        """One synthetic image per label map, as :class:`~medsynth.imaging.pairs.LabelledVolume` (``.image``, ``.label``).

        Args:
            masks: a folder of label maps, or label-map Volumes (brought to the training grid).
            new_masks: first make this many new label maps (from ``masks``, or the run's training maps).
            seed: pair ``i`` uses seed ``seed + i`` (and new map ``i`` is made from ``seed``).
            label: class of every image, for a class-conditional model.
            batch_size: volumes per sampling pass.

        Raises:
            ConfigError: the model is not a mask-conditioned ldm3d, or neither masks nor new_masks is given.
        """
        return list(self.iter_pairs(masks, new_masks=new_masks, seed=seed, label=label, batch_size=batch_size))

    def write_pairs(self, out: str | Path, masks: str | Path | Sequence[Volume] | None = None, *,
                    new_masks: int | None = None, seed: int = 0, label: str | int | None = None,
                    batch_size: int | None = None, overwrite: bool = False) -> tuple[Path, int]:
        """Write pairs as a MONAI / nnU-Net dataset folder (``image/``, ``label/``, ``dataset.json``, manifest).

        Returns:
            (path of dataset.json, number of pairs).
        """
        from medsynth.core.files import check_output
        from medsynth.imaging.pairs import write_pairs

        check_output(out, kind="dir", what="out")
        synth = self._require_masks()
        synth.label_index(label)  # fail before any work
        todo = self._pair_masks(masks, new_masks, seed)
        pairs = synth.iter_pairs(todo, seed=seed, label=label, batch_size=batch_size)
        return write_pairs(pairs, out, label_names=synth._mask_names(), overwrite=overwrite), len(todo)


def _as_masks(masks: str | Path | Sequence[Volume]) -> list[Volume]:
    from medsynth.imaging.jobs import read_masks
    from medsynth.io.volume import Volume

    if isinstance(masks, (str, Path)):
        return read_masks(masks)
    vols = list(masks)
    bad = [type(v).__name__ for v in vols if not isinstance(v, Volume)]
    if bad or not vols:
        raise DataValidationError(f"masks must be a folder of label maps or a non-empty list of Volumes; got {bad[:3] or 'none'}")
    return vols


# -- train / load ----------------------------------------------------------------------------------
def train(
    config: str | Path | Mapping[str, Any] | ImageSynthConfig,
    data: Any,
    out: str | Path,
    *,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    resume: bool = False,
    force: bool = False,
    device: str | None = None,
    seed: int | None = None,
    max_steps: int | None = None,
    labels: str | Path | None = None,
    labels_dir: str | Path | None = None,
) -> ImageModel:
    """Train a vae3d, gan3d or ldm3d (autoencoder then diffusion) on CT or MR volumes, in the run directory ``out``.

    Args:
        config: a YAML path (``configs/ct_vae3d_64.yaml``), a dict, or an image config object; its ``kind``
            picks the model.
        data: a folder of NIfTI/DICOM (mixed), a CSV with ``path[,label]``, a VolumeDataset or a list of Volumes.
        out: the run directory to create: run.json (``kind``, ``model``), config.yaml, metrics.jsonl,
            checkpoints/ per stage, previews/, private/ and the model in ``model/`` (written atomically).
        overrides: config changes, ``{"train.max_steps": 10}`` or ``["train.max_steps=10"]``.
        resume: continue the run in ``out`` from its last checkpoint.
        force: overwrite an earlier run in ``out``.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (default: the config's ``train.device``).
        seed: ``train.seed`` (initialisation and data order).
        max_steps: ``train.max_steps`` (ldm3d splits it between its stages).
        labels: CSV with columns ``file,label``, one class per volume (class-conditional training).
        labels_dir: a folder of label maps, one per volume with the same file name: an ldm3d learns
            label map -> volume (ControlNet) and makes image + mask pairs.

    Returns:
        The trained :class:`ImageModel`.

    Raises:
        ConfigError: a bad config (kind, values), or label maps for a model that cannot use them.
        OutputPathError / RunDirectoryError: ``out`` cannot be written, or holds another run (without ``force``
            / ``resume``).
        DataValidationError: unreadable, mismatched or non-finite volumes (each file named).

    Under ``torchrun`` every process calls ``train``; gradients are averaged (DDP) and only rank 0 writes.
    """
    from medsynth.core.files import check_output
    from medsynth.core.registry import SYNTHESIZERS, resolve

    check_output(out, kind="dir", what="out")
    cfg = resolve_config(config, overrides=overrides, device=device, seed=seed, max_steps=max_steps)
    synth = resolve(SYNTHESIZERS, cfg.kind, what="synthesizer")(cfg)
    synth.fit(data, out=out, resume=resume, force=force, labels_csv=labels, labels_dir=labels_dir)
    return ImageModel(synth, out)


def load(run: str | Path, *, device: str = "cpu") -> ImageModel:
    """Load the model of an image run (vae3d, gan3d or ldm3d; ``RUN/model/``, or the root of an older run).

    Args:
        run: the ``out`` folder of :func:`train` / ``medsynth image train`` (or a saved model folder).
        device: where to sample: ``cpu``, ``auto``, ``cuda`` or ``cuda:N``.

    Raises:
        RunDirectoryError: ``run`` does not exist, is a run of another kind (named, with the command that
            reads it), did not finish (no model saved), or its model files are missing or unreadable.
    """
    import json

    from medsynth.core.rundir import MARKER, run_state
    from medsynth.core.runs import check_run_kind
    from medsynth.imaging.base import META, MODEL_DIR, load_image_synthesizer, model_folder

    p = Path(run)
    if not p.is_dir():
        raise RunDirectoryError(f"'{p}' is not a folder; give the out folder of a finished image training run")
    check_run_kind(p, IMAGE_KINDS, command="medsynth image sample")
    folder = model_folder(p)
    if not (folder / META).is_file() and (p / MARKER).is_file():
        try:
            state = run_state(json.loads((p / MARKER).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            state = "unknown"
        if state != "completed":
            raise RunDirectoryError(f"'{p}' is a {state} run with no saved model ({MODEL_DIR}/); continue it with "
                                    "resume=True (`medsynth image train ... --resume`) or train it again")
    synth = load_image_synthesizer(folder, device=device)
    run_dir = p.parent if folder == p and p.name == MODEL_DIR and (p.parent / MARKER).is_file() else p
    return ImageModel(synth, run_dir)


def write_volumes(volumes: Any, out: str | Path, *, format: str = "nifti", prefix: str = "sample",
                  overwrite: bool = False) -> Path:
    """Write Volumes into a new folder ``out`` (NIfTI files or synthetic-safe DICOM series) with a ``manifest.csv``.

    Returns:
        The manifest's path.
    """
    from medsynth.core.files import check_output
    from medsynth.imaging.outputs import write_volumes as _write

    fmt = check_format(format)
    check_output(out, kind="dir", what="out")
    return _write(volumes, out, format=fmt, prefix=prefix, overwrite=overwrite)


__all__ = ["FORMATS", "IMAGE_KINDS", "ImageModel", "apply_overrides", "check_format", "load", "resolve_config", "train",
           "write_volumes"]
