"""Writing the outbox to MLflow: one queued write -> its run, noted for ``status``.

The writer is idempotent per key: every run it creates carries the tag
``driftwarden.outbox_key`` and it looks for that tag first, so a write replayed after a crash
(or after a timeout whose request did reach the server) logs nothing twice; a run left
unfinished by an interrupted write is deleted before the replay. The MLflow calls themselves
are ``mlflow_calls``'s, made in this process or in the writer child process
(``writer_process``). A drift report's HTML file is deleted once it is in MLflow; the page
logged carries the link to its run (``run_links.fill_run_link``). The run written (or
found) for a key is handed to ``record_run`` (the ledger's ``record_check_run``), so
``driftwarden status`` can show it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftwarden.events import Publish
from driftwarden.events.types import OutboxAlreadyWritten, OutboxWritten
from driftwarden.outbox.mlflow_calls import PAGE_KEY, WRITERS, MlflowCalls
from driftwarden.redact import redact

log = logging.getLogger(__name__)

# Called with (outbox key, run id, experiment id) once a check's run is in MLflow.
RecordRun = Callable[[str, str, str], None]
# A drift write's report page, from its payload (the daemon's waits for a report still
# being written and renders one a crash lost); without it the writer reads ``html_path``.
ReportPage = Callable[[dict[str, Any]], str]


class MlflowWriter:
    """``Outbox.flush`` writer: raises MlflowUnavailable when MLflow cannot be reached."""

    def __init__(
        self,
        calls: MlflowCalls,
        publish: Publish,
        record_run: RecordRun,
        report_page: ReportPage | None = None,
    ) -> None:
        self.calls = calls
        self._publish = publish
        self.record_run = record_run
        self.report_page = report_page

    def __call__(self, kind: str, payload: dict[str, Any], key: str) -> None:
        if kind not in WRITERS:
            raise ValueError(f"unknown outbox kind {kind!r}; known: {sorted(WRITERS)}")
        experiment_id, logged = self.calls.find(str(payload["experiment"]), key)
        if not logged and kind == "drift_run" and self.report_page is not None:
            payload = {**payload, PAGE_KEY: self.report_page(payload)}
        run_id = logged or self.calls.write(kind, experiment_id, payload)
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


def _drop_report(payload: dict[str, Any]) -> None:
    """The HTML report file is only a hand-over to the writer: gone once it is in MLflow."""
    html_path = payload.get("html_path")
    if html_path:
        try:
            Path(html_path).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete a logged report: %s", exc, extra={"path": html_path})
