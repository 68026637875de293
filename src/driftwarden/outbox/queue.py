"""A durable, ordered outbox for MLflow writes.

Checks never wait for MLflow: a job enqueues what it wants written (a JSON payload under a
unique key) and goes on. A flusher applies the items in order through a ``writer``; when
MLflow is unreachable the item stays, and the next flush resumes with it. The queue is a
SQLite file in the state directory, so it survives crashes and restarts.

A writer must be idempotent per key (tag the run it creates with the key and look for it
first): a crash between "run written" and "item marked done" replays the item once more.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwarden.errors import RecoverableError

log = logging.getLogger(__name__)

Writer = Callable[[str, dict[str, Any], str], None]

# An item failing for reasons other than reachability (a bad payload, a server-side error)
# is retried this many times, then parked as 'dead' so it cannot block the queue forever.
MAX_ATTEMPTS = 5
# Writes done are kept this long (for a look with sqlite3), then pruned so the file stays small.
DONE_KEEP_SECONDS = 7 * 24 * 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    done_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, id);
"""


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open a SQLite file for reading only: no pragma that writes, no schema, nothing created.

    A WAL database needs its ``-shm`` file; when the daemon is not running that file is gone,
    and a reader without write access to the directory cannot create it. Without a ``-wal``
    file every page is in the main file, so it is then opened as immutable (a snapshot).
    """
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        if Path(f"{path}-wal").exists():
            raise
        conn = sqlite3.connect(
            uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False
        )
    return conn


@dataclass(frozen=True)
class OutboxItem:
    """One queued write."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    created_at: float
    attempts: int


class Outbox:
    """Durable FIFO of MLflow writes in ``path`` (SQLite, WAL; safe for concurrent readers)."""

    def __init__(
        self, path: Path, clock: Callable[[], float] = time.time, readonly: bool = False
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self.readonly = readonly  # for ``driftwarden status``: reads only, never creates
        self._lock = threading.Lock()  # one flush at a time within a process
        self._ready = False
        # Whether the last flush stopped because MLflow was unreachable (not a failed write).
        self.unreachable = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            conn = connect_readonly(self.path)
            try:
                conn.execute("PRAGMA busy_timeout = 30000")
                yield conn
            finally:
                conn.close()
            return
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            if not self._ready:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(_SCHEMA)
                self._ready = True
            yield conn
        finally:
            conn.close()

    def enqueue(self, kind: str, payload: dict[str, Any], key: str) -> int:
        """Queue a write unless its key is queued or done already (until pruned). Returns its id."""
        body = json.dumps(payload, sort_keys=True, default=str)
        with self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO outbox (key, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                (key, kind, body, self._clock()),
            )
            row = conn.execute("SELECT id FROM outbox WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def pending(self) -> int:
        """How many writes wait."""
        with self._connect() as conn:
            return int(
                conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
            )

    def dead(self) -> int:
        """How many writes were parked after repeated non-connection failures (kept, not lost)."""
        with self._connect() as conn:
            return int(
                conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'dead'").fetchone()[0]
            )

    def oldest_age_seconds(self) -> float | None:
        """Age of the oldest waiting write, or None when nothing waits."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT MIN(created_at) FROM outbox WHERE status = 'pending'"
            ).fetchone()
        return None if row[0] is None else max(0.0, self._clock() - float(row[0]))

    def peek(self, limit: int = 100) -> list[OutboxItem]:
        """The next waiting writes, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, key, kind, payload, created_at, attempts FROM outbox"
                " WHERE status = 'pending' ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def flush(self, writer: Writer, max_items: int = 100) -> int:
        """Apply waiting writes in order; stop at the first failure. Returns how many were done.

        A ``RecoverableError`` (MLflow unreachable) leaves the item for the next flush. Any
        other error counts an attempt; after ``MAX_ATTEMPTS`` the item is parked as 'dead'
        (kept in the file, logged) and the queue moves on.
        """
        done = 0
        with self._lock:
            self.unreachable = False
            for item in self.peek(max_items):
                try:
                    writer(item.kind, item.payload, item.key)
                except RecoverableError as exc:
                    self._record_failure(item, exc, park=False)
                    self.unreachable = True
                    break
                except Exception as exc:
                    park = item.attempts + 1 >= MAX_ATTEMPTS
                    self._record_failure(item, exc, park=park)
                    log.warning(
                        "outbox write %s (%s) failed: %s%s",
                        item.key,
                        item.kind,
                        exc,
                        "; parked as dead after repeated failures" if park else "",
                        extra={"outbox_key": item.key},
                    )
                    if not park:
                        break
                    continue
                with self._connect() as conn:
                    conn.execute(
                        "UPDATE outbox SET status = 'done', done_at = ?, attempts = attempts + 1,"
                        " last_error = NULL WHERE id = ?",
                        (self._clock(), item.id),
                    )
                done += 1
        return done

    def prune_done(self, older_than_seconds: float = DONE_KEEP_SECONDS) -> int:
        """Delete writes done longer ago than ``older_than_seconds``; returns how many.

        Their keys then no longer block a second enqueue, which is harmless: the checks that
        enqueue are recorded in the ledger long before a week is over, and the writer finds
        an already logged key in MLflow.
        """
        with self._lock, self._connect() as conn:
            cursor = conn.execute(
                "DELETE FROM outbox WHERE status = 'done' AND done_at < ?",
                (self._clock() - older_than_seconds,),
            )
            return int(cursor.rowcount)

    def _record_failure(self, item: OutboxItem, exc: BaseException, park: bool) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, status = ? WHERE id = ?",
                (f"{type(exc).__name__}: {exc}"[:2000], "dead" if park else "pending", item.id),
            )


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
