"""Building the daemon's parts from a validated config, each complete when built.

``assemble`` opens the state, builds the shared parts and one keeper per kept model
(restoring what the last run left for it: alert state, the production version gauge, stale
retrains); nothing starts a thread here. The ``Daemon`` then starts the parts in
``Parts.components()`` order. A model added later (a reload, a lease) is built by the same
factory and started on its own by ``Keepers.add``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from driftwarden.alerts.sinks import build_sinks
from driftwarden.config.model import Settings
from driftwarden.daemon.intake.files import NameFilter, drop_dirs
from driftwarden.daemon.intake.intake import Intake, KeptFiles
from driftwarden.daemon.intake.reference import load_file_reference
from driftwarden.daemon.intake.watcher import make_watch
from driftwarden.daemon.jobs.alerting import AlertOutlet
from driftwarden.daemon.jobs.keeper import Keeper, Shared, build_keeper
from driftwarden.daemon.jobs.keepers import STOP_SECONDS, KeeperFactory, Keepers
from driftwarden.daemon.jobs.queue import Rescan
from driftwarden.daemon.jobs.reports import ReportDesk
from driftwarden.daemon.jobs.scheduler import Scheduler
from driftwarden.daemon.ownership.leases import LeaseKeeper, OwnershipHooks
from driftwarden.daemon.ownership.wiring import (
    job_queue,
    lease_keeper,
    models_hooks,
    takeover_hooks,
)
from driftwarden.daemon.service.hooks import HOOK_PATH, RegistryHook
from driftwarden.daemon.service.lifecycle import Component
from driftwarden.daemon.service.systemd import Notifier, StopNotice
from driftwarden.data.prepared_store import PreparedStore
from driftwarden.errors import ConfigError
from driftwarden.events import Publish
from driftwarden.events.types import AlertsRestored, HalfDoneFilesFound, StaleRetrainsFailed
from driftwarden.observability.http import HealthState, MetricsServer
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.flusher import OutboxFlusher
from driftwarden.outbox.mlflow_calls import InProcessCalls
from driftwarden.outbox.queue import Outbox
from driftwarden.outbox.writer import MlflowWriter
from driftwarden.outbox.writer_process import WriterProcess
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
    keepers: Keepers
    rescan: Rescan
    hook: RegistryHook
    state: StateWatch
    leases: LeaseKeeper | None = None  # on a shared state only (see daemon/ownership)

    @property
    def keeper(self) -> Keeper:
        """The keeper of the only model kept (a single ``[model]``; the tests)."""
        return self.keepers.one()

    def components(self) -> list[Part]:
        """Every long-lived part, in start order (stopped in reverse).

        ``keepers`` starts each model's worker, retrain runner and watch (armed before the
        start-up scan) and reports them to ``/healthz`` itself, one entry per model.
        """
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
            Part("keepers", self.keepers, STOP_SECONDS, watched=False),
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
    paths = state_paths(settings)
    metrics = Metrics(max_features=settings.metrics.max_features)
    health = HealthState(WEDGED_AFTER_SECONDS)
    _recover(ledger, publish)
    health.mark_config_loaded()
    metrics.set_pending_writes(outbox.pending())
    metrics.set_dead_writes(outbox.dead())
    state = StateWatch(
        settings.state.directory, lambda: _probe(ledger, outbox), metrics, health, publish
    )
    # The hook reaches the keepers built below only when a delivery arrives (after start).
    hook = RegistryHook(current.get, lambda *asked: keepers.request(*asked), publish)
    http = _endpoint(settings, metrics, health, hook)
    outlet = AlertOutlet(lambda: build_sinks(current.get().alerts, _generator(http)), publish)
    mlflow = MlflowAccess(settings)
    reports = ReportDesk()
    flusher = _flusher(
        settings, outbox, ledger, mlflow, reports, metrics, health, state, publish,
        busy=lambda: any(k.worker.jobs.qsize() for k in keepers),
    )  # fmt: skip
    intake = Intake(KeptFiles(ledger, lambda m: model_settings(current, m)), publish)
    rescan = Rescan(wake)
    shared = Shared(
        ledger, outbox, metrics, health, mlflow, outlet, flusher.wake, rescan, publish,
        paths["reports"], paths["reference"], state, lambda model: job_queue(model, fences),
        reports,
        PreparedStore(paths["prepared"]),
    )  # fmt: skip
    build = _keeper_factory(current, intake, shared, engine)
    initial = {model: build(model, None) for model in settings.kept_models()}
    keepers = Keepers(
        build, lambda k: make_watch(k.config().watch, wake), initial, intake, health, publish,
        metrics.forget_model,
    )  # fmt: skip
    scheduler = Scheduler(lambda kind, reason: keepers.request_all(kind, reason), settings.schedule)
    leases = _leases(engine, fences, current, keepers, shared)
    return Parts(
        current, ledger, outbox, metrics, health, http, outlet, flusher, intake, scheduler,
        Notifier(), keepers, rescan, hook, state, leases,
    )  # fmt: skip


def _endpoint(
    settings: Settings, metrics: Metrics, health: HealthState, hook: RegistryHook
) -> Endpoint | None:
    """The metrics endpoint (it also takes the registry's webhook), unless metrics are off."""
    if not settings.metrics.enabled:
        return None
    return Endpoint(
        metrics, health, settings.metrics.address, settings.metrics.port, {HOOK_PATH: hook}
    )


def _flusher(
    settings: Settings,
    outbox: Outbox,
    ledger: Ledger,
    mlflow: MlflowAccess,
    reports: ReportDesk,
    metrics: Metrics,
    health: HealthState,
    state: StateWatch,
    publish: Publish,
    busy: Callable[[], bool],
) -> OutboxFlusher:
    """The outbox's flusher and its MLflow writer (in a child process unless configured
    in-process); ``busy``: whether a job waits, so the flusher leaves the cores to it."""
    calls = WriterProcess(settings) if settings.mlflow.writer == "process" else None
    writer = MlflowWriter(
        calls or InProcessCalls(mlflow), publish, ledger.record_check_run, reports.page
    )
    return OutboxFlusher(
        outbox, writer, metrics, publish, on_turn=lambda: health.heartbeat("outbox"),
        on_state_error=state.failed, busy=busy, child=calls,
    )  # fmt: skip


def _leases(
    engine: StateEngine,
    fences: Fences | None,
    current: Current[Settings],
    keepers: Keepers,
    shared: Shared,
) -> LeaseKeeper | None:
    """The lease keeper of a shared state (None on a state of this instance alone)."""
    if fences is None:
        return None
    hooks = models_hooks(lambda model: _takeover_hooks(keepers.get(model), shared.ledger))
    return lease_keeper(
        engine.leases(), instance_id(current.get()), current.get, fences, hooks,
        shared.metrics, shared.publish, shared.health,
    )  # fmt: skip


def _takeover_hooks(keeper: Keeper | None, ledger: Ledger) -> OwnershipHooks | None:
    """What taking a kept model over does (None: the model is no longer kept here)."""
    if keeper is None:
        return None
    return takeover_hooks(keeper.model, keeper.config, ledger, keeper.alerts.rules, keeper.requests)


def _probe(ledger: Ledger, outbox: Outbox) -> None:
    """A write to the ledger and an open of the outbox (what a full disk stops first)."""
    ledger.probe()
    outbox.pending()


def model_settings(current: Current[Settings], model: str) -> Settings | None:
    """``model``'s settings in force (None when the config in force does not keep it)."""
    return current.get().kept_models().get(model)


def model_config(
    current: Current[Settings], model: str, first: Settings | None = None
) -> Callable[[], Settings]:
    """``model``'s settings in force, read per use (a reload applies to the next job).

    ``first``: the settings that keep the model while the config in force does not yet (a
    reload prepares a keeper before it swaps the config). A model that a reload removed
    keeps its last settings until its keeper has stopped.
    """
    built_under = current.get()
    if first is None:
        first = built_under.kept_models()[model]
    last: list[tuple[Settings, Settings]] = [(built_under, first)]  # (in force, the view)

    def get() -> Settings:
        settings = current.get()
        if last[0][0] is not settings:
            view = settings.kept_models().get(model)
            last[0] = (settings, view if view is not None else last[0][1])
        return last[0][1]

    return get


def _keeper_factory(
    current: Current[Settings], intake: Intake, shared: Shared, engine: StateEngine
) -> KeeperFactory:
    """Builds a model's keeper with what the last run left for it (alerts, version, retrains)."""

    def build(model: str, settings: Settings | None) -> Keeper:
        config = model_config(current, model, settings)

        def names() -> NameFilter:
            """The watch's in force; the config's before the keeper starts (jobs run by hand)."""
            try:
                return intake.names(model)
            except KeyError:
                watch = config().watch
                return NameFilter(watch, drop_dirs(watch))

        keeper = build_keeper(model, config, names, shared)
        _recover_model(keeper, shared, engine)
        settings = config()
        if settings.reference.source == "file":
            try:
                keeper.reference.set(load_file_reference(settings, keeper.reference.store))
            except ConfigError as exc:
                if not current.get().several_models:
                    raise
                raise ConfigError(f"model {model}: {exc}") from None
        return keeper

    return build


def _generator(http: Endpoint | None) -> str | None:
    """The link Alertmanager shows with an alert: the daemon's /metrics."""
    return http.url + "/metrics" if http is not None else None


def _recover(ledger: Ledger, publish: Publish) -> None:
    """Files a crash left half-done (each is redone when its model's watch sees it again)."""
    half_done = ledger.processing()
    if half_done:
        publish(HalfDoneFilesFound(len(half_done)))


def _recover_model(keeper: Keeper, shared: Shared, engine: StateEngine) -> None:
    """What the last run left for one model: retrains it left running, the version in force,
    alerts that were firing (they stay open)."""
    model, ledger, metrics = keeper.model, shared.ledger, shared.metrics
    metrics.initialise(model)
    stale = fail_stale_retrains(ledger, engine.retrain_lock(model), model)
    if stale:
        shared.publish(StaleRetrainsFailed(stale, model))
    previous = ledger.last_model_version(model)
    if previous is not None:
        metrics.set_production_version(model, previous["version"])
    still_firing = ledger.firing_alerts(model)
    if still_firing:
        keeper.alerts.rules.restore(still_firing)
        rules = tuple(sorted({str(a["rule"]) for a in still_firing}))
        shared.publish(AlertsRestored(model, rules))
