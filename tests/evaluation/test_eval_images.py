"""Image and translation evaluation on tiny phantoms: memorisation, grids, features, translation scores."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from medsynth.core.errors import ConfigError, DataValidationError
from medsynth.evaluation import EvaluationConfig, evaluate_images, evaluate_translation, write_report
from medsynth.evaluation.report import validate_report

FAST = {"images": {"feature_size": 16, "msssim_max_pairs": 3, "detection_steps": 30}}


def test_near_copies_fail_the_image_audit(volume_folders) -> None:
    v = volume_folders
    report = evaluate_images(v["train"], v["holdout"], v["copied"], mode="audit")
    m = report.metric("memorisation_near_copy_share")
    assert m.value == pytest.approx(0.5) and m.verdict == "fail"
    assert {c["nearest_train"] for c in m.details["near_copies"]} == {"case_000.nii.gz", "case_001.nii.gz"}
    assert report.verdict == "fail"
    assert any("Near copies" in f["title"] for f in report.figures["list"])


def test_synthetic_dicom_series_meet_nifti_training_volumes_on_their_grid(volume_folders, tmp_path) -> None:
    """Synthetic volumes written as DICOM read back LPS, the training NIfTIs are RAS: the same grid after a flip, so
    `images.grid: refuse` takes them, and near copies are found as in the NIfTI files."""
    from medsynth.io import read_nifti, write_dicom_series

    v = volume_folders
    syn = tmp_path / "syn"
    for f in sorted(v["copied"].iterdir()):
        write_dicom_series(read_nifti(f, modality="CT"), syn / f.name.replace(".nii.gz", ""))
    cfg = EvaluationConfig.model_validate({**FAST, "images": {**FAST["images"], "grid": "refuse"}})
    report = evaluate_images(v["train"], v["holdout"], syn, mode="audit", config=cfg)
    m = report.metric("memorisation_near_copy_share")
    assert m.value == pytest.approx(0.5) and m.verdict == "fail"
    assert {c["nearest_train"] for c in m.details["near_copies"]} == {"case_000.nii.gz", "case_001.nii.gz"}


def test_independent_volumes_pass_and_full_report(volume_folders, tmp_path) -> None:
    v = volume_folders
    report = evaluate_images(v["train"], v["holdout"], v["independent"], config=EvaluationConfig.model_validate(FAST))
    assert report.metric("memorisation_near_copy_share").value == 0.0
    for name in ("intensity_histogram_tvd", "fid", "kid", "mmd", "msssim_diversity_synthetic", "mia_ncc_auc"):
        assert report.metric(name).value is not None, name
    assert any("random features" in n for n in report.notes)
    paths = write_report(report, tmp_path / "rep")
    validate_report(json.loads(paths["json"].read_text()))
    assert paths["html"].read_text().count("data:image/png;base64,") >= 4


def test_grids_refused_or_resampled(volume_folders, tmp_path) -> None:
    from medsynth.io.nifti import read_nifti, write_nifti
    from medsynth.io.volume import grid_affine

    odd = tmp_path / "odd"
    shutil.copytree(volume_folders["independent"], odd)
    vol = read_nifti(odd / "syn_000.nii.gz")
    write_nifti(vol.with_array(vol.array[:20], affine=grid_affine((5.0, 5.0, 5.0), (20, 24, 24))), odd / "syn_000.nii.gz")
    cfg = EvaluationConfig.model_validate({"images": {"grid": "refuse"}, "metrics": ["memorisation"]})
    with pytest.raises(DataValidationError, match="syn_000.nii.gz: shape \\(20, 24, 24\\)"):
        evaluate_images(volume_folders["train"], volume_folders["holdout"], odd, config=cfg, mode="audit")
    cfg.images.grid = "resample"
    report = evaluate_images(volume_folders["train"], volume_folders["holdout"], odd, config=cfg, mode="audit")
    assert report.metric("memorisation_near_copy_share").value is not None
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="holds no volumes"):
        evaluate_images(volume_folders["train"], tmp_path / "empty", odd)


def test_feature_network_local_weights(tmp_path) -> None:
    import torch

    from medsynth.evaluation.features import build_network, extract, kid

    net, about = build_network(None, seed=0)
    _, again = build_network(None, seed=0)
    assert about == again and "random features" in about["network"]
    # A MedicalNet-style checkpoint: {"state_dict": {"module.<key>": ...}} plus a segmentation head.
    state = {f"module.{k}": v * 0.5 for k, v in net.state_dict().items()}
    state["module.conv_seg.0.weight"] = torch.zeros(1)
    torch.save({"state_dict": state}, tmp_path / "resnet_10.pth")
    net2, about2 = build_network(tmp_path / "resnet_10.pth")
    assert "pretrained" in about2["network"] and about2["weights_fingerprint"] != about["weights_fingerprint"]
    x = np.random.default_rng(0).uniform(-1, 1, (3, 12, 12, 12)).astype(np.float32)
    assert extract(net2, x, 16).shape == (3, 512)
    torch.save({"conv1.weight": torch.zeros(3, 3)}, tmp_path / "bad.pth")
    with pytest.raises(ConfigError, match="do not fit"):
        build_network(tmp_path / "bad.pth")
    f = np.random.default_rng(1).normal(size=(20, 8))
    assert abs(kid(f[:10], f[10:])) < 0.5


def test_translation_scores_known_answers(volume_folders, tmp_path) -> None:
    from medsynth.io.nifti import read_nifti, write_nifti

    ref, labels = volume_folders["train"], volume_folders["train_labels"]
    perfect = evaluate_translation(ref, ref, labels=labels)
    assert perfect.metric("translation_mae_hu").value == 0.0 and perfect.metric("translation_mae_hu").verdict == "pass"
    assert perfect.metric("translation_ssim").value == pytest.approx(1.0)
    assert perfect.metric("translation_psnr_db").value is None  # infinite PSNR for a perfect match
    pred = tmp_path / "pred"
    for f in sorted(ref.iterdir()):
        v = read_nifti(f)
        lab = read_nifti(labels / f.name).array
        write_nifti(v.with_array(v.array + np.where(lab == 4, 100.0, 0.0).astype(np.float32)), pred / f.name)
    unnamed = evaluate_translation(pred, ref, labels=labels)  # no tissues.json there: label values name the tissues
    assert unnamed.metric("translation_mae_label_4_hu").value == pytest.approx(100.0, abs=1.0)
    named = EvaluationConfig(translation={"tissue_names": {2: "soft_tissue", 4: "bone"}})
    report = evaluate_translation(pred, ref, labels=labels, config=named)
    assert report.metric("translation_mae_bone_hu").value == pytest.approx(100.0, abs=1.0)
    assert report.metric("translation_mae_soft_tissue_hu").value == pytest.approx(0.0, abs=1.0)
    assert 0.95 < report.metric("translation_bone_dice").value < 1.0  # +100 HU lifts a few blurred bone edges over 250
    validate_report(report.to_dict())
    bad = tmp_path / "bad"
    v = read_nifti(pred / "case_000.nii.gz")
    write_nifti(v.with_array(v.array[:20]), bad / "case_000.nii.gz")
    with pytest.raises(DataValidationError, match="differs from reference"):
        evaluate_translation(bad, ref)
    with pytest.raises(DataValidationError, match="matched by name"):
        evaluate_translation(volume_folders["copied"], ref)
    from medsynth.io import write_dicom_series

    dicom = tmp_path / "dicom"  # predictions as DICOM series (read back LPS) against RAS NIfTI references
    for f in sorted(pred.iterdir()):
        write_dicom_series(read_nifti(f, modality="CT"), dicom / f.name.replace(".nii.gz", ""))
    as_dicom = evaluate_translation(dicom, ref, labels=labels, config=named)
    assert as_dicom.metric("translation_mae_bone_hu").value == pytest.approx(
        report.metric("translation_mae_bone_hu").value, abs=0.5)


def test_nrrd_files_dicom_slices_and_stray_folders(volume_folders, tmp_path) -> None:
    """`evaluate images` on the pyradiomics brain NRRDs and their NRRD label maps said 'holds no volumes'; any
    non-empty sub-folder (e.g. an old report/) counted as a DICOM series, and a folder of DICOM slices was empty."""
    import nrrd

    from medsynth.evaluation.images import label_paths, volume_paths
    from medsynth.io import write_dicom_series
    from medsynth.io.nifti import read_nifti

    nr, lab = tmp_path / "nrrd", tmp_path / "nrrd_labels"
    nr.mkdir()
    lab.mkdir()
    for f in sorted(volume_folders["train"].iterdir()):
        v = read_nifti(f)
        stem = f.name.replace(".nii.gz", "")
        header = {"space": "right-anterior-superior", "space directions": v.affine[:3, :3].T, "space origin": v.affine[:3, 3]}
        nrrd.write(str(nr / f"{stem}.nrrd"), v.array, header)
        nrrd.write(str(lab / f"{stem}.nrrd"), read_nifti(volume_folders["train_labels"] / f.name).array.astype(np.uint8), header)
    (nr / "report").mkdir()
    (nr / "report" / "report.html").write_text("<html></html>")
    found = volume_paths(nr, "train")
    assert [p.name for p in found] == [f"case_{i:03d}.nrrd" for i in range(4)]
    assert [p.name for p in label_paths(found, lab, "train")] == [p.name for p in found]
    report = evaluate_images(nr, volume_folders["holdout"], volume_folders["independent"], modality="CT")
    assert report.metric("detection_auc_image") is not None
    series = tmp_path / "series"
    write_dicom_series(read_nifti(volume_folders["holdout"] / "case_000.nii.gz"), series)
    assert volume_paths(series, "synthetic") == [series]


def test_report_cannot_pass_when_realism_was_not_judged(volume_folders, tmp_path) -> None:
    """Two brain MR NRRDs against samples of a 4-step ldm3d: detection_auc_image was skipped (too few volumes per
    class) and the fidelity section said PASS on diversity alone; with 10 synthetic volumes nothing else held it back."""
    from medsynth.io.nifti import read_nifti, write_nifti

    syn = tmp_path / "syn"
    src = sorted(volume_folders["independent"].iterdir())
    for i in range(10):
        v = read_nifti(src[i % len(src)])
        write_nifti(v.with_array(v.array + np.float32(i)), syn / f"s{i:02d}.nii.gz")
    train = tmp_path / "train"
    train.mkdir()
    for f in sorted(volume_folders["train"].iterdir())[:2]:
        shutil.copy(f, train / f.name)
    cfg = EvaluationConfig.model_validate({**FAST, "metrics": ["detection_image", "intensity_histogram"]})
    report = evaluate_images(train, volume_folders["holdout"], syn, config=cfg)
    assert report.metric("detection_auc_image").verdict == "skipped"
    check = report.metric("realism_volumes_per_class")
    assert check.value == 2 and check.verdict == "review" and report.verdict != "pass"
    full = evaluate_images(volume_folders["train"], volume_folders["holdout"], syn, config=EvaluationConfig.model_validate(
        {**FAST, "metrics": ["intensity_histogram"]}))
    assert "realism_volumes_per_class" not in [m.name for m in full.results]  # the detector was not asked for


def _textured_folder(folder, seeds, flips=None) -> None:
    """Phantom CTs plus a smooth per-volume texture (phantoms alone are nearly mirror-symmetric), optionally mirrored."""
    from scipy.ndimage import gaussian_filter

    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom

    cfg = PhantomConfig(shape=(24, 24, 24), spacing=(5.0, 5.0, 5.0))
    for n, seed in enumerate(seeds):
        ct = make_phantom(seed, cfg).ct
        tex = gaussian_filter(np.random.default_rng(1000 + seed).normal(size=ct.array.shape), 2.0)
        a = ct.array + (300.0 * tex / tex.std()).astype(np.float32)
        axis = None if flips is None else flips[n]
        write_nifti(ct.with_array(np.ascontiguousarray(np.flip(a, axis) if axis is not None else a)), folder / f"v{seed:03d}.nii.gz")


def test_mirrored_copies_fail_the_image_audit(tmp_path) -> None:
    """Six training CTs flipped along axis 0 plus four unrelated crops passed the audit (near-copy share 0.0): the NCC
    compared volumes only as they were, and ldm3d trains on left-right mirrored volumes."""
    _textured_folder(tmp_path / "train", range(4))
    _textured_folder(tmp_path / "holdout", range(100, 103))
    _textured_folder(tmp_path / "mirrored", [0, 1, 2, 300], flips=[0, 1, 2, None])
    report = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "mirrored", mode="audit")
    m = report.metric("memorisation_near_copy_share")
    assert m.value == pytest.approx(0.75) and m.verdict == "fail" and report.verdict == "fail"
    got = {c["synthetic"]: (c["nearest_train"], c["mirrored"], round(c["ncc"], 4)) for c in m.details["near_copies"]}
    assert got == {"v000.nii.gz": ("v000.nii.gz", "axis 0 (left-right)", 1.0), "v001.nii.gz": ("v001.nii.gz", "axis 1 (front-back)", 1.0),
                   "v002.nii.gz": ("v002.nii.gz", "axis 2 (up-down)", 1.0)}
    assert "mirrored along each single axis" in m.description and len(m.details["mirrorings_compared"]) == 4
    # The holdout reference uses the same mirrorings: unseen volumes, as they are or mirrored, are no copies.
    _textured_folder(tmp_path / "honest", range(300, 310), flips=[None, 0, None, 1, None, 2, None, 0, None, None])
    honest = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "honest", mode="audit")
    h = honest.metric("memorisation_near_copy_share")
    assert h.value == 0.0 and h.verdict == "pass"
    assert h.details["synthetic_median_ncc_to_train"] < h.details["tau"] - 0.05


def test_ncc_matrix_flips_finds_the_mirroring() -> None:
    from medsynth.evaluation.image_metrics import NCC_FLIPS, ncc_matrix, ncc_matrix_flips

    x = np.random.default_rng(0).normal(size=(2, 6, 7, 8)).astype(np.float32)
    y = np.stack([np.flip(x[0], 2), x[1]])
    best, which = ncc_matrix_flips(y, x)
    assert best[0, 0] == pytest.approx(1.0) and NCC_FLIPS[which[0, 0]] == (2,)
    assert best[1, 1] == pytest.approx(1.0) and NCC_FLIPS[which[1, 1]] == ()
    assert ncc_matrix(y, x)[0, 0] < 0.5 and np.all(best >= ncc_matrix(y, x) - 1e-12)


@pytest.mark.parametrize("as_pairs", [False, True])
def test_fidelity_section_is_not_pass_when_realism_was_not_judged(volume_folders, tmp_path, as_pairs) -> None:
    """4 training CTs against 4 volumes of uniform noise: detection_auc_image (1.0) and the histogram TVD were shown
    for information and the Fidelity section read PASS on MS-SSIM diversity alone; the same for a pairs folder."""
    from medsynth.io.nifti import read_nifti, write_nifti

    syn = tmp_path / "syn"
    rng = np.random.default_rng(0)
    for i, f in enumerate(sorted(volume_folders["train"].iterdir())):
        v = read_nifti(f)
        noise = v.with_array(rng.uniform(-1024, 2000, v.array.shape).astype(np.float32))
        write_nifti(noise, (syn / "image" if as_pairs else syn) / f"s{i}.nii.gz")
        if as_pairs:
            write_nifti(read_nifti(volume_folders["train_labels"] / f.name, modality="SEG"), syn / "label" / f"s{i}.nii.gz")
    report = evaluate_images(volume_folders["train"], volume_folders["holdout"], syn, config=EvaluationConfig.model_validate(
        {**FAST, "metrics": ["detection_image", "intensity_histogram", "msssim_diversity", "tissue_intensities"]}))
    assert report.metric("detection_auc_image").verdict in ("info", "skipped")
    assert report.metric("msssim_diversity_synthetic").verdict == "pass"
    check = report.metric("realism_volumes_per_class")
    assert check.section == "fidelity" and check.value == 4 and check.verdict == "review"
    assert "detection_auc_image (realism) not judged" in check.note and "at least 6 of each" in check.note
    assert report.sections["fidelity"]["verdict"] == "review" and report.verdict == "review"


def test_a_verbatim_copy_fails_whatever_the_sample_sizes(tmp_path) -> None:
    """One holdout scan and three synthetic volumes, one a byte copy of a training CT: the copy was found (share 0.33)
    but shown as "too few samples for a verdict" (privacy INFO, overall REVIEW). A copy of a patient's scan is a
    definite finding."""
    _textured_folder(tmp_path / "train", range(3))
    _textured_folder(tmp_path / "holdout", [100])
    _textured_folder(tmp_path / "syn", [0, 300, 301])
    report = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "syn", mode="audit")
    m = report.metric("memorisation_near_copy_share")
    assert m.verdict == "fail" and "copy a training volume" in m.note and "'v000.nii.gz'" in m.note
    assert report.verdict == "fail"
    _textured_folder(tmp_path / "syn2", [300, 301, 302])
    honest = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "syn2", mode="audit")
    assert honest.metric("memorisation_near_copy_share").verdict != "fail"


def test_a_shifted_copy_is_found_and_unseen_volumes_are_not_copies() -> None:
    """An imaging researcher's 12 training crops rolled by 4 voxels (12 mm) passed the audit: NCC 0.42 to their
    training scans, below the 0.71 unseen scans reach, as the NCC compared voxel by voxel and tried only mirrorings.
    The best NCC is now taken over translations too (and the holdout reference alike)."""
    from medsynth.evaluation.image_metrics import ncc_matrix, ncc_matrix_flips

    rng = np.random.default_rng(0)
    base = rng.normal(size=(3, 24, 24, 24))
    from scipy.ndimage import gaussian_filter

    x = np.stack([gaussian_filter(v, 2.0) for v in base]).astype(np.float32)
    moved = np.stack([np.roll(x[0], 4, axis=(0, 1, 2)), np.roll(np.flip(x[1], 0), -3, axis=(0, 2))])
    best, _ = ncc_matrix_flips(moved, x)
    assert ncc_matrix(moved, x)[0, 0] < 0.5 and best[0, 0] > 0.999 and best[1, 1] > 0.999
    other = np.stack([gaussian_filter(v, 2.0) for v in rng.normal(size=(2, 24, 24, 24))]).astype(np.float32)
    assert ncc_matrix_flips(other, x)[0].max() < 0.8  # independent volumes stay far apart


def test_a_memoriser_on_a_coarser_grid_fails_the_audit(tmp_path) -> None:
    """A model trained at 8 mm on 32^3 that wrote its training CTs back (resampled to its grid): the audit brought every
    volume to the first training file's 3 mm grid, the upsampled copies fell to an NCC of 0.78 and it passed (exit 0).
    Volumes are now compared on the synthetic volumes' grid where they share one: the copies are found."""
    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom
    from medsynth.io.transforms import PreprocessConfig, VolumePreprocessor
    from medsynth.io.volume import Volume

    cfg_ph = PhantomConfig(shape=(48, 48, 48), spacing=(2.0, 2.0, 2.0))
    coarse = VolumePreprocessor(PreprocessConfig(orientation="RAS", spacing=(6.0, 6.0, 6.0), spatial_size=(16, 16, 16)))
    rng = np.random.default_rng(0)
    for i in range(6):
        ct = make_phantom(i, cfg_ph).ct
        write_nifti(ct, tmp_path / "train" / f"case_{i:03d}.nii.gz")
        write_nifti(make_phantom(100 + i, cfg_ph).ct, tmp_path / "holdout" / f"case_{i:03d}.nii.gz")
        small = coarse(ct)  # the generator's grid, HU back from the window
        lo, hi = coarse.config.ct_window
        arr = (np.asarray(small.tensor[0]) + 1) / 2 * (hi - lo) + lo + rng.normal(0, 20, small.tensor[0].shape)
        vol = Volume(array=arr.astype(np.float32), affine=np.asarray(small.tensor.affine, dtype=float), modality="CT")
        write_nifti(vol, tmp_path / "copies" / f"syn_{i:03d}.nii.gz")
    report = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "copies", mode="audit")
    m = report.metric("memorisation_near_copy_share")
    assert m.value > 0.8 and m.verdict == "fail" and report.verdict == "fail", (m.value, m.note)


