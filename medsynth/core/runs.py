"""Looking at runs from outside: which runs a folder holds, their state, and their kind.

``medsynth runs DIR`` lists them (:func:`list_runs`); commands that read a run check its kind first
(:func:`check_run_kind`), so an image run given to ``tabular sample`` is a named error, not a crash.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from medsynth.core.errors import RunDirectoryError
from medsynth.core.rundir import MARKER, run_state

#: What reads a run of each kind, for messages that point a user to the right command.
_READERS = {"tabular": "medsynth tabular sample", "multitable": "medsynth tabular sample", "vae3d": "medsynth image sample",
            "gan3d": "medsynth image sample", "ldm3d": "medsynth image sample",
            "mr2ct_cyclegan": "medsynth translate apply", "demo": "the run folders inside it"}


def run_kind(path: str | Path) -> str | None:
    """The ``kind`` of the run at ``path`` (from run.json, else its config.yaml), or None when not recorded."""
    import yaml

    p = Path(path)
    for file in (p / MARKER, p / "config.yaml"):
        if not file.is_file():
            continue
        try:
            data = json.loads(file.read_text(encoding="utf-8")) if file.suffix == ".json" else yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("kind"), str):
            return data["kind"]
    return None


def check_run_kind(path: str | Path, expected: tuple[str, ...], *, command: str) -> None:
    """Refuse a run of another kind before loading it (e.g. an image run given to ``tabular sample``).

    Raises:
        RunDirectoryError: naming the run's kind and the command that reads it.
    """
    kind = run_kind(path)
    if kind is not None and kind not in expected:
        reader = _READERS.get(kind)
        hint = f"; use {reader}" if reader else ""
        raise RunDirectoryError(f"'{path}' is a {kind} run, not a {' or '.join(expected)} one, so `{command}` cannot read it{hint}")


def list_runs(root: str | Path) -> list[dict[str, Any]]:
    """Every medsynth run under ``root`` (``root`` itself included), with its state, oldest first.

    Each entry: path, state (see :func:`run_state`), status as recorded, kind and model (from run.json
    or config.yaml), created, finished, pid, host, command and error. Hidden folders (temporaries) are
    skipped; an unreadable run.json is listed with state ``unknown``.

    Raises:
        RunDirectoryError: when ``root`` is not a folder.
    """
    import yaml

    base = Path(root)
    if not base.is_dir():
        raise RunDirectoryError(f"'{base}' is not a folder; give a folder holding medsynth runs")
    found = [base / MARKER] if (base / MARKER).is_file() else []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if MARKER in filenames and Path(dirpath) != base:
            found.append(Path(dirpath) / MARKER)
    out = []
    for marker in found:
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            if not isinstance(info, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            info = {"status": None, "error": f"run.json cannot be read ({exc})"}
        kind, model = info.get("kind"), info.get("model")
        cfg_file = marker.parent / "config.yaml"
        if (kind is None or model is None) and cfg_file.is_file():
            try:
                cfg = yaml.safe_load(cfg_file.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError):
                cfg = {}
            if isinstance(cfg, dict):
                kind = kind or cfg.get("kind")
                model = model or (cfg.get("model") if isinstance(cfg.get("model"), str) else None)
        out.append({
            "path": str(marker.parent), "state": run_state(info), "status": info.get("status"), "kind": kind,
            "model": model, "created": info.get("created"), "finished": info.get("finished"), "pid": info.get("pid"),
            "host": info.get("host"), "command": info.get("command"), "error": info.get("error"), "warning": info.get("warning"),
        })
    return sorted(out, key=lambda r: (str(r["created"] or ""), r["path"]))


__all__ = ["check_run_kind", "list_runs", "run_kind"]
