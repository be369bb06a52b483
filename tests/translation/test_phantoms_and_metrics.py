"""The phantom pairs carry the documented values per tissue; the sCT metrics have known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import distance_transform_edt

from medsynth.evaluation import hu_metrics as metrics
from medsynth.io.phantoms import CT_HU, MR_T1, TISSUES, PhantomConfig, make_phantom


@pytest.mark.parametrize("seed", [0, 11])
def test_phantom_ct_has_documented_hu_per_tissue(seed: int):
    ph = make_phantom(seed, PhantomConfig(shape=(64, 64, 64)))
    labels, ct, mr = ph.labels.array, ph.ct.array, ph.mr.array
    assert ph.ct.same_grid(ph.mr) and ph.ct.same_grid(ph.labels)
    means_mr = {}
    from_air = distance_transform_edt(labels != 0)
    for label, tissue in enumerate(TISSUES):
        # Away from partial-volume edges: 1.5 voxels inside the tissue and 2 from air (the largest step).
        # The fat layer is only 1-3 voxels thick at 64^3, so its core can be small or empty.
        core = distance_transform_edt(labels == label) >= (2.0 if label == 0 else 1.5)
        if label:
            core &= from_air >= 2.0
        if core.sum() < 20:
            continue
        mean, jitter = CT_HU[tissue]
        noise = 12.0 if tissue != "air" else 0.0
        tol = jitter + 4 * noise / np.sqrt(core.sum()) + 3.0
        assert abs(ct[core].mean() - mean) <= tol, f"{tissue}: {ct[core].mean():.1f} HU, documented {mean} +- {jitter}"
        if tissue != "air":
            assert 0.5 * noise < ct[core].std() < 2.0 * noise + jitter
        means_mr[tissue] = float(np.median(mr[core]))
    # T1 contrast order (fat brightest, bone darkest in the body), robust to the +-20% bias field.
    order = [t for t in ("fat", "organ", "soft_tissue", "bone") if t in means_mr]
    assert [means_mr[t] for t in order] == sorted((means_mr[t] for t in order), reverse=True)
    assert "soft_tissue" in means_mr and "bone" in means_mr
    if "fat" in means_mr:
        assert means_mr["fat"] == pytest.approx(MR_T1["fat"], rel=0.3)


def test_metrics_known_answers():
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 100, (20, 20, 10)).astype(np.float32)
    mask = np.ones(ref.shape, dtype=bool)
    assert metrics.mae_hu(ref, ref, mask) == 0
    assert metrics.psnr_hu(ref, ref, mask) == float("inf")
    assert metrics.ssim_hu(ref, ref, mask) == pytest.approx(1.0)
    assert metrics.mae_hu(ref + 50, ref, mask) == pytest.approx(50.0)
    assert metrics.psnr_hu(ref + 50, ref, mask) == pytest.approx(20 * np.log10(4024 / 50))
    d = metrics.slice_discontinuity(ref, ref, mask)
    assert d["excess_mad"] == 0 and d["pred_mad"] == d["ref_mad"] > 0
    jumpy = ref + np.where(np.arange(10) % 2 == 0, 30.0, -30.0)[None, None, :]
    assert metrics.slice_discontinuity(jumpy, ref, mask)["excess_mad"] == pytest.approx(60.0)


def test_hu_peaks_find_each_tissue():
    rng = np.random.default_rng(1)
    v = np.concatenate([rng.normal(-1000, 5, 5000), rng.normal(-100, 10, 2000), rng.normal(40, 10, 8000), rng.normal(700, 50, 1000)])
    p = metrics.hu_peaks(v)
    assert abs(p["air_peak_hu"] + 1000) <= 10 and abs(p["fat_peak_hu"] + 100) <= 10
    assert abs(p["soft_tissue_peak_hu"] - 40) <= 10 and abs(p["bone_peak_hu"] - 700) <= 60
    assert p["soft_tissue_fraction"] > p["bone_fraction"] > 0
