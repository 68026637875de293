"""What only the sqlite ledger does: WAL readers beside a writer, its own schema versions.

The behaviour both engines share is in test_ledger.py (run on each engine)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from driftwarden.state import Ledger
from driftwarden.state.sqlite import SqliteLedger
from driftwarden.state.sqlite.schema import SCHEMA_VERSION, V1


def _open(tmp_path: Path) -> Ledger:
    return SqliteLedger.open(tmp_path / "ledger.db")


def test_a_reader_process_sees_commits_while_the_writer_holds_a_transaction(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.finish_file(claim.file_id, "done")
    reader = SqliteLedger.open(tmp_path / "ledger.db", readonly=True)
    with ledger._write() as conn:  # the writer is mid-transaction
        conn.execute("UPDATE files SET status = 'quarantined' WHERE id = ?", (claim.file_id,))
        assert reader.file_counts() == {"done": 1}  # WAL: readers are not blocked
    assert reader.file_counts() == {"quarantined": 1}
    reader.close()
    mode = sqlite3.connect(tmp_path / "ledger.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def _v1_file(path: Path) -> None:
    """A ledger as the first release wrote it (schema version 1)."""
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    row = (
        "INSERT INTO retrains (model, reason, trigger, status, started_at, finished_at)"
        " VALUES ('m', 'drift breach', 'drift', ?, ?, ?)"
    )
    conn.execute(row, ("rejected", 100.0, 400.0))  # trained: finished later than it began
    conn.execute(row, ("skipped_cooldown", 500.0, 500.0))
    conn.execute(row, ("failed", 600.0, 600.0))  # no training data: never trained
    conn.commit()
    conn.close()


def test_a_version_1_ledger_is_migrated_and_keeps_its_cooldown(tmp_path: Path) -> None:
    _v1_file(tmp_path / "ledger.db")
    ledger = _open(tmp_path)
    assert ledger.last_training_activity("m") == 400.0
    conn = sqlite3.connect(tmp_path / "ledger.db")
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    conn.close()
    assert version == (str(SCHEMA_VERSION),)
    ledger.close()
    assert _open(tmp_path).last_training_activity("m") == 400.0  # migrating twice is a no-op


def test_a_ledger_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    _open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "ledger.db")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="schema version 99 is newer"):
        _open(tmp_path)
