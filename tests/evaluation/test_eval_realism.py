"""Image realism is judged (issue 13) and degenerate audit inputs are refused or reviewed (issue 16)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from medsynth.core.errors import DataValidationError
from medsynth.evaluation import EvaluationConfig, evaluate_images
from medsynth.evaluation.detection import detection_auc, hanley_mcneil_se, sklearn_fit_predict

FAST = {"images": {"feature_size": 16, "msssim_max_pairs": 3, "detection_steps": 40}}


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """16^3 CT phantom tiles: train (12), holdout (12), independent real (12), Gaussian-blurred real (12), label maps."""
    from scipy.ndimage import gaussian_filter

    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom

    root = tmp_path_factory.mktemp("tiles")
    cfg = PhantomConfig(shape=(16, 16, 16), spacing=(4.0, 4.0, 4.0))
    for role, base in (("train", 0), ("holdout", 100), ("independent", 200), ("blurred", 300)):
        for i in range(12):
            ph = make_phantom(base + i, cfg)
            ct = ph.ct.with_array(gaussian_filter(ph.ct.array, 1.2)) if role == "blurred" else ph.ct
            write_nifti(ct, root / role / f"case_{i:03d}.nii.gz")
            write_nifti(ph.labels, root / f"{role}_labels" / f"case_{i:03d}.nii.gz")
    return {p.name: p for p in root.iterdir()}


def test_shared_detection_protocol_separates_and_does_not():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    a, b, shifted = rng.normal(size=(60, 3)), rng.normal(size=(60, 3)), rng.normal(size=(60, 3)) + 2.0
    fp = sklearn_fit_predict(lambda: LogisticRegression())
    same = detection_auc(a, b, fp, folds=3, seed=0)
    apart = detection_auc(a, shifted, fp, folds=3, seed=0)
    assert abs(same.auc - 0.5) < 0.15 and apart.auc > 0.95
    assert apart.lower_bound() > 0.85 and same.lower_bound() < 0.5
    assert hanley_mcneil_se(1.0, 10, 10) == 0.0 and 0.05 < hanley_mcneil_se(0.8, 20, 20) < 0.1
    with pytest.raises(ValueError, match="cannot fill 3"):
        detection_auc(a[:2], b[:2], fp, folds=3)


def test_blurred_real_tiles_do_not_pass_but_real_tiles_do(tiles: dict[str, Path]):
    cfg = EvaluationConfig.model_validate({**FAST, "metrics": ["detection_image", "feature_distances", "memorisation"]})
    cfg.images.detection_baseline = False  # the real-vs-real baseline is checked below, once
    blurred = evaluate_images(tiles["train"], tiles["holdout"], tiles["blurred"], config=cfg)
    det = blurred.metric("detection_auc_image")
    assert det.value > 0.9 and det.verdict in ("review", "fail")
    assert blurred.sections["fidelity"]["verdict"] in ("review", "fail") and blurred.verdict != "pass"
    # FID of random features is information, not the judge (it can prefer blur, as the issue found)
    assert blurred.metric("fid").verdict == "info"
    cfg.images.detection_baseline = True
    real = evaluate_images(tiles["train"], tiles["holdout"], tiles["independent"], config=cfg)
    det = real.metric("detection_auc_image")
    assert det.verdict == "pass" and det.judged_value < 0.7
    assert 0.2 < det.details["real_vs_real_auc"] < 0.8  # the baseline: training vs holdout volumes
    assert real.sections["fidelity"]["verdict"] == "pass"


def test_tissue_intensities_with_label_maps(tiles: dict[str, Path], tmp_path: Path):
    from medsynth.io.nifti import read_nifti, write_nifti

    cfg = EvaluationConfig.model_validate({**FAST, "metrics": ["tissue_intensities"]})
    ok = evaluate_images(tiles["train"], tiles["holdout"], tiles["independent"], config=cfg, train_labels=tiles["train_labels"],
                         holdout_labels=tiles["holdout_labels"], synthetic_labels=tiles["independent_labels"],
                         tissue_names={1: "fat", 2: "soft_tissue", 3: "organ", 4: "bone", 5: "lesion"})
    m = ok.metric("tissue_intensity_shift")
    assert m.verdict == "pass" and set(m.details["tissues"]) >= {"fat", "soft_tissue", "bone"}
    # bone 300 HU too dark in every synthetic volume: that tissue fails
    dark = tmp_path / "dark"
    for f in sorted(tiles["independent"].iterdir()):
        v = read_nifti(f)
        lab = read_nifti(tiles["independent_labels"] / f.name).array
        write_nifti(v.with_array(np.where(lab == 4, v.array - 300.0, v.array).astype(np.float32)), dark / f.name)
    bad = evaluate_images(tiles["train"], tiles["holdout"], dark, config=cfg, train_labels=tiles["train_labels"],
                          holdout_labels=tiles["holdout_labels"], synthetic_labels=tiles["independent_labels"], tissue_names={4: "bone"})
    m = bad.metric("tissue_intensity_shift")
    assert m.verdict == "fail" and max(m.details["tissues"], key=lambda k: m.details["tissues"][k]["median_shift_iqr"]) == "bone"
    assert m.details["tissues"]["bone"]["synthetic_median"] < m.details["tissues"]["bone"]["real_median"] - 200
    with pytest.raises(DataValidationError, match="has no label map"):
        evaluate_images(tiles["train"], tiles["holdout"], dark, config=cfg, train_labels=tiles["holdout_labels"] / "..")


def test_one_synthetic_volume_is_reviewed_with_the_reason(tiles: dict[str, Path], tmp_path: Path):
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(tiles["independent"] / "case_000.nii.gz", one / "syn.nii.gz")
    report = evaluate_images(tiles["train"], tiles["holdout"], one, mode="audit")
    count = report.metric("synthetic_volume_count")
    assert count.verdict == "review" and "only 1 synthetic volume" in count.note
    assert report.verdict == "review"
    assert any("Only 1 synthetic volume" in n for n in report.notes)
    assert report.metric("memorisation_near_copy_share").verdict == "info"  # no copy found among 1: not a pass
    # ... but a single near copy is evidence enough to fail
    shutil.copy(tiles["train"] / "case_003.nii.gz", one / "syn.nii.gz")
    assert evaluate_images(tiles["train"], tiles["holdout"], one, mode="audit").verdict == "fail"


def test_holdout_identical_to_train_is_refused(tiles: dict[str, Path], tmp_path: Path):
    with pytest.raises(DataValidationError, match="holds exactly the training volumes") as exc:
        evaluate_images(tiles["train"], tiles["train"], tiles["independent"], mode="audit")
    assert "same sha256" in str(exc.value)
    leaky = tmp_path / "leaky"
    shutil.copytree(tiles["holdout"], leaky)
    shutil.copy(tiles["train"] / "case_005.nii.gz", leaky / "case_099.nii.gz")
    with pytest.raises(DataValidationError, match="holdout 'case_099.nii.gz' equals training volume 'case_005.nii.gz'"):
        evaluate_images(tiles["train"], leaky, tiles["independent"], mode="audit")


def test_mr_passed_as_synthetic_ct_is_refused(tiles: dict[str, Path], tmp_path: Path):
    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom

    mr = tmp_path / "mr_as_ct"
    for i in range(12):
        write_nifti(make_phantom(400 + i, PhantomConfig(shape=(16, 16, 16), spacing=(4.0, 4.0, 4.0))).mr, mr / f"syn_{i:03d}.nii.gz")
    with pytest.raises(DataValidationError, match="synthetic volumes do not look like CT in HU"):
        evaluate_images(tiles["train"], tiles["holdout"], mr, mode="audit", modality="CT")
    cfg = EvaluationConfig.model_validate({"images": {"check_modality": False}})
    assert evaluate_images(tiles["train"], tiles["holdout"], mr, mode="audit", modality="CT", config=cfg).verdict in ("pass", "review", "fail")


@pytest.mark.slow
def test_blurred_real_mr_tiles_do_not_pass(shared_data: Path, tmp_path: Path):
    """The issue's case on real anatomy: tiles of real head MR, blurred ones as 'synthetic', are not a pass."""
    from scipy.ndimage import gaussian_filter

    from medsynth.io.loading import load_volume
    from medsynth.io.nifti import write_nifti
    from medsynth.io.volume import Volume, grid_affine

    brains = [shared_data / "imaging" / "pyradiomics" / f"brain{i}_image.nrrd" for i in (1, 2)]
    if not all(b.is_file() for b in brains):
        pytest.skip("real brain MR volumes are absent")
    size = (32, 32, 8)

    def tiles_of(path: Path) -> list[np.ndarray]:
        a = load_volume(path).array.astype(np.float32)
        out = []
        for i in range(0, a.shape[0] - size[0] + 1, size[0]):
            for j in range(0, a.shape[1] - size[1] + 1, size[1]):
                for k in range(0, a.shape[2] - size[2] + 1, size[2]):
                    t = a[i:i + size[0], j:j + size[1], k:k + size[2]]
                    if (t > 0.15 * np.percentile(a, 99)).mean() > 0.8:  # inside the head
                        out.append(t)
        return out

    one, two = tiles_of(brains[0]), tiles_of(brains[1])
    n = min(12, len(one) // 2, len(two) // 2)
    assert n >= 6
    aff = grid_affine((0.78, 0.78, 6.5), size)
    groups = {"train": one[0::2][:n], "holdout": one[1::2][:n], "independent": two[0::2][:n],
              "blurred": [gaussian_filter(t, (1.5, 1.5, 0.5)) for t in two[1::2][:n]]}
    for role, arrs in groups.items():
        for i, t in enumerate(arrs):
            write_nifti(Volume(t, aff, modality="MR"), tmp_path / role / f"tile_{i:03d}.nii.gz", dtype="float32")
    # real tiles vary more than phantoms: the detector needs more steps (the default is 200)
    cfg = EvaluationConfig.model_validate({"images": {"detection_steps": 150}, "metrics": ["detection_image", "feature_distances"]})
    blurred = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "blurred", config=cfg, modality="MR")
    assert blurred.metric("detection_auc_image").verdict in ("review", "fail") and blurred.verdict != "pass"
    real = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "independent", config=cfg, modality="MR")
    assert real.metric("detection_auc_image").judged_value < blurred.metric("detection_auc_image").judged_value


