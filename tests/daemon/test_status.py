"""`driftwarden status` from a ledger and outbox on disk (no daemon needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftwarden.cli import main
from driftwarden.daemon.ledger import CheckRecord, Ledger
from driftwarden.tracking.outbox import Outbox


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
    assert status["last_checks"][0]["verdict"] == "drift (x1)"
    assert status["last_checks"][0]["file"] == "a.csv"
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
