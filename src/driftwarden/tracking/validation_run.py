"""Log one validation (the ``validate`` command's or the daemon's, from its outbox) as an MLflow run.

Apart from the ``validate`` command so that the writer child, which logs the daemon's
validations, imports neither the model loading nor scikit-learn.
"""

from __future__ import annotations

import logging
import time

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftwarden.detectors.validation import ValidationResult
from driftwarden.tracking.client import unavailable_or_raise
from driftwarden.tracking.run_names import validation_run_name

REPORT_FILE = "validation/classification_report.txt"
REGRESSION_REPORT_FILE = "validation/regression_report.txt"
RESULT_FILE = "validation/result.json"
KIND_TAG = "driftwarden.kind"

log = logging.getLogger(__name__)


def log_validation_run(
    client: MlflowClient, experiment_id: str, result: ValidationResult, tags: dict[str, str]
) -> str:
    """One run: ``validation_*`` metrics, params, the report and the result JSON as artifacts.

    Returns the run id. Raises ``MlflowUnavailable`` when MLflow cannot be reached (the
    daemon queues the write in its outbox and calls this again later).
    """
    all_tags = {KIND_TAG: "validation", **tags}
    name = validation_run_name(result, all_tags)
    params = {
        "n_rows": result.n_rows,
        "n_unlabelled": result.n_unlabelled,
        "average": result.average,
        "model_version": result.model_version or "",
        "data_version": result.data_version or "",
    }
    stamp = int(time.time() * 1000)
    try:
        run = client.create_run(experiment_id, tags=all_tags, run_name=name)
        run_id = run.info.run_id
        try:
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, stamp, 0) for k, v in result.to_mlflow_metrics().items()],
                params=[Param(k, str(v)) for k, v in params.items()],
                tags=[RunTag("mlflow.runName", name)],
            )
            report_file = REGRESSION_REPORT_FILE if result.task == "regression" else REPORT_FILE
            client.log_text(run_id, result.report, report_file)
            client.log_dict(run_id, result.to_dict(), RESULT_FILE)
        except BaseException:
            _end_quietly(client, run_id, "FAILED")
            raise
        client.set_terminated(run_id, "FINISHED")
    except MlflowException as exc:
        raise unavailable_or_raise(exc) from exc
    return run_id


def _end_quietly(client: MlflowClient, run_id: str, status: str) -> None:
    try:
        client.set_terminated(run_id, status)
    except MlflowException:
        log.warning("could not mark validation run %s %s", run_id, status)
