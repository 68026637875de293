"""Production-model validation metrics from labels and predictions (pure computation, no I/O).

Classifiers get accuracy (always) plus F1, precision and recall with the configured
averaging; regressors get MAE, RMSE and R² (always all three).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from numbers import Real
from typing import Any, Literal

import numpy as np

from driftwarden.config.model import ValidationConfig

Average = Literal["macro", "weighted", "micro", "binary"]
MLFLOW_PREFIX = "validation_"


@dataclass
class ValidationResult:
    """What a validation found: metric values by name (``accuracy``, ``f1``, ``mae``, ...) and the report.

    Attributes:
        metrics: metric name -> value; ``accuracy`` is always present for classifiers,
            ``mae`` and ``rmse`` for regressors (``r2`` from two rows on).
        report: scikit-learn's ``classification_report`` as text (regressors: the errors).
        report_dict: the same report as data (per label and averages).
        n_rows: rows that were scored (rows without a label are not).
        model_version: the registered version that was validated, when known.
        average: the averaging used for f1/precision/recall.
        n_unlabelled: rows dropped because their label was missing.
        data_version: content hash of the validated frame, when the caller computed it.
        labels: the class labels seen (classifiers).
        task: ``classification`` or ``regression``.
    """

    metrics: dict[str, float]
    report: str
    report_dict: dict[str, Any]
    n_rows: int
    model_version: str | None = None
    average: str = "macro"
    n_unlabelled: int = 0
    data_version: str | None = None
    labels: list[str] = field(default_factory=list)
    task: str = "classification"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; ``from_dict`` reverses it."""
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationResult:
        return cls(**data)

    def to_mlflow_metrics(self) -> dict[str, float]:
        """``validation_accuracy``, ``validation_f1``, ... for one ``log_batch``."""
        return {f"{MLFLOW_PREFIX}{name}": value for name, value in self.metrics.items()}

    def breaches(
        self, minimums: dict[str, float], maximums: dict[str, float] | None = None
    ) -> dict[str, tuple[float, float]]:
        """Metrics below their minimum or above their maximum: name -> (value, limit).

        Names this result did not compute are skipped.
        """
        out = {
            name: (self.metrics[name], minimum)
            for name, minimum in minimums.items()
            if name in self.metrics and self.metrics[name] < minimum
        }
        for name, maximum in (maximums or {}).items():
            if name in self.metrics and self.metrics[name] > maximum:
                out[name] = (self.metrics[name], maximum)
        return out


def _plain(value: Any) -> Any:
    """numpy scalars and nested dicts -> plain Python, for JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def sort_labels(labels: Iterable[Any]) -> list[Any]:
    """Numbers in numeric order (2 before 10), anything else by its text."""
    values = list(labels)
    if all(isinstance(v, Real) for v in values):
        return sorted(values)
    return sorted(values, key=str)


def choose_average(requested: str, labels: Sequence[Any]) -> str:
    """``binary`` only makes sense for two labels; fall back to ``macro`` otherwise."""
    if requested == "binary" and len(labels) != 2:
        return "macro"
    return requested


def evaluate_predictions(
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[Any] | np.ndarray,
    cfg: ValidationConfig,
    model_version: str | None = None,
    task: str = "classification",
) -> ValidationResult:
    """Compute ``accuracy`` plus every metric in ``cfg.metrics`` and the classification report.

    With ``task="regression"`` the result is ``evaluate_regression``'s instead.

    Args:
        y_true: the labels, one per row (no missing values; drop those rows first).
        y_pred: the model's predictions, same length.
        cfg: which metrics and which averaging (``cfg.f1_average``; ``binary`` uses the
            larger of the two labels as positive and falls back to ``macro`` when there
            are not exactly two labels).
        model_version: recorded in the result.

        task: ``classification`` or ``regression``.

    Returns:
        a ValidationResult; metrics of undefined cases (a label never predicted) count as 0.
    """
    if task == "regression":
        return evaluate_regression(y_true, y_pred, model_version)
    # Here, not at the top: the writer child reads results with this module (not scikit-learn).
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        f1_score,
        precision_score,
        recall_score,
    )

    truth = np.asarray(y_true)
    pred = np.asarray(y_pred)
    if truth.shape[0] != pred.shape[0]:
        raise ValueError(f"{truth.shape[0]} labels but {pred.shape[0]} predictions")
    if truth.shape[0] == 0:
        raise ValueError("no labelled rows to validate on")
    labels = sort_labels(set(truth.tolist()) | set(pred.tolist()))
    average = choose_average(cfg.f1_average, labels)
    extra: dict[str, Any] = {"average": average, "zero_division": 0}
    if average == "binary":
        extra["pos_label"] = labels[-1]
    metrics: dict[str, float] = {"accuracy": float(accuracy_score(truth, pred))}
    scorers = {"f1": f1_score, "precision": precision_score, "recall": recall_score}
    for name in cfg.metrics:
        if name in scorers:
            metrics[name] = float(scorers[name](truth, pred, **extra))
    report = classification_report(truth, pred, zero_division=0, digits=4)
    report_dict = classification_report(truth, pred, zero_division=0, output_dict=True)
    return ValidationResult(
        metrics=metrics,
        report=str(report),
        report_dict=_plain(report_dict),
        n_rows=int(truth.shape[0]),
        model_version=model_version,
        average=average,
        labels=[str(label) for label in labels],
    )


def evaluate_regression(
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[Any] | np.ndarray,
    model_version: str | None = None,
) -> ValidationResult:
    """MAE, RMSE and R² (R² needs two rows) of numeric predictions, with a short error report.

    Raises:
        ValueError: different lengths, no rows, or values that are not finite numbers.
    """
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    truth = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if truth.shape[0] != pred.shape[0]:
        raise ValueError(f"{truth.shape[0]} labels but {pred.shape[0]} predictions")
    if truth.shape[0] == 0:
        raise ValueError("no labelled rows to validate on")
    if not (np.isfinite(truth).all() and np.isfinite(pred).all()):
        raise ValueError("labels and predictions must be finite numbers")
    metrics = {
        "mae": float(mean_absolute_error(truth, pred)),
        "rmse": float(root_mean_squared_error(truth, pred)),
    }
    if truth.shape[0] >= 2:
        metrics["r2"] = float(r2_score(truth, pred))
    errors = pred - truth
    summary = {
        **metrics,
        "mean_error": float(errors.mean()),
        "median_absolute_error": float(np.median(np.abs(errors))),
        "max_absolute_error": float(np.abs(errors).max()),
        "rows": int(truth.shape[0]),
    }
    width = max(len(k) for k in summary)
    report = "\n".join(
        f"{name:>{width}}  {value:.6g}" if isinstance(value, float) else f"{name:>{width}}  {value}"
        for name, value in summary.items()
    )
    return ValidationResult(
        metrics=metrics,
        report=report + "\n",
        report_dict=summary,
        n_rows=int(truth.shape[0]),
        model_version=model_version,
        average="none",
        task="regression",
    )
