"""The central contracts: Synthesizer, Translator, private models and metrics.

These are structural (``typing.Protocol``): a class satisfies them by having the methods, with no
base class to inherit. The contract test suite in ``tests/contract`` runs every registered model
through the same checks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class PrivacyReport:
    """What a differentially private fit spent.

    Attributes:
        epsilon: the composed epsilon over every access to the real data.
        delta: the composed delta.
        accountant: "prv", "rdp", ... (or "none" for non-private fits).
        noise_multiplier: DP-SGD's noise multiplier (None when not DP-SGD).
        sample_rate: Poisson sampling rate (None when not DP-SGD).
        steps: optimizer steps taken.
        private: False for models trained without differential privacy.
    """

    epsilon: float
    delta: float
    accountant: str
    noise_multiplier: float | None = None
    sample_rate: float | None = None
    steps: int = 0
    private: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The report as a plain dict (for JSON)."""
        return asdict(self)


@runtime_checkable
class Synthesizer(Protocol):
    """fit -> sample -> save -> load. ``data`` is a dataset of Volumes (imaging) or a table."""

    def fit(self, data: Any) -> Synthesizer:
        """Learn from the real data; returns ``self``."""

    def sample(self, n: int, *, seed: int | None = None) -> Any:
        """Draw ``n`` synthetic items; the same ``seed`` gives the same sample."""

    def save(self, path: str | Path) -> None:
        """Write the fitted model (config, weights, meta.json) into folder ``path``."""

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> Synthesizer:
        """Load a model written by :meth:`save` onto ``device``."""


@runtime_checkable
class Translator(Protocol):
    """fit(source, target) -> translate(volume) -> save -> load."""

    def fit(self, source: Any, target: Any) -> Translator:
        """Learn the mapping from ``source`` to ``target`` data; returns ``self``."""

    def translate(self, volume: Any) -> Any:
        """Translate one volume."""

    def save(self, path: str | Path) -> None:
        """Write the fitted model (config, weights, meta.json) into folder ``path``."""

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> Translator:
        """Load a model written by :meth:`save` onto ``device``."""


@runtime_checkable
class PrivateModel(Protocol):
    """A model trained with differential privacy reports what it spent."""

    def privacy_spent(self) -> PrivacyReport:
        """What the fit spent of the privacy budget."""


@runtime_checkable
class Metric(Protocol):
    """A metric judges real vs synthetic data, whatever produced it."""

    name: str
    direction: Literal["maximize", "minimize"]

    def compute(self, real: Any, synthetic: Any, **kwargs: Any) -> Any:
        """Judge ``synthetic`` against ``real``; returns the metric's result(s)."""


__all__ = ["Metric", "PrivacyReport", "PrivateModel", "Synthesizer", "Translator"]
