"""The outbox over each engine's store: ordered, durable, once per key, poison parked, pruned;
and on a shared store, one writer at a time across instances."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from driftwarden.errors import MlflowUnavailable
from driftwarden.events import Recorder as Events
from driftwarden.outbox.queue import DONE_KEEP_SECONDS, MAX_ATTEMPTS, Outbox
from driftwarden.state import OutboxStore
from tests.support.state_fixtures import StateSite


class Writer:
    """Stands in for MLflow; ``down`` raises what the real client mapping raises."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.down = False
        self.broken_keys: set[str] = set()
        self.during: Any = None  # called inside a write (to act while the turn is held)

    def __call__(self, kind: str, payload: dict[str, Any], key: str) -> None:
        if self.during is not None:
            self.during()
        if self.down:
            raise MlflowUnavailable("connection refused")
        if key in self.broken_keys:
            raise ValueError(f"cannot write {key}")
        self.written.append(key)


def _box(store: OutboxStore, clock: Any = None) -> Outbox:
    return Outbox(store, Events(), **({} if clock is None else {"clock": clock}))


def test_writes_are_applied_in_order_and_resume_after_an_outage(state_site: StateSite) -> None:
    box, writer = _box(state_site.outbox()), Writer()
    box.enqueue("drift_run", {"i": 0}, key="k0", model="m")
    assert box.flush(writer) == 1
    writer.down = True
    for i in range(1, 4):
        box.enqueue("drift_run", {"i": i}, key=f"k{i}", model="m")
    assert box.flush(writer) == 0 and box.unreachable and box.pending() == 3
    writer.down = False
    assert box.flush(writer) == 3
    assert writer.written == ["k0", "k1", "k2", "k3"]


def test_items_survive_a_new_store_and_a_key_is_queued_once(state_site: StateSite) -> None:
    first = _box(state_site.outbox())
    item = first.enqueue("validation_run", {"accuracy": 0.9}, key="v1")
    assert first.enqueue("validation_run", {"accuracy": 0.1}, key="v1") == item
    reopened = _box(state_site.outbox())
    assert reopened.pending() == 1
    (peeked,) = reopened.peek()
    assert (peeked.key, peeked.kind, peeked.payload) == ("v1", "validation_run", {"accuracy": 0.9})
    writer = Writer()
    assert reopened.flush(writer) == 1
    reopened.enqueue("validation_run", {}, key="v1")  # done already: not again
    assert reopened.flush(writer) == 0 and writer.written == ["v1"]


def test_a_poison_item_is_parked_and_the_queue_moves_on(state_site: StateSite) -> None:
    box, writer = _box(state_site.outbox()), Writer()
    box.enqueue("drift_run", {}, key="bad")
    box.enqueue("drift_run", {}, key="good")
    writer.broken_keys.add("bad")
    for _ in range(MAX_ATTEMPTS - 1):
        assert box.flush(writer) == 0
    assert box.flush(writer) == 1
    assert writer.written == ["good"] and box.pending() == 0 and box.dead() == 1


def test_ages_and_pruning_follow_the_clock(state_site: StateSite) -> None:
    now = [1_000_000.0]
    box, writer = _box(state_site.outbox(), clock=lambda: now[0]), Writer()
    assert box.oldest_age_seconds() is None
    box.enqueue("drift_run", {}, key="old")
    now[0] += 42
    box.enqueue("drift_run", {}, key="recent")
    assert box.oldest_age_seconds() == pytest.approx(42)
    assert box.flush(writer, max_items=1) == 1  # "old" done at t+42
    now[0] += DONE_KEEP_SECONDS + 1
    assert box.flush(writer) == 1  # "recent" done now
    assert box.prune_done() == 1
    assert box.prune_done() == 0
    assert [i.key for i in box.peek()] == []


def test_a_readonly_store_counts_what_waits(state_site: StateSite) -> None:
    box = _box(state_site.outbox())
    box.enqueue("drift_run", {}, key="a")
    reader = state_site.outbox(readonly=True)
    assert reader.readonly and reader.pending() == 1 and reader.dead() == 0


@pytest.mark.integration
def test_one_instance_writes_the_shared_queue_at_a_time(pg_site: StateSite) -> None:
    """While instance A flushes, B's flush writes nothing; then B takes over in order."""
    box_a, box_b = _box(pg_site.outbox("a")), _box(pg_site.outbox("b"))
    for i in range(4):
        (box_a if i % 2 == 0 else box_b).enqueue("drift_run", {"i": i}, key=f"k{i}")
    writer_a, writer_b = Writer(), Writer()
    inside, release = threading.Event(), threading.Event()
    flushed_by_b: list[int] = []

    def hold_once() -> None:
        writer_a.during = None
        inside.set()
        assert release.wait(20)

    writer_a.during = hold_once
    a = threading.Thread(target=lambda: box_a.flush(writer_a, max_items=1))
    a.start()
    assert inside.wait(20)
    flushed_by_b.append(box_b.flush(writer_b))  # A holds the turn mid-write
    release.set()
    a.join(20)
    assert flushed_by_b == [0] and writer_b.written == []
    assert writer_a.written == ["k0"]
    assert box_b.flush(writer_b) == 3
    assert writer_b.written == ["k1", "k2", "k3"]


@pytest.mark.integration
def test_the_writer_turn_is_freed_when_its_holder_is_gone(pg_site: StateSite) -> None:
    """A holder's session ending (its instance killed) frees the turn for the others."""
    store_a, store_b = pg_site.outbox("a"), pg_site.outbox("b")
    with store_a.writer_turn() as mine:
        assert mine
        with store_b.writer_turn() as theirs:
            assert not theirs
        assert pg_site.terminate("a") > 0
        with store_b.writer_turn() as theirs:
            assert theirs
    with store_b.writer_turn() as theirs:
        assert theirs
