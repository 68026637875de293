"""The outbox writer and its flusher against a real sqlite MLflow store: written once, even when replayed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.config.load import load_settings
from driftwarden.config.model import Settings, ValidationConfig
from driftwarden.detectors.validation import evaluate_predictions
from driftwarden.errors import MlflowUnavailable
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.flusher import OutboxFlusher
from driftwarden.outbox.mlflow_calls import KEY_TAG, InProcessCalls, MlflowCalls
from driftwarden.outbox.queue import Outbox
from driftwarden.outbox.writer import MlflowWriter
from driftwarden.state.sqlite import SqliteOutbox
from driftwarden.tracking.access import MlflowAccess
from tests.support.mlflow_store import prepare_default_store


class Noted(list[tuple[str, str, str]]):
    """The runs a writer noted (what the daemon hands to the ledger's record_check_run)."""

    def __call__(self, key: str, run_id: str, experiment_id: str) -> None:
        self.append((key, run_id, experiment_id))


def _outbox(path: Path) -> Outbox:
    return Outbox(SqliteOutbox(path), Recorder())


def _flusher(
    outbox: Outbox, writer: MlflowWriter, metrics: Metrics, events: Recorder
) -> OutboxFlusher:
    return OutboxFlusher(outbox, writer, metrics, events, on_turn=lambda: None)


def _payload() -> dict[str, object]:
    result = evaluate_predictions([0, 1, 1, 0], [0, 1, 0, 0], ValidationConfig(), model_version="2")
    return {"experiment": "dw-test", "result": result.to_dict(), "tags": {KEY_TAG: "v:1", "x": "y"}}


@pytest.mark.slow
def test_validation_write_lands_once_even_when_replayed(
    tmp_path: Path, writer_calls: Callable[[Settings], MlflowCalls]
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n')
    settings = load_settings(config, env={})
    prepare_default_store(settings)
    access = MlflowAccess(settings)
    outbox = _outbox(tmp_path / "state" / "outbox.db")
    outbox.enqueue("validation_run", _payload(), "v:1")
    metrics, events, noted = Metrics(CollectorRegistry()), Recorder(), Noted()
    calls = writer_calls(settings)
    flusher = _flusher(outbox, MlflowWriter(calls, events, noted), metrics, events)
    assert flusher.flush_once() > 0  # idle wait after a successful flush
    assert outbox.pending() == 0
    assert metrics.registry.get_sample_value("driftwarden_mlflow_pending_writes") == 0
    [written] = events.of(ev.OutboxWritten)
    assert written.outbox_key == "v:1" and written.kind == "validation_run"
    # A replay of the same key (a crash between the run and the outbox update) adds nothing.
    MlflowWriter(calls, events, noted)("validation_run", _payload(), "v:1")
    assert [e.outbox_key for e in events.of(ev.OutboxAlreadyWritten)] == ["v:1"]
    client = access.client()
    experiment = client.get_experiment_by_name("dw-test")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    assert runs[0].data.tags[KEY_TAG] == "v:1"
    assert runs[0].data.metrics["validation_accuracy"] == pytest.approx(0.75)
    # The run is noted for status, on the replay too (a crash may have come before the note).
    assert noted == [("v:1", runs[0].info.run_id, experiment.experiment_id)] * 2


def test_unreachable_server_keeps_the_write_and_backs_off(
    tmp_path: Path, writer_calls: Callable[[Settings], MlflowCalls]
) -> None:
    from tests.support.mlflow_server import free_port

    config = tmp_path / "dw.toml"
    config.write_text(
        f'[state]\ndirectory = "{tmp_path / "state"}"\n'
        f'[mlflow]\ntracking_uri = "http://127.0.0.1:{free_port()}"\n'
        "http_request_max_retries = 0\nhttp_request_timeout_seconds = 1\n"
    )
    settings = load_settings(config, env={})
    events = Recorder()
    writer = MlflowWriter(writer_calls(settings), events, Noted())
    with pytest.raises(MlflowUnavailable):
        writer("validation_run", _payload(), "v:1")
    outbox = _outbox(tmp_path / "state" / "outbox.db")
    outbox.enqueue("validation_run", _payload(), "v:1")
    metrics = Metrics(CollectorRegistry())
    flusher = _flusher(outbox, writer, metrics, events)
    assert flusher.flush_once() == 1.0
    assert flusher.flush_once() == 2.0
    [unreachable] = events.of(ev.MlflowUnreachable)  # reported once, not at every retry
    assert unreachable.pending == 1 and unreachable.retry_in_seconds == 1.0
    assert outbox.pending() == 1 and outbox.dead() == 0
    assert metrics.registry.get_sample_value("driftwarden_mlflow_pending_writes") == 1


def _flusher_against(
    url: str, tmp_path: Path, calls: Callable[[Settings], MlflowCalls] | None = None
) -> tuple[Outbox, OutboxFlusher, Metrics, Recorder]:
    config = tmp_path / "dw.toml"
    config.write_text(
        f'[state]\ndirectory = "{tmp_path / "state"}"\n'
        f'[mlflow]\ntracking_uri = "{url}"\n'
        "http_request_max_retries = 0\nhttp_request_timeout_seconds = 1\n"
    )
    settings = load_settings(config, env={})
    outbox = _outbox(tmp_path / "state" / "outbox.db")
    metrics, events = Metrics(CollectorRegistry()), Recorder()
    made = calls(settings) if calls else InProcessCalls(MlflowAccess(settings))
    writer = MlflowWriter(made, events, Noted())
    return outbox, _flusher(outbox, writer, metrics, events), metrics, events


def test_a_proxy_answering_502_keeps_the_write_pending_not_dead(tmp_path: Path) -> None:
    """A stub HTTP server (a fake: a reverse proxy whose MLflow is down) answers 502."""
    from driftwarden.outbox.queue import MAX_ATTEMPTS
    from tests.support.http_stub import status_server

    with status_server(502) as url:
        outbox, flusher, metrics, events = _flusher_against(url, tmp_path)
        outbox.enqueue("validation_run", _payload(), "v:1")
        waits = [flusher.flush_once() for _ in range(MAX_ATTEMPTS + 2)]
    assert waits[:3] == [1.0, 2.0, 4.0]  # backing off as for an unreachable server
    assert outbox.pending() == 1 and outbox.dead() == 0
    assert metrics.registry.get_sample_value("driftwarden_mlflow_pending_writes") == 1
    assert events.of(ev.MlflowUnreachable)
    assert not events.of(ev.MlflowReachable)


def test_a_write_refused_with_4xx_is_parked_without_claiming_mlflow_came_back(
    tmp_path: Path, writer_calls: Callable[[Settings], MlflowCalls]
) -> None:
    """A stub HTTP server answering 400 as MLflow does for a bad request (a fake)."""
    from driftwarden.outbox.queue import MAX_ATTEMPTS
    from tests.support.http_stub import status_server

    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"}
    with status_server(400, body) as url:
        outbox, flusher, _, events = _flusher_against(url, tmp_path, writer_calls)
        outbox.enqueue("validation_run", _payload(), "v:1")
        for _ in range(MAX_ATTEMPTS):
            flusher.flush_once()
    assert outbox.pending() == 0 and outbox.dead() == 1
    assert not events.of(ev.MlflowUnreachable) and not events.of(ev.MlflowReachable)


@pytest.mark.slow
def test_a_run_left_unfinished_by_an_interrupted_write_is_replaced_not_doubled(
    tmp_path: Path,
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n')
    settings = load_settings(config, env={})
    prepare_default_store(settings)
    access = MlflowAccess(settings)
    client = access.client()
    experiment_id = access.experiment_id("dw-test")
    # What a write cut off after create_run leaves behind: a RUNNING run with the key.
    stale = client.create_run(experiment_id, tags={KEY_TAG: "v:1"}).info.run_id
    writer = MlflowWriter(InProcessCalls(access), Recorder(), Noted())
    writer("validation_run", _payload(), "v:1")
    runs = client.search_runs([experiment_id])
    assert len(runs) == 1
    assert runs[0].info.run_id != stale and runs[0].info.status == "FINISHED"
    assert runs[0].data.metrics["validation_accuracy"] == pytest.approx(0.75)
    writer("validation_run", _payload(), "v:1")  # a replay: still one
    assert len(client.search_runs([experiment_id])) == 1


@pytest.mark.slow
def test_the_html_report_file_is_deleted_once_it_is_in_mlflow(tmp_path: Path) -> None:
    from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
    from tests.support.inprocess import InProcessDaemon

    built = InProcessDaemon(daemon_config(tmp_path))
    try:
        parts = built.parts
        prepare_default_store(built.settings)
        parts.keeper.files.handle(write_csv(tmp_path / "drop" / "a.csv", sample_frame(200, 3)))
        [item] = parts.outbox.peek()
        html = Path(item.payload["html_path"])
        assert html.is_file()
        parts.flusher.flush_once()
        assert parts.outbox.pending() == 0 and parts.outbox.dead() == 0
        assert not html.exists()
        access = MlflowAccess(built.settings)
        client = access.client()
        [run] = client.search_runs([access.experiment_id(built.settings.mlflow.experiment_name)])
        artifacts = client.list_artifacts(run.info.run_id, "drift")
        assert "drift/report.html" in {a.path for a in artifacts}
    finally:
        built.stop()
