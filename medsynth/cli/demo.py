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
    and runs every other job that is built (tabular, imaging, translation, evaluation), then
    prints where each output is. Everything lands in OUT (default ./medsynth-demo).
    """
    from medsynth.core.config import load_config
    from medsynth.core.files import check_output
    from medsynth.demo import DemoConfig, run_demo

    check_output(out, kind="dir", what="--out")

    extra = ["quick=true"] if quick else []
    cfg = load_config(DemoConfig, config, overrides=[*extra, *(sets or [])])
    if cfg.quick and not any(s.startswith("phantom_shape") for s in sets or []):
        cfg.phantom_shape = min(cfg.phantom_shape, 24)
        cfg.n_phantoms = min(cfg.n_phantoms, 4)
    summary = run_demo(out, cfg, force=force, echo=typer.echo)
    typer.echo("")
    say(f"medsynth demo finished in {summary['seconds']['total']:.1f} s. Outputs in {out}/:", fg=typer.colors.GREEN)
    for name, result in summary["steps"].items():
        shown = {k: v for k, v in result.items() if not isinstance(v, (dict, list)) or k in ("shape",)}
        if shown:
            typer.echo(f"  {name:<15} " + ", ".join(f"{k}={v}" for k, v in shown.items()))
        for kind, report in (result.get("reports") or {}).items():
            typer.echo(f"  {name:<15} {kind} report: verdict={report.get('verdict')} {report.get('html', '')}")
        for kind, why in (result.get("skipped") or {}).items():
            typer.echo(f"  {name:<15} {kind}: skipped ({why})")
    typer.echo(f"  summary         {out / 'summary.json'}")
