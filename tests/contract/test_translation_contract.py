"""Every registered translator through one suite: fit -> translate -> save -> load -> same output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from medsynth.core.errors import ConfigError, MedsynthError
from medsynth.core.protocols import Translator
from medsynth.core.registry import TRANSLATORS, resolve
from medsynth.io.phantoms import PhantomConfig, make_phantom

#: The smallest config of each registered translator (a new translator adds its line here).
TINY: dict[str, dict[str, Any]] = {
    "cyclegan": {
        "generator": {"base_channels": 4, "n_res_blocks": 1},
        "discriminator": {"channels": 4, "num_layers": 2},
        "data": {"patch_size": [16, 16]},
        "train": {"max_steps": 2, "batch_size": 2, "device": "cpu"},
    },
}
#: A config each translator must refuse.
BAD: dict[str, dict[str, Any]] = {"cyclegan": {"data": {"patch_size": [15, 15]}}}


@pytest.fixture(scope="module")
def pairs():
    cases = [make_phantom(100 + i, PhantomConfig(shape=(20, 20, 16))) for i in range(3)]
    return [c.mr for c in cases], [c.ct for c in cases]


def test_every_translator_has_a_tiny_config():
    assert set(TRANSLATORS) <= set(TINY), f"add a tiny config for {sorted(set(TRANSLATORS) - set(TINY))}"


@pytest.mark.parametrize("name", sorted(TRANSLATORS))
def test_contract(name: str, pairs, tmp_path: Path):
    cls = resolve(TRANSLATORS, name, what="translator")
    mr, ct = pairs
    model = cls(TINY[name]).fit(mr[:2], ct[:2])
    assert isinstance(model, Translator)
    out = model.translate(mr[2])
    assert out.same_grid(mr[2]) and out.modality == "CT" and out.units == "HU"
    model.save(tmp_path / "model")
    again = cls.load(tmp_path / "model", device="cpu")
    np.testing.assert_array_equal(again.translate(mr[2]).array, out.array)


@pytest.mark.parametrize("name", sorted(TRANSLATORS))
def test_contract_bad_config_and_bad_input(name: str, pairs):
    cls = resolve(TRANSLATORS, name, what="translator")
    with pytest.raises(ConfigError):
        cls(BAD[name])
    mr, ct = pairs
    with pytest.raises(MedsynthError):
        cls(TINY[name]).fit(ct[:2], ct[:2])  # CT given as source
