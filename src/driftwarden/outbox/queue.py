"""A durable, ordered outbox for MLflow writes.

Checks never wait for MLflow: a job enqueues what it wants written (a JSON payload under a
unique key) and goes on. A flusher applies the items in order through a ``writer``; when
MLflow is unreachable the item stays, and the next flush resumes with it. The rows live in
the state engine's ``OutboxStore``, so they survive crashes and restarts.

A writer must be idempotent per key (tag the run it creates with the key and look for it
first): a crash between "run written" and "item marked done" replays the item once more.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from driftwarden.errors import RecoverableError
from driftwarden.events import Publish
from driftwarden.events.types import OutboxWriteFailed
from driftwarden.redact import redact
from driftwarden.state import OutboxItem, OutboxStore

Writer = Callable[[str, dict[str, Any], str], None]

# An item failing for reasons other than reachability (a bad payload, a server-side error)
# is retried this many times, then parked as 'dead' so it cannot block the queue forever.
MAX_ATTEMPTS = 5
# A parked write is not given up: the flusher tries each one again this often (and once at
# start), so a write parked during a long outage (a read-only MLflow store for hours) is
# written once the outage ends; ``driftwarden outbox retry`` queues them again at once.
DEAD_RETRY_SECONDS = 300.0
# Writes done are kept this long (for a look with sqlite3), then pruned so the file stays small.
DONE_KEEP_SECONDS = 7 * 24 * 3600.0


class Outbox:
    """Durable FIFO of MLflow writes over ``store``; ``publish`` hears about failed writes."""

    def __init__(
        self, store: OutboxStore, publish: Publish, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()  # one flush at a time within a process
        # Whether the last flush stopped because MLflow was unreachable (not a failed write).
        self.unreachable = False

    def enqueue(
        self, kind: str, payload: dict[str, Any], key: str, model: str | None = None
    ) -> int:
        """Queue a write unless its key is queued or done already (until pruned). Returns its id.
        ``model``: whose write it is (the shared store keeps it with the item)."""
        body = json.dumps(payload, sort_keys=True, default=str)
        return self.store.insert(kind, body, key, self._clock(), model=model)

    def pending(self) -> int:
        """How many writes wait."""
        return self.store.pending()

    def dead(self) -> int:
        """How many writes were parked after repeated non-connection failures (kept, not lost)."""
        return self.store.dead()

    def oldest_age_seconds(self) -> float | None:
        """Age of the oldest waiting write, or None when nothing waits."""
        created = self.store.oldest_pending_created_at()
        return None if created is None else max(0.0, self._clock() - created)

    def peek(self, limit: int = 100) -> list[OutboxItem]:
        """The next waiting writes, oldest first."""
        return self.store.peek(limit)

    def flush(self, writer: Writer, max_items: int = 100) -> int:
        """Apply waiting writes in order; stop at the first failure. Returns how many were done.

        One writer at a time: within the process (a lock) and across the instances that share
        the store (its ``writer_turn``; another instance's turn makes this flush a no-op).
        A ``RecoverableError`` (MLflow unreachable) leaves the item for the next flush. Any
        other error counts an attempt; after ``MAX_ATTEMPTS`` the item is parked as 'dead'
        (kept in the store, reported) and the queue moves on.
        """
        done = 0
        with self._lock, self.store.writer_turn() as mine:
            self.unreachable = False
            if not mine:  # another instance writes the shared queue now, in order
                return 0
            for item in self.peek(max_items):
                try:
                    writer(item.kind, item.payload, item.key)
                except RecoverableError as exc:
                    self.store.mark_failed(item.id, _error(exc), park=False)
                    self.unreachable = True
                    break
                except Exception as exc:
                    park = item.attempts + 1 >= MAX_ATTEMPTS
                    self.store.mark_failed(item.id, _error(exc), park=park)
                    self._publish(OutboxWriteFailed(item.key, item.kind, redact(str(exc)), park))
                    if not park:
                        break
                    continue
                self.store.mark_done(item.id, self._clock())
                done += 1
        return done

    def retry_dead(self, writer: Writer, max_items: int = 100) -> int:
        """Try each parked write once more, oldest first; returns how many were done.

        A done one leaves the dead; a failing one stays parked (its error updated). Stops
        at the first ``RecoverableError``: MLflow is unreachable, the rest would fail too.
        """
        done = 0
        with self._lock:
            for item in self.store.peek_dead(max_items):
                try:
                    writer(item.kind, item.payload, item.key)
                except RecoverableError as exc:
                    self.store.mark_failed(item.id, _error(exc), park=True)
                    break
                except Exception as exc:
                    self.store.mark_failed(item.id, _error(exc), park=True)
                    continue
                self.store.mark_done(item.id, self._clock())
                done += 1
        return done

    def revive(self, keys: list[str] | None = None) -> int:
        """Queue parked writes again (``keys``, or all) with fresh attempts; returns how many."""
        return self.store.revive(keys)

    def prune_done(self, older_than_seconds: float = DONE_KEEP_SECONDS) -> int:
        """Delete writes done longer ago than ``older_than_seconds``; returns how many.

        Their keys then no longer block a second enqueue, which is harmless: the checks that
        enqueue are recorded in the ledger long before a week is over, and the writer finds
        an already logged key in MLflow.
        """
        with self._lock:
            return self.store.delete_done_before(self._clock() - older_than_seconds)


def _error(exc: BaseException) -> str:
    """The stored error: redacted (a tracking URI's password must not land in the store)."""
    return redact(f"{type(exc).__name__}: {exc}")[:2000]
