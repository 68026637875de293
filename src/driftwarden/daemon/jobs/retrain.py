"""The daemon's side of remediation: a thread that runs ``remediation.cycle.run_cycle`` on a breach.

A training run takes minutes, so it runs on its own thread and the checks keep flowing.
Breaches arriving while a cycle runs collapse into at most one waiting request (the
cycle's own lock and cooldown decide the rest); a breach that finds a request already
waiting is recorded as ``skipped_running``, so every breach leaves one retrain record.
The cycle records itself in the ledger; here every ending is counted in
``driftwarden_retrains_total`` and fed to the alert rules (except a cycle cancelled by the
daemon's own shutdown: no alert). A promotion comes into force only through the registry
watcher, which is asked to poll at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftwarden.config.model import Settings
from driftwarden.daemon.jobs.alerting import AlertFeed
from driftwarden.daemon.jobs.queue import Request
from driftwarden.events import Publish
from driftwarden.events.types import RetrainCancelled, RetrainJoined, RetrainRequested
from driftwarden.observability.metrics import Metrics
from driftwarden.state import Ledger
from driftwarden.tracking.access import MlflowAccess

if TYPE_CHECKING:
    from driftwarden.remediation.decision import Decision

log = logging.getLogger(__name__)

# How long a cycle waits for the worker to note the move of the drops it reads.
MOVE_WAIT_SECONDS = 5.0


class RetrainRunner:
    """Owns one model's remediation thread (lifecycle: start, close, join); ``request`` hears breaches."""

    def __init__(
        self,
        model: str,
        config: Callable[[], Settings],
        ledger: Ledger,
        mlflow: MlflowAccess,
        metrics: Metrics,
        alerts: AlertFeed,
        request: Request,
        publish: Publish,
    ) -> None:
        self.model = model
        self.config = config
        self.ledger = ledger
        self.mlflow = mlflow
        self.metrics = metrics
        self.alerts = alerts
        self.request_job = request
        self._publish = publish
        self._pending: tuple[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.running = False

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"driftwarden-retrain:{self.model}", daemon=True
        )
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Daemon shutdown: kill a running training run and accept no more requests."""
        self._stop.set()
        self._cancel.set()
        self._wake.set()

    def join(self, timeout: float) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def request(self, trigger: str, detail: dict[str, Any]) -> None:
        """A breach happened; start a cycle if the config says this breach retrains."""
        from driftwarden.remediation.policy import should_trigger

        if not should_trigger(self.config().retrain, trigger):
            return
        with self._lock:
            joined = self._pending is not None
            if not joined:
                self._pending = (trigger, dict(detail))
        if joined:
            try:
                self._record_joined(trigger, detail)
            except Exception:  # the breach's own check is recorded; this note is extra
                log.exception("could not record a joined breach", extra={"trigger": trigger})
        self._wake.set()

    def _record_joined(self, trigger: str, detail: dict[str, Any]) -> None:
        """A breach that found a request already waiting starts nothing; record it as a skip."""
        why = "a retrain is already waiting to start; this breach joins it"
        self.ledger.record_retrain(
            self.model,
            f"{trigger} breach",
            trigger,
            status="skipped_running",
            detail={"reason": why, "breach": detail},
        )
        self.metrics.observe_retrain(self.model, "skipped_running")
        self._publish(RetrainJoined(self.model, trigger, why))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            with self._lock:
                pending, self._pending = self._pending, None
            if pending is None or self._stop.is_set():
                continue
            trigger, detail = pending
            self.running = True
            try:
                self.run_one(trigger, detail)
            except Exception:
                log.exception("retrain cycle raised", extra={"trigger": trigger})
            finally:
                self.running = False

    def labelled_paths(self, wait_seconds: float = MOVE_WAIT_SECONDS) -> list[Path]:
        """Recent labelled drops as they lie now (processed folder, or in place when kept).

        A breach is published before the worker moves the file that caused it, so a drop
        whose move is not noted yet is waited for (briefly): read at its old path, it could
        vanish mid-read and the cycle would lose the very rows that breached.
        """
        deadline = time.monotonic() + wait_seconds
        recent = self.config().retrain.recent_files
        while True:
            rows = self.ledger.recent_done_files(recent, with_target=True, model=self.model)
            unmoved = [row for row in rows if not row["final_path"]]
            if not unmoved or time.monotonic() >= deadline or self._stop.is_set():
                break
            time.sleep(0.05)
        paths = [Path(row["final_path"] or row["path"]) for row in reversed(rows)]
        return [p for p in paths if p.is_file()]

    def run_one(self, trigger: str, detail: dict[str, Any]) -> Decision:
        """One cycle for a breach: run, count, alert, and ask for a poll after a promotion."""
        from driftwarden.remediation.cycle import run_cycle
        from driftwarden.remediation.steps import CANCELLED

        self._publish(RetrainRequested(self.model, trigger))
        decision = run_cycle(
            self.config(),
            f"{trigger} breach",
            trigger=trigger,
            detail=detail,
            labelled_paths=self.labelled_paths(),
            client=self.mlflow.client(),
            cancel=self._cancel,
            ledger=self.ledger,
            publish=self._publish,
        )
        self.metrics.observe_retrain(self.model, decision.outcome)
        if decision.error == CANCELLED:
            # The daemon is stopping: nothing went wrong with the model or the project.
            self._publish(RetrainCancelled(self.model, decision.cycle_id))
            return decision
        self.alerts.retrain(decision.outcome, decision.to_dict())
        if decision.outcome == "promoted":
            self.request_job(
                "registry_poll", f"retrain promoted version {decision.challenger_version}"
            )
        return decision
