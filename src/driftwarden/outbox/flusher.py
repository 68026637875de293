"""The outbox's writer thread: applies queued writes in order, backs off while MLflow is down.

Backoff is 1, 2, 4 … 60 s while MLflow is unreachable; old done rows are pruned hourly;
parked ('dead') writes are tried again every ``DEAD_RETRY_SECONDS`` and once at start.
Checks, the ledger and the metrics never wait for it; while checks wait in a queue it
yields to them (``BUSY_BATCH`` writes every ``MAX_YIELD_SECONDS`` at least). With
``[mlflow] writer = "process"`` the MLflow calls are made by a child process it rests and
stops (``writer_process``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from driftwarden.errors import StateUnavailable
from driftwarden.events import Publish
from driftwarden.events.types import (
    MlflowReachable,
    MlflowUnreachable,
    OutboxDeadWritesDone,
    OutboxPruned,
)
from driftwarden.memory import IdleRelease
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.queue import DEAD_RETRY_SECONDS, Outbox, Writer

log = logging.getLogger(__name__)

# How often the flusher deletes outbox rows done more than a week ago.
PRUNE_INTERVAL_SECONDS = 3600.0
# While checks wait in a queue (``busy``), the flusher yields to them: a write's share in the
# daemon (the report page, the ledger note) runs under the checks' GIL, and the writer child's
# MLflow call takes a core. It looks again this often, and all the same writes a few at least
# this often (MLflow is never more than about this far behind a sustained overload).
YIELD_SECONDS = 0.2
MAX_YIELD_SECONDS = 30.0
BUSY_BATCH = 5


class WriterChild(Protocol):
    """The writer child process, seen from the flusher (``writer_process.WriterProcess``)."""

    def rest(self) -> None: ...
    def abort(self) -> None: ...
    def close(self) -> None: ...


class Backoff:
    """Exponential backoff between flush attempts while MLflow is down: 1, 2, 4 … capped."""

    def __init__(self, base: float = 1.0, cap: float = 60.0) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0

    def failed(self) -> float:
        """Record a failure; return how long to wait before the next try."""
        self.failures += 1
        return float(min(self.cap, self.base * 2 ** (self.failures - 1)))

    def succeeded(self) -> None:
        self.failures = 0


class OutboxFlusher:
    """A thread that flushes the outbox in order (lifecycle: start, close, join).

    ``on_turn`` is called every turn of its loop (the daemon's liveness heartbeat);
    ``on_state_error`` hears when the outbox store cannot be written (the state disk is full);
    ``child``, the writer child process when writes are made in one, rests with the flusher,
    is stopped with it, and stops at once at ``close`` (its write in progress waits for the
    next start, kept).
    """

    def __init__(
        self,
        outbox: Outbox,
        writer: Writer,
        metrics: Metrics,
        publish: Publish,
        on_turn: Callable[[], None],
        idle_wait: float = 1.0,
        batch: int = 20,
        on_state_error: Callable[[StateUnavailable], None] | None = None,
        busy: Callable[[], bool] | None = None,
        child: WriterChild | None = None,
    ) -> None:
        self.outbox = outbox
        self.writer = writer
        self.metrics = metrics
        self._publish = publish
        self.on_turn = on_turn
        self.on_state_error = on_state_error
        self.idle_wait = idle_wait
        self.batch = batch
        self.busy = busy
        self.child = child
        self._yielding_since: float | None = None
        self.backoff = Backoff(base=1.0, cap=60.0)
        self._unreachable = False
        self._next_prune = 0.0
        self._next_dead_retry = 0.0
        self.dead_retry_seconds = DEAD_RETRY_SECONDS
        self._stop = threading.Event()
        self._release = IdleRelease()  # the peak of a burst of writes is not kept while idle
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

    def close(self) -> None:
        """Stop after the write in progress (a child's is cut short); what waits stays
        queued for the next start."""
        self._stop.set()
        self._wake.set()
        if self.child is not None:
            self.child.abort()

    def join(self, timeout: float) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            if self.child is not None:
                self.child.close()

    def _loop(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop.is_set():
                break
            self.on_turn()
            batch = self.batch_now()
            if batch is None:
                delay = YIELD_SECONDS
                continue
            delay = self.flush_once(batch)

    def batch_now(self) -> int | None:
        """How many writes to make this turn; None to yield to waiting checks (a burst of
        files), for ``MAX_YIELD_SECONDS`` at most between two small batches of
        ``BUSY_BATCH`` (MLflow gets every write, only later)."""
        if self.busy is None or not self.busy():
            self._yielding_since = None
            return self.batch
        now = time.monotonic()
        if self._yielding_since is None:
            self._yielding_since = now
        if now - self._yielding_since < MAX_YIELD_SECONDS:
            return None
        self._yielding_since = now
        return min(BUSY_BATCH, self.batch)

    def flush_once(self, batch: int | None = None) -> float:
        """One flush attempt (of ``batch`` writes at most, default ``self.batch``); returns
        how long to wait before the next."""
        try:
            self._maybe_prune()
            pending = self.outbox.pending()
            self.metrics.set_pending_writes(pending)
            self._maybe_retry_dead()
            if pending == 0:
                self._release.idle()
                if self.child is not None:
                    self.child.rest()
                return self.idle_wait
            done = self.outbox.flush(self.writer, max_items=batch or self.batch)
            self._release.worked()
            pending = self.outbox.pending()
            self.metrics.set_pending_writes(pending)
            self.metrics.set_dead_writes(self.outbox.dead())
        except StateUnavailable as exc:  # the outbox itself cannot be written (a full disk)
            if self.on_state_error is not None:
                self.on_state_error(exc)
            return self.backoff.failed()
        except Exception:
            log.exception("outbox flush failed")
            return self.backoff.failed()
        if self._stop.is_set():  # a write cut short by the stop is no news about MLflow
            return 0.0
        if self.outbox.unreachable:
            wait = self.backoff.failed()
            self._unreachable = True
            if self.backoff.failures in (1, 5) or self.backoff.failures % 20 == 0:
                self._publish(MlflowUnreachable(pending, wait, done))
            return wait
        if pending and done == 0:  # a write failed (the outbox reported why); it is retried
            return self.backoff.failed()
        if self._unreachable and done:
            self._publish(MlflowReachable(pending))
            self._unreachable = False
        self.backoff.succeeded()
        return 0.0 if pending else self.idle_wait

    def _maybe_retry_dead(self) -> None:
        """Every ``dead_retry_seconds`` (and at the first turn): parked writes once more."""
        now = time.monotonic()
        if now < self._next_dead_retry:
            return
        self._next_dead_retry = now + self.dead_retry_seconds
        if self.outbox.dead() == 0:
            self.metrics.set_dead_writes(0)
            return
        done = self.outbox.retry_dead(self.writer, max_items=self.batch)
        dead = self.outbox.dead()
        self.metrics.set_dead_writes(dead)
        if done:
            self._publish(OutboxDeadWritesDone(done, dead))

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_INTERVAL_SECONDS
        pruned = self.outbox.prune_done()
        if pruned:
            self._publish(OutboxPruned(pruned))
