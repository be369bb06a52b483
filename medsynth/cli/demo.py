"""``medsynth demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medsynth.cli.common import SET_OPTION, say


def demo(
    out: Path = typer.Option(Path("medsynth-demo"), "--out", "-o", help="Run directory to create."),
    quick: bool = typer.Option(False, "--quick", help="Smallest sizes and fewest steps (about a minute on 2 CPU cores)."),
    config: Optional[Path] = typer.Option(None, "--config", help="A demo YAML (kind: demo); defaults are used without it."),
    sets: Optional[list[str]] = SET_OPTION,
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it is an earlier demo run."),
) -> None:
    """Run medsynth's jobs end to end on data it makes itself, offline, on CPU.

    Makes paired CT/MR phantoms, round-trips a CT through a synthetic-safe DICOM series and back,
    trains an MR->CT CycleGAN and a 3D image synthesizer on them, releases two DP synthetic tables
    at epsilon 1 (one the method handles well, one hard case), judges everything, and prints one
    screen: each job's verdict, what it means and its report. Everything lands in OUT.
    """
    from medsynth.core.files import check_output
    from medsynth.demo import format_summary, run_demo

    check_output(out, kind="dir", what="--out")
    summary = run_demo(out, config, quick=quick, sets=sets, force=force, echo=typer.echo)
    typer.echo("")
    say(format_summary(summary), fg=typer.colors.GREEN)
