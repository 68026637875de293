"""The registry watcher in a real daemon: a moved alias brings the new model and its reference into force.

The daemon runs in process (real parts, real sqlite MLflow store); SIGUSR1 is the flag its
handler sets (the subprocess tests send real signals).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from driftwarden.events import types as ev
from driftwarden.state.sqlite import SqliteLedger
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.models import register_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "test-model"


def test_alias_moves_bring_model_and_reference_into_force(
    tmp_path: Path, start_daemon: Callable[..., InProcessDaemon]
) -> None:
    state = tmp_path / "state"
    first = sample_frame(300, seed=1)
    assert register_model(state, first, MODEL, training_data=True) == "1"
    config = daemon_config(
        tmp_path,
        reference={"source": "model"},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 1.0}},
    )
    running = start_daemon(config)
    drop = tmp_path / "drop"
    running.wait(ev.ModelInForce, lambda e: e.version == "1", timeout=90)
    [reference] = running.events.of(ev.ReferenceInForce)
    assert reference.source == "model version 1"
    write_csv(drop / "labelled-1.csv", sample_frame(200, seed=2))
    checked = running.checked("labelled-1.csv", timeout=60)
    assert checked.validation is not None and "accuracy" in checked.validation
    # Someone moves the alias (a new version trained on shifted data).
    assert (
        register_model(state, sample_frame(300, seed=3, shift=1.0), MODEL, training_data=True)
        == "2"
    )
    [moved] = running.wait(ev.ModelMoved, lambda e: e.version == "2", timeout=60)
    assert moved.previous == "1" and moved.via == "alias production"
    running.wait(ev.ModelInForce, lambda e: e.version == "2", timeout=60)
    running.wait(ev.ValidationChecked, lambda e: "version 2" in e.reason, timeout=60)
    # The reference is now version 2's training data: a shifted drop no longer drifts in x1.
    write_csv(drop / "shifted.csv", sample_frame(300, seed=4, shift=1.0))
    shifted = running.checked("shifted.csv", timeout=60)
    assert "x1" not in shifted.drifted_features
    running.stop()
    assert len(running.events.of(ev.ModelInForce)) == 2
    ledger = SqliteLedger.open(state / "ledger.db", readonly=True)
    try:
        assert ledger.last_model_version(MODEL)["version"] == "2"  # type: ignore[index]
        checks = ledger.checks()
        validation = [c for c in checks if c["kind"] == "validation" and c["scope"] == "scheduled"]
        assert validation and validation[0]["model_version"] == "2"
        shifted_rows = [
            c
            for c in checks
            if c["summary"].get("driftwarden.file") == "shifted.csv" and c["kind"] == "drift"
        ]
        assert shifted_rows and "x1" not in shifted_rows[0]["summary"]["drifted_features"]
        assert shifted_rows[0]["model_version"] == "2"
    finally:
        ledger.close()


def test_sigusr1_asks_for_a_registry_poll_at_once(
    tmp_path: Path, start_daemon: Callable[..., InProcessDaemon]
) -> None:
    """The SIGUSR1 flag becomes a poll on the next tick (no schedule, no MLflow model: the
    poll finds no production model)."""
    register_model(tmp_path / "state", sample_frame(100, seed=1), "another-model")
    running = start_daemon(daemon_config(tmp_path), loop=False)
    running.daemon.flags.poll = True  # what the SIGUSR1 handler sets
    running.daemon.tick(0.0)
    [absent] = running.wait(ev.NoProductionModel, timeout=60)
    assert absent.model == MODEL and absent.alias == "production"
