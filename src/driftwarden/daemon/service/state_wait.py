"""``driftwarden run`` on a state that cannot be written (a full disk): wait, do not crash.

Opening the state on a full disk fails (sqlite cannot create the WAL's ``-shm`` file). A
crash there would exit 1 and systemd's ``Restart=on-failure`` would start the daemon again
every few seconds, to fail the same way. Instead ``run`` says once, in one line, why it
cannot start, and waits: the metrics endpoint answers (``driftwarden_state_writable 0``,
``/healthz`` 200 "degraded", ``/readyz`` 503), systemd hears ``READY=1`` with a ``STATUS=``
that says why and gets its watchdog pings, and the state is tried again 1, 2, 4 … 30 s
apart. Once it opens, the daemon starts as usual, and its start-up scan takes every file
that waited. A stop signal meanwhile ends the wait with exit 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from driftwarden.config.model import Settings
from driftwarden.daemon.service.signals import SignalFlags
from driftwarden.daemon.service.systemd import Notifier
from driftwarden.errors import StateUnavailable
from driftwarden.events import EventBus, log_event
from driftwarden.events.types import StateWaitAtStart
from driftwarden.observability.http import HealthState, MetricsServer
from driftwarden.observability.metrics import Metrics

T = TypeVar("T")

WAIT_BASE_SECONDS = 1.0
WAIT_CAP_SECONDS = 30.0


def build_when_state_writable(build: Callable[[], T], settings: Settings) -> T | None:
    """``build()``; while it raises ``StateUnavailable``, wait and try again.

    Returns None when a stop signal ended the wait.
    """
    try:
        return build()
    except StateUnavailable as exc:
        waiting = StateWait(settings, str(exc))
    waiting.start()
    try:
        while waiting.sleep():
            try:
                return build()
            except StateUnavailable as exc:
                waiting.still(str(exc))
        waiting.notifier.stopping()
        return None
    finally:
        waiting.close()


class StateWait:
    """What answers while ``run`` waits for its state: signals, the endpoint, systemd."""

    def __init__(self, settings: Settings, reason: str) -> None:
        self.reason = reason
        self.delay = WAIT_BASE_SECONDS
        self.flags = SignalFlags()
        self.notifier = Notifier()
        self.metrics = Metrics()
        self.metrics.initialise(settings.model.name)
        self.metrics.set_state_writable(False)
        self.health = HealthState()
        self.health.mark_config_loaded()
        self.health.set_degraded("state", f"not writable: {reason}")
        metrics = settings.metrics
        self.server = (
            MetricsServer(self.metrics, self.health, metrics.address, metrics.port)
            if metrics.enabled
            else None
        )
        self.bus = EventBus()
        self.bus.subscribe(log_event)

    def start(self) -> None:
        self.flags.install()
        if self.server is not None:
            try:
                self.server.start()
            except OSError:  # the port is taken: the daemon says so once it starts
                self.server = None
        url = self.server.url if self.server is not None else None
        self.bus.publish(StateWaitAtStart(self.reason, self.delay, url))
        self.notifier.ready(self._status())

    def sleep(self) -> bool:
        """Wait until the next try (pinging systemd's watchdog); False on a stop signal."""
        deadline = time.monotonic() + self.delay
        self.delay = min(WAIT_CAP_SECONDS, self.delay * 2)
        while self.flags.stop_signal is None:
            self.notifier.watchdog()
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            self.flags.sleep(min(left, self.notifier.watchdog_interval or left))
        return False

    def still(self, reason: str) -> None:
        """The state is still not writable (perhaps for another reason now)."""
        self.reason = reason
        self.health.set_degraded("state", f"not writable: {reason}")
        self.notifier.status(self._status())

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server.join(2.0)
        self.flags.restore()
        self.flags.close()
        self.notifier.close()

    def _status(self) -> str:
        return f"waiting: state not writable: {self.reason}"
