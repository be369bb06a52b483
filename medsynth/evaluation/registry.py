"""The metric registry: a plain dict from the names used in configs (``metrics: [...]``) to classes.

Each class has ``name``, ``direction``, ``section`` and ``compute(real, synthetic, *, context)`` that
returns a list of :class:`~medsynth.evaluation.results.MetricResult` (one metric class may produce
several named values, e.g. a membership attack's AUC and its TPR at low FPR). Adding a metric means
adding one line here; ``kind`` says which evaluation runs it.
"""

from __future__ import annotations

from medsynth.evaluation.image_metrics import (
    FeatureDistances,
    IntensityHistogram,
    Memorisation,
    MsSsimDiversity,
)
from medsynth.evaluation.image_realism import RealismDetection, TissueIntensities
from medsynth.evaluation.tabular_fidelity import (
    AssociationDifference,
    DetectionAUC,
    MarginalDistance,
    MissingnessPattern,
    TrainSyntheticTestReal,
)
from medsynth.evaluation.tabular_linkability import Linkability
from medsynth.evaluation.tabular_privacy import (
    AttributeInference,
    DistanceMembershipInference,
    DistanceToClosestRecord,
    DomiasMembershipInference,
    ExactCopies,
    NearestNeighbourDistanceRatio,
    SinglingOut,
)

#: Tabular metrics, in report order.
TABULAR_METRICS: dict[str, type] = {
    "marginals": MarginalDistance,
    "associations": AssociationDifference,
    "missingness": MissingnessPattern,
    "detection": DetectionAUC,
    "utility": TrainSyntheticTestReal,
    "dcr": DistanceToClosestRecord,
    "nndr": NearestNeighbourDistanceRatio,
    "exact_copies": ExactCopies,
    "mia_distance": DistanceMembershipInference,
    "mia_domias": DomiasMembershipInference,
    "attribute_inference": AttributeInference,
    "singling_out": SinglingOut,
    "linkability": Linkability,
}

#: Image metrics, in report order.
IMAGE_METRICS: dict[str, type] = {
    "intensity_histogram": IntensityHistogram,
    "tissue_intensities": TissueIntensities,
    "detection_image": RealismDetection,
    "feature_distances": FeatureDistances,
    "msssim_diversity": MsSsimDiversity,
    "memorisation": Memorisation,
}

#: Every metric by name.
METRICS: dict[str, type] = {**TABULAR_METRICS, **IMAGE_METRICS}


def selected(table: dict[str, type], names: list[str] | None, *, privacy_only: bool) -> list[type]:
    """The classes of ``table`` to run: all or the named ones, and only privacy ones for audits."""
    return [cls for key, cls in table.items() if (names is None or key in names) and (not privacy_only or cls.section == "privacy")]


__all__ = ["IMAGE_METRICS", "METRICS", "TABULAR_METRICS", "selected"]
