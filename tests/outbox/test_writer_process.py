"""The writer child process: started at the first write, replaced when it dies, stopped when
idle and when the flusher ends; a death during a write fails that write, never the daemon."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.config.load import load_settings
from driftwarden.config.model import Settings
from driftwarden.detectors.estimation import EstimationResult
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.flusher import OutboxFlusher
from driftwarden.outbox.mlflow_calls import KEY_TAG
from driftwarden.outbox.queue import Outbox
from driftwarden.outbox.writer import MlflowWriter
from driftwarden.outbox.writer_process import MlflowWriteFailed, WriterProcess
from driftwarden.state.sqlite import SqliteOutbox
from tests.outbox.test_writer import Noted, _payload
from tests.support.mlflow_store import prepare_default_store


def _settings(tmp_path: Path, mlflow: str = "") -> Settings:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n{mlflow}')
    return load_settings(config, env={})


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _flusher_with(writer: WriterProcess, tmp_path: Path) -> tuple[Outbox, OutboxFlusher, Recorder]:
    """A flusher whose writes go through ``writer``'s child, one validation write queued."""
    outbox = Outbox(SqliteOutbox(tmp_path / "outbox.db"), Recorder())
    outbox.enqueue("validation_run", _payload(), "v:1")
    events = Recorder()
    flusher = OutboxFlusher(
        outbox,
        MlflowWriter(writer, events, Noted()),
        Metrics(CollectorRegistry()),
        events,
        on_turn=lambda: None,
        child=writer,
    )
    return outbox, flusher, events


def _dead(writer: WriterProcess, pid: int) -> None:
    """Until the killed child is reaped (the pid property polls it)."""
    while writer.pid == pid:
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_child_is_replaced_by_the_next_write(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    prepare_default_store(settings)
    writer = WriterProcess(settings)
    try:
        assert writer.pid is None  # nothing started before the first write
        experiment_id, logged = writer.find("dw-test", "v:1")
        assert logged is None
        first = writer.pid
        assert first is not None and first != os.getpid()
        os.kill(first, signal.SIGKILL)
        _dead(writer, first)
        run_id = writer.write("validation_run", experiment_id, _payload())
        assert writer.pid not in (None, first)
        assert writer.find("dw-test", "v:1") == (experiment_id, run_id)
    finally:
        writer.close()
    assert writer.pid is None and _gone(first)


def _mapped(pid: int) -> str:
    """The files the process has mapped: every compiled extension module it imported."""
    return Path(f"/proc/{pid}/maps").read_text()


def _estimation_payload() -> dict[str, object]:
    result = EstimationResult(
        method="cbpe",
        task="classification",
        rows=100,
        estimated={"accuracy": 0.9},
        interval={"accuracy": (0.85, 0.95)},
        reference={"accuracy": 0.92},
    )
    return {
        "experiment": "dw-test",
        "result": result.to_dict(),
        "prediction_drift": {"p_value": 0.5, "drifted": False},
        "tags": {KEY_TAG: "e:1"},
    }


@pytest.mark.slow
def test_the_child_logs_validations_and_estimates_without_sklearn_or_scipy_stats(
    tmp_path: Path,
) -> None:
    """Reading a result back needs neither: the child holds MLflow, not what computed it
    (they cost the child about 80 MiB and 1.5 s of CPU at each start)."""
    settings = _settings(tmp_path)
    prepare_default_store(settings)
    writer = WriterProcess(settings)
    try:
        experiment_id, _ = writer.find("dw-test", "v:1")
        validation = writer.write("validation_run", experiment_id, _payload())
        estimation = writer.write("estimation_run", experiment_id, _estimation_payload())
        assert writer.find("dw-test", "v:1") == (experiment_id, validation)
        assert writer.find("dw-test", "e:1") == (experiment_id, estimation)
        pid = writer.pid
        assert pid is not None
        mapped = _mapped(pid)
        assert "/pandas/" in mapped  # what was imported is seen here
        assert "/sklearn/" not in mapped and "/scipy/stats/" not in mapped
    finally:
        writer.close()


def test_a_child_dying_during_a_write_fails_that_write_only(tmp_path: Path) -> None:
    """The MLflow 'server' is a socket that accepts and never answers (a fake: a write that
    hangs is the only way to kill the child in the middle of one)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    settings = _settings(
        tmp_path,
        f'[mlflow]\ntracking_uri = "http://127.0.0.1:{port}"\n'
        "http_request_max_retries = 0\nhttp_request_timeout_seconds = 120\n",
    )
    writer = WriterProcess(settings)
    failures: list[BaseException] = []

    def call() -> None:
        try:
            writer.find("dw-test", "v:1")
        except BaseException as exc:
            failures.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    try:
        listener.settimeout(120)
        connection, _ = listener.accept()  # the child is inside the call now
        pid = writer.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        caller.join(60)
        assert not caller.is_alive()
        [failure] = failures
        assert isinstance(failure, MlflowWriteFailed)
        assert "MLflow writer process ended during a write" in str(failure)
        assert writer.pid is None  # reaped; the next call starts another
        connection.close()
    finally:
        listener.close()
        writer.close()


@pytest.mark.slow
def test_an_idle_child_is_stopped_and_the_flusher_stops_it_at_the_end(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    prepare_default_store(settings)
    writer = WriterProcess(settings, idle_seconds=3600)
    outbox, flusher, events = _flusher_with(writer, tmp_path)
    flusher.flush_once()
    assert [e.outbox_key for e in events.of(ev.OutboxWritten)] == ["v:1"]
    child = writer.pid
    assert child is not None
    flusher.flush_once()  # nothing to write, but not idle for an hour: the child stays
    assert writer.pid == child
    writer.idle_seconds = 0.0
    flusher.flush_once()  # idle long enough: stopped, its memory back to the system
    assert writer.pid is None and _gone(child)
    outbox.enqueue("validation_run", {**_payload(), "tags": {"k": "v:2"}}, "v:2")
    writer.idle_seconds = 3600
    flusher.start()
    flusher.wake()
    deadline = time.monotonic() + 120
    while not events.of(ev.OutboxWritten)[1:] and time.monotonic() < deadline:
        time.sleep(0.05)
    second = writer.pid
    assert second is not None and second != child  # started again for the next write
    flusher.close()
    assert flusher.join(60)
    assert writer.pid is None and _gone(second)  # the flusher's end stopped it


def test_a_stop_during_a_hanging_write_is_prompt_and_keeps_the_write(tmp_path: Path) -> None:
    """The MLflow 'server' accepts and never answers (a fake, as above): the flusher's close
    cuts the child's write short; the write stays queued, not counted as MLflow gone."""
    listener = socket.create_server(("127.0.0.1", 0))
    settings = _settings(
        tmp_path,
        f'[mlflow]\ntracking_uri = "http://127.0.0.1:{listener.getsockname()[1]}"\n'
        "http_request_max_retries = 0\nhttp_request_timeout_seconds = 120\n",
    )
    writer = WriterProcess(settings)
    outbox, flusher, events = _flusher_with(writer, tmp_path)
    flusher.start()
    try:
        listener.settimeout(120)
        connection, _ = listener.accept()  # the child's write is under way
        child = writer.pid
        flusher.close()
        assert flusher.join(30)
        connection.close()
    finally:
        listener.close()
    assert child is not None and writer.pid is None and _gone(child)
    assert outbox.pending() == 1 and outbox.dead() == 0
    assert not events.of(ev.MlflowUnreachable) and not events.of(ev.OutboxWriteFailed)
