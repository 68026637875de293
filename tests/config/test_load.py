"""The config loader: defaults, path resolution, MLflow env overrides, secrets, clear errors.

The CLI cases run the real `driftwarden config check` console script in a subprocess, as an
operator would, and look at its exit code, stdout and stderr.
"""

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


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def config_check(
    config: Path | None, tmp_path: Path, env: dict[str, str] | None = None, *extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the real `driftwarden config check` with a clean environment plus ``env``."""
    argv = [str(DRIFTWARDEN), "config", "check", *extra]
    if config is not None:
        argv += ["--config", str(config)]
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DRIFTWARDEN_"))
    }
    full_env.update(env or {})
    return subprocess.run(
        argv, capture_output=True, text=True, env=full_env, cwd=tmp_path, timeout=60
    )


# --- defaults and paths -------------------------------------------------------------------


def test_defaults_work_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, env={})
    state = tmp_path / "driftwarden-state"
    assert settings.state.directory == state
    assert settings.tracking_uri == f"sqlite:///{state / 'mlflow.db'}"
    assert settings.mlflow.artifact_location == (state / "mlartifacts").as_uri()
    assert settings.model.alias == "production"
    assert settings.metrics.address == "127.0.0.1"


def test_relative_paths_resolve_against_the_config_file_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    cfg = write(
        conf_dir / "dw.toml",
        """
[state]
directory = "state"
[watch]
paths = ["drops", "/abs/drops"]
quarantine_dir = "../q"
[reference]
source = "file"
path = "ref/reference.csv"
""",
    )
    other_cwd = tmp_path / "elsewhere"
    other_cwd.mkdir()
    monkeypatch.chdir(other_cwd)
    settings = load_settings(cfg, env={})
    assert settings.state.directory == conf_dir / "state"
    assert settings.watch.paths == [conf_dir / "drops", Path("/abs/drops")]
    assert settings.watch.quarantine_dir == tmp_path / "q"
    assert settings.reference.path == conf_dir / "ref" / "reference.csv"
    assert settings.tracking_uri == f"sqlite:///{conf_dir / 'state' / 'mlflow.db'}"


def test_state_directory_from_systemd_is_honoured(tmp_path: Path) -> None:
    settings = load_settings(None, env={"STATE_DIRECTORY": f"{tmp_path}/a:{tmp_path}/b"})
    assert settings.state.directory == tmp_path / "a"
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'a' / 'mlflow.db'}"


def test_state_directory_in_the_file_wins_over_systemd(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[state]\ndirectory = "/srv/dw-state"\n')
    settings = load_settings(cfg, env={"STATE_DIRECTORY": str(tmp_path / "sd")})
    assert settings.state.directory == Path("/srv/dw-state")


def test_config_path_from_driftwarden_config(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[model]\nname = "from-env-file"\n')
    settings = load_settings(None, env={"DRIFTWARDEN_CONFIG": str(cfg)})
    assert settings.model.name == "from-env-file"


# --- MLflow environment variables ---------------------------------------------------------


def test_mlflow_env_vars_override_the_file(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "dw.toml",
        '[mlflow]\ntracking_uri = "http://file:5000"\nexperiment_name = "from-file"\n',
    )
    env = {"MLFLOW_TRACKING_URI": "http://env:5000", "MLFLOW_EXPERIMENT_NAME": "from-env"}
    settings = load_settings(cfg, env=env)
    assert settings.tracking_uri == "http://env:5000"
    assert settings.mlflow.experiment_name == "from-env"
    # Without the variables the file's values hold.
    settings = load_settings(cfg, env={})
    assert settings.tracking_uri == "http://file:5000"
    assert settings.mlflow.experiment_name == "from-file"


def test_remote_tracking_uri_gets_no_local_artifact_default(tmp_path: Path) -> None:
    settings = load_settings(None, env={"MLFLOW_TRACKING_URI": "http://mlflow:5000"})
    assert settings.mlflow.artifact_location is None


@pytest.mark.parametrize("key", ["password", "token"])
def test_secret_in_the_file_is_rejected_without_echoing_it(tmp_path: Path, key: str) -> None:
    cfg = write(tmp_path / "dw.toml", f'[mlflow]\n{key} = "hunter2-in-file"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    message = str(info.value)
    assert f"MLFLOW_TRACKING_{key.upper()}" in message
    assert str(cfg) in message
    assert "hunter2-in-file" not in message


def test_secrets_from_env_are_loaded_and_redacted(tmp_path: Path) -> None:
    env = {"MLFLOW_TRACKING_PASSWORD": "pw-0123456789", "MLFLOW_TRACKING_TOKEN": "tok-987654321"}
    settings = load_settings(None, env=env)
    assert settings.mlflow.password is not None
    assert settings.mlflow.password.get_secret_value() == "pw-0123456789"
    dumped = json.dumps(redacted_dict(settings))
    assert "pw-0123456789" not in dumped
    assert "tok-987654321" not in dumped
    assert redacted_dict(settings)["mlflow"]["password"] == "***"


# --- the real CLI ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_config_check_prints_effective_config_without_secrets(tmp_path: Path, fmt: str) -> None:
    cfg = write(tmp_path / "dw.toml", '[model]\nname = "churn"\n')
    env = {
        "MLFLOW_TRACKING_URI": "https://ops:uri-secret-42@mlflow.example.com",
        "MLFLOW_TRACKING_USERNAME": "ops",
        "MLFLOW_TRACKING_PASSWORD": "pw-secret-0123456789",
        "MLFLOW_TRACKING_TOKEN": "tok-secret-987654321",
    }
    proc = config_check(cfg, tmp_path, env, "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    for secret in ("pw-secret-0123456789", "tok-secret-987654321", "uri-secret-42"):
        assert secret not in proc.stdout
        assert secret not in proc.stderr
    assert "churn" in proc.stdout
    assert "mlflow.example.com" in proc.stdout
    if fmt == "json":
        data = json.loads(proc.stdout)
        assert data["mlflow"]["password"] == "***"
        assert data["mlflow"]["token"] == "***"


def test_config_check_misspelled_key_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[watch]\npatterns = ["*.csv"]\nsettle_secnds = 3\n')
    proc = config_check(cfg, tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(cfg) in lines[0]
    assert "watch.settle_secnds" in lines[0]
    assert "unknown key" in lines[0]
    assert proc.stdout == ""


def test_bad_literal_lists_allowed_values(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[drift]\ncorrection = "bonferoni"\n')
    proc = config_check(cfg, tmp_path)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "drift.correction" in line
    assert "bonferoni" in line
    for allowed in ("none", "bonferroni", "holm", "bh"):
        assert f"'{allowed}'" in line


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", "[watch\npaths = \n")
    proc = config_check(cfg, tmp_path)
    assert proc.returncode == 2
    assert str(cfg) in proc.stderr
    assert "invalid TOML" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    proc = config_check(missing, tmp_path)
    assert proc.returncode == 2
    assert str(missing) in proc.stderr
    assert "not found" in proc.stderr


def test_config_from_environment_variable_in_cli(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[model]\nname = "via-env"\n')
    proc = config_check(None, tmp_path, {"DRIFTWARDEN_CONFIG": str(cfg)}, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["model"]["name"] == "via-env"


def test_bad_value_names_key_and_value(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", "[metrics]\nport = 70000\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert str(info.value).startswith(f"{cfg}: metrics.port: ")
    assert "70000" in str(info.value)


def test_cross_field_rule_names_the_section(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[alerts]\nsinks = ["log", "webhook"]\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert "alerts" in str(info.value)
    assert "[alerts.webhook] is missing" in str(info.value)


# --- review fixes -------------------------------------------------------------------------


@pytest.mark.parametrize("cron", ["99 * * * *", "* 25 * * *", "* * * 13 *", "* * * * funday"])
def test_cron_the_scheduler_rejects_is_a_config_error_naming_the_key(
    tmp_path: Path, cron: str
) -> None:
    """`config check` refuses what `run` (apscheduler's CronTrigger.from_crontab) refuses."""
    cfg = write(tmp_path / "dw.toml", f'[schedule.validation]\ncron = "{cron}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    message = str(info.value)
    assert message.startswith(f"{cfg}: schedule.validation.cron: not a valid crontab expression")
    assert cron in message and "Value error" not in message


def test_valid_crons_load_and_match_the_scheduler(tmp_path: Path) -> None:
    import datetime as dt

    from apscheduler.triggers.cron import CronTrigger

    cron = "*/15 2-4 * * mon-fri"
    cfg = write(tmp_path / "dw.toml", f'[schedule.drift]\ncron = "{cron}"\n')
    assert load_settings(cfg, env={}).schedule.drift.cron == cron
    CronTrigger.from_crontab(cron, timezone=dt.UTC)  # what the daemon's scheduler does


def test_config_check_exits_2_on_a_cron_run_would_reject(tmp_path: Path) -> None:
    cfg = write(tmp_path / "dw.toml", '[schedule.drift]\ncron = "99 * * * *"\n')
    proc = config_check(cfg, tmp_path)
    assert proc.returncode == 2
    assert "schedule.drift.cron" in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize(
    ("sink", "url", "shown", "secrets"),
    [
        (
            "webhook",
            "https://hooks.slack.com/services/T0ABC/B0DEF/xoxsecret123",
            "https://hooks.slack.com/***",
            ["T0ABC", "B0DEF", "xoxsecret123"],
        ),
        (
            "webhook",
            "https://hooks.example.com/driftwarden?token=abc-secret-1",
            "https://hooks.example.com/***?***",
            ["abc-secret-1", "token="],
        ),
        # (user:password@ in an Alertmanager URL is refused: test_cli.py checks the refusal)
        (
            "alertmanager",
            "https://am.example.com:9093/prefix?token=tok-secret-3",
            "https://am.example.com:9093/prefix?***",
            ["tok-secret-3"],
        ),
    ],
)
def test_config_check_hides_secrets_in_alert_urls(
    tmp_path: Path, sink: str, url: str, shown: str, secrets: list[str]
) -> None:
    cfg = write(
        tmp_path / "dw.toml",
        f'[alerts]\nsinks = ["log", "{sink}"]\n[alerts.{sink}]\nurl = "{url}"\n',
    )
    for fmt in ("table", "json"):
        proc = config_check(cfg, tmp_path, None, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        for secret in secrets:
            assert secret not in proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["alerts"][sink]["url"] == shown


def test_redaction_leaves_urls_without_secrets_alone() -> None:
    from driftwarden.config.load import redact_url

    for url in ("sqlite:////var/lib/driftwarden/mlflow.db", "http://127.0.0.1:9093", "databricks"):
        assert redact_url(url) == url
        assert redact_url(url, hide_path=url.startswith("http")) == url
    assert redact_url("sqlite:////x/mlflow.db?mode=ro") == "sqlite:////x/mlflow.db?***"
    assert redact_url("https://mlflow.example.com/api?key=k#frag") == (
        "https://mlflow.example.com/api?***#***"
    )


def test_state_directory_default_is_where_its_description_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside the config file, or in the working directory without one (README says the same)."""
    from driftwarden.config.model import StateConfig

    description = StateConfig.model_fields["directory"].description or ""
    assert "beside the config file" in description
    assert "working directory without one" in description
    etc, work = tmp_path / "etc", tmp_path / "work"
    etc.mkdir()
    work.mkdir()
    monkeypatch.chdir(work)
    cfg = write(etc / "dw.toml", '[model]\nname = "m"\n')
    assert load_settings(cfg, env={}).state.directory == (etc / "driftwarden-state").resolve()
    assert load_settings(None, env={}).state.directory == (work / "driftwarden-state").resolve()
