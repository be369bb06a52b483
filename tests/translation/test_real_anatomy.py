"""The MR simulated from a real CT (the real-anatomy benchmark's known answer) has the contrast of a T1 spin echo."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsynth.io.loading import load_volume
from medsynth.io.phantoms import ANATOMY_TISSUES, simulate_mr
from medsynth.translation.data import ct_body_mask


def test_mr_simulated_from_real_ct_has_t1_contrast(real_ct_nifti: Path):
    from scipy.ndimage import binary_erosion

    ct = load_volume(real_ct_nifti, modality="CT")
    case = simulate_mr(ct, seed=0, body=ct_body_mask(ct.array, ct.affine))
    assert case.mr.same_grid(ct) and case.labels.same_grid(ct)
    lab, mr = case.labels.array, case.mr.array
    shares = {t: float((lab[case.body] == i).mean()) for i, t in enumerate(ANATOMY_TISSUES)}
    assert shares["fat"] > 0.1 and shares["soft_tissue"] + shares["fluid"] > 0.2 and 0.005 < shares["marrow"] < 0.1
    core = {t: binary_erosion((lab == i) & case.body, np.ones((3, 3, 1))) for i, t in enumerate(ANATOMY_TISSUES)}
    med = {t: float(np.median(mr[c])) for t, c in core.items() if c.sum() >= 30}
    # T1 spin echo: fat brightest, then marrow, soft tissue, free fluid; gas in the bowel dark
    assert med["fat"] > med["marrow"] > med["soft_tissue"] > med["fluid"] > 2 * med["air"]
    # bone (HU > 250) is darker on MR than the marrow it holds: the mineral has no signal
    bone = case.body & (ct.array > 600)
    assert bone.sum() > 50 and float(np.median(mr[bone])) < med["marrow"]
    assert float(np.median(mr[~case.body])) < 60  # the couch and the air around the body are not in the MR


def test_ct_body_mask_keeps_the_arms_not_the_couch(real_ct_dicom: Path):
    ct = load_volume(real_ct_dicom, modality="CT")
    body = ct_body_mask(ct.array, ct.affine)
    k = ct.array.shape[2] // 2
    tissue = ct.array[:, :, k] > -300
    n = tissue.shape[0]
    for side in (slice(0, n // 6), slice(n - n // 6, n)):  # the arms lie beside the trunk, one on each side
        assert tissue[side].sum() > 1000 and (body[:, :, k][side] & tissue[side]).sum() >= 0.95 * tissue[side].sum()
    # the couch (curved plates under the patient, above -500 HU) is left out of the body
    couch = (ct.array[:, :, k] > -500) & ~body[:, :, k]
    assert couch.sum() > 2000
