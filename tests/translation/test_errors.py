"""Bad inputs and configs fail early with named errors that say how to fix them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsynth.core.config import validate_config
from medsynth.core.errors import ConfigError, DataValidationError, NotFittedError, RunDirectoryError
from medsynth.io.volume import Volume
from medsynth.translation.config import CycleGANConfig
from medsynth.translation.cyclegan import CycleGANTranslator
from medsynth.translation.data import InputDimensionError, SourceModalityError


def test_ct_given_as_source(make_config, phantom_dir: Path, tmp_path: Path):
    with pytest.raises(SourceModalityError, match="looks like CT in HU.*swap --source and --target"):
        CycleGANTranslator(make_config(2)).fit(phantom_dir / "ct", phantom_dir / "ct", out=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing written for bad inputs


def test_mr_given_as_target(make_config, phantom_dir: Path, tmp_path: Path):
    with pytest.raises(SourceModalityError, match="does not look like CT in HU"):
        CycleGANTranslator(make_config(2)).fit(phantom_dir / "mr", phantom_dir / "mr", out=tmp_path / "run")


def test_ct_given_to_translate(trained_2d: CycleGANTranslator, phantom_dir: Path):
    from medsynth.io.nifti import read_nifti

    ct = read_nifti(phantom_dir / "ct" / "case_000.nii.gz")
    with pytest.raises(SourceModalityError, match="source must be MR; translate MR volumes") as exc:
        trained_2d.translate(ct)
    assert "--source" not in str(exc.value)  # `translate apply` has no --source/--target to swap


def test_empty_folder(make_config, phantom_dir: Path, tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="no NIfTI file or DICOM series found"):
        CycleGANTranslator(make_config(2)).fit(tmp_path / "empty", phantom_dir / "ct", out=tmp_path / "run")


def test_unreadable_files_are_all_named(make_config, phantom_dir: Path, tmp_path: Path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.nii.gz").write_bytes(b"not a nifti")
    (bad / "b.nii.gz").write_bytes(b"nor this")
    with pytest.raises(DataValidationError) as err:
        CycleGANTranslator(make_config(2)).fit(bad, phantom_dir / "ct", out=tmp_path / "run")
    assert "a.nii.gz" in str(err.value) and "b.nii.gz" in str(err.value)


def test_2d_image_for_a_3d_model(make_config, phantom_dir: Path, tmp_path: Path, mr_volume: Volume):
    tr = CycleGANTranslator(make_config(3, train={"max_steps": 1})).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    flat = Volume(mr_volume.array[:, :, 9:10].copy(), mr_volume.affine, modality="MR")
    with pytest.raises(InputDimensionError, match="single 2D image.*3D"):
        tr.translate(flat)
    with pytest.raises(InputDimensionError, match="cannot train a 3D model"):
        CycleGANTranslator(make_config(3)).fit([flat], phantom_dir / "ct", out=tmp_path / "run2")


def test_translate_needs_a_fitted_model_and_a_volume(make_config, trained_2d: CycleGANTranslator, mr_volume: Volume):
    with pytest.raises(NotFittedError, match="not trained"):
        CycleGANTranslator(make_config(2)).translate(mr_volume)
    with pytest.raises(DataValidationError, match="takes a medsynth Volume, not ndarray"):
        trained_2d.translate(np.zeros((8, 8, 8)))


def test_paired_grids_must_match(make_config, phantom_dir: Path, tmp_path: Path, mr_volume: Volume):
    cfg = make_config(2, data={"paired": True}, loss={"paired": 1.0})
    with pytest.raises(DataValidationError, match="not on one grid"):
        CycleGANTranslator(cfg).fit([mr_volume], [str(phantom_dir / "ct" / "case_000.nii.gz")], out=tmp_path / "run")


@pytest.mark.parametrize(
    "change,message",
    [
        ({"data": {"patch_size": [30, 30]}}, r"divisible by 4 .*use \[32, 32\]"),
        ({"data": {"patch_size": [32, 32, 32]}}, "must have 2 values"),
        ({"spatial_dims": 3, "data": {"patch_size": [32, 32, 8]}}, "at least 24"),
        ({"loss": {"paired": 5.0}}, "set data.paired: true"),
        ({"spatial_dims": 4}, "spatial_dims"),
        ({"generater": {}}, "did you mean 'generator'"),
        ({"generator": {"arch": "transformer"}}, "generator.arch"),
    ],
)
def test_bad_configs(change: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        validate_config(CycleGANConfig, change)


def test_run_directory_errors(make_config, phantom_dir: Path, tmp_path: Path):
    with pytest.raises(RunDirectoryError, match="not a saved CycleGAN"):
        CycleGANTranslator.load(tmp_path)
    with pytest.raises(RunDirectoryError, match="cannot resume"):
        CycleGANTranslator(make_config(2)).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "none", resume=True)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x.txt").write_text("mine")
    with pytest.raises(RunDirectoryError, match="already exists"):
        CycleGANTranslator(make_config(2)).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "taken")


def test_save_never_overwrites_a_folder_that_is_not_a_model(trained_2d: CycleGANTranslator, tmp_path: Path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    with pytest.raises(RunDirectoryError, match="refusing to save"):
        trained_2d.save(tmp_path / "run")
    assert (tmp_path / "run" / "checkpoints").is_dir()
    trained_2d.save(tmp_path / "model")
    trained_2d.save(tmp_path / "model")  # an earlier model is replaced
    assert sorted(f.name for f in (tmp_path / "model").iterdir()) == ["config.yaml", "meta.json", "weights.pt"]


def test_a_4d_ct_is_refused_for_being_4d_and_a_ct_with_little_air_is_told_why(make_config, phantom_dir: Path):
    """An imaging researcher's `translate apply` of a 4D CT said "looks like CT in HU (values -1024..1397, 0% of voxels
    at or below -500)": it never said 4D, and 0% contradicted 'looks like CT' (0.2% of air, printed 0%; the volume was
    CT by its minimum). The dimensionality is checked first; the CT message says what made it CT."""
    from medsynth.io.nifti import read_nifti
    from medsynth.translation.inference import check_input

    ct = read_nifti(phantom_dir / "ct" / "case_000.nii.gz")
    four = Volume(np.stack([ct.array, ct.array]), ct.affine, modality=ct.modality, meta={"source": "4d.nii.gz"})
    with pytest.raises(InputDimensionError, match=r"'4d.nii.gz' is 4D: 2 channels/time points .*one 3D volume per file") as exc:
        check_input(four, make_config(3))
    assert "HU" not in str(exc.value)
    arr = np.full((16, 16, 16), 40.0, dtype=np.float32)
    arr[0, 0, :9] = -1024.0  # 9 of 4096 voxels: 0.22% of air, below the 1% of the air rule
    little = Volume(arr, ct.affine, modality="CT", meta={"source": "crop.nii.gz"})
    with pytest.raises(SourceModalityError, match=r"its minimum -1024 is air in HU; 0.22% of voxels at or below -500") as exc:
        check_input(little, make_config(3))
    assert " 0% " not in str(exc.value)
