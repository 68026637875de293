"""A real `mlflow server` stopped mid-run and restarted: checks go on, every check is logged once, in order.

The daemon runs in process (its real outbox and writer thread) against the server.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from driftwarden.events import types as ev
from driftwarden.state.sqlite import SqliteLedger
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_server import MlflowServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_mlflow_outage_delays_writes_but_loses_and_repeats_none(
    tmp_path: Path, start_daemon: Callable[..., InProcessDaemon]
) -> None:
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
    try:
        running = start_daemon(config)
        # The writer's backoff doubles up to 60 s while MLflow is down; capped at 2 s here so
        # the test does not wait out a long backoff after the restart (Backoff has its own test).
        running.parts.flusher.backoff.cap = 2.0
        outbox = running.parts.outbox
        for i in range(3):
            write_csv(drop / f"up-{i}.csv", sample_frame(150, seed=i))
        running.wait(ev.OutboxWritten, count=3, timeout=90)
        server.stop()
        for i in range(4):
            write_csv(drop / f"down-{i}.csv", sample_frame(150, seed=10 + i))
        # Checks, the ledger and the files go on while MLflow is down.
        running.wait(ev.FileChecked, count=7, timeout=60)
        running.wait(ev.MlflowUnreachable, timeout=60)
        assert outbox.pending() == 4
        deadline = time.monotonic() + 30  # each file moves right after its check is announced
        while len(list((drop / "processed").iterdir())) < 7:
            assert time.monotonic() < deadline, "the checked files were not all moved"
            time.sleep(0.05)
        server.start()
        running.wait(ev.MlflowReachable, timeout=120)
        running.wait(ev.OutboxWritten, count=7, timeout=120)
        deadline = time.monotonic() + 30
        while outbox.pending():
            assert time.monotonic() < deadline, "the outbox never drained"
            time.sleep(0.1)
        running.stop()
        from mlflow.tracking import MlflowClient

        with warnings.catch_warnings():  # read back what the server holds
            warnings.simplefilter("ignore")
            client = MlflowClient(server.url)
            experiment = client.get_experiment_by_name("outage")
            runs = client.search_runs(
                [experiment.experiment_id], order_by=["attributes.start_time ASC"]
            )
    finally:
        server.stop()
    keys = [run.data.tags["driftwarden.outbox_key"] for run in runs]
    ledger = SqliteLedger.open(tmp_path / "state" / "ledger.db", readonly=True)
    try:
        checks = sorted(ledger.checks(), key=lambda c: c["id"])
    finally:
        ledger.close()
    assert len(keys) == len(set(keys)) == 7, "a check logged twice or lost"
    assert keys == [c["outbox_key"] for c in checks], "MLflow runs not in check order"
    assert all(run.info.status == "FINISHED" for run in runs)
