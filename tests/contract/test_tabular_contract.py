"""Every registered tabular synthesizer through one suite: fit -> sample -> save -> load -> identical
samples with the same seed; the schema (types, domains, constraints, new IDs) respected; bad config ->
ConfigError; privacy labelled correctly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medsynth.core.errors import ConfigError
from medsynth.core.protocols import PrivateModel, Synthesizer
from medsynth.core.registry import SYNTHESIZERS, resolve
from medsynth.tabular import TABULAR_MODELS
from medsynth.tabular.base import TabularSynthesizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tabular"))
from tabular_helpers import make_schema, make_table  # noqa: E402

TINY = {
    "dp-tvae": {"latent_dim": 4, "hidden": [16], "train": {"epochs": 2, "batch_size": 16}},
    "dp-ctgan": {"embedding_dim": 8, "generator_dim": [16], "discriminator_dim": [16], "train": {"epochs": 2, "batch_size": 16}},
    "dp-mst": {"bins": 4, "fine_bins": 16},
    "dp-aim": {"bins": 4, "fine_bins": 16, "rounds_per_column": 1, "round_iters": 10, "iters": 50},
    "dp-merf": {"features": 64, "hidden": [16], "steps": 20, "batch_size": 32},
    "gaussian-copula": {"default_distribution": "norm"},
    "ctgan": {"epochs": 1, "batch_size": 20},
    "tvae": {"epochs": 1, "batch_size": 20},
}
EPS = {"dp-tvae": 5.0, "dp-ctgan": 5.0, "dp-mst": 1.0, "dp-aim": 1.0, "dp-merf": 1.0}


def test_every_tabular_model_is_registered_and_has_tiny_settings():
    assert set(TABULAR_MODELS) <= set(SYNTHESIZERS)
    assert set(TINY) == set(TABULAR_MODELS)


@pytest.fixture(scope="module", params=sorted(TABULAR_MODELS))
def fitted(request, tmp_path_factory):
    name = request.param
    klass = resolve(SYNTHESIZERS, name)
    privacy = {"epsilon": EPS.get(name), "delta": 1e-3}
    model = klass(TINY[name], privacy=privacy, schema=make_schema(), seed=1, device="cpu").fit(make_table())
    folder = tmp_path_factory.mktemp(name.replace("-", "_")) / "model"
    model.save(folder)
    return name, model, folder


def test_protocols(fitted):
    _, model, _ = fitted
    assert isinstance(model, Synthesizer) and isinstance(model, PrivateModel)


def test_same_seed_same_sample_after_reload(fitted):
    name, model, folder = fitted
    a = model.sample(50, seed=7)
    b = model.sample(50, seed=7)
    c = model.sample(50, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c), f"{name}: different seeds gave the same rows"
    loaded = TabularSynthesizer.load(folder)
    assert type(loaded) is type(model)
    pd.testing.assert_frame_equal(loaded.sample(50, seed=7), a)


def test_schema_respected(fitted):
    name, model, _ = fitted
    schema = make_schema()
    df = model.sample(300, seed=3)
    assert list(df.columns) == schema.names and len(df) == 300
    for col in schema.modelled:  # no missing values where the schema declares none
        if not col.missing:
            assert df[col.name].notna().all(), f"{name}: '{col.name}' has missing values but the schema says missing: false"
    assert df["patient_id"].is_unique and df["patient_id"].str.startswith("syn-").all()
    assert not set(df["patient_id"]) & set(make_table()["patient_id"])
    assert set(df["sex"].dropna()) <= {"F", "M"}
    assert set(df["death"].dropna().astype(int)) <= {0, 1}
    age = df["age"].dropna()
    assert pd.api.types.is_integer_dtype(age) and age.between(18, 100).all()
    creat = df["creatinine"].dropna()
    assert creat.between(0, 15).all()
    admit = pd.to_datetime(df["admit"], format="%d/%m/%Y")  # raises if the format is not kept
    discharge = pd.to_datetime(df["discharge"], format="%d/%m/%Y")
    assert (admit.dropna() >= pd.Timestamp("2019-06-01")).all()
    both = admit.notna() & discharge.notna()
    assert (admit[both] <= discharge[both]).all(), "constraint admit <= discharge violated"


def test_conditional_sampling(fitted):
    _, model, _ = fitted
    df = model.sample(40, seed=1, where={"sex": "F"})
    assert len(df) == 40 and (df["sex"] == "F").all()


def test_privacy_label_and_ledger(fitted):
    name, model, folder = fitted
    rep = model.privacy_spent()
    meta = json.loads((folder / "meta.json").read_text())
    ledger = json.loads((folder / "privacy_ledger.json").read_text())
    if name in EPS:
        assert rep.private and 0 < rep.epsilon <= EPS[name] + 1e-9
        assert ledger["private"] is True and ledger["total_epsilon"] <= ledger["target_epsilon"] + 1e-9
        assert meta["label"] == "differentially private"
    else:
        assert not rep.private and ledger["private"] is False
        assert meta["label"] == "NOT differentially private"


@pytest.mark.parametrize("name", sorted(TABULAR_MODELS))
def test_bad_config_is_config_error(name):
    klass = resolve(SYNTHESIZERS, name)
    with pytest.raises(ConfigError, match="did you mean|unknown key"):
        klass({"epochz": 3, "bnis": 4, "latent_dmi": 2, "default_distributon": "x", "embeding_dim": 1}, privacy={"epsilon": EPS.get(name)})
    if name not in EPS:
        with pytest.raises(ConfigError, match="not differentially private"):
            klass(privacy={"epsilon": 1.0})


def test_sample_before_fit_is_an_error():
    from medsynth.core.errors import NotFittedError

    with pytest.raises(NotFittedError):
        resolve(SYNTHESIZERS, "dp-mst")(privacy={"epsilon": 1.0}).sample(3)


def test_no_pickles_for_our_models(fitted):
    name, _, folder = fitted
    files = {p.name for p in folder.iterdir()}
    if name.startswith("dp-"):
        assert not any(f.endswith((".pkl", ".pickle")) for f in files)
        if (folder / "weights.pt").is_file():
            import torch

            torch.load(folder / "weights.pt", weights_only=True)
    np.testing.assert_equal("schema.yaml" in files and "config.yaml" in files and "meta.json" in files, True)
