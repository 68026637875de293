"""Scheduled checks over recent drops, in a built daemon (its jobs called directly)."""

from __future__ import annotations

from pathlib import Path

from driftwarden.daemon.jobs.scheduled import alert_tick
from driftwarden.events import types as ev
from tests.support.daemon_proc import sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon


def test_window_drift_stacks_recent_drops(tmp_path: Path, built: InProcessDaemon) -> None:
    parts = built.parts
    parts.keeper.windows.drift()  # nothing yet: skipped, nothing recorded
    assert parts.ledger.checks() == []
    [skipped] = built.events.of(ev.WindowDriftSkipped)
    assert skipped.why == "no checked drops yet"
    for i in range(3):
        parts.keeper.files.handle(
            write_csv(tmp_path / "drop" / f"w{i}.csv", sample_frame(100, seed=i))
        )
    parts.keeper.windows.drift()
    window = [c for c in parts.ledger.checks() if c["scope"] == "window"]
    assert len(window) == 1 and window[0]["summary"]["n_current"] == 300
    items = parts.outbox.peek()
    assert [i.kind for i in items] == ["drift_run"] * 4
    assert items[-1].payload["tags"]["driftwarden.window_files"] == "w0.csv,w1.csv,w2.csv"
    [checked] = built.events.of(ev.WindowDriftChecked)
    assert checked.files == 3 and checked.model == "test-model"
    assert Path(items[-1].payload["html_path"]).is_file()  # written before it was queued


def test_validation_without_a_model_is_skipped(tmp_path: Path, built: InProcessDaemon) -> None:
    parts = built.parts
    parts.keeper.files.handle(write_csv(tmp_path / "drop" / "l.csv", sample_frame(100, seed=1)))
    parts.keeper.windows.validation("test")
    assert [c["kind"] for c in parts.ledger.checks()] == ["drift"]
    [skipped] = built.events.of(ev.ValidationSkipped)
    assert skipped.reason == "test" and skipped.why == "no production model loaded"


def test_alert_tick_fires_stale_and_records_it(built: InProcessDaemon) -> None:
    parts = built.parts
    parts.keeper.alerts.rules.cfg.stale_after_seconds = 0.001
    alert_tick(parts.keeper.alerts, parts.ledger, parts.outbox)
    [alert] = parts.ledger.alerts()
    assert alert["rule"] == "stale" and alert["status"] == "firing"
    [notified] = built.events.of(ev.AlertNotified)
    assert notified.rule == "stale" and notified.alertname == "DriftwardenStale"
