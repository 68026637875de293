"""Cycle paths that end before any MLflow call: config errors, cooldown and single-flight skips."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from driftwarden.cli import main
from driftwarden.config.load import load_settings
from driftwarden.errors import ConfigError
from driftwarden.remediation.cycle import run_cycle
from driftwarden.remediation.decision import Decision
from driftwarden.remediation.policy import CycleLock
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


def test_cooldown_skips_without_starting_and_is_recorded(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, cooldown_seconds=600.0))
    lock = CycleLock(settings.state.directory)
    lock.mark_started("earlier", now=time.time() - 100)
    lock.mark_finished("rejected", now=time.time() - 60)
    seen: list[Decision] = []
    decision = run_cycle(settings, "drift again", trigger="drift", on_decision=seen.append)
    assert decision.outcome == "skipped_cooldown"
    assert decision.cooldown_left_seconds == pytest.approx(540, abs=5)
    assert seen == [decision]
    assert lock.read_state().last_cycle_id == "earlier"  # a skip does not restart the cooldown
    assert '"skipped_cooldown"' in lock.history_path.read_text()


def test_a_held_lock_means_skipped_running(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path))
    with CycleLock(settings.state.directory).hold() as held:
        assert held
        decision = run_cycle(settings, "breach")
    assert decision.outcome == "skipped_running"
    assert decision.run_id is None


def test_retrain_command_exits_1_and_prints_a_skip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, cooldown_seconds=600.0)
    CycleLock(load_settings(path).state.directory).mark_started("earlier")
    assert main(["retrain", "--config", str(path), "--reason", "by hand"]) == 1
    assert capsys.readouterr().out.startswith("skipped_cooldown:")


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
