"""``medsynth.translate``: train a tiny CycleGAN from Python, load it, apply it to Volumes and folders; bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import medsynth.translate as mt
from medsynth.core.errors import ConfigError, DataValidationError, OutputPathError, RunDirectoryError
from medsynth.io.loading import load_volume
from medsynth.io.phantoms import PhantomConfig, write_phantoms
from medsynth.io.volume import Volume
from medsynth.translation.data import NonFiniteError, SourceModalityError

TINY = {
    "spatial_dims": 2,
    "generator": {"base_channels": 4, "n_res_blocks": 1, "n_down": 2},
    "discriminator": {"channels": 4, "num_layers": 2},
    "optim": {"pool_size": 4},
    "data": {"patch_size": [16, 16]},
    "inference": {"mirror_axes": [0]},
    "train": {"max_steps": 2, "batch_size": 2, "checkpoint_every": 2, "log_every": 1},
}


@pytest.fixture(scope="module")
def phantoms16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three paired 16^3 phantoms at 3 mm."""
    out = tmp_path_factory.mktemp("api") / "phantoms"
    write_phantoms(out, 3, seed=3, config=PhantomConfig(shape=(16, 16, 16), spacing=(3.0, 3.0, 3.0)))
    return out


@pytest.fixture(scope="module")
def trained(phantoms16: Path, tmp_path_factory: pytest.TempPathFactory) -> mt.Translator:
    run = tmp_path_factory.mktemp("api_run") / "run"
    return mt.train(TINY, phantoms16 / "mr", phantoms16 / "ct", run, overrides={"train.max_steps": 3, "train": {"lr": 1e-5}},
                    device="cpu", seed=1)


@pytest.fixture
def awkward_mr(phantoms16: Path) -> Volume:
    """A phantom MR on an oblique-free but flipped, anisotropic, non-cubic grid."""
    mr = load_volume(phantoms16 / "mr" / "case_001.nii.gz")
    affine = np.diag([-1.5, -2.0, 3.5, 1.0])
    affine[:3, 3] = [40.0, 30.0, -20.0]
    return Volume(mr.array[:, 1:15, 2:14].copy(), affine, modality="MR", meta={"source": "awkward"})


def test_train_records_the_run_and_load_gives_the_same_translation(trained: mt.Translator, awkward_mr: Volume):
    run = trained.run_dir
    assert run is not None and (run / "model" / "weights.pt").is_file()
    info = json.loads((run / "run.json").read_text())
    assert (info["kind"], info["model"], info["status"]) == ("mr2ct_cyclegan", "cyclegan", "completed")
    assert trained.config.train.max_steps == 3 and trained.config.train.seed == 1  # overrides, then seed=
    assert trained.config.train.lr == 1e-5  # a nested mapping, and a float PyYAML would read back as a string from "1e-05"
    assert '"step": 3' in (run / "metrics.jsonl").read_text()
    assert "spatial_dims=2" in repr(trained) and str(run) in repr(trained)

    sct = trained.apply(awkward_mr)
    assert sct.spatial_shape == awkward_mr.spatial_shape == (16, 14, 12)
    assert np.allclose(sct.affine, awkward_mr.affine) and sct.same_grid(awkward_mr)
    assert (sct.modality, sct.units) == ("CT", "HU")
    assert np.isfinite(sct.array).all()
    assert sct.array.min() == -1024.0  # air outside the body
    lo, hi = trained.config.preprocessing.ct_window
    assert lo <= sct.array.min() and sct.array.max() <= hi  # HU inside the trained window

    loaded = mt.load(run)
    assert loaded.run_dir == run and mt.load(run / "model").run_dir == run
    np.testing.assert_allclose(loaded.apply(awkward_mr).array, sct.array, atol=1e-3)


def test_older_runs_without_kind_in_run_json_still_load(trained: mt.Translator, tmp_path: Path, awkward_mr: Volume):
    import shutil

    old = tmp_path / "old_run"
    shutil.copytree(trained.run_dir, old)  # type: ignore[arg-type]
    info = json.loads((old / "run.json").read_text())
    (old / "run.json").write_text(json.dumps({k: v for k, v in info.items() if k not in ("kind", "model")}))
    (old / "config.yaml").unlink()
    assert mt.load(old).apply(awkward_mr).same_grid(awkward_mr)


