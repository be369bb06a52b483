"""Translate a batch of MR files (NIfTI files, DICOM series, folders of them) into CT files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from medsynth.core.errors import DataValidationError, MedsynthError
from medsynth.io.loading import OutputFormat


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".nii.gz", ".nii", ".dcm"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def translate_files(
    translator,
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    format: OutputFormat = "nifti",
    overwrite: bool = False,
    echo: Callable[[str], None] | None = None,
) -> list[Path]:
    """Translate every MR volume found in ``inputs`` and write ``OUT/<name>_sct.nii.gz`` (or a DICOM series folder).

    Args:
        translator (CycleGANTranslator): a fitted translator (``translate(volume) -> Volume``).
        inputs: NIfTI files, DICOM series folders, or folders holding several of them.
        out_dir: where the synthetic CTs go (created).
        format: "nifti" or "dicom" (a synthetic-safe series: new UIDs, SyntheticData=YES).
        overwrite: replace existing outputs.
        echo: called with one line per written volume.

    Raises:
        DataValidationError: an input holds no volume; two inputs would write the same output name.
    """
    from medsynth.io.datasets import discover_volumes
    from medsynth.io.loading import load_volume, save_volume

    paths: list[Path] = []
    problems: list[str] = []
    for item in inputs:
        try:
            paths.extend(it.path for it in discover_volumes(item))
        except MedsynthError as exc:
            problems.append(str(exc))
    if problems:
        raise DataValidationError(problems, context="inputs")
    names = [_stem(p) + "_sct" for p in paths]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataValidationError(f"several inputs would be written as {dupes}; translate them into separate --out folders")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for src, name in zip(paths, names):
        volume = load_volume(src)
        volume.meta.setdefault("source", src.name)
        ct = translator.translate(volume)
        dest = out / (name + (".nii.gz" if format == "nifti" else ""))
        save_volume(ct, dest, format=format, overwrite=overwrite)
        written.append(dest)
        if echo is not None:
            echo(f"{src} -> {dest}")
    return written


__all__ = ["translate_files"]
