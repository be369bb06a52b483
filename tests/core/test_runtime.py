from __future__ import annotations

import pytest
import torch

from medsynth.core.errors import ConfigError
from medsynth.core.runtime import autocast, init_distributed, resolve_device, seed_everything


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    auto = resolve_device("auto")
    assert auto.type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="not a device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_autocast_is_noop_on_cpu_and_bf16_on_cuda():
    x = torch.randn(4, 4)
    with autocast(torch.device("cpu")):
        assert (x @ x).dtype == torch.float32
    if torch.cuda.is_available():
        y = x.cuda()
        with autocast(torch.device("cuda")):
            assert (y @ y).dtype == torch.bfloat16


def test_seeding_is_reproducible():
    seed_everything(7)
    a = torch.randn(5)
    seed_everything(7)
    assert torch.equal(a, torch.randn(5))
    with pytest.raises(ConfigError):
        seed_everything(-1)


def test_init_distributed_is_noop_without_torchrun(monkeypatch: pytest.MonkeyPatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    ctx = init_distributed(torch.device("cpu"))
    assert ctx.world_size == 1 and ctx.is_main and not ctx.is_distributed
