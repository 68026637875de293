"""An in-process daemon context (real ledger, outbox, metrics, reference) for fast job tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.alerts.rules import AlertRules
from driftwarden.config import load_settings
from driftwarden.daemon.intake.files import NameFilter, drop_dirs
from driftwarden.daemon.intake.reference import load_file_reference
from driftwarden.daemon.jobs.context import DaemonContext, MlflowAccess
from driftwarden.observability.http import HealthState
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.queue import Outbox
from driftwarden.state.sqlite.ledger import Ledger
from tests.support.daemon_proc import daemon_config


def make_context(root: Path, **sections: dict[str, object]) -> tuple[DaemonContext, NameFilter]:
    config = daemon_config(root, **sections)  # type: ignore[arg-type]
    settings = load_settings(config, env={})
    state = settings.state.directory
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(settings.model.name)
    ctx = DaemonContext(
        settings=settings,
        ledger=Ledger.open(state / "ledger.db"),
        outbox=Outbox(state / "outbox.db"),
        metrics=metrics,
        health=HealthState(),
        mlflow=MlflowAccess(settings),
        reports_dir=state / "reports",
    )
    ctx.rules = AlertRules(settings.alerts, settings.model.name, metrics)
    ctx.reference.set(load_file_reference(settings))
    return ctx, NameFilter(settings.watch, drop_dirs(settings.watch))


@pytest.fixture
def context(tmp_path: Path) -> tuple[DaemonContext, NameFilter]:
    return make_context(tmp_path)
