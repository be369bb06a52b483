"""The demo's one-screen summary and its settings (no training: the steps are tested on their own)."""

from __future__ import annotations

from medsynth.demo import DemoConfig, demo_config, format_summary


def test_summary_names_each_job_its_verdict_meaning_and_report():
    summary = {"out": "d", "seconds": {"total": 61.2},
               "jobs": [{"job": "private EHR: admissions (dp-aim, eps 1)", "verdict": "pass", "meaning": "usable",
                         "html": "d/evaluation/tabular_admissions/report.html"},
                        {"job": "MR -> CT translation (CycleGAN)", "verdict": "review", "meaning": "train longer",
                         "html": "d/evaluation/translation/report.html"}],
               "steps": {"io_roundtrip": {"max_abs_error_hu": 0.0, "max_affine_error_mm": 1e-6, "dicom_series": "d/io/x"}}}
    text = format_summary(summary)
    lines = text.splitlines()
    assert lines[0] == "medsynth demo finished in 61 s; everything is in d/"
    assert any("PASS" in ln and ln.endswith("tabular_admissions/report.html") for ln in lines)
    assert any("REVIEW" in ln and ln.endswith("translation/report.html") for ln in lines)
    assert "train longer" in text and "max error 0 HU" in text and "FAIL = " in text
    assert len(lines) <= 24  # one screen


def test_quick_shrinks_the_phantoms_unless_they_are_set():
    assert (demo_config(quick=True).phantom_shape, demo_config(quick=True).n_phantoms) == (24, 4)
    cfg = demo_config(quick=True, sets=["phantom_shape=16"])
    assert cfg.quick and cfg.phantom_shape == 16 and cfg.n_phantoms == 4
    assert demo_config(DemoConfig(seed=3), quick=True).seed == 3
