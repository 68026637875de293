"""Validate a registered model on labelled data and log the result as one MLflow run.

``driftwarden validate --data FILE [--model-uri URI] [--target COL] [--min-accuracy X]
[--max-mae X] [--max-rmse X]``: the model defaults to ``models:/<model.name>@<model.alias>``;
the run goes to the experiment ``mlflow.experiment_name`` and is tagged with the model's
name and version. ``model.task`` decides the metrics: accuracy/F1/... for classifiers,
MAE/RMSE/R² for regressors.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

from driftwarden.config import load_settings
from driftwarden.config.model import Settings, ValidationConfig
from driftwarden.config.models import one_model
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.detectors.validation import ValidationResult, evaluate_predictions
from driftwarden.errors import Finding, InputFileError
from driftwarden.logs import setup_logging
from driftwarden.progress import with_progress
from driftwarden.tracking.client import configure_mlflow, ensure_experiment
from driftwarden.tracking.models import ProductionModel, load_model_uri, predict
from driftwarden.tracking.validation_run import log_validation_run

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


def default_model_uri(settings: Settings) -> str:
    return f"models:/{settings.model.name}@{settings.model.alias}"


def validate_command(args: argparse.Namespace) -> int:
    """``driftwarden validate``: 0 ok, 1 past a limit, 2 bad input, 3 MLflow down.

    Limits: ``--min-accuracy``, ``--max-mae``, ``--max-rmse`` and the config's
    ``validation.maximums`` (the config's minimums are for the daemon's alerts).
    """
    settings = one_model(load_settings(args.config), getattr(args, "model", None))
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    task = settings.model.task
    target = args.target or settings.model.target
    frame = read_frame(args.data, max_bytes=settings.watch.max_file_bytes)
    if target not in frame.columns:  # fail before paying for MLflow
        raise InputFileError(
            args.data,
            f"label column missing (columns: {list(frame.columns)}); set --target or model.target",
            field=target,
        )
    limits = command_limits(args, settings)
    client = configure_mlflow(settings)
    uri = args.model_uri or default_model_uri(settings)
    model = with_progress(f"loading model {uri}", load_model_uri, client, uri)
    result = validate_frame(model, frame, target, settings.validation, source=args.data, task=task)
    experiment = settings.mlflow.experiment_name
    experiment_id = ensure_experiment(client, experiment, settings.mlflow.artifact_location)
    run_id = log_validation_run(client, experiment_id, result, validation_tags(model, args.data))
    shown = " ".join(f"{k}={v:.4f}" for k, v in result.metrics.items())
    unlabelled = f" ({result.n_unlabelled} unlabelled rows left out)" if result.n_unlabelled else ""
    averaged = "" if task == "regression" else f" (average={result.average})"
    print(f"validated {model.label} ({uri}) on {args.data}: {result.n_rows} rows{unlabelled}")
    print(f"metrics: {shown}{averaged}")
    print(f"logged run {run_id} in experiment {experiment!r}")
    print(result.report.rstrip())
    breached = result.breaches(*limits)
    if breached:
        said = "; ".join(
            f"{name} {value:.4f} is {'above' if name in limits[1] else 'below'} "
            f"{limit_source(args, name)} {limit:g}"
            for name, (value, limit) in breached.items()
        )
        raise Finding(f"{model.label} on {args.data}: {said}")
    return 0


def command_limits(
    args: argparse.Namespace, settings: Settings
) -> tuple[dict[str, float], dict[str, float]]:
    """(minimums, maximums) the command fails on: its flags, then the config's maximums."""
    maximums = dict(settings.validation.maximums)
    for name in ("mae", "rmse"):
        flag = getattr(args, f"max_{name}", None)
        if flag is not None:
            maximums[name] = flag
    minimums = {"accuracy": args.min_accuracy} if args.min_accuracy is not None else {}
    return minimums, maximums


def limit_source(args: argparse.Namespace, name: str) -> str:
    """Where a limit came from, for the message: the flag or the config key."""
    if name == "accuracy":
        return "--min-accuracy"
    if getattr(args, f"max_{name}", None) is not None:
        return f"--max-{name}"
    return f"validation.maximums.{name}"
