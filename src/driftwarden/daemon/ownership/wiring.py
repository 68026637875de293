"""The daemon's models on a shared state: a model's jobs run only while this instance owns it.

On a shared engine (``state.url`` is PostgreSQL) the assembly builds the model's job queue
(each kept model's) as ``OwnedJobs`` (a job is dropped unless this instance holds the model's lease: files,
scheduled checks, registry polls, alert ticks alike), and a ``LeaseKeeper`` whose hooks, on
a takeover, take back the alerts the last owner left firing and ask for a rescan (files
the last owner left behind, half-done ones included) and a registry poll. On the embedded
sqlite engine nothing of this is built: the one instance keeps the model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from driftwarden.alerts.rules import AlertRules
from driftwarden.config.model import Settings
from driftwarden.daemon.jobs.queue import Job, JobQueue, Request
from driftwarden.daemon.ownership.leases import LeaseKeeper, OwnershipHooks
from driftwarden.errors import StateUnavailable
from driftwarden.events import Publish
from driftwarden.observability.http import HealthState
from driftwarden.observability.metrics import Metrics
from driftwarden.state import Fences, LeaseStore, Ledger

log = logging.getLogger(__name__)


class OwnedJobs(JobQueue):
    """A model's job queue that takes jobs only while this instance owns the model.

    A job refused here is not lost: files stay in the drop directory and are found by the
    rescan a takeover asks for; scheduled work comes round again.
    """

    def __init__(self, model: str, fences: Fences) -> None:
        super().__init__()
        self.model = model
        self.fences = fences

    def owned(self) -> bool:
        return self.fences.epoch(self.model) is not None

    def put(self, job: Job) -> bool:
        if not self.owned():
            return False
        return super().put(job)

    def get(self, timeout: float) -> Job | None:
        """The next job while the model is owned; jobs queued before a loss are dropped.

        Run after the lease went to another instance, each would read and check its file
        only to have the fenced ledger refuse it (an error logged and counted per job).
        """
        deadline = time.monotonic() + timeout
        while True:
            job = super().get(max(0.0, deadline - time.monotonic()))
            if job is None or self.owned():
                return job
            log.debug(
                "job dropped: the model is kept elsewhere now",
                extra={"model": self.model, "job": job.kind},
            )


def job_queue(model: str, fences: Fences | None) -> JobQueue:
    """The model's queue: gated by ownership on a shared state, plain otherwise."""
    return JobQueue() if fences is None else OwnedJobs(model, fences)


def takeover_hooks(
    model: str,
    config: Callable[[], Settings],
    ledger: Ledger,
    rules: AlertRules,
    request: Request,
) -> OwnershipHooks:
    """What taking ``model`` over does: the alerts still firing, a rescan, a registry poll."""

    def taken(name: str) -> None:
        if name != model:
            return
        try:  # before any job of ours runs: an alert is sent once, by whoever owns the model
            rules.restore(ledger.firing_alerts(model))
        except StateUnavailable as exc:  # the files matter more; an open alert may repeat once
            log.warning("alerts still firing not restored: %s", exc, extra={"model": model})
        request("rescan", "ownership")
        settings = config()
        if settings.schedule.registry_poll.enabled or settings.reference.source == "model":
            request("registry_poll", "ownership")

    def lost(name: str) -> None:
        """Nothing to undo: the queue refuses new jobs and the ledger refuses stale writes."""

    return OwnershipHooks(taken, lost)


def models_hooks(hooks_of: Callable[[str], OwnershipHooks | None]) -> OwnershipHooks:
    """One keeper's hooks for every kept model: ``hooks_of(model)`` gives the model's own
    (None: it is no longer kept here, nothing to do)."""

    def taken(name: str) -> None:
        hooks = hooks_of(name)
        if hooks is not None:
            hooks.taken(name)

    def lost(name: str) -> None:
        hooks = hooks_of(name)
        if hooks is not None:
            hooks.lost(name)

    return OwnershipHooks(taken, lost)


def lease_keeper(
    store: LeaseStore,
    instance: str,
    config: Callable[[], Settings],
    fences: Fences,
    hooks: OwnershipHooks,
    metrics: Metrics,
    publish: Publish,
    health: HealthState,
) -> LeaseKeeper:
    """The lease keeper of the kept models (a reload adds or drops theirs); the lease time
    follows reloads."""
    return LeaseKeeper(
        store,
        instance,
        models=lambda: list(config().kept_models()),
        lease_seconds=lambda: float(config().state.lease_seconds),
        fences=fences,
        hooks=hooks,
        metrics=metrics,
        publish=publish,
        health=health,
    )
