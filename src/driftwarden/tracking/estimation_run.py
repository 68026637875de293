"""Log one performance estimate (a drop's, from the daemon's outbox) as an MLflow run.

Metrics are ``estimated_<metric>`` with ``..._lower`` / ``..._upper``, plus, when the drop
came with labels, ``realized_<metric>`` and ``estimation_error_<metric>`` (estimate minus
realized): the record of how good the estimate was. The result JSON is an artifact.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftwarden.detectors.estimation import EstimationResult
from driftwarden.tracking.client import unavailable_or_raise
from driftwarden.tracking.run_names import SEPARATOR, subject

RESULT_FILE = "estimation/result.json"
KIND_TAG = "driftwarden.kind"

log = logging.getLogger(__name__)


def estimation_run_name(result: EstimationResult, tags: dict[str, str]) -> str:
    """``estimation · <file> · <model> v<version> · accuracy ≈0.912``."""
    model = tags.get("driftwarden.model", "")
    version = tags.get("driftwarden.model_version") or "?"
    metric = "accuracy" if "accuracy" in result.estimated else next(iter(result.estimated), None)
    parts = ["estimation", subject(tags), f"{model} v{version}".strip()]
    if metric is not None and math.isfinite(result.estimated[metric]):
        parts.append(f"{metric} ≈{result.estimated[metric]:.3f}")
    return SEPARATOR.join(p for p in parts if p)


def estimation_metrics(result: EstimationResult) -> dict[str, float]:
    """The run's metrics: the estimate with its bounds, and realized values when known."""
    out = result.to_mlflow_metrics()
    for name, value in (result.realized or {}).items():
        if math.isfinite(value):
            out[f"realized_{name}"] = float(value)
    return out


def log_estimation_run(
    client: MlflowClient,
    experiment_id: str,
    payload: dict[str, Any],
    tags: dict[str, str],
) -> str:
    """One run per estimate; returns its id. ``payload`` holds ``result`` (``to_dict()``)
    and ``prediction_drift`` (a small summary). Raises ``MlflowUnavailable`` when MLflow
    cannot be reached (the outbox retries)."""
    result = EstimationResult.from_dict(payload["result"])
    all_tags = {KIND_TAG: "estimation", **tags}
    name = estimation_run_name(result, all_tags)
    params = {"method": result.method, "task": result.task, "rows": result.rows}
    params["level"] = result.level
    params["labelled"] = result.realized is not None
    stamp = int(time.time() * 1000)
    try:
        run_id = client.create_run(experiment_id, tags=all_tags, run_name=name).info.run_id
        try:
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, stamp, 0) for k, v in estimation_metrics(result).items()],
                params=[Param(k, str(v)) for k, v in params.items()],
                tags=[RunTag("mlflow.runName", name)],
            )
            client.log_dict(
                run_id,
                {"result": payload["result"], "prediction_drift": payload.get("prediction_drift")},
                RESULT_FILE,
            )
        except BaseException:
            _end_quietly(client, run_id)
            raise
        client.set_terminated(run_id, "FINISHED")
    except MlflowException as exc:
        raise unavailable_or_raise(exc) from exc
    return str(run_id)


def _end_quietly(client: MlflowClient, run_id: str) -> None:
    try:
        client.set_terminated(run_id, "FAILED")
    except MlflowException:
        log.warning("could not mark estimation run %s failed", run_id)
