"""The outbox flusher yields to queued checks, but writes a few every ``MAX_YIELD_SECONDS``
all the same, and a full batch at once when no check waits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.events import Recorder
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox import flusher as flusher_module
from driftwarden.outbox.flusher import BUSY_BATCH, MAX_YIELD_SECONDS, OutboxFlusher
from driftwarden.outbox.queue import Outbox
from driftwarden.state.sqlite import SqliteOutbox


def test_the_flusher_yields_while_checks_wait_but_not_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr(flusher_module.time, "monotonic", lambda: clock[0])
    waiting = [True]
    written: list[str] = []

    def writer(kind: str, payload: dict[str, Any], key: str) -> None:
        written.append(key)

    outbox = Outbox(SqliteOutbox(tmp_path / "outbox.db"), Recorder())
    keys = [f"k{i}" for i in range(BUSY_BATCH + 2)]
    for key in keys:
        outbox.enqueue("validation_run", {}, key)
    flusher = OutboxFlusher(
        outbox, writer, Metrics(CollectorRegistry()), Recorder(), on_turn=lambda: None,
        busy=lambda: waiting[0],
    )  # fmt: skip

    assert flusher.batch_now() is None  # checks wait: no write now
    clock[0] += MAX_YIELD_SECONDS - 0.1
    assert flusher.batch_now() is None
    clock[0] += 0.1
    assert flusher.batch_now() == BUSY_BATCH  # yielded long enough: a few all the same
    flusher.flush_once(BUSY_BATCH)
    assert written == keys[:BUSY_BATCH]
    assert flusher.batch_now() is None  # and the next wait starts over
    waiting[0] = False
    assert flusher.batch_now() == flusher.batch  # nothing waits: write at once, a full batch
    flusher.flush_once(flusher.batch)
    assert written == keys
