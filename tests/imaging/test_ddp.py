"""DDP under torchrun with 2 CPU processes (gloo): every model trains, replicas agree, rank 0 alone writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_torchrun_two_processes(phantom_dir: Path, tmp_path: Path):
    runs, report = tmp_path / "runs", tmp_path / "report"
    report.mkdir()
    here = Path(__file__).resolve().parent
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore", "MEDSYNTH_PROGRESS": "0",
           "PYTHONPATH": os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(here / "ddp_imaging_worker.py"), str(phantom_dir / "ct"), str(phantom_dir / "labels.csv"), str(runs), str(report)]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail("torchrun with 2 CPU processes did not finish in 180 s")
    assert proc.returncode == 0, proc.stderr[-4000:]
    ldm = [json.loads((report / f"ldm3d_rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["steps"] for r in ldm] == [1, 1]  # the last (controlnet) stage's steps
    assert ldm[0]["checksum"] == ldm[1]["checksum"] and set(ldm[0]["checksum"]) == {"vae", "unet", "controlnet"}
    run = runs / "ldm3d"
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["autoencoder", "controlnet", "diffusion"]
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    for kind in ("vae3d", "gan3d"):
        ranks = [json.loads((report / f"{kind}_rank{r}.json").read_text()) for r in (0, 1)]
        assert [r["steps"] for r in ranks] == [2, 2]
        assert ranks[0]["checksum"] == ranks[1]["checksum"]  # gradients were averaged: replicas equal
        run = runs / kind
        # rank 0 wrote each artefact once: one metrics line per step, the model, previews, checkpoints
        steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert steps == [1, 2]
        assert sorted(p.name for p in run.iterdir()) == [
            "checkpoints", "config.yaml", "metrics.jsonl", "model", "previews", "private", "run.json"
        ]
        assert sorted(p.name for p in (run / "model").iterdir()) == ["config.yaml", "meta.json", "weights.pt"]
        assert sorted(p.name for p in (run / "checkpoints" / kind).iterdir()) == ["LATEST", "step_00000001.pt", "step_00000002.pt"]
        assert not list(run.rglob("*.tmp"))
        assert json.loads((run / "run.json").read_text())["status"] == "completed"
