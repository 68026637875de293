"""Estimators by name, and ``fit_estimator``: checks the evaluation set, then fits once.

The daemon (and ``driftwarden estimate``) fits one estimator per model version and
evaluation set, then calls ``estimate`` for every batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from driftwarden.detectors.estimation.cbpe import ConfidenceBasedEstimator
from driftwarden.detectors.estimation.loss_model import LossModelEstimator
from driftwarden.detectors.estimation.outputs import (
    ClassifierOutputs,
    Outputs,
    RegressorOutputs,
    Source,
    label_indices,
)
from driftwarden.detectors.estimation.result import EstimationResult
from driftwarden.errors import InputFileError, UsageError

Factory = Callable[[str, float, int], Any]

# Method name -> (task, constructor(average, level, seed)).
METHODS: dict[str, tuple[str, Factory]] = {
    "cbpe": (
        "classification",
        lambda average, level, seed: ConfidenceBasedEstimator(
            "cbpe", weighted=False, average=average, level=level, seed=seed
        ),
    ),
    "iw-cbpe": (
        "classification",
        lambda average, level, seed: ConfidenceBasedEstimator(
            "iw-cbpe", weighted=True, average=average, level=level, seed=seed
        ),
    ),
    "dle": (
        "regression",
        lambda average, level, seed: LossModelEstimator(
            "dle", weighted=False, level=level, seed=seed
        ),
    ),
    "iw-dle": (
        "regression",
        lambda average, level, seed: LossModelEstimator(
            "iw-dle", weighted=True, level=level, seed=seed
        ),
    ),
}
DEFAULT_METHOD = {"classification": "iw-cbpe", "regression": "iw-dle"}


class PerformanceEstimator:
    """A fitted estimator plus the label mapping and file names for its messages.

    Attributes:
        method, task: what it is.
        reference: the evaluation set's own metrics (the "no change" guess).
        classes: the class keys (classifiers), in probability-column order.
    """

    def __init__(self, inner: Any, classes: tuple[str, ...] | None, target: str) -> None:
        self._inner = inner
        self.method: str = inner.method
        self.task: str = inner.task
        self.reference: dict[str, float] = dict(inner.reference)
        self.classes = classes
        self.target = target

    def estimate(
        self,
        outputs: Outputs,
        features: pd.DataFrame | None = None,
        labels: Sequence[Any] | np.ndarray | None = None,
        source: Source = None,
    ) -> EstimationResult:
        """Estimate one batch; ``labels`` (if the batch has them) are reported as realized.

        Raises:
            InputFileError: the batch's outputs do not match the evaluation set's (other
                classes), or a label is not one of the classes / not a number.
        """
        where = source if source is not None else "<data>"
        truth = None
        if isinstance(outputs, ClassifierOutputs):
            if outputs.classes != self.classes:
                raise InputFileError(
                    where,
                    f"has probabilities for classes {list(outputs.classes)}, but the "
                    f"evaluation set for {list(self.classes or ())}",
                )
            if labels is not None:
                truth = label_indices(labels, outputs.classes, where, self.target)
        elif labels is not None:
            truth = numeric_labels(labels, where, self.target)
        result: EstimationResult = self._inner.estimate(outputs, features, truth)
        return result


def numeric_labels(labels: Sequence[Any] | np.ndarray, where: object, target: str) -> np.ndarray:
    """Regression labels as floats; one that is not a finite number is an error naming the column."""
    values = pd.to_numeric(pd.Series(np.asarray(labels).ravel()), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputFileError(
            where, f"{int(bad.sum())} label(s) are not numbers; a regression target must be", target
        )
    return values


def fit_estimator(
    method: str,
    outputs: Outputs,
    labels: Sequence[Any] | np.ndarray,
    features: pd.DataFrame | None = None,
    *,
    average: str = "macro",
    level: float = 0.95,
    seed: int = 0,
    min_rows: int = 100,
    source: Source = None,
    target: str = "target",
) -> PerformanceEstimator:
    """Check the labelled evaluation set and fit ``method`` on it.

    Args:
        method: one of ``METHODS`` (``EstimationConfig.method_for(task)`` resolves ``auto``).
        outputs: the model's outputs on the evaluation rows.
        labels: their true labels (classes, or numbers for regressors).
        features: their features (for importance weights and the loss model); None: outputs only.
        average: F1/precision/recall averaging (``ValidationConfig.f1_average``).
        level: interval coverage level.
        seed: makes folds, models and interval draws reproducible.
        min_rows: fewest evaluation rows accepted.
        source: the evaluation file, for messages; target: its label column.

    Raises:
        UsageError: unknown method, or one for the other task.
        InputFileError: too few rows, a class without rows, labels that do not fit.
    """
    where = source if source is not None else "<evaluation data>"
    if method not in METHODS:
        raise UsageError(f"unknown estimation method {method!r}; expected one of {sorted(METHODS)}")
    task, factory = METHODS[method]
    is_classifier = isinstance(outputs, ClassifierOutputs)
    if (task == "classification") != is_classifier:
        kind = "class probabilities" if is_classifier else "predicted values"
        raise UsageError(
            f"estimation method {method!r} is for {task} models; the outputs are {kind}"
        )
    values = np.asarray(labels).ravel()
    if values.shape[0] != outputs.rows:
        raise InputFileError(where, f"{values.shape[0]} labels for {outputs.rows} rows", target)
    if outputs.rows < min_rows:
        raise InputFileError(
            where,
            f"has {outputs.rows} labelled rows; performance estimation needs at least "
            f"{min_rows} (estimation.min_reference_rows) rows the model did not train on",
            target,
        )
    if isinstance(outputs, ClassifierOutputs):
        truth = label_indices(values, outputs.classes, where, target)
        counts = np.bincount(truth, minlength=len(outputs.classes))
        unseen = [outputs.classes[i] for i in np.flatnonzero(counts == 0)]
        if unseen:
            raise InputFileError(
                where,
                f"has no row of class(es) {unseen} (the model's classes: "
                f"{list(outputs.classes)}); calibration needs labelled rows of every class",
                target,
            )
        inner = factory(average, level, seed).fit(outputs, truth, features)
        return PerformanceEstimator(inner, outputs.classes, target)
    assert isinstance(outputs, RegressorOutputs)
    truth = numeric_labels(values, where, target)
    inner = factory(average, level, seed).fit(outputs, truth, features)
    return PerformanceEstimator(inner, None, target)
