"""``medsynth convert`` and ``medsynth phantoms``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medsynth.cli.common import done


def convert(
    input: Path = typer.Argument(..., help="A NIfTI file (.nii/.nii.gz) or a folder holding a DICOM series."),
    output: Path = typer.Argument(..., help="A .nii/.nii.gz file, or a folder for a DICOM series."),
    modality: Optional[str] = typer.Option(
        None, "--modality", "-m", help="CT or MR. NIfTI does not store it: needed when writing DICOM from NIfTI that does not look like CT in HU."
    ),
    series: Optional[str] = typer.Option(None, "--series", help="SeriesInstanceUID to read when a DICOM folder holds several series."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUTPUT if it exists."),
) -> None:
    """Convert NIfTI <-> DICOM series (and a DICOM folder -> NIfTI), keeping geometry and HU.

    NIfTI -> DICOM writes a synthetic-safe series: new UIDs, no names, IDs, dates or institution,
    ImageType DERIVED\\SECONDARY and SyntheticData=YES. DICOM -> NIfTI sorts slices by position and
    applies RescaleSlope/Intercept, so CT comes out in HU.

    Examples:
        medsynth convert ct.nii.gz ct_dicom/ --modality CT
        medsynth convert dicom_folder/ ct.nii.gz
    """
    from medsynth.core.errors import DataValidationError
    from medsynth.io.loading import load_volume, save_volume
    from medsynth.io.nifti import is_nifti

    mod = None
    if modality is not None:
        mod = modality.upper()
        if mod not in ("CT", "MR"):
            raise DataValidationError(f"--modality '{modality}' must be CT or MR")
    volume = load_volume(input, modality=mod, series_uid=series)  # type: ignore[arg-type]
    to_nifti = is_nifti(output)
    if not to_nifti and volume.modality not in ("CT", "MR"):
        raise DataValidationError(
            f"'{input}' does not look like CT in HU (values {volume.array.min():g}..{volume.array.max():g}); "
            "pass --modality CT or --modality MR to write DICOM"
        )
    save_volume(volume, output, format="nifti" if to_nifti else "dicom", overwrite=force)
    done(f"wrote {volume.modality} {'NIfTI' if to_nifti else 'DICOM series'} {volume.spatial_shape} at "
         f"{'x'.join(f'{s:.3g}' for s in volume.spacing)} mm", output)


def phantoms(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (gets ct/, mr/ and labels/)."),
    n: int = typer.Option(8, "--n", min=1, help="Number of paired phantoms."),
    shape: int = typer.Option(64, "--shape", min=8, help="Cubic size in voxels (e.g. 64 -> 64^3)."),
    spacing: float = typer.Option(2.0, "--spacing", min=0.1, help="Isotropic voxel size in mm."),
    seed: int = typer.Option(0, "--seed", min=0, help="Case i uses seed+i."),
    contrast: str = typer.Option("T1", "--contrast", help="MR contrast: T1 or T2."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Write paired procedural CT/MR phantoms with their tissue labels, as NIfTI.

    Each case has DIR/ct/case_XXX.nii.gz (HU: air -1000, fat -100, soft tissue 40, organ 60,
    bone 700, lesion 100, with noise), DIR/mr/case_XXX.nii.gz (T1- or T2-like, bias field, Rician
    noise) and DIR/labels/case_XXX.nii.gz (0 air, 1 fat, 2 soft tissue, 3 organ, 4 bone, 5 lesion),
    on one grid: a known answer for MR->CT translation and a source of training volumes.
    """
    from medsynth.core.config import validate_config
    from medsynth.io.phantoms import PhantomConfig, write_phantoms

    cfg = validate_config(
        PhantomConfig,
        {"shape": [shape] * 3, "spacing": [spacing] * 3, "mr_contrast": contrast.upper()},
        source="phantoms options",
    )
    write_phantoms(out, n, seed=seed, config=cfg, overwrite=force)
    done(f"wrote {n} paired phantoms ({shape}^3, {spacing:g} mm)", out)
