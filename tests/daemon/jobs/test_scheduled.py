"""Scheduled checks over recent drops, in process."""

from __future__ import annotations

from pathlib import Path

from driftwarden.daemon.intake.files import NameFilter
from driftwarden.daemon.jobs.context import DaemonContext
from driftwarden.daemon.jobs.file_job import FileProcessor
from driftwarden.daemon.jobs.scheduled import alert_tick, scheduled_validation, window_drift
from tests.support.daemon_proc import sample_frame, write_csv


def test_window_drift_stacks_recent_drops(
    tmp_path: Path, context: tuple[DaemonContext, NameFilter]
) -> None:
    ctx, names = context
    window_drift(ctx)  # nothing yet: skipped, nothing recorded
    assert ctx.ledger.checks() == []
    processor = FileProcessor(ctx, names)
    for i in range(3):
        processor.handle(write_csv(tmp_path / "drop" / f"w{i}.csv", sample_frame(100, seed=i)))
    window_drift(ctx)
    window = [c for c in ctx.ledger.checks() if c["scope"] == "window"]
    assert len(window) == 1 and window[0]["summary"]["n_current"] == 300
    items = ctx.outbox.peek()
    assert [i.kind for i in items] == ["drift_run"] * 4
    assert items[-1].payload["tags"]["driftwarden.window_files"] == "w0.csv,w1.csv,w2.csv"


def test_validation_without_a_model_is_skipped(
    tmp_path: Path, context: tuple[DaemonContext, NameFilter]
) -> None:
    ctx, names = context
    FileProcessor(ctx, names).handle(
        write_csv(tmp_path / "drop" / "l.csv", sample_frame(100, seed=1))
    )
    scheduled_validation(ctx, "test")
    assert [c["kind"] for c in ctx.ledger.checks()] == ["drift"]


def test_alert_tick_fires_stale_and_records_it(context: tuple[DaemonContext, NameFilter]) -> None:
    ctx, _ = context
    assert ctx.rules is not None
    ctx.rules.cfg.stale_after_seconds = 0.001
    alert_tick(ctx)
    [alert] = ctx.ledger.alerts()
    assert alert["rule"] == "stale" and alert["status"] == "firing"
