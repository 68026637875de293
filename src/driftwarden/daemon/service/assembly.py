"""Building the daemon's parts from a validated config, each complete when built.

``assemble`` opens the state, restores what the last run left (alert state, the production
version gauge, stale retrains), and builds every part; nothing starts a thread here. The
``Daemon`` then starts the parts in ``Parts.components()`` order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from driftwarden.alerts.sinks import build_sinks
from driftwarden.config.model import Settings
from driftwarden.daemon.intake.intake import Intake, KeptFiles
from driftwarden.daemon.intake.reference import load_file_reference
from driftwarden.daemon.intake.watcher import make_watch
from driftwarden.daemon.jobs.alerting import AlertOutlet
from driftwarden.daemon.jobs.keeper import Keeper, Shared, build_keeper
from driftwarden.daemon.jobs.queue import Requests
from driftwarden.daemon.jobs.scheduler import Scheduler
from driftwarden.daemon.ownership.leases import LeaseKeeper
from driftwarden.daemon.ownership.wiring import job_queue, lease_keeper, takeover_hooks
from driftwarden.daemon.service.lifecycle import Component
from driftwarden.daemon.service.systemd import Notifier, StopNotice
from driftwarden.errors import ConfigError
from driftwarden.events import Publish
from driftwarden.events.types import AlertsRestored, HalfDoneFilesFound, StaleRetrainsFailed
from driftwarden.observability.http import HealthState, MetricsServer
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.flusher import OutboxFlusher
from driftwarden.outbox.queue import Outbox
from driftwarden.outbox.writer import MlflowWriter
from driftwarden.remediation.policy import fail_stale_retrains
from driftwarden.state import (
    Fences,
    LeaseStore,
    Ledger,
    OutboxStore,
    Owner,
    StateEngine,
    engine_for,
    instance_id,
    is_shared,
)
from driftwarden.state.availability import state_file_writes
from driftwarden.state.paths import state_paths
from driftwarden.state.watch import StateWatch
from driftwarden.tracking.access import MlflowAccess

T = TypeVar("T")

# /healthz reports a part wedged when it has work waiting and made no progress this long.
WEDGED_AFTER_SECONDS = 60.0


class Current(Generic[T]):
    """A value swapped whole (the settings on reload); parts read it through ``get``."""

    def __init__(self, value: T) -> None:
        self._lock = threading.Lock()
        self._value = value

    def get(self) -> T:
        with self._lock:
            return self._value

    def set(self, value: T) -> None:
        with self._lock:
            self._value = value


class Endpoint(MetricsServer):
    """The metrics endpoint as the daemon starts it: a port in use is a config error."""

    def start(self) -> None:
        try:
            super().start()
        except OSError as exc:
            raise ConfigError(
                f"metrics: cannot listen on {self.address}:{self.port}: {exc.strerror}"
            ) from None


class StateStores:
    """The state stores in the lifecycle: opened by ``assemble``, closed last."""

    def __init__(
        self, ledger: Ledger, outbox: OutboxStore | None = None, leases: LeaseStore | None = None
    ) -> None:
        self.ledger = ledger
        self.outbox = outbox
        self.leases = leases

    def start(self) -> None:
        """Opened already (the parts were built with them)."""

    def close(self) -> None:
        for store in (self.leases, self.outbox):  # a shared engine's connection pools
            if store is not None:
                store.close()
        self.ledger.close()

    def join(self, timeout: float) -> bool:
        return True

    def is_alive(self) -> bool:
        return True


@dataclass(frozen=True)
class Part:
    """A part in the lifecycle: its name (and health component), how long it may take to
    stop, and whether ``/healthz`` watches it."""

    name: str
    component: Component
    stop_within: float = 1.0
    watched: bool = True


@dataclass(frozen=True)
class Parts:
    """Every part of one daemon."""

    settings: Current[Settings]
    ledger: Ledger
    outbox: Outbox
    metrics: Metrics
    health: HealthState
    http: Endpoint | None
    outlet: AlertOutlet
    flusher: OutboxFlusher
    intake: Intake
    scheduler: Scheduler
    notifier: Notifier
    keeper: Keeper
    requests: Requests
    state: StateWatch
    leases: LeaseKeeper | None = None  # on a shared state only (see daemon/ownership)

    def components(self) -> list[Part]:
        """Every long-lived part, in start order (stopped in reverse)."""
        store = self.leases.store if self.leases is not None else None
        stores = StateStores(self.ledger, self.outbox.store, store)
        parts = [Part("state", stores, watched=False)]
        if self.http is not None:
            parts.append(Part("http", self.http))
        if self.leases is not None:  # before the worker: a model not owned takes no job
            parts.append(Part("leases", self.leases, 2.0))
        return [
            *parts,
            Part("alerts", self.outlet),
            Part("outbox", self.flusher),
            Part("jobs", self.keeper.worker, 5.0),  # a job still running is redone next start
            Part("retrain", self.keeper.retrain, 1.5),  # its training run is killed first
            Part("watcher", self.intake, 2.0),
            Part("scheduler", self.scheduler),
            Part("systemd", StopNotice(self.notifier), watched=False),
        ]


def assemble(settings: Settings, publish: Publish, wake: Callable[[], None]) -> Parts:
    """Open the state and build every part; ``wake`` rouses the main loop (signals, new files)."""
    with state_file_writes(settings.state.directory):  # a full disk: StateUnavailable
        settings.state.directory.mkdir(parents=True, exist_ok=True)
    fences = Fences() if is_shared(settings) else None  # held by the lease keeper
    engine = engine_for(settings, Owner(instance_id(settings), fences))
    ledger = engine.ledger()
    try:
        outbox = Outbox(engine.outbox(), publish)
        return _build(settings, engine, fences, ledger, outbox, publish, wake)
    except BaseException:
        ledger.close()
        raise


def _build(
    settings: Settings,
    engine: StateEngine,
    fences: Fences | None,
    ledger: Ledger,
    outbox: Outbox,
    publish: Publish,
    wake: Callable[[], None],
) -> Parts:
    current = Current(settings)
    model = settings.model.name
    paths = state_paths(settings)
    metrics = Metrics(max_features=settings.metrics.max_features)
    health = HealthState(WEDGED_AFTER_SECONDS)
    _recover(settings, engine, ledger, metrics, publish)
    health.mark_config_loaded()
    metrics.set_pending_writes(outbox.pending())
    metrics.set_dead_writes(outbox.dead())
    state = StateWatch(
        settings.state.directory, lambda: _probe(ledger, outbox), metrics, health, publish
    )
    http = None
    if settings.metrics.enabled:
        http = Endpoint(metrics, health, settings.metrics.address, settings.metrics.port)
    outlet = AlertOutlet(lambda: build_sinks(current.get().alerts, _generator(http)), publish)
    mlflow = MlflowAccess(settings)
    writer = MlflowWriter(mlflow, publish, ledger.record_check_run)
    flusher = OutboxFlusher(
        outbox, writer, metrics, publish, on_turn=lambda: health.heartbeat("outbox"),
        on_state_error=state.failed,
    )  # fmt: skip
    intake = Intake(make_watch(settings.watch, wake), KeptFiles(ledger, current.get), publish)
    requests = Requests(job_queue(model, fences), wake)
    shared = Shared(
        current.get, ledger, outbox, metrics, health, mlflow, outlet,
        lambda: intake.names, flusher.wake, publish, state,
    )  # fmt: skip
    keeper = build_keeper(model, shared, requests, paths["reports"], paths["reference"] / model)
    _restore(keeper, ledger, publish)
    if settings.reference.source == "file":
        keeper.reference.set(load_file_reference(settings))
    scheduler = Scheduler(requests, settings.schedule)
    leases = None
    if fences is not None:
        hooks = takeover_hooks(model, current.get, ledger, keeper.alerts.rules, requests)
        leases = lease_keeper(
            engine.leases(), instance_id(settings), current.get, fences, hooks, metrics,
            publish, health,
        )  # fmt: skip
    return Parts(
        current, ledger, outbox, metrics, health, http, outlet, flusher, intake, scheduler,
        Notifier(), keeper, requests, state, leases,
    )  # fmt: skip


def _probe(ledger: Ledger, outbox: Outbox) -> None:
    """A write to the ledger and an open of the outbox (what a full disk stops first)."""
    ledger.probe()
    outbox.pending()


def _generator(http: Endpoint | None) -> str | None:
    """The link Alertmanager shows with an alert: the daemon's /metrics."""
    return http.url + "/metrics" if http is not None else None


def _recover(
    settings: Settings, engine: StateEngine, ledger: Ledger, metrics: Metrics, publish: Publish
) -> None:
    """What the last run left: half-done files, retrains it left running, the version in force."""
    model = settings.model.name
    metrics.initialise(model)
    half_done = ledger.processing()
    if half_done:
        publish(HalfDoneFilesFound(len(half_done)))
    only = model if is_shared(settings) else None  # other models may be others' to finish
    stale = fail_stale_retrains(ledger, engine.retrain_lock(model), only)
    if stale:
        publish(StaleRetrainsFailed(stale))
    previous = ledger.last_model_version(model)
    if previous is not None:
        metrics.set_production_version(model, previous["version"])


def _restore(keeper: Keeper, ledger: Ledger, publish: Publish) -> None:
    """Alerts that were firing when the last process stopped stay open."""
    still_firing = ledger.firing_alerts(keeper.model)
    if still_firing:
        keeper.alerts.rules.restore(still_firing)
        rules = tuple(sorted({str(a["rule"]) for a in still_firing}))
        publish(AlertsRestored(keeper.model, rules))
