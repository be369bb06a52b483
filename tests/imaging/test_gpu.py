"""On a CUDA GPU (``pytest -m gpu``; benchmarks/gpu_suite.py runs these first): every imaging model trains
with bf16 autocast, samples deterministically on the GPU, and a GPU-trained model loads and samples on CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from imaging_helpers import tiny_config

from medsynth.core.registry import SYNTHESIZERS, resolve

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.mark.parametrize("kind", ["vae3d", "gan3d", "ldm3d"])
def test_train_bf16_sample_on_gpu_and_load_on_cpu(kind: str, phantom_dir: Path, tmp_path: Path):
    cls = resolve(SYNTHESIZERS, kind)
    cfg = tiny_config(kind, train={"device": "cuda", "precision": "bf16", "max_steps": 3})
    extra = {"labels_dir": phantom_dir / "labels"} if kind == "ldm3d" else {}
    model = cls(cfg).fit(phantom_dir / "ct", out=tmp_path / "run", labels_csv=phantom_dir / "labels.csv", **extra)
    assert all(p.device.type == "cuda" for net in model.nets.values() for p in net.parameters())
    a = model.sample(2, seed=5, label="lesion")
    b = model.sample(2, seed=5, label="lesion")
    assert all(np.isfinite(v.array).all() for v in a)
    assert all(np.allclose(x.array, y.array, atol=1.0) for x, y in zip(a, b))  # HU; same seed, same volume
    on_cpu = cls.load(tmp_path / "run", device="cpu")
    c = on_cpu.sample(1, seed=5, label="lesion")
    assert c[0].spatial_shape == (16, 16, 16) and np.isfinite(c[0].array).all()
    if kind == "ldm3d":
        pairs = model.sample_pairs(model.new_masks(2, seed=0), seed=0)
        assert pairs[0].image.same_grid(pairs[0].label)


def test_autocast_is_bf16_on_cuda():
    from medsynth.core.runtime import autocast

    x = torch.randn(8, 8, device="cuda")
    with autocast(torch.device("cuda"), "auto"):
        assert (x @ x).dtype == torch.bfloat16
    with autocast(torch.device("cuda"), "fp32"):
        assert (x @ x).dtype == torch.float32
