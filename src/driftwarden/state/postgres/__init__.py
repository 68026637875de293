"""The PostgreSQL state engine: several instances share one database (``state.url``).

Every SQL statement that differs from the sqlite engine's lives in this package. Writers
migrate the schema at start (``schema.py``); readers (``driftwarden status``) open read-only
sessions and create nothing. See ``ledger.py`` for claims and fencing across instances,
``outbox.py`` for the one writer at a time, ``leases.py`` for model ownership.
"""

from __future__ import annotations

import contextlib

from driftwarden.config.model import Settings
from driftwarden.state.fencing import Owner
from driftwarden.state.postgres.connect import Database, Target
from driftwarden.state.postgres.leases import PostgresLeases
from driftwarden.state.postgres.ledger import PostgresLedger
from driftwarden.state.postgres.locks import AdvisoryLock
from driftwarden.state.postgres.outbox import PostgresOutbox
from driftwarden.state.postgres.schema import SCHEMA_VERSION, migrate, version_of

# How long a call waits for a pooled connection before the database counts as unreachable.
POOL_TIMEOUT_SECONDS = 10.0
LEASE_POOL_TIMEOUT_SECONDS = 1.0

__all__ = ["PostgresEngine", "PostgresLeases", "PostgresLedger", "PostgresOutbox"]


class PostgresEngine:
    """The stores of one shared database; ``owner`` says who writes (instance, fences)."""

    def __init__(self, target: Target, owner: Owner) -> None:
        self.target = target
        self.owner = owner
        self._migrated = False

    @classmethod
    def from_settings(cls, settings: Settings, owner: Owner) -> PostgresEngine:
        return cls(Target.from_settings(settings, f"driftwarden {owner.instance}"), owner)

    def _open(
        self, readonly: bool, max_size: int, name: str, timeout: float = POOL_TIMEOUT_SECONDS
    ) -> Database:
        if not readonly and not self._migrated:
            migrate(self.target)  # once per engine; concurrent starts wait on a lock
            self._migrated = True
        db = Database(self.target, readonly=readonly, max_size=max_size, name=name)
        db.open(timeout)
        return db

    def ledger(self, readonly: bool = False) -> PostgresLedger:
        return PostgresLedger(self._open(readonly, 8, "ledger"), self.owner)

    def outbox(self, readonly: bool = False) -> PostgresOutbox:
        return PostgresOutbox(self._open(readonly, 3, "outbox"))

    def leases(self, readonly: bool = False) -> PostgresLeases:
        """Short waits for a connection: a lease turn must not outlast the lease it renews."""
        return PostgresLeases(self._open(readonly, 2, "leases", LEASE_POOL_TIMEOUT_SECONDS))

    def retrain_lock(self, model: str) -> AdvisoryLock:
        return AdvisoryLock(self.target, "retrain", model)

    def exists(self) -> dict[str, bool]:
        """Whether the schema is there (a read-only look; unreachable raises StateUnavailable)."""
        conn = self.target.connect(readonly=True)
        try:
            found = version_of(conn) > 0
        finally:
            with contextlib.suppress(Exception):
                conn.close()
        return {"ledger": found, "outbox": found}

    def describe(self) -> dict[str, str]:
        return {"ledger": self.target.url, "outbox": self.target.url}

    def schema_version(self) -> int:
        """The version this code writes (``schema_migrations`` holds what the database has)."""
        return SCHEMA_VERSION