def test_uncertainty_and_nonfinite_input(trained: mt.Translator, awkward_mr: Volume):
    sct, spread = trained.apply(awkward_mr, uncertainty=True)
    assert spread.same_grid(awkward_mr) and spread.units == "HU"
    assert float(spread.array.min()) >= 0.0 and float(spread.array.max()) > 0.0
    assert (spread.array[sct.array == -1024.0] == 0.0).all()  # no spread outside the body

    arr = awkward_mr.array.copy()
    arr[8, 7, 6] = np.nan
    arr[8, 7, 7] = np.inf
    bad = awkward_mr.with_array(arr)
    with pytest.raises(NonFiniteError, match="2 non-finite voxel"):
        trained.apply(bad)
    masked = trained.apply(bad, nonfinite="mask")
    assert np.isnan(masked.array[8, 7, 6]) and np.isnan(masked.array[8, 7, 7])
    assert np.isfinite(masked.array).sum() == arr.size - 2
    with pytest.raises(ConfigError, match="'zero'"):
        trained.apply(awkward_mr, nonfinite="zero")  # type: ignore[arg-type]


def test_bad_inputs_are_named_errors(trained: mt.Translator, phantoms16: Path, tmp_path: Path, awkward_mr: Volume):
    with pytest.raises(DataValidationError, match="ndarray"):
        trained.apply(awkward_mr.array)  # type: ignore[arg-type]
    with pytest.raises(SourceModalityError):
        trained.apply(load_volume(phantoms16 / "ct" / "case_000.nii.gz"))
    with pytest.raises(ConfigError, match="max_stepz"):
        mt.train(TINY, phantoms16 / "mr", phantoms16 / "ct", tmp_path / "r1", overrides={"train.max_stepz": 3})
    with pytest.raises(ConfigError, match="kind 'vae3d'"):
        mt.train({**TINY, "kind": "vae3d"}, phantoms16 / "mr", phantoms16 / "ct", tmp_path / "r2")
    with pytest.raises(ConfigError, match="does not exist"):
        mt.train(tmp_path / "missing.yaml", phantoms16 / "mr", phantoms16 / "ct", tmp_path / "r3")
    with pytest.raises(SourceModalityError):  # CT given as MR: refused before the run directory exists
        mt.train(TINY, phantoms16 / "ct", phantoms16 / "ct", tmp_path / "r4")
    assert not (tmp_path / "r4").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputPathError, match="is a file"):
        mt.train(TINY, phantoms16 / "mr", phantoms16 / "ct", tmp_path / "file")
    with pytest.raises(RunDirectoryError, match="already exists"):
        mt.train(TINY, phantoms16 / "mr", phantoms16 / "ct", trained.run_dir)

    with pytest.raises(RunDirectoryError, match="does not exist"):
        mt.load(tmp_path / "nowhere")
    image_run = tmp_path / "image_run"
    image_run.mkdir()
    (image_run / "run.json").write_text(json.dumps({"kind": "vae3d", "status": "completed"}))
    with pytest.raises(RunDirectoryError, match="vae3d run.*medsynth image sample"):
        mt.load(image_run)
    with pytest.raises(RunDirectoryError, match="not a saved CycleGAN"):
        mt.load(phantoms16)
    with pytest.raises(ConfigError, match="only inference"):
        mt.load(trained.run_dir, inference={"train.lr": 0.1})  # type: ignore[arg-type]


