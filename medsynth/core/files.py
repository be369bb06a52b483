"""Atomic file and directory writes: nothing medsynth writes is ever left half-written.

Write to a temporary sibling, then ``os.replace`` it into place; on any error the temporary is
removed and the destination is untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary file path beside ``dest``; move it onto ``dest`` when the block succeeds."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(dest: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside ``dest``; rename it to ``dest`` when the block succeeds.

    Args:
        dest: the final directory.
        overwrite: replace an existing ``dest``; otherwise an existing non-empty ``dest`` is an error.
    """
    from medsynth.core.errors import RunDirectoryError

    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()) and not overwrite:
        raise RunDirectoryError(
            f"output folder '{dest}' already exists and is not empty; choose another path or "
            "remove it (or pass --force where the command offers it)"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        yield tmp
        if dest.exists():
            shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text(dest: str | Path, text: str) -> Path:
    """Atomically write a text file (UTF-8)."""
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(dest)


def write_json(dest: str | Path, data: Any) -> Path:
    """Atomically write JSON (indented, keys in insertion order, NaN refused)."""
    return write_text(dest, json.dumps(data, indent=2, allow_nan=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def fingerprint_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint_array(array: Any) -> str:
    """SHA-256 of an array's dtype, shape and bytes (first 16 hex digits)."""
    import numpy as np

    arr = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{arr.dtype}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()[:16]


__all__ = ["atomic_dir", "atomic_path", "fingerprint_array", "fingerprint_file", "write_json", "write_text"]
