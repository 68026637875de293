"""The log as a subscriber: one line per event, in both formats, with the event's name and fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from driftwarden.events import log_event
from driftwarden.events import types as ev
from driftwarden.events.log import LINES
from driftwarden.logs import setup_logging

# Events deliberately without a line: none yet (the alert itself is written by the log sink,
# its event at DEBUG).
UNLOGGED: set[type[ev.Event]] = set()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    setup_logging("DEBUG", "json", stream=stream)
    try:
        yield stream
    finally:
        setup_logging("INFO", "text")


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_event_type_has_a_log_line() -> None:
    assert set(ev.EVENTS.values()) - UNLOGGED == set(LINES)


def test_a_json_line_carries_the_event_name_and_its_fields(json_log: io.StringIO) -> None:
    log_event(ev.FileChecked("m", "/d/a.csv", True, ("x1", "x2"), {"accuracy": 0.912345}))
    log_event(ev.FileChecked("m", "/d/b.csv", False, ()))
    first, second = _lines(json_log)
    assert first["event"] == "file_checked" and first["level"] == "INFO"
    assert first["logger"] == "driftwarden.daemon.files"
    assert first["file"] == "/d/a.csv" and first["model"] == "m"
    assert first["drifted_features"] == "x1,x2" and first["validation"] == "accuracy=0.9123"
    assert second["drifted_features"] == "-" and "validation" not in second  # None: left out


def test_levels_follow_the_event(json_log: io.StringIO) -> None:
    log_event(ev.RetrainDecided("m", "c1", "failed", "failed: ..."))
    log_event(ev.RetrainDecided("m", "c2", "promoted", "promoted: ..."))
    log_event(ev.ReloadRefused("/etc/dw.toml", "bad"))
    log_event(ev.RescanDone(0, "timer"))
    levels = [(line["event"], line["level"]) for line in _lines(json_log)]
    assert levels == [
        ("retrain_decided", "WARNING"),
        ("retrain_decided", "INFO"),
        ("reload_refused", "ERROR"),
        ("rescan_done", "DEBUG"),
    ]


def test_a_quiet_level_skips_the_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        log_event(ev.RescanDone(3, "timer"))  # DEBUG
        log_event(ev.DaemonStopped())
    assert [r.event for r in caplog.records] == ["daemon_stopped"]
