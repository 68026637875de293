"""Classification metrics from a (possibly expected) confusion matrix, and regression errors.

One definition serves the estimate (an expected confusion matrix, fractional counts) and
the realized value (a counted one), so that the two are always comparable. On a counted
matrix the values equal scikit-learn's ``accuracy_score``, ``precision_score``,
``recall_score`` and ``f1_score`` with ``zero_division=0`` (tests/detectors check it).
"""

from __future__ import annotations

import numpy as np

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1")
REGRESSION_METRICS = ("mae", "rmse")

# A class counts as present (scikit-learn: it occurs among labels or predictions) when its
# expected count of true plus predicted rows reaches half a row.
_PRESENT_ROWS = 0.5


def confusion_rates(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Counted confusion matrix as shares: ``rates[i, j]`` = share of rows of class i predicted j."""
    counts = np.zeros((n_classes, n_classes))
    np.add.at(counts, (truth, predicted), 1.0)
    return counts / max(truth.size, 1)


def classification_metrics(
    rates: np.ndarray, average: str, positive: int, rows: float
) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of a confusion matrix of shares.

    Args:
        rates: (K, K) shares, ``rates[i, j]`` for true class i predicted as j; sums to 1.
        average: ``macro``, ``weighted``, ``micro`` or ``binary``.
        positive: index of the positive class for ``binary``.
        rows: the number of rows the shares stand for (decides which classes are present).
    """
    many = classification_metrics_many(rates[None, :, :], average, positive, rows)
    return {name: float(values[0]) for name, values in many.items()}


def classification_metrics_many(
    rates: np.ndarray, average: str, positive: int, rows: float
) -> dict[str, np.ndarray]:
    """``classification_metrics`` of a stack of (draws, K, K) matrices at once."""
    tp = np.diagonal(rates, axis1=1, axis2=2)
    predicted = rates.sum(axis=1)
    actual = rates.sum(axis=2)
    accuracy = tp.sum(axis=1)
    both = predicted + actual
    present = both * rows >= _PRESENT_ROWS
    present[~present.any(axis=1)] = True
    n_present = present.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    f1 = np.divide(2 * tp, both, out=np.zeros_like(tp), where=both > 0)
    if average == "micro":
        return {"accuracy": accuracy, "precision": accuracy, "recall": accuracy, "f1": accuracy}
    if average == "weighted":
        support = np.where(present, actual, 0.0)
        total = support.sum(axis=1, keepdims=True)
        weights = np.divide(support, total, out=np.zeros_like(support), where=total > 0)
    else:
        weights = present / n_present[:, None]
    if average == "binary":
        # binary only with exactly two classes present (else macro, as scikit-learn's callers do)
        two = n_present == 2
        pick = np.zeros_like(weights)
        pick[:, positive] = 1.0
        weights = np.where(two[:, None], pick, weights)
    return {
        "accuracy": accuracy,
        "precision": np.sum(weights * precision, axis=1),
        "recall": np.sum(weights * recall, axis=1),
        "f1": np.sum(weights * f1, axis=1),
    }


def regression_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAE and RMSE of predictions against the truth."""
    errors = np.asarray(truth, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    return {"mae": float(np.mean(np.abs(errors))), "rmse": float(np.sqrt(np.mean(errors**2)))}
