"""core.training.train_stages: the one stage-aware loop (per-stage checkpoints, resume across stages)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from medsynth.core.errors import ConfigError, RunDirectoryError
from medsynth.core.training import Stage, TrainConfig, TrainSession, split_steps, train_stages


class Toy:
    """Two linear layers trained one after the other: the second stage needs the first's weights."""

    def __init__(self, crash_at: tuple[str, int] | None = None) -> None:
        self.crash_at = crash_at
        self.finished: list[str] = []
        self.trained: list[tuple[str, int]] = []

    def stages(self, steps: dict[str, int]) -> list[Stage]:
        def make(name: str) -> Stage:
            box: dict = {}

            def setup(session: TrainSession) -> dict:
                net = torch.nn.Linear(3, 1)
                if name == "second":
                    # built from the first stage's trained weights (a composed model's next stage)
                    net.load_state_dict(self.first.state_dict())
                box["net"], box["opt"] = net, torch.optim.SGD(net.parameters(), lr=0.1)
                setattr(self, name, net)
                return {"net": net, "opt": box["opt"]}

            def step(k: int) -> dict[str, float]:
                if self.crash_at == (name, k):
                    raise KeyboardInterrupt("simulated crash")
                x = torch.randn(4, 3)  # drawn from the loop's per-step seed
                loss = (box["net"](x) - 1.0).pow(2).mean()
                box["opt"].zero_grad()
                loss.backward()
                box["opt"].step()
                self.trained.append((name, k))
                return {"loss": float(loss.detach())}

            return Stage(name=name, max_steps=steps[name], setup=setup, step=step, finish=lambda: self.finished.append(name))

        return [make("first"), make("second")]


def _session(out: Path, *, resume: bool = False) -> TrainSession:
    return TrainSession(TrainConfig(max_steps=7, device="cpu", checkpoint_every=2, log_every=1), out, resume=resume)


def test_split_steps():
    assert split_steps(1000, {"autoencoder": 0.4, "diffusion": 0.6}) == {"autoencoder": 400, "diffusion": 600}
    assert split_steps(3, {"a": 0.98, "b": 0.01, "c": 0.01}) == {"a": 1, "b": 1, "c": 1}
    assert sum(split_steps(7, {"a": 1, "b": 1}).values()) == 7
    with pytest.raises(ConfigError, match="at least 2"):
        split_steps(1, {"a": 1, "b": 1})


def test_two_stages_checkpoint_per_stage_and_resume_across_stages(tmp_path: Path):
    steps = {"first": 3, "second": 4}
    straight = Toy()
    s = _session(tmp_path / "straight")
    assert train_stages(s, straight.stages(steps)) == steps
    s.close()
    run = tmp_path / "straight"
    assert sorted(p.name for p in (run / "checkpoints" / "first").iterdir()) == ["LATEST", "step_00000002.pt", "step_00000003.pt"]
    assert (run / "checkpoints" / "second" / "LATEST").read_text().strip() == "step_00000004.pt"
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["stage"], r["stage_step"]) for r in lines] == [
        (1, "first", 1), (2, "first", 2), (3, "first", 3), (4, "second", 1), (5, "second", 2), (6, "second", 3), (7, "second", 4)]

    # crash in the second stage, then resume: the first stage is restored (not retrained), the second continues
    crashing = Toy(crash_at=("second", 3))
    s = _session(tmp_path / "resumed")
    with pytest.raises(KeyboardInterrupt):
        train_stages(s, crashing.stages(steps))
    resumed = Toy()
    s = _session(tmp_path / "resumed", resume=True)
    train_stages(s, resumed.stages(steps))
    s.close()
    assert resumed.trained == [("second", 3), ("second", 4)]
    assert resumed.finished == ["first", "second"]
    for name in ("first", "second"):
        a, b = getattr(straight, name).state_dict(), getattr(resumed, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    lines = [json.loads(line) for line in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 3, 4, 5, 6, 7]  # no step twice after the resume


def test_non_finite_metric_names_the_stage_and_step(tmp_path: Path):
    def setup(session: TrainSession) -> dict:
        return {}

    stage = Stage(name="diffusion", max_steps=3, setup=setup, step=lambda k: {"loss": float("nan") if k == 2 else 1.0})
    s = _session(tmp_path / "run")
    with pytest.raises(RunDirectoryError, match=r"stage 'diffusion', step 2: \['loss'\] became \[nan\]"):
        train_stages(s, [stage])
