"""Every ready-made experiment in configs/ loads through its declared kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsynth.core.config import load_config, read_yaml
from medsynth.core.errors import ConfigError
from medsynth.core.registry import CONFIG_KINDS, SYNTHESIZERS, TRANSLATORS, config_schema, resolve

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_there_are_configs():
    assert CONFIGS, "configs/ holds no YAML"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads(path: Path):
    raw = read_yaml(path)
    assert "kind" in raw, f"{path.name} needs a top-level 'kind' ({sorted(CONFIG_KINDS)})"
    schema = config_schema(raw["kind"])
    cfg = load_config(schema, path)
    assert cfg.kind == raw["kind"]


def test_unknown_kind_suggests():
    with pytest.raises(ConfigError, match="did you mean 'demo'"):
        config_schema("dem")


@pytest.mark.parametrize("table", [SYNTHESIZERS, TRANSLATORS, CONFIG_KINDS], ids=["synthesizers", "translators", "kinds"])
def test_registry_entries_resolve(table: dict[str, str]):
    for name in table:
        assert resolve(table, name) is not None
