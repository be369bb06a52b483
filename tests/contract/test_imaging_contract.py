"""The Synthesizer contract for every imaging synthesizer in the registry (vae3d, gan3d, ldm3d).

fit -> sample -> save -> load -> the same samples for the same seed; bad config -> ConfigError.
Data here is a list of Volumes (phantoms made in memory), the other input form ``fit`` accepts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medsynth.core.config import validate_config
from medsynth.core.errors import ConfigError
from medsynth.core.protocols import Synthesizer
from medsynth.core.registry import CONFIG_KINDS, SYNTHESIZERS, config_schema, resolve

IMAGING = sorted(name for name, target in SYNTHESIZERS.items() if target.startswith("medsynth.imaging."))
TINY = {
    "vae3d": {"model": {"channels": [8, 16], "norm_num_groups": 4, "latent_channels": 2}},
    "gan3d": {"model": {"latent_dim": 8, "gen_channels": [8, 8], "disc_channels": [8, 8], "norm_num_groups": 4}},
    "ldm3d": {"model": {"vae": {"channels": [8, 16], "norm_num_groups": 4, "latent_channels": 2},
                        "unet": {"channels": [16, 16], "attention_levels": [False, True], "norm_num_groups": 8,
                                 "num_head_channels": 8, "num_res_blocks": 1}},
              "diffusion": {"inference_steps": 3}},
}


@pytest.fixture(scope="module")
def volumes():
    from medsynth.io.phantoms import PhantomConfig, make_phantom

    cfg = PhantomConfig(shape=(16, 16, 16), spacing=(4.0, 4.0, 4.0))
    vols = []
    for seed in range(4):
        ct = make_phantom(seed, cfg).ct
        ct.meta["label"] = "a" if seed % 2 else "b"
        vols.append(ct)
    return vols


def _config(name: str):
    data = {
        "kind": name, "modality": "CT",
        "preprocessing": {"spacing": [4.0, 4.0, 4.0], "spatial_size": [16, 16, 16]},
        "train": {"max_steps": 2, "batch_size": 2, "device": "cpu", "num_threads": 1},
        **TINY.get(name, {}),
    }
    return validate_config(config_schema(name), data)


def test_imaging_synthesizers_are_registered():
    assert {"vae3d", "gan3d", "ldm3d"} <= set(IMAGING)
    assert {"vae3d", "gan3d", "ldm3d"} <= set(CONFIG_KINDS)


@pytest.mark.parametrize("name", IMAGING)
def test_contract(name: str, volumes, tmp_path: Path):
    cls = resolve(SYNTHESIZERS, name)
    model = cls(_config(name))
    assert isinstance(model, Synthesizer)
    assert model.fit(volumes) is model
    first = model.sample(2, seed=3)
    assert len(first) == 2 and first[0].spatial_shape == (16, 16, 16) and first[0].modality == "CT"
    assert {v.meta["label"] for v in model.sample(4, seed=0)} <= {"a", "b"}
    model.save(tmp_path)
    again = cls.load(tmp_path, device="cpu").sample(2, seed=3)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.array, b.array)
        np.testing.assert_array_equal(a.affine, b.affine)


@pytest.mark.parametrize("name", IMAGING)
def test_bad_config_is_a_config_error(name: str):
    with pytest.raises(ConfigError, match="unknown key"):
        validate_config(config_schema(name), {"kind": name, "trian": {}})
    with pytest.raises(ConfigError):
        validate_config(config_schema(name), {"kind": name, "train": {"max_steps": 0}})
