"""DP-SGD through opacus: plan the noise for a budget, wrap model/optimizer/loader, account.

:func:`plan_dpsgd` fixes the sampling rate and number of steps from the batch size and epochs, and
calibrates the noise multiplier up front (:func:`calibrate_noise`, opacus' accountant) so that the planned
run spends at most the target epsilon under the chosen accountant (PRV by default, RDP selectable).
:func:`make_private` hands the user's module, optimizer and loader to
``PrivacyEngine.make_private`` with Poisson sampling and flat per-sample clipping; with
``grad_sample_mode="ghost"`` (the fast path for Linear/LayerNorm/Embedding/Conv layers) it also
returns the loss wrapper that runs ghost clipping inside ``loss.backward()``. Training loops stop at
``plan.steps``: they never take a step the plan did not pay for.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from medsynth.core.errors import ConfigError, PrivacyBudgetError

if TYPE_CHECKING:
    import torch

    from medsynth.privacy.ledger import PrivacyLedger

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
        """The plan as a plain dict (for meta.json and the ledger)."""
        return asdict(self)


@contextlib.contextmanager
def quiet_opacus() -> Iterator[None]:
    """Silence opacus' known-benign warnings (secure RNG off, full backward hooks, RDP alpha range)."""
    with warnings.catch_warnings():
        for msg in ("Secure RNG turned off", "Full backward hook is firing", "Optimal order is the"):
            warnings.filterwarnings("ignore", message=msg)
        yield


def compute_epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: AccountantName = "prv") -> float:
    """Epsilon of ``steps`` Poisson-subsampled Gaussian steps, from opacus' own accountant.

    Memoised (a PRV evaluation costs ~60 ms): the calibration's last evaluation is the planned epsilon,
    and the spend reported after training (same sigma, rate and steps) is the same number."""
    if steps <= 0:
        return 0.0
    return _epsilon(float(noise_multiplier), float(sample_rate), int(steps), float(delta), accountant)


@functools.lru_cache(maxsize=256)
def _epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str) -> float:
    from opacus.accountants import create_accountant

    acc = create_accountant(mechanism=accountant)
    acc.history = [(noise_multiplier, sample_rate, steps)]
    with quiet_opacus():
        return float(acc.get_epsilon(delta=delta))


def calibrate_noise(
    *, epsilon: float, delta: float, sample_rate: float, steps: int, accountant: AccountantName = "prv",
    tolerance: float = 0.01, max_evaluations: int = 60, epsilon_of: Callable[[float], float] | None = None,
) -> tuple[float, float]:
    """The noise multiplier whose epsilon lies in ``[epsilon - tolerance, epsilon]``, and that epsilon.

    ``epsilon_of(sigma)`` replaces the accountant's epsilon of the DP-SGD run alone, e.g. by the
    composed epsilon of a privacy ledger that already holds other accesses.

    The same contract as opacus' ``get_noise_multiplier`` (which bisects from sigma = 20: ~12 accountant
    evaluations), reached in ~4-6 evaluations: epsilon(sigma) is close to a power law, so the next sigma
    is interpolated (or, before a bracket exists, extrapolated) on log sigma vs log epsilon, aiming at
    ``epsilon - tolerance / 2``, always strictly inside the current bracket. Every returned value was
    evaluated by opacus' accountant: the result never exceeds ``epsilon``.

    Raises:
        ValueError: when no sigma up to 1e6 meets the budget (opacus' limit), or the search does not converge.
    """
    aim = epsilon - tolerance / 2
    lo: tuple[float, float] | None = None  # (sigma, eps) with eps > epsilon (too little noise)
    hi: tuple[float, float] | None = None  # (sigma, eps) with eps <= epsilon
    # first guess: the moments-accountant scaling sigma ~ q sqrt(2 T log(1/delta)) / epsilon (within ~1.5x here)
    sigma = max(0.5, sample_rate * math.sqrt(2 * steps * math.log(1 / delta)) / epsilon)
    for _ in range(max_evaluations):
        try:
            eps = epsilon_of(sigma) if epsilon_of is not None else compute_epsilon(sigma, sample_rate, steps, delta, accountant)
        except (ValueError, OverflowError, FloatingPointError):  # too little noise for the accountant's grid
            eps = math.inf
        if not eps <= epsilon:  # nan/inf count as over budget
            if lo is None or sigma > lo[0]:
                lo = (sigma, eps)
        elif hi is None or sigma < hi[0]:
            hi = (sigma, eps)
        if hi is not None and epsilon - hi[1] <= tolerance:
            return hi
        if lo is not None and hi is not None:
            if math.isfinite(lo[1]) and lo[1] > 0 and hi[1] > 0:
                t = (math.log(aim) - math.log(lo[1])) / (math.log(hi[1]) - math.log(lo[1]))
                t = min(max(t, 0.05), 0.95)  # stay strictly inside the bracket: it shrinks every step
            else:
                t = 0.5
            sigma = math.exp(math.log(lo[0]) + t * (math.log(hi[0]) - math.log(lo[0])))
        elif hi is not None:  # all evaluations under budget: less noise, epsilon ~ 1/sigma
            sigma = hi[0] * max(0.25, min(0.95, hi[1] / aim)) if hi[1] > 0 else hi[0] / 4
        else:  # all over budget: more noise
            if lo is None:  # unreachable: a step either goes over the budget (lo) or under it (hi)
                raise RuntimeError("noise calibration recorded no evaluation")
            sigma = lo[0] * (min(4.0, max(1.25, lo[1] / aim)) if math.isfinite(lo[1]) else 4.0)
            if sigma > 1e6:
                raise ValueError("The privacy budget is too low.")
    raise ValueError(f"noise calibration did not converge in {max_evaluations} accountant evaluations")


