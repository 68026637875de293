"""The champion/challenger gate: both versions scored on the same holdout with the same metric.

The holdout is the newest labelled rows, kept out of the challenger's training set
(dataset.py). The challenger wins only with ``challenger > champion + min_improvement``;
with no champion (or a champion that cannot score the current data's columns at all),
the first qualifying challenger wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from driftwarden.config.model import Settings
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


def score_predictions(
    y_true: pd.Series, y_pred: object, metric: str, f1_average: str = "macro"
) -> float:
    """The promotion metric (accuracy or F1 with the validation section's averaging)."""
    if metric == "accuracy":
        return float(accuracy_score(y_true, y_pred))
    if metric == "f1":
        return float(f1_score(y_true, y_pred, average=f1_average, zero_division=0))
    raise ValueError(f"unknown promotion metric {metric!r}; expected accuracy or f1")


def score_version(
    client: MlflowClient, settings: Settings, version: str, holdout: pd.DataFrame
) -> float:
    """Load one registered version and score it on the holdout."""
    target = settings.model.target
    model = load_model_version(client, settings.model.name, version)
    predictions = predict(model, holdout.drop(columns=[target]))
    return score_predictions(
        holdout[target],
        predictions,
        settings.retrain.promotion.metric,
        settings.validation.f1_average,
    )


def decide(
    champion_score: float | None, challenger_score: float, min_improvement: float, metric: str
) -> tuple[bool, str]:
    """The rule itself, separate from model loading so it can be tested exactly."""
    if champion_score is None:
        return True, f"no champion score; challenger {metric} {challenger_score:.4f}"
    if challenger_score > champion_score + min_improvement:
        return True, (
            f"challenger {metric} {challenger_score:.4f} beats champion {champion_score:.4f}"
            f" by more than {min_improvement:g}"
        )
    return False, (
        f"challenger {metric} {challenger_score:.4f} does not beat champion"
        f" {champion_score:.4f} by more than {min_improvement:g}"
    )


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

    def verdict(promote: bool, reason: str) -> GateResult:
        return GateResult(
            metric, None, None, promotion.min_improvement, promote, reason, len(holdout)
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
    promote, reason = decide(champion_score, challenger_score, promotion.min_improvement, metric)
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
    )
