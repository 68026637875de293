"""Writing the outbox to MLflow: the writer (outbox kind -> tracking call) and its flusher thread.

The writer is idempotent per key: every run it creates carries the tag
``driftwarden.outbox_key`` and it looks for that tag first, so a write replayed after a crash
(or after a timeout whose request did reach the server) logs nothing twice; a run left
unfinished by an interrupted write is deleted before the replay. A drift report's HTML file
is deleted once it is in MLflow. The flusher applies writes in order and backs off (1, 2,
4 … 60 s) while MLflow is unreachable, and prunes old done rows; checks, the ledger and the
metrics never wait for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftwarden.daemon.jobs.context import MlflowAccess
from driftwarden.errors import MlflowUnavailable
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.queue import Backoff, Outbox

log = logging.getLogger(__name__)

KEY_TAG = "driftwarden.outbox_key"
# How often the flusher deletes outbox rows done more than a week ago.
PRUNE_INTERVAL_SECONDS = 3600.0


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


# outbox kind -> the tracking call that performs it.
WRITERS: dict[str, Callable[[Any, str, dict[str, Any]], str]] = {
    "drift_run": _write_drift,
    "validation_run": _write_validation,
}


class MlflowWriter:
    """``Outbox.flush`` writer: raises MlflowUnavailable when MLflow cannot be reached."""

    def __init__(self, mlflow: MlflowAccess) -> None:
        self.mlflow = mlflow

    def __call__(self, kind: str, payload: dict[str, Any], key: str) -> None:
        if kind not in WRITERS:
            raise ValueError(f"unknown outbox kind {kind!r}; known: {sorted(WRITERS)}")
        from driftwarden.tracking.client import unavailable_or_raise

        try:
            client = self.mlflow.client()
            experiment_id = self.mlflow.experiment_id(str(payload["experiment"]))
            if self._already_logged(client, experiment_id, key):
                log.info("outbox write already in MLflow; skipped", extra={"outbox_key": key})
                run_id = None
            else:
                run_id = WRITERS[kind](client, experiment_id, payload)
        except MlflowUnavailable:
            raise
        except Exception as exc:
            raise unavailable_or_raise(exc) from exc
        if run_id is not None:
            log.info("logged to MLflow", extra={"outbox_key": key, "run_id": run_id, "kind": kind})
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


class OutboxFlusher:
    """A thread that flushes the outbox in order, with backoff while MLflow is down."""

    def __init__(
        self,
        outbox: Outbox,
        writer: Callable[[str, dict[str, Any], str], None],
        metrics: Metrics,
        on_turn: Callable[[], None] | None = None,
        idle_wait: float = 1.0,
        batch: int = 20,
    ) -> None:
        self.outbox = outbox
        self.writer = writer
        self.metrics = metrics
        self.on_turn = on_turn
        self.idle_wait = idle_wait
        self.batch = batch
        self.backoff = Backoff(base=1.0, cap=60.0)
        self._unreachable = False
        self._next_prune = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="driftwarden-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """New writes were queued: try soon (unless backing off)."""
        if self.backoff.failures == 0:
            self._wake.set()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self, timeout: float = 3.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop.is_set():
                break
            if self.on_turn is not None:
                self.on_turn()
            delay = self.flush_once()

    def flush_once(self) -> float:
        """One flush attempt; returns how long to wait before the next."""
        try:
            self._maybe_prune()
            pending = self.outbox.pending()
            self.metrics.set_pending_writes(pending)
            if pending == 0:
                return self.idle_wait
            done = self.outbox.flush(self.writer, max_items=self.batch)
            pending = self.outbox.pending()
            self.metrics.set_pending_writes(pending)
        except Exception:
            log.exception("outbox flush failed")
            return self.backoff.failed()
        if self.outbox.unreachable:
            wait = self.backoff.failed()
            self._unreachable = True
            if self.backoff.failures in (1, 5) or self.backoff.failures % 20 == 0:
                log.warning(
                    "MLflow unreachable; writes wait in the outbox",
                    extra={"pending": pending, "retry_in_seconds": wait, "written": done},
                )
            return wait
        if pending and done == 0:  # a write failed (the outbox logged why); it is retried
            return self.backoff.failed()
        if self._unreachable and done:
            log.info("MLflow reachable again; flushing the outbox", extra={"pending": pending})
            self._unreachable = False
        self.backoff.succeeded()
        return 0.0 if pending else self.idle_wait

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_INTERVAL_SECONDS
        pruned = self.outbox.prune_done()
        if pruned:
            log.info("pruned old outbox rows", extra={"count": pruned})
