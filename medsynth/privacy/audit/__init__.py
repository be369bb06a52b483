"""Empirical DP auditing: ``medsynth audit dp``.

:func:`audit_dp` fits a DP synthesizer with canaries as a user would, attacks what the fit releases,
and reports a statistical lower bound on epsilon beside the claim (exit code 1 from the CLI when the
bound exceeds it). Submodules: :mod:`~medsynth.privacy.audit.stats` (Clopper-Pearson and one-run
bounds), :mod:`~medsynth.privacy.audit.canaries`, :mod:`~medsynth.privacy.audit.release` (fitting and
reading releases, deliberately broken variants), :mod:`~medsynth.privacy.audit.attacks`,
:mod:`~medsynth.privacy.audit.api`.

Unlike the rest of :mod:`medsynth.privacy`, this package runs synthesizers end to end, so it imports
:mod:`medsynth.tabular` (inside functions): it sits above the models it attacks, like the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from medsynth.privacy.audit.api import AttackOutcome, AuditResult, audit_dp

__all__ = ["AttackOutcome", "AuditResult", "audit_dp"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from medsynth.privacy.audit import api

        return getattr(api, name)
    raise AttributeError(f"module 'medsynth.privacy.audit' has no attribute {name!r}")
