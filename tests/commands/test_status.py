"""`driftwarden status` from a ledger and outbox on disk (no daemon needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from driftwarden.cli import main
from driftwarden.commands.status import collect_status, render_text
from driftwarden.config import load_settings
from driftwarden.events import Recorder
from driftwarden.outbox.queue import Outbox as _Outbox
from driftwarden.state import CheckRecord
from driftwarden.state.sqlite import SqliteLedger as Ledger
from driftwarden.state.sqlite import SqliteOutbox


def Outbox(path: Path) -> _Outbox:
    return _Outbox(SqliteOutbox(path), Recorder())


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "dw.toml"
    path.write_text(f'[model]\nname = "m"\n[state]\ndirectory = "{tmp_path / "state"}"\n')
    return path


def test_status_json_reports_files_checks_model_retrain_outbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    ledger = Ledger.open(tmp_path / "state" / "ledger.db")
    claim = ledger.begin_file("/d/a.csv", "/d", "h", 1, 1.0)
    check = CheckRecord(
        kind="drift",
        scope="file",
        model="m",
        outcome="drift",
        summary={"drifted_features": ["x1"], "driftwarden.file": "a.csv"},
    )
    ledger.finish_file(claim.file_id, "done", checks=[check])
    bad = ledger.begin_file("/d/b.csv", "/d", "h2", 1, 1.0)
    ledger.finish_file(bad.file_id, "quarantined", reason="empty")
    ledger.record_model_version("m", "3", "run3", "alias production")
    rid = ledger.record_retrain("m", reason="drift", trigger="drift")
    ledger.finish_retrain(rid, "rejected")
    Outbox(tmp_path / "state" / "outbox.db").enqueue("drift_run", {"x": 1}, "k1")
    assert main(["status", "--config", str(config), "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["files"] == {"done": 1, "quarantined": 1}
    [check] = status["last_checks"]
    assert check["dataset_drift"] is True and check["drifted_count"] == 1
    assert check["drifted_features"] == ["x1"] and check["file"] == "a.csv"
    assert status["production_model"]["version"] == "3"
    assert status["last_retrain"]["status"] == "rejected"
    assert status["outbox"]["pending"] == 1
    assert main(["status", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "production model: version 3" in text and "MLflow writes pending: 1" in text


def test_status_before_the_daemon_ever_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--config", str(_config(tmp_path)), "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["files"] == {} and status["production_model"] is None


def test_last_retrain_is_the_last_finished_cycle_with_skips_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    ledger = Ledger.open(tmp_path / "state" / "ledger.db")
    rid = ledger.record_retrain("m", reason="drift breach", trigger="drift")
    ledger.finish_retrain(rid, "promoted", candidate_version="4")
    ledger.record_retrain("m", "drift breach", "drift", status="skipped_cooldown")
    ledger.record_retrain("m", "drift breach", "drift", status="skipped_running")
    ledger.close()
    assert main(["status", "--config", str(config), "--format", "json"]) == 0
    retrain = json.loads(capsys.readouterr().out)["last_retrain"]
    assert retrain["id"] == rid and retrain["status"] == "promoted"
    assert retrain["candidate_version"] == "4" and retrain["skipped_since"] == 2
    assert main(["status", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "last retrain: promoted (drift breach" in text and "2 breach(es) skipped" in text


def _chattr(flag: str, *paths: Path) -> bool:
    import subprocess

    try:
        out = subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, timeout=10)
    except FileNotFoundError:
        return False
    return out.returncode == 0


def test_status_reads_a_state_directory_it_cannot_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No write access for anyone, root included: the directory and files made immutable."""
    config = _config(tmp_path)
    state = tmp_path / "state"
    ledger = Ledger.open(state / "ledger.db")
    ledger.begin_file("/d/a.csv", "/d", "h", 1, 1.0)
    ledger.close()  # the daemon stopped: no -wal/-shm files left
    outbox = SqliteOutbox(state / "outbox.db")
    _Outbox(outbox, Recorder()).enqueue("drift_run", {"x": 1}, "k1")
    outbox.close()  # likewise
    files = sorted(state.iterdir())
    assert [p.name for p in files] == ["ledger.db", "outbox.db"]
    if not _chattr("+i", state, *files):
        pytest.skip("chattr +i is not available here")
    try:
        assert main(["status", "--config", str(config), "--format", "json"]) == 0
    finally:
        _chattr("-i", state, *files)
    status = json.loads(capsys.readouterr().out)
    assert status["files"] == {"processing": 1}
    assert status["outbox"]["pending"] == 1
    assert sorted(p.name for p in state.iterdir()) == ["ledger.db", "outbox.db"]


def test_status_leaves_the_outbox_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An outbox in rollback-journal mode stays so: status sets no pragma and no schema."""
    import sqlite3

    config = _config(tmp_path)
    (tmp_path / "state").mkdir()
    path = tmp_path / "state" / "outbox.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT, kind TEXT, payload TEXT,"
        " created_at REAL, attempts INTEGER, last_error TEXT, status TEXT, done_at REAL)"
    )
    conn.execute(
        "INSERT INTO outbox VALUES (1, 'k', 'drift_run', '{}', 1.0, 0, NULL, 'pending', NULL)"
    )
    conn.commit()
    conn.close()
    before = path.read_bytes()
    assert main(["status", "--config", str(config), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["outbox"]["pending"] == 1
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["outbox.db"]


@pytest.mark.parametrize("name", ["ledger.db", "outbox.db"])
def test_a_state_file_that_is_no_database_is_one_line_and_exit_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    (tmp_path / "state").mkdir()
    bad = tmp_path / "state" / name
    bad.write_bytes(b"this is not a sqlite database, just some bytes " * 40)
    assert main(["status", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(bad) in err and "not a database" in err


FILE = "batch\n2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear\x1b[2J.csv"
COLUMN = "income\x1b]0;pwned\x07\u202e"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def test_file_and_column_names_are_escaped_in_the_table_and_exact_in_json(
    tmp_path: Path,
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    ledger = Ledger.open(tmp_path / "state" / "ledger.db")
    try:
        ledger.record_check(
            CheckRecord(
                kind="drift",
                scope="file",
                model=settings.model.name,
                outcome="drift",
                summary={"driftwarden.file": FILE, "drifted_features": [COLUMN]},
            )
        )
    finally:
        ledger.close()

    status = collect_status(settings)
    text = render_text(status)
    assert not RAW_CONTROL.search(text), text
    (row,) = [line for line in text.split("\n") if "batch" in line]
    assert "batch\\n2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear\\x1b[2J.csv" in row
    (names,) = [line for line in text.split("\n") if "drifted:" in line]
    assert "drifted: income\\x1b]0;pwned\\x07\\u202e" in names
    # JSON escapes by construction and gives the names back exactly.
    document = json.dumps(status)
    assert not RAW_CONTROL.search(document)
    assert json.loads(document)["last_checks"][0]["file"] == FILE