def test_apply_files_and_inference_settings(trained: mt.Translator, phantoms16: Path, tmp_path: Path):
    tr = mt.load(trained.run_dir, inference={"overlap": 0.25})  # type: ignore[arg-type]
    assert tr.config.inference.overlap == 0.25
    lines: list[str] = []
    written = tr.apply_files(phantoms16 / "mr" / "case_002.nii.gz", tmp_path / "sct", uncertainty=True, echo=lines.append)
    assert [p.name for p in written] == ["case_002_sct.nii.gz", "case_002_sct_spread.nii.gz"]
    assert len(lines) == 1 and "spread" in lines[0]
    out = load_volume(written[0])
    assert out.same_grid(load_volume(phantoms16 / "mr" / "case_002.nii.gz")) and out.array.min() == -1024
    direct = tr.apply(phantoms16 / "mr" / "case_002.nii.gz")  # a path works like the Volume read from it
    np.testing.assert_allclose(direct.array, out.array, atol=1.0)  # the file stores int16 HU
    with pytest.raises(DataValidationError, match="already exists"):
        tr.apply_files([phantoms16 / "mr" / "case_002.nii.gz"], tmp_path / "sct")
    with pytest.raises(ConfigError, match="'png'"):
        tr.apply_files([phantoms16 / "mr"], tmp_path / "x", format="png")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="DICOM"):
        tr.apply_files([phantoms16 / "mr"], tmp_path / "x", format="dicom", nonfinite="mask")
    with pytest.raises(DataValidationError, match="no inputs"):
        tr.apply_files([], tmp_path / "x")
    assert not (tmp_path / "x").exists()
    # a bad input after a good one: refused before anything is written (the good one was written, then the 2D slice
    # failed, and a folder of partial results stayed; a single bad input left an empty --out)
    mr = load_volume(phantoms16 / "mr" / "case_002.nii.gz")
    import nibabel as nib

    nib.save(nib.Nifti1Image(mr.array[:, :, 0].astype(np.float32), np.eye(4)), str(tmp_path / "slice.nii.gz"))
    ct = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.full((16, 16, 16), -1000.0, np.float32), np.eye(4)), str(ct))
    with pytest.raises(DataValidationError, match="nothing was written") as err:
        tr.apply_files([phantoms16 / "mr" / "case_002.nii.gz", tmp_path / "slice.nii.gz", ct], tmp_path / "y")
    assert "slice.nii.gz" in str(err.value) and "ct.nii.gz" in str(err.value) and "looks like CT" in str(err.value)
    assert not (tmp_path / "y").exists()


def test_apply_run_checks_the_output_before_loading(trained: mt.Translator, phantoms16: Path, tmp_path: Path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputPathError, match="afile"):  # the output is refused before the (missing) run is read
        mt.apply_run(tmp_path / "no-such-run", [phantoms16 / "mr"], tmp_path / "afile" / "sct")
    written = mt.apply_run(trained.run_dir, [phantoms16 / "mr" / "case_000.nii.gz"], tmp_path / "sct", inference={"overlap": 0.5})  # type: ignore[arg-type]
    assert [p.name for p in written] == ["case_000_sct.nii.gz"]


def test_a_synthetic_ct_from_a_dicom_mr_keeps_its_frame_of_reference(trained: mt.Translator, phantoms16: Path, tmp_path: Path):
    """The sCT of a patient's MR series got a new FrameOfReferenceUID and the label "not a real patient": a viewer or
    planning system would not register it with the MR it was computed from. Keeping the MR's frame is asked for (it
    links the series to the patient, so it is not de-identified then)."""
    import pydicom

    from medsynth.io.dicom import write_dicom_series

    write_dicom_series(load_volume(phantoms16 / "mr" / "case_002.nii.gz"), tmp_path / "mr_dcm")
    src = pydicom.dcmread(sorted((tmp_path / "mr_dcm").iterdir())[0])
    written = trained.apply_files([tmp_path / "mr_dcm"], tmp_path / "out", format="dicom", keep_frame_of_reference=True)
    out = pydicom.dcmread(sorted(written[0].iterdir())[0])
    assert out.FrameOfReferenceUID == src.FrameOfReferenceUID and out.SeriesInstanceUID != src.SeriesInstanceUID
    assert "computed by medsynth" in out.DerivationDescription and "not a real patient" not in out.DerivationDescription
    assert out.SyntheticData == "YES" and out.Modality == "CT" and out.PatientIdentityRemoved == "NO"
    plain = trained.apply_files([tmp_path / "mr_dcm"], tmp_path / "out2", format="dicom")  # by default: new UIDs
    new = pydicom.dcmread(sorted(plain[0].iterdir())[0])
    assert new.FrameOfReferenceUID != src.FrameOfReferenceUID and new.PatientIdentityRemoved == "YES"
    assert "computed by medsynth" in new.DerivationDescription
