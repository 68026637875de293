"""One remediation cycle: assemble data, ``mlflow run``, pick and register a candidate, gate, promote.

``run_cycle`` is what the daemon calls on a breach (from its own retrain thread; it blocks
for the length of the training run) and what ``driftwarden retrain`` calls by hand. It never
raises for a failed cycle: every ending is a ``Decision`` (promoted, rejected, failed,
skipped_cooldown, skipped_running), recorded in the ledger and published as an event, for
the caller to count and alert on. Only a missing ``retrain.project_uri`` raises (``ConfigError``).
The steps are in ``steps.py``; each returns what it found or raises ``CycleEnded``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftwarden.config.model import Settings
from driftwarden.errors import ConfigError, DriftwardenError, MlflowUnavailable
from driftwarden.events import Publish, log_event
from driftwarden.events.types import RetrainDecided
from driftwarden.redact import redact
from driftwarden.remediation import dataset, steps
from driftwarden.remediation.decision import Decision
from driftwarden.remediation.policy import CycleRecord, cooldown_left, remediation_dir
from driftwarden.remediation.promote import current_version
from driftwarden.remediation.steps import CycleEnded, CycleInputs, Registered, Trained, Verdict
from driftwarden.state import Ledger, SingleFlight, engine_for, open_ledger
from driftwarden.tracking.client import configure_mlflow, unavailable_or_raise

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

# Work directories (training/holdout CSV, run log, downloaded reference) kept per state dir.
KEEP_CYCLE_DIRS = 10


def new_cycle_id() -> str:
    """Sortable and unique: UTC time plus 8 random hex digits."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


def run_cycle(
    settings: Settings,
    reason: str = "manual",
    *,
    trigger: str = "manual",
    detail: Mapping[str, Any] | None = None,
    labelled_paths: Sequence[Path] | None = None,
    client: MlflowClient | None = None,
    respect_cooldown: bool = True,
    cancel: threading.Event | None = None,
    ledger: Ledger | None = None,
    publish: Publish = log_event,
) -> Decision:
    """Run one remediation cycle and return its decision (already in the ledger).

    ``reason`` says why (recorded in the ledger, as a run and version tag); ``trigger`` is
    'drift', 'validation' or 'manual' (the daemon checks ``policy.should_trigger`` first);
    ``detail`` is what breached (recorded as JSON). ``labelled_paths`` are recent labelled
    drops (None: the processed folders, see dataset.py). ``client`` is a configured MLflow
    client (default: a new one). ``respect_cooldown=False`` lets a person override the
    cooldown (single flight always holds). Setting ``cancel`` kills the training run now.
    ``ledger`` records the cycle (default: the state directory's); ``publish`` hears the
    training start and the decision (default: the log).
    """
    if not settings.retrain.project_uri:
        raise ConfigError(
            "retrain.project_uri: required to retrain (an MLflow project path or git URI)"
        )
    lock = engine_for(settings).retrain_lock(settings.model.name)
    cycle_id = new_cycle_id()
    inputs = CycleInputs(
        cycle_id, settings, reason, trigger, dict(detail or {}), labelled_paths, cancel,
        publish, workdir=remediation_dir(settings.state.directory) / "cycles" / cycle_id,
    )  # fmt: skip
    store = open_ledger(settings) if ledger is None else ledger
    try:
        decision = _under_lock(inputs, lock, store, client, respect_cooldown)
    finally:
        if ledger is None:
            store.close()
    d = decision
    publish(
        RetrainDecided(d.model, d.cycle_id, d.outcome, d.summary(), d.challenger_version, d.error)
    )
    return decision


def _under_lock(
    inputs: CycleInputs,
    lock: SingleFlight,
    ledger: Ledger,
    client: MlflowClient | None,
    respect_cooldown: bool,
) -> Decision:
    """Single flight and cooldown first; every ending, skips included, leaves a ledger row."""
    record = CycleRecord(ledger, inputs.model, inputs.reason, inputs.trigger)
    with lock.hold() as held:
        try:
            if not held:
                raise CycleEnded("skipped_running", "another retrain cycle is running")
            cooldown = inputs.settings.retrain.cooldown_seconds
            left = cooldown_left(ledger, inputs.model, cooldown, time.time())
            if respect_cooldown and left > 0:
                raise CycleEnded(
                    "skipped_cooldown",
                    f"cooldown: {left:.0f} s left of {cooldown:g} s",
                    cooldown_left_seconds=left,
                )
        except CycleEnded as skipped:
            decision = _decision(inputs, skipped)
        else:
            decision = _decide(inputs, client, record)
        record.decided(decision)
    return decision


