"""An unknown key suggests the nearest valid key of its table, or lists the valid ones.

It used to point at `config/driftwarden.example.toml`, a repository path a pip user does not
have. The same line reaches `config check`, `run` and a SIGHUP reload's log.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from driftwarden.config import load_settings
from driftwarden.config.model import MetricsConfig
from driftwarden.errors import ConfigError
from tests.config.test_load import config_check, write
from tests.support.daemon_proc import DaemonProcess, daemon_config


def _error(tmp_path: Path, text: str) -> str:
    cfg = write(tmp_path / "dw.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    message = str(info.value)
    assert message.startswith(f"{cfg}: ") and len(message.splitlines()) == 1, message
    assert "example.toml" not in message
    return message.removeprefix(f"{cfg}: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[drift]\nalpah = 0.01\n",
            "drift.alpah: unknown key 'alpah' in [drift]; did you mean 'alpha'?",
        ),
        (
            "[schedule.drift]\nintervall_seconds = 60\n",
            "schedule.drift.intervall_seconds: unknown key 'intervall_seconds' in "
            "[schedule.drift]; did you mean 'interval_seconds'?",
        ),
        (
            '[alerts]\nsinks = ["log"]\n[alerts.webhook]\nurl = "http://x"\nsecret_evn = "S"\n',
            "alerts.webhook.secret_evn: unknown key 'secret_evn' in [alerts.webhook]; "
            "did you mean 'secret_env'?",
        ),
        (
            "[drfit]\nalpha = 0.01\n",
            "drfit: unknown table 'drfit' at the top level; did you mean [drift]?",
        ),
        ("alpha = 0.01\n", "alpha: unknown key 'alpha' at the top level; valid: [mlflow]"),
    ],
)
def test_the_nearest_valid_key_is_suggested(tmp_path: Path, text: str, expected: str) -> None:
    assert _error(tmp_path, text).startswith(expected)


def test_without_a_close_key_the_valid_keys_are_listed(tmp_path: Path) -> None:
    message = _error(tmp_path, "[metrics]\nlisten = 1\n")
    assert message.startswith("metrics.listen: unknown key 'listen' in [metrics]; valid: ")
    listed = message.split("valid: ", 1)[1].split(", ")
    assert listed == [f"'{key}'" for key in MetricsConfig.model_fields]


def test_config_check_prints_the_suggestion_on_one_line(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", "[drift]\nalpah = 0.01\n")
    proc = config_check(cfg, tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"driftwarden config check: {cfg}: drift.alpah: unknown key 'alpah' in [drift]; "
        "did you mean 'alpha'?"
    ]


@pytest.mark.integration
def test_a_sighup_with_a_misspelled_key_logs_the_suggestion(tmp_path: Path) -> None:
    """The real daemon, the real signal: the refusal in its log names the key to use."""
    config = daemon_config(tmp_path, metrics={"enabled": False})
    daemon = DaemonProcess(config).start()
    try:
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("settle_seconds", "setle_seconds"), encoding="utf-8")
        os.kill(daemon.pid, signal.SIGHUP)
        [refused] = daemon.wait_for(
            lambda e: e.get("event") == "reload_refused",
            what="reload refused",
        )
        assert "watch.setle_seconds: unknown key 'setle_seconds' in [watch]" in refused["reason"]
        assert "did you mean 'settle_seconds'?" in refused["reason"]
        assert "example.toml" not in refused["reason"]
    finally:
        assert daemon.process is not None
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(timeout=30) == 0
