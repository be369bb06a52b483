from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from medsynth.core.config import ConfigModel, apply_overrides, config_hash, load_config, validate_config
from medsynth.core.errors import ConfigError


class Inner(ConfigModel):
    max_steps: int = Field(10, ge=1)
    lr: float = 1e-3


class Outer(ConfigModel):
    kind: str = "x"
    train: Inner = Inner()
    name: str = "run"


def test_unknown_key_is_rejected_with_did_you_mean():
    with pytest.raises(ConfigError) as exc:
        validate_config(Outer, {"train": {"max_stpes": 5}})
    msg = str(exc.value)
    assert "unknown key 'train.max_stpes'" in msg
    assert "did you mean 'max_steps'" in msg


def test_every_problem_is_listed():
    with pytest.raises(ConfigError) as exc:
        validate_config(Outer, {"nmae": "a", "train": {"max_steps": 0, "lr": "fast"}})
    msg = str(exc.value)
    assert "did you mean 'name'" in msg
    assert "'train.max_steps' = 0" in msg
    assert "'train.lr' = 'fast'" in msg


def test_overrides_are_parsed_as_yaml_and_validated(tmp_path: Path):
    f = tmp_path / "c.yaml"
    f.write_text("kind: x\ntrain:\n  max_steps: 100\n")
    cfg = load_config(Outer, f, overrides=["train.max_steps=3", "train.lr=0.5", "name=small"])
    assert cfg.train.max_steps == 3 and cfg.train.lr == 0.5 and cfg.name == "small"
    with pytest.raises(ConfigError, match="did you mean 'lr'"):
        load_config(Outer, f, overrides=["train.lrr=1"])
    with pytest.raises(ConfigError, match="key.sub=value"):
        apply_overrides({}, ["train.max_steps"])
    with pytest.raises(ConfigError, match="'train.max_steps' = -1"):
        load_config(Outer, f, overrides=["train.max_steps=-1"])


def test_bad_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Outer, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Outer, bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping at top level"):
        load_config(Outer, lst)


def test_config_hash_is_stable_and_sensitive():
    a, b = Outer(), Outer()
    assert config_hash(a) == config_hash(b)
    b.train.lr = 0.1
    assert config_hash(a) != config_hash(b)