def test_a_pairs_folder_brings_its_label_maps_and_tissue_names(tiles: dict[str, Path], tmp_path: Path):
    from medsynth.imaging.pairs import LabelledVolume, write_pairs
    from medsynth.io.nifti import read_nifti

    pairs = [LabelledVolume(read_nifti(f, modality="CT"), read_nifti(tiles["independent_labels"] / f.name, modality="SEG"))
             for f in sorted(tiles["independent"].iterdir())]
    names = {0: "air", 1: "fat", 2: "soft_tissue", 3: "organ", 4: "bone", 5: "lesion"}
    write_pairs(pairs, tmp_path / "pairs", label_names=names)
    cfg = EvaluationConfig.model_validate({**FAST, "metrics": ["tissue_intensities"]})
    report = evaluate_images(tiles["train"], tiles["holdout"], tmp_path / "pairs", config=cfg, train_labels=tiles["train_labels"])
    m = report.metric("tissue_intensity_shift")
    assert {"fat", "bone", "organ"} <= set(m.details["tissues"])  # names from the pairs' dataset.json
    assert m.verdict == "info" and "--holdout-labels" in m.note  # no real-vs-real reference: no verdict
    assert report.inputs[2]["volumes"] == 12


def test_noise_in_the_middle_of_a_volume_does_not_pass(tmp_path: Path):
    """A data scientist replaced the central 128 mm of real abdominal CTs with noise: detection AUC 0.5, pass. Each
    volume was scored on the patches at its 8 corners (air in a body CT); it is now scored on patches spread over it,
    by the mean of its most synthetic-looking quarter."""
    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom

    cfg_ph = PhantomConfig(shape=(48, 48, 48), spacing=(4.0, 4.0, 4.0))
    rng = np.random.default_rng(0)
    for role, base in (("train", 0), ("holdout", 100), ("junk", 200)):
        for i in range(10):
            ct = make_phantom(base + i, cfg_ph).ct
            arr = np.asarray(ct.array, dtype=np.float32).copy()
            if role == "junk":
                arr[16:32, 16:32, 16:32] = rng.uniform(-1000, 2000, (16, 16, 16))
            write_nifti(ct.with_array(arr), tmp_path / role / f"case_{i:03d}.nii.gz")
    cfg = EvaluationConfig.model_validate({**FAST, "metrics": ["detection_image"]})
    cfg.images.detection_baseline = False
    det = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "junk", config=cfg).metric("detection_auc_image")
    assert det.value > 0.9 and det.verdict != "pass", (det.value, det.verdict)


