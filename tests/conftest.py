"""Shared fixtures: an isolated environment per test, in-process daemons, a migrated MLflow
store template, a real mlflow server for integration tests, and (from
tests/support/postgres_fixtures.py) real PostgreSQL and an MLflow server on it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import hypothesis_profiles, mlflow_store
from tests.support.champion import ChampionStore, train_champion
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_server import MlflowServer

hypothesis_profiles.load()

# postgres_cluster, postgres_db, mlflow_pg_server; state_site (both engines), pg_site;
# xdist_order: groups kept whole, slow modules handed out first
pytest_plugins = (
    "tests.support.postgres_fixtures",
    "tests.support.state_fixtures",
    "tests.support.xdist_order",
)


@pytest.fixture(autouse=True)
def _no_log_handler_left_behind() -> Iterator[None]:
    """A command run in-process (``cli.main``) or a logging reload puts driftwarden's stderr
    handler on the root logger; it goes with the test, or later tests' log lines would land
    in their captured stderr and in the terminal."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if getattr(handler, "_driftwarden", False):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's MLflow or driftwarden settings, or writes into the cwd."""
    for var in (
        "MLFLOW_TRACKING_URI",
        "MLFLOW_REGISTRY_URI",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_RUN_ID",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
        "DRIFTWARDEN_CONFIG",
        "STATE_DIRECTORY",
        "NOTIFY_SOCKET",
        "DRIFTWARDEN_INSTANCE_ID",
        "PGPASSWORD",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One real `mlflow server` on 127.0.0.1 for the session, stopped at the end."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def store_template() -> Path:
    """An empty migrated sqlite MLflow database; copy it, never write to it."""
    return mlflow_store.template()


@pytest.fixture
def start_daemon() -> Iterator[Callable[..., InProcessDaemon]]:
    """Start in-process daemons (``start_daemon(config, loop=True)``); all stopped at teardown."""
    started: list[InProcessDaemon] = []

    def start(config: Path, loop: bool = True) -> InProcessDaemon:
        daemon = InProcessDaemon(config)
        started.append(daemon)
        return daemon.start(loop)

    yield start
    for daemon in reversed(started):
        daemon.stop()


@pytest.fixture(scope="session")
def champion(tmp_path_factory: pytest.TempPathFactory) -> ChampionStore:
    """A store with one champion run trained by `mlflow run` (once per session; tests using
    it share the ``champion`` xdist group, so one worker trains it)."""
    mp = pytest.MonkeyPatch()
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"):
        mp.delenv(var, raising=False)
    try:
        return train_champion(tmp_path_factory.mktemp("champion"))
    finally:
        mp.undo()
