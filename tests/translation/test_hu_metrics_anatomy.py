"""Known answers of the HU metrics (MS-SSIM, bone Dice, tissue errors), the MR physics of the real-anatomy
simulation, and case pairing in ``evaluate translation``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medsynth.core.errors import DataValidationError
from medsynth.evaluation import hu_metrics as hm
from medsynth.evaluation.translation import case_name, evaluate_translation
from medsynth.io.nifti import write_nifti
from medsynth.io.phantoms import (
    ANATOMY_TISSUES,
    RELAXATION_1P5T,
    AnatomyMRConfig,
    ct_tissue_fractions,
    simulate_mr,
    spin_echo_signal,
    tissue_signals,
)
from medsynth.io.volume import Volume


def _ct(seed: int = 0, shape: tuple[int, int, int] = (40, 36, 12)) -> np.ndarray:
    """A small CT-like slab: air around an ellipse of soft tissue with a fat rim, a bone ring and a gas bubble."""
    ii, jj = np.meshgrid(np.linspace(-1, 1, shape[0]), np.linspace(-1, 1, shape[1]), indexing="ij")
    r = np.sqrt((ii / 0.85) ** 2 + (jj / 0.75) ** 2)
    ct = np.full(shape[:2], -1000.0)
    ct[r < 1.0] = -100.0
    ct[r < 0.8] = 45.0
    rb = np.sqrt((ii + 0.1) ** 2 + (jj + 0.35) ** 2)
    ct[rb < 0.3] = 250.0
    ct[(rb >= 0.12) & (rb < 0.3)] = 1500.0  # dense cortex (pure cortical bone is above the 1200 HU anchor)
    ct[np.sqrt((ii - 0.3) ** 2 + (jj - 0.2) ** 2) < 0.2] = -1000.0
    rng = np.random.default_rng(seed)
    return np.repeat(ct[:, :, None], shape[2], 2) + rng.normal(0, 10, shape)


def test_ms_ssim_known_answers():
    ref = _ct()
    body = ref > -500
    assert hm.ms_ssim_hu(ref, ref, body) == pytest.approx(1.0)
    noisy = ref + np.random.default_rng(1).normal(0, 100, ref.shape)
    worse = ref + np.random.default_rng(1).normal(0, 300, ref.shape)
    a, b = hm.ms_ssim_hu(noisy, ref, body), hm.ms_ssim_hu(worse, ref, body)
    assert 0 < b < a < 1
    # SynthRAD's convention drops luminance: a constant offset costs MS-SSIM almost nothing, unlike MAE
    assert hm.ms_ssim_hu(ref + 50, ref, body) > 0.99 and hm.mae_hu(ref + 50, ref, body) == pytest.approx(50.0)
    assert hm.ms_ssim_hu(ref + 200, ref, body, luminance=True) < hm.ms_ssim_hu(ref + 200, ref, body)


def test_bone_dice_and_tissue_errors():
    ref = _ct()
    body = ref > -500
    assert hm.bone_dice(ref, ref, body) == 1.0
    no_bone = np.where(ref > 250, 100.0, ref)
    assert hm.bone_dice(no_bone, ref, body) == 0.0
    assert hm.bone_share(no_bone, body) == 0.0 < hm.bone_share(ref, body)
    half = ref.copy()
    half[:20][half[:20] > 250] = 100.0  # bone lost in one half
    n_ref, n_half = (ref[body] > 250).sum(), (half[body] > 250).sum()
    assert hm.bone_dice(half, ref, body) == pytest.approx(2 * n_half / (n_ref + n_half))
    labels = np.digitize(ref, [-500, 150])  # 0 air, 1 soft, 2 bone
    e = hm.tissue_errors(ref + np.where(labels == 2, -80.0, 0.0), ref, labels, {0: "air", 1: "soft", 2: "bone"})
    assert e["mae"]["bone"] == pytest.approx(80.0) and e["bias"]["bone"] == pytest.approx(-80.0) and e["mae"]["soft"] == 0.0


def test_tissue_fractions_mix_neighbouring_anchors():
    hu = np.array([-1200.0, -1000.0, -100.0, -47.5, 45.0, 772.5, 3000.0])
    f, labels = ct_tissue_fractions(hu)
    np.testing.assert_allclose(f.sum(0), 1.0, atol=1e-6)
    names = [ANATOMY_TISSUES[i] for i in labels]
    assert names[:3] == ["air", "air", "fat"] and names[4] == "soft_tissue" and names[-1] == "cortical_bone"
    fat, fluid, soft, marrow, cortex = (ANATOMY_TISSUES.index(t) for t in ("fat", "fluid", "soft_tissue", "marrow", "cortical_bone"))
    assert f[fat, 3] == pytest.approx(0.5) and f[fluid, 3] == pytest.approx(0.5)  # halfway between -100 and 5 HU
    assert f[soft, 5] == pytest.approx(0.5) and f[cortex, 5] == pytest.approx(0.5)  # outside bone: soft tissue + mineral
    inside = ct_tissue_fractions(np.array([30.0, 250.0, 765.0]), bone=np.ones(3, dtype=bool))[0]
    assert inside[marrow, 0] == pytest.approx(1.0)  # the marrow space of a vertebral body
    assert inside[marrow, 1] == pytest.approx(1 - 220 / 1470) and inside[cortex, 2] == pytest.approx(0.5)


def test_spin_echo_physics_orders_the_tissues():
    t1 = dict(zip(ANATOMY_TISSUES, tissue_signals(contrast="T1")))
    t2 = dict(zip(ANATOMY_TISSUES, tissue_signals(contrast="T2")))
    # T1: fat brightest, marrow > soft tissue > free fluid; bone, lung and air dark
    assert t1["fat"] > t1["marrow"] > t1["soft_tissue"] > t1["fluid"] > 10 * max(t1["cortical_bone"], t1["lung"], t1["air"])
    assert t2["fluid"] > t2["fat"] > t2["soft_tissue"]  # T2: fluid brightest
    assert spin_echo_signal(RELAXATION_1P5T["fat"], "T1") == pytest.approx(t1["fat"])


def test_simulated_mr_is_registered_and_physical():
    ct = Volume(_ct().astype(np.float32), np.diag([3.0, 3.0, 3.0, 1.0]), modality="CT")
    case = simulate_mr(ct, seed=3)
    assert case.mr.same_grid(ct) and case.labels.same_grid(ct) and case.mr.modality == "MR"
    mr, lab = case.mr.array, case.labels.array
    from scipy.ndimage import binary_erosion

    cores = {t: binary_erosion((lab == i) & case.body, np.ones((3, 3, 1))) for i, t in enumerate(ANATOMY_TISSUES)}
    med = {t: float(np.median(mr[c])) for t, c in cores.items() if c.sum() > 20}
    assert med["fat"] > med["marrow"] > med["soft_tissue"] > 3 * med["cortical_bone"]  # T1: marrow bright, cortex dark
    assert med["soft_tissue"] > 3 * med["air"]  # gas inside the body is dark
    assert float(np.median(mr[~case.body])) < 60  # Rician noise floor outside
    again = simulate_mr(ct, seed=3).mr.array
    assert np.array_equal(mr, again) and not np.array_equal(mr, simulate_mr(ct, seed=4).mr.array)
    t2 = simulate_mr(ct, seed=3, config=AnatomyMRConfig(contrast="T2", bias_strength=0.0)).mr.array
    assert np.median(t2[lab == ANATOMY_TISSUES.index("fat")]) < np.median(mr[lab == ANATOMY_TISSUES.index("fat")])


def test_case_names_pair_sct_outputs(tmp_path: Path):
    assert case_name(Path("a/case_000_sct.nii.gz"), predicted=True) == "case_000"
    assert case_name(Path("case_000_sct.nii.gz")) == "case_000_sct"
    aff = np.diag([3.0, 3.0, 3.0, 1.0])
    ref = _ct()
    labels = np.digitize(ref, [-500, 150]).astype(np.uint8)
    write_nifti(Volume(ref, aff, modality="CT"), tmp_path / "ct" / "p1.nii.gz")
    write_nifti(Volume(ref + 20, aff, modality="CT"), tmp_path / "sct" / "p1_sct.nii.gz")
    write_nifti(Volume(labels, aff, modality="SEG"), tmp_path / "lab" / "p1.nii.gz")
    (tmp_path / "lab" / "tissues.json").write_text(json.dumps({"0": "air", "1": "soft", "2": "bone"}))
    rep = evaluate_translation(tmp_path / "sct", tmp_path / "ct", labels=tmp_path / "lab")
    assert rep.metric("translation_mae_soft_hu").value == pytest.approx(20.0, abs=0.6)
    assert rep.metric("translation_ms_ssim").value > 0.95 and rep.metric("translation_bone_dice").value > 0.9
    # both p1.nii.gz and p1_sct.nii.gz in the predicted folder: ambiguous, refused
    write_nifti(Volume(ref, aff, modality="CT"), tmp_path / "sct" / "p1.nii.gz")
    with pytest.raises(DataValidationError, match="both case 'p1'"):
        evaluate_translation(tmp_path / "sct", tmp_path / "ct")
    (tmp_path / "sct" / "p1.nii.gz").unlink()
    nan = ref.copy()
    nan[20, 18, 5] = np.nan
    write_nifti(Volume(nan.astype(np.float32), aff, modality="CT"), tmp_path / "sct" / "p1_sct.nii.gz", dtype="float32")
    with pytest.raises(DataValidationError, match="1 non-finite voxel"):
        evaluate_translation(tmp_path / "sct", tmp_path / "ct")


def test_body_mask_keeps_limbs_and_drops_a_couch():
    from medsynth.io.phantoms import clean_body_mask

    fg = np.zeros((80, 60, 6), dtype=bool)
    ii, jj = np.meshgrid(np.arange(80), np.arange(60), indexing="ij")
    trunk = ((ii - 40) / 22) ** 2 + ((jj - 30) / 16) ** 2 <= 1
    arms = [((ii - c) / 5) ** 2 + ((jj - 30) / 5) ** 2 <= 1 for c in (8, 72)]
    couch = (jj >= 50) & (jj <= 52) & (ii >= 5) & (ii <= 75)  # a wide thin plate under the patient
    hole = ((ii - 40) / 6) ** 2 + ((jj - 30) / 4) ** 2 <= 1  # gas inside: filled
    for k in range(6):
        fg[:, :, k] = (trunk & ~hole) | arms[0] | arms[1] | couch
    fg[3, 3, 3] = True  # a speck
    body = clean_body_mask(fg, np.diag([2.0, 2.0, 3.0, 1.0]))
    assert body[:, :, 2][trunk].all() and body[:, :, 2][hole].all()
    assert body[:, :, 2][arms[0]].mean() > 0.9 and body[:, :, 2][arms[1]].mean() > 0.9
    assert not body[:, :, 2][couch].any() and not body[3, 3, 3]
