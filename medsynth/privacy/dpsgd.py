"""DP-SGD through opacus: plan the noise for a budget, wrap model/optimizer/loader, account.

:func:`plan_dpsgd` fixes the sampling rate and number of steps from the batch size and epochs, and
calibrates the noise multiplier up front with opacus' ``get_noise_multiplier`` so that the planned
run spends at most the target epsilon under the chosen accountant (PRV by default, RDP selectable).
:func:`make_private` hands the user's module, optimizer and loader to
``PrivacyEngine.make_private`` with Poisson sampling and flat per-sample clipping; with
``grad_sample_mode="ghost"`` (the fast path for Linear/LayerNorm/Embedding/Conv layers) it also
returns the loss wrapper that runs ghost clipping inside ``loss.backward()``. Training loops stop at
``plan.steps``: they never take a step the plan did not pay for.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from medsynth.core.errors import ConfigError, PrivacyBudgetError

if TYPE_CHECKING:
    import torch

AccountantName = Literal["prv", "rdp"]
GradSampleMode = Literal["ghost", "hooks", "functorch"]


@dataclass(frozen=True)
class DPSGDPlan:
    """The DP-SGD parameters of one training run.

    Attributes:
        epsilon: target epsilon for the training part of the budget.
        delta: its delta.
        accountant: "prv" or "rdp".
        noise_multiplier: calibrated sigma (noise std / clipping norm).
        sample_rate: Poisson sampling rate q (1 / batches per epoch).
        steps: planned optimizer steps.
        max_grad_norm: per-sample clipping norm C.
        grad_sample_mode: opacus' per-sample gradient engine.
        planned_epsilon: epsilon the accountant gives for the planned steps (<= epsilon).
    """

    epsilon: float
    delta: float
    accountant: AccountantName
    noise_multiplier: float
    sample_rate: float
    steps: int
    max_grad_norm: float
    grad_sample_mode: GradSampleMode
    planned_epsilon: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def quiet_opacus() -> Iterator[None]:
    """Silence opacus' known-benign warnings (secure RNG off, full backward hooks, RDP alpha range)."""
    with warnings.catch_warnings():
        for msg in ("Secure RNG turned off", "Full backward hook is firing", "Optimal order is the"):
            warnings.filterwarnings("ignore", message=msg)
        yield


def compute_epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: AccountantName = "prv") -> float:
    """Epsilon of ``steps`` Poisson-subsampled Gaussian steps, from opacus' own accountant."""
    from opacus.accountants import create_accountant

    if steps <= 0:
        return 0.0
    acc = create_accountant(mechanism=accountant)
    acc.history = [(float(noise_multiplier), float(sample_rate), int(steps))]
    with quiet_opacus():
        return float(acc.get_epsilon(delta=delta))