def _decide(inputs: CycleInputs, client: MlflowClient | None, record: CycleRecord) -> Decision:
    """The steps in turn; what each returned before the end goes into the one Decision."""
    started = time.time()
    champion: str | None = None
    training: dataset.TrainingSet | None = None
    trained: Trained | None = None
    challenger: Registered | None = None
    verdict: Verdict | None = None
    try:
        client = client or configure_mlflow(inputs.settings)
        inputs.workdir.mkdir(parents=True, exist_ok=True)
        _prune_cycle_dirs(inputs.workdir.parent, KEEP_CYCLE_DIRS)
        champion = current_version(client, inputs.settings)
        training = steps.training_set(inputs, client, champion)
        steps.require_data(training, champion, inputs.settings.model.target)
        trained = steps.train(inputs, client, champion, training, record)
        steps.require_success(inputs, client, trained)
        challenger = steps.register(inputs, client, trained)
        verdict = steps.gate(inputs, client, champion, training, challenger)
        ending = CycleEnded(verdict.outcome, verdict.reason)
    except CycleEnded as ended:
        ending = ended
    except Exception as exc:
        ending = _crashed(exc, inputs.cycle_id)
    return _decision(
        inputs,
        ending,
        started=started,
        champion=champion,
        training=training,
        trained=trained,
        challenger=challenger,
        verdict=verdict,
    )


def _crashed(exc: Exception, cycle_id: str) -> CycleEnded:
    """An exception that ended the cycle, as a failed ending naming its class.

    The reason is stored in the ledger and shown by ``status``: redacted, since an MLflow
    error can quote a tracking URI with its password.
    """
    if isinstance(exc, DriftwardenError):
        return CycleEnded("failed", redact(str(exc)), type(exc).__name__)
    mapped = unavailable_or_raise(exc)
    if not isinstance(mapped, MlflowUnavailable):
        log.exception("retrain cycle crashed", extra={"cycle_id": cycle_id})
    text = redact(str(exc))
    first_line = text.splitlines()[0][:500] if text else ""
    return CycleEnded("failed", f"{type(exc).__name__}: {first_line}", type(mapped).__name__)


def _decision(
    inputs: CycleInputs,
    ending: CycleEnded,
    *,
    started: float | None = None,
    champion: str | None = None,
    training: dataset.TrainingSet | None = None,
    trained: Trained | None = None,
    challenger: Registered | None = None,
    verdict: Verdict | None = None,
) -> Decision:
    """The cycle's one Decision, from its inputs, its ending and what the steps found."""
    cfg = inputs.settings.retrain
    run_id = challenger.run_id if challenger else (trained.run_id if trained else None)
    detail = dict(inputs.detail)
    if training is not None:
        detail["data"] = training.summary()
    return Decision(
        cycle_id=inputs.cycle_id,
        outcome=ending.outcome,
        model=inputs.model,
        reason=ending.reason,
        trigger=inputs.trigger,
        requested_reason=inputs.reason,
        run_id=run_id,
        champion_version=champion,
        challenger_version=challenger.version if challenger else None,
        metric=cfg.promotion.metric,
        champion_score=verdict.champion_score if verdict else None,
        challenger_score=verdict.challenger_score if verdict else None,
        min_improvement=cfg.promotion.min_improvement,
        training_rows=len(training.train) if training is not None else None,
        holdout_rows=len(training.holdout) if training is not None else None,
        started_at=started,
        finished_at=time.time() if started is not None else None,
        cooldown_left_seconds=ending.cooldown_left_seconds,
        log_path=trained.log_path if trained else None,
        error=ending.error,
        detail=detail,
    )


def _prune_cycle_dirs(parent: Path, keep: int) -> None:
    """Remove all but the ``keep`` newest cycle work directories (names sort by time)."""
    dirs = sorted(p for p in parent.iterdir() if p.is_dir() and not p.is_symlink())
    for old in dirs[: max(0, len(dirs) - keep)]:
        shutil.rmtree(old, ignore_errors=True)
