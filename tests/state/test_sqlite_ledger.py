"""The ledger: claims, exactly-once decisions, duplicates, retrains, concurrent readers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from driftwarden.state import CheckRecord, Ledger
from driftwarden.state.sqlite import SqliteLedger
from driftwarden.state.sqlite.schema import SCHEMA_VERSION, V1


def _open(tmp_path: Path) -> Ledger:
    return SqliteLedger.open(tmp_path / "ledger.db")


def test_new_file_is_claimed_then_finished_then_moved(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    assert claim.kind == "new"
    check = CheckRecord(kind="drift", scope="file", model="m", outcome="ok", outbox_key="k1")
    ledger.finish_file(claim.file_id, "done", result={"dataset_drift": False}, checks=[check])
    ledger.mark_moved(claim.file_id, "/d/processed/a.csv")
    row = ledger.get_file(claim.file_id)
    assert row is not None and row["status"] == "done" and row["moved"] == 1
    assert [c["outbox_key"] for c in ledger.checks(file_id=claim.file_id)] == ["k1"]
    assert ledger.file_counts() == {"done": 1}


def test_row_left_processing_is_redone_not_duplicated(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    first = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.close()  # a crash: no finish_file
    ledger = _open(tmp_path)
    assert [r["path"] for r in ledger.processing()] == ["/d/a.csv"]
    again = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    assert again.kind == "redo" and again.file_id == first.file_id
    assert len(ledger.files()) == 1


def test_finished_but_not_moved_only_needs_the_move(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.finish_file(claim.file_id, "quarantined", reason="bad")
    again = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    assert again.kind == "finish_move" and again.status == "quarantined" and again.reason == "bad"


def test_same_content_under_another_name_is_a_duplicate(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.finish_file(claim.file_id, "done")
    ledger.mark_moved(claim.file_id, "/d/processed/a.csv")
    dup = ledger.begin_file("/d/b.csv", "/d", "h1", 10, 2.0)
    assert dup.kind == "duplicate" and dup.duplicate_of == claim.file_id
    # The same name dropped again with the same content after the first moved away.
    again = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 3.0)
    assert again.kind == "duplicate"
    # New content under an old name is a new file.
    assert ledger.begin_file("/d/a.csv", "/d", "h2", 11, 4.0).kind == "new"


def test_kept_file_is_ignored_on_rescan(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    claim = ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0)
    ledger.finish_file(claim.file_id, "done")
    ledger.mark_moved(claim.file_id, "/d/a.csv")
    assert ledger.is_kept_unchanged("/d/a.csv", 10, 1.0)
    assert not ledger.is_kept_unchanged("/d/a.csv", 11, 1.0)
    assert ledger.begin_file("/d/a.csv", "/d", "h1", 10, 1.0).kind == "ignore"


def test_retrain_records_for_remediation(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    assert ledger.retrain_running("m") is None and ledger.last_retrain("m") is None
    rid = ledger.record_retrain("m", reason="drift", trigger="drift")
    assert ledger.retrain_running("m")["id"] == rid  # type: ignore[index]
    ledger.finish_retrain(rid, "promoted", run_id="r1", candidate_version="3", detail={"gain": 0.1})
    assert ledger.retrain_running("m") is None
    last = ledger.last_retrain("m")
    assert last is not None and last["status"] == "promoted" and last["detail"] == {"gain": 0.1}
    ledger.record_retrain("m", reason="drift", status="skipped_cooldown")
    assert ledger.last_retrain("m", finished_only=True)["id"] == rid  # type: ignore[index]
    stale = ledger.record_retrain("m", reason="x")
    assert ledger.fail_stale_retrains() == 1
    assert ledger.last_retrain("m")["id"] == stale  # type: ignore[index]
    assert ledger.last_retrain("m")["status"] == "failed"  # type: ignore[index]


def test_model_versions_report_changes(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    assert ledger.record_model_version("m", "1", "r1", "alias")
    assert not ledger.record_model_version("m", "1", "r1", "alias")
    assert ledger.record_model_version("m", "2", "r2", "alias")
    assert ledger.record_model_version("m", "1", "r1", "alias")  # a rollback is a change
    assert ledger.last_model_version("m")["version"] == "1"  # type: ignore[index]


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


def test_firing_alerts_are_those_not_resolved_since(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    ledger.record_alert("m", "dataset_drift", "firing", summary="drift 1")
    ledger.record_alert("m", "dataset_drift", "firing", summary="drift 2")  # a repeat
    ledger.record_alert("m", "stale", "firing", summary="stale")
    ledger.record_alert("m", "stale", "resolved", summary="stale")
    ledger.record_alert(
        "m", "validation_below_minimum", "firing", labels={"metric": "accuracy"}, summary="acc"
    )
    ledger.record_alert("m", "validation_below_minimum", "firing", labels={"metric": "f1"})
    ledger.record_alert("m", "validation_below_minimum", "resolved", labels={"metric": "f1"})
    ledger.record_alert("other", "dataset_drift", "firing")
    ledger.close()
    firing = {(a["rule"], a["key"]): a for a in _open(tmp_path).firing_alerts("m")}
    assert set(firing) == {("dataset_drift", ""), ("validation_below_minimum", "accuracy")}
    drift = firing[("dataset_drift", "")]
    assert drift["summary"] == "drift 2" and drift["started_at"] <= drift["last_sent"]


def test_training_activity_counts_cycles_that_trained_only(tmp_path: Path) -> None:
    ledger = _open(tmp_path)
    assert ledger.last_training_activity("m") is None
    ledger.record_retrain("m", "drift breach", "drift", status="skipped_cooldown")
    ledger.record_retrain("m", "drift breach", "drift", status="failed")  # ended before training
    assert ledger.last_training_activity("m") is None
    running = ledger.record_retrain("m", "drift breach", "drift")  # training starts
    started = ledger.last_training_activity("m")
    assert started is not None
    ledger.finish_retrain(running, "rejected")
    finished = ledger.last_training_activity("m")
    assert finished is not None and finished >= started
    assert ledger.last_training_activity("other-model") is None


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
