"""Confidence-based performance estimation (CBPE) for classifiers, plain and importance-weighted.

Plain CBPE (NannyML's method): calibrate the model's class probabilities on a labelled
evaluation set, then on an unlabelled batch a row predicted ``j`` is of class ``i`` with its
calibrated probability; summing gives the expected confusion matrix, and from it accuracy,
precision, recall and F1.

Its weak point is covariate shift: the calibration map ``P(y | score)`` is an average over
the evaluation set's rows, and a batch from another part of the feature space can need
another map (a segment where the model is overconfident). ``iw-cbpe`` weights the
evaluation rows by how likely each is in the batch (``weights.py``: a domain classifier
between evaluation rows and the batch), so the calibration describes the batch's
population. When the domain classifier finds no significant difference, the weights are
all 1 and ``iw-cbpe`` is plain CBPE.

(A doubly robust variant, adding the weighted cross-fitted residuals to the expected
confusion matrix, was measured too: on evaluation sets of a few hundred rows its extra
variance cost more than its bias correction gained, so it is not offered.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftwarden.detectors.estimation.calibration import OneVsRestCalibrator, cross_fitted
from driftwarden.detectors.estimation.features import FeatureEncoder
from driftwarden.detectors.estimation.interval import percentile_interval, weighted_mean_covariance
from driftwarden.detectors.estimation.metrics import (
    classification_metrics,
    classification_metrics_many,
    confusion_rates,
)
from driftwarden.detectors.estimation.outputs import ClassifierOutputs
from driftwarden.detectors.estimation.result import EstimationResult
from driftwarden.detectors.estimation.weights import DomainWeights, domain_weights, uniform


class ConfidenceBasedEstimator:
    """CBPE fitted on a labelled evaluation set; ``estimate`` once per batch.

    Args:
        method: the name recorded in results.
        weighted: weight the calibration by a domain classifier (per batch).
        average: F1/precision/recall averaging (``ValidationConfig.f1_average``).
        level: interval coverage level.
        seed: fold splits, domain classifier and interval draws (reproducible).
        folds: cross-fitting folds.
        draws: normal draws for the interval.
    """

    task = "classification"

    def __init__(
        self,
        method: str,
        *,
        weighted: bool,
        average: str = "macro",
        level: float = 0.95,
        seed: int = 0,
        folds: int = 5,
        draws: int = 1000,
    ) -> None:
        self.method = method
        self.weighted = weighted
        self.average = average
        self.level = level
        self.seed = seed
        self.folds = folds
        self.draws = draws

    def fit(
        self,
        outputs: ClassifierOutputs,
        truth: np.ndarray,
        features: pd.DataFrame | None = None,
    ) -> ConfidenceBasedEstimator:
        """Learn from the evaluation set: outputs, true class indices, optional features.

        ``fit_estimator`` (methods.py) checks the evaluation set and maps labels first.
        """
        self.classes = outputs.classes
        self._ref = outputs
        self._truth = truth
        self._encoder = FeatureEncoder(features) if features is not None else None
        self._ref_x = self._domain_matrix(outputs, features)
        self._positive = outputs.positive_index()
        self._calibrator = OneVsRestCalibrator().fit(outputs.proba, truth)
        self._oof = cross_fitted(outputs.proba, truth, None, self.folds, self.seed)
        k = len(self.classes)
        self.reference = self._metrics(confusion_rates(truth, outputs.predicted, k), outputs.rows)
        return self

    def _domain_matrix(
        self, outputs: ClassifierOutputs, features: pd.DataFrame | None
    ) -> np.ndarray:
        """What the domain classifier sees: the features and the model's scores."""
        scores = outputs.proba[:, 1:] if len(outputs.classes) == 2 else outputs.proba
        if self._encoder is None or features is None:
            return np.asarray(scores)
        return np.hstack([self._encoder.encode(features), scores])

    def _metrics(self, rates: np.ndarray, rows: float) -> dict[str, float]:
        return classification_metrics(rates, self.average, self._positive, rows)

    def estimate(
        self,
        outputs: ClassifierOutputs,
        features: pd.DataFrame | None = None,
        truth: np.ndarray | None = None,
    ) -> EstimationResult:
        """Estimate the batch's metrics from its outputs (and features, for the weights).

        Args:
            outputs: the model's outputs on the batch (same classes as the evaluation set).
            features: the batch's features (the columns the estimator was fitted with).
            truth: the batch's true class indices, if known: reported as ``realized``.
        """
        if outputs.classes != self.classes:
            raise ValueError(f"batch classes {outputs.classes} differ from {self.classes}")
        k, n = len(self.classes), outputs.rows
        domain = self._weights(outputs, features)
        calibrator, oof = self._calibration(domain)
        calibrated = calibrator.predict(outputs.proba)
        predicted_onehot = np.eye(k)[outputs.predicted]
        # expected[i, j]: share of batch rows of class i predicted as j
        expected = calibrated.T @ predicted_onehot / n
        # The estimate's own uncertainty: how far the evaluation set's (weighted,
        # cross-fitted) outcomes scatter around what the calibration expected.
        _, estimate_cov = weighted_mean_covariance(self._residuals(oof), domain.weights)
        center = _as_rates(expected.ravel(), k)[0].ravel()
        covariance = _labels_covariance(calibrated, outputs.predicted, k) + estimate_cov
        rng = np.random.default_rng(self.seed)

        def metrics(flat: np.ndarray) -> dict[str, np.ndarray]:
            # Unclipped: clipping the many near-zero cells of a large confusion matrix
            # would bias every draw towards more errors.
            rates = flat.reshape(-1, k, k)
            return classification_metrics_many(rates, self.average, self._positive, n)

        estimated = self._metrics(_as_rates(center, k)[0], n)
        interval = percentile_interval(center, covariance, metrics, self.level, self.draws, rng)
        interval = {
            m: (max(min(lo, estimated[m]), 0.0), min(max(hi, estimated[m]), 1.0))
            for m, (lo, hi) in interval.items()
        }
        realized = None
        if truth is not None:
            realized = self._metrics(confusion_rates(truth, outputs.predicted, k), n)
        correct = calibrated[np.arange(n), outputs.predicted]
        details: dict[str, Any] = {
            "average": self.average,
            # how far the realized accuracy strays from its expectation by chance alone
            "sampling_sd": float(np.sqrt(np.sum(correct * (1.0 - correct)))) / n,
            "classes": list(self.classes),
            "reference_rows": self._ref.rows,
            "effective_reference_rows": domain.effective_rows,
            "domain_auc": domain.auc,
            "domain_p_value": domain.p_value,
            "weighted": domain.applied,
        }
        return EstimationResult(
            self.method,
            self.task,
            n,
            estimated,
            interval,
            dict(self.reference),
            realized,
            self.level,
            details,
        )

    def _weights(self, outputs: ClassifierOutputs, features: pd.DataFrame | None) -> DomainWeights:
        if not self.weighted:
            return uniform(self._ref.rows)
        current = self._domain_matrix(outputs, features if self._encoder is not None else None)
        return domain_weights(self._ref_x, current, seed=self.seed)

    def _calibration(self, domain: DomainWeights) -> tuple[OneVsRestCalibrator, np.ndarray]:
        if not domain.applied:
            return self._calibrator, self._oof
        w = domain.weights
        calibrator = OneVsRestCalibrator().fit(self._ref.proba, self._truth, w)
        return calibrator, cross_fitted(self._ref.proba, self._truth, w, self.folds, self.seed)

    def _residuals(self, oof: np.ndarray) -> np.ndarray:
        """Per evaluation row: its counted confusion cell minus its calibrated expectation."""
        k, n = len(self.classes), self._ref.rows
        residuals = np.zeros((n, k, k))
        rows = np.arange(n)
        predicted = self._ref.predicted
        residuals[rows, :, predicted] = -oof
        residuals[rows, self._truth, predicted] += 1.0
        return residuals.reshape(n, k * k)


def _as_rates(flat: np.ndarray, k: int) -> np.ndarray:
    """(draws, K, K) shares that are confusion matrices again: no negative cell, summing to 1."""
    rates = np.clip(flat.reshape(-1, k, k), 0.0, None)
    total = rates.sum(axis=(1, 2), keepdims=True)
    return np.divide(rates, total, out=np.full_like(rates, 1.0 / (k * k)), where=total > 0)


def _labels_covariance(calibrated: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """Covariance of the batch's counted confusion shares given the calibrated probabilities.

    Each row's class is an independent draw from its calibrated probabilities ``q``: the
    cells of its predicted column ``j`` get ``diag(q) - q q^T``; rows never share cells of
    different columns. (The diagonal sums to the Poisson-binomial variance of accuracy.)
    """
    n = calibrated.shape[0]
    cov = np.zeros((k, k, k, k))  # [i, j, i', j']
    for j in range(k):
        q = calibrated[predicted == j]
        if q.size == 0:
            continue
        block = np.diag(q.sum(axis=0)) - q.T @ q
        cov[:, j, :, j] = block
    return cov.reshape(k * k, k * k) / float(n) ** 2
