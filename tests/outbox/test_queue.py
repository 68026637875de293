"""The outbox keeps MLflow writes durable and ordered while MLflow is down."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from driftwarden.errors import MlflowUnavailable
from driftwarden.events import Recorder as Events
from driftwarden.events import types as ev
from driftwarden.outbox.flusher import Backoff
from driftwarden.outbox.queue import DONE_KEEP_SECONDS, MAX_ATTEMPTS
from driftwarden.outbox.queue import Outbox as _Outbox
from driftwarden.state.sqlite import SqliteOutbox


def Outbox(path: Path, clock: Any = None, publish: Any = None) -> _Outbox:
    """The outbox over the sqlite store at ``path`` (as the daemon builds it)."""
    extra = {} if clock is None else {"clock": clock}
    return _Outbox(SqliteOutbox(path), publish or Events(), **extra)


class Recorder:
    """A writer standing in for MLflow; ``down`` raises the error the real client mapping raises."""

    def __init__(self) -> None:
        self.written: list[tuple[str, dict[str, Any], str]] = []
        self.down = False
        self.broken_keys: set[str] = set()

    def __call__(self, kind: str, payload: dict[str, Any], key: str) -> None:
        if self.down:
            raise MlflowUnavailable("connection refused")
        if key in self.broken_keys:
            raise ValueError(f"cannot write {key}")
        self.written.append((kind, payload, key))


def test_flush_applies_items_in_enqueue_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    for i in range(5):
        box.enqueue("drift_check", {"i": i}, key=f"k{i}")
    writer = Recorder()
    assert box.flush(writer) == 5
    assert [p["i"] for _, p, _ in writer.written] == [0, 1, 2, 3, 4]
    assert box.pending() == 0


def test_unreachable_mlflow_keeps_items_and_resumes_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    writer = Recorder()
    box.enqueue("drift_check", {"i": 0}, key="a")
    assert box.flush(writer) == 1
    writer.down = True
    for i in range(1, 4):
        box.enqueue("drift_check", {"i": i}, key=f"k{i}")
    assert box.flush(writer) == 0
    assert box.pending() == 3
    writer.down = False
    assert box.flush(writer) == 3
    assert [p["i"] for _, p, _ in writer.written] == [0, 1, 2, 3]


def test_items_survive_a_new_process_object(tmp_path: Path) -> None:
    path = tmp_path / "state" / "outbox.db"
    Outbox(path).enqueue("validation", {"accuracy": 0.9}, key="v1")
    reopened = Outbox(path)
    assert reopened.pending() == 1
    writer = Recorder()
    reopened.flush(writer)
    assert writer.written == [("validation", {"accuracy": 0.9}, "v1")]


def test_same_key_is_queued_once_even_after_done(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.db")
    first = box.enqueue("drift_check", {"i": 1}, key="same")
    assert box.enqueue("drift_check", {"i": 2}, key="same") == first
    writer = Recorder()
    box.flush(writer)
    box.enqueue("drift_check", {"i": 3}, key="same")
    assert box.flush(writer) == 0
    assert len(writer.written) == 1


def test_poison_item_is_parked_after_max_attempts_and_queue_moves_on(tmp_path: Path) -> None:
    events = Events()
    box = Outbox(tmp_path / "outbox.db", publish=events)
    box.enqueue("drift_check", {"i": 0}, key="bad")
    box.enqueue("drift_check", {"i": 1}, key="good")
    writer = Recorder()
    writer.broken_keys.add("bad")
    for _ in range(MAX_ATTEMPTS - 1):
        assert box.flush(writer) == 0  # blocked behind the failing item, which is retried
    assert box.flush(writer) == 1  # the last attempt parks it and the good item goes through
    assert [k for _, _, k in writer.written] == ["good"]
    assert box.pending() == 0
    assert box.dead() == 1
    failed = events.of(ev.OutboxWriteFailed)
    assert [f.parked for f in failed] == [False] * (MAX_ATTEMPTS - 1) + [True]
    assert {f.outbox_key for f in failed} == {"bad"}


def test_oldest_age_uses_the_clock(tmp_path: Path) -> None:
    now = [1000.0]
    box = Outbox(tmp_path / "outbox.db", clock=lambda: now[0])
    assert box.oldest_age_seconds() is None
    box.enqueue("drift_check", {}, key="a")
    now[0] += 42
    box.enqueue("drift_check", {}, key="b")
    assert box.oldest_age_seconds() == pytest.approx(42)


def test_done_rows_older_than_a_week_are_pruned_others_kept(tmp_path: Path) -> None:
    now = [1_000_000.0]
    box = Outbox(tmp_path / "outbox.db", clock=lambda: now[0])
    box.enqueue("drift_check", {}, key="old")
    box.enqueue("drift_check", {}, key="broken")
    writer = Recorder()
    writer.broken_keys.add("broken")
    for _ in range(MAX_ATTEMPTS):
        box.flush(writer)  # "old" done, "broken" parked dead
    now[0] += DONE_KEEP_SECONDS - 10
    box.enqueue("drift_check", {}, key="recent")
    box.flush(writer)
    writer.down = True
    box.enqueue("drift_check", {}, key="waiting")
    box.flush(writer)
    assert box.unreachable
    now[0] += 20
    assert box.prune_done() == 1
    assert box.prune_done() == 0
    assert box.pending() == 1 and box.dead() == 1
    conn = sqlite3.connect(tmp_path / "outbox.db")
    try:
        keys = {row[0] for row in conn.execute("SELECT key FROM outbox")}
    finally:
        conn.close()
    assert keys == {"broken", "recent", "waiting"}


def _enqueue_many(path: str, prefix: str) -> None:
    box = Outbox(Path(path))
    for i in range(50):
        box.enqueue("drift_check", {"n": i}, key=f"{prefix}-{i}")


def test_two_processes_can_enqueue_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    Outbox(path).pending()  # create the schema first, as the daemon does at start
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_enqueue_many, args=(str(path), p)) for p in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert Outbox(path).pending() == 100


def test_backoff_doubles_and_caps() -> None:
    backoff = Backoff(base=1, cap=5)
    assert [backoff.failed() for _ in range(5)] == [1, 2, 4, 5, 5]
    backoff.succeeded()
    assert backoff.failed() == 1
