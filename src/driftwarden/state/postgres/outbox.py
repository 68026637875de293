"""The PostgreSQL outbox store: one queue of MLflow writes for every instance.

Order and one writer at a time across instances: a flush runs inside ``writer_turn``, which
holds a session-level advisory lock on a connection of its own; another instance finds the
lock taken and leaves the queue to the holder. If the holder dies, PostgreSQL drops its lock
with its connection, and the next instance that tries takes over at the first item still
pending. Items carry their model (for ``status`` and for people reading the table).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from driftwarden.state.postgres.connect import Database
from driftwarden.state.records import OutboxItem

# pg_try_advisory_lock key of the outbox writer ("dw-outbx" in ASCII).
WRITER_LOCK = 0x64772D6F75746278


class PostgresOutbox:
    """The ``OutboxStore`` of a shared database (``readonly`` for ``driftwarden status``)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.readonly = db.readonly

    def close(self) -> None:
        self.db.close()

    def insert(
        self, kind: str, payload_json: str, key: str, at: float, model: str | None = None
    ) -> int:
        def insert(cur: Any) -> int:
            row = cur.execute(
                "INSERT INTO outbox (key, kind, payload, created_at, model)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING id",
                (key, kind, payload_json, at, model),
            ).fetchone()
            if row is None:
                row = cur.execute("SELECT id FROM outbox WHERE key = %s", (key,)).fetchone()
            return int(row["id"])

        return self.db.run(insert)

    def _count(self, status: str) -> int:
        rows = self.db.rows("SELECT COUNT(*) AS n FROM outbox WHERE status = %s", (status,))
        return int(rows[0]["n"])

    def pending(self) -> int:
        return self._count("pending")

    def dead(self) -> int:
        return self._count("dead")

    def oldest_pending_created_at(self) -> float | None:
        rows = self.db.rows("SELECT MIN(created_at) AS t FROM outbox WHERE status = 'pending'")
        value = rows[0]["t"]
        return None if value is None else float(value)

    def peek(self, limit: int) -> list[OutboxItem]:
        rows = self.db.rows(
            "SELECT id, key, kind, payload, created_at, attempts FROM outbox"
            " WHERE status = 'pending' ORDER BY id LIMIT %s",
            (limit,),
        )
        return [
            OutboxItem(
                int(r["id"]),
                r["key"],
                r["kind"],
                json.loads(r["payload"]),
                r["created_at"],
                r["attempts"],
            )
            for r in rows
        ]

    def mark_done(self, item_id: int, at: float) -> None:
        self.db.run(
            lambda cur: cur.execute(
                "UPDATE outbox SET status = 'done', done_at = %s, attempts = attempts + 1,"
                " last_error = NULL WHERE id = %s",
                (at, item_id),
            )
        )

    def mark_failed(self, item_id: int, error: str, park: bool) -> None:
        self.db.run(
            lambda cur: cur.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = %s, status = %s"
                " WHERE id = %s",
                (error[:2000], "dead" if park else "pending", item_id),
            )
        )

    def delete_done_before(self, at: float) -> int:
        return int(
            self.db.run(
                lambda cur: (
                    cur.execute(
                        "DELETE FROM outbox WHERE status = 'done' AND done_at < %s", (at,)
                    ).rowcount
                )
            )
        )

    @contextmanager
    def writer_turn(self) -> Iterator[bool]:
        """Hold the one writer's turn across instances; yields False when another holds it."""
        with self.db.session() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (WRITER_LOCK,)).fetchone()
            if not (row and row[0]):
                yield False
                return
            try:
                yield True
            finally:
                # A session that ended meanwhile took the lock with it.
                with contextlib.suppress(Exception):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (WRITER_LOCK,))
