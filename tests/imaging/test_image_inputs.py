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
        "mr_values": (np.clip(ct.array + 1024, 0, None) / 10, None, "no air"),
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


def test_images_given_as_training_label_maps_are_refused_by_name(phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """`image train --labels-dir` on a folder of intensity images under the label-map names trained silently "with
    2451-label maps", while `image sample --masks` refused the same folder: both now run one check (label_map_problem)."""
    from imaging_helpers import tiny_sets

    from medsynth.imaging.data import load_training_data

    images = tmp_path / "images_as_labels"
    images.mkdir()
    for f in sorted((phantom_dir / "mr").glob("*.nii.gz")):
        v = read_nifti(f)
        arr = np.rint(np.abs(v.array) * 3.0).astype(np.int16)  # non-negative integers, hundreds of values: an image
        write_nifti(v.with_array(arr, modality="SEG"), images / f.name, dtype="int16")
    cfg = tiny_config("ldm3d")
    with pytest.raises(DataValidationError, match=r"'case_000.nii.gz' holds values 1, 2, .*values\); offending: 256, .* more \(above 255\); "
                                                  r"a label map holds integer labels 0\.\.255 .*is it an image") as exc:
        load_training_data(phantom_dir / "ct", cfg, labels_dir=images)
    assert "6 of 6 label maps" in str(exc.value)
    config = Path(__file__).resolve().parents[2] / "configs" / "ct_ldm3d_64.yaml"
    sets = [a for s in tiny_sets("ldm3d") for a in ("--set", s)]
    code = main(["image", "train", str(config), "--data", str(phantom_dir / "ct"), "--labels-dir", str(images),
                 "--out", str(tmp_path / "run"), *sets])
    err = capsys.readouterr().err
    assert code == 2 and "is it an image" in err and "case_000.nii.gz" in err and not (tmp_path / "run" / "model").exists()
    # A probability-like map: the offending value is named.
    floats = tmp_path / "float_labels"
    shutil.copytree(phantom_dir / "labels", floats)
    first = sorted(floats.glob("*.nii.gz"))[0]
    lab = read_nifti(first, modality="SEG")
    arr = lab.array.astype(np.float32)
    arr[arr == 1] = 0.7
    write_nifti(lab.with_array(arr), first, dtype="float32")
    with pytest.raises(DataValidationError, match=rf"'{first.name}' holds values 0, 0.7, .*offending: 0.7 \(not integer\)") as exc:
        load_training_data(phantom_dir / "ct", cfg, labels_dir=floats)
    assert "1 of 6 label maps" in str(exc.value)


def test_dicom_folder_of_two_series_tells_image_train_how_to_choose(phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """`image train --data` on a folder of 2 DICOM series said "choose one with series_uid= (or --series)", but image
    train has no --series and the UID-less series could not be chosen by UID; and "3 problems found" for one problem."""
    import pydicom

    from medsynth.io import write_dicom_series

    data = tmp_path / "data"
    data.mkdir()
    for sub, name in (("a", "case_000.nii.gz"), ("b", "case_001.nii.gz")):
        for f in write_dicom_series(read_nifti(phantom_dir / "ct" / name), tmp_path / sub):
            ds = pydicom.dcmread(f)
            if sub == "a":
                ds.SeriesInstanceUID = ""  # as in TotalSegmentator's example CT
            ds.save_as(data / f"{sub}_{f.name}")
    config = Path(__file__).resolve().parents[2] / "configs" / "ct_vae3d_64.yaml"
    code = main(["image", "train", str(config), "--data", str(data), "--out", str(tmp_path / "run"),
                 "--set", "preprocessing.spatial_size=[16,16,16]", "--set", "preprocessing.spacing=[4,4,4]"])
    err = capsys.readouterr().err
    assert code == 2 and f"'{data}' holds 2 DICOM series" in err and f"'{data}': '{data}'" not in err and "problems found" not in err and "(or --series)" not in err
    assert "1. (no SeriesInstanceUID)" in err and "medsynth convert" in err and "--series N" in err
    assert main(["convert", str(data), str(tmp_path / "one.nii.gz"), "--series", "1"]) == 0  # what the message says works
    assert read_nifti(tmp_path / "one.nii.gz").spatial_shape == (16, 16, 16)


def test_label_maps_whose_structures_the_training_grid_cuts_off_are_named(phantom_dir: Path, tmp_path: Path):
    """An imaging researcher's brain crops: the centred crop to the training size left one tumour map all background and
    another with 10 of 2,544 voxels, and training said only 'with 2-label maps'. A map keeping less than half of its
    labelled volume on the training grid is named in a DataWarning (the CLI prints it)."""
    import warnings

    from medsynth.core.errors import DataWarning
    from medsynth.imaging.data import load_training_data

    cfg = tiny_config("ldm3d")  # 16^3 voxels of 4 mm
    ct, labels = tmp_path / "ct", tmp_path / "labels"
    src = read_nifti(sorted((phantom_dir / "ct").glob("*.nii.gz"))[0])
    big = np.pad(src.array, 8, mode="edge")  # 32^3: the training grid keeps the centre
    for i, where in enumerate(("centre", "corner")):
        mask = np.zeros(big.shape, dtype=np.int16)
        if where == "centre":
            mask[12:20, 12:20, 12:20] = 1
        else:
            mask[1:6, 1:6, 1:6] = 1
        write_nifti(src.with_array(big), ct / f"case{i}.nii.gz")
        write_nifti(src.with_array(mask, modality="SEG"), labels / f"case{i}.nii.gz", dtype="int16")
    with pytest.warns(DataWarning, match=r"1 of 2 label maps lose most .*'case1.nii.gz' keeps 0%"):
        load_training_data(ct, cfg, labels_dir=labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # the phantoms' own maps keep their structures
        load_training_data(phantom_dir / "ct", cfg, labels_dir=phantom_dir / "labels")


def test_training_label_maps_without_foreground_or_with_unused_labels_are_named(phantom_dir: Path, tmp_path: Path):
    """An imaging researcher's brain maps held only {0, 3} and all 0: training said "with 4-label maps" and nothing else,
    and `image sample --new-masks` listed label_1 and label_2 in dataset.json. The empty map is named, so are the labels
    no map holds, and dataset.json says which of its labels are absent."""
    import warnings

    from medsynth.core.errors import DataWarning
    from medsynth.imaging.data import load_training_data
    from medsynth.imaging.pairs import LabelledVolume, write_pairs

    cfg = tiny_config("ldm3d")  # 16^3 voxels of 4 mm
    ct, labels = tmp_path / "ct", tmp_path / "labels"
    src = read_nifti(sorted((phantom_dir / "ct").glob("*.nii.gz"))[0])
    maps = {"a.nii.gz": np.zeros(src.spatial_shape, dtype=np.int16), "b.nii.gz": np.zeros(src.spatial_shape, dtype=np.int16)}
    maps["a.nii.gz"][4:12, 4:12, 4:12] = 3
    for name, arr in maps.items():
        write_nifti(src, ct / name)
        write_nifti(src.with_array(arr, modality="SEG"), labels / name, dtype="int16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        data = load_training_data(ct, cfg, labels_dir=labels)
    said = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert data.mask_classes == 4
    assert any("1 of 2 training label maps hold no foreground" in s and "'b.nii.gz'" in s for s in said), said
    assert any("label(s) [1, 2] occur in none of the 2 training label maps (they hold [0, 3])" in s for s in said), said
    pairs = [LabelledVolume(src, src.with_array(maps["a.nii.gz"], modality="SEG"))]
    dataset = json.loads(write_pairs(pairs, tmp_path / "pairs").read_text())
    assert dataset["absent_labels"] == {"label_1": 1, "label_2": 2} and "label_1, label_2 occur in no label map" in dataset["description"]
    assert list(dataset["labels"].values()) == [0, 1, 2, 3]  # (nnU-Net v2 wants 0..K without gaps)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # the phantoms' own maps hold every label
        load_training_data(phantom_dir / "ct", cfg, labels_dir=phantom_dir / "labels")
