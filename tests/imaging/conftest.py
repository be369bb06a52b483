"""Fixtures of the imaging tests: tiny labelled phantoms (16^3) and tiny model configs."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from imaging_helpers import tiny_config


@pytest.fixture(autouse=True)
def _seed_and_threads() -> None:
    import torch

    from medsynth.core.runtime import seed_everything

    torch.set_num_threads(1)
    seed_everything(0)


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six paired 16^3 phantoms (ct/, mr/, labels/) and labels.csv (lesion / no_lesion per case)."""
    from medsynth.io.nifti import read_nifti
    from medsynth.io.phantoms import PhantomConfig, write_phantoms

    root = tmp_path_factory.mktemp("imaging") / "phantoms"
    paths = write_phantoms(root, 6, seed=3, config=PhantomConfig(shape=(16, 16, 16), spacing=(4.0, 4.0, 4.0), lesion_probability=0.5))
    rows = []
    for p in paths["labels"]:
        has = bool((read_nifti(p).array == 5).any())
        rows.append((p.name, "lesion" if has else "no_lesion"))
    if len({lab for _, lab in rows}) < 2:  # keep both classes present whatever the generator drew
        rows[0] = (rows[0][0], "no_lesion" if rows[0][1] == "lesion" else "lesion")
    with open(root / "labels.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "label"])
        w.writerows(rows)
    return root


@pytest.fixture(scope="session")
def trained(phantom_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One tiny class-conditional CT model of each kind, trained once, saved in its run directory."""
    import torch

    from medsynth.core.registry import SYNTHESIZERS, resolve

    torch.set_num_threads(1)
    out = {}
    for kind in ("vae3d", "gan3d"):
        run = tmp_path_factory.mktemp(kind) / "run"
        cfg = tiny_config(kind, train={"sample_every": 2})
        model = resolve(SYNTHESIZERS, kind)(cfg).fit(phantom_dir / "ct", out=run, labels_csv=phantom_dir / "labels.csv")
        out[kind] = {"model": model, "run": run}
    return out