def plan_dpsgd(
    *,
    n: int,
    batch_size: int,
    epochs: int,
    epsilon: float,
    delta: float,
    accountant: AccountantName = "prv",
    max_grad_norm: float = 1.0,
    grad_sample_mode: GradSampleMode = "ghost",
    max_steps: int | None = None,
) -> DPSGDPlan:
    """Calibrate the noise multiplier so that the planned steps spend at most ``epsilon``.

    The sample rate is ``1 / ceil(n / batch_size)`` (what opacus' Poisson loader uses); the plan has
    ``epochs`` epochs of ``ceil(n / batch_size)`` steps, cut to ``max_steps`` when given.

    Raises:
        PrivacyBudgetError: for epsilon <= 0, delta outside (0, 1/n), or a budget too small to calibrate.
    """
    from opacus.accountants.utils import get_noise_multiplier

    if not (epsilon > 0) or not math.isfinite(epsilon):
        raise PrivacyBudgetError(f"epsilon {epsilon!r} must be a positive finite number for DP-SGD")
    if not 0 < delta < 1.0 / n:
        raise PrivacyBudgetError(f"delta {delta:g} must be in (0, 1/n) = (0, {1.0 / n:.3g}) for n = {n} rows; "
                                 f"use e.g. --delta {10 ** math.floor(math.log10(1.0 / (10 * n))):g}")
    if batch_size < 1 or epochs < 1:
        raise ConfigError(f"batch_size {batch_size} and epochs {epochs} must be >= 1")
    batches = max(1, math.ceil(n / batch_size))
    sample_rate = 1.0 / batches
    steps = epochs * batches
    if max_steps is not None:
        steps = min(steps, int(max_steps))
    try:
        with quiet_opacus():
            sigma = get_noise_multiplier(target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate,
                                         steps=steps, accountant=accountant, epsilon_tolerance=0.01)
    except ValueError as exc:
        raise PrivacyBudgetError(f"cannot calibrate DP-SGD noise for epsilon {epsilon:g} over {steps} steps at sample "
                                 f"rate {sample_rate:.3g} ({exc}); raise epsilon or take fewer steps") from None
    planned = compute_epsilon(sigma, sample_rate, steps, delta, accountant)
    if planned > epsilon:
        raise PrivacyBudgetError(f"calibrated noise {sigma:.4g} gives epsilon {planned:.4g} > target {epsilon:g}")
    return DPSGDPlan(epsilon=epsilon, delta=delta, accountant=accountant, noise_multiplier=float(sigma),
                     sample_rate=sample_rate, steps=int(steps), max_grad_norm=float(max_grad_norm),
                     grad_sample_mode=grad_sample_mode, planned_epsilon=planned)


def validate_module(module: torch.nn.Module) -> None:
    """Run opacus' ModuleValidator; raise ConfigError listing every incompatible layer."""
    from opacus.validators import ModuleValidator

    errors = ModuleValidator.validate(module, strict=False)
    if errors:
        lines = "\n".join(f"  - {e}" for e in errors)
        raise ConfigError(f"this model cannot be trained with DP-SGD:\n{lines}\n(replace BatchNorm by LayerNorm/GroupNorm)")


def make_private(
    *,
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    data_loader: torch.utils.data.DataLoader,
    plan: DPSGDPlan,
    criterion: Any = None,
    noise_generator: torch.Generator | None = None,
) -> tuple[Any, Any, Any, Any, Any]:
    """Wrap for DP-SGD with opacus (Poisson sampling, flat clipping at ``plan.max_grad_norm``).

    Returns:
        ``(module, optimizer, criterion, data_loader, engine)``. ``criterion`` is opacus' ghost-clipping
        loss wrapper in ghost mode (call it with per-sample-loss inputs, then ``.backward()``), else the
        criterion given. ``engine.accountant`` tracks the spend.
    """
    from opacus import PrivacyEngine

    validate_module(module)
    engine = PrivacyEngine(accountant=plan.accountant)
    kwargs: dict[str, Any] = dict(module=module, optimizer=optimizer, data_loader=data_loader,
                                  noise_multiplier=plan.noise_multiplier, max_grad_norm=plan.max_grad_norm,
                                  poisson_sampling=True, grad_sample_mode=plan.grad_sample_mode,
                                  noise_generator=noise_generator, loss_reduction="mean")
    if plan.grad_sample_mode == "ghost":
        if criterion is None:
            raise ConfigError("ghost clipping needs the per-sample criterion")
        out_module, out_opt, out_crit, out_loader = engine.make_private(criterion=criterion, **kwargs)
        return out_module, out_opt, out_crit, out_loader, engine
    out_module, out_opt, out_loader = engine.make_private(**kwargs)
    return out_module, out_opt, criterion, out_loader, engine


def spent_epsilon(engine: Any, delta: float) -> float:
    """Epsilon spent so far by an opacus PrivacyEngine (0 before the first step)."""
    if not engine.accountant.history:
        return 0.0
    with quiet_opacus():
        return float(engine.accountant.get_epsilon(delta=delta))


__all__ = ["DPSGDPlan", "compute_epsilon", "make_private", "plan_dpsgd", "quiet_opacus", "spent_epsilon", "validate_module"]
