"""`config check` refuses everything `run` would refuse (issue 10, item 8).

Each case goes through `driftwarden config check` (exit 2, one line naming the key) and
through what `run` uses: the loader for rules of the file alone, `check_runnable` for rules
that need the environment; where it is harmless, the real `driftwarden run` too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftwarden.config import load_settings
from driftwarden.config.runnable import check_runnable, runnable_problems
from driftwarden.errors import ConfigError
from tests.config.test_load import config_check
from tests.support.daemon_proc import daemon_config

DRIFTWARDEN = Path(sys.executable).parent / "driftwarden"


def _config(root: Path, **sections: dict[str, Any]) -> Path:
    """The daemon tests' small config (drop dir, state dir, reference file), endpoint off."""
    sections.setdefault("metrics", {"enabled": False})
    return daemon_config(root, **sections)


def _run(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real `driftwarden run`; a daemon that starts instead of refusing fails the test."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DW_"))}
    full_env.update(env or {})
    try:
        return subprocess.run(
            [str(DRIFTWARDEN), "run", "--config", str(config)],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=60,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"`run` started instead of refusing {config}") from exc


def _refused_by_config_check(config: Path, tmp_path: Path, key: str) -> str:
    proc = config_check(config, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"driftwarden config check: {config}: {key}: "), line
    return line.removeprefix("driftwarden config check: ")


