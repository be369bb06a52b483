"""``medsynth audit dp``: an empirical lower bound on a DP synthesizer's epsilon (exit code 1 above the claim).

Thin: options -> :func:`medsynth.privacy.audit.audit_dp` -> a short table and, with ``--out``, a JSON file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medsynth.cli.common import SET_OPTION, done, say


def audit_dp_cmd(
    model: str = typer.Option(..., "--model", "-m", help="The DP model to audit: dp-mst, dp-tvae or dp-ctgan."),
    table: Optional[Path] = typer.Option(None, "--table", help="Base table (.csv/.parquet); default: the built-in breast cancer table."),
    schema: Optional[Path] = typer.Option(None, "--schema", help="Its schema YAML (public domains recommended); inferred when absent."),
    epsilon: float = typer.Option(1.0, "--epsilon", help="The claimed epsilon."),
    delta: Optional[float] = typer.Option(None, "--delta", help="The claimed delta (default 1e-5, or below 1/rows)."),
    method: str = typer.Option("one-run", "--method", help="Scoring attacks as a one-run audit (one fit, many canaries) or 'distinguish' (many fits on D and D')."),
    attacks: Optional[list[str]] = typer.Option(None, "--attack", help="replay, marginals (dp-mst), elbo (dp-tvae), samples, gradients (dp-tvae, dp-ctgan: gradient canaries in DP-SGD) (repeatable; default: replay + the model's white-box attacks)."),
    canaries: Optional[int] = typer.Option(None, "--canaries", help="Canaries of a one-run audit (default 1000 for dp-mst, 500 otherwise)."),
    trials: Optional[int] = typer.Option(None, "--trials", help="Fits per table of --method distinguish (default 500 for dp-mst, 100 otherwise)."),
    replay_trials: Optional[int] = typer.Option(None, "--replay-trials", help="Fits per table of the replay test (default: enough to refute 1.5x the claim)."),
    confidence: float = typer.Option(0.95, "--confidence", help="Probability that the reported bound is below the true epsilon."),
    broken: Optional[str] = typer.Option(None, "--broken", help="Self-test: audit a deliberately broken variant ('seed': noise from the published seed; 'noise': noise 10x too small)."),
    sets: Optional[list[str]] = SET_OPTION,
    seed: int = typer.Option(0, "--seed", min=0, help="The audit's randomness, and the --seed every fit publishes."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the result as JSON here."),
) -> None:
    """Audit a DP synthesizer: insert canaries, refit, attack what it releases, and bound epsilon from below.

    The bound holds with the stated confidence; exit code 1 when it exceeds the claimed epsilon (the
    release leaks more than claimed). A bound at or below the claim is evidence, not proof.

    Examples:
        medsynth audit dp --model dp-mst --epsilon 1
        medsynth audit dp --model dp-tvae --table data.csv --schema schema.yaml --epsilon 1 --out audit.json
        medsynth audit dp --model dp-mst --broken noise   # self-test: must exit 1
    """
    from medsynth.core.config import apply_overrides
    from medsynth.core.files import write_json
    from medsynth.privacy.audit import audit_dp

    params = apply_overrides({}, sets or []) if sets else None
    result = audit_dp(model, table, schema=schema, epsilon=epsilon, delta=delta, params=params, method=method,  # type: ignore[arg-type]
                      attacks=tuple(attacks) if attacks else None, canaries=canaries, trials=trials,
                      replay_trials=replay_trials, confidence=confidence, broken=broken, seed=seed,  # type: ignore[arg-type]
                      on_progress=lambda line: typer.echo(line, err=True))
    if result.variant != "as released":
        say(result.variant, fg=typer.colors.YELLOW)
    for a in result.attacks:
        typer.echo(f"  {a.attack:<10} {a.method:<12} epsilon >= {a.epsilon_lower_bound:.3f}")
    fail = result.verdict == "fail"
    say(f"epsilon lower bound {result.epsilon_lower_bound:.3f} ({result.confidence:.0%} confidence) vs claimed "
        f"{result.claimed_epsilon:g}: {result.verdict.upper()} [{result.seconds:.0f} s]",
        fg=typer.colors.RED if fail else typer.colors.GREEN, bold=True)
    if out is not None:
        write_json(out, result.to_dict())
        done("wrote the audit result", out)
    if fail:
        raise typer.Exit(code=1)
