"""A real `mlflow server` stopped mid-run and restarted: checks go on, every check is logged once, in order."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from driftwarden.outbox.queue import Outbox
from driftwarden.state.sqlite.ledger import Ledger
from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv
from tests.support.mlflow_server import MlflowServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _checked(event: dict[str, object]) -> bool:
    return str(event.get("msg", "")).startswith("file checked")


def test_mlflow_outage_delays_writes_but_loses_and_repeats_none(tmp_path: Path) -> None:
    server = MlflowServer(tmp_path / "mlflow")
    server.start()
    config = daemon_config(
        tmp_path,
        mlflow={
            "tracking_uri": server.url,
            "experiment_name": "outage",
            "http_request_max_retries": 0,
            "http_request_timeout_seconds": 2.0,
        },
    )
    drop = tmp_path / "drop"
    outbox = Outbox(tmp_path / "state" / "outbox.db")
    daemon = DaemonProcess(config).start()
    try:
        for i in range(3):
            write_csv(drop / f"up-{i}.csv", sample_frame(150, seed=i))
        daemon.wait_for(
            lambda e: e.get("msg") == "logged to MLflow", count=3, timeout=90, what="3 writes"
        )
        server.stop()
        for i in range(4):
            write_csv(drop / f"down-{i}.csv", sample_frame(150, seed=10 + i))
        # Checks, the ledger and the files go on while MLflow is down.
        daemon.wait_for(_checked, count=7, timeout=60, what="checks during the outage")
        daemon.wait_until(lambda: outbox.pending() == 4, timeout=30, what="4 writes waiting")
        assert len(list((drop / "processed").iterdir())) == 7
        server.start()
        daemon.wait_until(lambda: outbox.pending() == 0, timeout=120, what="the outbox to drain")
    finally:
        assert daemon.stop() == 0
        server.stop()
    server.start()  # read back what the server holds
    try:
        from mlflow.tracking import MlflowClient

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = MlflowClient(server.url)
            experiment = client.get_experiment_by_name("outage")
            runs = client.search_runs(
                [experiment.experiment_id], order_by=["attributes.start_time ASC"]
            )
    finally:
        server.stop()
    keys = [run.data.tags["driftwarden.outbox_key"] for run in runs]
    ledger = Ledger.open(tmp_path / "state" / "ledger.db", readonly=True)
    try:
        checks = sorted(ledger.checks(), key=lambda c: c["id"])
    finally:
        ledger.close()
    assert len(keys) == len(set(keys)) == 7, "a check logged twice or lost"
    assert keys == [c["outbox_key"] for c in checks], "MLflow runs not in check order"
    assert all(run.info.status == "FINISHED" for run in runs)
