"""Spread maps from the averaged test-time predictions; NaN/inf input voxels are an error or, when asked, masked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from medsynth.cli.main import main
from medsynth.core.errors import ConfigError
from medsynth.io.loading import load_volume
from medsynth.io.nifti import write_nifti
from medsynth.translation.config import CycleGANConfig
from medsynth.translation.cyclegan import CycleGANTranslator
from medsynth.translation.data import NonFiniteError
from medsynth.translation.inference import sliding_translate


class Lopsided(torch.nn.Module):
    """A stand-in generator that is not mirror-symmetric: x + 0.1 * (its i coordinate in [-1, 1])."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ramp = torch.linspace(-1, 1, x.shape[2]).view(1, 1, -1, *([1] * (x.ndim - 3)))
        return x + 0.1 * ramp


def test_spread_is_the_sd_of_the_mirrored_predictions():
    cfg = CycleGANConfig.model_validate({"spatial_dims": 2, "data": {"patch_size": [16, 16]}, "discriminator": {"num_layers": 2},
                                         "inference": {"mirror_axes": [0]}})
    x = torch.rand(1, 1, 16, 12, 5) * 0.5
    y = sliding_translate(Lopsided(), x, cfg, spread=True)
    assert y.shape == (1, 2, 16, 12, 5)
    ramp = torch.linspace(-1, 1, 16).view(1, 1, -1, 1, 1)
    # the prediction adds +0.1*ramp, the mirrored one -0.1*ramp: mean x, SD 0.1*|ramp|
    torch.testing.assert_close(y[:, :1], x, atol=1e-5, rtol=0)
    torch.testing.assert_close(y[:, 1:], (0.1 * ramp.abs()).expand_as(x), atol=1e-3, rtol=0)
    plain = sliding_translate(Lopsided(), x, cfg.model_copy(update={"inference": cfg.inference.model_copy(update={"mirror_axes": ()})}),
                              spread=True)
    assert float(plain[:, 1:].abs().max()) < 1e-3  # one prediction per voxel: no spread


def test_translate_returns_a_spread_map_in_hu(trained_2d: CycleGANTranslator, mr_volume):
    ct, spread = trained_2d.translate(mr_volume, return_spread=True)
    assert spread.same_grid(mr_volume) and spread.units == "HU" and spread.modality == "OT"
    body = ct.array > -1024
    assert float(spread.array[~body].max()) == 0.0  # air outside the body is set, not predicted
    assert float(spread.array[body].mean()) > 0.0 and np.isfinite(spread.array).all()
    np.testing.assert_allclose(ct.array, trained_2d.translate(mr_volume).array, atol=1e-3)
    trained_2d.configure_inference(["inference.mirror_axes=[]"])
    try:
        with pytest.raises(ConfigError, match="mirror_axes"):
            trained_2d.translate(mr_volume, return_spread=True)
    finally:
        trained_2d.configure_inference(["inference.mirror_axes=[0]"])


def test_nonfinite_voxels_are_an_error_or_masked(trained_2d: CycleGANTranslator, mr_volume):
    arr = mr_volume.array.copy()
    arr[10:14, 8:12, 6:9] = np.nan
    arr[0, 0, 0] = np.inf
    bad = mr_volume.with_array(arr)
    bad.meta["source"] = "holes.nii.gz"
    with pytest.raises(NonFiniteError, match=r"'holes.nii.gz' has 49 non-finite voxel\(s\).*--nonfinite mask"):
        trained_2d.translate(bad)
    ct = trained_2d.translate(bad, nonfinite="mask")
    assert int(np.isnan(ct.array).sum()) == 49 and np.isnan(ct.array[10:14, 8:12, 6:9]).all()
    assert np.isfinite(ct.array[np.isfinite(arr)]).all()


def test_cli_uncertainty_and_nonfinite(trained_2d: CycleGANTranslator, mr_volume, tmp_path: Path, capsys: pytest.CaptureFixture):
    model = trained_2d.save(tmp_path / "model")
    write_nifti(mr_volume, tmp_path / "in" / "case_a.nii.gz", dtype="float32")
    out = tmp_path / "sct"
    assert main(["translate", "apply", str(model), str(tmp_path / "in"), "--out", str(out), "--uncertainty"]) == 0
    sct, spread = load_volume(out / "case_a_sct.nii.gz"), load_volume(out / "case_a_sct_spread.nii.gz")
    assert sct.same_grid(spread) and float(spread.array.max()) > 0
    # evaluate translation pairs case_a_sct with the reference case_a and leaves the spread map out
    write_nifti(sct.with_array(sct.array + 10.0), tmp_path / "ref" / "case_a.nii.gz")
    assert main(["evaluate", "translation", "--predicted", str(out), "--reference", str(tmp_path / "ref"),
                 "--out", str(tmp_path / "report")]) == 0
    import json

    rep = json.loads((tmp_path / "report" / "report.json").read_text())
    mae = next(m for m in rep["metrics"] if m["name"] == "translation_mae_hu")
    assert mae["value"] == pytest.approx(10.0, abs=0.6)  # int16 rounding of both files
    assert any("spread" in n for n in rep["notes"])

    arr = mr_volume.array.copy()
    arr[5:7, 5:7, 5:7] = np.nan
    write_nifti(mr_volume.with_array(arr), tmp_path / "nan" / "case_b.nii.gz", dtype="float32")
    capsys.readouterr()
    assert main(["translate", "apply", str(model), str(tmp_path / "nan"), "--out", str(tmp_path / "o1")]) == 2
    err = capsys.readouterr().err
    assert "case_b.nii.gz" in err and "8 non-finite voxel(s)" in err
    assert not list((tmp_path / "o1").glob("*.nii.gz"))  # nothing written
    assert main(["translate", "apply", str(model), str(tmp_path / "nan"), "--out", str(tmp_path / "o2"), "--nonfinite", "mask"]) == 0
    assert "8 non-finite input voxel(s) left out" in capsys.readouterr().out
    assert int(np.isnan(load_volume(tmp_path / "o2" / "case_b_sct.nii.gz").array).sum()) == 8
    assert main(["translate", "apply", str(model), str(tmp_path / "nan"), "--out", str(tmp_path / "o3"), "--nonfinite", "mask",
                 "--format", "dicom"]) == 2
    assert "DICOM" in capsys.readouterr().err
