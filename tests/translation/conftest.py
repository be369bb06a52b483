"""Fixtures for the translation tests: tiny paired phantoms and tiny CycleGAN configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from medsynth.io.phantoms import PhantomConfig, write_phantoms
from medsynth.io.volume import Volume

#: Smallest networks that still exercise every layer type (a fit step takes well under a second).
TINY_NETS: dict[str, Any] = {
    "generator": {"base_channels": 4, "n_res_blocks": 1, "n_down": 2},
    "discriminator": {"channels": 4, "num_layers": 2},
    "optim": {"pool_size": 4},
}
PATCHES = {2: [16, 16], 2.5: [16, 16], 3: [16, 16, 8]}


def tiny_config(spatial_dims: float = 2, **sections: dict[str, Any]) -> dict[str, Any]:
    """A tiny CycleGAN config mapping for ``spatial_dims``; ``sections`` update its sub-mappings."""
    cfg: dict[str, Any] = {
        "spatial_dims": spatial_dims,
        **{k: dict(v) for k, v in TINY_NETS.items()},
        "data": {"patch_size": PATCHES[spatial_dims], "context_slices": 1},
        "inference": {"sw_batch_size": 4},
        "train": {"max_steps": 3, "batch_size": 2, "device": "cpu", "checkpoint_every": 2, "log_every": 1, "seed": 0},
    }
    if spatial_dims == 3:
        cfg["discriminator"]["num_layers"] = 1
    for key, value in sections.items():
        cfg.setdefault(key, {}).update(value)
    return cfg


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four paired phantoms, 24^3 at 2 mm: DIR/{ct,mr,labels}/case_00X.nii.gz."""
    out = tmp_path_factory.mktemp("translation") / "phantoms"
    write_phantoms(out, 4, seed=7, config=PhantomConfig(shape=(24, 24, 24), spacing=(2.0, 2.0, 2.0)))
    return out


@pytest.fixture(scope="session")
def mr_volume(phantom_dir: Path) -> Volume:
    """One phantom MR put on an awkward grid: LPS orientation, anisotropic spacing, non-cubic shape."""
    from medsynth.io.nifti import read_nifti

    mr = read_nifti(phantom_dir / "mr" / "case_000.nii.gz", modality="MR")
    arr = mr.array[:, 2:22, 3:21]  # (24, 20, 18)
    affine = np.diag([-1.5, -2.0, 3.0, 1.0])
    affine[:3, 3] = [40.0, 30.0, -20.0]
    return Volume(arr.copy(), affine, modality="MR", meta={"source": "awkward_mr"})


@pytest.fixture(scope="session")
def trained_2d(phantom_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A tiny 2D translator trained for 3 steps (shared by tests that only translate)."""
    from medsynth.translation.cyclegan import CycleGANTranslator

    run = tmp_path_factory.mktemp("trained") / "run"
    return CycleGANTranslator(tiny_config(2)).fit(phantom_dir / "mr", phantom_dir / "ct", out=run)


@pytest.fixture
def make_config():
    """:func:`tiny_config` as a fixture (test modules here are not a package)."""
    return tiny_config
