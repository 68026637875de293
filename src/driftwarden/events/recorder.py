"""A subscriber that keeps every event, for a thread that waits on what the daemon does.

The demo's narrator reads it in order (``get``); the tests wait for the event they expect
(``wait_for``) instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from driftwarden.events.types import Event

E = TypeVar("E", bound=Event)


class EventTimeout(AssertionError):
    """The expected event did not come in time (an AssertionError, so tests read as failures)."""


class Recorder:
    """Every event published to it, in arrival order; thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._events: list[Event] = []

    def __call__(self, event: Event) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    @property
    def events(self) -> list[Event]:
        with self._cond:
            return list(self._events)

    def of(self, kind: type[E]) -> list[E]:
        """The events of one type so far."""
        return [e for e in self.events if isinstance(e, kind)]

    def get(self, index: int, timeout: float) -> Event | None:
        """The ``index``-th event, waiting up to ``timeout`` seconds for it; None if it did not come."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._events) > index, timeout)
            return self._events[index] if len(self._events) > index else None

    def wait_for(
        self,
        kind: type[E],
        match: Callable[[E], bool] | None = None,
        *,
        timeout: float = 30.0,
        count: int = 1,
    ) -> list[E]:
        """Wait until ``count`` events of ``kind`` (and ``match``) were published; returns them."""
        deadline = time.monotonic() + timeout

        def found() -> list[E]:
            return [e for e in self._events if isinstance(e, kind) and (match is None or match(e))]

        with self._cond:
            while len(found()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(e.name for e in self._events[-20:])
                    raise EventTimeout(
                        f"timed out after {timeout:g}s waiting for {count} x {kind.name}"
                        f" (saw {len(found())}); last events: {seen or 'none'}"
                    )
                self._cond.wait(left)
            return found()
