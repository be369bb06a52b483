"""The shared state of one image evaluation: what metrics read and what they add (figures, notes).

Metrics never edit the Report: each receives an :class:`ImageContext`, reads the volume sets and
settings from it, and hands figures and notes to it; :func:`medsynth.evaluation.images.evaluate_images`
builds the Report from the results and the context afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from medsynth.evaluation.config import EvaluationConfig

if TYPE_CHECKING:
    from medsynth.evaluation.images import ImageSet


@dataclass
class ImageContext:
    """Inputs and shared outputs of one image evaluation.

    Attributes:
        sets: "train", "holdout" and "synthetic" volumes on the common grid.
        config: the evaluation settings.
        tissue_names: names of label values (for per-tissue metrics).
        notes: plain-language remarks for the report.
        figures: report figures (section, title, base64 png, caption).
        cache: values computed once and shared by metrics (e.g. network features).
    """

    sets: dict[str, ImageSet]
    config: EvaluationConfig
    tissue_names: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    figures: list[dict[str, str]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator seeded by the config seed and the purpose (each metric its own stream)."""
        return np.random.default_rng([self.config.seed, sum(map(ord, purpose))])

    def figure(self, section: str, title: str, png: str, caption: str) -> None:
        """Add a figure (base64 PNG) to a report section."""
        self.figures.append({"section": section, "title": title, "png": png, "caption": caption})

    def note(self, text: str) -> None:
        """Add a plain-language remark to the report (once)."""
        if text not in self.notes:
            self.notes.append(text)

    def tissue_name(self, value: int) -> str:
        """The name of a label value (``label k`` when unnamed)."""
        return self.tissue_names.get(int(value), f"label {int(value)}")


__all__ = ["ImageContext"]
