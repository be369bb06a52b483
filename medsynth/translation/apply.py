"""Translate a batch of MR files (NIfTI files, DICOM series, folders of them) into CT files."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from medsynth.core.errors import ConfigError, DataValidationError, MedsynthError

if TYPE_CHECKING:
    from medsynth.io.loading import OutputFormat
    from medsynth.translation.config import NonFinite


def translate_files(
    translator,
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    format: OutputFormat = "nifti",
    overwrite: bool = False,
    uncertainty: bool = False,
    nonfinite: NonFinite = "error",
    echo: Callable[[str], None] | None = None,
    keep_frame_of_reference: bool = False,
) -> list[Path]:
    """Translate every MR volume found in ``inputs`` and write ``OUT/<name>_sct.nii.gz`` (or a DICOM series folder).

    ``medsynth evaluate translation`` pairs ``<name>_sct`` with the reference ``<name>``.

    Args:
        translator (CycleGANTranslator): a fitted translator (``translate(volume, return_spread=..., nonfinite=...)``).
        inputs: NIfTI files, DICOM series folders, or folders holding several of them.
        out_dir: where the synthetic CTs go (created).
        format: "nifti" or "dicom" (a synthetic-safe series: new UIDs, SyntheticData=YES).
        overwrite: replace existing outputs.
        uncertainty: also write ``<name>_sct_spread`` (same format): the voxel-wise spread (SD, HU)
            of the test-time predictions averaged into each sCT voxel.
        nonfinite: "error" refuses an MR with NaN/inf voxels, naming the file and the count;
            "mask" leaves them out and writes them as NaN (NIfTI only: DICOM stores integers).
        echo: called with one line per written volume.
        keep_frame_of_reference: DICOM output of a DICOM MR keeps the MR's FrameOfReferenceUID (a viewer or planning
            system registers the two; the series then links to that patient: PatientIdentityRemoved NO). Off: new UIDs,
            as for every DICOM medsynth writes.

    Raises:
        DataValidationError: an input holds no volume; two inputs would write the same output name;
            an input has NaN/inf voxels (``nonfinite="error"``).
        ConfigError: ``nonfinite="mask"`` with DICOM output; ``uncertainty`` for a model with a
            single prediction per voxel.
    """
    from medsynth.io.datasets import discover_volumes
    from medsynth.io.loading import load_volume

    if nonfinite == "mask" and format == "dicom":
        raise ConfigError(
            "--nonfinite mask writes the left-out voxels as NaN, which DICOM (integers) cannot store; use --format nifti"
        )
    if uncertainty and hasattr(translator, "_check_spread"):
        translator._check_spread()  # refuse before any work
    paths: list[Path] = []
    problems: list[str] = []
    for item in inputs:
        try:
            paths.extend(it.path for it in discover_volumes(item))
        except MedsynthError as exc:
            problems.append(str(exc))
    if problems:
        raise DataValidationError(problems, context="inputs")
    from medsynth.io.loading import volume_stem

    names = [volume_stem(p) + "_sct" for p in paths]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataValidationError(f"several inputs would be written as {dupes}; translate them into separate --out folders")
    out = Path(out_dir)
    suffix = ".nii.gz" if format == "nifti" else ""
    if not overwrite:  # before any work: refuse outputs that exist
        planned = [out / (n + tail + suffix) for n in names for tail in ("", "_spread") if tail == "" or uncertainty]
        if existing := [str(p) for p in planned if p.exists()]:
            raise DataValidationError(f"{len(existing)} output(s) already exists, e.g. {existing[:3]}; choose another --out or pass --force")
    from medsynth.translation.inference import check_input

    for src in paths:  # every input read and checked before anything is written (one volume in memory at a time)
        try:
            volume = load_volume(src)
            volume.meta["source"] = str(src)
            check_input(volume, translator.config, nonfinite)
        except MedsynthError as exc:
            problems.append(str(exc))
    if problems:
        raise DataValidationError(problems, context="inputs (nothing was written)")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    before = {p for n in names for p in (out / (n + suffix), out / (n + "_spread" + suffix)) if p.exists()}
    written: list[Path] = []
    try:
        _translate_all(translator, paths, names, out, written, format=format, suffix=suffix, overwrite=overwrite,
                       uncertainty=uncertainty, nonfinite=nonfinite, echo=echo, keep_frame=keep_frame_of_reference)
    except BaseException:  # no partial output left as if complete: what this call wrote new goes (not what it replaced)
        for p in written:
            if p in before:
                continue
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    return written


def _translate_all(translator, paths: list[Path], names: list[str], out: Path, written: list[Path], *,  # noqa: ANN001
                   format: OutputFormat, suffix: str, overwrite: bool, uncertainty: bool, nonfinite: NonFinite,
                   echo: Callable[[str], None] | None, keep_frame: bool = False) -> None:
    """Translate and write each input (appending every written path to ``written`` as it goes)."""
    from medsynth.io.loading import load_volume, save_volume
    from medsynth.io.nifti import write_nifti

    for src, name in zip(paths, names):
        volume = load_volume(src)
        volume.meta["source"] = str(src)
        result = translator.translate(volume, return_spread=uncertainty, nonfinite=nonfinite)
        ct, spread = result if uncertainty else (result, None)
        if keep_frame and ct.meta.get("source_frame_of_reference"):
            ct.meta["derived_frame_of_reference"] = ct.meta["source_frame_of_reference"]
        dest = out / (name + suffix)
        masked = int(ct.meta.get("nonfinite_input_voxels", 0))
        if masked:  # NaN marks the left-out voxels: float32, not the int16 of clinical CT
            write_nifti(ct, dest, dtype="float32", synthetic=True)
        else:
            save_volume(ct, dest, format=format, overwrite=overwrite, synthetic=True)
        written.append(dest)
        line = f"{src} -> {dest}"
        if spread is not None:
            spread_dest = out / (name + "_spread" + suffix)
            if format == "nifti":
                write_nifti(spread, spread_dest, dtype="float32", synthetic=True)
            else:
                save_volume(spread, spread_dest, format=format, overwrite=overwrite, synthetic=True)
            written.append(spread_dest)
            line += f" (+ spread {spread_dest.name})"
        if masked:
            line += f"; {masked} non-finite input voxel(s) left out, written as NaN"
        if echo is not None:
            echo(line)


__all__ = ["translate_files"]
