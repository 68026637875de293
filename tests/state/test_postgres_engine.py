"""What only the PostgreSQL engine does: versioned migrations under a lock, the engine chosen
by URL, read-only sessions, and a server restart survived."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from driftwarden.config.model import Settings
from driftwarden.errors import StateUnavailable
from driftwarden.state import Owner, engine_for, engine_name
from driftwarden.state.postgres import PostgresEngine
from driftwarden.state.postgres.connect import Target
from driftwarden.state.postgres.schema import SCHEMA_VERSION, migrate
from tests.support.postgres import PostgresCluster
from tests.support.state_fixtures import StateSite

T = TypeVar("T")

pytestmark = pytest.mark.integration


def _versions(site: StateSite) -> list[int]:
    assert site.db is not None
    with site.db.connect() as conn:
        return [int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")]


def test_a_writer_migrates_an_empty_database_once(pg_site: StateSite) -> None:
    engine = pg_site.engine()
    assert engine.exists() == {"ledger": False, "outbox": False}
    pg_site.ledger()
    assert engine.exists() == {"ledger": True, "outbox": True}
    assert _versions(pg_site) == list(range(1, SCHEMA_VERSION + 1))
    pg_site.ledger("i2")  # another instance: nothing to do
    assert _versions(pg_site) == list(range(1, SCHEMA_VERSION + 1))


def test_instances_starting_together_migrate_once(pg_site: StateSite) -> None:
    """Eight starts at the same moment: one migrates under the advisory lock, all proceed."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    assert pg_site.db is not None
    target = Target(pg_site.db.dsn, pg_site.db.password, "test race")

    def start() -> None:
        barrier.wait()
        try:
            migrate(target)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert _versions(pg_site) == list(range(1, SCHEMA_VERSION + 1))


def test_a_database_newer_than_the_code_is_refused(pg_site: StateSite) -> None:
    pg_site.ledger().close()
    assert pg_site.db is not None
    with pg_site.db.connect() as conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, description, applied_at) VALUES (99, 'x', 0)"
        )
    with pytest.raises(RuntimeError, match="schema version 99 is newer"):
        pg_site.engine("i2").ledger()


def test_a_reader_creates_nothing(pg_site: StateSite) -> None:
    engine = pg_site.engine()
    assert engine.exists()["ledger"] is False
    assert engine.exists()["ledger"] is False  # looking twice still wrote nothing
    assert pg_site.db is not None
    with pg_site.db.connect() as conn:
        row = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
    assert row == (None,)


def test_the_url_chooses_the_engine(tmp_path: Path) -> None:
    sqlite = Settings.model_validate({"state": {"directory": str(tmp_path)}})
    shared = Settings.model_validate(
        {"state": {"directory": str(tmp_path), "url": "postgres://dw@127.0.0.1:5432/dw"}}
    )
    assert engine_name(sqlite) == "sqlite"
    assert engine_name(shared) == "postgresql"
    engine = engine_for(shared, Owner("host/1"))
    assert isinstance(engine, PostgresEngine)  # nothing contacted yet
    assert engine.describe()["ledger"] == "postgres://dw@127.0.0.1:5432/dw"


def test_an_unreachable_database_is_a_recoverable_error_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DW_TEST_PG", "sekret-pg-pass")
    settings = Settings.model_validate(
        {
            "state": {
                "directory": str(tmp_path),
                "url": "postgresql://dw@127.0.0.1:1/dw",
                "password_env": "DW_TEST_PG",
            }
        }
    )
    with pytest.raises(StateUnavailable) as caught:
        engine_for(settings).ledger()
    assert caught.value.exit_code == 3
    assert "127.0.0.1" in str(caught.value) and "sekret-pg-pass" not in str(caught.value)


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of this test's own: it is restarted, which the session's must not be."""
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.slow
def _eventually(call: Callable[[], T], seconds: float = 30.0) -> T:
    """``call()`` once the state answers: ``StateUnavailable`` is retried until ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except StateUnavailable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def test_the_stores_carry_on_after_a_server_restart(own_cluster: PostgresCluster) -> None:
    db = own_cluster.create_database()
    engine = PostgresEngine(Target(db.dsn, db.password, "test restart"), Owner("i1"))
    ledger, outbox, leases = engine.ledger(), engine.outbox(), engine.leases()
    try:
        first = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
        outbox.insert("drift_run", "{}", "k1", 1.0)
        leases.join("i1", 30.0)
        own_cluster.restart()  # every pooled connection is cut
        ledger.finish_file(first.file_id, "done")
        assert ledger.file_counts() == {"done": 1}
        assert outbox.pending() == 1
        # The lease store waits at most 1 s for a connection (a renewal must not hang), so
        # right after the restart it may answer "unreachable" once; its keeper tries again
        # next turn, and so does this test, until the pool has reconnected.
        assert _eventually(lambda: leases.join("i1", 30.0)).live == ("i1",)
        with engine.retrain_lock("m").hold() as held:
            assert held
    finally:
        for store in (ledger, outbox, leases):
            store.close()
