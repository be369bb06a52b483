"""A killed DP-SGD fit resumes from its checkpoint without paying twice: the ledger of a resumed fit
equals an uninterrupted one's (same noise multiplier, sampling rate, steps, total epsilon)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tabular_helpers import Killed, make_schema, make_table
from tabular_helpers import killed_at_first_checkpoint as _killed_at_first_checkpoint

from medsynth.core.errors import ConfigError, RunDirectoryError
from medsynth.tabular.config import TabularConfig
from medsynth.tabular.run import CHECKPOINT, fit_run

TVAE = {"latent_dim": 4, "hidden": [16], "train": {"epochs": 6, "batch_size": 50, "checkpoint_every": 5}}


def _sgd(run: Path) -> dict:
    led = json.loads((run / "privacy_ledger.json").read_text())
    return {"total": led["total_epsilon"], "sgd": [e["sgd"] for e in led["entries"] if e["sgd"]],
            "before": [(e["access"], e["rho"]) for e in led["entries"] if not e["sgd"]]}


@pytest.mark.parametrize("model,params", [("dp-tvae", TVAE), ("dp-ctgan", {
    "embedding_dim": 4, "generator_dim": [8], "discriminator_dim": [8],
    "train": {"epochs": 6, "batch_size": 50, "checkpoint_every": 5}})])
def test_resumed_fit_has_the_ledger_of_an_uninterrupted_one(tmp_path, monkeypatch, model, params):
    """The killed fit and the uninterrupted one draw the same noisy count (same audit seed, so the plans
    can be compared); the resumed part draws fresh noise, and the ledgers must still be equal."""
    from medsynth.privacy.noise import insecure_noise_for_audit
    from medsynth.tabular import base

    df = make_table(400)
    cfg = TabularConfig(model=model, privacy={"epsilon": 2.0, "delta": 1e-4}, params=params)
    with insecure_noise_for_audit(5):
        whole, _ = fit_run(df, tmp_path / "whole", cfg, schema=make_schema())
    original = base.TabularSynthesizer._checkpoint
    calls = {"n": 0}

    def checkpoint_then_die(self, state):
        original(self, state)
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed

    monkeypatch.setattr(base.TabularSynthesizer, "_checkpoint", checkpoint_then_die)
    with insecure_noise_for_audit(5), pytest.raises(Killed):
        fit_run(df, tmp_path / "run", cfg, schema=make_schema())
    monkeypatch.setattr(base.TabularSynthesizer, "_checkpoint", original)
    assert (tmp_path / "run" / "private" / CHECKPOINT).is_file() and not (tmp_path / "run" / "model").exists()
    run, fitted = fit_run(df, tmp_path / "run", TabularConfig(), resume=True)
    a, b = _sgd(whole.path), _sgd(run.path)
    assert b["before"] == [(name, pytest.approx(rho)) for name, rho in a["before"]], "pre-training accesses paid twice"
    assert len(b["sgd"]) == 1 and b["sgd"][0]["steps"] == a["sgd"][0]["steps"] == fitted.meta["steps"]
    assert b["sgd"][0]["noise_multiplier"] == pytest.approx(a["sgd"][0]["noise_multiplier"])
    assert b["sgd"][0]["sample_rate"] == pytest.approx(a["sgd"][0]["sample_rate"])
    assert b["total"] == pytest.approx(a["total"]) and b["total"] <= 2.0
    assert json.loads((run.path / "run.json").read_text())["status"] == "completed"
    assert not (run.path / "private" / CHECKPOINT).exists()
    assert len(fitted.sample(20, seed=0)) == 20


def test_a_resumed_fit_keeps_the_lower_delta_level_it_took(tmp_path, monkeypatch):
    """delta 1e-2 on 400 rows takes a lower level from the noisy count; a resumed fit had written the asked delta into
    its model's config while its ledger held the lower one."""
    import yaml

    df = make_table(400)
    _killed_at_first_checkpoint(monkeypatch, df, tmp_path / "run",
                                TabularConfig(model="dp-tvae", privacy={"epsilon": 2.0, "delta": 1e-2}, params=TVAE))
    run, fitted = fit_run(df, tmp_path / "run", TabularConfig(), resume=True)
    led = json.loads((run.path / "privacy_ledger.json").read_text())
    assert led["asked_delta"] == 1e-2 and led["target_delta"] < 2.5e-3 and fitted.privacy.delta == led["target_delta"]
    saved = yaml.safe_load((run.path / "model" / "config.yaml").read_text())
    assert saved["privacy"]["delta"] == pytest.approx(led["target_delta"])


def test_resume_refuses_another_table_and_flags(tmp_path, monkeypatch):
    from medsynth.cli.main import main

    _killed_at_first_checkpoint(monkeypatch, make_table(400), tmp_path / "run",
                                TabularConfig(model="dp-tvae", privacy={"epsilon": 2.0, "delta": 1e-4}, params=TVAE))
    with pytest.raises(RunDirectoryError, match="table differs"):
        fit_run(make_table(400, seed=5), tmp_path / "run", TabularConfig(), resume=True)
    with pytest.raises(ConfigError, match="leave out --epsilon"):
        main(["--debug", "tabular", "fit", "x.csv", "--out", str(tmp_path / "run"), "--resume", "--epsilon", "1"])


@pytest.mark.slow
def test_kill_9_then_resume_from_the_command_line(tmp_path):
    """The real thing: a `medsynth tabular fit` process killed with SIGKILL after its first checkpoint."""
    data = tmp_path / "t.csv"
    make_table(3000).to_csv(data, index=False)
    make_schema().save(tmp_path / "s.yaml")
    run = tmp_path / "run"
    exe = [sys.executable, "-m", "medsynth.cli.main"]
    args = ["tabular", "fit", str(data), "--schema", str(tmp_path / "s.yaml"), "--model", "dp-tvae", "--epsilon", "2",
            "--delta", "1e-5", "--set", "params.train.epochs=8", "--set", "params.train.batch_size=64",
            "--set", "params.train.checkpoint_every=10", "--out", str(run)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*exe, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = run / "private" / CHECKPOINT
    deadline = time.time() + 120
    while not ckpt.is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert ckpt.is_file(), "no checkpoint before the fit ended"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run / "model").exists()
    done = subprocess.run([*exe, "tabular", "fit", str(data), "--out", str(run), "--resume"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (run / "model" / "weights.pt").is_file() and (run / "release_manifest.json").is_file()
    led = json.loads((run / "privacy_ledger.json").read_text())
    assert led["total_epsilon"] <= 2.0 and sum(e["access"] == "number of rows" for e in led["entries"]) == 1
