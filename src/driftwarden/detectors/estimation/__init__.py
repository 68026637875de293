"""Label-free performance estimation and prediction drift (pure computation, no I/O).

Once per model version and labelled evaluation set::

    estimator = fit_estimator(cfg.method_for(task), eval_outputs, eval_labels, eval_features, ...)
    drift_ref = PredictionDriftReference(eval_outputs, drift_cfg)

then per batch::

    result = estimator.estimate(batch_outputs, batch_features, labels=None)
    drift = drift_ref.check(batch_outputs)

Outputs come from the model (``tracking.models.predict_outputs``) or from columns of the
file (``outputs_from_frame``).

The names below are imported on first use: reading an ``EstimationResult`` (the writer
child logging one to MLflow) then needs neither scikit-learn nor ``scipy.stats``. The
function ``prediction_drift`` is imported from its own module: a lazy name cannot share a
submodule's name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    )
    from driftwarden.detectors.estimation.result import ERROR_METRICS, EstimationResult

# name -> the submodule that defines it
_HOMES = {
    "ClassifierOutputs": "outputs",
    "DEFAULT_METHOD": "methods",
    "ERROR_METRICS": "result",
    "EstimationResult": "result",
    "METHODS": "methods",
    "Outputs": "outputs",
    "PerformanceEstimator": "methods",
    "PredictionDriftReference": "prediction_drift",
    "PredictionDriftResult": "prediction_drift",
    "RegressorOutputs": "outputs",
    "classifier_outputs": "outputs",
    "fit_estimator": "methods",
    "label_key": "outputs",
    "output_columns": "outputs",
    "outputs_from_frame": "outputs",
    "regressor_outputs": "outputs",
}

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
    "regressor_outputs",
]


def __getattr__(name: str) -> Any:
    """Import ``name`` from its submodule on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
