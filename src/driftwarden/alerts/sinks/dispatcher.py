"""Delivers alerts to the sinks off the job loop: one queue and one thread per sink.

``submit`` never blocks: it puts the alert on each sink's bounded queue (dropping it with
a log line if that queue is full). Each sink's thread retries a failed delivery with
exponential backoff up to the sink's ``retries``, so a dead Alertmanager delays nobody
but itself. Retries and failures are published as events (the log writes them) and counted
in :meth:`AlertDispatcher.stats` (PRODUCT.md's metric list has no name for them).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from driftwarden.alerts.rules import Alert
from driftwarden.alerts.sinks.base import Sink, SinkError
from driftwarden.events import Publish
from driftwarden.events.types import AlertDeliveryFailed, AlertDeliveryRetrying

log = logging.getLogger(__name__)


@dataclass
class SinkStats:
    """Counts for one sink since start."""

    delivered: int = 0
    failed: int = 0  # gave up on an alert (retries spent, permanent error, or shutdown)
    retried: int = 0  # attempts that failed and were tried again
    dropped: int = 0  # queue full or dispatcher closed at submit time


class AlertDispatcher:
    """Fans alerts out to ``sinks``, each on its own worker thread.

    Args:
        sinks: from :func:`driftwarden.alerts.sinks.build_sinks`.
        publish: hears about retried and failed deliveries (events).
        backoff_seconds: first retry delay; doubles per attempt up to ``max_backoff_seconds``.
        queue_size: alerts waiting per sink before new ones are dropped.
    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        publish: Publish,
        *,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        queue_size: int = 1000,
    ) -> None:
        self.sinks = list(sinks)
        self._publish = publish
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        # None is the stop sign ``close`` queues: the workers block on their queue, no polling.
        self._queues: list[queue.Queue[Alert | None]] = [
            queue.Queue(queue_size) for _ in self.sinks
        ]
        self._stats = [SinkStats() for _ in self.sinks]
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one worker thread per sink."""
        if self._threads:
            raise RuntimeError("AlertDispatcher already started")
        for index, sink in enumerate(self.sinks):
            thread = threading.Thread(
                target=self._work,
                args=(index,),
                name=f"driftwarden-alerts-{sink.name}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def is_alive(self) -> bool:
        """For :meth:`HealthState.register`: every worker thread still runs."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def submit(self, alert: Alert) -> None:
        """Queue ``alert`` for every sink; returns at once."""
        for index, sink in enumerate(self.sinks):
            if self._closing.is_set():
                self._count(index, "dropped")
                log.warning("alert dropped: dispatcher closed", extra={"sink": sink.name})
                continue
            try:
                self._queues[index].put_nowait(alert)
            except queue.Full:
                self._count(index, "dropped")
                log.warning(
                    "alert dropped: sink queue full",
                    extra={"sink": sink.name, "rule": alert.rule, "status": alert.status},
                )

    def submit_all(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            self.submit(alert)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued alert was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        while any(q.unfinished_tasks for q in self._queues):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Stop accepting alerts; what is queued is tried once more (no further backoff)."""
        self._closing.set()
        for q in self._queues:
            # A full queue's worker is busy: it stops once the queue is empty.
            with contextlib.suppress(queue.Full):
                q.put_nowait(None)

    def join(self, timeout: float) -> bool:
        """Wait for the sink threads; False (logged) when some are still busy."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in self._threads if t.is_alive()]
        if stuck:
            log.warning("alert sinks still busy at close", extra={"threads": stuck})
        return not stuck

    def stats(self) -> dict[str, dict[str, int]]:
        """Per sink name: delivered, failed, retried, dropped."""
        with self._lock:
            return {s.name: asdict(st) for s, st in zip(self.sinks, self._stats, strict=True)}

    # -- worker side -----------------------------------------------------------------------

    def _count(self, index: int, what: str) -> None:
        with self._lock:
            stats = self._stats[index]
            setattr(stats, what, getattr(stats, what) + 1)

    def _work(self, index: int) -> None:
        q = self._queues[index]
        while True:
            alert = q.get()
            try:
                if alert is None:
                    return
                self._deliver(index, alert)
            except Exception:  # a sink bug must not kill the worker
                self._count(index, "failed")
                log.exception("alert sink crashed", extra={"sink": self.sinks[index].name})
            finally:
                q.task_done()
            if self._closing.is_set() and q.empty():
                return

    def _deliver(self, index: int, alert: Alert) -> None:
        sink = self.sinks[index]
        attempt = 0
        while True:
            try:
                sink.send(alert)
            except SinkError as exc:
                where = (sink.name, alert.rule, alert.status, attempt + 1, str(exc))
                if not exc.retryable or attempt >= sink.retries:
                    self._count(index, "failed")
                    self._publish(AlertDeliveryFailed(*where))
                    return
                delay = min(self.max_backoff_seconds, self.backoff_seconds * 2**attempt)
                if self._closing.wait(delay):
                    self._count(index, "failed")
                    self._publish(AlertDeliveryFailed(*where, at_shutdown=True))
                    return
                self._count(index, "retried")
                self._publish(AlertDeliveryRetrying(*where, delay=delay))
                attempt += 1
            else:
                self._count(index, "delivered")
                return
