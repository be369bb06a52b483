"""Audit-only gradient canaries for DP-SGD (white-box one-run auditing). Never active in a real fit.

Steinke, Nasr and Jagielski 2023 ("Privacy Auditing with One (1) Training Run") and Nasr et al. 2023
("Tight Auditing of Differentially Private Machine Learning") audit DP-SGD with *gradient canaries*:
virtual records whose clipped gradient is a fixed vector of norm C, here C times a Dirac vector (one
parameter coordinate per canary, distinct across canaries). In one training run each of m canaries is
included with probability 1/2; an included canary is Poisson-sampled at every step at the run's
sample rate, like a real row, and adds C to its coordinate of the summed clipped gradient *before* the
noise. The auditor observes the noisy gradient of every step (the DP-SGD transcript, which the
accountant bounds and of which the final weights and any checkpoint are functions) at the canaries'
coordinates, minus the real rows' clipped contribution there (the rest of the data is known to the
adversary under DP), so each observation is ``C * sampled + noise``, in units of C
``o_t = b_t + sigma * z_t``. DP-SGD's guarantee covers any record whose gradient is clipped to C, so
with the calibrated noise no attack on these observations can beat the claimed epsilon; with noise
scaled down it can, by a wide margin.

The hook attaches only inside :func:`gradient_canaries_for_audit` (a ``with`` block of the audit), to the
DP optimizer that :func:`medsynth.privacy.dpsgd.make_private` builds while it is active, by wrapping the
optimizer's ``pre_step`` (and, outside ghost clipping, its ``clip_and_accumulate``) like
:func:`~medsynth.privacy.dpsgd.fuse_noise_step` does. The block also runs under
:func:`medsynth.privacy.noise.insecure_for_audit`: a fit made there records "insecure" in its ledger
status and ``medsynth tabular export`` refuses it. Outside the block :func:`attach_active_canaries` does
nothing.

An empty Poisson batch takes opacus-free noise-only steps (:mod:`medsynth.tabular.neural`), which this
hook does not see: the canaries sampled at such a step are left out and the step is not observed
(``observed_steps`` < ``planned_steps``), which only weakens the attack.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from medsynth.core.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from medsynth.privacy.dpsgd import DPSGDPlan

#: What a fit made under the hook records as the reason it is insecure.
INSECURE_REASON = "gradient canaries added to DP-SGD for an audit"

_active: GradientCanaries | None = None


@dataclass
class GradientCanaries:
    """m Dirac gradient canaries of one audit fit, and what the auditor observed of them.

    Attributes:
        included: which canaries are in the run (bool, one per canary; each in with probability 1/2).
        seed: picks the canaries' coordinates (the audit's randomness; the coordinates may be public).
        coordinates: the flat parameter index of each canary (set when the hook attaches).
        observations: per observed step, each canary's coordinate of the noisy summed gradient minus the
            real rows' clipped sum there, in units of the clipping norm C.
        planned_steps: the DP plan's steps.
        sample_rate: the Poisson rate the canaries were sampled with (the plan's).
        noise_multiplier: the noise multiplier the optimizer ran with.
        max_grad_norm: C.
        times_sampled: per canary, the steps it was sampled in (zero when excluded; for diagnostics only,
            never seen by the attack).
    """

    included: np.ndarray
    seed: int = 0
    coordinates: np.ndarray | None = None
    observations: list[np.ndarray] = field(default_factory=list)
    planned_steps: int = 0
    sample_rate: float = 0.0
    noise_multiplier: float = 0.0
    max_grad_norm: float = 0.0
    times_sampled: np.ndarray | None = None
    _groups: list[tuple[int, Any, np.ndarray]] = field(default_factory=list, repr=False)
    _gen: np.random.Generator | None = field(default=None, repr=False)
    _pending: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.included = np.asarray(self.included, dtype=bool).reshape(-1)
        if self.included.size < 1:
            raise ConfigError("gradient canaries: at least one canary is needed")

    @property
    def m(self) -> int:
        """The number of canaries."""
        return int(self.included.size)

    @property
    def attached(self) -> bool:
        """Whether a DP-SGD optimizer carried the canaries (a fit under the block trained with DP-SGD)."""
        return self.coordinates is not None

    def observed(self) -> np.ndarray:
        """The observations as a (steps, m) array (float64)."""
        if not self.observations:
            return np.zeros((0, self.m))
        return np.stack(self.observations).astype(float)

    # -- the hook --------------------------------------------------------------------------------------
    def _attach(self, optimizer: Any, plan: DPSGDPlan) -> None:
        import torch
        from opacus.optimizers.optimizer_fast_gradient_clipping import DPOptimizerFastGradientClipping

        from medsynth.privacy.noise import noise_rng

        if self.attached:
            raise ConfigError("gradient canaries audit one DP-SGD training per fit; this fit built a second DP optimizer")
        params = list(optimizer.params)
        sizes = [int(p.numel()) for p in params]
        d = sum(sizes)
        if self.m > d:
            raise ConfigError(f"{self.m} gradient canaries need as many parameters, but the DP-trained module has {d}; "
                              f"use at most {d} canaries (--canaries) or a larger model")
        coords = np.sort(np.random.default_rng([self.seed, 0x6772]).choice(d, self.m, replace=False))
        offsets = np.cumsum([0, *sizes])
        which = np.searchsorted(offsets, coords, side="right") - 1
        self._groups = [(j, torch.as_tensor(coords[which == j] - offsets[j], dtype=torch.long, device=params[j].device),
                         np.nonzero(which == j)[0]) for j in range(len(params)) if np.any(which == j)]
        self.coordinates = coords
        self.planned_steps, self.sample_rate = int(plan.steps), float(plan.sample_rate)
        self.noise_multiplier, self.max_grad_norm = float(optimizer.noise_multiplier), float(optimizer.max_grad_norm)
        self.times_sampled = np.zeros(self.m, dtype=np.int64)
        self._gen = noise_rng()  # the canaries' Poisson sampling is part of the mechanism: secure randomness
        original_pre_step = optimizer.pre_step
        if isinstance(optimizer, DPOptimizerFastGradientClipping):  # p.grad holds the clipped sum until pre_step
            def pre_step(closure: Any = None) -> bool:
                if any(p.summed_grad is not None for p in params):  # pragma: no cover - medsynth never accumulates
                    raise RuntimeError("gradient canaries do not support accumulated (skipped) DP-SGD steps")
                known = self._inject([p.grad for p in params])
                return self._observe(optimizer, params, known, original_pre_step(closure))
        else:  # opacus clips per-sample gradients into p.summed_grad inside pre_step
            original_clip = optimizer.clip_and_accumulate

            def clip_and_accumulate() -> None:
                original_clip()
                self._pending = self._inject([p.summed_grad for p in params])

            def pre_step(closure: Any = None) -> bool:
                self._pending = None
                ok = original_pre_step(closure)
                return self._observe(optimizer, params, self._pending, ok)

            optimizer.clip_and_accumulate = clip_and_accumulate
        optimizer.pre_step = pre_step

    def _inject(self, sums: list[torch.Tensor | None]) -> np.ndarray:
        """Add C at the sampled included canaries' coordinates of the clipped sums; return the sums there before."""
        import torch

        sampled = (self._gen.random(self.m) < self.sample_rate) & self.included  # type: ignore[union-attr]
        self.times_sampled += sampled  # type: ignore[operator]
        known = np.zeros(self.m)
        for j, local, idx in self._groups:
            t = sums[j]
            if t is None or not t.is_contiguous():  # pragma: no cover - opacus always fills contiguous sums
                raise RuntimeError("gradient canaries: a parameter has no contiguous clipped gradient sum")
            flat = t.view(-1)
            known[idx] = flat[local].detach().double().cpu().numpy()
            add = torch.as_tensor(sampled[idx] * self.max_grad_norm, dtype=flat.dtype, device=flat.device)
            flat.index_add_(0, local, add)
        return known

    def _observe(self, optimizer: Any, params: list[Any], known: np.ndarray | None, ok: bool) -> bool:
        if not ok or known is None:  # pragma: no cover - medsynth never skips a step
            raise RuntimeError("gradient canaries: a DP-SGD step was skipped or clipped nothing")
        scale = optimizer.expected_batch_size * optimizer.accumulated_iterations if optimizer.loss_reduction == "mean" else 1
        seen = np.zeros(self.m)
        for j, local, idx in self._groups:
            seen[idx] = params[j].grad.detach().view(-1)[local].double().cpu().numpy()
        self.observations.append(((seen * scale - known) / self.max_grad_norm).astype(np.float32))
        return ok


@contextlib.contextmanager
def gradient_canaries_for_audit(canaries: GradientCanaries) -> Iterator[GradientCanaries]:
    """Add ``canaries`` to the DP-SGD training of every DP optimizer built in the block (audit only).

    The fit made in the block is marked insecure in its ledger (``export`` refuses it). One block at a
    time; the canaries attach to the first DP optimizer and a second one raises.

    Raises:
        ConfigError: a block is already active.
    """
    global _active
    if _active is not None:
        raise ConfigError("gradient canaries are already active (one audit block at a time)")
    from medsynth.privacy.noise import insecure_for_audit

    _active = canaries
    try:
        with insecure_for_audit(INSECURE_REASON):
            yield canaries
    finally:
        _active = None


def attach_active_canaries(optimizer: Any, plan: DPSGDPlan) -> None:
    """Called by :func:`~medsynth.privacy.dpsgd.make_private`: attach the active canaries (none outside audits)."""
    if _active is not None:
        _active._attach(optimizer, plan)


def canaries_active() -> bool:
    """Whether a :func:`gradient_canaries_for_audit` block is running."""
    return _active is not None


__all__ = ["INSECURE_REASON", "GradientCanaries", "attach_active_canaries", "canaries_active",
           "gradient_canaries_for_audit"]
