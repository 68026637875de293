"""What driftwarden reports, declared once: one frozen record per kind of event.

Logs (``events.log``), the demo's narration and the tests subscribe to these through an
``EventBus``; nobody reads log message text. Every event has a stable ``name`` (snake case
of the class name), which is also the ``event`` field of its JSON log line. Field values
are plain data (str, int, float, bool, tuples, mappings) so that any subscriber, in this
process or reading the log of another, sees the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Event:
    """Base of every event; ``name`` is set from the class name."""

    name: ClassVar[str] = "event"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = _snake(cls.__name__)

    def fields(self) -> dict[str, Any]:
        """The event's fields by name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# ---- the service: start, stop, reload ------------------------------------------------------


@dataclass(frozen=True)
class DaemonReady(Event):
    watching: str
    found_at_start: int
    metrics_url: str | None
    state: str


@dataclass(frozen=True)
class HalfDoneFilesFound(Event):
    """Files a crash left claimed but not recorded; each is redone when seen again."""

    count: int


@dataclass(frozen=True)
class StaleRetrainsFailed(Event):
    """Retrains a crash left 'running' in the ledger, now marked failed."""

    count: int
    model: str = ""


@dataclass(frozen=True)
class AlertsRestored(Event):
    """Alerts that were firing when the last process stopped are open again."""

    model: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class RescanDone(Event):
    """The drop directories (of every model, or of ``model``) were scanned; ``noted``
    candidate files went to the trackers."""

    noted: int
    reason: str
    model: str | None = None


@dataclass(frozen=True)
class StopRequested(Event):
    signal: str | None


@dataclass(frozen=True)
class StillBusyAtStop(Event):
    """A component had not finished at its stop deadline (its work is redone at the next start)."""

    component: str


@dataclass(frozen=True)
class DaemonStopped(Event):
    pass


@dataclass(frozen=True)
class ReloadStarted(Event):
    config: str


@dataclass(frozen=True)
class ConfigReloaded(Event):
    """A reload was applied; ``changes`` are ``key: old -> new`` lines, secrets redacted."""

    config: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class ReloadRefused(Event):
    config: str
    reason: str


@dataclass(frozen=True)
class RestartNeeded(Event):
    """A changed section that a reload does not apply; it is kept as it was until a restart."""

    section: str
    changes: tuple[str, ...]


# ---- the models kept, and the registry's webhooks -------------------------------------------


@dataclass(frozen=True)
class KeeperStarted(Event):
    """One model's keeper (its watch, worker and retrain runner) started; ``reason``: why now."""

    model: str
    watching: str
    reason: str


@dataclass(frozen=True)
class KeeperStopped(Event):
    """One model's keeper stopped; ``finished`` is False when its job or training run was
    still going at the deadline (what it was doing is redone by whoever keeps it next)."""

    model: str
    reason: str
    finished: bool


@dataclass(frozen=True)
class RegistryHookHeard(Event):
    """A verified MLflow webhook about a kept model: a registry poll of it is queued now."""

    model: str
    kind: str
    version: int | None
    alias: str | None
    delivery_id: str


@dataclass(frozen=True)
class RegistryHookIgnored(Event):
    """A verified MLflow webhook about a model this daemon does not keep: nothing happens."""

    model: str
    kind: str
    delivery_id: str


@dataclass(frozen=True)
class RegistryHookRefused(Event):
    """``POST /hooks/mlflow`` refused (``status``): nothing was parsed, nothing changed."""

    status: int


# ---- dropped files ------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChecked(Event):
    """A drop was checked and recorded (``validation`` when it was labelled and a model is in force)."""

    model: str
    file: str
    dataset_drift: bool
    drifted_features: tuple[str, ...]
    validation: Mapping[str, float] | None = None


@dataclass(frozen=True)
class FileQuarantined(Event):
    """``outcome`` is 'refused' for entries never read (symlinks leaving, fifos, unreadable)."""

    file: str
    to: str
    reason: str
    outcome: str = "quarantined"
    model: str = ""


@dataclass(frozen=True)
class FileDuplicate(Event):
    file: str
    duplicate_of: int
    model: str = ""


@dataclass(frozen=True)
class FileRedo(Event):
    """A file a crash left half-processed is checked again."""

    file: str
    attempt: int
    model: str = ""


@dataclass(frozen=True)
class FileMoveFinished(Event):
    """A file recorded before a restart but not yet moved is moved now (not checked again)."""

    file: str
    model: str = ""


@dataclass(frozen=True)
class FilesWaitForReference(Event):
    """No reference is loaded yet (no production model?): drops wait in place."""

    model: str
    file: str


# ---- scheduled checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class WindowDriftChecked(Event):
    model: str
    files: int
    dataset_drift: bool
    drifted_features: tuple[str, ...]


@dataclass(frozen=True)
class WindowDriftSkipped(Event):
    model: str
    why: str


@dataclass(frozen=True)
class ValidationChecked(Event):
    """A scheduled validation of the production model on recent labelled drops."""

    model: str
    version: str
    files: int
    reason: str
    breached: bool
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class ValidationSkipped(Event):
    model: str
    reason: str
    why: str


@dataclass(frozen=True)
class PerformanceEstimated(Event):
    """A drop's performance estimated from the model's outputs (no labels used).

    ``interval`` maps metric -> (lower, upper); ``breached`` names the metrics whose whole
    interval is past their limit; ``errors`` (estimate minus realized) only for a labelled
    drop.
    """

    model: str
    file: str
    version: str | None
    method: str
    estimated: Mapping[str, float]
    interval: Mapping[str, tuple[float, float]]
    breached: tuple[str, ...]
    errors: Mapping[str, float] | None = None
    prediction_drift: bool = False


