"""The outbox writer against a real sqlite MLflow store: written once, even when replayed."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.config.load import load_settings
from driftwarden.config.model import ValidationConfig
from driftwarden.daemon.jobs.context import MlflowAccess
from driftwarden.detectors.validation import evaluate_predictions
from driftwarden.errors import MlflowUnavailable
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.queue import Outbox
from driftwarden.outbox.writer import KEY_TAG, MlflowWriter, OutboxFlusher


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


def _flusher_against(url: str, tmp_path: Path) -> tuple[Outbox, OutboxFlusher, Metrics]:
    config = tmp_path / "dw.toml"
    config.write_text(
        f'[state]\ndirectory = "{tmp_path / "state"}"\n'
        f'[mlflow]\ntracking_uri = "{url}"\n'
        "http_request_max_retries = 0\nhttp_request_timeout_seconds = 1\n"
    )
    settings = load_settings(config, env={})
    outbox = Outbox(tmp_path / "state" / "outbox.db")
    metrics = Metrics(CollectorRegistry())
    return outbox, OutboxFlusher(outbox, MlflowWriter(MlflowAccess(settings)), metrics), metrics


def test_a_proxy_answering_502_keeps_the_write_pending_not_dead(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A stub HTTP server (a fake: a reverse proxy whose MLflow is down) answers 502."""
    from driftwarden.outbox.queue import MAX_ATTEMPTS
    from tests.support.http_stub import status_server

    with status_server(502) as url:
        outbox, flusher, metrics = _flusher_against(url, tmp_path)
        outbox.enqueue("validation_run", _payload(), "v:1")
        with caplog.at_level("INFO"):
            waits = [flusher.flush_once() for _ in range(MAX_ATTEMPTS + 2)]
    assert waits[:3] == [1.0, 2.0, 4.0]  # backing off as for an unreachable server
    assert outbox.pending() == 1 and outbox.dead() == 0
    assert metrics.registry.get_sample_value("driftwarden_mlflow_pending_writes") == 1
    messages = [r.getMessage() for r in caplog.records]
    assert "MLflow unreachable; writes wait in the outbox" in messages
    assert not any("reachable again" in m for m in messages)


def test_a_write_refused_with_4xx_is_parked_without_claiming_mlflow_came_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A stub HTTP server answering 400 as MLflow does for a bad request (a fake)."""
    from driftwarden.outbox.queue import MAX_ATTEMPTS
    from tests.support.http_stub import status_server

    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"}
    with status_server(400, body) as url:
        outbox, flusher, _ = _flusher_against(url, tmp_path)
        outbox.enqueue("validation_run", _payload(), "v:1")
        with caplog.at_level("INFO"):
            for _ in range(MAX_ATTEMPTS):
                flusher.flush_once()
    assert outbox.pending() == 0 and outbox.dead() == 1
    messages = [r.getMessage() for r in caplog.records]
    assert not any("reachable" in m for m in messages)


@pytest.mark.slow
def test_a_run_left_unfinished_by_an_interrupted_write_is_replaced_not_doubled(
    tmp_path: Path,
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n')
    access = MlflowAccess(load_settings(config, env={}))
    client = access.client()
    experiment_id = access.experiment_id("dw-test")
    # What a write cut off after create_run leaves behind: a RUNNING run with the key.
    stale = client.create_run(experiment_id, tags={KEY_TAG: "v:1"}).info.run_id
    MlflowWriter(access)("validation_run", _payload(), "v:1")
    runs = client.search_runs([experiment_id])
    assert len(runs) == 1
    assert runs[0].info.run_id != stale and runs[0].info.status == "FINISHED"
    assert runs[0].data.metrics["validation_accuracy"] == pytest.approx(0.75)
    MlflowWriter(access)("validation_run", _payload(), "v:1")  # a replay: still one
    assert len(client.search_runs([experiment_id])) == 1


@pytest.mark.slow
def test_the_html_report_file_is_deleted_once_it_is_in_mlflow(tmp_path: Path) -> None:
    from driftwarden.daemon.jobs.file_job import FileProcessor
    from tests.daemon.conftest import make_context
    from tests.support.daemon_proc import sample_frame, write_csv

    ctx, names = make_context(tmp_path)
    FileProcessor(ctx, names).handle(write_csv(tmp_path / "drop" / "a.csv", sample_frame(200, 3)))
    [item] = ctx.outbox.peek()
    html = Path(item.payload["html_path"])
    assert html.is_file()
    flusher = OutboxFlusher(ctx.outbox, MlflowWriter(ctx.mlflow), ctx.metrics)
    flusher.flush_once()
    assert ctx.outbox.pending() == 0 and ctx.outbox.dead() == 0
    assert not html.exists()
    client = ctx.mlflow.client()
    [run] = client.search_runs([ctx.mlflow.experiment_id(ctx.settings.mlflow.experiment_name)])
    artifacts = client.list_artifacts(run.info.run_id, "drift")
    assert "drift/report.html" in {a.path for a in artifacts}
