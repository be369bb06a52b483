from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from medsynth.core.errors import DataValidationError
from medsynth.io import write_dicom_series
from medsynth.io.datasets import VolumeDataset, discover_volumes
from medsynth.io.phantoms import PhantomConfig, make_phantom, write_phantoms
from medsynth.io.transforms import PreprocessConfig, VolumePreprocessor

PRE = PreprocessConfig(spatial_size=(16, 16, 16))


@pytest.fixture()
def mixed_folder(tmp_path: Path) -> Path:
    write_phantoms(tmp_path / "ph", 2, config=PhantomConfig(shape=(16, 16, 16)))
    data = tmp_path / "data"
    shutil.copytree(tmp_path / "ph" / "ct", data)
    write_dicom_series(make_phantom(9, PhantomConfig(shape=(16, 16, 16))).ct, data / "patient_dicom")
    return data


def test_folder_with_nifti_and_dicom_and_labels(mixed_folder: Path, tmp_path: Path):
    items = discover_volumes(mixed_folder)
    assert [it.path.name for it in items] == ["case_000.nii.gz", "case_001.nii.gz", "patient_dicom"]
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\ncase_000.nii.gz,healthy\ncase_001,lesion\npatient_dicom,lesion\n")
    items = discover_volumes(mixed_folder, labels_csv=labels)
    ds = VolumeDataset(items, VolumePreprocessor(PRE), modality="CT", cache_dir=tmp_path / "cache")
    assert len(ds) == 3 and ds.label_names == ["healthy", "lesion"]
    x, y = ds[2]
    assert tuple(x.shape) == (1, 16, 16, 16) and y == 1
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 3
    again = VolumeDataset(items, VolumePreprocessor(PRE), modality="CT", cache_dir=tmp_path / "cache")
    assert all((a - b).abs().max() == 0 for a, b in zip(ds.tensors, again.tensors))


def test_bad_sources_name_the_file(mixed_folder: Path, tmp_path: Path):
    with pytest.raises(DataValidationError, match="does not exist"):
        discover_volumes(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="no NIfTI file or DICOM series"):
        discover_volumes(tmp_path / "empty")
    (mixed_folder / "broken.nii.gz").write_bytes(b"\x1f\x8b broken")
    items = discover_volumes(mixed_folder)
    with pytest.raises(DataValidationError) as exc:
        VolumeDataset(items, VolumePreprocessor(PRE), modality="CT")
    assert "broken.nii.gz" in str(exc.value) and "1 of 4 volumes" in str(exc.value)
    with pytest.raises(DataValidationError, match="is CT, expected MR"):
        VolumeDataset([it for it in items if it.path.name == "patient_dicom"], VolumePreprocessor(PRE), modality="MR")
    labels = tmp_path / "l.csv"
    labels.write_text("file,label\ncase_000.nii.gz,a\n")
    with pytest.raises(DataValidationError, match="'case_001.nii.gz' has no label"):
        discover_volumes(mixed_folder, labels_csv=labels)
    csv = tmp_path / "list.csv"
    csv.write_text("file\nx.nii.gz\n")
    with pytest.raises(DataValidationError, match="needs a 'path' column"):
        discover_volumes(csv)


def test_dicom_slices_named_by_uid_are_found_and_read(tmp_path: Path):
    """Scanner exports name slices 'CT.1.3.12.2...' (TotalSegmentator's real series): the "suffix" is digits.
    Such a series in a mixed folder was silently left out of training, and one of its files was refused."""
    from medsynth.io.loading import load_volume

    data = tmp_path / "data"
    vol = make_phantom(3, PhantomConfig(shape=(16, 16, 16))).ct
    write_dicom_series(vol, data / "series")
    for i, f in enumerate(sorted((data / "series").iterdir())):
        f.rename(f.with_name(f"CT.1.3.12.2.1107.5.1.4.{60064 + i}"))
    write_phantoms(tmp_path / "ph", 1, config=PhantomConfig(shape=(16, 16, 16)))
    shutil.copy(next((tmp_path / "ph" / "ct").glob("*.nii.gz")), data / "case.nii.gz")
    items = discover_volumes(data)
    assert [it.path.name for it in items] == ["case.nii.gz", "series"]
    one_file = next((data / "series").iterdir())
    back = load_volume(one_file)
    assert back.spatial_shape == (16, 16, 16)
    assert back.modality == "CT"


