"""Alerts firing when the daemon stopped are still open after a restart, and resolve later.

The daemon runs in process (real ledger, endpoint, watch and worker); the first run's alert
is recorded in the ledger as the running daemon would record it.
"""

from __future__ import annotations

import time
from pathlib import Path

from driftwarden.config import load_settings
from driftwarden.daemon.jobs.queue import Job
from driftwarden.daemon.service.daemon import Daemon
from driftwarden.state.paths import state_paths
from driftwarden.state.sqlite.ledger import Ledger
from tests.support.daemon_proc import daemon_config, sample_frame


def test_a_drift_alert_open_at_stop_resolves_after_the_restart(tmp_path: Path) -> None:
    config = daemon_config(tmp_path, alerts={"drift_consecutive": 1})
    settings = load_settings(config, env={})
    ledger_path = state_paths(settings)["ledger"]
    ledger_path.parent.mkdir(parents=True)
    before = Ledger.open(ledger_path)
    labels = {
        "alertname": "DriftwardenDatasetDrift",
        "model": "test-model",
        "rule": "dataset_drift",
    }
    before.record_alert("test-model", "dataset_drift", "firing", "warning", "drift", labels)
    before.close()

    daemon = Daemon(settings, config)
    daemon.start()
    try:
        assert daemon.ctx is not None and daemon.ctx.rules is not None
        assert daemon.ctx.rules.firing() == [("dataset_drift", "")]
        sample_frame(300, seed=7).to_csv(tmp_path / "drop" / "clean.csv", index=False)
        deadline = time.monotonic() + 30
        resolved: list[dict[str, object]] = []
        while time.monotonic() < deadline and not resolved:
            daemon.flags.sleep(0.2)
            assert daemon.tracker is not None
            for path in daemon.tracker.due():  # what Daemon.loop does on each tick
                daemon.jobs.put(Job("file", path, "complete"))
            resolved = [a for a in daemon.ctx.ledger.alerts() if a["status"] == "resolved"]
    finally:
        daemon.stop()
    assert resolved and resolved[0]["rule"] == "dataset_drift"
