"""The log as a subscriber of events: one readable line per event, its fields as extras.

Operators read these lines, so they stay the sentences they were; what a line says is
declared here, once per event type, next to its level and logger. The JSON format carries
``event`` (the event's name) and the fields, which is what another process (a test reading
a subprocess daemon's log) matches on, never the sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from driftwarden.events import types as ev

DEBUG, INFO, WARNING, ERROR = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR


@dataclass(frozen=True)
class LogLine:
    """How one event type is logged: level, logger name and the sentence."""

    level: int | Callable[[Any], int]
    logger: str
    text: Callable[[Any], str]


def _verdict(drift: bool) -> str:
    return "dataset drift" if drift else "no drift"


def _changes(changes: tuple[str, ...]) -> str:
    return "; ".join(changes)


SERVICE = "driftwarden.daemon"
FILES = "driftwarden.daemon.files"
CHECKS = "driftwarden.daemon.checks"
REGISTRY = "driftwarden.daemon.registry"
OWNERSHIP = "driftwarden.daemon.ownership"

# event type -> its log line. An event without an entry is not logged.
LINES: dict[type[ev.Event], LogLine] = {
    ev.DaemonReady: LogLine(INFO, SERVICE, lambda e: "daemon ready"),
    ev.HalfDoneFilesFound: LogLine(
        INFO, SERVICE, lambda e: "files left half-processed by the last run will be redone"
    ),
    ev.StaleRetrainsFailed: LogLine(
        WARNING, SERVICE, lambda e: "retrains left running by the last run marked failed"
    ),
    ev.AlertsRestored: LogLine(
        INFO, SERVICE, lambda e: "alerts firing before the restart are still open"
    ),
    ev.RescanDone: LogLine(DEBUG, SERVICE, lambda e: "drop directories scanned"),
    ev.StopRequested: LogLine(INFO, SERVICE, lambda e: "stop requested"),
    ev.StillBusyAtStop: LogLine(
        WARNING,
        SERVICE,
        lambda e: (
            f"{e.component} still busy at the stop deadline;"
            " what it was doing is redone at the next start"
        ),
    ),
    ev.DaemonStopped: LogLine(INFO, SERVICE, lambda e: "daemon stopped"),
    ev.ReloadStarted: LogLine(INFO, SERVICE, lambda e: "reloading config"),
    ev.ConfigReloaded: LogLine(
        INFO,
        SERVICE,
        lambda e: (
            "config reloaded: " + _changes(e.changes)
            if e.changes
            else "config reloaded (nothing changed)"
        ),
    ),
    ev.ReloadRefused: LogLine(
        ERROR,
        SERVICE,
        lambda e: f"config reload refused; the old config stays in force: {e.reason}",
    ),
    ev.RestartNeeded: LogLine(
        WARNING,
        SERVICE,
        lambda e: f"[{e.section}] changed: takes effect after a restart ({_changes(e.changes)})",
    ),
    ev.KeeperStarted: LogLine(INFO, SERVICE, lambda e: f"keeping model {e.model}"),
    ev.KeeperStopped: LogLine(
        lambda e: INFO if e.finished else WARNING,
        SERVICE,
        lambda e: (
            f"no longer keeping model {e.model}"
            + ("" if e.finished else "; its unfinished work is redone by whoever keeps it next")
        ),
    ),
    ev.RegistryHookHeard: LogLine(
        INFO, REGISTRY, lambda e: f"MLflow webhook {e.kind}: polling the registry now"
    ),
    ev.RegistryHookIgnored: LogLine(
        DEBUG, REGISTRY, lambda e: f"MLflow webhook {e.kind} for a model not kept here: ignored"
    ),
    ev.RegistryHookRefused: LogLine(
        WARNING, REGISTRY, lambda e: f"MLflow webhook refused ({e.status}); nothing changed"
    ),
    ev.FileChecked: LogLine(INFO, FILES, lambda e: f"file checked: {_verdict(e.dataset_drift)}"),
    ev.FileQuarantined: LogLine(WARNING, FILES, lambda e: f"file quarantined: {e.reason}"),
    ev.FileDuplicate: LogLine(
        INFO, FILES, lambda e: f"duplicate of file #{e.duplicate_of}: not checked again"
    ),
    ev.FileRedo: LogLine(INFO, FILES, lambda e: "redoing a file left half-processed"),
    ev.FileMoveFinished: LogLine(
        INFO, FILES, lambda e: "finishing the move of a file handled before a restart"
    ),
    ev.FilesWaitForReference: LogLine(
        INFO, FILES, lambda e: "no reference yet (no production model?): files wait"
    ),
    ev.WindowDriftChecked: LogLine(
        INFO, CHECKS, lambda e: f"window drift check: {_verdict(e.dataset_drift)}"
    ),
    ev.WindowDriftSkipped: LogLine(INFO, CHECKS, lambda e: f"window drift skipped: {e.why}"),
    ev.ValidationChecked: LogLine(
        INFO, CHECKS, lambda e: f"validation: {'below minimum' if e.breached else 'ok'}"
    ),
    ev.ValidationSkipped: LogLine(INFO, CHECKS, lambda e: f"validation skipped: {e.why}"),
    ev.PerformanceEstimated: LogLine(
        lambda e: WARNING if e.breached else INFO,
        CHECKS,
        lambda e: (
            "performance estimated: "
            + (f"below the limit ({', '.join(e.breached)})" if e.breached else "within limits")
        ),
    ),
    ev.EstimationUnavailable: LogLine(
        WARNING, CHECKS, lambda e: f"no performance estimate for this model version: {e.why}"
    ),
    ev.ReferenceInForce: LogLine(INFO, REGISTRY, lambda e: "reference in force"),
    ev.ReferenceLoaded: LogLine(INFO, REGISTRY, lambda e: f"reference {e.how}"),
    ev.NoProductionModel: LogLine(INFO, REGISTRY, lambda e: "no production model yet"),
    ev.ModelMoved: LogLine(INFO, REGISTRY, lambda e: "production model moved; loading it"),
    ev.ModelInForce: LogLine(INFO, REGISTRY, lambda e: "production model in force"),
    # The alert itself is written by the ``log`` sink when it is configured.
    ev.AlertNotified: LogLine(
        DEBUG, "driftwarden.alerts", lambda e: f"alert rules: {e.alertname} {e.status}"
    ),
    ev.AlertDeliveryRetrying: LogLine(
        WARNING, "driftwarden.alerts", lambda e: "alert delivery failed, retrying"
    ),
    ev.AlertDeliveryFailed: LogLine(
        ERROR,
        "driftwarden.alerts",
        lambda e: (
            "alert delivery failed at shutdown, giving up"
            if e.at_shutdown
            else "alert delivery failed, giving up"
        ),
    ),
    ev.RetrainRequested: LogLine(
        INFO, "driftwarden.remediation", lambda e: "retrain cycle starting"
    ),
    ev.RetrainJoined: LogLine(
        INFO, "driftwarden.remediation", lambda e: f"retrain not started: {e.reason}"
    ),
    ev.TrainingStarted: LogLine(
        INFO, "driftwarden.remediation", lambda e: f"retrain: starting {e.command}"
    ),
    ev.RetrainDecided: LogLine(
        lambda e: WARNING if e.outcome == "failed" else INFO,
        "driftwarden.remediation",
        lambda e: f"retrain cycle: {e.summary}",
    ),
    ev.RetrainCancelled: LogLine(
        INFO,
        "driftwarden.remediation",
        lambda e: "retrain cycle cancelled by the shutdown; no alert",
    ),
    ev.OutboxWritten: LogLine(INFO, "driftwarden.outbox", lambda e: "logged to MLflow"),
    ev.OutboxAlreadyWritten: LogLine(
        INFO, "driftwarden.outbox", lambda e: "outbox write already in MLflow; skipped"
    ),
    ev.OutboxWriteFailed: LogLine(
        WARNING,
        "driftwarden.outbox",
        lambda e: (
            f"outbox write {e.outbox_key} ({e.kind}) failed: {e.error}"
            + ("; parked as dead after repeated failures" if e.parked else "")
        ),
    ),
    ev.MlflowUnreachable: LogLine(
        WARNING, "driftwarden.outbox", lambda e: "MLflow unreachable; writes wait in the outbox"
    ),
    ev.MlflowReachable: LogLine(
        INFO, "driftwarden.outbox", lambda e: "MLflow reachable again; flushing the outbox"
    ),
    ev.OutboxPruned: LogLine(INFO, "driftwarden.outbox", lambda e: "pruned old outbox rows"),
    ev.OutboxDeadWritesDone: LogLine(
        INFO,
        "driftwarden.outbox",
        lambda e: f"{e.done} parked MLflow write(s) written on a retry; {e.dead} still parked",
    ),
    ev.StateNotWritable: LogLine(
        ERROR,
        "driftwarden.state",
        lambda e: (
            f"state not writable: {e.reason}; taking no file until it is"
            " (files wait in the drop directories)"
        ),
    ),
    ev.StateWritableAgain: LogLine(
        INFO, "driftwarden.state", lambda e: "state writable again; taking files again"
    ),
    ev.StateWaitAtStart: LogLine(
        ERROR,
        "driftwarden.state",
        lambda e: (
            f"cannot start: state not writable: {e.reason}; waiting for it"
            f" (next try in {e.retry_in_seconds:g}s; /readyz answers 503 meanwhile)"
        ),
    ),
    ev.OwnershipTaken: LogLine(
        INFO, OWNERSHIP, lambda e: f"this instance keeps model {e.model!r} now"
    ),
    ev.OwnershipLost: LogLine(
        INFO, OWNERSHIP, lambda e: f"model {e.model!r} is kept elsewhere now ({e.reason})"
    ),
    ev.StateUnreachable: LogLine(
        ERROR, OWNERSHIP, lambda e: f"state database unreachable; leases not renewed: {e.error}"
    ),
    ev.StateReachable: LogLine(INFO, OWNERSHIP, lambda e: "state database reachable again"),
}


def plain(value: Any) -> Any:
    """Field values as log extras: lists joined by commas ('-' when empty), metrics as k=v."""
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value) or "-"
    if isinstance(value, Mapping):
        return ",".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items()
        )
    return value


def describe(event: ev.Event) -> tuple[int, str] | None:
    """The level and sentence an event is logged with (None when it is not logged)."""
    line = LINES.get(type(event))
    if line is None:
        return None
    level = line.level(event) if callable(line.level) else line.level
    return level, line.text(event)


def log_event(event: ev.Event) -> None:
    """The log subscriber: one line per event (subscribe it to the bus)."""
    line = LINES.get(type(event))
    if line is None:
        return
    logger = logging.getLogger(line.logger)
    level = line.level(event) if callable(line.level) else line.level
    if not logger.isEnabledFor(level):
        return
    extra = {k: plain(v) for k, v in event.fields().items() if v is not None}
    logger.log(level, line.text(event), extra={"event": event.name, **extra})
