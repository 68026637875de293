"""The command line: stable names, fast help, exit code 2 on bad usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftwarden.cli import COMMANDS, build_parser, main


def test_help_lists_every_contract_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in (
        "run",
        "demo",
        "check",
        "validate",
        "register",
        "retrain",
        "rollback",
        "status",
        "config",
        "outbox",
    ):
        assert name in out


def test_unknown_command_and_missing_argument_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["check", "only-one.csv"])
    assert info.value.code == 2


def test_every_command_resolves_to_a_function() -> None:
    """Each COMMANDS entry names an importable module and function (no stub left behind)."""
    import importlib

    for name, target in COMMANDS.items():
        module_name, func = target.split(":")
        module = importlib.import_module(module_name)
        assert callable(getattr(module, func)), name


def test_help_does_not_import_mlflow() -> None:
    code = (
        "import sys; from driftwarden.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('mlflow' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_config_flag_falls_back_to_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTWARDEN_CONFIG", "/etc/driftwarden/x.toml")
    args = build_parser().parse_args(["status"])
    assert args.config == "/etc/driftwarden/x.toml"


def test_unknown_log_level_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--log-level", "FOO", "status", "--config", "x.toml"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--log-level" in err and "'FOO'" in err and "Traceback" not in err


def test_log_level_is_case_insensitive() -> None:
    args = build_parser().parse_args(["--log-level", "debug", "status", "--config", "x.toml"])
    assert args.log_level == "DEBUG"


FORGED = "\n2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear\x1b[2J"


def test_error_line_is_escaped_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / f"batch{FORGED}.csv"
    assert main(["check", str(missing), str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert err.startswith("driftwarden check: ")
    assert "batch\\n2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear\\x1b[2J.csv" in err


def test_config_error_keeps_one_line_per_problem_and_hides_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(
        '[alerts.alertmanager]\nurl = "http://dw:CliAmSecret-7f@127.0.0.1:9093"\n'
        '[alerts.webhook]\nurl = "https://bot:CliHookSecret-2a@hooks.example.com/x"\n',
        encoding="utf-8",
    )
    assert main(["config", "check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "CliAmSecret-7f" not in err and "CliHookSecret-2a" not in err
    lines = err.strip().split("\n")
    assert len(lines) == 2, err
    assert all("user info (user:password@)" in line for line in lines)
    assert any("alerts.alertmanager.username and password_env" in line for line in lines)


def test_unexpected_error_prints_a_redacted_traceback_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError(f"GET https://u:CliUriSecret-9c@mlflow.example.com failed{FORGED}")

    monkeypatch.setattr("driftwarden.cli._resolve", lambda name: broken)
    assert main(["status", "--config", "x.toml"]) == 1
    err = capsys.readouterr().err
    assert "CliUriSecret-9c" not in err and "\x1b" not in err
    first, *trace = err.rstrip("\n").split("\n")
    assert first == "driftwarden status: unexpected error"
    assert trace[0] == "  Traceback (most recent call last):"
    assert all(line.startswith("  ") for line in trace), trace  # none passes for a log line
    assert "  RuntimeError: GET https://u:***@mlflow.example.com failed" in trace
