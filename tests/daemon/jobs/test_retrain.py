"""The daemon's retrain wiring: breach -> run_cycle -> ledger, metrics, alert (a failing project).

The daemon is built, not started: its retrain runner is driven directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from driftwarden.events import types as ev
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_server import free_port
from tests.support.mlflow_store import prepare_default_store

Build = Callable[..., InProcessDaemon]


def test_breaches_are_ignored_when_retraining_is_off(built: InProcessDaemon) -> None:
    runner = built.parts.keeper.retrain
    runner.request("drift", {})
    assert runner._pending is None


def test_a_failed_cycle_is_recorded_counted_and_alerted(tmp_path: Path, build: Build) -> None:
    """MLflow is unreachable (nothing listens on its port): the cycle fails at its first call.
    (A training run that fails is in tests/integration/test_remediation_cycle.py.)"""
    daemon = build(
        tmp_path,
        mlflow={
            "tracking_uri": f"http://127.0.0.1:{free_port()}",
            "http_request_max_retries": 0,
            "http_request_timeout_seconds": 1.0,
        },
        retrain={"enabled": True, "project_uri": str(tmp_path), "cooldown_seconds": 0},
    )
    ctx = daemon.parts
    runner = ctx.keeper.retrain
    runner.request("drift", {"drifted_features": ["x1"]})
    assert runner._pending == ("drift", {"drifted_features": ["x1"]})
    decision = runner.run_one("drift", {"drifted_features": ["x1"]})
    assert decision.outcome == "failed" and decision.error == "MlflowUnavailable"
    [decided] = daemon.events.of(ev.RetrainDecided)
    assert decided.outcome == "failed" and decided.cycle_id == decision.cycle_id
    last = ctx.ledger.last_retrain("test-model")
    assert last is not None and last["status"] == "failed" and last["trigger"] == "drift"
    assert last["detail"]["cycle_id"] == decision.cycle_id
    assert ctx.ledger.retrain_running() is None
    value = ctx.metrics.registry.get_sample_value(
        "driftwarden_retrains_total", {"model": "test-model", "outcome": "failed"}
    )
    assert value == 1
    assert [a["rule"] for a in ctx.ledger.alerts()] == ["retrain_failed"]


RETRAIN_ON = {"enabled": True, "project_uri": "/nonexistent/project", "cooldown_seconds": 0}


def test_a_breach_joining_a_waiting_request_is_recorded_as_skipped_running(
    tmp_path: Path, build: Build
) -> None:
    daemon = build(tmp_path, retrain=RETRAIN_ON)
    ctx = daemon.parts
    runner = ctx.keeper.retrain  # not started: the first request stays waiting

    runner.request("validation", {"breached": {"accuracy": 0.5}})
    runner.request("validation", {"breached": {"accuracy": 0.4}})
    runner.request("drift", {"drifted_features": ["x1"]})

    assert runner._pending == ("validation", {"breached": {"accuracy": 0.5}})
    last = ctx.ledger.last_retrain("test-model")
    assert last is not None and last["status"] == "skipped_running"
    assert last["trigger"] == "drift"
    value = ctx.metrics.registry.get_sample_value(
        "driftwarden_retrains_total", {"model": "test-model", "outcome": "skipped_running"}
    )
    assert value == 2
    assert [e.trigger for e in daemon.events.of(ev.RetrainJoined)] == ["validation", "drift"]


def test_labelled_paths_wait_for_the_move_of_the_drop_that_breached(
    tmp_path: Path, build: Build
) -> None:
    import threading

    ctx = build(tmp_path, retrain=RETRAIN_ON).parts
    runner = ctx.keeper.retrain
    drop = tmp_path / "drop" / "labelled.csv"
    drop.write_text("x1,target\n1,0\n")
    claim = ctx.ledger.begin_file(
        str(drop), str(drop.parent), "d1", 10, 1.0, model=ctx.keeper.model
    )  # the file job names whose drop it is
    ctx.ledger.finish_file(claim.file_id, "done", has_target=True)
    moved = drop.parent / "processed" / drop.name

    def move_later() -> None:  # the worker moves the file after publishing the breach
        moved.parent.mkdir()
        drop.rename(moved)
        ctx.ledger.mark_moved(claim.file_id, str(moved))

    timer = threading.Timer(0.3, move_later)
    timer.start()
    try:
        assert runner.labelled_paths(wait_seconds=10.0) == [moved]
    finally:
        timer.join()


@pytest.mark.slow
def test_a_cycle_cancelled_by_the_shutdown_is_recorded_but_not_alerted(
    tmp_path: Path, build: Build
) -> None:
    import threading
    import time

    project = tmp_path / "slow-project"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: slow\nentry_points:\n  main:\n    parameters:\n      data_path: string\n"
        "    command: sleep 120\n"
    )
    daemon = build(
        tmp_path,
        retrain={
            "enabled": True,
            "project_uri": str(project),
            "cooldown_seconds": 0,
            "timeout_seconds": 300,
        },
    )
    ctx = daemon.parts
    prepare_default_store(daemon.settings)
    runner = ctx.keeper.retrain
    decisions = []
    cycle = threading.Thread(target=lambda: decisions.append(runner.run_one("drift", {})))
    cycle.start()
    deadline = time.monotonic() + 120
    while ctx.ledger.retrain_running() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ctx.ledger.retrain_running() is not None, "the training run never started"
    runner.close()  # what the daemon's stop walk does
    cycle.join(60)
    assert not cycle.is_alive()
    [decision] = decisions
    assert decision.error == "Cancelled"
    last = ctx.ledger.last_retrain("test-model")
    assert last is not None and last["status"] == "failed"
    assert last["detail"]["error"] == "Cancelled"
    assert ctx.ledger.alerts() == []
    assert [e.cycle_id for e in daemon.events.of(ev.RetrainCancelled)] == [decision.cycle_id]
