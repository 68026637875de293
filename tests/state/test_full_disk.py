"""The sqlite stores on a full disk: ``StateUnavailable``, nothing half-written, back once
there is room. The disk is real: a 2 MiB tmpfs filled with a ballast file (root only; the
tests skip when mounting is refused)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftwarden.errors import RecoverableError, StateUnavailable
from driftwarden.state import CheckRecord
from driftwarden.state.sqlite import SqliteLedger, SqliteOutbox
from driftwarden.state.sqlite.errors import is_unavailable
from tests.support.small_fs import fill, small_tmpfs


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "state", "2m") as mounted:
        yield mounted


def test_a_claim_on_a_full_disk_raises_state_unavailable_and_leaves_nothing(disk: Path) -> None:
    ledger = SqliteLedger.open(disk / "ledger.db")
    done = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ballast = fill(disk)
    big = CheckRecord(
        kind="drift", scope="file", model="m", outcome="ok", summary={"x": "y" * 200_000}
    )
    with pytest.raises(StateUnavailable, match=r"ledger\.db: database or disk is full") as caught:
        ledger.finish_file(done.file_id, "done", checks=[big])
    assert isinstance(caught.value, RecoverableError) and is_unavailable(caught.value.__cause__)
    assert ledger.get_file(done.file_id)["status"] == "processing"  # rolled back whole
    assert ledger.checks() == []
    ballast.unlink()
    # The connection is not left inside the failed transaction: the next write works.
    ledger.finish_file(done.file_id, "done", checks=[big])
    ledger.probe()
    assert ledger.get_file(done.file_id)["status"] == "done" and len(ledger.checks()) == 1
    ledger.close()


def test_opening_the_ledger_on_a_full_disk_is_state_unavailable_not_a_traceback(
    disk: Path,
) -> None:
    SqliteLedger.open(disk / "ledger.db").close()  # a clean stop removes -wal and -shm
    ballast = fill(disk)
    with pytest.raises(StateUnavailable, match=r"ledger\.db: disk I/O error"):
        SqliteLedger.open(disk / "ledger.db")
    ballast.unlink()
    ledger = SqliteLedger.open(disk / "ledger.db")
    ledger.probe()
    ledger.close()


def test_the_outbox_on_a_full_disk_reads_but_cannot_write_and_says_so(disk: Path) -> None:
    outbox = SqliteOutbox(disk / "outbox.db")
    outbox.insert("drift_run", "{}", "k1", 1.0)
    ballast = fill(disk)
    assert outbox.pending() == 1  # the open store keeps its -shm: reads need no new file
    with pytest.raises(StateUnavailable, match=r"outbox\.db: "):
        outbox.insert("drift_run", "{}", "k2", 2.0)
    ballast.unlink()
    assert outbox.pending() == 1
    assert outbox.insert("drift_run", "{}", "k2", 2.0) == 2


def test_other_sqlite_errors_are_not_state_unavailable(tmp_path: Path) -> None:
    bad = tmp_path / "ledger.db"
    bad.write_bytes(b"this is not a database, and never will be" * 100)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        SqliteLedger.open(bad)
    assert not isinstance(caught.value, StateUnavailable) and not is_unavailable(caught.value)
