"""The phantom generator: documented HU and MR contrast per tissue, determinism, files on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from medsynth.io import read_nifti
from medsynth.io.phantoms import CT_HU, MR_T1, MR_T2, TISSUES, PhantomConfig, make_phantom, write_phantoms


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ct_hu_per_tissue_matches_the_documented_table(seed: int):
    ph = make_phantom(seed, PhantomConfig(shape=(48, 48, 48)))
    labels = ph.labels.array
    assert ph.ct.units == "HU" and ph.ct.modality == "CT"
    for idx, tissue in enumerate(TISSUES):
        core = binary_erosion(labels == idx, iterations=2)
        if core.sum() < 20:
            continue  # e.g. no lesion in this case
        mean, jitter = CT_HU[tissue]
        measured = float(ph.ct.array[core].mean())
        assert abs(measured - mean) <= jitter + 8, f"{tissue}: {measured:.1f} HU, documented {mean}+-{jitter}"
        noise = float(ph.ct.array[core].std())
        if tissue != "air":
            assert 5 < noise < 25, f"{tissue} noise {noise:.1f} HU"


def test_anatomy_has_every_main_tissue():
    for seed in range(4):
        labels = make_phantom(seed, PhantomConfig(shape=(32, 32, 32), lesion_probability=1.0)).labels.array
        present = set(np.unique(labels).tolist())
        assert {0, 1, 2, 3, 4} <= present
        body_fraction = float((labels > 0).mean())
        assert 0.15 < body_fraction < 0.7


@pytest.mark.parametrize("contrast,table", [("T1", MR_T1), ("T2", MR_T2)])
def test_mr_contrast_order_follows_the_table(contrast: str, table: dict[str, float]):
    ph = make_phantom(5, PhantomConfig(shape=(64, 64, 64), mr_contrast=contrast, bias_strength=0.1))
    labels = ph.labels.array
    means = {}
    for idx, tissue in enumerate(TISSUES[:5]):
        core = binary_erosion(labels == idx, iterations=1)
        means[tissue] = float(ph.mr.array[core].mean())
    order = sorted(means, key=means.get)
    assert order == sorted(means, key=lambda t: table[t]), (means, contrast)
    assert means["air"] < 60  # Rician noise floor only


def test_deterministic_and_seed_sensitive():
    a, b, c = make_phantom(11), make_phantom(11), make_phantom(12)
    assert np.array_equal(a.ct.array, b.ct.array) and np.array_equal(a.mr.array, b.mr.array)
    assert not np.array_equal(a.labels.array, c.labels.array)


def test_write_phantoms_layout(tmp_path: Path):
    paths = write_phantoms(tmp_path / "ph", 2, seed=4, config=PhantomConfig(shape=(16, 16, 16), spacing=(3.0, 3.0, 3.0)))
    assert [p.name for p in paths["ct"]] == ["case_000.nii.gz", "case_001.nii.gz"]
    for kind in ("ct", "mr", "labels"):
        assert len(list((tmp_path / "ph" / kind).glob("*.nii.gz"))) == 2
    ct = read_nifti(paths["ct"][1])
    assert ct.modality == "CT" and ct.spacing == (3.0, 3.0, 3.0)
    again = make_phantom(5, PhantomConfig(shape=(16, 16, 16), spacing=(3.0, 3.0, 3.0)))
    assert np.array_equal(ct.array, np.rint(again.ct.array))  # case i is seed + i
