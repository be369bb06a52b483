"""``medsynth translate train|apply``: MRI -> CT translation with a CycleGAN."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medsynth.cli.common import MAX_STEPS_OPTION, SET_OPTION, data_warnings, done

app = typer.Typer(
    help="MRI -> CT translation (CycleGAN on 2D slices, 2.5D stacks or 3D patches; output in HU).",
    no_args_is_help=True,
)


@app.command("train")
def train(
    config: Path = typer.Argument(..., help="A translation YAML (kind: mr2ct_cyclegan), e.g. configs/mr2ct_cyclegan_2d.yaml."),
    source: Path = typer.Option(..., "--source", help="MR volumes: a folder of NIfTI files / DICOM series, or a CSV of paths."),
    target: Path = typer.Option(..., "--target", help="CT volumes in HU (unpaired unless data.paired: true)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory (config, metrics.jsonl, checkpoints, model/)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in OUT from its last checkpoint."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it is an earlier run."),
    sets: Optional[list[str]] = SET_OPTION,
    max_steps: Optional[int] = MAX_STEPS_OPTION,
) -> None:
    """Train an MR -> CT CycleGAN on MR and CT volumes and save it in OUT/model.

    Example:
        medsynth translate train configs/mr2ct_cyclegan_2d.yaml --source mr/ --target ct/ --out runs/mr2ct
    """
    from medsynth.translation.api import train as train_translator

    tr = train_translator(config, source, target, out, overrides=sets, max_steps=max_steps, resume=resume, force=force)
    done(f"trained {tr.config.train.max_steps} steps (spatial_dims {tr.config.spatial_dims}); model saved", out / "model")


@app.command("apply")
def apply(
    run: Path = typer.Argument(..., help="A training run directory (or its model/ folder)."),
    inputs: list[Path] = typer.Argument(..., help="MR NIfTI files, DICOM series folders, or folders of them."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the synthetic CTs (<name>_sct.nii.gz or <name>_sct/ DICOM)."),
    format: str = typer.Option("nifti", "--format", help="nifti or dicom (synthetic-safe series, SyntheticData=YES)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:N]."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing outputs."),
    uncertainty: bool = typer.Option(
        False, "--uncertainty", help="Also write <name>_sct_spread: the voxel-wise spread (SD, HU) of the averaged test-time predictions."
    ),
    nonfinite: str = typer.Option(
        "error", "--nonfinite", help="NaN/inf input voxels: 'error' (default) refuses the file; 'mask' leaves them out, written as NaN."
    ),
    sets: Optional[list[str]] = typer.Option(
        None, "--set", help="Change how the model is applied, e.g. --set inference.overlap=0.25 (inference.* only)."
    ),
    keep_frame_of_reference: bool = typer.Option(
        False, "--keep-frame-of-reference", help="DICOM output of a DICOM MR keeps the MR's FrameOfReferenceUID, so a "
        "viewer or planning system registers the two (the series then links to that patient: PatientIdentityRemoved NO)."
    ),
) -> None:
    """Translate MR volumes to CT in HU on their own grid (air outside the body is -1024 HU).

    Example:
        medsynth translate apply runs/mr2ct patient_mr.nii.gz --out sct/ --format dicom --uncertainty

    Outputs are OUT/<name>_sct.nii.gz (or a <name>_sct/ DICOM series); 'medsynth evaluate translation'
    pairs them with reference CTs called <name>. With --uncertainty, <name>_sct_spread holds the
    standard deviation (HU) of the predictions averaged into each voxel (left-right mirrored and
    not; in 2.5D also the neighbouring slice stacks): high where the sCT is unreliable.

    The run's config sets the window: the ready-made configs use windows of the training patch
    (inference.roi_size patch), which on real anatomy kept a larger field of view from shifting the HU
    (131 vs 167 HU MAE); roi_size null runs whole slices (fastest, no window seams); e.g.
    --set inference.roi_size=[128,128] --set inference.overlap=0.25 caps memory for very large slices.
    """
    from medsynth.translation.api import apply_run

    with data_warnings():  # printed after the result line
        written = apply_run(run, inputs, out, device=device, inference=sets, format=format.lower(), overwrite=force,  # type: ignore[arg-type]
                            uncertainty=uncertainty, nonfinite=nonfinite, echo=typer.echo,  # type: ignore[arg-type]
                            keep_frame_of_reference=keep_frame_of_reference)
        n = len(written) // 2 if uncertainty else len(written)
        done(f"translated {n} volume(s) to CT ({format.lower()})" + (" with spread maps" if uncertainty else ""), out)
