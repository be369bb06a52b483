"""``medsynth runs DIR``: the runs under a folder and their state (running, completed, failed, stale)."""

from __future__ import annotations

from pathlib import Path

import typer

from medsynth.cli.common import say

_COLOURS = {"completed": typer.colors.GREEN, "running": typer.colors.BLUE, "failed": typer.colors.RED,
            "stale": typer.colors.YELLOW, "stopped": typer.colors.YELLOW, "unknown": typer.colors.YELLOW}


def runs(
    folder: Path = typer.Argument(Path("."), help="Folder to search (recursively) for medsynth run directories."),
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """List the medsynth runs under FOLDER with their state.

    A run is stale when run.json says running but the process that wrote it is gone (killed, or the
    machine went down): resume it with --resume, or remove it.

    Example:
        medsynth runs runs/
    """
    import json

    from medsynth.core.runs import list_runs

    found = list_runs(folder)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    if not found:
        typer.echo(f"no medsynth runs under {folder}")
        return
    for r in found:
        what = " ".join(dict.fromkeys(str(x) for x in (r["kind"], r["model"]) if x)) or "?"  # "vae3d", not "vae3d vae3d"
        tail = ""
        if r["state"] == "stale":
            tail = f"  (process {r['pid']} on {r['host']} is gone; resume with --resume or remove it)"
        elif r["state"] == "running":
            tail = f"  (pid {r['pid']} on {r['host']})" if r["pid"] is not None else ""
        elif r["state"] == "failed" and r["error"]:
            tail = f"  ({r['error']})"
        elif r.get("warning"):
            tail = f"  (warning: {r['warning']})"
        say(f"{r['state']:<10} {what:<24} {r['created'] or '':<20} {r['path']}{tail}", fg=_COLOURS.get(r["state"]))
