"""Nothing misleading left behind: run status after errors and kills, stale runs, leftover temporaries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile_helpers import cli

from medsynth.core.errors import ConfigError, RunDirectoryError
from medsynth.core.files import host_tag, remove_stale_temporaries
from medsynth.core.rundir import RunDir, run_state
from medsynth.core.runs import list_runs

REPO = Path(__file__).resolve().parents[2]
TINY_VAE = [
    "--set", "preprocessing.spacing=[4,4,4]", "--set", "preprocessing.spatial_size=[16,16,16]",
    "--set", "model.channels=[8,16]", "--set", "model.latent_channels=2", "--set", "model.disc_channels=8",
    "--set", "model.disc_layers=2", "--set", "train.batch_size=1", "--set", "train.device=cpu", "--set", "train.num_threads=1",
]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MEDSYNTH_PROGRESS": "0"}


def _spawn(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended early: {proc.communicate()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def image_run(inputs: dict[str, Path]) -> Path:
    from medsynth.cli.main import main

    out = inputs["dir"] / "image-run"
    assert main(["image", "train", str(REPO / "configs" / "ct_vae3d_64.yaml"), "--data", str(inputs["volumes"]),
                 "--out", str(out), *TINY_VAE, "--set", "model.norm_num_groups=4", "--max-steps", "1"]) == 0
    return out


def test_config_error_after_the_run_folder_exists_marks_it_failed(inputs: dict[str, Path], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code, _, err = cli(capsys, "image", "train", REPO / "configs" / "ct_vae3d_64.yaml", "--data", inputs["volumes"], "--out", out,
                       *TINY_VAE, "--set", "model.norm_num_groups=3", "--max-steps", "1")
    assert code == 2 and "norm_num_groups" in err
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "failed" and "norm_num_groups" in info["error"]
    assert info["pid"] == os.getpid() and isinstance(info["host"], str)


def test_kill_9_leaves_a_stale_run_that_can_be_resumed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_path = tmp_path / "killed"
    proc = _spawn(f"from medsynth.core.rundir import RunDir; import time; RunDir.create({str(run_path)!r}); time.sleep(120)")
    _wait_for(run_path / "run.json", proc)
    info = json.loads((run_path / "run.json").read_text())
    assert info["pid"] == proc.pid and run_state(info) == "running"
    # A living writer: nobody else may resume or overwrite its run.
    with pytest.raises(RunDirectoryError, match="still writing it"):
        RunDir.create(run_path, resume=True)
    with pytest.raises(RunDirectoryError, match="still writing it"):
        RunDir.create(run_path, force=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert json.loads((run_path / "run.json").read_text())["status"] == "running"  # as the process left it
    assert RunDir.open(run_path).state == "stale"
    code, out, _ = cli(capsys, "runs", tmp_path)
    assert code == 0 and "stale" in out and str(run_path) in out and "--resume" in out
    code, out, _ = cli(capsys, "runs", tmp_path, "--json")
    assert json.loads(out)[0]["state"] == "stale"
    run = RunDir.create(run_path, resume=True)
    assert run.state == "running" and run.info["pid"] == os.getpid()
    with pytest.raises(RuntimeError), run.marks_failure():
        raise RuntimeError("disk on fire")
    assert run.info["error"] == "RuntimeError: disk on fire"
    run = RunDir.create(run_path, resume=True)  # a failed run resumed again: the old error and end time go
    assert run.state == "running" and "error" not in run.info and "finished" not in run.info
    run.finish()
    assert list_runs(tmp_path)[0]["state"] == "completed"


def test_a_run_whose_process_exits_without_finishing_is_failed(tmp_path: Path) -> None:
    run_path = tmp_path / "exited"
    proc = _spawn(f"from medsynth.core.rundir import RunDir; RunDir.create({str(run_path)!r}); raise SystemExit(3)")
    proc.wait(timeout=120)
    info = json.loads((run_path / "run.json").read_text())
    assert proc.returncode == 3 and info["status"] == "failed" and "exited before the run finished" in info["error"]


def _train_until(stop: Callable[[], None], inputs: dict[str, Path], out: Path,
                 capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """Run a tiny image training of 100,000 steps and call ``stop`` from a thread once it checkpoints."""
    import threading

    def stop_when_training() -> None:
        t0 = time.monotonic()
        while not (out / "checkpoints").exists() and time.monotonic() - t0 < 120:
            time.sleep(0.02)
        stop()

    killer = threading.Thread(target=stop_when_training, daemon=True)
    killer.start()
    code, _, _ = cli(capsys, "image", "train", REPO / "configs" / "ct_vae3d_64.yaml", "--data", inputs["volumes"], "--out", out,
                     *TINY_VAE, "--set", "model.norm_num_groups=4", "--set", "train.checkpoint_every=1", "--max-steps", "100000")
    killer.join(timeout=5)
    return code, json.loads((out / "run.json").read_text())


@pytest.mark.timeout(300)  # a lost stop would otherwise train 100,000 steps
def test_sigterm_marks_a_cli_run_failed(inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    # `kill PID`: handled by medsynth's main while it runs
    code, info = _train_until(lambda: os.kill(os.getpid(), signal.SIGTERM), inputs, tmp_path / "term", capsys)
    assert code == 130 and info["status"] == "failed" and "SIGTERM" in info["error"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # main puts the default back


@pytest.mark.timeout(300)  # a lost stop would otherwise train 100,000 steps
def test_a_swallowed_sigterm_still_stops_training(inputs: dict[str, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The handler's KeyboardInterrupt can be lost (raised inside a finalizer, Python prints 'Exception ignored'
    and goes on: a CI run trained 6,500 steps after its SIGTERM); the stop it records ends the next step."""
    from medsynth.core import runtime

    # what the handler records, its exception lost
    code, info = _train_until(lambda: runtime.request_stop("interrupted by signal 15 (SIGTERM)"), inputs,
                              tmp_path / "swallowed", capsys)
    assert code == 130 and info["status"] == "failed" and "SIGTERM" in info["error"]
    assert runtime._STOP_REQUESTED is None  # cleared: the next command in this process runs
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        runtime.request_stop("interrupted by signal 15 (SIGTERM)")
        try:
            runtime.check_stop()
        finally:
            runtime.clear_stop()


