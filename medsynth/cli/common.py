"""Shared CLI pieces: global state, the --set/--max-steps options, and printing helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer


@dataclass
class _State:
    debug: bool = False


STATE = _State()

#: ``--set key.sub=value`` (repeatable): override a config value, validated like the file.
SET_OPTION = typer.Option(
    None,
    "--set",
    help=("Override a config value, validated like the YAML (repeatable): e.g. --set train.lr=1e-4 for image and "
          "translate configs, --set params.train.lr=1e-4 for a tabular model's hyperparameters."),
)
#: ``--max-steps N``: shorthand for ``--set train.max_steps=N``.
MAX_STEPS_OPTION = typer.Option(None, "--max-steps", min=1, help="Stop after N optimisation steps (try a config small first).")


def overrides(sets: Optional[list[str]], max_steps: Optional[int] = None, key: str = "train.max_steps") -> list[str]:
    """The override list a training command passes to ``load_config``."""
    out = list(sets or [])
    if max_steps is not None:
        out.append(f"{key}={max_steps}")
    return out


def use_color(stream: object) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    import os

    return not os.environ.get("NO_COLOR") and bool(getattr(stream, "isatty", lambda: False)())


def done(message: str, path: Path | str | None = None) -> None:
    """Print a success line (and where the output is)."""
    tail = f": {path}" if path is not None else ""
    say(f"{message}{tail}", fg=typer.colors.GREEN)


def say(message: str, *, fg: str | None = None, bold: bool = False, err: bool = False) -> None:
    """Print a line, coloured only where :func:`use_color` allows (no escape codes in pipes and logs)."""
    import sys

    if use_color(sys.stderr if err else sys.stdout) and (fg or bold):
        typer.secho(message, fg=fg, bold=bold, err=err)
    else:
        typer.echo(message, err=err)


@contextmanager
def data_warnings() -> Iterator[list]:
    """Collect the :class:`~medsynth.core.errors.DataWarning`\\ s raised inside; print them as ``warning: ...``
    lines on stderr when the block ends (after its result lines), others as Python shows them."""
    import warnings

    from medsynth.core.errors import DataWarning

    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", DataWarning)
            yield seen
    finally:  # (also when the block fails: what was found about the data still helps)
        for w in seen:
            if issubclass(w.category, DataWarning):
                say(f"warning: {w.message}", err=True)
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
