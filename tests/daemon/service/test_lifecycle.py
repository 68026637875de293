"""The stop walk: every started part closed then joined, last started first; a busy one reported."""

from __future__ import annotations

import threading

import pytest

from driftwarden.daemon.service.lifecycle import Lifecycle
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.observability.http import HealthState


class Part:
    """A component with a real thread that runs until closed (``stuck`` ones ignore close)."""

    def __init__(self, name: str, calls: list[str], stuck: bool = False) -> None:
        self.name = name
        self.calls = calls
        self.stuck = stuck
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._stop.wait, daemon=True)

    def start(self) -> None:
        self.calls.append(f"start {self.name}")
        self._thread.start()

    def close(self) -> None:
        self.calls.append(f"close {self.name}")
        if not self.stuck:
            self._stop.set()

    def join(self, timeout: float) -> bool:
        self.calls.append(f"join {self.name}")
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def release(self) -> None:
        self._stop.set()


def test_stop_walks_the_started_parts_in_reverse() -> None:
    calls: list[str] = []
    health, events = HealthState(), Recorder()
    lifecycle = Lifecycle(health, events)
    for name in ("state", "jobs", "watcher"):
        lifecycle.start(name, Part(name, calls))
    assert health.health().ok
    assert sorted(health.health().components) == ["jobs", "state", "watcher"]
    calls.clear()
    lifecycle.stop()
    assert calls == [
        "close watcher", "join watcher", "close jobs", "join jobs", "close state", "join state",
    ]  # fmt: skip
    assert health.health().components == {}  # closed on purpose: no longer reported
    assert [e.name for e in events.events] == ["daemon_stopped"]
    lifecycle.stop()  # twice is fine
    assert [e.name for e in events.events] == ["daemon_stopped"]


def test_a_part_busy_at_its_deadline_is_reported_and_the_walk_goes_on() -> None:
    calls: list[str] = []
    events = Recorder()
    lifecycle = Lifecycle(HealthState(), events)
    stuck = Part("jobs", calls, stuck=True)
    lifecycle.start("state", Part("state", calls))
    lifecycle.start("jobs", stuck, stop_within=0.05)
    try:
        lifecycle.stop()
    finally:
        stuck.release()
    assert calls[-2:] == ["close state", "join state"]
    assert events.of(ev.StillBusyAtStop) == [ev.StillBusyAtStop("jobs")]
    assert isinstance(events.events[-1], ev.DaemonStopped)


def test_a_part_that_fails_to_start_leaves_the_started_ones_to_stop() -> None:
    calls: list[str] = []
    lifecycle = Lifecycle(HealthState(), Recorder())
    lifecycle.start("state", Part("state", calls))

    class Broken(Part):
        def start(self) -> None:
            raise OSError("port taken")

    with pytest.raises(OSError):
        lifecycle.start("http", Broken("http", calls))
    assert lifecycle.names == ["state"]
    lifecycle.stop()
    assert calls[-2:] == ["close state", "join state"]