def test_a_checkpoint_cut_by_kill_9_leaves_a_temporary_that_the_next_write_removes(tmp_path: Path) -> None:
    run_path = tmp_path / "ckpt"
    RunDir.create(run_path).finish()
    ck = run_path / "checkpoints"
    code = (
        "import os; from medsynth.core.files import atomic_path\n"
        f"with atomic_path({str(ck / 'step_00000002.pt')!r}) as tmp:\n"
        "    tmp.write_bytes(b'x' * 1000); print('half', flush=True); os.kill(os.getpid(), 9)\n"
    )
    proc = _spawn(code)
    proc.wait(timeout=120)
    leftovers = [p.name for p in ck.iterdir() if p.name.endswith(".tmp")]
    assert proc.returncode == -9 and len(leftovers) == 1 and f"-{proc.pid}-" in leftovers[0]
    assert not (ck / "step_00000002.pt").exists()
    run = RunDir.create(run_path, resume=True)
    run.save_checkpoint({"w": 1}, 3)
    assert sorted(p.name for p in ck.iterdir()) == ["LATEST", "step_00000003.pt"]


def test_temporaries_of_living_writers_and_other_hosts_are_kept(tmp_path: Path) -> None:
    mine = tmp_path / f".a.json.{host_tag()}-{os.getpid()}-abc123.tmp"
    other_host = tmp_path / ".b.json.00000000-1-abc123.tmp"
    dead = tmp_path / f".c.json.{host_tag()}-999999999-abc123.tmp"
    old_format = tmp_path / ".d.json.abcd1234.tmp"
    fresh_old_format = tmp_path / ".e.json.abcd1234.tmp"
    unrelated = tmp_path / ".notes.tmp"
    for p in (mine, other_host, dead, old_format, fresh_old_format, unrelated):
        p.write_text("x")
    os.utime(old_format, (time.time() - 7200, time.time() - 7200))
    removed = remove_stale_temporaries(tmp_path, force=True)
    assert sorted(p.name for p in removed) == sorted([dead.name, old_format.name])
    assert mine.exists() and other_host.exists() and fresh_old_format.exists() and unrelated.exists()


def test_tabular_sample_on_an_image_run_names_the_kind(image_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "tabular", "sample", image_run, "--n", "5", "--out", tmp_path / "x.csv")
    assert code == 2 and "is a vae3d run" in err and "medsynth image sample" in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()
    code, _, err = cli(capsys, "translate", "apply", image_run, image_run, "--out", tmp_path / "sct")
    assert code == 2 and "is a vae3d run" in err
    # The Python API: the registry never raises TypeError for a model that is not a name.
    from medsynth.tabular.base import TabularSynthesizer

    with pytest.raises(ConfigError, match="must be a name"):
        TabularSynthesizer.load(image_run)


def test_runs_lists_every_state(tmp_path: Path, image_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    RunDir.create(tmp_path / "a" / "ok").finish()
    failing = RunDir.create(tmp_path / "b" / "bad")
    with pytest.raises(ValueError), failing.marks_failure():
        raise ValueError("boom")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "run.json").write_text("{broken")
    found = {Path(r["path"]).name: r for r in list_runs(tmp_path)}
    assert found["ok"]["state"] == "completed" and found["bad"]["state"] == "failed" and found["bad"]["error"] == "ValueError: boom"
    assert found["c"]["state"] == "unknown"
    assert list_runs(image_run)[0]["kind"] == "vae3d"
    code, out, _ = cli(capsys, "runs", tmp_path / "nothing-here")
    assert code == 2


def test_a_stop_requested_during_a_command_without_steps_fails_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A command with no training loop (schema infer, a DP-MST fit) whose SIGTERM exception was swallowed finished and
    returned 0; main now checks the recorded stop when the command returns."""
    import pandas as pd

    from medsynth.core import runtime

    pd.DataFrame({"age": range(40, 70), "sex": ["f", "m"] * 15}).to_csv(tmp_path / "t.csv", index=False)
    runtime.request_stop("interrupted by signal 15 (SIGTERM)")
    code, _, err = cli(capsys, "schema", "infer", tmp_path / "t.csv", "--out", tmp_path / "s.yaml")
    assert code == 130 and "interrupted" in err and runtime._STOP_REQUESTED is None
