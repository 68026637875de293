"""Label-free performance estimation and prediction drift (pure computation, no I/O).

Once per model version and labelled evaluation set::

    estimator = fit_estimator(cfg.method_for(task), eval_outputs, eval_labels, eval_features, ...)
    drift_ref = PredictionDriftReference(eval_outputs, drift_cfg)

then per batch::

    result = estimator.estimate(batch_outputs, batch_features, labels=None)
    drift = drift_ref.check(batch_outputs)

Outputs come from the model (``tracking.models.predict_outputs``) or from columns of the
file (``outputs_from_frame``).
"""

from __future__ import annotations

from driftwarden.detectors.estimation.methods import (
    DEFAULT_METHOD,
    METHODS,
    PerformanceEstimator,
    fit_estimator,
)
from driftwarden.detectors.estimation.outputs import (
    ClassifierOutputs,
    Outputs,
    RegressorOutputs,
    classifier_outputs,
    label_key,
    output_columns,
    outputs_from_frame,
    regressor_outputs,
)
from driftwarden.detectors.estimation.prediction_drift import (
    PredictionDriftReference,
    PredictionDriftResult,
    prediction_drift,
)
from driftwarden.detectors.estimation.result import ERROR_METRICS, EstimationResult

__all__ = [
    "DEFAULT_METHOD",
    "ERROR_METRICS",
    "METHODS",
    "ClassifierOutputs",
    "EstimationResult",
    "Outputs",
    "PerformanceEstimator",
    "PredictionDriftReference",
    "PredictionDriftResult",
    "RegressorOutputs",
    "classifier_outputs",
    "fit_estimator",
    "label_key",
    "output_columns",
    "outputs_from_frame",
    "prediction_drift",
    "regressor_outputs",
]
