"""The outbox writer against a real sqlite MLflow store: written once, even when replayed."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.alerts.metrics import Metrics
from driftwarden.config.load import load_settings
from driftwarden.config.model import ValidationConfig
from driftwarden.daemon.context import MlflowAccess
from driftwarden.daemon.mlflow_writer import KEY_TAG, MlflowWriter, OutboxFlusher
from driftwarden.detectors.validation import evaluate_predictions
from driftwarden.errors import MlflowUnavailable
from driftwarden.tracking.outbox import Outbox


def _payload() -> dict[str, object]:
    result = evaluate_predictions([0, 1, 1, 0], [0, 1, 0, 0], ValidationConfig(), model_version="2")
    return {"experiment": "dw-test", "result": result.to_dict(), "tags": {KEY_TAG: "v:1", "x": "y"}}


@pytest.mark.slow
def test_validation_write_lands_once_even_when_replayed(tmp_path: Path) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n')
    settings = load_settings(config, env={})
    access = MlflowAccess(settings)
    outbox = Outbox(tmp_path / "state" / "outbox.db")
    outbox.enqueue("validation_run", _payload(), "v:1")
    metrics = Metrics(CollectorRegistry())
    flusher = OutboxFlusher(outbox, MlflowWriter(access), metrics)
    assert flusher.flush_once() > 0  # idle wait after a successful flush
    assert outbox.pending() == 0
    assert metrics.registry.get_sample_value("driftwarden_mlflow_pending_writes") == 0
    # A replay of the same key (a crash between the run and the outbox update) adds nothing.
    MlflowWriter(access)("validation_run", _payload(), "v:1")
    client = access.client()
    experiment = client.get_experiment_by_name("dw-test")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    assert runs[0].data.tags[KEY_TAG] == "v:1"
    assert runs[0].data.metrics["validation_accuracy"] == pytest.approx(0.75)


def test_unreachable_server_keeps_the_write_and_backs_off(tmp_path: Path) -> None:
    from tests.support.mlflow_server import free_port

    config = tmp_path / "dw.toml"
    config.write_text(
        f'[state]\ndirectory = "{tmp_path / "state"}"\n'
        f'[mlflow]\ntracking_uri = "http://127.0.0.1:{free_port()}"\n'
        "http_request_max_retries = 0\nhttp_request_timeout_seconds = 1\n"
    )
    settings = load_settings(config, env={})
    writer = MlflowWriter(MlflowAccess(settings))
    with pytest.raises(MlflowUnavailable):
        writer("validation_run", _payload(), "v:1")
    outbox = Outbox(tmp_path / "state" / "outbox.db")
    outbox.enqueue("validation_run", _payload(), "v:1")
    metrics = Metrics(CollectorRegistry())
    flusher = OutboxFlusher(outbox, writer, metrics)
    assert flusher.flush_once() == 1.0
    assert flusher.flush_once() == 2.0
    assert outbox.pending() == 1 and outbox.dead() == 0
    assert metrics.registry.get_sample_value("driftwarden_mlflow_pending_writes") == 1
