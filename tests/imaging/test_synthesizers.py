"""vae3d and gan3d end to end at 16^3 on CPU: fit, sample, save/load, resume, outputs, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from imaging_helpers import tiny_config

from medsynth.core.errors import ConfigError, DataValidationError, NotFittedError, RunDirectoryError
from medsynth.core.registry import SYNTHESIZERS, resolve
from medsynth.imaging.base import load_image_synthesizer
from medsynth.imaging.outputs import write_volumes
from medsynth.io.dicom import read_dicom_series
from medsynth.io.nifti import read_nifti, write_nifti
from medsynth.io.volume import Volume, grid_affine

KINDS = ["vae3d", "gan3d"]


def _arrays(vols: list[Volume]) -> list[np.ndarray]:
    return [v.array for v in vols]


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_samples_and_save_load(kind: str, trained: dict[str, Any], tmp_path: Path):
    model = trained[kind]["model"]
    a = model.sample(3, seed=11)
    b = model.sample(3, seed=11)
    assert all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(b)))
    c = model.sample(3, seed=12)
    assert not np.array_equal(a[0].array, c[0].array)
    # save to a fresh folder and load on CPU: same samples for the same seed
    model.save(tmp_path / "m")
    loaded = resolve(SYNTHESIZERS, kind).load(tmp_path / "m", device="cpu")
    d = loaded.sample(3, seed=11)
    assert all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(d)))
    assert [v.meta["label"] for v in a] == [v.meta["label"] for v in d]
    # the run directory itself holds the model too
    e = load_image_synthesizer(trained[kind]["run"]).sample(3, seed=11)
    assert all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(e)))


@pytest.mark.parametrize("kind", KINDS)
def test_sample_i_uses_seed_plus_i(kind: str, trained: dict[str, Any]):
    model = trained[kind]["model"]
    three = model.sample(3, seed=20, label="lesion", batch_size=1)
    one = model.sample(1, seed=22, label="lesion", batch_size=1)
    assert [v.meta["seed"] for v in three] == [20, 21, 22]
    np.testing.assert_allclose(three[2].array, one[0].array, atol=0.05)


@pytest.mark.parametrize("kind", KINDS)
def test_meta_and_run_directory(kind: str, trained: dict[str, Any]):
    run = trained[kind]["run"]
    meta = json.loads((run / "model" / "meta.json").read_text())
    assert meta["model"] == kind
    assert meta["label_names"] == ["lesion", "no_lesion"]
    assert meta["training_grid"] == {"spatial_size": [16, 16, 16], "spacing": [4.0, 4.0, 4.0], "orientation": "RAS"}
    assert meta["intensity_window"] == [-1024.0, 1024.0]
    assert len(meta["data_fingerprint"]) == 16 and meta["n_training_volumes"] == 6
    assert {"torch", "monai", "medsynth"} <= set(meta["versions"])
    info = json.loads((run / "run.json").read_text())
    assert (info["status"], info["kind"], info["model"]) == ("completed", kind, kind)
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]
    assert (run / "previews" / f"{kind}_step_00000002.png").stat().st_size > 1000
    state = torch.load(run / "model" / "weights.pt", map_location="cpu", weights_only=True)
    assert set(state) == set(resolve(SYNTHESIZERS, kind).saved_networks)


@pytest.mark.parametrize("kind", KINDS)
def test_labels_and_interpolation(kind: str, trained: dict[str, Any]):
    model = trained[kind]["model"]
    assert {v.meta["label"] for v in model.sample(2, seed=0, label="no_lesion")} == {"no_lesion"}
    with pytest.raises(ConfigError, match="did you mean 'lesion'"):
        model.sample(1, label="lesoin")
    path = model.interpolate(1, 2, steps=4, label="lesion", label_b="no_lesion")
    assert [v.meta["label"] for v in path] == ["lesion", "lesion", "no_lesion", "no_lesion"]
    ends = model.sample(1, seed=1, label="lesion")
    np.testing.assert_allclose(path[0].array, ends[0].array, atol=0.05)  # HU; batch size changes rounding
    with pytest.raises(ConfigError, match="at least 2"):
        model.interpolate(1, 2, steps=1)


def test_vae_encodes_and_interpolates_real_volumes(trained: dict[str, Any], phantom_dir: Path):
    vae = trained["vae3d"]["model"]
    a = read_nifti(phantom_dir / "ct" / "case_000.nii.gz", modality="CT")
    b = read_nifti(phantom_dir / "ct" / "case_001.nii.gz", modality="CT")
    path = vae.interpolate_volumes(a, b, steps=3, label="lesion")
    assert len(path) == 3 and path[0].spatial_shape == (16, 16, 16)
    with pytest.raises(ConfigError, match="class-conditional"):
        vae.encode(a)


@pytest.mark.parametrize("kind", KINDS)
def test_nifti_geometry_is_the_training_grid(kind: str, trained: dict[str, Any], tmp_path: Path):
    model = trained[kind]["model"]
    manifest = write_volumes(model.iter_samples(3, seed=4), tmp_path / "out", format="nifti")
    rows = list(csv.DictReader(open(manifest, encoding="utf-8")))
    assert [r["seed"] for r in rows] == ["4", "5", "6"]
    assert set(rows[0]) >= {"file", "seed", "label"} and all(r["label"] in ("lesion", "no_lesion") for r in rows)
    for r in rows:
        vol = read_nifti(tmp_path / "out" / r["file"], modality="CT")
        assert vol.spatial_shape == (16, 16, 16)
        np.testing.assert_allclose(vol.affine, grid_affine((4.0, 4.0, 4.0), (16, 16, 16)))
        assert vol.orientation == "RAS"
        assert -1024 <= vol.array.min() and vol.array.max() <= 1024  # HU inside the training window
        assert vol.meta.get("synthetic") is True  # (its header says so, parted from the manifest: a researcher)


@pytest.mark.parametrize("kind", KINDS)
def test_dicom_samples_read_back(kind: str, trained: dict[str, Any], tmp_path: Path):
    import pydicom

    model = trained[kind]["model"]
    vols = model.sample(1, seed=9)
    write_volumes(vols, tmp_path / "dcm", format="dicom")
    back = read_dicom_series(tmp_path / "dcm" / "sample_00000")
    assert back.modality == "CT" and back.spatial_shape == (16, 16, 16)
    np.testing.assert_allclose(back.spacing, (4.0, 4.0, 4.0), atol=1e-4)
    np.testing.assert_allclose(back.reoriented(vols[0].orientation).array, np.rint(vols[0].array), atol=0.5)
    ds = pydicom.dcmread(next((tmp_path / "dcm" / "sample_00000").iterdir()), stop_before_pixels=True)
    assert str(ds.get("SyntheticData", "")) == "YES"


def test_resume_continues_from_the_saved_step(phantom_dir: Path, tmp_path: Path):
    from medsynth.imaging.gan3d import GAN3D

    run = tmp_path / "run"
    # two D updates per step and two accumulated micro-batches: the resume offset counts every batch drawn
    cfg = tiny_config("gan3d", train={"max_steps": 4, "checkpoint_every": 2, "grad_accum_steps": 2, "batch_size": 1},
                      loss={"disc_steps": 2})
    crashing = GAN3D(cfg)
    original = crashing._train_step

    def crash_at_3(session, data, step):
        if step == 3:
            raise KeyboardInterrupt("simulated crash")
        return original(session, data, step)

    crashing._train_step = crash_at_3  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        crashing.fit(phantom_dir / "ct", out=run, labels_csv=phantom_dir / "labels.csv")
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    ckpt = torch.load(run / "checkpoints" / "gan3d" / "step_00000002.pt", weights_only=True)
    with pytest.raises(RunDirectoryError, match="already exists"):
        GAN3D(cfg).fit(phantom_dir / "ct", out=run, labels_csv=phantom_dir / "labels.csv")

    resumed = GAN3D(cfg)
    seen: list[tuple[int, bool]] = []
    step_fn = resumed._train_step

    def spy(session, data, step):
        if not seen:  # the restored weights are the checkpoint's
            gen = resumed.nets["generator"].state_dict()
            seen.append((step, all(torch.equal(gen[k], ckpt["generator"][k]) for k in gen)))
        return step_fn(session, data, step)

    resumed._train_step = spy  # type: ignore[method-assign]
    resumed.fit(phantom_dir / "ct", out=run, resume=True, labels_csv=phantom_dir / "labels.csv")
    assert seen == [(3, True)]
    assert resumed.steps_trained == 4
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    assert (run / "checkpoints" / "gan3d" / "LATEST").read_text().strip() == "step_00000004.pt"
    # ... and it ends where an uninterrupted run ends: same batches, same noise, same weights
    straight = GAN3D(cfg).fit(phantom_dir / "ct", out=tmp_path / "straight", labels_csv=phantom_dir / "labels.csv")
    a, b = resumed.nets["generator_ema"].state_dict(), straight.nets["generator_ema"].state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    # a resume with a different model is refused, naming the key
    other = tiny_config("gan3d", train={"max_steps": 6}, model={"latent_dim": 8})
    with pytest.raises(ConfigError, match="model.latent_dim"):
        GAN3D(other).fit(phantom_dir / "ct", out=run, resume=True, labels_csv=phantom_dir / "labels.csv")


def test_vae_gan_accumulation_and_unconditional_mr(phantom_dir: Path):
    from medsynth.imaging.vae3d import VAE3D

    cfg = tiny_config(
        "vae3d", modality="MR", train={"grad_accum_steps": 2, "batch_size": 1, "max_steps": 2},
        loss={"adv_weight": 0.1, "kl_warmup_steps": 2},
    )
    vae = VAE3D(cfg).fit(phantom_dir / "mr")
    assert vae.label_names == [] and vae.n_classes == 0
    lo, hi = vae.window
    assert 0 <= lo < hi  # the MR training set's median window
    vols = vae.sample(2, seed=0)
    assert vols[0].modality == "MR" and vols[0].meta["label"] is None
    with pytest.raises(ConfigError, match="without classes"):
        vae.sample(1, label="lesion")


@pytest.mark.parametrize("kind", KINDS)
def test_two_dimensional_models(kind: str, phantom_dir: Path):
    cls = resolve(SYNTHESIZERS, kind)
    model = cls(tiny_config(kind, spatial_dims=2)).fit(phantom_dir / "ct", labels_csv=phantom_dir / "labels.csv")
    vols = model.sample(2, seed=0)
    assert vols[0].spatial_shape == (16, 16, 1)
    np.testing.assert_allclose(vols[0].spacing, (4.0, 4.0, 4.0))


def test_bad_shapes_and_configs_fail_early():
    from medsynth.imaging.gan3d import GAN3D
    from medsynth.imaging.vae3d import VAE3D

    with pytest.raises(ConfigError, match=r"in_shape \(1, 17, 16, 16\): spatial sizes must be divisible by 2 \(2\*\*1 downsamplings\); crop to 16 or pad to 18"):
        VAE3D(tiny_config("vae3d", preprocessing={"spatial_size": [17, 16, 16]}))
    with pytest.raises(ConfigError, match="at least 4"):
        GAN3D(tiny_config("gan3d", model={"disc_channels": [4, 4]}, preprocessing={"spatial_size": [2, 2, 2]}))
    from medsynth.imaging.ldm3d import LDM3D  # (its latent grid's sizes, 'crop to 4 or pad to 8', were no image sizes)

    with pytest.raises(ConfigError, match=r"in_shape \(1, 16, 16, 6\): .*divisible by 4 \(2\*\*2 downsamplings\); crop to 4 or pad to 8"):
        LDM3D(tiny_config("ldm3d", preprocessing={"spatial_size": [16, 16, 6]}))
    with pytest.raises(ConfigError, match="spacing must be set"):
        VAE3D(tiny_config("vae3d", preprocessing={"spacing": None}))
    with pytest.raises(ConfigError, match="needs a VAE3DConfig"):
        VAE3D(tiny_config("gan3d"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="did you mean 'kl_weight'"):
        tiny_config("vae3d", loss={"kl_wieght": 1.0})
    with pytest.raises(NotFittedError):
        VAE3D(tiny_config("vae3d")).sample(1)


def test_bad_data_folders_give_named_errors(phantom_dir: Path, tmp_path: Path):
    from medsynth.imaging.vae3d import VAE3D

    cfg = tiny_config("vae3d")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataValidationError, match="no NIfTI file or DICOM series found"):
        VAE3D(cfg).fit(empty)
    with pytest.raises(DataValidationError, match="does not exist"):
        VAE3D(cfg).fit(tmp_path / "missing")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "case_x.nii.gz").write_bytes(b"not a nifti file at all")
    write_nifti(read_nifti(phantom_dir / "ct" / "case_000.nii.gz"), broken / "case_ok.nii.gz")
    with pytest.raises(DataValidationError, match="case_x.nii.gz") as exc:
        VAE3D(cfg).fit(broken)
    assert "case_ok" not in str(exc.value)  # only the bad file is named
    with pytest.raises(DataValidationError, match="missing_labels.csv' does not exist"):
        VAE3D(cfg).fit(phantom_dir / "ct", labels_csv=phantom_dir / "missing_labels.csv")
    listing = tmp_path / "list.csv"
    listing.write_text(f"path,label\n{phantom_dir}/ct/case_000.nii.gz,lesion\n{phantom_dir}/ct/case_001.nii.gz,\n")
    with pytest.raises(DataValidationError, match="1 of 2 volumes have no label"):
        VAE3D(cfg).fit(listing)
    partial = tmp_path / "partial.csv"
    partial.write_text("file,label\ncase_000.nii.gz,lesion\n")
    with pytest.raises(DataValidationError, match="has no label in"):
        VAE3D(cfg).fit(phantom_dir / "ct", labels_csv=partial)
    with pytest.raises(DataValidationError, match="not among the configured classes"):
        VAE3D(tiny_config("vae3d", data={"label_names": ["a", "b"]})).fit(phantom_dir / "ct", labels_csv=phantom_dir / "labels.csv")
    assert not (tmp_path / "runs").exists()


def test_load_errors(tmp_path: Path, trained: dict[str, Any]):
    from medsynth.imaging.vae3d import VAE3D

    with pytest.raises(RunDirectoryError, match="not a saved imaging model"):
        VAE3D.load(tmp_path)
    with pytest.raises(ConfigError, match="holds a 'gan3d' model"):
        VAE3D.load(trained["gan3d"]["run"])
    with pytest.raises(RunDirectoryError, match="holds no meta.json"):
        load_image_synthesizer(tmp_path)
