"""Writing the outbox to MLflow: outbox kind -> tracking call.

The writer is idempotent per key: every run it creates carries the tag
``driftwarden.outbox_key`` and it looks for that tag first, so a write replayed after a crash
(or after a timeout whose request did reach the server) logs nothing twice; a run left
unfinished by an interrupted write is deleted before the replay. A drift report's HTML file
is deleted once it is in MLflow; the page logged carries the link to its run
(``run_links.fill_run_link``). The run written (or found) for a key is handed to
``record_run`` (the ledger's ``record_check_run``), so ``driftwarden status`` can show it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftwarden.errors import MlflowUnavailable
from driftwarden.events import Publish
from driftwarden.events.types import OutboxAlreadyWritten, OutboxWritten
from driftwarden.redact import redact
from driftwarden.tracking.access import MlflowAccess

log = logging.getLogger(__name__)

KEY_TAG = "driftwarden.outbox_key"
# Called with (outbox key, run id, experiment id) once a check's run is in MLflow.
RecordRun = Callable[[str, str, str], None]
# A drift write's report page, from its payload (the daemon's waits for a report still
# being written and renders one a crash lost); without it the writer reads ``html_path``.
ReportPage = Callable[[dict[str, Any]], str]
# Where the writer hands the page to the drift call (never stored in the outbox).
PAGE_KEY = "_page"


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

    def __init__(
        self,
        mlflow: MlflowAccess,
        publish: Publish,
        record_run: RecordRun,
        report_page: ReportPage | None = None,
    ) -> None:
        self.mlflow = mlflow
        self._publish = publish
        self.record_run = record_run
        self.report_page = report_page

    def __call__(self, kind: str, payload: dict[str, Any], key: str) -> None:
        if kind not in WRITERS:
            raise ValueError(f"unknown outbox kind {kind!r}; known: {sorted(WRITERS)}")
        from driftwarden.tracking.client import unavailable_or_raise

        try:
            client = self.mlflow.client()
            experiment_id = self.mlflow.experiment_id(str(payload["experiment"]))
            logged = self._logged_run(client, experiment_id, key)
            if not logged and kind == "drift_run" and self.report_page is not None:
                payload = {**payload, PAGE_KEY: self.report_page(payload)}
            run_id = logged or WRITERS[kind](client, experiment_id, payload)
        except MlflowUnavailable:
            raise
        except Exception as exc:
            # A store that refused writes (read-only for a while) keeps pooled connections
            # opened read-only: drop them, so that the retry after the outage can write.
            self.mlflow.refresh_connections()
            raise unavailable_or_raise(exc) from exc
        self._record(key, run_id, experiment_id)
        self._publish(OutboxAlreadyWritten(key) if logged else OutboxWritten(key, kind, run_id))
        _drop_report(payload)

    def _record(self, key: str, run_id: str, experiment_id: str) -> None:
        """Note the run for ``status`` (on a replay too: a crash may have come before).

        The run is in MLflow either way: a ledger that cannot take the note (a full disk)
        must not turn a done write into a failed one, so that is only logged.
        """
        try:
            self.record_run(key, run_id, experiment_id)
        except Exception as exc:
            log.warning(
                "could not note the MLflow run of a check: %s",
                redact(str(exc)),
                extra={"outbox_key": key, "run_id": run_id},
            )

    @staticmethod
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


def _drop_report(payload: dict[str, Any]) -> None:
    """The HTML report file is only a hand-over to the writer: gone once it is in MLflow."""
    html_path = payload.get("html_path")
    if html_path:
        try:
            Path(html_path).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete a logged report: %s", exc, extra={"path": html_path})
