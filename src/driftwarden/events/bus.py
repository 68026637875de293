"""A small in-process event bus: ``publish`` hands an event to every subscriber, at once.

Delivery is synchronous on the publisher's thread, in subscription order, so a subscriber
sees events in the order one thread published them. A subscriber that raises is logged and
skipped: reporting never breaks the work that reports. Subscribers must be quick (log a
line, append to a list, put on a queue); anything slow belongs on its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from driftwarden.events.types import Event

log = logging.getLogger(__name__)

Subscriber = Callable[[Event], None]
# What a part that reports gets: the bus's ``publish`` (or any function taking an event).
Publish = Callable[[Event], None]


class EventBus:
    """Subscribers by event type; ``subscribe`` with no type receives every event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[tuple[tuple[type[Event], ...], Subscriber], ...] = ()

    def subscribe(self, subscriber: Subscriber, *kinds: type[Event]) -> Callable[[], None]:
        """Add ``subscriber`` for ``kinds`` (all events when none); returns the unsubscribe."""
        entry = (kinds or (Event,), subscriber)
        with self._lock:
            self._subscribers = (*self._subscribers, entry)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not entry)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for kinds, subscriber in self._subscribers:  # a snapshot: the tuple is replaced whole
            if isinstance(event, kinds):
                try:
                    subscriber(event)
                except Exception:
                    log.exception("event subscriber failed", extra={"event": event.name})
