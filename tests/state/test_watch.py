"""StateWatch: one report per outage, no file handed out until a probe writes, then one
"recovered" (the main loop rescans). Probing is driven by a hand-moved clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.errors import StateUnavailable
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.observability.http import HealthState
from driftwarden.observability.metrics import Metrics
from driftwarden.state import availability
from driftwarden.state.watch import StateWatch


class Disk:
    def __init__(self) -> None:
        self.full = False
        self.probes = 0

    def probe(self) -> None:
        self.probes += 1
        if self.full:
            raise StateUnavailable("ledger.db: database or disk is full")


def _watch(tmp_path: Path, disk: Disk, now: list[float]) -> tuple[StateWatch, Metrics, Recorder]:
    metrics, events = Metrics(CollectorRegistry()), Recorder()
    watch = StateWatch(tmp_path, disk.probe, metrics, HealthState(), events, clock=lambda: now[0])
    return watch, metrics, events


def test_an_outage_is_reported_once_probed_with_backoff_and_recovered_once(
    tmp_path: Path,
) -> None:
    disk, now = Disk(), [100.0]
    watch, metrics, events = _watch(tmp_path, disk, now)
    assert watch.poll(now[0]) == "writable"
    disk.full = True
    watch.failed(StateUnavailable("ledger.db: database or disk is full"))
    watch.failed(StateUnavailable("outbox.db: disk I/O error"))  # same outage: no new report
    assert [e.reason for e in events.of(ev.StateNotWritable)] == [
        "ledger.db: database or disk is full"
    ]
    assert metrics.registry.get_sample_value("driftwarden_state_writable") == 0
    assert not watch.writable and watch.reason is not None
    assert watch.poll(now[0]) == "unavailable" and disk.probes == 0  # not due yet
    now[0] += 1.0
    assert watch.poll(now[0]) == "unavailable" and disk.probes == 1
    assert watch.next_probe() == pytest.approx(now[0] + 1.0)  # 1, 2, 4 … seconds apart
    now[0] += 1.0
    assert watch.poll(now[0]) == "unavailable" and disk.probes == 2
    assert watch.next_probe() == pytest.approx(now[0] + 2.0)
    disk.full = False
    now[0] += 2.0
    assert watch.poll(now[0]) == "recovered"
    assert watch.poll(now[0]) == "writable"
    assert watch.writable and watch.next_probe() is None
    [back] = events.of(ev.StateWritableAgain)
    assert back.unavailable_seconds == pytest.approx(4.0)
    assert metrics.registry.get_sample_value("driftwarden_state_writable") == 1


def test_too_little_free_space_pauses_before_a_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk, now = Disk(), [0.0]
    watch, _, events = _watch(tmp_path, disk, now)
    monkeypatch.setattr(availability, "MIN_FREE_BYTES", 1 << 62)  # more than any disk has
    assert watch.poll(now[0]) == "unavailable"
    [down] = events.of(ev.StateNotWritable)
    assert "bytes free" in down.reason
    now[0] += 5.0
    assert watch.poll(now[0]) == "unavailable" and disk.probes == 0  # no room: no probe write
    monkeypatch.setattr(availability, "MIN_FREE_BYTES", 1)
    now[0] += 5.0
    assert watch.poll(now[0]) == "recovered" and disk.probes == 1