def test_an_image_runs_folder_is_a_run_dir(volume_folders, tmp_path) -> None:
    """--run-dir on an image run was refused ('holds no privacy_ledger.json'): image and translation runs train without
    DP and write no ledger, and the report says so."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"kind": "vae3d", "status": "completed"}))
    cfg = EvaluationConfig.model_validate({"metrics": ["memorisation"]})
    report = evaluate_images(volume_folders["train"], volume_folders["holdout"], volume_folders["independent"], config=cfg,
                             mode="audit", run_dir=run)
    assert any("NOT generated with differential privacy" in n for n in report.notes), report.notes
    with pytest.raises(DataValidationError, match="holds no privacy_ledger.json"):
        evaluate_images(volume_folders["train"], volume_folders["holdout"], volume_folders["independent"], config=cfg,
                        mode="audit", run_dir=tmp_path)


def test_coarse_synthetic_volumes_are_judged_on_the_training_grid(tmp_path) -> None:
    """Review: with the grid taken from the synthetic volumes, a generator writing other phantoms at 12 mm on 8^3 had
    its realism judged on its own coarse grid and passed (AUC 0.25). Realism is judged on the training grid; only the
    privacy checks use the synthetic volumes' own one. The report's modality is the training volumes' (a synthetic
    CT whose air is floored at -850 HU is guessed 'OT' alone)."""
    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom
    from medsynth.io.transforms import PreprocessConfig, VolumePreprocessor
    from medsynth.io.volume import Volume

    fine = PhantomConfig(shape=(32, 32, 32), spacing=(3.0, 3.0, 3.0))
    coarse = VolumePreprocessor(PreprocessConfig(orientation="RAS", spacing=(12.0, 12.0, 12.0), spatial_size=(8, 8, 8)))
    for i in range(8):
        for role, base in (("train", 0), ("holdout", 100)):
            write_nifti(make_phantom(base + i, fine).ct, tmp_path / role / f"case_{i:03d}.nii.gz")
        small = coarse(make_phantom(200 + i, fine).ct)
        lo, hi = coarse.config.ct_window
        arr = np.maximum((np.asarray(small.tensor[0]) + 1) / 2 * (hi - lo) + lo, -850.0)
        write_nifti(Volume(array=arr.astype(np.float32), affine=np.asarray(small.tensor.affine, dtype=float)),
                    tmp_path / "coarse" / f"syn_{i:03d}.nii.gz", dtype="float32")
    cfg = EvaluationConfig.model_validate({"images": {"detection_steps": 30, "detection_baseline": False},
                                           "metrics": ["detection_image", "memorisation"]})
    report = evaluate_images(tmp_path / "train", tmp_path / "holdout", tmp_path / "coarse", config=cfg)
    det = report.metric("detection_auc_image")
    assert det.value > 0.9 and det.verdict != "pass", (det.value, det.verdict)
    assert any("CT volumes compared on one 32x32x32 grid" in n and "8x8x8" in n for n in report.notes), report.notes
