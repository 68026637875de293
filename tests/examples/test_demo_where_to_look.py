"""The demo's closing "where to look" lines: every command runs as printed, from another
directory and with a PATH that does not hold the venv; no metrics URL that will be dead.

The commands are run for real: ``driftwarden status`` against a real ledger, ``mlflow ui``
against a real sqlite store until it answers HTTP, and /metrics of a real endpoint.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.config.load import load_settings
from driftwarden.config.model import Settings
from driftwarden.demo.command import where_to_look
from driftwarden.observability.http import HealthState, MetricsServer
from driftwarden.observability.metrics import Metrics
from driftwarden.state import CheckRecord
from driftwarden.state.sqlite import SqliteLedger
from tests.support.mlflow_store import prepare_default_store

BARE_PATH = "/usr/bin:/bin"  # no venv on it: what a user has after `make demo`


def _settings(tmp_path: Path) -> tuple[Settings, Path]:
    config = tmp_path / "demo" / "driftwarden.toml"
    config.parent.mkdir()
    config.write_text(
        f'[model]\nname = "driftwarden-demo"\n[state]\ndirectory = "{tmp_path / "demo" / "state"}"\n',
        encoding="utf-8",
    )
    settings = load_settings(config, env={})
    ledger = SqliteLedger.open(settings.state.directory / "ledger.db")
    ledger.record_check(
        CheckRecord("drift", "file", "driftwarden-demo", "drift", summary={"n_current": 10})
    )
    ledger.close()
    return settings, config


def _command(lines: list[str], label: str) -> list[str]:
    [line] = [x for x in lines if x.strip().startswith(label)]
    return shlex.split(line.split(label, 1)[1])


def _bare_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DRIFTWARDEN_"))}
    env["PATH"] = BARE_PATH
    return env


@pytest.fixture
def endpoint() -> Iterator[str]:
    metrics = Metrics(CollectorRegistry())
    metrics.set_production_version("driftwarden-demo", 2)
    server = MetricsServer(metrics, HealthState(), "127.0.0.1", 0)
    server.start()
    try:
        yield server.url
    finally:
        server.close()


def test_the_status_line_runs_without_the_venv_on_path_from_elsewhere(tmp_path: Path) -> None:
    settings, config = _settings(tmp_path)
    lines = where_to_look(settings, config, tmp_path / "daemon.log", None, None, live=False)
    command = _command(lines, "status:")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        command, cwd=elsewhere, env=_bare_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "model: driftwarden-demo" in done.stdout and "checks" in done.stdout
    assert not any(elsewhere.iterdir())  # status writes nothing where it runs


def test_after_once_no_dead_metrics_url_is_printed_but_the_samples_read_before(
    tmp_path: Path, endpoint: str
) -> None:
    settings, config = _settings(tmp_path)
    once = where_to_look(settings, config, tmp_path / "daemon.log", None, endpoint, live=False)
    assert not any(endpoint in line for line in once), once
    assert any(
        'driftwarden_production_model_version{model="driftwarden-demo"} 2.0' in x for x in once
    )
    live = where_to_look(settings, config, tmp_path / "daemon.log", None, endpoint, live=True)
    [metrics_line] = [x for x in live if x.strip().startswith("metrics:")]
    url = metrics_line.split()[1]
    assert url == f"{endpoint}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:  # the printed URL answers
        assert b"driftwarden_production_model_version" in response.read()


@pytest.mark.slow
def test_the_mlflow_ui_line_serves_the_demo_store(tmp_path: Path) -> None:
    settings, config = _settings(tmp_path)
    prepare_default_store(settings)
    lines = where_to_look(settings, config, tmp_path / "daemon.log", None, None, live=False)
    command = _command(lines, "MLflow UI:")
    port = int(command[command.index("--port") + 1])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ui = subprocess.Popen(
        command,
        cwd=elsewhere,
        env=_bare_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # mlflow ui starts workers: stop the whole group it made
    )
    try:
        deadline, answered = time.monotonic() + 300, False  # a busy 2-core box
        while time.monotonic() < deadline and ui.poll() is None and not answered:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    answered = r.status == 200
            except OSError:
                time.sleep(0.5)
        assert answered, ui.stderr.read().decode() if ui.poll() is not None else "no answer"
    finally:
        _stop_group(ui)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group the test started; SIGKILL when its workers are slow to go."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=20)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait(timeout=20)
