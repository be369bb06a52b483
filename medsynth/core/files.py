"""Atomic file and directory writes: nothing medsynth writes is ever left half-written.

Write to a temporary sibling, then ``os.replace`` it into place; on any error the temporary is
removed and the destination is untouched. A temporary's name carries its writer's host and pid
(``.NAME.HOST-PID-XXXX.tmp``), so one left behind by a killed process is recognised and removed
by the next write into the same folder. Outputs are checked *before* work starts with
:func:`check_output`; any path that cannot be written is one :class:`OutputPathError` naming it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from medsynth.core.errors import OutputPathError

#: errno values of a write that fails because of where it goes, whichever file the error names.
_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}
_TMP_RE = re.compile(r"^\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[a-z0-9_]+\.tmp$")
_OLD_TMP_RE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")  # the name format before writers were recorded
_OLD_TMP_AGE_S = 3600.0
_NAME_MAX = 255  # bytes in one path component on Linux, macOS and Windows filesystems
_CLEANED: set[str] = set()
_UMASK: list[int] = []


def host_tag() -> str:
    """8 hex digits naming this machine (in temporary file names)."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (True when it cannot be told)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) is not a probe on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def _umask() -> int:
    if not _UMASK:
        current = os.umask(0)
        os.umask(current)
        _UMASK.append(current)
    return _UMASK[0]


def _is_place_error(exc: OSError, *paths: Path) -> bool:
    """Whether ``exc`` is about where the output goes (disk full, read-only, or naming one of ``paths``)."""
    named = {str(exc.filename), str(getattr(exc, "filename2", None))}
    return exc.errno in _SPACE_ERRNOS or any(str(p) in named for p in paths)


def _place_error(path: Path, exc: OSError, *, what: str = "output") -> OutputPathError:
    reason = exc.strerror or type(exc).__name__
    return OutputPathError(f"cannot write {what} '{path}': {reason}; choose a path in a folder you can write to")


def _check_names(p: Path, what: str = "output") -> None:
    """Refuse a path component too long for the filesystem (the leaf also names its temporary sibling).

    Raises:
        OutputPathError: naming the component.
    """
    for part in p.parts:
        # the leaf also names its temporary sibling, ".NAME.HOST-PID-XXXXXXXX.tmp" (about 40 bytes more)
        extra = 40 if part == p.name else 0
        if len(part.encode()) + extra > _NAME_MAX:
            raise OutputPathError(
                f"cannot write {what} '{p}': the name '{part[:40]}...' is {len(part.encode())} bytes long; names must stay "
                f"under {_NAME_MAX - extra} bytes here: choose a shorter one"
            )


