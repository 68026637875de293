"""Alerts firing when the daemon stopped are still open after a restart, and resolve later.

The daemon runs in process (real ledger, endpoint, watch and worker); the first run's alert
is recorded in the ledger as the running daemon would record it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from driftwarden.config import load_settings
from driftwarden.events import types as ev
from driftwarden.state import engine_for
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon


def test_a_drift_alert_open_at_stop_resolves_after_the_restart(
    tmp_path: Path, start_daemon: Callable[..., InProcessDaemon]
) -> None:
    config = daemon_config(tmp_path, alerts={"drift_consecutive": 1})
    before = engine_for(load_settings(config, env={})).ledger()
    labels = {
        "alertname": "DriftwardenDatasetDrift",
        "model": "test-model",
        "rule": "dataset_drift",
    }
    before.record_alert("test-model", "dataset_drift", "firing", "warning", "drift", labels)
    before.close()

    running = start_daemon(config)
    [restored] = running.events.of(ev.AlertsRestored)
    assert restored.rules == ("dataset_drift",)
    assert running.parts.keeper.alerts.rules.firing() == [("dataset_drift", "")]
    write_csv(tmp_path / "drop" / "clean.csv", sample_frame(300, seed=7))
    [resolved] = running.wait(ev.AlertNotified, lambda e: e.status == "resolved")
    assert resolved.rule == "dataset_drift"
    assert [a["status"] for a in running.parts.ledger.alerts()] == ["resolved", "firing"]
