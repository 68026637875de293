"""Log one drift check as one MLflow run: metrics per feature, verdict, data versions, artifacts."""

from __future__ import annotations

import time
from collections.abc import Callable

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftwarden.detectors.base import DriftResult
from driftwarden.tracking.client import unavailable_or_raise
from driftwarden.tracking.run_links import REPORT_ARTIFACT
from driftwarden.tracking.run_names import drift_run_name

RESULT_ARTIFACT = "drift/result.json"
_METRICS_PER_CALL = 1000  # MLflow's log_batch limit
_MAX_TAG = 5000


def _params(result: DriftResult) -> list[Param]:
    values = {
        "reference_version": result.reference_version or "unknown",
        "current_version": result.current_version or "unknown",
        "alpha": str(result.alpha),
        "correction": result.correction,
        "dataset_drift_share": str(result.dataset_drift_share),
        "dataset_rule": result.dataset_rule,
        # The tests that ran ("chi2,ks"), sorted, so that runs under different numeric tests differ.
        "tests": ",".join(sorted({f.test for f in result.features})),
        "n_features": str(len(result.features)),
    }
    return [Param(k, v) for k, v in values.items()]


def log_drift_run(
    client: MlflowClient,
    experiment_id: str,
    result: DriftResult,
    html: str | Callable[[str], str],
    tags: dict[str, str],
) -> str:
    """Create one finished run for ``result`` and return its id.

    Args:
        client: from ``configure_mlflow``.
        experiment_id: from ``ensure_experiment``.
        result: the check.
        html: ``render_html(result, ...)``, or a function of the new run's id that returns
            it (the outbox writer puts the run's link in a page rendered before the run).
        tags: extra run tags (file names, model, trigger).

    Raises:
        MlflowUnavailable: the server could not be reached (the run may be left unfinished).
    """
    verdict = "drift" if result.dataset_drift else "no_drift"
    run_tags = {
        "driftwarden.kind": "drift",
        "driftwarden.verdict": verdict,
        "driftwarden.drifted_features": ",".join(result.drifted_features)[:_MAX_TAG],
        **tags,
    }
    try:
        run = client.create_run(
            experiment_id, tags=run_tags, run_name=drift_run_name(result, run_tags)
        )
        run_id = str(run.info.run_id)
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, 0) for k, v in result.to_mlflow_metrics().items()]
        client.log_batch(run_id, metrics=metrics[:_METRICS_PER_CALL], params=_params(result))
        for start in range(_METRICS_PER_CALL, len(metrics), _METRICS_PER_CALL):
            client.log_batch(run_id, metrics=metrics[start : start + _METRICS_PER_CALL])
        client.log_batch(
            run_id, tags=[RunTag("driftwarden.schema_errors", str(len(result.schema_errors)))]
        )
        client.log_text(run_id, result.to_json(indent=2), RESULT_ARTIFACT)
        client.log_text(run_id, html(run_id) if callable(html) else html, REPORT_ARTIFACT)
        client.set_terminated(run_id, "FINISHED")
    except MlflowException as exc:
        raise unavailable_or_raise(exc) from exc
    return run_id