@dataclass(frozen=True)
class EstimationUnavailable(Event):
    """No estimate for this model version: the labelled evaluation set could not be prepared
    (no held-out split logged with the model, a missing file, too few rows, ...). Published
    once per version and reason; drops are still checked for drift."""

    model: str
    version: str | None
    why: str


# ---- the reference and the production model -----------------------------------------------


@dataclass(frozen=True)
class ReferenceInForce(Event):
    model: str
    source: str
    data_version: str
    rows: int


@dataclass(frozen=True)
class ReferenceLoaded(Event):
    """A prepared reference ready: ``how`` is "stored" (mapped from the state directory's
    store, an earlier start prepared it) or "prepared" (now, and stored)."""

    model: str
    key: str
    how: str
    rows: int
    seconds: float


@dataclass(frozen=True)
class NoProductionModel(Event):
    model: str
    alias: str


@dataclass(frozen=True)
class ModelMoved(Event):
    """The alias (or stage) points at another version; it is being loaded."""

    model: str
    version: str
    previous: str | None
    via: str


@dataclass(frozen=True)
class ModelInForce(Event):
    model: str
    version: str
    previous: str | None
    run_id: str


# ---- alerts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertNotified(Event):
    """The alert rules fired (first time or repeat) or resolved an alert; sinks deliver it."""

    model: str
    rule: str
    alertname: str
    status: str
    severity: str
    summary: str
    repeat: bool = False


@dataclass(frozen=True)
class AlertDeliveryRetrying(Event):
    sink: str
    rule: str
    status: str
    attempt: int
    error: str
    delay: float


@dataclass(frozen=True)
class AlertDeliveryFailed(Event):
    """A sink gave up on an alert (retries spent, a permanent error, or the shutdown)."""

    sink: str
    rule: str
    status: str
    attempt: int
    error: str
    at_shutdown: bool = False


# ---- retraining ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrainRequested(Event):
    """A breach asks for a cycle (the cycle's lock and cooldown decide whether it trains)."""

    model: str
    trigger: str


@dataclass(frozen=True)
class RetrainJoined(Event):
    """A breach found a request already waiting; recorded as skipped_running."""

    model: str
    trigger: str
    reason: str


@dataclass(frozen=True)
class TrainingStarted(Event):
    model: str
    cycle_id: str
    command: str


@dataclass(frozen=True)
class RetrainDecided(Event):
    """Every cycle ends in one decision (``summary`` is the line ``driftwarden retrain`` prints)."""

    model: str
    cycle_id: str
    outcome: str
    summary: str
    challenger_version: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RetrainCancelled(Event):
    """The daemon's shutdown killed the training run: recorded, but no alert."""

    model: str
    cycle_id: str


# ---- the outbox (MLflow writes) -----------------------------------------------------------


@dataclass(frozen=True)
class OutboxWritten(Event):
    outbox_key: str
    kind: str
    run_id: str


@dataclass(frozen=True)
class OutboxAlreadyWritten(Event):
    """A replayed write found its run in MLflow already; nothing was logged twice."""

    outbox_key: str


@dataclass(frozen=True)
class OutboxWriteFailed(Event):
    """A write failed for a reason other than reachability; ``parked`` once retries are spent."""

    outbox_key: str
    kind: str
    error: str
    parked: bool


@dataclass(frozen=True)
class MlflowUnreachable(Event):
    pending: int
    retry_in_seconds: float
    written: int


@dataclass(frozen=True)
class MlflowReachable(Event):
    pending: int


@dataclass(frozen=True)
class OutboxPruned(Event):
    count: int


@dataclass(frozen=True)
class OutboxDeadWritesDone(Event):
    """Parked MLflow writes, tried again, were written (``dead``: how many stay parked)."""

    done: int
    dead: int


# ---- the state (ledger, outbox) ----------------------------------------------------------


@dataclass(frozen=True)
class StateNotWritable(Event):
    """The state cannot be written (a full disk): no file is taken until it can."""

    reason: str


@dataclass(frozen=True)
class StateWritableAgain(Event):
    """The state can be written again; the drop directories are scanned and files flow."""

    unavailable_seconds: float


@dataclass(frozen=True)
class StateWaitAtStart(Event):
    """``run`` found the state not writable: it waits (serving health) instead of exiting."""

    reason: str
    retry_in_seconds: float
    metrics_url: str | None


# ---- ownership: instances sharing one state database --------------------------------------


@dataclass(frozen=True)
class OwnershipTaken(Event):
    """This instance took ``model``'s lease (``epoch`` is its fencing token): it keeps the model now."""

    model: str
    instance: str
    epoch: int


@dataclass(frozen=True)
class OwnershipLost(Event):
    """This instance gave up or lost ``model``'s lease; another instance keeps it now.

    ``reason``: ``rebalanced`` (another live instance is to own it), ``taken over`` (another
    instance holds it), ``ran out`` (not renewed in time, e.g. the database was unreachable),
    ``stopping`` (a clean stop).
    """

    model: str
    instance: str
    reason: str


@dataclass(frozen=True)
class StateUnreachable(Event):
    """The shared state database cannot be reached; leases are not renewed meanwhile."""

    error: str


@dataclass(frozen=True)
class StateReachable(Event):
    """The shared state database answers again."""

    instance: str


# Every event type by name (for readers of JSON logs and for the tests).
EVENTS: dict[str, type[Event]] = {}


def _register() -> None:
    pending = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        EVENTS[cls.name] = cls
        pending.extend(cls.__subclasses__())


_register()
