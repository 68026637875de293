"""What only the sqlite ledger does: WAL readers beside a writer, its own schema versions.

The behaviour both engines share is in test_ledger.py (run on each engine)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from driftwarden.state import Ledger
from driftwarden.state.sqlite import SqliteLedger
from driftwarden.state.sqlite.schema import SCHEMA_VERSION, V1, V2, V3


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


def _v3_file(path: Path) -> None:
    """A ledger as a one-model daemon left it before files had their model (schema v3):
    a checked file, and a quarantined one without checks."""
    conn = sqlite3.connect(path)
    conn.executescript(V1 + V2 + V3)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '3')")
    row = (
        "INSERT INTO files (id, path, root, digest, size, mtime, status, moved, created_at,"
        " updated_at) VALUES (?, ?, '/d', ?, 1, 1.0, ?, 1, 1.0, 1.0)"
    )
    conn.execute(row, (1, "/d/a.csv", "h1", "done"))
    conn.execute(row, (2, "/d/b.csv", "h2", "quarantined"))
    conn.execute(
        "INSERT INTO checks (kind, scope, file_id, model, outcome, started_at, finished_at)"
        " VALUES ('drift', 'file', 1, 'm', 'ok', 1.0, 2.0)"
    )
    conn.commit()
    conn.close()


def test_a_v3_ledger_reads_read_only_as_one_models(tmp_path: Path) -> None:
    """``status`` never migrates: files without a model column are every model's."""
    _v3_file(tmp_path / "ledger.db")
    reader = SqliteLedger.open(tmp_path / "ledger.db", readonly=True)
    assert reader.schema == 3
    assert reader.file_counts("m") == {"done": 1, "quarantined": 1}
    assert [r["id"] for r in reader.recent_done_files(5, model="m")] == [1]
    reader.close()


def test_a_v3_ledger_is_migrated_and_its_files_take_their_checks_model(tmp_path: Path) -> None:
    _v3_file(tmp_path / "ledger.db")
    ledger = _open(tmp_path)
    assert [(r["id"], r["model"]) for r in ledger.files()] == [(1, "m"), (2, None)]
    assert ledger.file_counts("m") == {"done": 1}
    # The migrated file is m's: the same content for m is a duplicate, for another model not.
    assert ledger.begin_file("/d/c.csv", "/d", "h1", 1, 2.0, model="m").kind == "duplicate"
    assert ledger.begin_file("/d/o.csv", "/d", "h1", 1, 2.0, model="o").kind == "new"
