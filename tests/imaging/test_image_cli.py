"""``medsynth image train|sample|interpolate``, and every imaging config in configs/ in a tiny variant."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from imaging_helpers import tiny_sets

from medsynth.cli.main import main
from medsynth.core.config import read_yaml

CONFIGS = sorted(
    p for p in (Path(__file__).resolve().parents[2] / "configs").glob("*.yaml")
    if read_yaml(p).get("kind") in ("vae3d", "gan3d", "ldm3d")
)


def _sets(kind: str) -> list[str]:
    out: list[str] = []
    for s in tiny_sets(kind):
        out += ["--set", s]
    return out


def test_the_three_issue_configs_exist():
    names = {p.name for p in CONFIGS}
    assert {"ct_vae3d_64.yaml", "mr_gan3d_64.yaml", "ct_gan3d_128.yaml", "ct_ldm3d_64.yaml", "mr_ldm3d_64.yaml"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_config_trains_and_samples_tiny(config: Path, phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    raw = read_yaml(config)
    kind, modality = raw["kind"], raw.get("modality", "CT")
    data = phantom_dir / ("ct" if modality == "CT" else "mr")
    run = tmp_path / "run"
    code = main(["image", "train", str(config), "--data", str(data), "--out", str(run),
                 "--labels", str(phantom_dir / "labels.csv"), *_sets(kind)])
    assert code == 0, capsys.readouterr().err
    meta = json.loads((run / "model" / "meta.json").read_text())
    assert meta["model"] == kind and meta["modality"] == modality and meta["steps_trained"] >= 1
    if kind == "ldm3d":  # the two stages share --max-steps (2): one step each
        assert meta["stage_steps"] == {"autoencoder": 1, "diffusion": 1}
        # all stages counted: the CLI said "trained ldm3d for 1 steps" (the last stage's) after --max-steps 4
        assert f"trained ldm3d for {sum(meta['stage_steps'].values())} steps" in capsys.readouterr().out
    assert read_yaml(run / "config.yaml")["preprocessing"]["spatial_size"] == [16, 16, 16]

    out = tmp_path / "samples"
    assert main(["image", "sample", str(run), "--n", "3", "--out", str(out), "--seed", "7", "--label", "lesion", "--device", "cpu"]) == 0
    rows = list(csv.DictReader(open(out / "manifest.csv", encoding="utf-8")))
    assert [(r["file"], r["seed"], r["label"]) for r in rows] == [
        (f"sample_{i:05d}.nii.gz", str(7 + i), "lesion") for i in range(3)
    ]
    assert all((out / r["file"]).is_file() for r in rows)


def test_cli_dicom_interpolate_resume_and_errors(trained: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    run = trained["gan3d"]["run"]
    out = tmp_path / "dcm"
    assert main(["image", "sample", str(run), "--n", "2", "--out", str(out), "--format", "dicom"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["manifest.csv", "sample_00000", "sample_00001"]
    assert main(["image", "interpolate", str(run), "--seeds", "1", "2", "--steps", "3", "--out", str(tmp_path / "i")]) == 0
    assert len(list((tmp_path / "i").glob("interp_*.nii.gz"))) == 3
    capsys.readouterr()
    # errors: one clear line, exit code 2, nothing written
    assert main(["image", "sample", str(run), "--n", "1", "--out", str(tmp_path / "x"), "--label", "tumour"]) == 2
    assert "unknown label 'tumour'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["image", "sample", str(run), "--n", "1", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["image", "sample", str(tmp_path), "--n", "1", "--out", str(tmp_path / "y")]) == 2
    assert "holds no meta.json" in capsys.readouterr().err


def test_cli_rejects_bad_configs(phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = Path(__file__).resolve().parents[2] / "configs" / "ct_vae3d_64.yaml"
    args = ["image", "train", str(config), "--data", str(phantom_dir / "ct"), "--out", str(tmp_path / "r")]
    assert main([*args, "--set", "loss.kl_wieght=1"]) == 2
    assert "did you mean 'kl_weight'" in capsys.readouterr().err
    assert main([*args, "--set", "preprocessing.spatial_size=[60,64,64]"]) == 2
    assert "crop to 56 or pad to 64" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    demo = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"
    assert main(["image", "train", str(demo), "--data", str(phantom_dir / "ct"), "--out", str(tmp_path / "r")]) == 2
    assert "needs kind: vae3d, gan3d or ldm3d" in capsys.readouterr().err
