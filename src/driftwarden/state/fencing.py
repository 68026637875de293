"""Fencing tokens: which lease epoch this process holds per model, checked where it writes.

The lease keeper notes the epoch of every lease it takes (``hold``) and forgets it when the
lease is lost (``drop``). A state engine that several instances share checks, inside the
transaction that records a claim, a check, an alert or a retrain, that the lease row still
says *this instance, this epoch, not expired*. A process that was paused longer than its
lease still believes it owns the model, but its epoch is stale and its writes are refused
(``LeaseLost``): the instance that took the model over redoes the work exactly once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


class Fences:
    """Model -> lease epoch held by this process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epochs: dict[str, int] = {}

    def hold(self, model: str, epoch: int) -> None:
        with self._lock:
            self._epochs[model] = epoch

    def drop(self, model: str) -> None:
        with self._lock:
            self._epochs.pop(model, None)

    def epoch(self, model: str) -> int | None:
        with self._lock:
            return self._epochs.get(model)

    def models(self) -> dict[str, int]:
        with self._lock:
            return dict(self._epochs)


@dataclass(frozen=True)
class Owner:
    """Who writes: this instance's id and, in a daemon that holds leases, its fences.

    ``fences`` None: an unfenced writer (``driftwarden retrain`` by hand, tests); its writes
    are not tied to a lease.
    """

    instance: str
    fences: Fences | None = field(default=None, compare=False)
