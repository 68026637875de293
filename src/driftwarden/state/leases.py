"""The lease store's interface: which instance owns which model, and which instances live.

Each model is owned by one live instance through a lease that its owner renews; a lease that
runs out may be taken by another instance, which bumps its ``epoch`` (the fencing token,
see ``state.fencing``). Every time is the store's own clock (PostgreSQL's ``clock_timestamp``),
given back as seconds *remaining*, so instances with skewed clocks agree.

The sqlite engine is embedded and serves one instance: its ``LocalLeases`` grants every
lease to the one instance in this process (nothing to share, nothing to fence).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Lease:
    """A model's lease as the store holds it; ``remaining`` < 0 means it ran out."""

    model: str
    owner: str
    epoch: int
    remaining: float


@dataclass(frozen=True)
class Membership:
    """The live instances (sorted, the caller included) after a ``join``.

    ``next_expiry``: seconds until the first *other* live instance runs out unless it
    renews (when a dead instance's models become free to take), or None.
    """

    live: tuple[str, ...]
    next_expiry: float | None = None


class LeaseStore(Protocol):
    """Leases and instance membership; thread-safe."""

    readonly: bool

    def join(self, instance: str, ttl: float) -> Membership:
        """Say ``instance`` is alive for ``ttl`` more seconds; returns who else is."""
        ...

    def leave(self, instance: str) -> None:
        """A clean stop: forget ``instance`` and let its leases run out now."""
        ...

    def acquire(self, model: str, instance: str, ttl: float) -> Lease | None:
        """Take ``model`` when its lease is free, ran out, or is ``instance``'s own (a restart
        under the same id); the epoch goes up. None when another live owner holds it."""
        ...

    def renew(self, model: str, instance: str, epoch: int, ttl: float) -> Lease | None:
        """Extend a lease still held under ``epoch``; None when it was taken over."""
        ...

    def release(self, model: str, instance: str, epoch: int) -> None:
        """Give a lease up now (another instance is to own the model)."""
        ...

    def leases(self) -> list[Lease]:
        """Every model's lease, by model name."""
        ...

    def instances(self) -> dict[str, float]:
        """Live instances and the seconds until each runs out."""
        ...

    def close(self) -> None: ...


class LocalLeases:
    """The sqlite engine's leases: one instance, in this process, owns every model."""

    readonly = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, Lease] = {}
        self._epochs: dict[str, int] = {}
        self._instance: str | None = None

    def join(self, instance: str, ttl: float) -> Membership:
        with self._lock:
            self._instance = instance
        return Membership((instance,))

    def leave(self, instance: str) -> None:
        with self._lock:
            self._held = {m: le for m, le in self._held.items() if le.owner != instance}
            if self._instance == instance:
                self._instance = None

    def acquire(self, model: str, instance: str, ttl: float) -> Lease | None:
        with self._lock:
            held = self._held.get(model)
            if held is not None and held.owner != instance:
                return None
            epoch = self._epochs.get(model, 0) + 1
            self._epochs[model] = epoch
            lease = Lease(model, instance, epoch, ttl)
            self._held[model] = lease
            return lease

    def renew(self, model: str, instance: str, epoch: int, ttl: float) -> Lease | None:
        with self._lock:
            held = self._held.get(model)
            if held is None or held.owner != instance or held.epoch != epoch:
                return None
            return held

    def release(self, model: str, instance: str, epoch: int) -> None:
        with self._lock:
            held = self._held.get(model)
            if held is not None and held.owner == instance and held.epoch == epoch:
                del self._held[model]

    def leases(self) -> list[Lease]:
        with self._lock:
            return [self._held[m] for m in sorted(self._held)]

    def instances(self) -> dict[str, float]:
        with self._lock:
            return {} if self._instance is None else {self._instance: float("inf")}

    def close(self) -> None:
        """Nothing to close (in memory)."""
