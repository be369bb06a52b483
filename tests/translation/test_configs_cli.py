"""The three ready-made configs load and run tiny; ``medsynth translate train|apply`` end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsynth.cli.main import main
from medsynth.core.config import load_config
from medsynth.io.loading import load_volume
from medsynth.translation.config import CycleGANConfig
from medsynth.translation.cyclegan import CycleGANTranslator

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
#: Overrides that shrink any of the configs to a CPU test size (validated like the YAML).
TINY = [
    "generator.base_channels=4",
    "generator.n_res_blocks=1",
    "discriminator.channels=4",
    "discriminator.num_layers=2",
    "train.max_steps=2",
    "train.batch_size=2",
    "train.device=cpu",
    "train.sample_every=0",
]
PATCH = {"mr2ct_cyclegan_2d.yaml": "[16,16]", "mr2ct_cyclegan_25d.yaml": "[16,16]", "mr2ct_cyclegan_3d.yaml": "[16,16,16]"}


@pytest.mark.parametrize("name", sorted(PATCH))
def test_config_loads_and_runs_tiny(name: str, phantom_dir: Path, tmp_path: Path):
    cfg = load_config(CycleGANConfig, CONFIGS / name, overrides=[*TINY, f"data.patch_size={PATCH[name]}"])
    assert cfg.kind == "mr2ct_cyclegan"
    tr = CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    mr = load_volume(phantom_dir / "mr" / "case_001.nii.gz")
    ct = tr.translate(mr)
    assert ct.same_grid(mr) and ct.units == "HU"


def test_cli_train_then_apply_nifti_and_dicom(phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    run = tmp_path / "run"
    sets = [a for s in [*TINY, "data.patch_size=[16,16]"] for a in ("--set", s)]
    args = ["translate", "train", str(CONFIGS / "mr2ct_cyclegan_2d.yaml"), "--source", str(phantom_dir / "mr"),
            "--target", str(phantom_dir / "ct"), "--out", str(run), *sets]
    assert main(args) == 0
    assert (run / "model" / "weights.pt").is_file() and (run / "checkpoints" / "LATEST").is_file()
    # --resume with more steps continues the same run
    assert main([*args, "--resume", "--max-steps", "3"]) == 0
    assert '"step": 3' in (run / "metrics.jsonl").read_text()

    inputs = [str(phantom_dir / "mr" / "case_002.nii.gz"), str(phantom_dir / "mr" / "case_003.nii.gz")]
    assert main(["translate", "apply", str(run), *inputs, "--out", str(tmp_path / "sct"), "--device", "cpu"]) == 0
    out = load_volume(tmp_path / "sct" / "case_002_sct.nii.gz")
    mr = load_volume(inputs[0])
    assert out.same_grid(mr) and out.modality == "CT"
    assert out.array.min() == -1024  # air outside the body

    assert main(["translate", "apply", str(run / "model"), inputs[0], "--out", str(tmp_path / "dcm"), "--format", "dicom",
                 "--set", "inference.overlap=0.25"]) == 0
    series = load_volume(tmp_path / "dcm" / "case_002_sct").reoriented(mr.orientation)  # stored LPS
    assert series.modality == "CT" and series.spatial_shape == mr.spatial_shape
    np.testing.assert_allclose(series.affine, mr.affine, atol=1e-4)
    np.testing.assert_allclose(series.array, np.rint(out.array), atol=0.5)
    # an inference setting given with --set takes effect: without mirroring the output differs
    assert main(["translate", "apply", str(run), inputs[0], "--out", str(tmp_path / "plain"), "--set",
                 "inference.mirror_axes=[]"]) == 0
    assert not np.allclose(load_volume(tmp_path / "plain" / "case_002_sct.nii.gz").array, out.array, atol=0.5)

    # an MR of another voxel size is translated at the learned one, and the command says so
    from medsynth.io.nifti import write_nifti
    from medsynth.io.volume import Volume

    write_nifti(Volume(mr.array, np.diag([0.8, 0.8, 2.0, 1.0]), modality="MR"), tmp_path / "fine.nii.gz")
    capsys.readouterr()
    assert main(["translate", "apply", str(run), str(tmp_path / "fine.nii.gz"), "--out", str(tmp_path / "fine")]) == 0
    err = capsys.readouterr().err
    assert "fine.nii.gz' has voxels of 0.8x0.8x2 mm, but the model learned on 2x2x2 to 2x2x2 mm" in err and "warning: " in err
    assert load_volume(tmp_path / "fine" / "fine_sct.nii.gz").spatial_shape == mr.spatial_shape

    # only inference settings can change after training
    assert main(["translate", "apply", str(run), inputs[0], "--out", str(tmp_path / "x"), "--set", "train.lr=1"]) == 2
    assert "only inference.* settings" in capsys.readouterr().err
    # outputs exist: refused without --force
    assert main(["translate", "apply", str(run), inputs[0], "--out", str(tmp_path / "sct")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_cli_reports_a_swapped_source_in_one_line(phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    code = main(["translate", "train", str(CONFIGS / "mr2ct_cyclegan_2d.yaml"), "--source", str(phantom_dir / "ct"),
                 "--target", str(phantom_dir / "ct"), "--out", str(tmp_path / "run"), "--max-steps", "1"])
    assert code == 2
    assert "did you swap --source and --target" in capsys.readouterr().err
