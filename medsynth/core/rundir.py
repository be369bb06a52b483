"""Run directories: one folder per run holding everything needed to trust and resume it.

Layout::

    RUN/
      run.json            marker: medsynth version, created time, command, status, pid and host
      config.yaml         the resolved config (every default written out)
      metrics.jsonl       one JSON object per logged step
      checkpoints/        step_00000100.pt ... (atomic), and LATEST naming the newest
      ...                 model files, samples, privacy_ledger.json, report.*

An existing run directory is never overwritten unless ``force=True``; ``resume=True`` continues it.
Only rank 0 of a distributed run writes (pass ``is_main=False`` on other ranks).

Status: ``running`` while the writing process lives, then ``completed`` or ``failed`` (any error,
also one raised after the folder was created and outside the training loop: every run this process
opened and did not finish is marked failed by :func:`fail_open_runs`, which the CLI calls on any error
and which runs at interpreter exit). A ``running`` run whose process is gone (kill -9, power loss) is
shown as ``stale`` by :func:`run_state` and ``medsynth runs``.

**The release boundary.** A run has two kinds of content: what may be released, and ``private/``
(derived from the real data without a DP guarantee: input schemas as read, losses, timings, data
fingerprints), written only through the private writers (:meth:`RunDir.write_private_json`,
``log_metrics(..., private=True)``, :attr:`RunDir.private_dir`). :meth:`RunDir.seal_release` records
every other file (but ``run.json``, the run's own bookkeeping) in ``release_manifest.json`` with its
SHA-256; ``medsynth tabular export`` copies exactly that manifest and refuses a file that changed since.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from medsynth import __version__
from medsynth.core.errors import MedsynthError, RunDirectoryError
from medsynth.core.files import atomic_path, check_output, pid_alive, write_json, write_text

if TYPE_CHECKING:
    from pydantic import BaseModel

MARKER = "run.json"
PRIVATE_DIR = "private"
RELEASE_MANIFEST = "release_manifest.json"
RunState = Literal["running", "completed", "failed", "stopped", "stale", "unknown"]
_OPEN: dict[str, RunDir] = {}
_EXIT_HOOK: list[bool] = []


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _writer() -> dict[str, Any]:
    """What run.json records about the process writing the run."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "pid_start": _process_start(pid)}


def writer_alive(info: Mapping[str, Any]) -> bool | None:
    """Whether the process recorded in a run.json still runs: None when it cannot be told (other host, no pid)."""
    pid, host = info.get("pid"), info.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return None
    if not pid_alive(pid):
        return False
    started = info.get("pid_start")
    now = _process_start(pid)
    return not (started is not None and now is not None and now != started)


def run_state(info: Mapping[str, Any]) -> RunState:
    """A run's state from its run.json: its status, except ``stale`` for a ``running`` run whose process is gone."""
    status = info.get("status")
    if status not in ("running", "completed", "failed", "stopped"):
        return "unknown"
    if status == "running" and writer_alive(info) is False:
        return "stale"
    return status  # type: ignore[return-value]


def fail_open_runs(reason: str) -> list[Path]:
    """Mark every run this process created (or resumed) and has not finished as ``failed``, with ``reason``.

    The CLI calls it on any error; it also runs at interpreter exit. Returns the runs marked.
    """
    marked = []
    for run in list(_OPEN.values()):
        if (run.path / MARKER).is_file():
            try:
                run.finish("failed", error=reason)
            except (OSError, ValueError, MedsynthError):
                continue  # the folder went away, became unwritable, or run.json is unreadable: nothing to mark
            marked.append(run.path)
    _OPEN.clear()
    return marked


def _at_exit() -> None:
    fail_open_runs("the process exited before the run finished")


def _track(run: RunDir) -> None:
    _OPEN[str(run.path.absolute())] = run
    if not _EXIT_HOOK:
        atexit.register(_at_exit)
        _EXIT_HOOK.append(True)


