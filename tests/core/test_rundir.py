from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from medsynth.core.errors import RunDirectoryError
from medsynth.core.files import atomic_dir, atomic_path, write_json
from medsynth.core.rundir import RunDir


class _Evil:
    """Any non-tensor class: unpickling it could run code, so weights_only loading refuses it."""


def test_existing_run_is_never_overwritten_without_flag(tmp_path: Path):
    RunDir.create(tmp_path / "run")
    (tmp_path / "run" / "model.pt").write_text("x")
    with pytest.raises(RunDirectoryError, match="--resume to continue it, --force to overwrite"):
        RunDir.create(tmp_path / "run")
    RunDir.create(tmp_path / "run", force=True)
    assert not (tmp_path / "run" / "model.pt").exists()


def test_force_refuses_a_folder_that_is_not_a_run(tmp_path: Path):
    (tmp_path / "mydata").mkdir()
    (tmp_path / "mydata" / "precious.csv").write_text("a,b\n")
    with pytest.raises(RunDirectoryError, match="not a medsynth run directory"):
        RunDir.create(tmp_path / "mydata", force=True)
    assert (tmp_path / "mydata" / "precious.csv").exists()


def test_resume_needs_a_run(tmp_path: Path):
    with pytest.raises(RunDirectoryError, match="cannot resume"):
        RunDir.create(tmp_path / "nothing", resume=True)


def test_checkpoints_atomic_keep_latest_and_weights_only(tmp_path: Path):
    run = RunDir.create(tmp_path / "run")
    net = torch.nn.Linear(3, 2)
    for step in (10, 20, 30):
        run.save_checkpoint({"net": net.state_dict(), "note": step}, step, keep=2)
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("step_*.pt"))
    assert names == ["step_00000020.pt", "step_00000030.pt"]
    ckpt = run.load_checkpoint()
    assert ckpt["step"] == 30 and ckpt["note"] == 30
    assert torch.equal(ckpt["net"]["weight"], net.state_dict()["weight"])
    # a checkpoint holding an arbitrary object is refused by weights_only loading
    bad = tmp_path / "run" / "checkpoints" / "step_00000040.pt"
    torch.save({"step": 40, "obj": _Evil()}, bad)
    with pytest.raises(RunDirectoryError, match="cannot be read"):
        run.load_checkpoint(bad)


def test_metrics_truncated_on_resume(tmp_path: Path):
    run = RunDir.create(tmp_path / "run")
    for s in range(1, 6):
        run.log_metrics(s, {"loss": 1.0 / s})
    with open(run.metrics_path, "a") as f:
        f.write('{"step": 6, "loss"')  # a line cut by a crash
    assert [r["step"] for r in run.read_metrics()] == [1, 2, 3, 4, 5]
    run.truncate_metrics(3)
    assert [r["step"] for r in run.read_metrics()] == [1, 2, 3]


def test_atomic_writes_leave_nothing_on_error(tmp_path: Path):
    dest = tmp_path / "out.json"
    write_json(dest, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert json.loads(dest.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "series") as d:
            (d / "slice1.dcm").write_text("x")
            raise RuntimeError("crash")
    assert not (tmp_path / "series").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_the_config_records_kind_and_model_in_run_json(tmp_path):
    from medsynth.core.runs import list_runs
    from medsynth.imaging.config import VAE3DConfig
    from medsynth.tabular.config import TabularConfig

    tab = RunDir.create(tmp_path / "tab")
    tab.write_config(TabularConfig(model="gaussian-copula"))
    img = RunDir.create(tmp_path / "img")
    img.write_config(VAE3DConfig())
    assert (tab.info["kind"], tab.info["model"]) == ("tabular", "gaussian-copula")
    assert (img.info["kind"], img.info["model"]) == ("vae3d", "vae3d")
    assert {(r["kind"], r["model"]) for r in list_runs(tmp_path)} == {("tabular", "gaussian-copula"), ("vae3d", "vae3d")}
