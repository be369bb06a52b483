from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsynth.core.config import validate_config
from medsynth.core.errors import ConfigError
from medsynth.io import read_dicom_series, read_nifti
from medsynth.io.transforms import PreprocessConfig, VolumePreprocessor


def test_ct_window_to_unit_range_and_back_to_hu(real_ct_nifti: Path):
    vol = read_nifti(real_ct_nifti)
    shape = vol.spatial_shape
    pre = VolumePreprocessor(PreprocessConfig(spatial_size=(shape[0] + 6, shape[1] + 3, shape[2] + 2)))
    prepared = pre(vol)
    t = prepared.tensor
    assert t.shape == (1, shape[0] + 6, shape[1] + 3, shape[2] + 2)
    assert float(t.min()) >= -1.0 and float(t.max()) <= 1.0
    assert float(t[0, 0, 0, 0]) == -1.0  # padding is air
    back = pre.invert(prepared)
    assert back.spatial_shape == shape
    assert np.allclose(back.affine, vol.affine, atol=1e-5)
    expected = np.clip(vol.array, -1024, 3000)
    assert np.abs(back.array - expected).max() < 0.05  # float32 rounding only


def test_resampling_and_reorientation_invert_to_the_dicom_grid(real_ct_dicom: Path):
    vol = read_dicom_series(real_ct_dicom)
    vol = vol.with_array(vol.array[::4, ::4, :])  # smaller for speed
    vol.affine = vol.affine @ np.diag([4.0, 4.0, 1.0, 1.0])
    pre = VolumePreprocessor(PreprocessConfig(orientation="RAS", spacing=(4.0, 4.0, 4.0), spatial_size=(128, 128, 12)))
    prepared = pre(vol)
    assert np.allclose(np.abs(np.diag(prepared.tensor.affine.numpy())[:3]), 4.0)
    ras = prepared.tensor.affine.numpy()
    assert ras[0, 0] > 0 and ras[1, 1] > 0  # reoriented to RAS
    back = pre.invert(prepared)
    assert back.orientation == "LPS" and back.spatial_shape == vol.spatial_shape
    assert np.allclose(back.affine, vol.affine, atol=1e-3)
    # downsampling by 2 along k then back loses detail but keeps the HU level of the body
    inside = vol.array[40:90, 40:90, 4:16]
    assert abs(np.median(back.array[40:90, 40:90, 4:16]) - np.median(inside)) < 30


def test_mr_percentile_normalisation_is_recorded_and_inverted(real_mr_nifti: Path):
    vol = read_nifti(real_mr_nifti, modality="MR")
    pre = VolumePreprocessor(PreprocessConfig(spatial_size=vol.spatial_shape, mr_percentiles=(1.0, 99.0)))
    prepared = pre(vol)
    lo, hi = np.percentile(vol.array, [1.0, 99.0])
    assert prepared.low == pytest.approx(lo) and prepared.high == pytest.approx(hi)
    back = pre.invert(prepared)
    inside = (vol.array >= lo) & (vol.array <= hi)
    assert np.abs(back.array[inside] - vol.array[inside]).max() < 1e-2 * (hi - lo)


def test_sample_to_volume_uses_the_training_grid():
    pre = VolumePreprocessor(PreprocessConfig(spacing=(2.0, 2.0, 3.0), spatial_size=(8, 8, 8)))
    import torch

    x = torch.zeros(1, 8, 8, 8)
    vol = pre.sample_to_volume(x, "CT")
    assert vol.spacing == (2.0, 2.0, 3.0) and vol.orientation == "RAS"
    assert np.allclose(vol.array, (3000 - 1024) / 2)  # 0 is the middle of the HU window


def test_config_validation_messages():
    with pytest.raises(ConfigError, match="must be positive millimetres"):
        validate_config(PreprocessConfig, {"spacing": [1, 0, 1]})
    with pytest.raises(ConfigError, match="lower bound must be below"):
        validate_config(PreprocessConfig, {"ct_window": [100, -100]})
    with pytest.raises(ConfigError, match="3 axis codes"):
        validate_config(PreprocessConfig, {"orientation": "RRS"})
