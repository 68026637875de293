"""Single flight across instances: a session-level advisory lock on a connection of its own.

The retrain cycle holds it for its whole run (minutes). PostgreSQL drops it when the holder's
connection ends, so an instance killed mid-cycle frees it at once, while one that is only
paused keeps it: no second training run of the model starts beside a live one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

from driftwarden.state.postgres.connect import Target, key_sql


class AdvisoryLock:
    """``driftwarden:<kind>:<name>`` as a non-blocking session advisory lock."""

    def __init__(self, target: Target, kind: str, name: str) -> None:
        self.target = target
        self.kind = kind
        self.name = name

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Try to take the lock without waiting; yields True when this caller holds it."""
        conn = self.target.connect()
        try:
            sql = f"SELECT pg_try_advisory_lock({key_sql(self.kind)})"
            row = conn.execute(sql, (self.name,)).fetchone()
            yield bool(row and row[0])
        finally:
            with contextlib.suppress(Exception):
                conn.close()  # ends the session: the lock goes with it
