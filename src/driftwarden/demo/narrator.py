"""The demo's live output: the daemon's events, told as a story while they happen.

The narrator subscribes to the daemon's event bus; the demo's driver thread takes the
events in order, prints the ones that tell the loop (checks, alerts, retrain, gate,
promotion, validation) in plain words, and waits on them instead of sleeping. Warnings
the daemon logs outside its events are shown too. The full log goes to ``daemon.log`` in
the work directory as JSON lines.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import time
from collections.abc import Callable
from pathlib import PurePath

from driftwarden.events import Event
from driftwarden.events import types as ev
from driftwarden.events.log import describe, plain

Predicate = Callable[[Event], bool]
Item = Event | logging.LogRecord


class DemoTimeout(Exception):
    """An expected step did not happen in time."""


class EventFeed(logging.Handler):
    """Events from the bus (call it) and warnings logged outside events (a log handler)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.items: queue.Queue[Item] = queue.Queue()

    def __call__(self, event: Event) -> None:
        self.items.put(event)

    def emit(self, record: logging.LogRecord) -> None:
        # Event lines are told from the event itself; the log sink's alert lines likewise.
        if not hasattr(record, "event") and not record.name.startswith("driftwarden.alerts"):
            self.items.put(record)


class Narrator:
    """Prints what matters from the feed; ``wait_for`` consumes events until one matches."""

    def __init__(
        self,
        feed: EventFeed,
        print_fn: Callable[[str], None] = print,
        on_drift: Callable[[ev.FileChecked], None] | None = None,
    ) -> None:
        self.feed = feed
        self.out = print_fn
        self.on_drift = on_drift

    def wait_for(self, predicate: Predicate, timeout: float, what: str) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DemoTimeout(f"timed out after {timeout:.0f} s waiting for {what}")
            try:
                item = self.feed.items.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            self.tell(item)
            if isinstance(item, Event) and predicate(item):
                return item

    def drain(self, seconds: float) -> None:
        """Tell what arrives during ``seconds`` (alerts delivered by their own thread)."""
        with contextlib.suppress(DemoTimeout):
            self.wait_for(lambda e: False, seconds, "nothing")

    def tell(self, item: Item) -> None:
        if isinstance(item, logging.LogRecord):
            self.out(f"      ! {item.levelname.lower()}: {item.getMessage()}")
            return
        line = self._line(item)
        if line is not None:
            self.out(line)
        elif (logged := describe(item)) is not None and logged[0] >= logging.WARNING:
            self.out(f"      ! {logging.getLevelName(logged[0]).lower()}: {logged[1]}")
        if isinstance(item, ev.FileChecked) and item.drifted_features and self.on_drift:
            self.on_drift(item)

    def _line(self, e: Event) -> str | None:
        """The story's sentence for the events it tells; None for the others."""
        if isinstance(e, ev.FileChecked):
            drifted = e.drifted_features
            verdict = f"DATASET DRIFT in {len(drifted)} columns" if drifted else "no drift"
            text = f"      daemon checked {PurePath(e.file).name}: {verdict}"
            if e.validation:
                text += f"\n      validation of the production model on it: {plain(e.validation)}"
            return text
        if isinstance(e, ev.AlertNotified):
            repeat = " (repeat)" if e.repeat else ""
            return f"      ALERT {e.alertname} {e.status}{repeat}: {e.summary}"
        if isinstance(e, ev.RetrainRequested):
            return f"      retrain requested by a {e.trigger} breach"
        if isinstance(e, ev.TrainingStarted):
            return "      retraining: mlflow run of the example project on the newest labelled drop"
        if isinstance(e, ev.RetrainDecided):
            return f"      gate decision: {e.summary}"
        if isinstance(e, ev.ModelMoved):
            if e.previous:
                return f"      registry watcher: {e.via} moved from v{e.previous} to v{e.version}"
            return f"      registry watcher: {e.via} points at v{e.version}"
        if isinstance(e, ev.ModelInForce):
            return f"      production model in force: {e.model} v{e.version}"
        if isinstance(e, ev.ValidationChecked):
            verdict = "below minimum" if e.breached else "ok"
            return f"      validation ({e.reason}): {verdict}, {plain(e.metrics)}"
        return None