def plan_dpsgd(
    *,
    n: float,
    batch_size: int,
    epochs: int,
    epsilon: float | None = None,
    delta: float | None = None,
    accountant: AccountantName = "prv",
    max_grad_norm: float = 1.0,
    grad_sample_mode: GradSampleMode = "ghost",
    max_steps: int | None = None,
    ledger: PrivacyLedger | None = None,
) -> DPSGDPlan:
    """Calibrate the noise multiplier so that the planned steps spend at most ``epsilon``.

    The sample rate is ``1 / ceil(n / batch_size)`` (what opacus' Poisson loader uses); the plan has
    ``epochs`` epochs of ``ceil(n / batch_size)`` steps, cut to ``max_steps`` when given. Under the
    add/remove relation the row count is private: a fit passes a *noisy* count as ``n`` (a DP output).

    With ``ledger``, the noise is calibrated so that the ledger's composed total (the accesses it already
    holds plus this run, composed in RDP) meets the ledger's target; ``epsilon``/``delta``/``accountant``
    are then taken from the ledger (RDP composition).

    Raises:
        PrivacyBudgetError: for epsilon <= 0, delta outside (0, 1/n), or a budget too small to calibrate.
    """
    if ledger is not None:
        epsilon, delta, accountant = float(ledger.target_epsilon), float(ledger.target_delta), "rdp"  # type: ignore[arg-type]
    if epsilon is None or not (epsilon > 0) or not math.isfinite(epsilon):
        raise PrivacyBudgetError(f"epsilon {epsilon!r} must be a positive finite number for DP-SGD")
    if delta is None or not 0 < delta < 1.0 / n:
        raise PrivacyBudgetError(f"delta {delta:g} must be in (0, 1/n) = (0, {1.0 / n:.3g}) for n = {n:.0f} rows; "
                                 f"use e.g. --delta {10 ** math.floor(math.log10(1.0 / (10 * n))):g}")
    if batch_size < 1 or epochs < 1:
        raise ConfigError(f"batch_size {batch_size} and epochs {epochs} must be >= 1")
    batches = max(1, math.ceil(n / batch_size))
    sample_rate = 1.0 / batches
    steps = epochs * batches
    if max_steps is not None:
        steps = min(steps, int(max_steps))
    epsilon_of = None
    if ledger is not None:
        from medsynth.privacy.ledger import LedgerEntry

        def epsilon_of(sigma: float) -> float:
            sgd = {"noise_multiplier": sigma, "sample_rate": sample_rate, "steps": steps}
            return ledger.epsilon_of([LedgerEntry(access="", mechanism="", sgd=sgd)])
    try:
        sigma, planned = calibrate_noise(epsilon=epsilon, delta=delta, sample_rate=sample_rate, steps=steps,
                                         accountant=accountant, tolerance=0.01, epsilon_of=epsilon_of)
    except ValueError as exc:
        raise PrivacyBudgetError(f"cannot calibrate DP-SGD noise for epsilon {epsilon:g} over {steps} steps at sample "
                                 f"rate {sample_rate:.3g} ({exc}); raise epsilon or take fewer steps") from None
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
        criterion given. ``engine.accountant`` tracks the spend. Inside an audit's
        :func:`~medsynth.privacy.dpsgd_audit.gradient_canaries_for_audit` block (never otherwise) the
        optimizer also carries the audit's gradient canaries.
    """
    from opacus import PrivacyEngine

    validate_module(module)
    engine = PrivacyEngine(accountant=plan.accountant)
    kwargs: dict[str, Any] = dict(module=module, optimizer=optimizer, data_loader=data_loader,
                                  noise_multiplier=plan.noise_multiplier, max_grad_norm=plan.max_grad_norm,
                                  poisson_sampling=True, grad_sample_mode=plan.grad_sample_mode,
                                  noise_generator=noise_generator, loss_reduction="mean")
    from medsynth.privacy.dpsgd_audit import attach_active_canaries

    if plan.grad_sample_mode == "ghost":
        if criterion is None:
            raise ConfigError("ghost clipping needs the per-sample criterion")
        out_module, out_opt, out_crit, out_loader = engine.make_private(criterion=criterion, **kwargs)
        fuse_noise_step(out_opt)
        attach_active_canaries(out_opt, plan)  # audit-only gradient canaries; nothing outside an audit block
        return out_module, out_opt, out_crit, out_loader, engine
    out_module, out_opt, out_loader = engine.make_private(**kwargs)
    attach_active_canaries(out_opt, plan)
    return out_module, out_opt, criterion, out_loader, engine


def fuse_noise_step(optimizer: Any) -> None:
    """Replace a ghost-clipping DP optimizer's per-parameter noise step by one fused step, in place.

    opacus' ``DPOptimizerFastGradientClipping.pre_step`` walks the parameters three times in Python
    (deep-copy each gradient, draw and add each parameter's noise, divide each by the expected batch
    size). The fused step does the same arithmetic with one Gaussian draw of all the noise (the same
    generator, std ``noise_multiplier * max_grad_norm`` per coordinate, independent across coordinates:
    the same distribution) and ``torch._foreach`` adds and divides; skipped steps, the accountant's step
    hook and opacus' adaptive-clipping noise multiplier behave as before. Secure-mode noise keeps opacus'
    own path (it draws each coordinate as a sum of several Gaussians)."""
    from opacus.optimizers.optimizer_fast_gradient_clipping import DPOptimizerFastGradientClipping

    if type(optimizer) is not DPOptimizerFastGradientClipping or optimizer.secure_mode:
        return
    import torch

    def pre_step(closure: Any = None) -> bool:
        opt = optimizer
        params = opt.params
        if params and params[0].summed_grad is not None:  # a skipped step left its sum: accumulate
            torch._foreach_add_([p.summed_grad for p in params], [p.grad for p in params])
        else:
            for p in params:
                p.summed_grad = p.grad.detach()  # p.grad is replaced below, so no copy is needed
        if opt._check_skip_next_step():
            opt._is_last_step_skipped = True
            return False
        std = getattr(opt, "_adjusted_noise_multiplier", opt.noise_multiplier) * opt.max_grad_norm
        summed = [p.summed_grad for p in params]
        if std > 0:
            ref = summed[0]
            total = sum(g.numel() for g in summed)
            flat = torch.normal(mean=0.0, std=std, size=(total,), device=ref.device, dtype=ref.dtype,
                                generator=opt.generator)
            noise = [n.view_as(g) for n, g in zip(flat.split([g.numel() for g in summed]), summed, strict=True)]
            grads = torch._foreach_add(summed, noise)
        else:
            grads = [g.clone() for g in summed]
        if opt.loss_reduction == "mean":
            torch._foreach_div_(grads, opt.expected_batch_size * opt.accumulated_iterations)
        for p, g in zip(params, grads, strict=True):
            p.grad = g.view_as(p)
        if opt.step_hook:
            opt.step_hook(opt)
        opt._is_last_step_skipped = False
        return True

    optimizer.pre_step = pre_step


def ghost_backward(loss: Any, output: torch.Tensor | None = None) -> None:
    """``loss.backward()`` for opacus' ghost-clipping loss, with cheaper passes; same gradients.

    Ghost clipping runs two backward passes: the first only feeds the layers' hooks, which compute the
    per-sample gradient norms from activations and output gradients; the second backpropagates the
    per-sample losses scaled by the clipping factors. Two savings, neither changing what is computed:

    - opacus' first pass also builds every weight's full gradient and throws it away. Here it asks
      autograd only for each layer's bias gradient (a sum over the batch; all of a layer's parameters
      where it has no bias): every layer's output gradient is still computed, so every hook fires with
      the same inputs and the norms and clipping factors are opacus' own. A parameter whose norm was
      not computed by this pass raises.
    - with ``output`` (the model's output, when each row's loss depends on ``output[i]`` alone, as a
      per-row loss does), the first pass also returns d(reduced loss)/d output, and the second pass
      starts from ``output`` with that gradient scaled per row by the clipping factor (times the batch
      size for a mean), instead of backpropagating through the loss's graph a second time. By the chain
      rule this is the gradient of ``sum_i c_i * loss_i``, which is what opacus backpropagates.
    """
    import torch
    from opacus.utils.fast_gradient_clipping_utils import DPTensorFastGradientClipping

    if not isinstance(loss, DPTensorFastGradientClipping):
        loss.backward()
        return
    module, optimizer, per_sample = loss.module, loss.optimizer, loss.loss_per_sample
    if loss.loss_reduction == "mean":
        reduced, scale = torch.mean(per_sample, dim=0), float(per_sample.shape[0])
    else:
        reduced, scale = torch.sum(per_sample, dim=0), 1.0
    params = list(module.trainable_parameters)
    for p in params:
        p._norm_sample = None
    inputs = _norm_pass_inputs(module)
    if output is not None:
        grad_out = torch.autograd.grad(reduced, [output, *inputs], retain_graph=True)[0]
    else:
        torch.autograd.grad(reduced, inputs, retain_graph=True)
    if any(p._norm_sample is None for p in params):  # pragma: no cover - a layer outside the bias paths
        raise RuntimeError("ghost clipping: a layer's per-sample norm was not computed by the first pass")
    optimizer.zero_grad()
    coeff = module.get_clipping_coef().to(per_sample.device)
    module.disable_hooks()
    try:
        if output is not None:
            weight = (coeff * scale).reshape(-1, *([1] * (output.dim() - 1))).to(grad_out.dtype)
            output.backward(grad_out * weight)
        else:
            torch.sum(coeff * per_sample).backward()
    finally:
        module.enable_hooks()


def _norm_pass_inputs(module: Any) -> list[Any]:
    """Per layer with trainable parameters: its bias, or all its parameters (cached on the wrapper)."""
    cached = module.__dict__.get("_medsynth_norm_pass_inputs")
    if cached is None:
        cached = []
        for layer in module.modules():
            own = [p for p in layer.parameters(recurse=False) if p.requires_grad]
            bias = getattr(layer, "bias", None)
            if any(bias is p for p in own):
                cached.append(bias)
            else:
                cached.extend(own)
        module.__dict__["_medsynth_norm_pass_inputs"] = cached
    return cached


def spent_epsilon(engine: Any, delta: float) -> float:
    """Epsilon spent so far by an opacus PrivacyEngine (0 before the first step).

    A history of one (sigma, rate, steps) entry, which is what a run at fixed noise leaves, is the same
    accountant computation as :func:`compute_epsilon` and shares its memo."""
    history = engine.accountant.history
    if not history:
        return 0.0
    mechanism = engine.accountant.mechanism()
    if len(history) == 1 and mechanism in ("prv", "rdp"):
        sigma, rate, steps = history[0]
        return compute_epsilon(sigma, rate, steps, delta, mechanism)
    with quiet_opacus():
        return float(engine.accountant.get_epsilon(delta=delta))


__all__ = ["DPSGDPlan", "calibrate_noise", "compute_epsilon", "fuse_noise_step", "ghost_backward", "make_private", "plan_dpsgd", "quiet_opacus", "spent_epsilon", "validate_module"]