def test_linked_folders_are_followed_and_mr_is_not_ct(mixed_folder: Path, tmp_path: Path):
    """A DICOM series linked into a training folder was skipped without a word (rglob does not follow linked folders),
    and a real MR at -47..833 (a few negative voxels of interpolation ringing) trained as CT."""
    from medsynth.io.datasets import modality_problem
    from medsynth.io.volume import Volume

    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "a.nii.gz").symlink_to(mixed_folder / "case_000.nii.gz")
    (linked / "series").symlink_to(mixed_folder / "patient_dicom", target_is_directory=True)
    (linked / "series" / "loop").symlink_to(linked, target_is_directory=True)  # a link back up: walked once
    assert [it.path.name for it in discover_volumes(linked)] == ["a.nii.gz", "series"]
    rs = np.random.default_rng(0)
    mr = np.abs(rs.normal(300, 150, (16, 16, 16))).astype(np.float32)
    mr[0, 0, :3] = -47.0
    problem = modality_problem(Volume(mr, np.eye(4), "CT"), "CT")
    assert problem is not None and "no air" in problem and "-47" in problem
    ct = mr - 400.0  # body-cropped CT: fat and soft tissue, no air
    ct[:4] = -120.0
    assert modality_problem(Volume(ct, np.eye(4), "CT"), "CT") is None


def test_a_crop_that_cuts_the_body_is_named(tmp_path: Path):
    """The shipped 64^3 at 4 mm kept 62% of a real abdominal CT's body, and training said nothing: a CT volume whose
    prepared tensor keeps less than 85% of its body (voxels above -500 HU, by physical volume) is named in a warning."""
    import warnings

    from medsynth.core.errors import DataWarning

    write_phantoms(tmp_path / "ph", 2, config=PhantomConfig(shape=(32, 32, 32), spacing=(3.0, 3.0, 3.0)))
    items = discover_volumes(tmp_path / "ph" / "ct")
    small = PreprocessConfig(spacing=(3.0, 3.0, 3.0), spatial_size=(16, 16, 16))  # 48 mm of a 96 mm body
    with pytest.warns(DataWarning, match=r"2 of 2 CT volumes lose part of the body.*'case_000.nii.gz' keeps \d+%"):
        VolumeDataset(items, VolumePreprocessor(small), modality="CT")
    whole = PreprocessConfig(spacing=(6.0, 6.0, 6.0), spatial_size=(16, 16, 16))  # 96 mm: all of it
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        VolumeDataset(items, VolumePreprocessor(whole), modality="CT")


def test_body_voxels_above_the_window_top_are_named(tmp_path: Path):
    """A real abdominal CT reaches 3,382 HU; the configs' window stops at 2,048, where training clips it (dense bone,
    contrast, metal never generated), and nothing said so."""
    import warnings

    from medsynth.core.errors import DataWarning
    from medsynth.io.nifti import read_nifti, write_nifti

    write_phantoms(tmp_path / "ph", 2, config=PhantomConfig(shape=(32, 32, 32), spacing=(3.0, 3.0, 3.0)))
    ct = read_nifti(tmp_path / "ph" / "ct" / "case_001.nii.gz", modality="CT")
    metal = ct.array.copy()
    metal[14:18, 14:18, 14:18] = 3000.0  # an implant: 64 voxels
    write_nifti(ct.with_array(metal), tmp_path / "ph" / "ct" / "case_001.nii.gz")
    items = discover_volumes(tmp_path / "ph" / "ct")
    cfg = PreprocessConfig(spacing=(6.0, 6.0, 6.0), spatial_size=(16, 16, 16), ct_window=(-1024.0, 2048.0))
    with pytest.warns(DataWarning, match=r"1 of 2 CT volumes hold body voxels above the HU window's top \(2048 HU\).*"
                                         r"'case_001.nii.gz' [\d.]+% \(up to 3000 HU\)"):
        VolumeDataset(items, VolumePreprocessor(cfg), modality="CT")
    wide = cfg.model_copy(update={"ct_window": (-1024.0, 3071.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        VolumeDataset(items, VolumePreprocessor(wide), modality="CT")
