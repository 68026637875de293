"""Validate a loaded model on a labelled frame: the work of ``driftwarden validate``
(``commands/validate.py``) and of the daemon's validation checks.

The run is logged by ``tracking/validation_run.py``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from driftwarden.config.model import ValidationConfig
from driftwarden.data.version import data_version
from driftwarden.detectors.validation import ValidationResult, evaluate_predictions
from driftwarden.errors import InputFileError
from driftwarden.tracking.models import ProductionModel, predict

MODEL_TAG = "driftwarden.model"  # the same tag keys as the daemon's validation runs
VERSION_TAG = "driftwarden.model_version"


def validate_frame(
    model: ProductionModel,
    frame: pd.DataFrame,
    target: str,
    cfg: ValidationConfig,
    source: str | os.PathLike[str] | None = None,
    task: str = "classification",
) -> ValidationResult:
    """Predict on ``frame`` and score against its ``target`` column.

    Rows without a label are left out (counted in ``n_unlabelled``). Raises
    ``InputFileError`` naming ``source`` when the label column is missing, no row is
    labelled, a regression label is not a number, or the features do not match the
    model's signature. ``task`` is ``model.task``.
    """
    where = source if source is not None else "<data>"
    if target not in frame.columns:
        raise InputFileError(
            where,
            f"label column missing (columns: {list(frame.columns)}); set --target or model.target",
            field=target,
        )
    labelled = frame[frame[target].notna()]
    if labelled.empty:
        raise InputFileError(where, "no row has a label", field=target)
    truth = labelled[target].to_numpy()
    if task == "regression":
        truth = numeric_labels(labelled[target], where, target)
    features = labelled.drop(columns=[target])
    predictions = predict(model, features, source=where)
    try:
        result = evaluate_predictions(truth, predictions, cfg, model.version, task)
    except (TypeError, ValueError) as exc:
        # e.g. labels of another type than the model predicts ("yes"/"no" vs 0/1)
        raise InputFileError(
            where, f"labels cannot be compared with the model's predictions: {exc}", field=target
        ) from None
    result.n_unlabelled = len(frame) - len(labelled)
    result.data_version = data_version(frame)
    return result


def numeric_labels(series: pd.Series, where: object, target: str) -> np.ndarray:
    """A regression target as floats; a value that is not a finite number is an error."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        first = series.iloc[int(np.flatnonzero(bad)[0])]
        raise InputFileError(
            where,
            f"{int(bad.sum())} label(s) are not numbers (e.g. {first!r}); "
            "a regression target must be numeric",
            field=target,
        )
    return values


def validation_tags(model: ProductionModel, data: str | os.PathLike[str]) -> dict[str, str]:
    """Tags naming what was validated: model name, version and URI, and the data file."""
    return {
        MODEL_TAG: model.name or "",
        VERSION_TAG: model.version or "",
        "driftwarden.model_uri": model.uri,
        "driftwarden.data_path": str(data),
    }
