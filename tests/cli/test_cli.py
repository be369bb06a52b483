"""The medsynth command as a user runs it: help, version, convert, phantoms, demo, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from medsynth import __version__
from medsynth.cli.main import main
from medsynth.io import read_nifti


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_and_version(capsys: pytest.CaptureFixture[str]):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for cmd in ("demo", "convert", "phantoms"):
        assert cmd in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"medsynth {__version__}"
    code, out, _ = run(capsys, "convert", "--help")
    assert code == 0 and "NIfTI" in out and "--modality" in out


def test_python_dash_m_runs_the_command():
    """``python -m medsynth`` where the console script is not on the path (it failed: no ``medsynth.__main__``)."""
    done = subprocess.run([sys.executable, "-m", "medsynth", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"medsynth {__version__}", done.stderr
    bad = subprocess.run([sys.executable, "-m", "medsynth", "no-such-command"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no-such-command" in bad.stderr


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from medsynth.cli.main import main; main(['--help']); "
        "print('HEAVY', sorted(m for m in ('torch', 'monai', 'sdv', 'opacus') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert "HEAVY []" in out


def test_convert_roundtrip_via_cli(capsys: pytest.CaptureFixture[str], real_ct_nifti: Path, tmp_path: Path):
    code, out, err = run(capsys, "convert", str(real_ct_nifti), str(tmp_path / "dcm"))
    assert code == 0, err
    assert len(list((tmp_path / "dcm").glob("*.dcm"))) == read_nifti(real_ct_nifti).spatial_shape[2]
    code, out, err = run(capsys, "convert", str(tmp_path / "dcm"), str(tmp_path / "back.nii.gz"))
    assert code == 0, err
    back, real = read_nifti(tmp_path / "back.nii.gz"), read_nifti(real_ct_nifti)
    assert back.orientation == "LPS" and np.array_equal(back.reoriented(real.orientation).array, real.array)
    # the output exists now: refused without --force, with a message and exit code 2
    code, out, err = run(capsys, "convert", str(tmp_path / "dcm"), str(tmp_path / "back.nii.gz"))
    assert code == 2 and "already exists" in err and "Traceback" not in err
    # a file extension medsynth does not write is no DICOM folder's name (out.mha became a folder of slices)
    code, out, err = run(capsys, "convert", str(real_ct_nifti), str(tmp_path / "out.mha"))
    assert code == 2 and "not '.mha'" in err and not (tmp_path / "out.mha").exists(), err


def test_convert_says_what_it_rounds_and_refuses_a_label_map_as_dicom(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    """An imaging researcher: fractional CT values were rounded to whole HU in DICOM without a word, and --modality SEG
    was refused with a message suggesting MR."""
    from medsynth.io import write_nifti
    from medsynth.io.phantoms import PhantomConfig, make_phantom

    ct = make_phantom(0, PhantomConfig(shape=(8, 8, 8))).ct
    write_nifti(ct.with_array(np.asarray(ct.array, dtype=np.float32) + 0.25), tmp_path / "frac.nii.gz", dtype="float32")
    code, out, err = run(capsys, "convert", str(tmp_path / "frac.nii.gz"), str(tmp_path / "dcm"), "--modality", "CT")
    assert code == 0 and "512 fractional HU value(s) rounded to whole HU" in out + err, out + err
    code, _, err = run(capsys, "convert", str(tmp_path / "frac.nii.gz"), str(tmp_path / "seg"), "--modality", "SEG")
    assert code == 2 and "label maps are written as NIfTI only" in err and "MR" in err


def test_convert_needs_modality_for_non_ct_nifti(capsys: pytest.CaptureFixture[str], real_mr_nifti: Path, tmp_path: Path):
    code, _, err = run(capsys, "convert", str(real_mr_nifti), str(tmp_path / "mr"))
    assert code == 2 and "--modality CT or --modality MR" in err
    code, _, err = run(capsys, "convert", str(real_mr_nifti), str(tmp_path / "mr"), "--modality", "MR")
    assert code == 0, err
    code, _, err = run(capsys, "convert", str(real_mr_nifti), str(tmp_path / "x"), "--modality", "PET")
    assert code == 2 and "'PET' must be CT or MR" in err


def test_errors_are_one_line_and_debug_shows_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    code, _, err = run(capsys, "convert", str(tmp_path / "missing.nii.gz"), str(tmp_path / "o.nii.gz"))
    assert code == 2 and err.startswith("error: ") and "does not exist" in err
    from medsynth.core.errors import ImageReadError

    with pytest.raises(ImageReadError):
        main(["--debug", "convert", str(tmp_path / "missing.nii.gz"), str(tmp_path / "o.nii.gz")])
    code, _, err = run(capsys, "phantoms", "--out", str(tmp_path / "p"), "--contrast", "PD", "--n", "1", "--shape", "16")
    assert code == 2 and "mr_contrast" in err
    code, _, err = run(capsys, "nosuchcommand")
    assert code == 2 and "No such command" in err
    # a run that does not exist is named before the output's checks (a folder --out was refused for its extension)
    code, _, err = run(capsys, "tabular", "sample", str(tmp_path / "no_run"), "--n", "5", "--out", str(tmp_path / "syn"))
    assert code != 0 and f"run '{tmp_path / 'no_run'}' does not exist" in err and "extension" not in err


def test_phantoms_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    code, out, err = run(capsys, "phantoms", "--n", "2", "--shape", "16", "--out", str(tmp_path / "ph"), "--seed", "3")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "ph").iterdir()) == ["ct", "labels", "mr"]
    ct = read_nifti(tmp_path / "ph" / "ct" / "case_001.nii.gz")
    assert ct.modality == "CT" and ct.spatial_shape == (16, 16, 16)


def test_demo_quick(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    out_dir = tmp_path / "demo"
    code, out, err = run(capsys, "demo", "--quick", "--out", str(out_dir))
    assert code == 0, err
    summary = json.loads((out_dir / "summary.json").read_text())
    rt = summary["steps"]["io_roundtrip"]
    assert rt["max_abs_error_hu"] <= 0.5 and rt["max_affine_error_mm"] < 1e-3 and rt["stored_orientation"] == "LPS"
    assert rt["synthetic_marker"] == "YES"
    assert str(out_dir) in out
    jobs = {j["job"].split(" (")[0].split(":")[-1].strip(): j for j in summary["jobs"]}
    assert set(jobs) == {"admissions", "breast_cancer", "image synthesis", "MR -> CT translation"}, summary["jobs"]
    for job in jobs.values():  # one screen: each job's verdict, what it means and its report
        assert Path(job["html"]).is_file() and job["html"] in out and job["verdict"].upper() in out
    assert "too little data per marginal" in jobs["breast_cancer"]["meaning"] and "Verdicts: PASS = " in out
    assert json.loads((out_dir / "run.json").read_text())["status"] == "completed"
    code, _, err = run(capsys, "demo", "--quick", "--out", str(out_dir))
    assert code == 2 and "--force" in err


def test_a_failing_demo_step_marks_the_run_failed(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from medsynth import demo as demo_module
    from medsynth.core.errors import DataValidationError

    def broken(ctx):
        raise DataValidationError("step exploded")

    monkeypatch.setattr(demo_module, "STEPS", [demo_module.STEPS[0], ("broken", broken)])
    code, _, err = run(capsys, "demo", "--quick", "--out", str(tmp_path / "d"))
    assert code == 2 and "step exploded" in err
    assert json.loads((tmp_path / "d" / "run.json").read_text())["status"] == "failed"
    partial = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert partial["last_started_step"] == "broken" and "phantoms" in partial["steps"]
