"""Image evaluation inputs as an imaging researcher found them on real volumes: one modality for every volume,
decided from the training set as a whole; a collapsed generator's flat volumes get a report that fails them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medsynth.cli.main import main
from medsynth.evaluation import EvaluationConfig, evaluate_images
from medsynth.io.nifti import write_nifti
from medsynth.io.phantoms import PhantomConfig, make_phantom
from medsynth.io.volume import Volume

PHANTOM = PhantomConfig(shape=(16, 16, 16), spacing=(4.0, 4.0, 4.0))


def _write(folder: Path, seeds: range, *, body_only: bool = False, air_in: int | None = None) -> Path:
    """CT phantoms; ``body_only``: floored at -600 HU, as a crop inside the body (no air: guessed 'OT' alone), except
    the volume number ``air_in``."""
    for n, seed in enumerate(seeds):
        ct = make_phantom(seed, PHANTOM).ct
        if body_only and n != air_in:
            ct = ct.with_array(np.maximum(np.asarray(ct.array, dtype=np.float32), -600.0))
        write_nifti(ct, folder / f"case_{n:03d}.nii.gz")
    return folder


@pytest.fixture(scope="module")
def crops(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Training CTs whose only volume with air is the last; holdout CTs; body-only synthetic crops; whole CTs."""
    root = tmp_path_factory.mktemp("crops")
    return {"train": _write(root / "train", range(4), body_only=True, air_in=3), "whole": _write(root / "whole", range(4)),
            "holdout": _write(root / "holdout", range(100, 103)),
            "synthetic": _write(root / "synthetic", range(200, 204), body_only=True)}


def _flat(folder: Path, value: float, n: int) -> Path:
    for i in range(n):
        ref = make_phantom(i, PHANTOM).ct
        write_nifti(Volume(np.full(ref.spatial_shape, value, dtype=np.float32), ref.affine, modality="CT"),
                    folder / f"syn_{i:03d}.nii.gz")
    return folder


def test_every_volume_is_read_with_the_training_sets_modality(crops: dict[str, Path]) -> None:
    """Without --modality each volume kept its own guess: a real body-only CT crop (-695..3034 HU, no air) was 'OT' and
    scaled by its own percentiles, and intensity_wasserstein of blurred crops read 772 HU instead of 22.9. The modality
    is now decided once, from the training volumes as a whole (here only the last has air), and the report says so."""
    cfg = EvaluationConfig.model_validate({"metrics": ["intensity_histogram"]})
    auto = evaluate_images(crops["train"], crops["holdout"], crops["synthetic"], config=cfg)
    forced = evaluate_images(crops["train"], crops["holdout"], crops["synthetic"], config=cfg, modality="CT")
    assert auto.metric("intensity_wasserstein").value == pytest.approx(forced.metric("intensity_wasserstein").value)
    assert auto.metric("intensity_histogram_tvd").value == pytest.approx(forced.metric("intensity_histogram_tvd").value)
    note = next(n for n in auto.notes if n.startswith("Modality:"))
    assert "CT for every volume (training, holdout, synthetic)" in note and "4 training volumes as a whole" in note
    assert "as given" in next(n for n in forced.notes if n.startswith("Modality:"))
    assert any("synthetic CT volumes compared" in n for n in auto.notes)


def test_training_volumes_without_hu_are_one_other_modality_and_the_note_says_how_to_force_ct() -> None:
    from medsynth.evaluation.images import decide_modality

    mr = make_phantom(1, PHANTOM).mr
    vols = {"train": [mr, mr.with_array(np.asarray(mr.array) * 2.0)], "holdout": [], "synthetic": []}
    for v in vols["train"]:
        v.meta["tagged_modality"] = None
    modality, note = decide_modality(vols, None)  # type: ignore[arg-type]
    assert modality == "OT" and "do not look like CT in HU" in note and "pass --modality CT" in note
    vols["train"][0].meta["tagged_modality"] = vols["train"][1].meta["tagged_modality"] = "MR"  # DICOM says it
    assert decide_modality(vols, None)[0] == "MR"  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [40.0, -1000.0])
def test_a_collapsed_generators_flat_volumes_fail_the_report_with_the_reason(crops: dict[str, Path], tmp_path: Path,
                                                                            value: float) -> None:
    """All-40-HU synthetic volumes ended `audit images` with exit 2, "do not look like CT in HU ... set
    images.check_modality: false", and no report; all -1000 HU ones were judged only by metrics that need spread. A
    collapsed generator's output gets its report, and a fidelity FAIL naming the flat volumes."""
    flat = _flat(tmp_path / "flat", value, 4)
    report = evaluate_images(crops["whole"], crops["holdout"], flat, mode="audit")
    m = report.metric("synthetic_flat_volume_share")
    assert m.value == 1.0 and m.verdict == "fail" and m.section == "fidelity"
    assert "4 of 4 synthetic volume(s) are flat ('syn_000.nii.gz'" in m.note and "collapsed" in m.note
    assert report.verdict == "fail"
    # the CLI writes the report (no modality error, not exit 2)
    code = main(["audit", "images", "--train", str(crops["whole"]), "--holdout", str(crops["holdout"]),
                 "--synthetic", str(flat), "--out", str(tmp_path / "rep")])
    assert code != 2
    written = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert next(r for r in written["metrics"] if r["name"] == "synthetic_flat_volume_share")["verdict"] == "fail"


def test_volumes_with_spread_are_not_flat_and_mr_as_synthetic_ct_is_still_refused(crops: dict[str, Path],
                                                                                 tmp_path: Path) -> None:
    from medsynth.core.errors import DataValidationError

    cfg = EvaluationConfig.model_validate({"metrics": ["intensity_histogram"]})
    m = evaluate_images(crops["train"], crops["holdout"], crops["synthetic"], config=cfg).metric("synthetic_flat_volume_share")
    assert m.value == 0.0 and m.verdict == "pass"
    for i in range(4):
        write_nifti(make_phantom(400 + i, PHANTOM).mr, tmp_path / "mr" / f"syn_{i:03d}.nii.gz")
    for train in ("train", "whole"):  # (the body-only crops' training set is CT as a whole too)
        with pytest.raises(DataValidationError, match="synthetic volumes do not look like CT in HU"):
            evaluate_images(crops[train], crops["holdout"], tmp_path / "mr", mode="audit")
