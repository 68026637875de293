"""Whether the daemon's state can be written now, and finding out when it can again.

A full state disk must not stop the daemon, nor lose a file. Every part that writes state
reports a ``StateUnavailable`` here (:meth:`StateWatch.failed`); the main loop asks
:meth:`StateWatch.poll` before it hands out files. While the state is unavailable no file
is taken (files wait, untouched, in the drop directories), ``driftwarden_state_writable``
is 0, ``/healthz`` says "degraded" (alive: a restart frees no disk) and ``/readyz`` 503.
The watch probes the state 1, 2, 4 … 10 s apart; once a probe writes, the main loop scans
the drop directories and every file that came meanwhile is taken, once.

Besides write errors, a free-space check (at most once a second) notices a disk that is
nearly full before a write fails, and a probe needs that much room to resume, so a disk
at the edge does not flap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from driftwarden.errors import StateUnavailable
from driftwarden.events import Publish
from driftwarden.events.types import StateNotWritable, StateWritableAgain
from driftwarden.observability.http import HealthState
from driftwarden.observability.metrics import Metrics
from driftwarden.state.availability import free_space_problem

PROBE_BASE_SECONDS = 1.0
PROBE_CAP_SECONDS = 10.0
SPACE_CHECK_SECONDS = 1.0

Poll = Literal["writable", "unavailable", "recovered"]


class StateWatch:
    """The state's writability (thread-safe: any part reports, the main loop polls).

    Args:
        directory: the state directory (its file system's free space is watched).
        probe: writes to every store; raises ``StateUnavailable`` while it cannot.
        metrics, health, publish: where the condition is reported.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        directory: Path,
        probe: Callable[[], None],
        metrics: Metrics,
        health: HealthState,
        publish: Publish,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(directory)
        self._probe = probe
        self._metrics = metrics
        self._health = health
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._since = 0.0
        self._delay = PROBE_BASE_SECONDS
        self._next_probe = 0.0
        self._next_space_check = 0.0
        metrics.set_state_writable(True)

    @property
    def writable(self) -> bool:
        with self._lock:
            return self._reason is None

    @property
    def reason(self) -> str | None:
        """Why the state is not writable now (None while it is)."""
        with self._lock:
            return self._reason

    def next_probe(self) -> float | None:
        """When the main loop should poll again to probe (None while writable)."""
        with self._lock:
            return None if self._reason is None else self._next_probe

    def failed(self, exc: BaseException) -> None:
        """A write of the state failed for want of space (or I/O): take no file until a probe
        writes again. Safe from any thread; reported once per outage."""
        self._unavailable(str(exc) or type(exc).__name__)

    def poll(self, now: float) -> Poll:
        """For the main loop: ``writable`` (hand out files), ``unavailable`` (hand out none)
        or ``recovered`` (writable again just now: scan the drop directories)."""
        with self._lock:
            unavailable, probe_due = self._reason is not None, now >= self._next_probe
            space_due = now >= self._next_space_check
            if space_due:
                self._next_space_check = now + SPACE_CHECK_SECONDS
        if not unavailable:
            problem = free_space_problem(self.directory) if space_due else None
            if problem is None:
                return "writable"
            self._unavailable(problem)
            return "unavailable"
        if not probe_due:
            return "unavailable"
        return self._try_probe(now)

    def _try_probe(self, now: float) -> Poll:
        try:
            problem = free_space_problem(self.directory)
            if problem is not None:
                raise StateUnavailable(problem)
            self._probe()
        except StateUnavailable as exc:
            with self._lock:
                self._reason = str(exc)
                self._next_probe = now + self._delay
                self._delay = min(PROBE_CAP_SECONDS, self._delay * 2)
            self._health.set_degraded("state", f"not writable: {exc}")
            return "unavailable"
        with self._lock:
            self._reason = None
            since = self._since
        self._metrics.set_state_writable(True)
        self._health.set_degraded("state", None)
        self._publish(StateWritableAgain(round(max(0.0, self._clock() - since), 3)))
        return "recovered"

    def _unavailable(self, reason: str) -> None:
        now = self._clock()
        with self._lock:
            first = self._reason is None
            self._reason = reason
            if first:
                self._since = now
                self._delay = PROBE_BASE_SECONDS
                self._next_probe = now + self._delay
        if first:
            self._metrics.set_state_writable(False)
            self._health.set_degraded("state", f"not writable: {reason}")
            self._publish(StateNotWritable(reason))
