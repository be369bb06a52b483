"""``medsynth.image``: train, load and sample from Python (the code path the CLI calls)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from imaging_helpers import TINY_MODEL, TINY_PRE, TINY_TRAIN

import medsynth.image as mi
from medsynth.core.errors import ConfigError, RunDirectoryError
from medsynth.io import read_volume, write_volume


def _tiny_vae(**train: Any) -> dict[str, Any]:
    return {"kind": "vae3d", "modality": "CT", "preprocessing": dict(TINY_PRE), "model": dict(TINY_MODEL["vae3d"]),
            "train": {**TINY_TRAIN, **train}}


@pytest.fixture(scope="module")
def api_run(phantom_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[mi.ImageModel, Path]:
    run = tmp_path_factory.mktemp("api") / "run"
    model = mi.train(_tiny_vae(max_steps=5), phantom_dir / "ct", run, overrides={"train": {"max_steps": 3}}, seed=1,
                     labels=phantom_dir / "labels.csv")
    return model, run


def test_train_records_the_run_and_saves_the_model_under_model(api_run: tuple[mi.ImageModel, Path]):
    model, run = api_run
    assert model.kind == "vae3d" and model.run_dir == run and model.steps_trained == 3  # overrides beat the dict
    assert model.config.train.seed == 1 and model.label_names == ["lesion", "no_lesion"]
    info = json.loads((run / "run.json").read_text())
    assert (info["status"], info["kind"], info["model"]) == ("completed", "vae3d", "vae3d")
    assert sorted(p.name for p in (run / "model").iterdir()) == ["config.yaml", "meta.json", "weights.pt"]
    assert not (run / "weights.pt").exists() and not list(run.rglob("*.tmp"))
    assert repr(model).startswith("ImageModel(kind='vae3d', CT 16x16x16 at 4x4x4 mm, classes=['lesion', 'no_lesion'], 3 steps")


def test_load_and_sample_volumes_with_their_metadata(api_run: tuple[mi.ImageModel, Path], tmp_path: Path):
    _, run = api_run
    model = mi.load(run)
    assert model.kind == "vae3d" and model.run_dir == run and tuple(model.config.preprocessing.spatial_size) == (16, 16, 16)
    vols = model.sample(2, label="lesion", seed=5)
    assert len(vols) == 2
    for i, v in enumerate(vols):
        assert v.spatial_shape == (16, 16, 16) and v.spacing == pytest.approx((4.0, 4.0, 4.0))
        assert (v.modality, v.units) == ("CT", "HU") and v.orientation == "RAS"
        assert -1024.0 <= float(v.array.min()) <= float(v.array.max()) <= 1024.0  # the training HU window
        assert v.meta["synthetic"] is True and v.meta["seed"] == 5 + i and v.meta["label"] == "lesion"
    again = model.sample(1, label="lesion", seed=6)[0]
    np.testing.assert_allclose(again.array, vols[1].array, atol=0.05)  # same seed, same volume (to float noise, in HU)
    # the public io names round-trip a sample
    path = write_volume(vols[0], tmp_path / "s.nii.gz")
    back = read_volume(path, modality="CT")
    assert back.spatial_shape == (16, 16, 16) and np.abs(back.array - vols[0].array).max() <= 1.0  # int16 HU
    manifest = model.write_samples(tmp_path / "out", 2, seed=0)
    assert manifest.read_text().count("\n") == 3
    with pytest.raises(ConfigError, match="unknown label 'tumour'"):
        model.sample(1, label="tumour")
    with pytest.raises(ConfigError, match="trained without label maps"):
        model.sample_pairs(new_masks=2)


def test_an_older_run_with_the_model_at_its_root_still_loads(api_run: tuple[mi.ImageModel, Path], tmp_path: Path):
    _, run = api_run
    old = tmp_path / "old"
    shutil.copytree(run, old)
    for f in (old / "model").iterdir():
        f.rename(old / f.name)
    (old / "model").rmdir()
    model = mi.load(old)
    assert model.kind == "vae3d" and model.sample(1, seed=0)[0].spatial_shape == (16, 16, 16)


def test_bad_configs_are_named_errors(phantom_dir: Path, tmp_path: Path):
    out = tmp_path / "r"
    with pytest.raises(ConfigError, match="did you mean 'kl_weight'"):
        mi.train(_tiny_vae(), phantom_dir / "ct", out, overrides={"loss.kl_wieght": 1.0})
    with pytest.raises(ConfigError, match="has kind 'tabular'; `medsynth image train` needs kind: vae3d, gan3d or ldm3d"):
        mi.train({"kind": "tabular"}, phantom_dir / "ct", out)
    with pytest.raises(ConfigError, match="override 'train.max_steps.x': 'max_steps' holds a value"):
        mi.train(_tiny_vae(), phantom_dir / "ct", out, overrides={"train.max_steps.x": 1})
    with pytest.raises(ConfigError, match="does not exist"):
        mi.train(tmp_path / "missing.yaml", phantom_dir / "ct", out)
    assert not out.exists()


def test_load_refuses_other_runs_by_kind(tmp_path: Path):
    import pandas as pd

    import medsynth.tabular as tab

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(20, 80, 64), "sex": rng.choice(["F", "M"], 64)})
    tab.fit(frame, model="dp-mst", out=tmp_path / "tab")
    with pytest.raises(RunDirectoryError, match="is a tabular run, not a vae3d or gan3d or ldm3d one.*use medsynth tabular sample"):
        mi.load(tmp_path / "tab")
    with pytest.raises(RunDirectoryError, match="holds no meta.json"):
        mi.load(tmp_path)
    with pytest.raises(RunDirectoryError, match="is not a folder"):
        mi.load(tmp_path / "nowhere")
