"""The daemon's retrain wiring: breach -> run_cycle -> ledger, metrics, alert (a failing project)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwarden.daemon.retrain import RetrainRunner
from tests.daemon.conftest import make_context


def test_breaches_are_ignored_when_retraining_is_off(tmp_path: Path) -> None:
    ctx, _ = make_context(tmp_path)
    runner = RetrainRunner(ctx)
    runner.request("drift", {})
    assert runner._pending is None


@pytest.mark.slow
def test_a_failed_cycle_is_recorded_counted_and_alerted(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-project"
    missing.mkdir()  # a directory without an MLproject: `mlflow run` fails
    ctx, _ = make_context(
        tmp_path,
        retrain={
            "enabled": True,
            "project_uri": str(missing),
            "cooldown_seconds": 0,
            "timeout_seconds": 120,
        },
    )
    runner = RetrainRunner(ctx)
    runner.request("drift", {"drifted_features": ["x1"]})
    assert runner._pending == ("drift", {"drifted_features": ["x1"]})
    decision = runner.run_one("drift", {"drifted_features": ["x1"]})
    assert decision.outcome == "failed"
    last = ctx.ledger.last_retrain("test-model")
    assert last is not None and last["status"] == "failed" and last["trigger"] == "drift"
    assert last["detail"]["cycle_id"] == decision.cycle_id
    assert ctx.ledger.retrain_running() is None
    value = ctx.metrics.registry.get_sample_value(
        "driftwarden_retrains_total", {"model": "test-model", "outcome": "failed"}
    )
    assert value == 1
    assert [a["rule"] for a in ctx.ledger.alerts()] == ["retrain_failed"]
