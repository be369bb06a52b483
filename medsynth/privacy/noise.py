"""The one source of the randomness that differential privacy rests on.

Every random draw a DP guarantee depends on (Gaussian and exponential mechanisms, Poisson masks of
DP-SGD, DP-SGD's gradient noise, the random imputation of unreleased values) comes from a generator
made here, seeded from the operating system's entropy (:func:`secrets.randbits`). The seed is never
stored, logged or returned. A user's ``--seed`` drives initialisation and post-fit sampling only: two
DP fits with the same seed on the same data release different models, so nobody holding the seed can
regenerate the noise and subtract it.

Model hooks receive two generators: ``init`` (seeded: weights, data order where it is not a privacy
mechanism, sampling) and ``noise`` (from here). :class:`Generators` carries both.

Auditing needs to break this on purpose (``medsynth audit dp`` shows that a mechanism whose noise
comes from a published seed is caught): :func:`insecure_noise_for_audit` replaces the source inside a
``with`` block and marks every generator it hands out, so a broken run can never pass for a real one.
Every audit-only hook (this one, and the gradient canaries of :mod:`medsynth.privacy.dpsgd_audit`) runs
inside :func:`insecure_for_audit`: a DP fit made while one is active records why in its ledger status
(``"insecure: ..."``), and ``medsynth tabular export`` refuses it.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

_override: Callable[[], int] | None = None
_insecure: list[str] = []  # why the running code is not a real DP fit (audit-only hooks active), innermost last


def _entropy() -> int:
    return _override() if _override is not None else secrets.randbits(128)


def noise_rng() -> np.random.Generator:
    """A numpy generator for DP noise, seeded from OS entropy (never stored)."""
    return np.random.Generator(np.random.PCG64(_entropy()))


def noise_torch_generator(device: Any = "cpu") -> torch.Generator:
    """A torch generator for DP noise (Poisson masks, DP-SGD noise), seeded from OS entropy."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(_entropy() % (2**63 - 1))
    return gen


def noise_is_overridden() -> bool:
    """True inside :func:`insecure_noise_for_audit` (a run made there must never be released)."""
    return _override is not None


def insecure_audit_reasons() -> list[str]:
    """Why a DP fit started now would not be a real one: the audit-only hooks active (empty outside audits)."""
    return list(_insecure)


@contextlib.contextmanager
def insecure_for_audit(reason: str) -> Iterator[None]:
    """Mark every DP fit started in the block as insecure, saying ``reason`` (for audit-only hooks).

    A fit reads :func:`insecure_audit_reasons` when it starts and writes them into its ledger status, so a
    run made under an audit hook is refused by ``medsynth tabular export`` however it is copied around.
    """
    _insecure.append(reason)
    try:
        yield
    finally:
        _insecure.remove(reason)


@contextlib.contextmanager
def insecure_noise_for_audit(seed: int) -> Iterator[None]:
    """Make every DP noise generator in the block deterministic from ``seed`` (BREAKS the guarantee).

    For :mod:`medsynth.privacy.audit` and the tests only: it shows that an attacker who knows the noise
    seed wins, i.e. that the audit can detect a broken mechanism. Generators handed out in the block
    are seeded from ``seed`` and a counter, so two runs in two blocks with the same seed draw the same
    noise.
    """
    global _override
    counter = iter(range(1 << 62))
    previous = _override
    _override = lambda: int(np.random.SeedSequence([seed, next(counter)]).generate_state(1, np.uint64)[0])  # noqa: E731
    try:
        with insecure_for_audit("DP noise seeded for an audit"):
            yield
    finally:
        _override = previous


@dataclass
class Generators:
    """The two generators a model hook receives.

    Attributes:
        init: seeded by the user's ``--seed``: initialisation and anything that is not a DP mechanism.
        noise: DP noise (OS entropy). For a non-private fit it is simply another seeded generator.
    """

    init: np.random.Generator
    noise: np.random.Generator

    @classmethod
    def for_fit(cls, seed: int, *, private: bool) -> Generators:
        """``init`` from ``seed``; ``noise`` from OS entropy for a DP fit, from ``seed`` otherwise."""
        init = np.random.default_rng(seed)
        noise = noise_rng() if private else np.random.default_rng([seed, 1])
        return cls(init=init, noise=noise)


__all__ = ["Generators", "insecure_audit_reasons", "insecure_for_audit", "insecure_noise_for_audit", "noise_is_overridden",
           "noise_rng", "noise_torch_generator"]