@functools.lru_cache(maxsize=1)
def _environment() -> tuple[tuple[str, str], ...]:
    return tuple(_environment_info().items())


def environment_info() -> dict[str, str]:
    """Versions of medsynth and its main dependencies (read once per process)."""
    return dict(_environment())


def _environment_info() -> dict[str, str]:
    """Versions of medsynth and its main dependencies (those already importable), for meta.json."""
    from importlib import metadata

    info = {"medsynth": __version__, "python": platform.python_version()}
    for dist in ("torch", "monai", "opacus", "sdv", "pandas", "numpy", "pydicom", "nibabel"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return info


class RunDir:
    """A run directory. Create with :meth:`create`; open an existing one with :meth:`open`."""

    def __init__(self, path: str | Path, *, is_main: bool = True) -> None:
        self.path = Path(path)
        self.is_main = is_main

    # -- creation ---------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        force: bool = False,
        resume: bool = False,
        is_main: bool = True,
        command: str | None = None,
        resumable: bool = True,
    ) -> RunDir:
        """Create (or, with ``resume``, reopen) a run directory.

        Raises:
            RunDirectoryError: when ``path`` exists and is not empty and neither ``force`` nor
                ``resume`` is given; when ``force`` would delete a folder that is not a medsynth run;
                when ``resume`` finds no run there.
        """
        p = Path(path)
        if not is_main:
            return cls(p, is_main=False)  # rank 0 alone checks, creates and writes
        if force and resume:
            raise RunDirectoryError("--force and --resume contradict each other; choose one")
        check_output(p, kind="dir", what="run directory")
        exists = p.exists() and any(p.iterdir())
        if resume:
            if not (p / MARKER).is_file():
                raise RunDirectoryError(
                    f"cannot resume: '{p}' is not a medsynth run directory (no {MARKER}); "
                    "start a new run without --resume"
                )
            run = cls(p, is_main=is_main)
            run._refuse_if_live("resume")
            run._update_marker(status="running", resumed_at=time.strftime("%Y-%m-%dT%H:%M:%S"), drop=("finished", "error"),
                               **_writer())
            _track(run)
            return run
        if exists:
            if not force:
                how = "pass --resume to continue it, --force to overwrite it," if resumable else "pass --force to overwrite it"
                raise RunDirectoryError(
                    f"run directory '{p}' already exists and is not empty; {how} or choose another --out"
                )
            if not (p / MARKER).is_file():
                raise RunDirectoryError(
                    f"refusing to overwrite '{p}': it is not a medsynth run directory (no {MARKER}); "
                    "remove it yourself or choose another --out"
                )
            cls(p)._refuse_if_live("overwrite")
            shutil.rmtree(p)
        run = cls(p, is_main=is_main)
        p.mkdir(parents=True, exist_ok=True)
        write_json(
            p / MARKER,
            {
                "medsynth_version": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "command": command or " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]),
                "status": "running",
                **_writer(),
            },
        )
        _track(run)
        return run

    def _refuse_if_live(self, action: str) -> None:
        """Refuse to resume or overwrite a run that another living process is still writing."""
        try:
            info = self.info
        except (OSError, ValueError):
            return
        if info.get("status") == "running" and info.get("pid") != os.getpid() and writer_alive(info):
            raise RunDirectoryError(
                f"cannot {action} '{self.path}': process {info.get('pid')} on {info.get('host')} is still writing it "
                f"(started {info.get('resumed_at') or info.get('created')}); wait for it to end or stop it first"
            )

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """Open an existing run directory for reading.

        Raises:
            RunDirectoryError: if ``path`` is not a medsynth run directory.
        """
        p = Path(path)
        if not (p / MARKER).is_file():
            raise RunDirectoryError(
                f"'{p}' is not a medsynth run directory (no {MARKER}); give the --out folder of a "
                "finished training run"
            )
        return cls(p)

    # -- metadata ---------------------------------------------------------------------------
    @property
    def info(self) -> dict[str, Any]:
        """The contents of ``run.json`` (version, created time, command, status)."""
        return json.loads((self.path / MARKER).read_text())

    @property
    def state(self) -> RunState:
        """``running``, ``completed``, ``failed``, ``stopped``, or ``stale`` (running, but its process is gone)."""
        return run_state(self.info)

    def _update_marker(self, *, drop: tuple[str, ...] = (), **fields: Any) -> None:
        data = {k: v for k, v in self.info.items() if k not in drop}
        data.update(fields)
        write_json(self.path / MARKER, data)

    def finish(self, status: Literal["completed", "failed", "stopped"] = "completed", *, error: str | None = None) -> None:
        """Record the run's final status (and, for a failure, the error's first line)."""
        _OPEN.pop(str(self.path.absolute()), None)
        if self.is_main:
            extra = {"error": error.strip().splitlines()[0][:500]} if error and error.strip() else {}
            self._update_marker(status=status, finished=time.strftime("%Y-%m-%dT%H:%M:%S"), **extra)

    def record(self, **fields: Any) -> None:
        """Add fields to run.json (e.g. ``warning``: a finished run that released nothing usable)."""
        if self.is_main:
            self._update_marker(**fields)

    @contextlib.contextmanager
    def marks_failure(self) -> Iterator[RunDir]:
        """Run a block; if it raises, record status "failed" and the error in run.json (the error propagates)."""
        try:
            yield self
        except BaseException as exc:
            self.finish("failed", error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            raise

    def write_config(self, config: BaseModel) -> Path:
        """Write the resolved config to ``config.yaml`` and record its ``kind`` and ``model`` in run.json.

        ``model`` is the config's ``model`` field where it names one (tabular: ``dp-mst``...), else the kind
        (``vae3d``, ``mr2ct_cyclegan``...), so ``medsynth runs`` and every ``load(run)`` read both from one place.
        """
        from medsynth.core.config import config_to_yaml

        dest = self.path / "config.yaml"
        if self.is_main:
            write_text(dest, config_to_yaml(config))
            kind = getattr(config, "kind", None)
            model = getattr(config, "model", None)
            fields = {"kind": kind if isinstance(kind, str) else None,
                      "model": model if isinstance(model, str) else kind if isinstance(kind, str) else None}
            if (self.path / MARKER).is_file():  # a kind the job recorded itself (e.g. multitable) is kept
                info = self.info
                new = {k: v for k, v in fields.items() if v and not info.get(k)}
                if new:
                    self._update_marker(**new)
        return dest

    def write_json(self, name: str, data: Any) -> Path:
        """Write a release-side JSON file (anything derived from the data without DP goes through
        :meth:`write_private_json` instead)."""
        if Path(name).parts[:1] == (PRIVATE_DIR,):
            raise RunDirectoryError(f"'{name}' is under {PRIVATE_DIR}/: write it with write_private_json")
        dest = self.path / name
        if self.is_main:
            write_json(dest, data)
        return dest

    # -- the release boundary ---------------------------------------------------------------
    @property
    def private_dir(self) -> Path:
        """``RUN/private/``: what must never leave the data owner's hands."""
        return self.path / PRIVATE_DIR

    def write_private_json(self, name: str, data: Any) -> Path:
        """Write a JSON file under ``private/`` (never released)."""
        dest = self.private_dir / name
        if self.is_main:
            write_json(dest, data)
        return dest

    def seal_release(self) -> Path | None:
        """Write ``release_manifest.json``: every file outside ``private/`` (but ``run.json``) with its SHA-256."""
        from medsynth.core.files import fingerprint_file

        if not self.is_main:
            return None
        files = {}
        for f in sorted(self.path.rglob("*")):
            rel = f.relative_to(self.path)
            if not f.is_file() or rel.parts[0] in (PRIVATE_DIR, MARKER, RELEASE_MANIFEST) or f.name.endswith(".tmp"):
                continue
            files[rel.as_posix()] = fingerprint_file(f)
        return write_json(self.path / RELEASE_MANIFEST, {
            "note": f"the files that may leave the data owner's hands; {PRIVATE_DIR}/ and {MARKER} are never released",
            "files": files})

    # -- metrics ----------------------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        """``RUN/metrics.jsonl``."""
        return self.path / "metrics.jsonl"

    def log_metrics(self, step: int, metrics: Mapping[str, float], *, private: bool = False, **extra: Any) -> None:
        """Append one line to ``metrics.jsonl`` (rank 0 only); ``private=True`` logs to
        ``private/metrics.jsonl`` (e.g. the raw losses of a DP fit, which are not DP outputs)."""
        if not self.is_main:
            return
        record = {"step": int(step), "time": round(time.time(), 3), **extra}
        record.update({k: (float(v) if v is not None else None) for k, v in metrics.items()})
        path = self.private_dir / self.metrics_path.name if private else self.metrics_path
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every logged line of ``metrics.jsonl`` (unreadable lines skipped)."""
        return _read_jsonl(self.metrics_path)

    def truncate_metrics(self, after_step: int) -> None:
        """Drop metric lines logged after ``after_step`` (used on resume, so no step appears twice)."""
        if not self.is_main:
            return
        for path in (self.metrics_path, self.private_dir / self.metrics_path.name):
            if path.is_file():
                kept = [r for r in _read_jsonl(path) if r.get("step", 0) <= after_step]
                write_text(path, "".join(json.dumps(r) + "\n" for r in kept))

    # -- checkpoints ------------------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        """``RUN/checkpoints``."""
        return self.path / "checkpoints"

    def save_checkpoint(self, state: Mapping[str, Any], step: int, *, keep: int = 2) -> Path | None:
        """Atomically save ``state`` (state_dicts, tensors, plain values) as ``step_XXXXXXXX.pt``.

        Keeps the newest ``keep`` checkpoints. Returns the path (``None`` on non-main ranks).
        """
        import torch

        if not self.is_main:
            return None
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        dest = self.checkpoint_dir / f"step_{int(step):08d}.pt"
        with atomic_path(dest) as tmp:
            torch.save({"step": int(step), **state}, tmp)
        write_text(self.checkpoint_dir / "LATEST", dest.name + "\n")
        old = sorted(self.checkpoint_dir.glob("step_*.pt"))[:-keep] if keep > 0 else []
        for f in old:
            f.unlink(missing_ok=True)
        return dest

    def latest_checkpoint(self) -> Path | None:
        """The newest complete checkpoint, or ``None``."""
        pointer = self.checkpoint_dir / "LATEST"
        if pointer.is_file():
            cand = self.checkpoint_dir / pointer.read_text().strip()
            if cand.is_file():
                return cand
        found = sorted(self.checkpoint_dir.glob("step_*.pt")) if self.checkpoint_dir.is_dir() else []
        return found[-1] if found else None

    def load_checkpoint(self, path: str | Path | None = None, *, map_location: Any = "cpu") -> dict[str, Any]:
        """Load a checkpoint (the latest when ``path`` is None) with ``weights_only=True``.

        Raises:
            RunDirectoryError: when there is no checkpoint or it cannot be read.
        """
        import torch

        ckpt = Path(path) if path is not None else self.latest_checkpoint()
        if ckpt is None or not ckpt.is_file():
            raise RunDirectoryError(f"no checkpoint found in '{self.checkpoint_dir}' to resume from")
        try:
            return torch.load(ckpt, map_location=map_location, weights_only=True)
        except Exception as exc:  # torch raises many types for a corrupt file
            raise RunDirectoryError(f"checkpoint '{ckpt}' cannot be read ({exc}); delete it to fall back") from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by a crash mid-write is dropped, never trusted
    return out


__all__ = [
    "MARKER",
    "PRIVATE_DIR",
    "RELEASE_MANIFEST",
    "RunDir",
    "RunState",
    "environment_info",
    "fail_open_runs",
    "run_state",
    "writer_alive",
]
