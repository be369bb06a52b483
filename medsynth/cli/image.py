"""``medsynth image train|sample|interpolate``: 3D CT/MR synthesis with vae3d / gan3d / ldm3d, and image + mask pairs.

Thin: each command parses its flags and calls :mod:`medsynth.imaging.api` (``import medsynth.image``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medsynth.cli.common import MAX_STEPS_OPTION, SET_OPTION, data_warnings, done, overrides

image_app = typer.Typer(
    name="image",
    help="3D CT/MR synthesis (vae3d, gan3d, ldm3d): train on a folder of NIfTI/DICOM, sample NIfTI or DICOM, or image + mask pairs.",
    no_args_is_help=True,
)


@image_app.command("train")
def train(
    config: Path = typer.Argument(..., help="A YAML with kind: vae3d, gan3d or ldm3d (see configs/)."),
    data: Path = typer.Option(..., "--data", "-d", help="Folder of NIfTI files and/or DICOM series (mixed), or a CSV with path[,label]."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory: config, metrics.jsonl, checkpoints, previews, the model."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="CSV with columns file,label: one class per volume (class-conditional training)."),
    labels_dir: Optional[Path] = typer.Option(None, "--labels-dir", help="Folder of label maps, one per volume with the same file name: ldm3d learns label map -> volume (ControlNet)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in OUT from its last checkpoint."),
    force: bool = typer.Option(False, "--force", help="Overwrite an earlier run in OUT."),
    device: Optional[str] = typer.Option(None, "--device", help="auto, cpu, cuda or cuda:N (default: the config's train.device)."),
    sets: Optional[list[str]] = SET_OPTION,
    max_steps: Optional[int] = MAX_STEPS_OPTION,
) -> None:
    """Train a 3D VAE, GAN or latent diffusion model (ldm3d: autoencoder then diffusion, --max-steps shared) on CT or MR.

    Under torchrun every process runs this command; gradients are averaged (DDP) and only rank 0
    writes. A crash loses at most train.checkpoint_every steps: rerun with --resume.

    Examples:
        medsynth image train configs/ct_vae3d_64.yaml --data ct/ --out runs/vae
        medsynth image train configs/ct_ldm3d_64.yaml --data ct/ --labels-dir ct_labels/ --out runs/ldm
        torchrun --standalone --nproc_per_node=4 -m medsynth.cli.main image train configs/ct_gan3d_128.yaml --data ct/ --out runs/gan
    """
    from medsynth.imaging.api import train as train_image

    with data_warnings():  # printed after the result line
        model = train_image(config, data, out, overrides=overrides(sets), resume=resume, force=force, device=device,
                            max_steps=max_steps, labels=labels, labels_dir=labels_dir)
        synth = model.synthesizer
        classes = f", classes {model.label_names}" if model.label_names else ""
        classes += f", with {getattr(synth, 'mask_classes', 0)}-label maps" if labels_dir is not None else ""
        done(f"trained {model.kind} for {model.steps_trained} steps on {synth.n_volumes} {model.modality} volumes{classes}", out)


@image_app.command("sample")
def sample(
    run: Path = typer.Argument(..., help="The --out folder of a finished `medsynth image train` run."),
    n: Optional[int] = typer.Option(None, "--n", min=1, help="Number of volumes (not with --masks/--new-masks)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to create: the volumes and manifest.csv (file, seed, label)."),
    masks: Optional[Path] = typer.Option(None, "--masks", help="Folder of label maps: one image per map (ldm3d trained with --labels-dir); writes image/ + label/ pairs."),
    new_masks: Optional[int] = typer.Option(None, "--new-masks", min=1, help="Make N new label maps (elastic, flips, lesion insertion/removal) from --masks or the training maps, and an image for each."),
    format: str = typer.Option("nifti", "--format", "-f", help="nifti (one .nii.gz each) or dicom (one synthetic-safe series folder each)."),
    label: Optional[str] = typer.Option(None, "--label", help="Class of every sample (default: drawn with the training class frequencies)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Sample i uses seed+i: the same seed gives the same volumes."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Volumes per forward pass."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Sample N synthetic volumes on the training grid (CT in HU) as NIfTI or DICOM, with a manifest; or image + mask pairs.

    Examples:
        medsynth image sample runs/vae --n 100 --out synth/ --seed 0
        medsynth image sample runs/gan --n 20 --out synth_dicom/ --format dicom --label lesion
        medsynth image sample runs/ldm --new-masks 64 --out synth_pairs/   # image/ + label/ + dataset.json
    """
    from medsynth.core.errors import ConfigError
    from medsynth.core.files import check_output
    from medsynth.imaging.api import check_format, load

    fmt = check_format(format)
    check_output(out, kind="dir", what="--out")
    if masks is not None or new_masks:
        if n is not None:
            raise ConfigError("--n does not go with --masks/--new-masks: the number of pairs is the number of label maps")
        if fmt != "nifti":
            raise ConfigError("image + mask pairs are written as NIfTI (image/, label/) for MONAI and nnU-Net; leave out --format")
        with data_warnings():  # (a label map whose structures the training grid loses: printed after the result line)
            path, count = load(run, device=device).write_pairs(out, masks, new_masks=new_masks, seed=seed, label=label,
                                                                batch_size=batch_size, overwrite=force)
            done(f"wrote {count} synthetic image + label-map pairs; dataset", path)
        return
    if n is None:
        raise ConfigError("give --n (number of volumes), or --masks/--new-masks for image + mask pairs")
    model = load(run, device=device)
    manifest = model.write_samples(out, n, label=label, seed=seed, format=fmt, batch_size=batch_size, overwrite=force)
    done(f"wrote {n} synthetic {model.modality} volumes ({fmt}); manifest", manifest)


@image_app.command("interpolate")
def interpolate(
    run: Path = typer.Argument(..., help="The --out folder of a finished training run."),
    seeds: tuple[int, int] = typer.Option(..., "--seeds", help="Seeds of the two ends (as in `image sample`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to create."),
    steps: int = typer.Option(8, "--steps", min=2, help="Volumes along the path, ends included."),
    label: Optional[str] = typer.Option(None, "--label", help="Class (default: the one drawn for the first seed)."),
    label_b: Optional[str] = typer.Option(None, "--to-label", help="Switch to this class at the middle (class morph)."),
    format: str = typer.Option("nifti", "--format", "-f", help="nifti or dicom."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
) -> None:
    """Write volumes along the latent path between two seeds (spherical interpolation)."""
    from medsynth.core.files import check_output
    from medsynth.imaging.api import check_format, load, write_volumes

    fmt = check_format(format)
    check_output(out, kind="dir", what="--out")
    vols = load(run, device=device).interpolate(seeds[0], seeds[1], steps, label=label, label_b=label_b)
    manifest = write_volumes(vols, out, format=fmt, prefix="interp", overwrite=force)
    done(f"wrote {steps} interpolated volumes; manifest", manifest)


__all__ = ["image_app"]
