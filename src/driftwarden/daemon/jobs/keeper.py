"""One model's parts, built together: what is in force for it, its checks, its worker, its retrains.

The model's name is an explicit parameter of every part (on every metric, alert, ledger row
and MLflow run), and its settings are its own (``Settings.kept_models``): a daemon keeps
several models, one keeper each (``keepers.Keepers`` starts and stops them one by one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from driftwarden.alerts.rules import AlertRules
from driftwarden.config.model import Settings
from driftwarden.daemon.intake.files import NameFilter
from driftwarden.daemon.intake.reference import ReferenceHolder
from driftwarden.daemon.intake.reference_store import ReferenceStore
from driftwarden.daemon.jobs.alerting import AlertFeed, AlertOutlet
from driftwarden.daemon.jobs.checks import Checker
from driftwarden.daemon.jobs.commit import Commit
from driftwarden.daemon.jobs.deadline import job_deadline_seconds
from driftwarden.daemon.jobs.estimation import Estimator, EvaluationSets
from driftwarden.daemon.jobs.file_job import FileMoves, FileProcessor
from driftwarden.daemon.jobs.queue import CHECK_KIND_OF, Job, JobQueue, Requests, Rescan, Worker
from driftwarden.daemon.jobs.registry_watch import ModelHolder, RegistryWatcher
from driftwarden.daemon.jobs.reports import ModelSource, ReportDesk
from driftwarden.daemon.jobs.retrain import RetrainRunner
from driftwarden.daemon.jobs.scheduled import WindowChecks, alert_tick
from driftwarden.data.prepared_store import PreparedStore
from driftwarden.errors import LeaseLost, StateUnavailable
from driftwarden.events import Publish
from driftwarden.observability.http import HealthState
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.queue import Outbox
from driftwarden.state import Ledger
from driftwarden.state.watch import StateWatch
from driftwarden.tracking.access import MlflowAccess


@dataclass(frozen=True)
class Shared:
    """What a model's parts share with the rest of the daemon (and with the other models)."""

    ledger: Ledger
    outbox: Outbox
    metrics: Metrics
    health: HealthState
    mlflow: MlflowAccess
    outlet: AlertOutlet
    wake_writer: Callable[[], None]
    rescan: Rescan
    publish: Publish
    reports_dir: Path  # HTML drift reports waiting for the outbox writer
    reference_root: Path  # downloaded training data, one folder per model
    state: StateWatch
    new_jobs: Callable[[str], JobQueue]  # a model's queue (owned-gated on a shared state)
    reports: ReportDesk  # file checks' HTML reports, written after their verdicts
    prepared: PreparedStore | None = None  # prepared references on disk (None: in memory)


def health_name(part: str, model: str) -> str:
    """How ``/healthz`` names one model's part: ``jobs:<model>``, ``retrain:<model>``, ..."""
    return f"{part}:{model}"


def wants_poll(settings: Settings) -> bool:
    """A model's registry is polled when its keeper starts: polling is on, or the reference
    is the production model's training data."""
    return settings.schedule.registry_poll.enabled or settings.reference.source == "model"


@dataclass(frozen=True)
class Keeper:
    """One model's parts (the worker and the retrain runner are lifecycle components)."""

    model: str
    config: Callable[[], Settings]
    reference: ReferenceHolder
    production: ModelHolder
    alerts: AlertFeed
    checker: Checker
    files: FileProcessor
    windows: WindowChecks
    registry: RegistryWatcher
    retrain: RetrainRunner
    jobs: JobQueue
    requests: Requests
    worker: Worker


def build_keeper(
    model: str, config: Callable[[], Settings], names: Callable[[], NameFilter], shared: Shared
) -> Keeper:
    """Every part of ``model``, each complete at construction (no thread starts).

    ``config`` gives the model's settings in force (its own sections, the shared ones of
    the file); ``names`` its watch's name filter in force.
    """
    s = shared
    requests = Requests(s.new_jobs(model), s.rescan)
    stored = ReferenceStore(s.prepared, model, s.publish) if s.prepared is not None else None
    reference = ReferenceHolder(model, s.publish, stored)
    production = ModelHolder()
    rules = AlertRules(config().alerts, model, s.metrics)
    alerts = AlertFeed(rules, s.ledger, s.outlet, s.publish)
    retrain = RetrainRunner(
        model, config, s.ledger, s.mlflow, s.metrics, alerts, requests, s.publish
    )
    checker = Checker(model, config, reference, production, s.reports_dir)
    commit = Commit(
        model, s.outbox, s.ledger, s.metrics, alerts, retrain.request, s.publish, s.wake_writer,
        s.reports, lambda: requests.jobs.qsize() > 0,
    )  # fmt: skip
    s.reports.register(model, ModelSource(reference, config))
    moves = FileMoves(model, s.ledger, names, config, s.metrics, s.publish)
    sets = EvaluationSets(model, s.mlflow, s.reference_root / model / "evaluation", s.publish)
    estimator = Estimator(model, config, production, sets)
    files = FileProcessor(model, s.ledger, reference, checker, commit, moves, s.publish, estimator)
    windows = WindowChecks(model, s.ledger, checker, commit, s.publish)
    registry = RegistryWatcher(
        model, config, s.mlflow, s.ledger, s.metrics, production, reference,
        s.reference_root / model, requests, s.publish,
    )  # fmt: skip
    worker = _worker(model, shared, requests.jobs, files, windows, registry, alerts)
    return Keeper(
        model, config, reference, production, alerts, checker, files, windows, registry,
        retrain, requests.jobs, requests, worker,
    )  # fmt: skip


def _worker(
    model: str,
    shared: Shared,
    jobs: JobQueue,
    files: FileProcessor,
    windows: WindowChecks,
    registry: RegistryWatcher,
    alerts: AlertFeed,
) -> Worker:
    """The model's worker: one job at a time, by kind."""

    def failed(job: Job, exc: BaseException) -> None:
        if isinstance(exc, StateUnavailable):  # not the check's fault: the state disk's
            shared.state.failed(exc)
            return
        if isinstance(exc, LeaseLost):  # not a failed check: the model's new owner redoes it
            return
        kind = CHECK_KIND_OF.get(job.kind)
        if kind is not None:
            shared.metrics.observe_check(model, kind, "error")

    def file(job: Job) -> None:
        assert job.path is not None
        if not shared.state.writable:
            return  # nothing claimed: the scan after the state is back finds the file again
        files.handle(job.path)

    def poll(job: Job) -> None:
        registry.poll()

    return Worker(
        health_name("jobs", model),
        jobs,
        handlers={
            "file": file,
            "window_drift": lambda job: windows.drift(),
            "validation": lambda job: windows.validation(job.reason),
            "registry_poll": poll,
            "alert_tick": lambda job: alert_tick(
                alerts, shared.ledger, shared.outbox, shared.state.reason
            ),
        },
        on_error=failed,
        on_turn=lambda: shared.health.heartbeat(health_name("jobs", model)),
        deadline_of=job_deadline_seconds,
        on_job=lambda until: shared.health.allow_quiet(health_name("jobs", model), until),
        on_idle=shared.reports.deliver_held,  # the pages a burst put off, once it has drained
    )
