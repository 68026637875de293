"""Cycle paths that end before any MLflow call: config errors, cooldown and single-flight skips."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from driftwarden.cli import main
from driftwarden.config.load import load_settings
from driftwarden.config.model import Settings
from driftwarden.errors import ConfigError
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.remediation.cycle import run_cycle
from driftwarden.remediation.policy import CycleLock
from driftwarden.state import open_ledger
from tests.remediation.fixtures import EXAMPLE_PROJECT, write_config


def config(tmp_path: Path, **retrain: object) -> Path:
    return write_config(
        tmp_path / "dw.toml",
        {
            "state": {"directory": str(tmp_path / "state")},
            "retrain": {"project_uri": str(EXAMPLE_PROJECT), **retrain},
        },
    )


def test_missing_project_is_a_config_error(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path / "dw.toml", {"state": {"directory": "s"}}))
    with pytest.raises(ConfigError, match=r"retrain\.project_uri"):
        run_cycle(settings)


def _trained_earlier(settings: Settings, seconds_ago: float) -> None:
    """A cycle that trained and ended ``seconds_ago`` (its ledger row)."""
    ledger = open_ledger(settings)
    row = ledger.record_retrain(settings.model.name, "earlier", "drift")
    ledger.finish_retrain(row, "rejected")
    ledger.close()
    _age_retrains(settings, seconds_ago)


def _age_retrains(settings: Settings, seconds: float) -> None:
    import sqlite3

    conn = sqlite3.connect(settings.state.directory / "ledger.db")
    conn.execute(
        "UPDATE retrains SET started_at = started_at - ?, finished_at = finished_at - ?,"
        " training_started_at = training_started_at - ?",
        (seconds, seconds, seconds),
    )
    conn.commit()
    conn.close()


def test_cooldown_skips_without_starting_and_is_recorded(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, cooldown_seconds=600.0))
    _trained_earlier(settings, 60)
    events = Recorder()
    decision = run_cycle(settings, "drift again", trigger="drift", publish=events)
    assert decision.outcome == "skipped_cooldown"
    assert decision.cooldown_left_seconds == pytest.approx(540, abs=5)
    [decided] = events.of(ev.RetrainDecided)
    assert decided.outcome == "skipped_cooldown" and decided.cycle_id == decision.cycle_id
    ledger = open_ledger(settings, readonly=True)
    try:
        last = ledger.last_retrain(settings.model.name)
        assert last is not None and last["status"] == "skipped_cooldown"
        assert last["reason"] == "drift again" and last["detail"]["cycle_id"] == decision.cycle_id
        # A skip does not restart the cooldown.
        assert ledger.last_training_activity(settings.model.name) == pytest.approx(
            time.time() - 60, abs=5
        )
    finally:
        ledger.close()


def test_a_held_lock_means_skipped_running(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path))
    with CycleLock(settings.state.directory, settings.model.name).hold() as held:
        assert held
        decision = run_cycle(settings, "breach")
    assert decision.outcome == "skipped_running"
    assert decision.run_id is None
    ledger = open_ledger(settings, readonly=True)
    try:
        last = ledger.last_retrain(settings.model.name)
        assert last is not None and last["status"] == "skipped_running"
    finally:
        ledger.close()


def test_retrain_command_exits_1_prints_a_skip_and_records_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, cooldown_seconds=600.0)
    settings = load_settings(path)
    _trained_earlier(settings, 10)
    assert main(["retrain", "--config", str(path), "--reason", "by hand"]) == 1
    assert capsys.readouterr().out.startswith("skipped_cooldown:")
    ledger = open_ledger(settings, readonly=True)
    try:
        last = ledger.last_retrain(settings.model.name)
        assert last is not None and last["status"] == "skipped_cooldown"
        assert last["trigger"] == "manual" and last["reason"] == "by hand"
    finally:
        ledger.close()


def test_retrain_without_project_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path / "dw.toml", {"state": {"directory": "s"}})
    assert main(["retrain", "--config", str(path)]) == 2
    assert "retrain.project_uri" in capsys.readouterr().err


def test_old_cycle_work_directories_are_pruned(tmp_path: Path) -> None:
    from driftwarden.remediation.cycle import _prune_cycle_dirs

    for i in range(13):
        (tmp_path / f"20261126T0000{i:02d}Z-abcd").mkdir()
    _prune_cycle_dirs(tmp_path, keep=10)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 10 and left[0] == "20261126T000003Z-abcd"
