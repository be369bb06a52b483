"""Progress bars that show on a terminal and stay quiet in CI logs and pipes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def progress_enabled() -> bool:
    """True on an interactive terminal outside CI (``MEDSYNTH_PROGRESS=0/1`` forces it)."""
    forced = os.environ.get("MEDSYNTH_PROGRESS")
    if forced is not None:
        return forced not in ("0", "false", "no", "")
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("true", "1")


def progress(iterable: Iterable[T] | None = None, *, total: int | None = None, desc: str = "", **kw: Any):
    """A tqdm bar (disabled off-terminal). Use ``bar.set_postfix(loss=...)`` to show losses."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=not progress_enabled(), dynamic_ncols=True, **kw)


__all__ = ["progress", "progress_enabled"]
