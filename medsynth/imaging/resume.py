"""Resuming an imaging run safely: the config and the data must be the ones the run started with.

* :func:`check_resume_config`: only the keys in :data:`RESUMABLE_CHANGES` may differ from the run's
  ``config.yaml`` (more steps, another device...); anything else is refused, naming each key.
* :func:`data_record` / :func:`check_resume_data`: a run records its data source and content
  fingerprint in ``RUN/private/data_source.json``; resuming on other data is refused, naming both
  sources (the same content under another path is accepted).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from medsynth.core.config import read_yaml
from medsynth.core.errors import ConfigError, DataValidationError, RunDirectoryError
from medsynth.imaging.data import TrainingData

CONFIG = "config.yaml"
#: Where a run records which data it was trained on (checked on --resume; not part of the saved model).
DATA_RECORD = "private/data_source.json"
#: Config keys that may change when resuming a run (everything else must match the saved config).
RESUMABLE_CHANGES = ("train.max_steps", "train.device", "train.checkpoint_every", "train.sample_every",
                     "train.log_every", "train.num_threads", "sample", "data.cache_dir")


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def data_record(data: Any, train_data: TrainingData, labels_dir: str | Path | None) -> dict[str, Any]:
    """What a run was trained on: the source (a path, or the kind of object), content fingerprint, size."""
    def where(x: Any) -> str:
        return str(Path(x).resolve()) if isinstance(x, (str, Path)) else f"<{type(x).__name__} of {train_data.n_volumes} volumes>"

    return {"source": where(data), "labels_dir": None if labels_dir is None else where(labels_dir),
            "fingerprint": train_data.fingerprint, "n_volumes": train_data.n_volumes}


def check_resume_data(out: Path, record: dict[str, Any]) -> None:
    """Refuse to resume ``out`` on data other than it was trained on (naming both sources).

    Raises:
        DataValidationError: the fingerprints differ.
    """
    f = out / DATA_RECORD
    if not f.is_file():
        return  # a run written before data records: nothing to compare with
    saved = json.loads(f.read_text(encoding="utf-8"))
    if saved.get("fingerprint") == record["fingerprint"]:
        return
    raise DataValidationError(
        f"cannot resume '{out}' with other data: it was trained on '{saved.get('source')}' ({saved.get('n_volumes')} volumes, "
        f"fingerprint {saved.get('fingerprint')}) but --data '{record['source']}' holds different volumes "
        f"({record['n_volumes']}, fingerprint {record['fingerprint']}); resume with --data '{saved.get('source')}', "
        "or start a new run (another --out, or --force)"
    )


def check_resume_config(out: Path, config: BaseModel) -> None:
    """Refuse to resume ``out`` with a config that differs beyond :data:`RESUMABLE_CHANGES`.

    Raises:
        RunDirectoryError: the run has no config.yaml.
        ConfigError: naming each changed key, its saved and new value.
    """
    saved_file = out / CONFIG
    if not saved_file.is_file():
        raise RunDirectoryError(f"cannot resume: '{out}' has no {CONFIG}; start a new run without --resume")
    saved = _flatten(read_yaml(saved_file))
    now = _flatten(config.model_dump(mode="json"))
    diff = sorted(k for k in set(saved) | set(now)
                  if saved.get(k) != now.get(k) and not k.startswith(RESUMABLE_CHANGES))
    if diff:
        shown = ", ".join(f"{k}: {saved.get(k)!r} -> {now.get(k)!r}" for k in diff[:8])
        raise ConfigError(
            f"cannot resume '{out}' with a different config ({shown}); only {', '.join(RESUMABLE_CHANGES)} may "
            "change. Use the run's own config.yaml, or start a new run"
        )


__all__ = ["DATA_RECORD", "RESUMABLE_CHANGES", "check_resume_config", "check_resume_data", "data_record"]
