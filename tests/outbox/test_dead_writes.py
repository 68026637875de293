"""Dead (parked) MLflow writes are not given up (issue 10.4): the writer tries them again
by itself, a restart tries them at once, the count is a metric and an alert, and an
operator can queue them again with ``driftwarden outbox retry``.

The writer stands in for an MLflow store that refuses writes for a while (a read-only
store raises a plain error, not "unreachable"); the real writer's mapping of errors is
tested in ``test_writer.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.alerts.rules import AlertRules
from driftwarden.cli import main
from driftwarden.config.model import AlertsConfig
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.flusher import OutboxFlusher
from driftwarden.outbox.queue import MAX_ATTEMPTS, Outbox
from driftwarden.state.sqlite import SqliteOutbox


class ReadOnlyStore:
    """A writer whose store refuses every write while ``readonly`` (as sqlite does)."""

    def __init__(self) -> None:
        self.readonly = True
        self.written: list[str] = []

    def __call__(self, kind: str, payload: dict[str, Any], key: str) -> None:
        if self.readonly:
            raise RuntimeError("attempt to write a readonly database")
        self.written.append(key)


def _parked(path: Path, writer: ReadOnlyStore, keys: list[str]) -> Outbox:
    outbox = Outbox(SqliteOutbox(path), Recorder())
    for key in keys:
        outbox.enqueue("drift_run", {"key": key}, key)
    for _ in range(MAX_ATTEMPTS * len(keys)):  # each is tried MAX_ATTEMPTS times, then parked
        outbox.flush(writer)
    assert outbox.dead() == len(keys) and outbox.pending() == 0
    return outbox


def _flusher(outbox: Outbox, writer: ReadOnlyStore) -> tuple[OutboxFlusher, Metrics, Recorder]:
    metrics, events = Metrics(CollectorRegistry()), Recorder()
    metrics.initialise("m")
    flusher = OutboxFlusher(outbox, writer, metrics, events, on_turn=lambda: None)
    return flusher, metrics, events


def test_a_restart_writes_what_was_parked_during_the_outage(tmp_path: Path) -> None:
    writer = ReadOnlyStore()
    _parked(tmp_path / "outbox.db", writer, ["a", "b"])
    writer.readonly = False  # the outage is over; the daemon restarts
    outbox = Outbox(SqliteOutbox(tmp_path / "outbox.db"), Recorder())
    flusher, metrics, events = _flusher(outbox, writer)
    flusher.flush_once()
    assert writer.written == ["a", "b"] and outbox.dead() == 0
    assert metrics.registry.get_sample_value("driftwarden_mlflow_dead_writes") == 0
    [done] = events.of(ev.OutboxDeadWritesDone)
    assert (done.done, done.dead) == (2, 0)


def test_parked_writes_are_tried_again_periodically_while_the_outage_lasts(
    tmp_path: Path,
) -> None:
    writer = ReadOnlyStore()
    outbox = _parked(tmp_path / "outbox.db", writer, ["a"])
    flusher, metrics, _ = _flusher(outbox, writer)
    flusher.flush_once()  # at start: tried, still refused, still parked and counted
    assert outbox.dead() == 1 and writer.written == []
    assert metrics.registry.get_sample_value("driftwarden_mlflow_dead_writes") == 1
    writer.readonly = False
    flusher.flush_once()  # not due yet: a retry every dead_retry_seconds, not every turn
    assert writer.written == []
    flusher.dead_retry_seconds = 0.0
    flusher._next_dead_retry = 0.0
    flusher.flush_once()
    assert writer.written == ["a"] and outbox.dead() == 0
    assert metrics.registry.get_sample_value("driftwarden_mlflow_dead_writes") == 0


def test_dead_writes_fire_an_alert_and_resolve_it() -> None:
    rules = AlertRules(AlertsConfig(), "m", Metrics(CollectorRegistry()))
    [fired] = rules.evaluate_time(now=1.0, last_success_ts=1.0, dead_writes=3)
    assert (fired.rule, fired.status) == ("mlflow_dead_writes", "firing")
    assert "outbox retry" in fired.description
    [resolved] = rules.evaluate_time(now=2.0, last_success_ts=2.0, dead_writes=0)
    assert (resolved.rule, resolved.status) == ("mlflow_dead_writes", "resolved")


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n')
    return config


def test_outbox_retry_queues_parked_writes_for_the_running_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writer = ReadOnlyStore()
    outbox = _parked(tmp_path / "state" / "outbox.db", writer, ["a", "b", "c"])
    config = _config(tmp_path)
    assert main(["outbox", "retry", "--config", str(config), "b"]) == 0
    assert "queued 1 parked MLflow write(s) again; 2 still parked" in capsys.readouterr().out
    assert outbox.pending() == 1 and [i.attempts for i in outbox.peek()] == [0]
    assert main(["outbox", "retry", "--config", str(config), "b", "nope"]) == 1
    assert main(["outbox", "retry", "--config", str(config), "--all"]) == 0
    assert outbox.dead() == 0 and outbox.pending() == 3
    writer.readonly = False
    assert outbox.flush(writer) == 3 and writer.written == ["a", "b", "c"]


def test_outbox_retry_needs_keys_or_all(tmp_path: Path) -> None:
    assert main(["outbox", "retry", "--config", str(_config(tmp_path))]) == 2
