"""The sqlite outbox store: a file of its own in the state directory (WAL; safe for readers).

One short-lived connection per call, so the writer thread and the worker never share one.
One more connection stays open, unused, while the store is open: the last connection to a
WAL database that closes checkpoints it and deletes the log (two fsyncs and a truncation
per call otherwise); with it, sqlite checkpoints every 1000 pages as usual.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftwarden.state.records import OutboxItem
from driftwarden.state.sqlite.connect import connect_readonly, use_wal
from driftwarden.state.sqlite.errors import translated

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


class SqliteOutbox:
    """The ``OutboxStore`` of one state directory (``readonly`` for ``driftwarden status``)."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly  # reads only, never creates
        self._ready = False
        self._anchor: sqlite3.Connection | None = None  # see the module's docstring

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
        # On a full disk even a read fails here (opening a WAL file creates its -shm).
        with translated(self.path):
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                conn.execute("PRAGMA busy_timeout = 30000")
                if not self._ready:
                    use_wal(conn, 30.0)
                    conn.executescript(_SCHEMA)
                    anchor = sqlite3.connect(self.path, check_same_thread=False)
                    anchor.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # maps the log
                    self._anchor = anchor
                    self._ready = True
                yield conn
            finally:
                conn.close()

    def _count(self, status: str) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = ?", (status,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the anchor connection (every other one is closed after its call)."""
        anchor, self._anchor = self._anchor, None
        if anchor is not None:
            anchor.close()

    @contextmanager
    def writer_turn(self) -> Iterator[bool]:
        """One instance uses a sqlite state directory: its flusher always has the turn."""
        yield True

    def insert(
        self, kind: str, payload_json: str, key: str, at: float, model: str | None = None
    ) -> int:
        with self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO outbox (key, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                (key, kind, payload_json, at),
            )
            row = conn.execute("SELECT id FROM outbox WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def pending(self) -> int:
        return self._count("pending")

    def dead(self) -> int:
        return self._count("dead")

    def oldest_pending_created_at(self) -> float | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT MIN(created_at) FROM outbox WHERE status = 'pending'"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def peek(self, limit: int) -> list[OutboxItem]:
        return self._items("pending", limit)

    def peek_dead(self, limit: int) -> list[OutboxItem]:
        return self._items("dead", limit)

    def _items(self, status: str, limit: int) -> list[OutboxItem]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, key, kind, payload, created_at, attempts FROM outbox"
                " WHERE status = ? ORDER BY id LIMIT ?",
                (status, limit),
            ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def revive(self, keys: list[str] | None) -> int:
        where, params = "status = 'dead'", tuple[str, ...]()
        if keys is not None:
            where += f" AND key IN ({', '.join('?' * len(keys))})"
            params = tuple(keys)
        if keys == []:
            return 0
        with self._connect() as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET status = 'pending', attempts = 0 WHERE {where}", params
            )
            return int(cursor.rowcount)

    def mark_done(self, item_id: int, at: float) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'done', done_at = ?, attempts = attempts + 1,"
                " last_error = NULL WHERE id = ?",
                (at, item_id),
            )

    def mark_failed(self, item_id: int, error: str, park: bool) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, status = ? WHERE id = ?",
                (error[:2000], "dead" if park else "pending", item_id),
            )

    def delete_done_before(self, at: float) -> int:
        with self._connect() as conn:
            cursor = conn.execute("DELETE FROM outbox WHERE status = 'done' AND done_at < ?", (at,))
            return int(cursor.rowcount)