def test_a_nan_voxel_is_a_named_error(tiles: dict[str, Path], tmp_path: Path):
    """A NaN voxel in an audited folder ended in a traceback from scikit-learn, with exit code 1 (a failed verdict's)."""
    from medsynth.io.nifti import read_nifti, write_nifti

    bad = tmp_path / "nan"
    shutil.copytree(tiles["independent"], bad)
    vol = read_nifti(bad / "case_003.nii.gz")
    arr = np.asarray(vol.array, dtype=np.float32).copy()
    arr[2, 3, 4] = np.nan
    write_nifti(vol.with_array(arr), bad / "case_003.nii.gz", dtype="float32")
    with pytest.raises(DataValidationError, match="case_003.nii.gz' holds 1 voxel"):
        evaluate_images(tiles["train"], tiles["holdout"], bad, mode="audit")


def test_one_mr_among_cts_is_named(tiles: dict[str, Path], tmp_path: Path):
    """A training folder of CTs with one MR passed the audit: the modality check pooled the folder's voxels."""
    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom

    mixed = tmp_path / "mixed"
    shutil.copytree(tiles["independent"], mixed)
    write_nifti(make_phantom(500, PhantomConfig(shape=(16, 16, 16), spacing=(4.0, 4.0, 4.0))).mr, mixed / "zz_mr.nii.gz")
    with pytest.raises(DataValidationError, match="synthetic 'zz_mr.nii.gz'"):
        evaluate_images(tiles["train"], tiles["holdout"], mixed, mode="audit", modality="CT")


def test_a_detector_that_tells_real_holdout_from_real_training_volumes_gives_no_fail(tiles: dict[str, Path]):
    """An imaging researcher: blurred copies of real CT failed detection_auc_image with its real-vs-real baseline at
    1.0 (the holdout itself was told from the training volumes) and no word of it: a good generator would fail there
    too. Such a fail is now a review that says why."""
    cfg = EvaluationConfig.model_validate({**FAST, "metrics": ["detection_image"]})
    # the holdout is the blurred tiles: told from the training tiles as surely as the synthetic (blurred) ones
    det = evaluate_images(tiles["train"], tiles["blurred"], tiles["blurred"], config=cfg).metric("detection_auc_image")
    assert det.details["real_vs_real_auc"] > 0.9 and det.value > 0.9, det.details
    assert det.verdict == "review" and "uninformative" in det.note, (det.verdict, det.note)
