"""Fixtures of the hostile-input tests: small real inputs every command accepts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import small_table


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Valid inputs for every command: train/holdout/synthetic CSVs, a CT NIfTI, a phantom folder."""
    from medsynth.io.nifti import write_nifti
    from medsynth.io.volume import Volume, grid_affine

    d = tmp_path_factory.mktemp("inputs")
    df = small_table(96)
    df.iloc[:64].to_csv(d / "train.csv", index=False)
    df.iloc[64:].to_csv(d / "holdout.csv", index=False)
    small_table(64, seed=1).to_csv(d / "synthetic.csv", index=False)
    arr = np.full((16, 16, 16), -1000.0, np.float32)
    arr[4:12, 4:12, 4:12] = 40.0
    write_nifti(Volume(arr, grid_affine(2.0), modality="CT"), d / "ct.nii.gz")
    (d / "volumes").mkdir()
    write_nifti(Volume(arr, grid_affine(2.0), modality="CT"), d / "volumes" / "a.nii.gz")
    (d / "afile").write_text("not a folder\n")
    return {"dir": d, "train": d / "train.csv", "holdout": d / "holdout.csv", "synthetic": d / "synthetic.csv",
            "ct": d / "ct.nii.gz", "volumes": d / "volumes", "afile": d / "afile"}
