"""Real-vs-synthetic detection: can a classifier tell the two sets apart? Shared by every kind of data.

The protocol is one function, :func:`detection_auc`: equal numbers of real and synthetic items
(the larger set subsampled with a seeded generator), stratified K-fold cross-validation, every
item scored by a classifier that never saw it, and the AUC of those out-of-fold scores with its
Hanley-McNeil standard error. 0.5 means the classifier learned nothing (the real-vs-real baseline);
1.0 means every synthetic item is recognisable. What differs between data kinds is only the
classifier, passed as ``fit_predict(X_train, y_train, X_test, fold) -> scores``:

* tables: scikit-learn's HistGradientBoosting on encoded rows (:func:`sklearn_fit_predict`,
  used by :class:`medsynth.evaluation.tabular_fidelity.DetectionAUC`);
* volumes: a small 3D CNN trained from scratch on random patches inside the evaluation, no
  downloaded weights (:mod:`medsynth.evaluation.image_realism`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: ``fit_predict(X_train, y_train, X_test, fold) -> scores of X_test`` (higher = more likely synthetic).
FitPredict = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


@dataclass
class Detection:
    """The outcome of one detection experiment.

    Attributes:
        auc: area under the ROC curve of the out-of-fold scores (0.5 = indistinguishable).
        auc_se: its Hanley-McNeil standard error.
        n_per_class: items per class after balancing.
        folds: cross-validation folds.
        scores: out-of-fold score of every item (real first, then synthetic).
        labels: 0 for real, 1 for synthetic.
    """

    auc: float
    auc_se: float
    n_per_class: int
    folds: int
    scores: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)

    def lower_bound(self, z: float = 1.645) -> float:
        """One-sided lower confidence bound of the AUC (z = 1.645: 95%)."""
        return max(0.0, self.auc - z * self.auc_se)

    def details(self) -> dict[str, Any]:
        """The numbers a report shows beside the AUC."""
        return {"auc_standard_error": self.auc_se, "per_class": self.n_per_class, "folds": self.folds,
                "auc_lower_95": self.lower_bound()}


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC estimated from ``n_pos`` positives and ``n_neg`` negatives (Hanley & McNeil 1982)."""
    a = min(max(float(auc), 0.0), 1.0)
    q1, q2 = a / (2.0 - a), 2.0 * a * a / (1.0 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / max(n_pos * n_neg, 1)
    return float(math.sqrt(max(var, 0.0)))


def balance(real: np.ndarray, synthetic: np.ndarray, rng: np.random.Generator, max_per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Subsample both sets (without replacement, order kept) to the size of the smaller (and ``max_per_class``)."""
    n = min(len(real), len(synthetic), max_per_class or len(real))

    def take(x: np.ndarray) -> np.ndarray:
        return x if len(x) == n else x[np.sort(rng.choice(len(x), n, replace=False))]

    return take(real), take(synthetic)


def detection_auc(real: np.ndarray, synthetic: np.ndarray, fit_predict: FitPredict, *, folds: int = 3, seed: int = 0) -> Detection:
    """Cross-validated AUC of telling ``real`` items from ``synthetic`` ones (give balanced sets, see :func:`balance`).

    Args:
        real: real items along axis 0 (rows, or volumes).
        synthetic: synthetic items along axis 0.
        fit_predict: the classifier (see the module docstring).
        folds: stratified folds; each class needs at least this many items.
        seed: seed of the fold assignment.

    Raises:
        ValueError: fewer items per class than folds.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    if min(len(real), len(synthetic)) < folds:
        raise ValueError(f"{min(len(real), len(synthetic))} item(s) per class cannot fill {folds} cross-validation folds")
    X = np.concatenate([real, synthetic])
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    scores = np.empty(len(y), dtype=np.float64)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for k, (tr, te) in enumerate(splitter.split(np.zeros(len(y)), y)):
        scores[te] = np.asarray(fit_predict(X[tr], y[tr], X[te], k), dtype=np.float64).reshape(-1)
    auc = float(roc_auc_score(y, scores))
    n = int(min(len(real), len(synthetic)))
    return Detection(auc=auc, auc_se=hanley_mcneil_se(auc, len(synthetic), len(real)), n_per_class=n, folds=folds,
                     scores=scores, labels=y)


def sklearn_fit_predict(make_estimator: Callable[[], Any]) -> FitPredict:
    """A ``fit_predict`` from a scikit-learn classifier factory (probability of the synthetic class)."""
    def fit_predict(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, fold: int) -> np.ndarray:
        return make_estimator().fit(X_train, y_train).predict_proba(X_test)[:, 1]

    return fit_predict


__all__ = ["Detection", "FitPredict", "balance", "detection_auc", "hanley_mcneil_se", "sklearn_fit_predict"]
