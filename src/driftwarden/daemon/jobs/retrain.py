"""The daemon's side of remediation: a thread that runs ``remediation.cycle.run_cycle`` on a breach.

A training run takes minutes, so it runs on its own thread and the checks keep flowing.
Breaches arriving while a cycle runs collapse into at most one waiting request (the
cycle's own lock and cooldown decide the rest); a breach that finds a request already
waiting is recorded as ``skipped_running``, so every breach leaves one retrain record.
Every ending is recorded in the ledger, counted in ``driftwarden_retrains_total`` and fed
to the alert rules (except a cycle cancelled by the daemon's own shutdown: no alert); a promotion comes into force only through the registry watcher, which
is asked to poll at once.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftwarden.daemon.jobs.context import DaemonContext

if TYPE_CHECKING:
    from driftwarden.remediation.decision import Decision

log = logging.getLogger(__name__)

# How long a cycle waits for the worker to note the move of the drops it reads.
MOVE_WAIT_SECONDS = 5.0
# Decision.error of a cycle whose training run was killed because the daemon is stopping.
CANCELLED = "Cancelled"


class RetrainRunner:
    """Owns the remediation thread; ``request`` is a breach listener."""

    def __init__(self, ctx: DaemonContext) -> None:
        self.ctx = ctx
        self._pending: tuple[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.running = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="driftwarden-retrain", daemon=True)
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def request(self, trigger: str, detail: dict[str, Any]) -> None:
        """A breach happened; start a cycle if the config says this breach retrains."""
        from driftwarden.remediation.policy import should_trigger

        if not should_trigger(self.ctx.settings.retrain, trigger):
            return
        with self._lock:
            joined = self._pending is not None
            if not joined:
                self._pending = (trigger, dict(detail))
        if joined:
            self._record_joined(trigger, detail)
        self._wake.set()

    def _record_joined(self, trigger: str, detail: dict[str, Any]) -> None:
        """A breach that found a request already waiting starts nothing; record it as a skip."""
        ctx = self.ctx
        model = ctx.settings.model.name
        why = "a retrain is already waiting to start; this breach joins it"
        ctx.ledger.record_retrain(
            model,
            f"{trigger} breach",
            trigger,
            status="skipped_running",
            detail={"reason": why, "breach": detail},
        )
        ctx.metrics.observe_retrain(model, "skipped_running")
        log.info("retrain not started: %s", why, extra={"trigger": trigger})

    def cancel(self) -> None:
        """Daemon shutdown: kill a running training run and accept no more requests."""
        self._stop.set()
        self._cancel.set()
        self._wake.set()

    def join(self, timeout: float) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

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
        while True:
            rows = self.ctx.ledger.recent_done_files(
                self.ctx.settings.retrain.recent_files, with_target=True
            )
            unmoved = [row for row in rows if not row["final_path"]]
            if not unmoved or time.monotonic() >= deadline or self._stop.is_set():
                break
            time.sleep(0.05)
        paths = [Path(row["final_path"] or row["path"]) for row in reversed(rows)]
        return [p for p in paths if p.is_file()]

    def run_one(self, trigger: str, detail: dict[str, Any]) -> Decision:
        from driftwarden.remediation.cycle import run_cycle

        ctx = self.ctx
        settings = ctx.settings
        model = settings.model.name
        reason = f"{trigger} breach"
        row: dict[str, int] = {}

        def on_start(decision: Decision) -> None:
            row["id"] = ctx.ledger.record_retrain(
                model, reason, trigger, status="running", detail={"cycle_id": decision.cycle_id}
            )

        def on_decision(decision: Decision) -> None:
            data = decision.to_dict()
            if "id" in row:
                ctx.ledger.finish_retrain(
                    row["id"],
                    decision.outcome,
                    run_id=decision.run_id,
                    candidate_version=decision.challenger_version,
                    champion_version=decision.champion_version,
                    detail=data,
                )
            else:
                ctx.ledger.record_retrain(
                    model, reason, trigger, status=decision.outcome, detail=data
                )
            ctx.metrics.observe_retrain(model, decision.outcome)
            if decision.error == CANCELLED:
                # The daemon is stopping: nothing went wrong with the model or the project.
                log.info("retrain cycle cancelled by the shutdown; no alert")
                return
            ctx.alert(lambda rules: rules.observe_retrain(decision.outcome, data))

        log.info("retrain cycle starting", extra={"trigger": trigger})
        decision = run_cycle(
            settings,
            reason,
            trigger=trigger,
            detail=detail,
            labelled_paths=self.labelled_paths(),
            client=ctx.mlflow.client(),
            cancel=self._cancel,
            on_start=on_start,
            on_decision=on_decision,
        )
        if decision.outcome == "promoted":
            ctx.request("registry_poll", f"retrain promoted version {decision.challenger_version}")
        return decision
