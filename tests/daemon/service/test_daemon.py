"""The started daemon, in process: what it announces, its endpoints, the parts it starts and stops."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from driftwarden.daemon.jobs.queue import Job
from driftwarden.errors import LeaseLost
from driftwarden.events import types as ev
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon

Start = Callable[..., InProcessDaemon]


def test_ready_and_health_endpoints_and_metrics(tmp_path: Path, start_daemon: Start) -> None:
    running = start_daemon(daemon_config(tmp_path))
    [ready] = running.events.of(ev.DaemonReady)
    assert ready.metrics_url == running.url and ready.watching == str(tmp_path / "drop")
    assert running.get("/readyz")[0] == 200
    assert running.get("/healthz")[0] == 200
    write_csv(tmp_path / "drop" / "m.csv", sample_frame(100, seed=2))
    running.checked("m.csv")
    deadline = time.monotonic() + 30  # counted once the check's alerts are done, then moved
    while 'driftwarden_files_total{outcome="processed"} 1.0' not in running.get("/metrics")[1]:
        assert time.monotonic() < deadline, "the processed file was never counted"
        time.sleep(0.05)
    status, body = running.get("/metrics")
    assert status == 200
    assert 'driftwarden_checks_total{kind="drift",model="test-model",outcome="ok"} 1.0' in body


def test_the_parts_start_in_order_and_stop_in_reverse(tmp_path: Path, start_daemon: Start) -> None:
    running = start_daemon(daemon_config(tmp_path))
    started = running.daemon.lifecycle.names
    assert started == ["state", "http", "alerts", "outbox", "keepers", "scheduler", "systemd"]
    watched = {"http", "alerts", "outbox", "scheduler"}
    per_model = {"jobs:test-model", "retrain:test-model", "watcher:test-model"}
    deadline = time.monotonic() + 30  # "main": the loop's heartbeat, from its first tick on,
    while "main" not in running.parts.health.health().components:  # which follows on_started
        assert time.monotonic() < deadline, "the main loop never beat"
        time.sleep(0.05)
    assert set(running.parts.health.health().components) == watched | per_model | {"main"}
    running.stop()
    assert running.daemon.lifecycle.names == []
    assert isinstance(running.events.events[-1], ev.DaemonStopped)
    assert not running.parts.keeper.worker.is_alive()
    assert not running.parts.intake.is_alive("test-model")
    assert not running.parts.keeper.retrain.is_alive()
    assert running.events.of(ev.StillBusyAtStop) == []


def test_a_job_refused_by_the_lease_fence_is_not_counted_as_a_failed_check(
    tmp_path: Path, start_daemon: Start
) -> None:
    """A lease lost mid-job means another instance redoes the job: no check error.

    The refusal itself needs two instances racing for one lease (tests/daemon/ownership);
    here the worker's error handler is given the error the fence raises.
    """
    running = start_daemon(daemon_config(tmp_path))
    worker = running.parts.keeper.worker
    job = Job("file", tmp_path / "drop" / "x.csv")
    errors = 'driftwarden_checks_total{kind="drift",model="test-model",outcome="error"} 1.0'
    worker.on_error(job, LeaseLost("test-model", "its lease went to instance b"))
    assert errors not in running.get("/metrics")[1]
    worker.on_error(job, RuntimeError("a check that really failed"))
    assert errors in running.get("/metrics")[1]
