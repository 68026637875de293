"""The event bus: every subscriber hears what it subscribed to, in order, and a failing one harms nothing."""

from __future__ import annotations

import threading

import pytest

from driftwarden.events import Event, EventBus, EventTimeout, Recorder
from driftwarden.events import types as ev


def test_subscribers_get_the_types_they_asked_for_in_order() -> None:
    bus = EventBus()
    everything, files = Recorder(), Recorder()
    bus.subscribe(everything)
    bus.subscribe(files, ev.FileChecked, ev.FileQuarantined)
    checked = ev.FileChecked("m", "/d/a.csv", False, ())
    bus.publish(checked)
    bus.publish(ev.RescanDone(0, "timer"))
    bus.publish(ev.FileQuarantined("/d/b.csv", "/d/quarantine/b.csv", "empty"))
    assert [e.name for e in everything.events] == [
        "file_checked",
        "rescan_done",
        "file_quarantined",
    ]
    assert [e.name for e in files.events] == ["file_checked", "file_quarantined"]
    assert files.of(ev.FileChecked) == [checked]


def test_a_failing_subscriber_is_logged_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    heard = Recorder()

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(heard)
    bus.publish(ev.DaemonStopped())  # does not raise
    assert heard.of(ev.DaemonStopped) == [ev.DaemonStopped()]
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.event == "daemon_stopped"


def test_unsubscribe() -> None:
    bus = EventBus()
    heard = Recorder()
    unsubscribe = bus.subscribe(heard)
    unsubscribe()
    bus.publish(ev.DaemonStopped())
    assert heard.events == []


def test_wait_for_returns_when_the_event_comes_from_another_thread() -> None:
    recorder = Recorder()
    later = threading.Timer(0.05, recorder, args=(ev.RescanDone(2, "timer"),))
    later.start()
    [rescan] = recorder.wait_for(ev.RescanDone, lambda e: e.noted == 2, timeout=10)
    assert rescan.reason == "timer"
    with pytest.raises(EventTimeout, match="1 x file_checked"):
        recorder.wait_for(ev.FileChecked, timeout=0.05)


def test_every_event_has_a_unique_snake_case_name() -> None:
    names = [cls.name for cls in ev.EVENTS.values()]
    assert len(names) == len(set(names)) == len(ev.EVENTS)
    assert ev.EVENTS["file_checked"] is ev.FileChecked
    assert ev.StillBusyAtStop.name == "still_busy_at_stop"
