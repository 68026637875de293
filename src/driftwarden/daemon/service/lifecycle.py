"""One lifecycle for every long-lived part, and the walk that stops them.

Every part the daemon starts (watcher, scheduler, worker, retrain runner, outbox writer,
alert sinks, HTTP endpoint, state stores, systemd notifier) has the same verbs: ``start``,
``close`` (stop taking work, return at once), ``join(timeout) -> bool`` and ``is_alive`` for
the health endpoint. ``Lifecycle`` starts them in order and stops them in reverse; a part
still busy at its deadline is reported and left behind (the process exits anyway, and what
it was doing is redone at the next start). After arroyo's ProcessingStrategy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from driftwarden.events import Publish
from driftwarden.events.types import DaemonStopped, StillBusyAtStop
from driftwarden.observability.http import HealthState

log = logging.getLogger(__name__)


class Component(Protocol):
    """A long-lived part of the daemon."""

    def start(self) -> None: ...

    def close(self) -> None:
        """Stop taking work; return at once."""
        ...

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the part to finish; False when it has not."""
        ...

    def is_alive(self) -> bool: ...


@dataclass(frozen=True)
class Started:
    name: str
    component: Component
    stop_within: float
    watched: bool


class Lifecycle:
    """The parts started so far, in order; ``stop`` walks them in reverse."""

    def __init__(self, health: HealthState, publish: Publish) -> None:
        self.health = health
        self._publish = publish
        self._started: list[Started] = []

    @property
    def names(self) -> list[str]:
        return [s.name for s in self._started]

    def start(
        self, name: str, component: Component, stop_within: float = 1.0, watched: bool = True
    ) -> None:
        """Start ``component``; ``watched`` ones are reported by ``/healthz`` while they run."""
        component.start()
        self._started.append(Started(name, component, stop_within, watched))
        if watched:
            self.health.register(name, component.is_alive)

    def stop(self) -> None:
        """Close and join every started part, last started first; safe after a partial start."""
        if not self._started:
            return
        while self._started:
            part = self._started.pop()
            if part.watched:
                self.health.unregister(part.name)
            try:
                part.component.close()
                done = part.component.join(part.stop_within)
            except Exception:
                log.exception("stopping a component failed", extra={"component": part.name})
                continue
            if not done:
                self._publish(StillBusyAtStop(part.name))
        self._publish(DaemonStopped())
