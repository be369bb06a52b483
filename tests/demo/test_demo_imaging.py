"""The imaging step of ``medsynth demo`` on its own (tiny phantoms, quick mode)."""

from __future__ import annotations

import csv
from pathlib import Path

from medsynth.demo import STEPS, DemoConfig, DemoContext, step_phantoms
from medsynth.demo.imaging import step_image_synthesis
from medsynth.io.dicom import read_dicom_series
from medsynth.io.nifti import read_nifti


def test_demo_step_trains_and_writes_samples(tmp_path: Path):
    assert ("image_synthesis", step_image_synthesis) in STEPS
    ctx = DemoContext(out=tmp_path, config=DemoConfig(quick=True, phantom_shape=16, n_phantoms=4))
    ctx.results["phantoms"] = step_phantoms(ctx)
    result = step_image_synthesis(ctx)
    assert {"run_dir", "samples_dir", "train_dir"} <= set(result)
    samples = sorted(Path(result["samples_dir"]).glob("*.nii.gz"))
    assert len(samples) == result["n_samples"] >= 4
    real = read_nifti(sorted(Path(result["train_dir"]).glob("*.nii.gz"))[0], modality="CT")
    fake = read_nifti(samples[0], modality="CT")
    assert fake.same_grid(real)  # the evaluation step compares them voxel for voxel
    rows = list(csv.DictReader(open(Path(result["samples_dir"]) / "manifest.csv", encoding="utf-8")))
    assert len(rows) == len(samples)
    assert read_dicom_series(result["dicom_dir"]).spatial_shape == real.spatial_shape
    assert Path(result["preview"]).is_file()