def test_a_good_config_passes_both(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert config_check(config, tmp_path).returncode == 0
    assert runnable_problems(load_settings(config, env={}), env={}) == []


# --- rules of the file alone: the loader, which `run` and a SIGHUP reload call ----------


def _file_cases(root: Path) -> dict[str, tuple[dict[str, Any], str]]:
    drop = str(root / "drop")
    return {
        "interval 1e308": (
            {"schedule": {"drift": {"enabled": True, "interval_seconds": 1e308}}},
            "schedule.drift.interval_seconds",
        ),
        "quarantine is the watch path": (
            {"watch": {"quarantine_dir": drop}},
            "watch.quarantine_dir",
        ),
        "processed holds the watch path": (
            {"watch": {"processed_dir": str(root)}},
            "watch.processed_dir",
        ),
        "inf settle time": ({"watch": {"settle_seconds": float("inf")}}, "watch.settle_seconds"),
        "nan alert age": (
            {"alerts": {"stale_after_seconds": float("nan")}},
            "alerts.stale_after_seconds",
        ),
        "watch path in another's processed dir": (
            {"watch": {"paths": [drop, f"{drop}/processed"]}},
            "watch.paths[1]",
        ),
    }


FILE_CASES = sorted(_file_cases(Path("/x")))


@pytest.mark.slow
@pytest.mark.parametrize("case", FILE_CASES)
def test_file_rules_refused_by_config_check_and_run(tmp_path: Path, case: str) -> None:
    sections, key = _file_cases(tmp_path)[case]
    config = _config(tmp_path, **sections)
    line = _refused_by_config_check(config, tmp_path, key)
    with pytest.raises(ConfigError) as info:
        load_settings(config, env={})
    assert str(info.value) == line
    proc = _run(config)
    assert proc.returncode == 2, proc.stderr
    assert f"driftwarden run: {line}" in proc.stderr


@pytest.mark.parametrize(
    ("sections", "key"),
    [
        ({"watch": {"paths": ["/"]}}, "watch.paths[0]"),
        ({"watch": {"processed_dir": "/"}}, "watch.processed_dir"),
        ({"watch": {"quarantine_dir": "/"}}, "watch.quarantine_dir"),
    ],
)
def test_the_root_as_a_drop_or_destination_is_refused(
    tmp_path: Path, sections: dict[str, Any], key: str
) -> None:
    """Through the loader only: a daemon built without the rule would scan or fill `/`."""
    config = _config(tmp_path, **sections)
    line = _refused_by_config_check(config, tmp_path, key)
    assert "file system root" in line
    with pytest.raises(ConfigError) as info:
        load_settings(config, env={})
    assert str(info.value) == line


# --- rules that need the environment: check_runnable -----------------------------------


def _env_cases(root: Path) -> dict[str, tuple[dict[str, Any], str]]:
    return {
        "secret_env unset": (
            {
                "alerts": {
                    "sinks": ["log", "webhook"],
                    "webhook": {"url": "http://127.0.0.1:9/hook", "secret_env": "DW_UNSET_SECRET"},
                }
            },
            "alerts.webhook.secret_env",
        ),
        "alertmanager password_env unset": (
            {
                "alerts": {
                    "sinks": ["log", "alertmanager"],
                    "alertmanager": {
                        "url": "http://127.0.0.1:9",
                        "username": "ops",
                        "password_env": "DW_UNSET_AM_PASSWORD",
                    },
                }
            },
            "alerts.alertmanager.password_env",
        ),
        "watch path under a file": (
            {"watch": {"paths": [str(root / "a-file" / "drop")]}},
            "watch.paths[0]",
        ),
        "reference missing": (
            {"reference": {"path": str(root / "missing.csv")}},
            "reference.path",
        ),
        "reference is a directory": ({"reference": {"path": str(root)}}, "reference.path"),
        "metrics address does not resolve": (
            {"metrics": {"enabled": True, "address": "no-such-host.invalid"}},
            "metrics.address",
        ),
        "state directory under a file": (
            {"state": {"directory": str(root / "a-file" / "state")}},
            "state.directory",
        ),
    }


ENV_CASES = sorted(_env_cases(Path("/x")))


def _env_case(root: Path, case: str) -> tuple[dict[str, Any], str]:
    (root / "a-file").write_text("not a directory\n")
    return _env_cases(root)[case]


@pytest.mark.parametrize("case", ENV_CASES)
def test_environment_rules_refused_by_config_check_and_check_runnable(
    tmp_path: Path, case: str
) -> None:
    sections, key = _env_case(tmp_path, case)
    config = _config(tmp_path, **sections)
    line = _refused_by_config_check(config, tmp_path, key)
    settings = load_settings(config, env={})
    with pytest.raises(ConfigError) as info:
        check_runnable(settings, env={}, where=str(config))
    assert str(info.value) == line


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        "secret_env unset",
        "alertmanager password_env unset",
        "watch path under a file",
        "reference missing",
        "reference is a directory",
        "metrics address does not resolve",
        "state directory under a file",
    ],
)
def test_run_refuses_the_same_environment(tmp_path: Path, case: str) -> None:
    sections, key = _env_case(tmp_path, case)
    config = _config(tmp_path, **sections)
    line = _refused_by_config_check(config, tmp_path, key)
    proc = _run(config)
    assert proc.returncode == 2, proc.stderr[-2000:]
    # run refuses with the very line `config check` prints, before it creates anything
    assert proc.stderr.strip().splitlines()[-1] == f"driftwarden run: {line}"


def test_a_set_secret_passes(tmp_path: Path) -> None:
    sections, _ = _env_case(tmp_path, "secret_env unset")
    config = _config(tmp_path, **sections)
    proc = config_check(config, tmp_path, {"DW_UNSET_SECRET": "s3cr3t-value"})
    assert proc.returncode == 0, proc.stderr
    assert "s3cr3t-value" not in proc.stdout + proc.stderr


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    config = _config(
        tmp_path,
        watch={"paths": [str(tmp_path / "a-file" / "drop")]},
        reference={"path": str(tmp_path / "missing.csv")},
    )
    problems = runnable_problems(load_settings(config, env={}), env={})
    assert [p.split(":")[0] for p in problems] == ["watch.paths[0]", "reference.path"]


def test_config_check_creates_nothing(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        watch={"paths": [str(tmp_path / "new" / "drop")]},
        state={"directory": str(tmp_path / "new" / "state")},
    )
    assert config_check(config, tmp_path).returncode == 0
    assert not (tmp_path / "new").exists()
