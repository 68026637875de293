"""The [hooks] section: defaults, checks that name the key, no secret in the file, redaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftwarden.config import load_settings, redacted_dict
from driftwarden.errors import ConfigError

DRIFTWARDEN = Path(sys.executable).parent / "driftwarden"


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "driftwarden.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, env={})


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(None, env={})
    assert settings.hooks.enabled is False
    assert settings.hooks.secret_env == "DRIFTWARDEN_HOOKS_SECRET"
    assert settings.hooks.public_url is None
    assert settings.hooks.replay_window_seconds == 300.0
    assert settings.hooks.webhook_name == "driftwarden"


@pytest.mark.parametrize(
    ("line", "key", "says"),
    [
        ('secret_env = "not a name"', "hooks.secret_env", "environment variable name"),
        ('secret_env = "1ABC"', "hooks.secret_env", "environment variable name"),
        ('public_url = "ftp://host/hooks/mlflow"', "hooks.public_url", "http:// or https://"),
        ('public_url = "http:///hooks/mlflow"', "hooks.public_url", "with a host"),
        ("replay_window_seconds = 0", "hooks.replay_window_seconds", "must be > 0"),
        ('webhook_name = ""', "hooks.webhook_name", "at least 1"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, line: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f"[hooks]\n{line}\n")
    message = str(info.value)
    assert f": {key}: " in message and says in message


def test_a_secret_in_the_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, '[hooks]\nenabled = true\nsecret = "hunter2"\n')
    message = str(info.value)
    assert "hooks.secret must not be set in the file" in message
    assert "hunter2" not in message


def test_public_url_credentials_are_redacted(tmp_path: Path) -> None:
    settings = load(
        tmp_path, '[hooks]\npublic_url = "https://u:pw-123@dw.internal:9108/hooks/mlflow?t=x"\n'
    )
    shown = json.dumps(redacted_dict(settings))  # type: ignore[arg-type]
    assert "pw-123" not in shown and "t=x" not in shown
    assert "https://u:***@dw.internal:9108/hooks/mlflow?***" in shown


def test_config_check_shows_the_variable_name_never_the_secret(tmp_path: Path) -> None:
    config = tmp_path / "driftwarden.toml"
    config.write_text('[hooks]\nenabled = true\nsecret_env = "DW_TEST_HOOKS"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DRIFTWARDEN_"))}
    env["DW_TEST_HOOKS"] = "very-secret-value-42"
    proc = subprocess.run(
        [str(DRIFTWARDEN), "config", "check", "--config", str(config), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    hooks = json.loads(proc.stdout)["hooks"]
    assert hooks["enabled"] is True and hooks["secret_env"] == "DW_TEST_HOOKS"
    assert "very-secret-value-42" not in proc.stdout + proc.stderr
