"""The Python face of the MR -> CT translation job: train, load, apply.

Example::

    import medsynth.translate as mt
    from medsynth.io.loading import load_volume

    tr = mt.train("configs/mr2ct_cyclegan_2d.yaml", "data/mr", "data/ct", "runs/mr2ct",
                  overrides={"train.max_steps": 2000}, seed=0)
    tr = mt.load("runs/mr2ct")                                  # later, or on another machine
    sct = tr.apply(load_volume("patient_mr.nii.gz"))            # CT in HU, on the MR's grid
    sct, spread = tr.apply(mr, uncertainty=True)                # + voxel-wise spread (SD, HU)
    tr.apply_files(["mr_folder/"], "sct/", format="dicom")      # a folder of MRs to sCT files
    mt.apply_run("runs/mr2ct", ["mr_folder/"], "sct/")          # load + apply_files: `medsynth translate apply`

``medsynth translate train/apply`` call these functions: one code path, the same named errors.

A training run directory holds ``run.json`` (with ``kind: mr2ct_cyclegan`` and ``model: cyclegan``),
``config.yaml``, ``metrics.jsonl``, ``checkpoints/`` and the trained model in ``model/`` (config,
weights, meta.json), written atomically once training ends.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from medsynth.core.errors import ConfigError, DataValidationError, RunDirectoryError
from medsynth.translation.config import NonFinite

if TYPE_CHECKING:  # pragma: no cover
    from medsynth.io.loading import OutputFormat
    from medsynth.io.volume import Volume
    from medsynth.translation.config import CycleGANConfig
    from medsynth.translation.cyclegan import CycleGANTranslator

#: The run kind and model name recorded in run.json (``medsynth runs`` lists them).
KIND = "mr2ct_cyclegan"
MODEL = "cyclegan"
NONFINITE: tuple[str, ...] = get_args(NonFinite)

Overrides = Mapping[str, Any] | Sequence[str] | None


def _override_strings(overrides: Overrides, *, what: str = "overrides") -> list[str]:
    """``{"train.max_steps": 10, "generator": {"base_channels": 8}}`` or ``["train.max_steps=10"]`` as ``key=value`` strings."""
    import yaml

    if overrides is None:
        return []
    if isinstance(overrides, str):
        raise ConfigError(f"{what} '{overrides}' must be a dict such as {{'train.max_steps': 100}} or a list of 'key=value' strings")
    if isinstance(overrides, Mapping):
        out: list[str] = []

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, Mapping) and value:
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            else:  # as YAML, which apply_overrides parses back (1e-5 as 1.0e-05: PyYAML reads "1e-05" as a string)
                raw = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
                out.append(f"{prefix}={raw[:-3].strip() if raw.endswith('...') else raw}")

        for key, value in overrides.items():
            if not isinstance(key, str) or not key:
                raise ConfigError(f"{what}: key {key!r} must be a dotted setting name such as 'train.max_steps'")
            walk(key, value)
        return out
    bad = [o for o in overrides if not isinstance(o, str) or "=" not in o]
    if bad:
        raise ConfigError(f"{what} {bad}: each must be a 'key=value' string, e.g. 'train.max_steps=100'")
    return list(overrides)


def resolve_config(
    config: str | Path | Mapping[str, Any] | CycleGANConfig | None,
    overrides: Overrides = None,
    *,
    max_steps: int | None = None,
    device: str | None = None,
    seed: int | None = None,
) -> CycleGANConfig:
    """The validated training config: ``config`` (YAML path, mapping, config object or None for the
    defaults), then ``overrides``, then the ``max_steps``/``device``/``seed`` shortcuts.

    Raises:
        ConfigError: unknown keys (with a did-you-mean), invalid values, a config of another kind, a
            missing YAML file.
    """
    from pydantic import BaseModel

    from medsynth.core.config import apply_overrides, read_yaml, validate_config
    from medsynth.translation.config import CycleGANConfig

    sets = _override_strings(overrides)
    if max_steps is not None:
        sets.append(f"train.max_steps={int(max_steps)}")
    if device is not None:
        sets.append(f"train.device={device}")
    if seed is not None:
        sets.append(f"train.seed={int(seed)}")
    if config is None:
        data: dict[str, Any] = {}
        source = "defaults"
    elif isinstance(config, BaseModel):
        if not isinstance(config, CycleGANConfig):
            raise ConfigError(f"config is a {type(config).__name__}; MR -> CT translation needs a CycleGANConfig (kind: {KIND})")
        data, source = config.model_dump(mode="json"), "CycleGANConfig"
    elif isinstance(config, Mapping):
        data, source = dict(config), "config mapping"
    elif isinstance(config, (str, Path)):
        data, source = read_yaml(config), str(config)
    else:
        raise ConfigError(f"config must be a YAML path, a dict or a CycleGANConfig, not {type(config).__name__}")
    kind = data.get("kind", KIND)
    if kind != KIND:
        raise ConfigError(f"{source} has kind '{kind}', not '{KIND}'; medsynth.translate trains MR -> CT CycleGANs only")
    return validate_config(CycleGANConfig, apply_overrides(data, sets), source=source)


def fit_run(
    model: CycleGANTranslator,
    source: Any,
    target: Any,
    out: str | Path | None,
    *,
    resume: bool = False,
    force: bool = False,
    command: str | None = None,
) -> Path | None:
    """Train ``model`` in the run directory ``out`` (a temporary one, deleted afterwards, when None).

    The data are read before the run directory is created (bad inputs leave nothing behind); run.json
    records the config's kind and model (``mr2ct_cyclegan``, ``cyclegan``, written with the config); the
    trained model is saved to ``out/model`` atomically.
    :meth:`CycleGANTranslator.fit` is this function.

    Returns:
        The run directory, or None for a temporary run.
    """
    from medsynth.core.training import TrainSession

    tmp = None
    if out is None:
        if resume:
            raise RunDirectoryError("resume=True needs the run directory to resume: pass out=")
        tmp = Path(tempfile.mkdtemp(prefix="medsynth-cyclegan-"))
        out = tmp / "run"
    src, tgt = model.training_data(source, target)  # every input error is raised here, before anything is written
    session = TrainSession(model.config.train, out, config=model.config, resume=resume, force=force,
                           command=command or "medsynth translate train")
    with session.run.marks_failure():  # run.json says "failed" if training raises
        model.train_session(session, src, tgt)
    session.close()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
        model.run_dir = None
        return None
    model.run_dir = Path(out)
    if session.is_main:
        model.save(model.run_dir / "model")  # what load(RUN) and 'medsynth translate apply RUN' read
    return model.run_dir


class Translator:
    """A trained MR -> CT translator (from :func:`train` or :func:`load`).

    Attributes:
        model: the underlying :class:`~medsynth.translation.cyclegan.CycleGANTranslator`.
        run_dir: the training run directory (None for a model folder loaded on its own or a temporary run).
    """

    def __init__(self, model: CycleGANTranslator, run_dir: str | Path | None = None) -> None:
        self.model = model
        self.run_dir = Path(run_dir) if run_dir is not None else None

    @property
    def config(self) -> CycleGANConfig:
        """The resolved config (training settings as trained; ``inference.*`` as currently set)."""
        return self.model.config

    @property
    def meta(self) -> dict[str, Any]:
        """What the model recorded about its training (steps, device, data counts and fingerprints)."""
        return self.model.meta

    def __repr__(self) -> str:
        cfg = self.model.config
        steps = self.model.meta.get("steps", cfg.train.max_steps)
        where = f", run_dir='{self.run_dir}'" if self.run_dir is not None else ""
        return (f"Translator({KIND}, model={MODEL}, spatial_dims={cfg.spatial_dims}, steps={steps}, "
                f"device={self.model.device}{where})")

    def configure(self, inference: Overrides) -> Translator:
        """Change how the model is applied: ``inference.*`` settings only, e.g. ``{"overlap": 0.25}``,
        ``{"inference.roi_size": [128, 128]}`` or ``["inference.overlap=0.25"]``. Returns ``self``.

        Raises:
            ConfigError: a setting outside ``inference`` (it would not match the trained weights) or an invalid value.
        """
        sets = _override_strings(inference, what="inference")
        sets = [s if s.strip().startswith("inference.") or "." in s.split("=", 1)[0] else f"inference.{s}" for s in sets]
        if sets:
            self.model.configure_inference(sets)
        return self

    def apply(
        self,
        volume: Volume | str | Path,
        *,
        uncertainty: bool = False,
        nonfinite: NonFinite = "error",
        progress: bool = False,
    ) -> Volume | tuple[Volume, Volume]:
        """Translate one MR volume to a synthetic CT in HU, on the MR's own grid (shape and affine kept).

        Air outside the body (found on the MR) is -1024 HU.

        Args:
            volume: the MR as a :class:`~medsynth.io.volume.Volume` (or the path of a NIfTI file / DICOM series).
            uncertainty: also return the voxel-wise spread (SD, HU) of the predictions averaged into each
                voxel (test-time mirrorings, 2.5D stack positions, overlapping 3D windows): high where
                the sCT is unreliable, 0 outside the body.
            nonfinite: NaN/inf voxels in the MR: ``"error"`` raises :class:`NonFiniteError` naming their
                count; ``"mask"`` leaves them out of the body and writes them as NaN in the sCT (and spread).
            progress: show a progress bar.

        Returns:
            The sCT Volume (modality CT, units HU), or ``(sct, spread)`` with ``uncertainty``.

        Raises:
            DataValidationError: not a Volume or a readable path.
            SourceModalityError: the volume looks like CT in HU.
            InputDimensionError: a 2D image given to a 3D model, or a multi-channel volume.
            NonFiniteError: NaN/inf voxels with ``nonfinite="error"``.
            ConfigError: ``uncertainty`` for a model that averages one prediction per voxel; a bad ``nonfinite``.
        """
        from medsynth.io.volume import Volume

        if nonfinite not in NONFINITE:
            raise ConfigError(f"nonfinite '{nonfinite}' must be 'error' or 'mask'")
        if isinstance(volume, (str, Path)):
            from medsynth.io.loading import load_volume

            path = volume
            volume = load_volume(path)
            volume.meta.setdefault("source", str(path))
        elif not isinstance(volume, Volume):
            raise DataValidationError(
                f"apply() takes a medsynth Volume or a file path, not {type(volume).__name__}; wrap an array with "
                "Volume(array, affine, modality='MR') or read a file with medsynth.io.loading.load_volume(path)"
            )
        return self.model.translate(volume, progress=progress, return_spread=uncertainty, nonfinite=nonfinite)

    def apply_files(
        self,
        inputs: str | Path | Sequence[str | Path],
        out: str | Path,
        *,
        format: OutputFormat = "nifti",
        overwrite: bool = False,
        uncertainty: bool = False,
        nonfinite: NonFinite = "error",
        echo: Callable[[str], None] | None = None,
        keep_frame_of_reference: bool = False,
    ) -> list[Path]:
        """Translate every MR found in ``inputs`` (NIfTI files, DICOM series, folders of them) into ``out``.

        Writes ``OUT/<name>_sct.nii.gz`` (or a ``<name>_sct/`` synthetic-safe DICOM series) and, with
        ``uncertainty``, ``<name>_sct_spread``; ``medsynth evaluate translation`` pairs ``<name>_sct``
        with the reference CT ``<name>``. Everything is checked before the first volume is translated.

        Returns:
            The written paths, in input order (each sCT followed by its spread map).

        Raises:
            ConfigError: unknown ``format``/``nonfinite``; ``nonfinite="mask"`` with DICOM output.
            OutputPathError: ``out`` cannot be created as a folder.
            DataValidationError: an input holds no volume; outputs exist (without ``overwrite``); two
                inputs would write the same name; NaN/inf voxels with ``nonfinite="error"``.
        """
        from medsynth.core.files import check_output
        from medsynth.io.loading import OutputFormat
        from medsynth.translation.apply import translate_files

        fmt = str(format).lower()
        if fmt not in get_args(OutputFormat):
            raise ConfigError(f"format '{format}' must be nifti or dicom")
        if nonfinite not in NONFINITE:
            raise ConfigError(f"nonfinite '{nonfinite}' must be error or mask")
        check_output(out, kind="dir", what="--out")
        items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
        if not items:
            raise DataValidationError("no inputs given; pass MR NIfTI files, DICOM series folders or folders of them")
        return translate_files(self.model, items, out, format=fmt, overwrite=overwrite, uncertainty=uncertainty,  # type: ignore[arg-type]
                               nonfinite=nonfinite, echo=echo, keep_frame_of_reference=keep_frame_of_reference)

    def save(self, path: str | Path) -> Path:
        """Write the model (config.yaml, weights.pt, meta.json) to a new folder (atomically)."""
        return self.model.save(path)


def train(
    config: str | Path | Mapping[str, Any] | CycleGANConfig | None,
    mr: Any,
    ct: Any,
    out: str | Path | None,
    *,
    overrides: Overrides = None,
    resume: bool = False,
    force: bool = False,
    device: str | None = None,
    seed: int | None = None,
    max_steps: int | None = None,
) -> Translator:
    """Train an MR -> CT CycleGAN and save it in ``out/model``.

    Args:
        config: a translation YAML (``kind: mr2ct_cyclegan``, e.g. ``configs/mr2ct_cyclegan_2d.yaml``),
            a mapping, a :class:`~medsynth.translation.config.CycleGANConfig`, or None for the defaults.
        mr: MR volumes: a folder (NIfTI files / DICOM series), a CSV of paths, or a list of paths or Volumes.
        ct: CT volumes in HU, likewise (unpaired unless ``data.paired``).
        out: the run directory (a temporary one, deleted afterwards, when None).
        overrides: settings on top of ``config``: ``{"train.max_steps": 500}`` (nested mappings work too)
            or ``["train.max_steps=500"]`` (the CLI's ``--set``).
        resume: continue the run in ``out`` from its last checkpoint (raise ``train.max_steps`` to train longer).
        force: overwrite an earlier run in ``out``.
        device: ``train.device`` ("auto", "cpu", "cuda", "cuda:1").
        seed: ``train.seed`` (initialisation, patch sampling, augmentation).
        max_steps: ``train.max_steps`` (the CLI's ``--max-steps``).

    Returns:
        The trained :class:`Translator` (``run_dir`` set to ``out``).

    Raises:
        ConfigError: a bad config or override.
        OutputPathError: ``out`` cannot be created as a folder.
        RunDirectoryError: ``out`` exists (without ``resume``/``force``), or there is nothing to resume.
        SourceModalityError, DataValidationError: CT given as MR (or the reverse), empty folders,
            unreadable files, mismatched pairs.
    """
    from medsynth.core.files import check_output
    from medsynth.translation.cyclegan import CycleGANTranslator

    cfg = resolve_config(config, overrides, max_steps=max_steps, device=device, seed=seed)
    if out is not None:
        check_output(out, kind="dir", what="--out")
    model = CycleGANTranslator(cfg)
    run_dir = fit_run(model, mr, ct, out, resume=resume, force=force)
    return Translator(model, run_dir)


def load(run: str | Path, *, device: str = "cpu", inference: Overrides = None) -> Translator:
    """A trained translator from a run directory (or its ``model/`` folder, or a model saved elsewhere).

    Reads runs of every earlier medsynth version that wrote ``RUN/model`` (config.yaml, weights.pt, meta.json).

    Args:
        run: the training run directory or a saved model folder.
        device: where inference runs ("cpu", "auto", "cuda[:N]"); a GPU-trained model loads on CPU.
        inference: ``inference.*`` settings to change (see :meth:`Translator.configure`).

    Raises:
        RunDirectoryError: not a saved translator, a run of another kind (e.g. an image run), or weights
            that do not fit their config.
    """
    from medsynth.core.runs import check_run_kind
    from medsynth.translation.cyclegan import CycleGANTranslator

    p = Path(run)
    if not p.exists():
        raise RunDirectoryError(f"'{run}' does not exist; give the --out folder of 'medsynth translate train' or a saved model folder")
    check_run_kind(p, (KIND,), command="medsynth translate apply")
    model = CycleGANTranslator.load(p, device=device)
    run_dir = p if (p / "run.json").is_file() else (p.parent if (p.parent / "run.json").is_file() and p.name == "model" else None)
    tr = Translator(model, run_dir)
    if inference:
        tr.configure(inference)
    return tr


def apply_run(
    run: str | Path,
    inputs: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    device: str = "cpu",
    inference: Overrides = None,
    format: OutputFormat = "nifti",
    overwrite: bool = False,
    uncertainty: bool = False,
    nonfinite: NonFinite = "error",
    echo: Callable[[str], None] | None = None,
    keep_frame_of_reference: bool = False,
) -> list[Path]:
    """``load(run, device=, inference=).apply_files(inputs, out, ...)``, with ``out`` and the options checked
    before the model is loaded (what ``medsynth translate apply`` calls).

    Raises:
        OutputPathError, ConfigError, RunDirectoryError, DataValidationError: see :func:`load` and
            :meth:`Translator.apply_files`.
    """
    from medsynth.core.files import check_output
    from medsynth.io.loading import OutputFormat

    check_output(out, kind="dir", what="--out")
    if str(format).lower() not in get_args(OutputFormat):
        raise ConfigError(f"format '{format}' must be nifti or dicom")
    if nonfinite not in NONFINITE:
        raise ConfigError(f"nonfinite '{nonfinite}' must be error or mask")
    return load(run, device=device, inference=inference).apply_files(
        inputs, out, format=format, overwrite=overwrite, uncertainty=uncertainty, nonfinite=nonfinite, echo=echo,
        keep_frame_of_reference=keep_frame_of_reference,
    )


__all__ = ["KIND", "MODEL", "Translator", "apply_run", "fit_run", "load", "resolve_config", "train"]
