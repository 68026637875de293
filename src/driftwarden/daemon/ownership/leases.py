"""The lease keeper: holds this instance's fair share of the models' leases.

A thread (lifecycle: ``start``, ``close``, ``join``) that, every third of the lease time,
says the instance is alive, works out its share of the models among the live instances
(``assignment``), renews the leases it keeps, gives up those another instance is to own,
and takes the free or run-out ones it is to own. It wakes early when another instance's
membership is about to run out, so a dead instance's models are taken over as soon as their
leases run out, within the lease time of the death.

Taking a model: the epoch goes into ``Fences`` (the ledger refuses writes without it), the
metric ``driftwarden_model_owner`` is set, ``hooks.taken(model)`` starts keeping it, and
``OwnershipTaken`` is published. Losing one does the reverse, fences first. While the state
database cannot be reached, leases are not renewed; each is dropped locally when its time
is up (the ledger would refuse its writes anyway), and taken again once the database is back.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from driftwarden.daemon.ownership.assignment import share_of
from driftwarden.errors import StateUnavailable
from driftwarden.events import Publish
from driftwarden.events.types import (
    OwnershipLost,
    OwnershipTaken,
    StateReachable,
    StateUnreachable,
)
from driftwarden.observability.http import HealthState
from driftwarden.observability.metrics import Metrics
from driftwarden.state import Fences, Lease, LeaseStore, Membership

log = logging.getLogger(__name__)

# Safety margin on every lease time: a lease is given up locally this much before it runs
# out by the database's clock, and a run-out lease is looked at this much after.
MARGIN_SECONDS = 0.1
# How soon a turn is retried while the database cannot be reached.
RETRY_SECONDS = 1.0
HEALTH_NAME = "leases"


@dataclass(frozen=True)
class OwnershipHooks:
    """What this instance does when it takes or loses a model (called on the keeper's thread)."""

    taken: Callable[[str], None]
    lost: Callable[[str], None]


@dataclass
class _Held:
    epoch: int
    valid_until: float  # monotonic; the lease runs out then unless renewed


class LeaseKeeper:
    """This instance's leases (see the module docstring)."""

    def __init__(
        self,
        store: LeaseStore,
        instance: str,
        models: Callable[[], Sequence[str]],
        lease_seconds: Callable[[], float],
        fences: Fences,
        hooks: OwnershipHooks,
        metrics: Metrics,
        publish: Publish,
        health: HealthState,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.instance = instance
        self._models = models
        self._ttl = lease_seconds
        self.fences = fences
        self.hooks = hooks
        self.metrics = metrics
        self._publish = publish
        self.health = health
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()  # guards _held against readers on other threads
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unreachable = False
        self.turns = 0

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Take this instance's share now (before the workers start), then keep it on a thread."""
        wait = self.tick()
        self._thread = threading.Thread(
            target=self._run, args=(wait,), name="driftwarden-leases", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self, wait: float) -> None:
        while not self._stop.wait(wait):
            try:
                wait = self.tick()
            except Exception:  # a bug must not end the renewals; the leases run out meanwhile
                log.exception("a lease turn failed")
                wait = RETRY_SECONDS
        try:
            self._leave()
        except Exception:
            log.exception("giving the leases up failed; they run out by themselves")

    # ---- what others read ---------------------------------------------------------------

    def owns(self, model: str) -> bool:
        with self._lock:
            return model in self._held

    def owned(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._held))

    # ---- one turn -----------------------------------------------------------------------

    def tick(self) -> float:
        """Renew, rebalance, take over; returns the seconds until the next turn."""
        started = self._clock()
        ttl = self._ttl()
        try:
            membership = self.store.join(self.instance, ttl)
            wanted = share_of(self.instance, self._models(), membership.live)
            held = set(self.owned())
            self._give_up(held - wanted, "rebalanced")
            self._renew(held & wanted, ttl, started)
            missing = self._take(wanted - held, ttl, started)
            wait = self._next_wait(ttl, membership, missing)
        except StateUnavailable as exc:
            self._state_down(str(exc), started)
            return min(RETRY_SECONDS, ttl / 3)
        self.turns += 1
        self.health.heartbeat(HEALTH_NAME, pending=0)
        if self._unreachable:
            self._unreachable = False
            self._publish(StateReachable(self.instance))
        return wait

    def _give_up(self, models: set[str], reason: str) -> None:
        for model in sorted(models):
            with self._lock:
                held = self._held.get(model)
            if held is None:
                continue
            self._lose(model, reason)  # fences first: no write of ours after this
            with contextlib.suppress(StateUnavailable):  # else it runs out by itself
                self.store.release(model, self.instance, held.epoch)

    def _renew(self, models: set[str], ttl: float, started: float) -> None:
        for model in sorted(models):
            with self._lock:
                held = self._held.get(model)
            if held is None:
                continue
            lease = self.store.renew(model, self.instance, held.epoch, ttl)
            if lease is None:
                self._lose(model, "taken over")
                continue
            with self._lock:
                held.valid_until = started + lease.remaining - MARGIN_SECONDS

    def _take(self, models: set[str], ttl: float, started: float) -> list[str]:
        missing: list[str] = []
        for model in sorted(models):
            if self._stop.is_set():
                break
            lease = self.store.acquire(model, self.instance, ttl)
            if lease is None:
                missing.append(model)
                continue
            self._taken(model, lease, started)
        return missing

    def _next_wait(self, ttl: float, membership: Membership, missing: list[str]) -> float:
        """A third of the lease, or sooner: when another instance's membership or a lease this
        instance is to take runs out."""
        wait = ttl / 3
        if membership.next_expiry is not None:
            wait = min(wait, membership.next_expiry + MARGIN_SECONDS)
        if missing:
            remaining = [le.remaining for le in self.store.leases() if le.model in missing]
            if remaining:
                wait = min(wait, max(0.0, min(remaining)) + MARGIN_SECONDS)
        return max(wait, 0.05)

    def _state_down(self, error: str, now: float) -> None:
        """The database is unreachable: report once, drop the leases whose time is up."""
        if not self._unreachable:
            self._unreachable = True
            self._publish(StateUnreachable(error))
        self.health.set_pending(HEALTH_NAME, 1)  # /healthz: wedged if it lasts
        with self._lock:
            ran_out = [m for m, held in self._held.items() if now >= held.valid_until]
        for model in sorted(ran_out):
            self._lose(model, "ran out")

    # ---- taking and losing --------------------------------------------------------------

    def _taken(self, model: str, lease: Lease, started: float) -> None:
        with self._lock:
            self._held[model] = _Held(lease.epoch, started + lease.remaining - MARGIN_SECONDS)
        self.fences.hold(model, lease.epoch)
        self.metrics.set_model_owner(model, self.instance, True)
        try:
            self.hooks.taken(model)
        except Exception:  # keeping the lease matters more; the model's keeper reports itself
            log.exception("starting to keep a model failed", extra={"model": model})
        self._publish(OwnershipTaken(model, self.instance, lease.epoch))

    def _lose(self, model: str, reason: str) -> None:
        with self._lock:
            held = self._held.pop(model, None)
        if held is None:
            return
        self.fences.drop(model)
        self.metrics.set_model_owner(model, self.instance, False)
        try:
            self.hooks.lost(model)
        except Exception:
            log.exception("stopping to keep a model failed", extra={"model": model})
        self._publish(OwnershipLost(model, self.instance, reason))

    def _leave(self) -> None:
        """A clean stop: give every model up and leave, so others take over at once."""
        self._give_up(set(self.owned()), "stopping")
        with contextlib.suppress(StateUnavailable):  # else the membership runs out by itself
            self.store.leave(self.instance)
