"""The champion/challenger gate: both versions scored on the same holdout with the same metric.

The holdout is the newest labelled rows, kept out of the challenger's training set
(dataset.py). The challenger wins only when it is better by more than ``min_improvement``
in the metric's direction: ``challenger > champion + min_improvement`` for accuracy, F1,
precision, recall and R², ``challenger < champion - min_improvement`` for the error
metrics MAE and RMSE. With no champion (or a champion that cannot score the current data's
columns at all), the first qualifying challenger wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    root_mean_squared_error,
)

from driftwarden.config.metrics import Direction, metric_direction
from driftwarden.config.model import Settings
from driftwarden.detectors.validation import sort_labels
from driftwarden.errors import InputFileError
from driftwarden.tracking.models import load_model_version, predict

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateResult:
    """Scores and verdict; ``champion_score`` is None when there was no champion to score."""

    metric: str
    champion_score: float | None
    challenger_score: float | None
    min_improvement: float
    promote: bool
    reason: str
    holdout_rows: int
    direction: Direction = "higher"


_AVERAGED = {"f1": f1_score, "precision": precision_score, "recall": recall_score}
_REGRESSION = {"mae": mean_absolute_error, "rmse": root_mean_squared_error, "r2": r2_score}
PROMOTION_METRICS = ("accuracy", *_AVERAGED, *_REGRESSION)


def score_predictions(
    y_true: pd.Series, y_pred: object, metric: str, f1_average: str = "macro"
) -> float:
    """The promotion metric: accuracy; F1, precision or recall with the validation section's
    averaging (``binary`` with the larger label as positive; macro when not two labels);
    or MAE, RMSE, R² for regressors."""
    if metric == "accuracy":
        return float(accuracy_score(y_true, y_pred))
    if metric in _AVERAGED:
        extra: dict[str, object] = {"average": f1_average, "zero_division": 0}
        if f1_average == "binary":
            labels = sort_labels(
                set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist())
            )
            if len(labels) == 2:
                extra["pos_label"] = labels[-1]
            else:
                extra["average"] = "macro"
        return float(_AVERAGED[metric](y_true, y_pred, **extra))
    if metric in _REGRESSION:
        truth = np.asarray(y_true, dtype=np.float64)
        return float(_REGRESSION[metric](truth, np.asarray(y_pred, dtype=np.float64)))
    raise ValueError(
        f"unknown promotion metric {metric!r}; expected one of {', '.join(PROMOTION_METRICS)}"
    )


def score_version(
    client: MlflowClient, settings: Settings, version: str, holdout: pd.DataFrame
) -> float:
    """Load one registered version and score it on the holdout."""
    target = settings.model.target
    model = load_model_version(client, settings.model.name, version)
    predictions = predict(model, holdout.drop(columns=[target]))
    truth = holdout[target]
    if settings.model.task == "regression":
        truth = pd.Series(numeric_target(truth, target), index=holdout.index)
    return score_predictions(
        truth,
        predictions,
        settings.retrain.promotion.metric,
        settings.validation.f1_average,
    )


def numeric_target(series: pd.Series, target: str) -> np.ndarray:
    """A regression holdout's labels as floats; InputFileError when one is not a number."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(values).all():
        raise InputFileError("<holdout>", "regression labels must be numbers", field=target)
    return values


def decide(
    champion_score: float | None,
    challenger_score: float,
    min_improvement: float,
    metric: str,
    direction: Direction | None = None,
) -> tuple[bool, str]:
    """The rule itself, separate from model loading so it can be tested exactly.

    ``direction`` defaults to the metric's (``lower`` for MAE and RMSE): a lower error
    must be lower by more than ``min_improvement``.
    """
    direction = direction or metric_direction(metric)
    if champion_score is None:
        return True, f"no champion score; challenger {metric} {challenger_score:.4f}"
    if direction == "lower":
        wins = challenger_score < champion_score - min_improvement
        how = f"lower than champion {champion_score:.4f} by more than {min_improvement:g}"
    else:
        wins = challenger_score > champion_score + min_improvement
        how = f"champion {champion_score:.4f} by more than {min_improvement:g}"
    if direction == "lower":
        verdict = "is" if wins else "is not"
        return wins, f"challenger {metric} {challenger_score:.4f} {verdict} {how}"
    verdict = "beats" if wins else "does not beat"
    return wins, f"challenger {metric} {challenger_score:.4f} {verdict} {how}"


def run_gate(
    client: MlflowClient,
    settings: Settings,
    champion_version: str | None,
    challenger_version: str,
    holdout: pd.DataFrame,
) -> GateResult:
    """Score both versions on ``holdout`` and apply the promotion rule."""
    promotion = settings.retrain.promotion
    metric = promotion.metric
    direction = promotion.direction

    def verdict(promote: bool, reason: str) -> GateResult:
        return GateResult(
            metric, None, None, promotion.min_improvement, promote, reason, len(holdout), direction
        )

    if len(holdout) == 0:
        if champion_version is None:
            return verdict(
                True, "no champion and no labelled holdout: first qualifying model promoted"
            )
        return verdict(False, "no labelled holdout to compare champion and challenger on")
    try:
        challenger_score = score_version(client, settings, challenger_version, holdout)
    except InputFileError as exc:
        return verdict(
            False, f"challenger v{challenger_version} cannot score the holdout: {exc.reason}"
        )
    champion_score: float | None = None
    note = ""
    if champion_version is not None:
        try:
            champion_score = score_version(client, settings, champion_version, holdout)
        except InputFileError as exc:
            # The champion cannot even read the current data's columns; it cannot serve.
            note = f"champion v{champion_version} cannot score the holdout ({exc.reason}); "
            log.warning("gate: champion cannot score the holdout", extra={"reason": exc.reason})
    promote, reason = decide(
        champion_score, challenger_score, promotion.min_improvement, metric, direction
    )
    if champion_version is None:
        reason = f"no champion: first qualifying model promoted ({reason})"
    return GateResult(
        metric,
        champion_score,
        challenger_score,
        promotion.min_improvement,
        promote,
        note + reason,
        len(holdout),
        direction,
    )