def check_output(path: str | Path, *, kind: Literal["file", "dir"] = "file", what: str = "output") -> Path:
    """Check, before any work is done, that ``path`` can be created (or replaced) as a file or folder.

    Walks up to the nearest existing folder: every existing ancestor must be a folder, and that folder
    must accept a new file (a probe file is created and removed there). Nothing is created.

    Args:
        path: the output file or folder.
        kind: "file" or "dir" (what the command will write at ``path``).
        what: how the message names it (e.g. "--out").

    Returns:
        ``path`` as a Path.

    Raises:
        OutputPathError: one line naming the path and why it cannot be written.
    """
    p = Path(path)
    if str(path) == "":
        raise OutputPathError(f"{what} is empty; give a path")
    _check_names(p, what)
    if p.exists():
        if kind == "file" and p.is_dir():
            raise OutputPathError(f"{what} '{p}' is a folder; give a file name (e.g. '{p / 'out'}' with an extension)")
        if kind == "dir" and not p.is_dir():
            raise OutputPathError(f"{what} '{p}' is a file, not a folder; choose another path (it is left untouched)")
    anc = p.parent if str(p.parent) else Path(".")
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise OutputPathError(f"cannot create {what} '{p}': '{anc}' is a file, not a folder; choose another path")
    probe_dirs = [anc] + ([p] if kind == "dir" and p.is_dir() else [])
    for folder in probe_dirs:
        try:
            fd, probe = tempfile.mkstemp(prefix=".medsynth-probe-", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise OutputPathError(
                f"cannot create {what} '{p}': '{folder}' does not accept new files ({exc.strerror or type(exc).__name__}); "
                "choose a path in a folder you can write to"
            ) from None
    return p


def remove_stale_temporaries(folder: str | Path, *, force: bool = False) -> list[Path]:
    """Remove temporaries in ``folder`` left by writers that are gone (killed mid-write).

    A temporary whose writer (host, pid) still runs, or that was written on another machine, is kept.
    Temporaries in the older name format (no writer recorded) are removed when older than an hour.
    Runs once per folder and process unless ``force``.

    Returns:
        The paths removed.
    """
    d = Path(folder)
    key = str(d.resolve()) if d.exists() else str(d)
    if (key in _CLEANED and not force) or not d.is_dir():
        return []
    _CLEANED.add(key)
    removed: list[Path] = []
    me, host = os.getpid(), host_tag()
    try:
        entries = list(os.scandir(d))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.endswith(".tmp") or not entry.name.startswith("."):
            continue
        m = _TMP_RE.match(entry.name)
        if m is not None:
            pid = int(m["pid"])
            if m["host"] != host or pid == me or pid_alive(pid):
                continue
        elif _OLD_TMP_RE.match(entry.name):
            try:
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < _OLD_TMP_AGE_S:
                    continue
            except OSError:
                continue
        else:
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _tmp_prefix(dest: Path) -> str:
    return f".{dest.name}.{host_tag()}-{os.getpid()}-"


def _make_parent(dest: Path) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _place_error(dest, exc) from None
    remove_stale_temporaries(dest.parent)


@contextlib.contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary file path beside ``dest``; move it onto ``dest`` when the block succeeds.

    Raises:
        OutputPathError: when ``dest`` cannot be written there (parent is a file, read-only, disk full).
    """
    dest = Path(dest)
    _check_names(dest)
    _make_parent(dest)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(dest), suffix=".tmp", dir=dest.parent)
        os.close(fd)
    except OSError as exc:
        raise _place_error(dest, exc) from None
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            if tmp_path.exists():
                os.chmod(tmp_path, 0o666 & ~_umask())  # as any other tool would create it (mkstemp: 0600)
            os.replace(tmp_path, dest)
        except OSError as exc:
            if _is_place_error(exc, tmp_path, dest):
                raise _place_error(dest, exc) from None
            raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(dest: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside ``dest``; rename it to ``dest`` when the block succeeds.

    Args:
        dest: the final directory.
        overwrite: replace an existing ``dest``; otherwise an existing non-empty ``dest`` is an error.

    Raises:
        RunDirectoryError: ``dest`` exists, is not empty and ``overwrite`` is False.
        OutputPathError: ``dest`` is a file, or cannot be written there.
    """
    from medsynth.core.errors import RunDirectoryError

    dest = Path(dest)
    _check_names(dest, "output folder")
    if dest.exists() and not dest.is_dir():
        raise OutputPathError(f"output folder '{dest}' is a file; choose another path (the file is left untouched)")
    if dest.exists() and any(dest.iterdir()) and not overwrite:
        raise RunDirectoryError(
            f"output folder '{dest}' already exists and is not empty; choose another path or "
            "remove it (or pass --force where the command offers it)"
        )
    _make_parent(dest)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(dest), suffix=".tmp", dir=dest.parent))
    except OSError as exc:
        raise _place_error(dest, exc) from None
    try:
        try:
            yield tmp
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
            if dest.exists():
                shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
            os.replace(tmp, dest)
        except OSError as exc:
            if _is_place_error(exc, tmp, dest):
                raise _place_error(dest, exc) from None
            raise
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


__all__ = [
    "atomic_dir",
    "atomic_path",
    "check_output",
    "fingerprint_array",
    "fingerprint_file",
    "host_tag",
    "pid_alive",
    "remove_stale_temporaries",
    "write_json",
    "write_text",
]
