"""The privacy ledger: every access to the real data, its mechanism and its cost.

Every fit writes ``privacy_ledger.json`` into its run directory. For a differentially private fit,
each entry is one access (estimating a column's range, measuring marginals, DP-SGD training) with
its (epsilon, delta); the totals compose the entries by basic composition (epsilons add, deltas
add), a valid upper bound, and never exceed the target: :meth:`PrivacyLedger.record` refuses an
entry that would. Non-private fits write the same file with ``"private": false`` and one entry per
use of the data, with no epsilon.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medsynth.core.errors import PrivacyBudgetError
from medsynth.core.files import write_json

#: Slack for floating-point round-off when comparing totals with targets.
_TOL = 1e-9
LEDGER_FILE = "privacy_ledger.json"


@dataclass
class LedgerEntry:
    """One access to the real data.

    Attributes:
        access: what was computed (e.g. "range of column 'age'").
        mechanism: how (e.g. "gaussian histogram (zCDP)", "DP-SGD (opacus, ghost clipping)").
        epsilon: the access's epsilon (``None`` for non-private use).
        delta: its delta (``None`` for non-private use).
        columns: the columns it touched.
        details: mechanism parameters (rho, noise multiplier, sample rate, steps, accountant...).
    """

    access: str
    mechanism: str
    epsilon: float | None
    delta: float | None
    columns: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class PrivacyLedger:
    """Records accesses and keeps their composition within the target.

    Args:
        private: whether the fit claims differential privacy.
        target_epsilon: the budget's epsilon (``None`` for non-private fits).
        target_delta: the budget's delta.
    """

    def __init__(self, *, private: bool, target_epsilon: float | None = None, target_delta: float | None = None) -> None:
        if private:
            if target_epsilon is None or not (target_epsilon > 0) or not math.isfinite(target_epsilon):
                raise PrivacyBudgetError(f"target epsilon {target_epsilon!r} must be a positive finite number")
            if target_delta is None or not (0 < target_delta < 1):
                raise PrivacyBudgetError(f"target delta {target_delta!r} must be in (0, 1)")
        self.private = private
        self.target_epsilon = target_epsilon if private else None
        self.target_delta = target_delta if private else None
        self.entries: list[LedgerEntry] = []
        self.created = time.strftime("%Y-%m-%dT%H:%M:%S")

    # -- totals ---------------------------------------------------------------------------------
    @property
    def total_epsilon(self) -> float:
        """The composed epsilon of every entry (infinite for a non-private ledger)."""
        return float(sum(e.epsilon or 0.0 for e in self.entries)) if self.private else float("inf")

    @property
    def total_delta(self) -> float:
        """The composed delta of every entry (1 for a non-private ledger)."""
        return float(sum(e.delta or 0.0 for e in self.entries)) if self.private else 1.0

    def remaining(self) -> tuple[float, float]:
        """(epsilon, delta) still available."""
        if not self.private:
            return float("inf"), 1.0
        return max(self.target_epsilon - self.total_epsilon, 0.0), max(self.target_delta - self.total_delta, 0.0)

    # -- recording -------------------------------------------------------------------------------
    def record(
        self,
        access: str,
        mechanism: str,
        *,
        epsilon: float | None = None,
        delta: float | None = None,
        columns: list[str] | None = None,
        **details: Any,
    ) -> LedgerEntry:
        """Add an access. In a private ledger it must carry epsilon and delta and fit the budget.

        Raises:
            PrivacyBudgetError: when the entry would take the totals past the target.
        """
        if self.private:
            if epsilon is None or delta is None or epsilon < 0 or delta < 0:
                raise PrivacyBudgetError(f"ledger entry '{access}' needs non-negative epsilon and delta, got {epsilon}, {delta}")
            eps_after, delta_after = self.total_epsilon + epsilon, self.total_delta + delta
            if eps_after > self.target_epsilon * (1 + _TOL) + _TOL or delta_after > self.target_delta * (1 + _TOL):
                raise PrivacyBudgetError(
                    f"'{access}' would spend epsilon {epsilon:.4g}, delta {delta:.3g}, taking the total to "
                    f"({eps_after:.4g}, {delta_after:.3g}) past the target ({self.target_epsilon:g}, {self.target_delta:g})"
                )
        else:
            epsilon = delta = None
        entry = LedgerEntry(access=access, mechanism=mechanism, epsilon=epsilon, delta=delta,
                            columns=list(columns or []), details=details)
        self.entries.append(entry)
        return entry

    # -- files -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The ledger as ``privacy_ledger.json`` holds it."""
        return {
            "private": self.private,
            "composition": "basic (epsilons and deltas add)" if self.private else None,
            "target_epsilon": self.target_epsilon,
            "target_delta": self.target_delta,
            "total_epsilon": self.total_epsilon if self.private else None,
            "total_delta": self.total_delta if self.private else None,
            "created": self.created,
            "entries": [asdict(e) for e in self.entries],
        }

    def save(self, path: str | Path) -> Path:
        """Atomically write the ledger (a folder gets ``privacy_ledger.json``)."""
        p = Path(path)
        if p.is_dir() or p.suffix == "":
            p = p / LEDGER_FILE
        write_json(p, _finite(self.to_dict()))
        return p

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrivacyLedger:
        """A ledger from the dict :meth:`to_dict` wrote."""
        led = cls(private=bool(data["private"]), target_epsilon=data.get("target_epsilon"), target_delta=data.get("target_delta"))
        led.created = data.get("created", led.created)
        led.entries = [LedgerEntry(**e) for e in data.get("entries", [])]
        return led

    @classmethod
    def load(cls, path: str | Path) -> PrivacyLedger:
        """Read a ``privacy_ledger.json`` (or the one in folder ``path``)."""
        p = Path(path)
        if p.is_dir():
            p = p / LEDGER_FILE
        return cls.from_dict(json.loads(p.read_text(encoding="utf-8")))


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by None so the JSON stays strict."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


__all__ = ["LEDGER_FILE", "LedgerEntry", "PrivacyLedger"]
