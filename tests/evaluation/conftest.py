"""Fixtures of the evaluation tests: small mixed tables, flchain splits, tiny phantom volume folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

XSS = "<script>alert(1)</script>"


def mixed_table(n: int, seed: int) -> pd.DataFrame:
    """A small mixed-type table: numbers, categories (one named like an XSS payload), missing cells."""
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n).round()
    sex = rng.choice(["F", "M"], n)
    stage = rng.choice(["I", "II", "III", XSS], n, p=[0.4, 0.3, 0.2, 0.1])
    lab = np.exp(rng.normal(0, 0.5, n)) + 0.02 * age
    lab[rng.random(n) < 0.1] = np.nan
    logit = 0.05 * (age - 60) + (stage == "III") * 1.0 + rng.normal(0, 1, n)
    return pd.DataFrame({"age": age, "sex": sex, "stage": stage, "lab": lab, "event": (logit > 0.3).astype(int)})


@pytest.fixture(scope="session")
def small_tables() -> dict[str, pd.DataFrame]:
    """Train / holdout / independent synthetic (real-like) / 50%-copied synthetic, 300 rows each."""
    df = mixed_table(1200, seed=1)
    train, holdout, rest = df.iloc[:300], df.iloc[300:600], df.iloc[600:]
    copied = pd.concat([train.sample(150, random_state=0), rest.iloc[:150]]).sample(frac=1, random_state=1)
    return {"train": train, "holdout": holdout, "independent": rest.iloc[300:600], "copied": copied}


@pytest.fixture(scope="session")
def flchain_split(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """flchain.csv split into disjoint real train (3000) / holdout (2000) / independent sample (2000),
    plus a 'synthetic' set that is 50% copied training rows; written as CSVs."""
    src = shared_data / "tabular" / "flchain.csv"
    if not src.is_file():
        pytest.skip(f"{src} is absent")
    df = pd.read_csv(src).sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, holdout, rest = df.iloc[:3000], df.iloc[3000:5000], df.iloc[5000:]
    independent = rest.iloc[:2000]
    copied = pd.concat([train.sample(1000, random_state=1), rest.iloc[2000:3000]]).sample(frac=1.0, random_state=2)
    out = tmp_path_factory.mktemp("flchain")
    paths = {}
    for name, t in (("train", train), ("holdout", holdout), ("independent", independent), ("copied", copied)):
        paths[name] = out / f"{name}.csv"
        t.to_csv(paths[name], index=False)
    return paths


@pytest.fixture(scope="session")
def volume_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny CT phantom folders: train (4), holdout (3), synthetic with 2 near copies of train + 2 new,
    and an independent synthetic set (3 new phantoms); plus labels for translation tests."""
    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom

    root = tmp_path_factory.mktemp("volumes")
    cfg = PhantomConfig(shape=(24, 24, 24), spacing=(5.0, 5.0, 5.0))
    rng = np.random.default_rng(0)

    def put(role: str, name: str, seed: int, noise: float = 0.0) -> None:
        ph = make_phantom(seed, cfg)
        ct = ph.ct.with_array(ph.ct.array + rng.normal(0, noise, ph.ct.array.shape).astype(np.float32)) if noise else ph.ct
        write_nifti(ct, root / role / name)
        if role in ("train", "holdout"):
            write_nifti(ph.labels, root / f"{role}_labels" / name)

    for i in range(4):
        put("train", f"case_{i:03d}.nii.gz", i)
    for i in range(3):
        put("holdout", f"case_{i:03d}.nii.gz", 100 + i)
    for i in range(2):
        put("copied", f"syn_{i:03d}.nii.gz", i, noise=15.0)
    for i in range(2, 4):
        put("copied", f"syn_{i:03d}.nii.gz", 200 + i)
    for i in range(3):
        put("independent", f"syn_{i:03d}.nii.gz", 300 + i)
    return {k: root / k for k in ("train", "holdout", "copied", "independent", "train_labels", "holdout_labels")}
