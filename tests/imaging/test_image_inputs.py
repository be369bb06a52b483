"""Hostile training inputs (issue 16): NaN/inf voxels are named by file, a resume on other data is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from imaging_helpers import tiny_config

from medsynth.cli.main import main
from medsynth.core.errors import DataValidationError
from medsynth.io.nifti import read_nifti, write_nifti


def test_nan_voxels_name_the_file_not_the_learning_rate(phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from medsynth.imaging.vae3d import VAE3D

    data = tmp_path / "ct"
    shutil.copytree(phantom_dir / "ct", data)
    vol = read_nifti(data / "case_002.nii.gz")
    arr = vol.array.astype(np.float32)
    arr[4:6, 4:6, 4:6] = np.nan
    arr[0, 0, 0] = np.inf
    write_nifti(vol.with_array(arr), data / "case_002.nii.gz", dtype="float32")
    with pytest.raises(DataValidationError) as exc:
        VAE3D(tiny_config("vae3d")).fit(data, out=tmp_path / "run")
    msg = str(exc.value)
    assert "case_002.nii.gz" in msg and "non-finite (NaN/inf)" in msg and "learning rate" not in msg and "lr" not in msg
    assert "case_001" not in msg  # only the bad file is named
    assert not (tmp_path / "run").exists()  # nothing left behind
    # the CLI prints it as one error, exit code 2
    code = main(["image", "train", str(Path(__file__).resolve().parents[2] / "configs" / "ct_vae3d_64.yaml"), "--data", str(data),
                 "--out", str(tmp_path / "cli_run"), "--set", "preprocessing.spatial_size=[16,16,16]", "--set", "preprocessing.spacing=[4,4,4]"])
    assert code == 2 and "case_002.nii.gz" in capsys.readouterr().err


def test_resume_with_other_data_is_refused_naming_both_folders(phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from medsynth.imaging.gan3d import GAN3D

    run = tmp_path / "run"
    cfg = tiny_config("gan3d", train={"max_steps": 2})
    GAN3D(cfg).fit(phantom_dir / "ct", out=run)
    other = tmp_path / "other_ct"
    other.mkdir()
    for name in ("case_000.nii.gz", "case_001.nii.gz", "case_002.nii.gz"):
        shutil.copy(phantom_dir / "ct" / name, other / name)
    more = tiny_config("gan3d", train={"max_steps": 3})
    before = (run / "run.json").read_text()
    with pytest.raises(DataValidationError) as exc:
        GAN3D(more).fit(other, out=run, resume=True)
    msg = str(exc.value)
    assert str((phantom_dir / "ct").resolve()) in msg and str(other.resolve()) in msg
    assert "6 volumes" in msg and "(3, fingerprint" in msg
    assert (run / "run.json").read_text() == before  # the run was not touched
    # the same folder (even under another path, same content) resumes
    copy = tmp_path / "same_ct"
    shutil.copytree(phantom_dir / "ct", copy)
    resumed = GAN3D(more).fit(copy, out=run, resume=True)
    assert resumed.steps_trained == 3
    assert json.loads((run / "run.json").read_text())["status"] == "completed"


def _write_like(vol, path: Path, array: np.ndarray, affine: np.ndarray | None = None) -> None:
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, vol.affine if affine is None else affine), str(path))


def test_slices_padding_and_wrong_modality_are_refused_by_name(phantom_dir: Path, tmp_path: Path):
    """Probed on real volumes: one axial slice of TotalSegmentator's CT (122x101x1), pydicom's one-slice CT_small.dcm
    and an 8x6x4 crop were padded into a 64^3 cube and trained on silently; a 2-frame 4D NIfTI was called '2 channels';
    the CT NIfTI under mr_ldm3d_64 (NIfTI has no modality) was scaled by MR percentiles, an MR NIfTI (0..255, the
    MNI template) under a CT config by the HU window."""
    from medsynth.imaging.data import load_training_data

    cfg = tiny_config("vae3d")  # 16^3 grid at the phantom's spacing
    ct = read_nifti(phantom_dir / "ct" / "case_000.nii.gz")
    cases = {
        "slice": (ct.array[:, :, 7:8], None, "single 2D slice"),
        "crop": (ct.array[:3, :3, :3], np.diag([*(np.asarray(ct.spacing) / 4), 1.0]), "spans only"),
        "frames": (np.stack([ct.array, ct.array], -1), None, "is 4D: 2 frames"),
        "mr_values": (np.clip(ct.array + 1024, 0, None) / 10, None, "nothing below 0"),
    }
    for name, (array, affine, expected) in cases.items():
        _write_like(ct, tmp_path / name / f"{name}.nii.gz", array.astype(np.float32), affine)
        with pytest.raises(DataValidationError, match=expected) as exc:
            load_training_data(tmp_path / name, cfg)
        assert f"{name}.nii.gz" in str(exc.value)
    mr_cfg = tiny_config("vae3d", modality="MR")
    with pytest.raises(DataValidationError, match="look like CT in HU"):
        load_training_data(phantom_dir / "ct", mr_cfg)
    assert load_training_data(phantom_dir / "mr", mr_cfg).n_volumes >= 2  # the real thing still trains
    assert load_training_data([ct], cfg).n_volumes == 1
    with pytest.raises(DataValidationError, match="single 2D slice"):
        load_training_data([ct.with_array(ct.array[:, :, :1])], cfg)


def test_label_maps_off_their_volume_grid_are_refused(phantom_dir: Path, tmp_path: Path):
    """The brain NRRDs' label maps swapped (256x256x23 against 256x256x25) trained a ControlNet on misplaced labels:
    both are resampled to the training grid on their own, so nothing noticed."""
    from medsynth.imaging.data import load_training_data

    cfg = tiny_config("ldm3d")
    labels = tmp_path / "labels"
    shutil.copytree(phantom_dir / "labels", labels)
    first = sorted(labels.glob("*.nii.gz"))[0]
    lab = read_nifti(first, modality="SEG")
    shifted = lab.affine.copy()
    shifted[:3, 3] += 12.0
    write_nifti(lab.with_array(lab.array, affine=shifted), first)
    with pytest.raises(DataValidationError, match=f"'{first}' and its volume .* other affines"):
        load_training_data(phantom_dir / "ct", cfg, labels_dir=labels)
    write_nifti(lab.with_array(lab.array[:, :, :-2]), first)
    with pytest.raises(DataValidationError, match="not the same grid"):
        load_training_data(phantom_dir / "ct", cfg, labels_dir=labels)
    assert load_training_data(phantom_dir / "ct", cfg, labels_dir=phantom_dir / "labels").mask_classes > 1
