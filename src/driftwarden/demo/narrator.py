"""The demo's live output: the daemon's log records, told as a story while they happen.

A logging handler hands every driftwarden record to a queue; the demo's driver thread
takes them in order, prints the ones that tell the loop (checks, alerts, retrain, gate,
promotion, validation) in plain words, and waits on them instead of sleeping. The full
log goes to ``daemon.log`` in the work directory as JSON lines.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import time
from collections.abc import Callable
from typing import Any

from driftwarden.logs import _extras

Predicate = Callable[[logging.LogRecord], bool]


class DemoTimeout(Exception):
    """An expected step did not happen in time."""


class EventFeed(logging.Handler):
    """Collects log records from every thread of the in-process daemon."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: queue.Queue[logging.LogRecord] = queue.Queue()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.put(record)


def extra(record: logging.LogRecord, key: str, default: Any = None) -> Any:
    return _extras(record).get(key, default)


def message(record: logging.LogRecord) -> str:
    return record.getMessage()


class Narrator:
    """Prints what matters from the feed; ``wait_for`` consumes records until one matches."""

    def __init__(
        self,
        feed: EventFeed,
        print_fn: Callable[[str], None] = print,
        on_drift: Callable[[logging.LogRecord], None] | None = None,
    ) -> None:
        self.feed = feed
        self.out = print_fn
        self.on_drift = on_drift
        self.seen: list[logging.LogRecord] = []

    def wait_for(self, predicate: Predicate, timeout: float, what: str) -> logging.LogRecord:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DemoTimeout(f"timed out after {timeout:.0f} s waiting for {what}")
            try:
                record = self.feed.records.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            self.seen.append(record)
            self.tell(record)
            if predicate(record):
                return record

    def drain(self, seconds: float) -> None:
        """Tell what arrives during ``seconds`` (alerts delivered by their own thread)."""
        with contextlib.suppress(DemoTimeout):
            self.wait_for(lambda r: False, seconds, "nothing")

    def tell(self, record: logging.LogRecord) -> None:
        text = message(record)
        say = self.out
        if text.startswith("file checked"):
            name = str(extra(record, "file", "")).rsplit("/", 1)[-1]
            drifted = extra(record, "drifted_features", "-")
            verdict = (
                "no drift"
                if drifted == "-"
                else f"DATASET DRIFT in {len(drifted.split(','))} columns"
            )
            say(f"      daemon checked {name}: {verdict}")
            validation = extra(record, "validation")
            if validation:
                say(f"      validation of the production model on it: {validation}")
            if drifted != "-" and self.on_drift is not None:
                self.on_drift(record)
        elif record.name == "driftwarden.alerts":
            say(f"      ALERT {text.removeprefix('alert ')}")
        elif text == "retrain cycle starting":
            say(f"      retrain requested by a {extra(record, 'trigger')} breach")
        elif text.startswith("retrain: starting"):
            say("      retraining: mlflow run of the example project on the newest labelled drop")
        elif text.startswith("retrain cycle:"):
            say(f"      gate decision: {text.removeprefix('retrain cycle: ')}")
        elif text == "production model moved; loading it":
            previous = extra(record, "previous")
            via = extra(record, "via")
            version = extra(record, "version")
            if previous:
                say(f"      registry watcher: {via} moved from v{previous} to v{version}")
            else:
                say(f"      registry watcher: {via} points at v{version}")
        elif text == "production model in force":
            say(
                f"      production model in force: {extra(record, 'model')}"
                f" v{extra(record, 'version')}"
            )
        elif text.startswith("validation:"):
            say(
                f"      validation ({extra(record, 'reason')}): {text.removeprefix('validation: ')},"
                f" {extra(record, 'metrics')}"
            )
        elif record.levelno >= logging.WARNING:
            say(f"      ! {record.levelname.lower()}: {text}")
