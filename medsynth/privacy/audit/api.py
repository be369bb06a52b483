"""``audit_dp``: an empirical lower bound on the epsilon of a DP synthesizer, beside its claim.

The audit fits the model as a user would (``fit_run``), on tables with canaries, runs attacks on the
release only, and turns their success into a lower bound on epsilon that holds with the stated
confidence (:mod:`medsynth.privacy.audit.stats`). Every attack is tested at ``(1 - confidence) / K``
for K attacks (Bonferroni), so the largest bound keeps the stated confidence.

- The **replay** attack always runs as a distinguishing test (D = the table, D' = D plus one outlier
  canary), with enough runs that an always-right attack refutes 1.5x the claim; each run costs three
  fits (the release and the attacker's two replays).
- The **scoring** attacks run as a one-run audit (``method="one-run"``, the default: m canaries each in
  with probability 1/2, one fit, plus one reference fit for calibrated attacks) or as a distinguishing
  test with a learnt threshold (``method="distinguish"``: ``trials`` fits on each of D and D').
- The **gradients** attack (DP-SGD models) shares that fit: m gradient canaries with their own
  inclusion draws ride in the DP-SGD steps through an audit-only hook
  (:mod:`medsynth.privacy.dpsgd_audit`), and the auditor reads every step's noisy gradient at their
  coordinates. It is the only attack here that sees more than the release (the whole DP-SGD transcript,
  of which the release is a function), which is what makes it strong enough to catch too little noise.

A lower bound above the claim means the release leaks more than the claim allows: the verdict is
"fail". A bound at or below the claim is evidence, not proof: the attacks may be weaker than the best.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from medsynth.core.errors import ConfigError, DataValidationError
from medsynth.privacy.audit import stats
from medsynth.privacy.audit.attacks import (
    ATTACKS,
    DEFAULT_ATTACKS,
    NEEDS_REFERENCE,
    check_attacks,
    gradient_scores,
    replay_vote,
    score,
    stated_dpsgd,
)
from medsynth.privacy.audit.canaries import BUILTIN_TABLE, builtin_table, random_canaries, with_rows, worst_case_canary
from medsynth.privacy.audit.release import (
    BROKEN_VARIANTS,
    Broken,
    ModelSpec,
    Release,
    calibrate_broken_noise,
    fit_release,
)
from medsynth.privacy.dpsgd_audit import GradientCanaries, gradient_canaries_for_audit
from medsynth.privacy.ledger import delta_level, delta_text

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    import pandas as pd

    from medsynth.tabular.schema import TableSchema

Method = Literal["one-run", "distinguish"]
GRADIENTS = "gradients"
#: Canaries of a one-run audit when not given.
DEFAULT_CANARIES = {"dp-mst": 1000, "dp-tvae": 500, "dp-ctgan": 500}
#: Runs per table of a distinguishing test with a learnt threshold, when not given.
DEFAULT_TRIALS = {"dp-mst": 500, "dp-tvae": 100, "dp-ctgan": 100}


@dataclass
class AttackOutcome:
    """One attack's result.

    Attributes:
        attack: its name (see :data:`medsynth.privacy.audit.attacks.ATTACKS`).
        method: "one-run" or "distinguish".
        epsilon_lower_bound: the bound it proves at its share of the confidence.
        alpha: its significance (``(1 - confidence) / K``).
        fits: model fits it took (releases and the attacker's own).
        details: counts behind the bound.
    """

    attack: str
    method: str
    epsilon_lower_bound: float
    alpha: float
    fits: int
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class AuditResult:
    """The outcome of :func:`audit_dp`.

    Attributes:
        model: the registry name audited.
        variant: "as released", or the description of a deliberately broken variant.
        claimed_epsilon: the epsilon the fit claims.
        delta: the claimed delta.
        epsilon_lower_bound: the largest bound over the attacks (0 when none found evidence).
        confidence: the probability that the bound is below the true epsilon (all attacks together).
        attack: the attack that gave the bound, with its method.
        verdict: "fail" when the bound exceeds the claim, else "pass".
        attacks: every attack's outcome.
        table: what the base table was.
        seconds: wall-clock time of the audit.
        notes: what else the reader should know.
    """

    model: str
    variant: str
    claimed_epsilon: float
    delta: float
    epsilon_lower_bound: float
    confidence: float
    attack: str
    verdict: Literal["pass", "fail"]
    attacks: list[AttackOutcome]
    table: dict[str, Any]
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the bound stayed at or below the claim (no evidence of a leak beyond it)."""
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-able data (what ``--out`` writes)."""
        return asdict(self)


# -- the job ---------------------------------------------------------------------------------------------
def audit_dp(
    model: str,
    table: pd.DataFrame | str | Path | None = None,
    *,
    schema: TableSchema | str | Path | None = None,
    epsilon: float = 1.0,
    delta: float | None = None,
    params: dict[str, Any] | None = None,
    method: Method = "one-run",
    attacks: tuple[str, ...] | list[str] | None = None,
    canaries: int | None = None,
    trials: int | None = None,
    replay_trials: int | None = None,
    confidence: float = 0.95,
    broken: Broken | None = None,
    seed: int = 0,
    workdir: str | Path | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """Audit a DP synthesizer empirically: a statistical lower bound on its epsilon, beside the claim.

    Args:
        model: a DP model of the registry ("dp-mst", "dp-tvae", "dp-ctgan").
        table: the base table (DataFrame, CSV or Parquet); ``None`` uses the built-in breast cancer table.
        schema: its schema (object or YAML path); public domains are recommended (``None`` infers one,
            and the fit then estimates the domains with DP). Only with ``table``.
        epsilon: the claimed epsilon.
        delta: the claimed delta (default: 1e-5, or below 1/n for large tables).
        params: the model's hyperparameters (as ``--set`` would give them).
        method: how the scoring attacks run: "one-run" (one fit with many canaries) or "distinguish"
            (``trials`` fits on each of two neighbouring tables).
        attacks: which attacks (default: replay plus the model's white-box attacks: marginals for dp-mst;
            elbo and gradients for dp-tvae; samples and gradients for dp-ctgan).
        canaries: canaries of a one-run audit (default 1000 for dp-mst, 500 for the neural models).
        trials: runs per table of a distinguishing test (default 500 for dp-mst, 100 otherwise).
        replay_trials: runs per table of the replay test (default: enough to refute 1.5x the claim).
        confidence: probability that the reported bound is below the true epsilon.
        broken: audit a deliberately broken variant ("seed" or "noise") to check that the audit catches it.
        seed: the audit's own randomness (which canaries go in), and the ``--seed`` every fit publishes
            (DP must hold whatever the public seed is).
        workdir: where the fits are written (a temporary folder by default; emptied afterwards).
        on_progress: called with a short line before each phase.

    Raises:
        ConfigError: unknown or non-DP model, unknown attack, bad epsilon/delta/confidence/counts.
        DataValidationError: the table does not match its schema.
    """
    t0 = time.perf_counter()
    say = on_progress or (lambda _msg: None)
    spec, base, table_info = _prepare(model, table, schema, epsilon, delta, params)
    chosen = tuple(attacks) if attacks else DEFAULT_ATTACKS[spec.name]
    check_attacks(spec.name, chosen)
    if method not in ("one-run", "distinguish"):
        raise ConfigError(f"method '{method}' must be 'one-run' or 'distinguish'")
    if not 0.5 <= confidence < 1:
        raise ConfigError(f"confidence {confidence} must be in [0.5, 1), e.g. 0.95")
    for name, value in (("canaries", canaries), ("trials", trials), ("replay_trials", replay_trials)):
        if value is not None and value < 4:
            raise ConfigError(f"{name} {value} must be at least 4")
    if broken is not None and broken not in BROKEN_VARIANTS:
        raise ConfigError(f"broken '{broken}' must be one of {sorted(BROKEN_VARIANTS)} (or omitted for the real model)")
    alpha = (1 - confidence) / len(chosen)
    rng = np.random.default_rng(seed)
    outcomes: list[AttackOutcome] = []
    with tempfile.TemporaryDirectory(prefix="medsynth-audit-", dir=workdir) as tmp:
        work = Path(tmp)
        spec.broken = broken
        if broken == "noise":
            say("calibrating the broken variant (noise x0.1)")
            calibrate_broken_noise(spec, base, work)
        canary = worst_case_canary(base, spec.schema)
        if "replay" in chosen:
            n = replay_trials or stats.runs_to_refute(epsilon, spec.tested_delta, alpha)
            say(f"replay attack: {n} runs on each of D and D' (and the attacker's two replays)")
            outcomes.append(_replay_test(spec, base, canary, n, alpha, seed, work))
        scoring = [a for a in chosen if a != "replay"]
        if scoring and method == "one-run":
            m = canaries or DEFAULT_CANARIES[spec.name]
            say(f"one-run audit: {m} canaries, attacks {', '.join(scoring)}")
            outcomes += _one_run(spec, base, scoring, m, alpha, rng, seed, work)
        elif scoring:
            n = trials or DEFAULT_TRIALS[spec.name]
            say(f"distinguishing test: {n} runs on each of D and D', attacks {', '.join(scoring)}")
            outcomes += _distinguish(spec, base, canary, scoring, n, alpha, rng, seed, work, say)
    best = max(outcomes, key=lambda o: o.epsilon_lower_bound)
    bound = best.epsilon_lower_bound
    notes = list(spec.notes)
    weak = [f"{o.attack} ({o.details['best_possible']:.2f})" for o in outcomes if o.details.get("best_possible", math.inf) <= epsilon]
    if weak:
        notes.append(f"even an always-right attack could not refute epsilon {epsilon:g} with these sizes: {', '.join(weak)}; "
                     "use more canaries/runs")
    if broken is not None:
        notes.append("a deliberately broken mechanism: never release its output")
    return AuditResult(
        model=spec.name, variant=BROKEN_VARIANTS[broken] if broken else "as released", claimed_epsilon=epsilon,
        delta=spec.tested_delta, epsilon_lower_bound=round(bound, 4), confidence=confidence,
        attack=f"{best.attack} ({best.method}): {ATTACKS[best.attack]}" if bound > 0 else "none found evidence",
        verdict="fail" if bound > epsilon else "pass", attacks=outcomes, table=table_info,
        seconds=round(time.perf_counter() - t0, 2), notes=notes,
    )


def _prepare(model: str, table: Any, schema: Any, epsilon: float, delta: float | None,
             params: dict[str, Any] | None) -> tuple[ModelSpec, pd.DataFrame, dict[str, Any]]:
    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.io.tables import read_table
    from medsynth.tabular.schema import TableSchema, infer_schema, validate_table

    klass = resolve(SYNTHESIZERS, model, what="model")
    if model not in DEFAULT_ATTACKS or not getattr(klass, "private", False):
        raise ConfigError(f"'{model}' is not a differentially private model; audit dp takes {sorted(DEFAULT_ATTACKS)}")
    if not (isinstance(epsilon, (int, float)) and 0 < epsilon < math.inf):
        raise ConfigError(f"epsilon {epsilon!r} must be a positive finite number (the claim to audit)")
    if table is None:
        if schema is not None:
            raise ConfigError("a schema was given without a table; pass the table it describes (--table) or neither")
        base, sch = builtin_table()
        info: dict[str, Any] = {"name": BUILTIN_TABLE}
    else:
        base = read_table(table) if not hasattr(table, "columns") else table
        sch = TableSchema.load(schema) if isinstance(schema, (str, Path)) else schema
        if sch is None:
            sch = infer_schema(base)
        info = {"name": str(table) if not hasattr(table, "columns") else "DataFrame"}
    base = base.reset_index(drop=True)
    if len(base) < 2:
        raise DataValidationError(f"the table has {len(base)} rows; an audit needs at least 2")
    validate_table(base, sch)
    n = len(base)
    if delta is None:
        delta = 1e-5 if 1e-5 < 0.1 / n else 10 ** math.floor(math.log10(0.1 / n))
    if not 0 < delta < 1:
        raise ConfigError(f"delta {delta!r} must be in (0, 1)")
    info.update({"rows": n, "columns": len(sch.columns), "public_domains": not sch.private_domain_columns()})
    level = delta_level(float(delta), float(n), 0.0)  # the fits take a lower level on a table too large for delta
    spec = ModelSpec(name=model, params=dict(params or {}), schema=sch, epsilon=float(epsilon), delta=float(delta),
                     claim_delta=None if level is None else level[1])
    if level is not None:
        spec.notes.append(f"delta {delta:g} is not below 1/n for {n} rows: the fits take a lower level and claim delta "
                          f"{delta_text(level[1])}, which the attacks test")
    from medsynth.tabular.run import build_synthesizer

    build_synthesizer(spec.config(0), sch)  # bad params raise ConfigError here, before any fit
    if sch.private_domain_columns():
        spec.notes.append(f"columns {sch.private_domain_columns()} have no public domain: the fits estimate it with DP, "
                          "and the canaries use the data's range")
    return spec, base, info


# -- the three designs ---------------------------------------------------------------------------------------
def _replay_test(spec: ModelSpec, base: pd.DataFrame, canary: pd.DataFrame, n: int, alpha: float, seed: int,
                 work: Path) -> AttackOutcome:
    """Distinguishing test with the replay attack (fixed rule: vote > 0 means D').

    Every run is published with the same ``--seed`` (DP must hold whatever the public seed), so the
    attacker's two replays are made once and each run costs one fit.
    """
    tables = (base, with_rows(base, canary))
    replays: dict[int, tuple[Release, Release]] = {}
    votes: dict[int, list[int]] = {0: [], 1: []}
    try:
        for i in range(2 * n):
            world = i % 2
            rel = fit_release(spec, tables[world], seed, work / f"replay-{i}")
            published = rel.published_seed
            if published is None:
                raise ConfigError("the release states no --seed; the replay attack reads it from the model's config.yaml")
            if published not in replays:
                replays[published] = tuple(  # type: ignore[assignment]
                    fit_release(spec, t, published, work / f"replay-of-{published}-{j}", replay=True) for j, t in enumerate(tables))
            votes[world].append(replay_vote(rel, *replays[published]))
            rel.remove()
    finally:
        for pair in replays.values():
            for r in pair:
                r.remove()
    d, dp = np.array(votes[0]), np.array(votes[1])
    counts = stats.TestCounts(fp=int(np.sum(d > 0)), negatives=n, fn=int(np.sum(dp <= 0)), positives=n)
    eps = stats.distinguishing_epsilon(counts, spec.tested_delta, alpha)
    return AttackOutcome("replay", "distinguish", round(eps, 4), alpha, fits=2 * n + 2 * len(replays),
                         details={**counts.to_dict(), "rule": "vote > 0 means D'",
                                  "best_possible": round(stats.perfect_attack_epsilon(n, spec.tested_delta, alpha), 4)})


def _one_run(spec: ModelSpec, base: pd.DataFrame, attacks: list[str], m: int, alpha: float,
             rng: np.random.Generator, seed: int, work: Path) -> list[AttackOutcome]:
    """One fit with m canary rows (each in with probability 1/2) for the row attacks and, for
    ``gradients``, m gradient canaries with their own inclusion draws, observed through the audit hook."""
    rows = [a for a in attacks if a != GRADIENTS]
    can = random_canaries(base, spec.schema, m, rng) if rows else None
    included = rng.random(m) < 0.5 if rows else np.zeros(0, bool)
    if rows and not included.any():
        included[0] = True
    grad = _gradient_canaries(rng, m, seed) if GRADIENTS in attacks else None
    table = with_rows(base, can.iloc[np.nonzero(included)[0]]) if can is not None else base
    with gradient_canaries_for_audit(grad) if grad is not None else contextlib.nullcontext():
        rel = fit_release(spec, table, seed, work / "one-run")
    reference = None
    if NEEDS_REFERENCE & set(attacks):  # the attacker's own fit on the rest of the table (always the real model)
        ref_spec = ModelSpec(name=spec.name, params=spec.params, schema=spec.schema, epsilon=spec.epsilon, delta=spec.delta,
                             claim_delta=spec.claim_delta)
        reference = fit_release(ref_spec, base, seed + 1, work / "reference")
    out = []
    try:
        for attack in attacks:
            extra: dict[str, Any] = {}
            if attack == GRADIENTS:
                s, extra = _gradient_scores(grad, rel, spec.name)  # type: ignore[arg-type]
                inc = grad.included  # type: ignore[union-attr]
            else:
                s = score(attack, rel, can, base=base, schema=spec.schema, one_run=True,
                          reference=reference if attack in NEEDS_REFERENCE else None)
                inc = included
            res = stats.one_run_audit(s, inc, spec.tested_delta, alpha)
            out.append(AttackOutcome(attack, "one-run", round(res.epsilon, 4), alpha,
                                     fits=1 + int(attack in NEEDS_REFERENCE),
                                     details={"canaries": m, "included": res.included, "guesses": res.guesses,
                                              "correct": res.correct, "guess_grid": res.grid,
                                              "best_possible": round(res.best_possible, 4), **extra}))
    finally:
        rel.remove()
        if reference is not None:
            reference.remove()
    return out


def _gradient_canaries(rng: np.random.Generator, m: int, seed: int, included: np.ndarray | None = None) -> GradientCanaries:
    if included is None:
        included = rng.random(m) < 0.5
        if not included.any():
            included[0] = True
    return GradientCanaries(included=included, seed=seed)


def _gradient_scores(grad: GradientCanaries, rel: Release, model: str) -> tuple[np.ndarray, dict[str, Any]]:
    """The gradients attack's scores (stated sigma and q of the release) and what to report beside them."""
    if not grad.attached:
        raise ConfigError(f"the {model} fit trained nothing with DP-SGD: the gradients attack had nothing to observe")
    sigma, rate = stated_dpsgd(rel)
    obs = grad.observed()
    return gradient_scores(obs, sigma, rate), {
        "observed_steps": int(obs.shape[0]), "planned_steps": grad.planned_steps, "noise_multiplier": round(sigma, 6),
        "sample_rate": round(rate, 6), "canary": "Dirac: one parameter coordinate each, clipped norm C"}


def _distinguish(spec: ModelSpec, base: pd.DataFrame, canary: pd.DataFrame, attacks: list[str], n: int, alpha: float,
                 rng: np.random.Generator, seed: int, work: Path, say: Callable[[str], None]) -> list[AttackOutcome]:
    """``2 n`` fits alternating D and D' (the canary row). With ``gradients``, every fit also carries one
    gradient canary, present in every other pair of fits: its world is independent of the row's, so each
    test compares neighbours differing in its own record only (the other record is a fair coin in both)."""
    tables = (base, with_rows(base, canary))
    scores: dict[str, dict[int, list[float]]] = {a: {0: [], 1: []} for a in attacks}
    for i in range(2 * n):
        world, gworld = i % 2, (i // 2) % 2
        grad = _gradient_canaries(rng, 1, seed, np.array([gworld == 1])) if GRADIENTS in attacks else None
        with gradient_canaries_for_audit(grad) if grad is not None else contextlib.nullcontext():
            rel = fit_release(spec, tables[world], seed, work / f"dist-{i}")
        try:
            for a in attacks:
                if a == GRADIENTS:
                    scores[a][gworld].append(float(_gradient_scores(grad, rel, spec.name)[0][0]))  # type: ignore[arg-type]
                else:
                    scores[a][world].append(float(score(a, rel, canary, base=base, schema=spec.schema, one_run=False)[0]))
        finally:
            rel.remove()
        if (i + 1) % 100 == 0:
            say(f"  {i + 1}/{2 * n} fits")
    out = []
    for a in attacks:
        res = stats.threshold_test(np.array(scores[a][0]), np.array(scores[a][1]), spec.tested_delta, alpha, rng)
        out.append(AttackOutcome(a, "distinguish", round(res.epsilon, 4), alpha, fits=2 * n,
                                 details={**res.counts.to_dict(), "threshold": res.threshold, "direction": res.direction,
                                          **res.details}))
    return out


__all__ = ["AttackOutcome", "AuditResult", "audit_dp"]
