"""Tiny configs shared by the imaging tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

from typing import Any

from medsynth.core.config import validate_config
from medsynth.core.registry import config_schema

TINY_PRE: dict[str, Any] = {"spacing": [4.0, 4.0, 4.0], "spatial_size": [16, 16, 16], "ct_window": [-1024.0, 1024.0]}
TINY_MODEL: dict[str, dict[str, Any]] = {
    "vae3d": {"channels": [8, 16], "norm_num_groups": 4, "latent_channels": 2, "disc_channels": 8, "disc_layers": 2},
    "gan3d": {"latent_dim": 16, "gen_channels": [16, 8], "disc_channels": [8, 16], "norm_num_groups": 4},
    "ldm3d": {"vae": {"channels": [8, 16], "norm_num_groups": 4, "latent_channels": 2},
              "unet": {"channels": [16, 32], "attention_levels": [False, True], "norm_num_groups": 8, "num_head_channels": 8,
                       "num_res_blocks": 1, "controlnet_conditioning": 4}},
}
#: ldm3d samples in 4 steps in tests (the configs use 30).
TINY_EXTRA: dict[str, dict[str, Any]] = {"ldm3d": {"diffusion": {"inference_steps": 4, "batch_size": 4}}}
TINY_TRAIN: dict[str, Any] = {"max_steps": 2, "batch_size": 2, "device": "cpu", "checkpoint_every": 1, "log_every": 1, "num_threads": 1}


def tiny_config(kind: str, *, modality: str = "CT", train: dict[str, Any] | None = None, **sections: Any) -> Any:
    """A validated config of ``kind`` at 16^3 with tiny networks and 2 CPU steps."""
    data: dict[str, Any] = {
        "kind": kind,
        "modality": modality,
        "preprocessing": dict(TINY_PRE),
        "model": dict(TINY_MODEL[kind]),
        "train": {**TINY_TRAIN, **(train or {})},
    }
    for key, value in {**TINY_EXTRA.get(kind, {}), **sections}.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return validate_config(config_schema(kind), data)


def tiny_sets(kind: str) -> list[str]:
    """``--set`` overrides that shrink any vae3d/gan3d/ldm3d config in configs/ to the tiny variant."""
    import json

    out = [f"preprocessing.{k}={json.dumps(v)}" for k, v in TINY_PRE.items() if k != "ct_window"]
    out += [f"model.{k}={json.dumps(v)}" for k, v in TINY_MODEL[kind].items()]
    out += [f"{sec}.{k}={json.dumps(v)}" for sec, vals in TINY_EXTRA.get(kind, {}).items() for k, v in vals.items()]
    out += [f"train.{k}={json.dumps(v)}" for k, v in TINY_TRAIN.items()]
    return out + ["train.sample_every=1", "sample.batch_size=2"]
