"""Writing the outbox to MLflow: outbox kind -> tracking call.

The writer is idempotent per key: every run it creates carries the tag
``driftwarden.outbox_key`` and it looks for that tag first, so a write replayed after a crash
(or after a timeout whose request did reach the server) logs nothing twice; a run left
unfinished by an interrupted write is deleted before the replay. A drift report's HTML file
is deleted once it is in MLflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftwarden.errors import MlflowUnavailable
from driftwarden.events import Publish
from driftwarden.events.types import OutboxAlreadyWritten, OutboxWritten
from driftwarden.tracking.access import MlflowAccess

log = logging.getLogger(__name__)

KEY_TAG = "driftwarden.outbox_key"


def _write_drift(client: Any, experiment_id: str, payload: dict[str, Any]) -> str:
    from driftwarden.detectors import DriftResult
    from driftwarden.tracking.drift_run import log_drift_run

    result = DriftResult.from_dict(payload["result"])
    html_path = Path(payload.get("html_path") or "")
    html = html_path.read_text(encoding="utf-8") if html_path.is_file() else ""
    return str(log_drift_run(client, experiment_id, result, html, dict(payload["tags"])))


def _write_validation(client: Any, experiment_id: str, payload: dict[str, Any]) -> str:
    from driftwarden.detectors.validation import ValidationResult
    from driftwarden.tracking.validate import log_validation_run

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


class MlflowWriter:
    """``Outbox.flush`` writer: raises MlflowUnavailable when MLflow cannot be reached."""

    def __init__(self, mlflow: MlflowAccess, publish: Publish) -> None:
        self.mlflow = mlflow
        self._publish = publish

    def __call__(self, kind: str, payload: dict[str, Any], key: str) -> None:
        if kind not in WRITERS:
            raise ValueError(f"unknown outbox kind {kind!r}; known: {sorted(WRITERS)}")
        from driftwarden.tracking.client import unavailable_or_raise

        try:
            client = self.mlflow.client()
            experiment_id = self.mlflow.experiment_id(str(payload["experiment"]))
            if self._already_logged(client, experiment_id, key):
                self._publish(OutboxAlreadyWritten(key))
                run_id = None
            else:
                run_id = WRITERS[kind](client, experiment_id, payload)
        except MlflowUnavailable:
            raise
        except Exception as exc:
            raise unavailable_or_raise(exc) from exc
        if run_id is not None:
            self._publish(OutboxWritten(key, kind, run_id))
        _drop_report(payload)

    @staticmethod
    def _already_logged(client: Any, experiment_id: str, key: str) -> bool:
        """True when a finished run carries ``key``; runs a write left unfinished are deleted.

        A write interrupted midway (crash, MLflow gone between two calls) leaves a run in
        RUNNING or FAILED with the key; replaying beside it would log the check twice.
        """
        quoted = key.replace("'", "\\'")
        runs = client.search_runs(
            [experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{quoted}'", max_results=50
        )
        if any(run.info.status == "FINISHED" for run in runs):
            return True
        for run in runs:
            log.info(
                "deleting a run an interrupted write left unfinished",
                extra={"outbox_key": key, "run_id": run.info.run_id, "status": run.info.status},
            )
            client.delete_run(run.info.run_id)
        return False


def _drop_report(payload: dict[str, Any]) -> None:
    """The HTML report file is only a hand-over to the writer: gone once it is in MLflow."""
    html_path = payload.get("html_path")
    if html_path:
        try:
            Path(html_path).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete a logged report: %s", exc, extra={"path": html_path})
