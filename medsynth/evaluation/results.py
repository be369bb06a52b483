"""Metric results and verdicts: the values a report is made of.

A :class:`MetricResult` carries one number under a stable name (``mia_distance_auc``,
``dcr_share_train``...), its direction, its baseline (what the same number is for data that leaks
nothing, or for real vs real), the threshold that judged it and the verdict. Verdicts order as
``pass < review < fail``; ``info`` marks a value shown without judgement (no threshold, or too few
samples to judge), ``skipped`` a metric that could not run (the reason is in ``note``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from medsynth.evaluation.config import Threshold

Verdict = Literal["pass", "review", "fail", "info", "skipped"]
Direction = Literal["maximize", "minimize"]
_RANK = {"pass": 0, "review": 1, "fail": 2}


@dataclass
class MetricResult:
    """One named value of a report.

    Attributes:
        name: stable snake_case name (part of the report.json contract).
        section: "fidelity", "utility", "privacy", "image_fidelity", "memorisation", "translation".
        value: the number (None when skipped).
        direction: "minimize" when lower is better for the data's purpose (privacy: lower risk).
        description: one sentence a non-expert can read.
        baseline: the reference value (ideal / real-vs-real / random guess), or None.
        threshold: the limits that produced ``verdict`` (None for info values).
        judged_value: the number compared with the threshold: the value, its excess over the
            baseline (threshold ``on="excess"``), or a stated confidence bound.
        verdict: pass / review / fail / info / skipped.
        note: why a value is info or skipped, or a caveat.
        details: further numbers (per-column tables, p-values, sizes), written to report.json.
        artifacts: arrays for the HTML plots (score histograms, ROC points); not written to JSON.
    """

    name: str
    section: str
    value: float | None
    direction: Direction
    description: str
    baseline: float | None = None
    threshold: Threshold | None = None
    judged_value: float | None = None
    verdict: Verdict = "info"
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The result as one entry of ``report.json``'s ``metrics`` (non-finite numbers as null)."""
        return {
            "name": self.name,
            "section": self.section,
            "value": _finite(self.value),
            "direction": self.direction,
            "baseline": _finite(self.baseline),
            "threshold": None if self.threshold is None else self.threshold.model_dump(),
            "judged_value": _finite(self.judged_value),
            "verdict": self.verdict,
            "description": self.description,
            "note": self.note,
            "details": _jsonable(self.details),
        }


def judge(
    name: str,
    section: str,
    value: float | None,
    direction: Direction,
    description: str,
    *,
    threshold: Threshold | None = None,
    baseline: float | None = None,
    enough: bool = True,
    judged: float | None = None,
    judged_is_bound: bool = True,
    note: str = "",
    details: dict[str, Any] | None = None,
    artifacts: dict[str, Any] | None = None,
) -> MetricResult:
    """Build a MetricResult and its verdict.

    Args:
        threshold: limits; None gives verdict "info".
        enough: False when the samples are too few for a verdict (the value is still shown).
        judged: the quantity compared with the threshold when it is not the value (e.g. a lower
            confidence bound, so that sampling noise alone does not fail a release).
        judged_is_bound: ``judged`` is a confidence bound of the value (a value past the fail limit whose bound is
            not is then "review", never "pass"); False where it is another scale of the value (the missingness
            patterns' overlap shortfall), which alone decides.
    """
    verdict: Verdict = "info"
    x: float | None = None
    if value is not None and not math.isfinite(float(value)):
        value = None
    if value is None:
        verdict = "skipped"
    elif threshold is not None and enough:
        x = float(value) if judged is None else float(judged)
        if threshold.on == "excess":
            x -= float(baseline or 0.0)
        worse = (lambda a, b: a > b) if direction == "minimize" else (lambda a, b: a < b)
        verdict = "fail" if worse(x, threshold.fail) else "review" if worse(x, threshold.review) else "pass"
        point = float(value) - (float(baseline or 0.0) if threshold.on == "excess" else 0.0)
        if judged is not None and judged_is_bound and verdict != "fail" and worse(point, threshold.fail):
            # the estimate itself is past the fail limit and only its confidence bound is not: too few rows to tell,
            # never a pass (an attribute-inference risk of 0.24 against a 0.10 limit passed on a 900-row holdout)
            verdict = "review"
            note = (f"{note}; " if note else "") + (
                f"inconclusive: the estimate ({point:.4g}) is past the fail limit ({threshold.fail:g}) but its confidence "
                "bound is not; more holdout rows would tell")
    elif threshold is not None and not enough and not note:
        note = "too few samples for a verdict; shown for information"
    return MetricResult(
        name=name,
        section=section,
        value=None if value is None else float(value),
        direction=direction,
        description=description,
        baseline=None if baseline is None else float(baseline),
        threshold=threshold,
        judged_value=x,
        verdict=verdict,
        note=note,
        details=details or {},
        artifacts=artifacts or {},
    )


def beyond_noise(threshold: Threshold | None, baseline: float | None) -> tuple[Threshold | None, str]:
    """The threshold to judge a distance with (``on="value"``, to minimise), and a note: where two real samples (the
    baseline: holdout against train) already differ past its review limit, the distance is judged by its excess over
    that baseline (a data scientist's 35-patient folder: real holdout and train 0.438 apart in their parent-child
    associations against a fixed limit of 0.20, and every folder failed, real ones too). Not everywhere: an empty
    synthetic folder passed the excess over a small baseline, which a fixed limit fails."""
    if threshold is None or baseline is None or threshold.on != "value" or not math.isfinite(float(baseline)) \
            or float(baseline) <= threshold.review:
        return threshold, ""
    return threshold.model_copy(update={"on": "excess"}), (
        f"judged beyond two real samples' own distance ({float(baseline):.3f}, past the review limit "
        f"{threshold.review:g}: a sample this small differs that much by chance)")


def skipped(name: str, section: str, direction: Direction, description: str, reason: str) -> MetricResult:
    """A metric that could not run, with the reason."""
    return MetricResult(name, section, None, direction, description, verdict="skipped", note=reason)


def worst(verdicts: list[str]) -> Literal["pass", "review", "fail"] | None:
    """The worst of pass/review/fail verdicts (others ignored); None when there is none."""
    ranked = [v for v in verdicts if v in _RANK]
    if not ranked:
        return None
    return max(ranked, key=lambda v: _RANK[v])  # type: ignore[return-value]


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _jsonable(obj: Any) -> Any:
    """Plain JSON types (numpy scalars/arrays converted, NaN/inf -> None)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _finite(float(obj))
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


__all__ = ["Direction", "MetricResult", "Verdict", "judge", "skipped", "worst"]
