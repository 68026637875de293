"""The MLflow calls of one outbox write: find the run already logged for a key, log a new one.

They run wherever MLflow is imported: in the daemon's writer thread, or in the writer child
process (``writer_process``) that keeps MLflow's CPU and memory out of the daemon. Every run
carries the tag ``driftwarden.outbox_key``: a write replayed after a crash (or after a
timeout whose request did reach the server) finds its run instead of logging a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from driftwarden.errors import MlflowUnavailable
from driftwarden.tracking.access import MlflowAccess

log = logging.getLogger(__name__)

KEY_TAG = "driftwarden.outbox_key"
# Where the writer hands a drift write's report page to its call (never stored in the outbox).
PAGE_KEY = "_page"


class MlflowCalls(Protocol):
    """What ``MlflowWriter`` asks of MLflow (``InProcessCalls``, or ``WriterProcess``)."""

    def find(self, experiment: str, key: str) -> tuple[str, str | None]:
        """(the experiment's id, created when missing; the finished run that carries ``key``)."""

    def write(self, kind: str, experiment_id: str, payload: dict[str, Any]) -> str:
        """Log the write's run; returns its id."""


def _write_drift(client: Any, experiment_id: str, payload: dict[str, Any]) -> str:
    from driftwarden.detectors import DriftResult
    from driftwarden.tracking.drift_run import log_drift_run
    from driftwarden.tracking.run_links import fill_run_link, run_reference

    result = DriftResult.from_dict(payload["result"])
    html = payload.get(PAGE_KEY)
    if html is None:
        html_path = Path(payload.get("html_path") or "")
        html = html_path.read_text(encoding="utf-8") if html_path.is_file() else ""

    def page(run_id: str) -> str:
        return fill_run_link(html, run_reference(client.tracking_uri, experiment_id, run_id))

    return str(log_drift_run(client, experiment_id, result, page, dict(payload["tags"])))


def _write_validation(client: Any, experiment_id: str, payload: dict[str, Any]) -> str:
    from driftwarden.detectors.validation import ValidationResult
    from driftwarden.tracking.validation_run import log_validation_run

    result = ValidationResult.from_dict(payload["result"])
    return str(log_validation_run(client, experiment_id, result, dict(payload["tags"])))


def _write_estimation(client: Any, experiment_id: str, payload: dict[str, Any]) -> str:
    from driftwarden.tracking.estimation_run import log_estimation_run

    return log_estimation_run(client, experiment_id, payload, dict(payload["tags"]))


# outbox kind -> the tracking call that performs it.
WRITERS: dict[str, Callable[[Any, str, dict[str, Any]], str]] = {
    "drift_run": _write_drift,
    "validation_run": _write_validation,
    "estimation_run": _write_estimation,
}


class InProcessCalls:
    """The calls made in this process, through its one lazily created client.

    Raises MlflowUnavailable when MLflow cannot be reached now; any other failure as itself.
    """

    def __init__(self, mlflow: MlflowAccess) -> None:
        self.mlflow = mlflow

    def find(self, experiment: str, key: str) -> tuple[str, str | None]:
        def call() -> tuple[str, str | None]:
            experiment_id = self.mlflow.experiment_id(experiment)
            return experiment_id, _logged_run(self.mlflow.client(), experiment_id, key)

        return self._guarded(call)

    def write(self, kind: str, experiment_id: str, payload: dict[str, Any]) -> str:
        return self._guarded(lambda: WRITERS[kind](self.mlflow.client(), experiment_id, payload))

    def _guarded(self, call: Callable[[], Any]) -> Any:
        from driftwarden.tracking.client import unavailable_or_raise

        try:
            return call()
        except MlflowUnavailable:
            raise
        except Exception as exc:
            # A store that refused writes (read-only for a while) keeps pooled connections
            # opened read-only: drop them, so that the retry after the outage can write.
            self.mlflow.refresh_connections()
            raise unavailable_or_raise(exc) from exc


def _logged_run(client: Any, experiment_id: str, key: str) -> str | None:
    """The finished run that carries ``key``, if any; runs a write left unfinished are deleted.

    A write interrupted midway (crash, MLflow gone between two calls) leaves a run in
    RUNNING or FAILED with the key; replaying beside it would log the check twice.
    """
    quoted = key.replace("'", "\\'")
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{quoted}'", max_results=50
    )
    finished = [run for run in runs if run.info.status == "FINISHED"]
    if finished:
        return str(finished[0].info.run_id)
    for run in runs:
        log.info(
            "deleting a run an interrupted write left unfinished",
            extra={"outbox_key": key, "run_id": run.info.run_id, "status": run.info.status},
        )
        client.delete_run(run.info.run_id)
    return None
