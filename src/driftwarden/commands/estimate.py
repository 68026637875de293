"""`driftwarden estimate REFERENCE CURRENT`: the model's performance on data without labels.

REFERENCE is labelled data the model did not train on (its held-out evaluation set);
CURRENT is new data. The model's outputs come from ``--model-uri`` (the model predicts
both files) or from columns of the files (``prediction``, ``proba_<class>``). A target
column in CURRENT is not used for the estimate; it is reported as the realized value.
MLflow is imported only with ``--model-uri``.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass

import pandas as pd

from driftwarden.config import Settings, load_settings
from driftwarden.data.read import read_frame
from driftwarden.detectors.estimation import (
    EstimationResult,
    Outputs,
    PredictionDriftReference,
    PredictionDriftResult,
    fit_estimator,
    output_columns,
    outputs_from_frame,
)
from driftwarden.detectors.report import format_number
from driftwarden.errors import InputFileError
from driftwarden.logs import setup_logging

log = logging.getLogger("driftwarden.estimate")

# The keys of the JSON document, in the order PRODUCT.md gives them.
JSON_KEYS = ("method", "task", "rows", "estimated", "interval", "reference", "realized")


@dataclass
class Side:
    """One file's part in the estimate: its outputs, features and labels."""

    outputs: Outputs
    features: pd.DataFrame
    labels: pd.Series | None


def _labelled(frame: pd.DataFrame, target: str, path: str) -> pd.DataFrame:
    if target not in frame.columns:
        raise InputFileError(
            path,
            f"label column missing (columns: {list(frame.columns)[:20]}); the evaluation data "
            "must be labelled (--target, model.target)",
            field=target,
        )
    labelled = frame[frame[target].notna()].reset_index(drop=True)
    if labelled.empty:
        raise InputFileError(path, "no row has a label", field=target)
    return labelled


def _outputs(
    args: argparse.Namespace,
    settings: Settings,
    task: str,
    frames: dict[str, pd.DataFrame],
    target: str,
) -> dict[str, Side]:
    """Outputs and features of each file: from the model (``--model-uri``) or from columns."""
    prediction_column = args.prediction_column or settings.estimation.prediction_column
    proba_prefix = args.proba_prefix or settings.estimation.proba_prefix
    sides: dict[str, Side] = {}
    if args.model_uri:
        from driftwarden.tracking.client import configure_mlflow  # imports mlflow: only here
        from driftwarden.tracking.models import load_model_uri, predict_outputs

        model = load_model_uri(configure_mlflow(settings), args.model_uri)
        for path, frame in frames.items():
            features = frame.drop(columns=[target], errors="ignore")
            if model.input_columns is not None:
                features = features[[c for c in model.input_columns if c in features.columns]]
            outputs = predict_outputs(
                model, frame.drop(columns=[target], errors="ignore"), task, path
            )
            labels = frame[target] if target in frame.columns else None
            sides[path] = Side(outputs, features, labels)
        return sides
    for path, frame in frames.items():
        outputs = outputs_from_frame(frame, task, prediction_column, proba_prefix, path)
        dropped = [target, *output_columns(frame, prediction_column, proba_prefix)]
        features = frame.drop(columns=dropped, errors="ignore")
        labels = frame[target] if target in frame.columns else None
        sides[path] = Side(outputs, features, labels)
    return sides


def estimate_files(
    args: argparse.Namespace, settings: Settings
) -> tuple[EstimationResult, PredictionDriftResult]:
    """Read both files, fit the estimator on REFERENCE and estimate CURRENT."""
    task = args.task or settings.model.task
    target = args.target or settings.model.target
    limit = settings.watch.max_file_bytes
    reference = _labelled(read_frame(args.reference, max_bytes=limit), target, args.reference)
    current = read_frame(args.current, max_bytes=limit)
    sides = _outputs(
        args, settings, task, {args.reference: reference, args.current: current}, target
    )
    ref, cur = sides[args.reference], sides[args.current]
    shared = [c for c in ref.features.columns if c in cur.features.columns]
    missing = [c for c in ref.features.columns if c not in cur.features.columns]
    if missing:
        log.warning(
            "features missing from the current file are left out of the estimate",
            extra={"file": args.current, "columns": missing[:20]},
        )
    cfg = settings.estimation
    estimator = fit_estimator(
        cfg.method_for(task),
        ref.outputs,
        reference[target].to_numpy(),
        ref.features[shared],
        average=settings.validation.f1_average,
        level=cfg.interval_level,
        seed=cfg.seed,
        min_rows=cfg.min_reference_rows,
        source=args.reference,
        target=target,
    )
    labels = cur.labels
    if labels is not None and labels.isna().any():
        log.warning(
            "the current file's target column has missing labels: no realized value",
            extra={"file": args.current, "missing": int(labels.isna().sum())},
        )
        labels = None
    result = estimator.estimate(
        cur.outputs,
        cur.features[shared],
        labels=None if labels is None else labels.to_numpy(),
        source=args.current,
    )
    drift = PredictionDriftReference(ref.outputs, settings.drift).check(cur.outputs)
    return result, drift


def _num(value: float | None) -> str:
    return format_number(value, 4, missing="-")


def render_table(
    result: EstimationResult, drift: PredictionDriftResult, reference: str, current: str
) -> str:
    """The estimate per metric with its interval, beside the evaluation set's and the realized value."""
    details = result.details
    lines = [
        f"estimated performance ({result.method}, {result.task}) of {current}: {result.rows} rows",
        f"calibrated on {reference}: {details.get('reference_rows', '?')} labelled rows",
        "",
    ]
    level = f"{result.level:.0%} interval"
    rows = [["metric", "estimated", level, "reference", "realized", "estimate - realized"]]
    errors = result.errors()
    for name, value in result.estimated.items():
        low, high = result.interval[name]
        realized = None if result.realized is None else result.realized.get(name)
        rows.append(
            [
                name,
                _num(value),
                f"[{_num(low)}, {_num(high)}]",
                _num(result.reference.get(name)),
                _num(realized),
                _num(errors.get(name)),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    if details.get("weighted"):
        lines.append(
            f"\nimportance weights: the batch differs from the evaluation set (domain AUC "
            f"{details['domain_auc']:.3f}); effective evaluation rows "
            f"{details['effective_reference_rows']:.0f} of {details['reference_rows']}"
        )
    verdict = "DRIFT" if drift.drifted else "no drift"
    lines.append(
        f"\nprediction drift: {verdict} (smallest p after {drift.correction}: "
        f"{_num(drift.p_value)}, alpha {drift.alpha})"
    )
    for test in drift.tests:
        lines.append(
            f"  {test.feature}: {test.test} p {_num(test.p_value)}, effect {_num(test.effect_size)}"
            + (" DRIFT" if test.drifted else "")
            + (f" ({test.error})" if test.error else "")
        )
    return "\n".join(lines)


def estimate_command(args: argparse.Namespace) -> int:
    """``driftwarden estimate``: 0 done, 2 bad usage or input, 3 MLflow down (``--model-uri``)."""
    settings = load_settings(args.config)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    result, drift = estimate_files(args, settings)
    if args.format == "json":
        document = result.to_dict()
        print(json.dumps({key: document[key] for key in JSON_KEYS}, allow_nan=False))
    else:
        print(render_table(result, drift, args.reference, args.current))
    return 0
