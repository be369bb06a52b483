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
    series: Optional[str] = typer.Option(None, "--series", help="Series to read when a DICOM folder holds several: its SeriesInstanceUID, or its number in the list the error shows."),
    frame: Optional[int] = typer.Option(None, "--frame", min=0, help="Frame of a 4D input to write (4D inputs need it)."),
    fill_nonfinite: Optional[float] = typer.Option(
        None, "--fill-nonfinite", help="Write this value where the input has NaN/inf voxels (e.g. -1024 for CT air); without it they are an error."
    ),
    synthetic: Optional[bool] = typer.Option(
        None, "--synthetic/--not-synthetic",
        help="Mark the output as synthetic (a volume a generator made) or not (a real scan). Default: as the input "
             "says (medsynth's synthetic NIfTI, a DICOM series with SyntheticData YES), else not synthetic."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUTPUT if it exists."),
) -> None:
    """Convert NIfTI <-> DICOM series (and a DICOM folder -> NIfTI), keeping geometry and HU.

    NIfTI -> DICOM writes a new series: new UIDs, no names, IDs, dates or institution, ImageType
    DERIVED\\SECONDARY; marked synthetic (SyntheticData=YES, a synthetic patient) only where the input is
    (or --synthetic says so): a real scan converted is never labelled synthetic. DICOM -> NIfTI sorts slices by position and
    applies RescaleSlope/Intercept, so CT comes out in HU. NaN/inf voxels and 4D inputs are refused
    unless --fill-nonfinite / --frame say what to do with them.

    Examples:
        medsynth convert ct.nii.gz ct_dicom/ --modality CT
        medsynth convert dicom_folder/ ct.nii.gz
    """
    from medsynth.core.errors import DataValidationError
    from medsynth.io.convert import convert_volume

    mod = None
    if modality is not None:
        mod = modality.upper()
        if mod == "SEG":  # (the message named MR as the way out: a label map is no MR image)
            raise DataValidationError("--modality SEG: label maps are written as NIfTI only (a DICOM Segmentation object "
                                      "is not written); give a .nii.gz output, or CT or MR for an image")
        if mod not in ("CT", "MR"):
            raise DataValidationError(f"--modality '{modality}' must be CT or MR")
    res = convert_volume(input, output, modality=mod, series_uid=series, frame=frame,  # type: ignore[arg-type]
                         fill_nonfinite=fill_nonfinite, overwrite=force, synthetic=synthetic)
    volume = res.volume
    notes = []
    if res.frame is not None:
        notes.append(f"frame {res.frame} of a 4D input")
    if res.filled:
        notes.append(f"{res.filled} non-finite voxel(s) set to {fill_nonfinite:g}")
    if res.format != "nifti" and volume.modality == "CT":  # (CT DICOM stores whole HU: fractional values were rounded
        import numpy as np  # without a word)

        arr = np.asarray(volume.array, dtype=np.float64)
        moved = int(np.count_nonzero(np.abs(arr - np.rint(arr)) > 1e-6))
        if moved:
            notes.append(f"{moved} fractional HU value(s) rounded to whole HU, by at most 0.5")
    notes.append("marked synthetic" if res.synthetic else "not marked synthetic")
    tail = f" ({'; '.join(notes)})" if notes else ""
    done(f"wrote {volume.modality} {'NIfTI' if res.format == 'nifti' else 'DICOM series'} {volume.spatial_shape} at "
         f"{'x'.join(f'{s:.3g}' for s in volume.spacing)} mm{tail}", output)


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
    from medsynth.core.files import check_output
    from medsynth.io.phantoms import PhantomConfig, write_phantoms

    check_output(out, kind="dir", what="--out")
    cfg = validate_config(
        PhantomConfig,
        {"shape": [shape] * 3, "spacing": [spacing] * 3, "mr_contrast": contrast.upper()},
        source="phantoms options",
    )
    write_phantoms(out, n, seed=seed, config=cfg, overwrite=force)
    done(f"wrote {n} paired phantoms ({shape}^3, {spacing:g} mm)", out)
