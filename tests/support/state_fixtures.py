"""One state location on either engine, for tests that must hold for both (conformance).

``state_site`` is parametrized over the engines: sqlite in a temporary directory, and
PostgreSQL in a fresh database of the session's throw-away cluster (those cases are marked
``integration``; without Debian's postgresql they skip, and fail under CI=1). A site opens
stores as any number of instances (``instance=``, ``fences=``), and closes them at the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftwarden.state import Fences, LeaseStore, Ledger, OutboxStore, Owner, StateEngine
from driftwarden.state.sqlite import SqliteEngine
from tests.support.postgres import PostgresDatabase


class StateSite:
    """The stores of one state location; every store opened here is closed by ``close``."""

    def __init__(self, engine: str, directory: Path, db: PostgresDatabase | None) -> None:
        self.engine_name = engine
        self.directory = directory
        self.db = db
        self._opened: list[Any] = []

    @property
    def shared(self) -> bool:
        return self.db is not None

    def engine(self, instance: str = "i1", fences: Fences | None = None) -> StateEngine:
        if self.db is None:
            return SqliteEngine(self.directory)
        from driftwarden.state.postgres import PostgresEngine
        from driftwarden.state.postgres.connect import Target

        target = Target(self.db.dsn, self.db.password, f"test {instance}")
        return PostgresEngine(target, Owner(instance, fences))

    def _keep(self, store: Any) -> Any:
        self._opened.append(store)
        return store

    def ledger(
        self, instance: str = "i1", fences: Fences | None = None, readonly: bool = False
    ) -> Ledger:
        ledger: Ledger = self._keep(self.engine(instance, fences).ledger(readonly))
        return ledger

    def outbox(self, instance: str = "i1", readonly: bool = False) -> OutboxStore:
        outbox: OutboxStore = self._keep(self.engine(instance).outbox(readonly))
        return outbox

    def leases(self, instance: str = "i1") -> LeaseStore:
        leases: LeaseStore = self._keep(self.engine(instance).leases())
        return leases

    def terminate(self, instance: str) -> int:
        """End every session ``instance`` has open (what PostgreSQL sees when it is killed).

        Waits (up to 10 s) until each backend has exited: its session locks are gone on
        return, not some time after (pg_terminate_backend alone only signals the backend).
        """
        assert self.db is not None, "PostgreSQL only"
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid, 10000))"
                " FROM pg_stat_activity"
                " WHERE application_name = %s",
                (f"test {instance}",),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        for store in reversed(self._opened):
            with contextlib.suppress(Exception):  # closed already by the test
                store.close()
        self._opened.clear()


ENGINE_PARAMS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
]


@pytest.fixture(params=ENGINE_PARAMS)
def state_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateSite]:
    """A state location on each engine in turn (see the module docstring)."""
    db = request.getfixturevalue("postgres_db") if request.param == "postgresql" else None
    site = StateSite(request.param, tmp_path / "state", db)
    try:
        yield site
    finally:
        site.close()


@pytest.fixture
def pg_site(postgres_db: PostgresDatabase, tmp_path: Path) -> Iterator[StateSite]:
    """A state location on PostgreSQL only (what sharing adds: claims across instances,
    fencing, leases, one outbox writer)."""
    site = StateSite("postgresql", tmp_path / "state", postgres_db)
    try:
        yield site
    finally:
        site.close()
