"""One remediation cycle: assemble data, ``mlflow run``, pick and register a candidate, gate, promote.

``run_cycle`` is what the daemon calls on a breach (from its own worker thread; it blocks
for the length of the training run) and what ``driftwarden retrain`` calls by hand. It never
raises for a failed cycle: every ending is a ``Decision`` (promoted, rejected, failed,
skipped_cooldown, skipped_running) for the caller to record in its ledger, metrics and
alerts. Only a missing ``retrain.project_uri`` raises (``ConfigError``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftwarden.config.load import load_settings
from driftwarden.config.model import Settings
from driftwarden.data.read import read_frame
from driftwarden.errors import ConfigError, DriftwardenError, MlflowUnavailable
from driftwarden.logs import setup_logging
from driftwarden.remediation import candidates, dataset
from driftwarden.remediation.decision import Decision
from driftwarden.remediation.gate import run_gate
from driftwarden.remediation.policy import CycleLock
from driftwarden.remediation.promote import current_version, move_alias
from driftwarden.remediation.runner import child_env, mlflow_run_argv, run_process
from driftwarden.tracking.client import (
    configure_mlflow,
    ensure_experiment,
    mlflow_env,
    unavailable_or_raise,
)
from driftwarden.tracking.models import download_training_data
from driftwarden.tracking.registry import register_run, tag_version

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

MAX_TAG_CHARS = 4000
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
    on_start: Callable[[Decision], None] | None = None,
    on_decision: Callable[[Decision], None] | None = None,
) -> Decision:
    """Run one remediation cycle and return its decision.

    Args:
        settings: the loaded config; ``retrain.project_uri`` must be set.
        reason: why the cycle was asked for (free text, recorded as a run and version tag).
        trigger: 'drift', 'validation' or 'manual' (recorded; the daemon checks
            ``policy.should_trigger`` before calling).
        detail: what the breach was (check id, metrics, drifted features); recorded as JSON.
        labelled_paths: recent labelled drops; None finds them in the watch paths'
            processed folders (dataset.py has the rule).
        client: an MLflow client already configured for ``settings`` (default: a new one).
        respect_cooldown: False lets a person override ``retrain.cooldown_seconds``;
            single-flight always holds.
        cancel: set it (daemon shutdown) to kill the training run's process group now.
        on_start: called once the lock is held, the cooldown has passed and the training run
            is about to start (``outcome == "running"``; e.g. a ledger 'running' row).
        on_decision: called with the final decision before returning (ledger, metrics, alert).
            An exception in ``on_start`` fails the cycle before the run starts; one in
            ``on_decision`` propagates to the caller.
    """
    cfg = settings.retrain
    if not cfg.project_uri:
        raise ConfigError(
            "retrain.project_uri: required to retrain (an MLflow project path or git URI)"
        )
    lock = CycleLock(settings.state.directory)
    cycle_id = new_cycle_id()
    base = Decision(
        cycle_id=cycle_id,
        outcome="failed",
        model=settings.model.name,
        reason="",
        trigger=trigger,
        requested_reason=reason,
        detail=dict(detail or {}),
        metric=cfg.promotion.metric,
        min_improvement=cfg.promotion.min_improvement,
    )
    with lock.hold() as held:
        if not held:
            base.outcome = "skipped_running"
            base.reason = "another retrain cycle is running"
        else:
            left = lock.read_state().cooldown_left(cfg.cooldown_seconds, time.time())
            if respect_cooldown and left > 0:
                base.outcome = "skipped_cooldown"
                base.reason = f"cooldown: {left:.0f} s left of {cfg.cooldown_seconds:g} s"
                base.cooldown_left_seconds = left
            else:
                _guarded(settings, base, lock, labelled_paths, client, cancel, on_start)
        lock.append_history(base.to_dict())
    level = logging.WARNING if base.outcome == "failed" else logging.INFO
    log.log(
        level,
        "retrain cycle: %s",
        base.summary(),
        extra={"cycle_id": cycle_id, "outcome": base.outcome},
    )
    if on_decision is not None:
        on_decision(base)
    return base


def _guarded(
    settings: Settings,
    decision: Decision,
    lock: CycleLock,
    labelled_paths: Sequence[Path] | None,
    client: MlflowClient | None,
    cancel: threading.Event | None,
    on_start: Callable[[Decision], None] | None,
) -> None:
    """Run the cycle under the lock; turn every exception into a failed decision."""
    decision.started_at = time.time()
    try:
        _cycle(settings, decision, lock, labelled_paths, client, cancel, on_start)
    except DriftwardenError as exc:
        decision.outcome = "failed"
        decision.reason = str(exc)
        decision.error = type(exc).__name__
    except Exception as exc:
        mapped = unavailable_or_raise(exc)
        decision.outcome = "failed"
        decision.error = type(mapped).__name__
        decision.reason = (
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:500] if str(exc) else ''}"
        )
        if not isinstance(mapped, MlflowUnavailable):
            log.exception("retrain cycle crashed", extra={"cycle_id": decision.cycle_id})
    finally:
        decision.finished_at = time.time()
        state = lock.read_state()
        if state.last_cycle_id == decision.cycle_id:
            lock.mark_finished(decision.outcome, decision.finished_at)


def _cycle(
    settings: Settings,
    decision: Decision,
    lock: CycleLock,
    labelled_paths: Sequence[Path] | None,
    client: MlflowClient | None,
    cancel: threading.Event | None,
    on_start: Callable[[Decision], None] | None,
) -> None:
    cfg = settings.retrain
    client = client or configure_mlflow(settings)
    name, target = settings.model.name, settings.model.target
    workdir = lock.directory / "cycles" / decision.cycle_id
    workdir.mkdir(parents=True, exist_ok=True)
    _prune_cycle_dirs(workdir.parent, KEEP_CYCLE_DIRS)

    champion = current_version(client, settings)
    decision.champion_version = champion
    reference = _reference(client, settings, champion, workdir)
    paths = (
        list(labelled_paths)
        if labelled_paths is not None
        else dataset.labelled_candidates(settings)
    )
    labelled, skipped = dataset.read_labelled(
        paths, target, cfg.recent_files, settings.watch.max_file_bytes
    )
    training = dataset.assemble(reference, labelled, target, cfg, skipped)
    decision.training_rows, decision.holdout_rows = len(training.train), len(training.holdout)
    decision.detail["data"] = training.summary()
    if len(training.train) == 0:
        decision.reason = (
            "no training data: no reference data and no labelled rows outside the holdout"
        )
        return
    if champion is not None and len(training.holdout) == 0:
        decision.reason = (
            f"no labelled rows (column {target!r}) in recent drops to hold out; the champion"
            f" v{champion} cannot be challenged without them"
        )
        return
    dataset.write(training, workdir)
    assert training.train_path is not None

    experiment_id = ensure_experiment(
        client, cfg.experiment_name, settings.mlflow.artifact_location
    )
    run_name = candidates.run_name_for(decision.cycle_id)
    tags = _run_tags(decision, training)
    tagged: set[str] = set()

    def tag_runs() -> None:
        for run_id in candidates.find_cycle_run_ids(client, experiment_id, decision.cycle_id):
            if run_id not in tagged:
                for key, value in tags.items():
                    client.set_tag(run_id, key, value)
                tagged.add(run_id)

    def poll() -> None:
        if not tagged:
            try:
                tag_runs()
            except Exception as exc:  # tagging early is a courtesy; the end retries
                log.debug("retrain: early tagging failed: %s", exc)

    argv = mlflow_run_argv(cfg, training.train_path, run_name)
    env = child_env(os.environ, mlflow_env(settings))
    lock.mark_started(decision.cycle_id, decision.started_at)
    if on_start is not None:
        decision.outcome = "running"
        try:
            on_start(decision)
        finally:
            decision.outcome = "failed"  # until the run says otherwise
    decision.log_path = str(workdir / "run.log")
    log.info("retrain: starting %s", " ".join(argv), extra={"cycle_id": decision.cycle_id})
    process = run_process(
        argv,
        env=env,
        cwd=workdir,
        log_path=workdir / "run.log",
        timeout_seconds=cfg.timeout_seconds,
        cancel=cancel,
        on_poll=poll,
    )
    tag_runs()
    run_ids = candidates.find_cycle_run_ids(client, experiment_id, decision.cycle_id)
    decision.run_id = run_ids[0] if run_ids else None
    if not process.ok:
        end = "KILLED" if (process.timed_out or process.cancelled) else "FAILED"
        for run_id in run_ids:
            if client.get_run(run_id).info.status == "RUNNING":
                client.set_terminated(run_id, end)
        if process.timed_out:
            decision.reason = f"training run exceeded retrain.timeout_seconds = {cfg.timeout_seconds:g} and was killed"
        elif process.cancelled:
            decision.reason = "training run cancelled (shutdown) and killed"
            decision.error = "Cancelled"
        else:
            decision.reason = (
                f"training run exited with code {process.returncode} (log: {process.log_path})"
            )
        return

    best, seen = candidates.best_candidate(
        client, run_ids, cfg.register_metric, cfg.register_threshold, cfg.register_better
    )
    if best is None:
        decision.outcome = "rejected"
        decision.reason = (
            f"no run of this cycle passed {candidates.rule_text(cfg.register_metric, cfg.register_threshold, cfg.register_better)}"
            f" (seen: {seen})"
        )
        return
    decision.run_id = best.run_id
    version = str(register_run(client, best.run_id, name).version)
    decision.challenger_version = version
    tag_version(client, name, version, {**tags, "driftwarden.role": "challenger"})

    gate = run_gate(client, settings, champion, version, training.holdout)
    decision.champion_score, decision.challenger_score = gate.champion_score, gate.challenger_score
    promote = gate.promote
    reason = gate.reason
    if promote and current_version(client, settings) != champion:
        promote = False
        reason = f"alias {settings.model.alias!r} moved during the cycle; not promoting over it"
    gate_tags: dict[str, object] = {
        "driftwarden.gate.cycle_id": decision.cycle_id,
        "driftwarden.gate.metric": gate.metric,
        "driftwarden.gate.champion_version": champion or "",
        "driftwarden.gate.challenger_version": version,
        "driftwarden.gate.champion_score": _num(gate.champion_score),
        "driftwarden.gate.challenger_score": _num(gate.challenger_score),
        "driftwarden.gate.min_improvement": f"{gate.min_improvement:g}",
        "driftwarden.gate.holdout_rows": str(gate.holdout_rows),
        "driftwarden.gate.holdout_version": training.holdout_version,
        "driftwarden.gate.decision": "promoted" if promote else "rejected",
        "driftwarden.gate.reason": reason[:MAX_TAG_CHARS],
    }
    tag_version(client, name, version, gate_tags)
    if champion is not None:
        tag_version(client, name, champion, gate_tags)
    if promote:
        move_alias(client, settings, version, champion, by=f"retrain {decision.cycle_id}")
    decision.outcome = "promoted" if promote else "rejected"
    decision.reason = reason


def _reference(
    client: MlflowClient, settings: Settings, champion: str | None, workdir: Path
) -> pd.DataFrame | None:
    """The reference rows: ``reference.path`` or the champion's logged training data."""
    ref = settings.reference
    if ref.source == "file":
        assert ref.path is not None
        return read_frame(ref.path, max_bytes=settings.watch.max_file_bytes)
    if champion is None:
        return None
    run_id = client.get_model_version(settings.model.name, champion).run_id
    if not run_id:
        log.warning("retrain: champion v%s has no run; training without reference data", champion)
        return None
    try:
        path = download_training_data(client, run_id, ref.artifact_path, workdir / "reference")
        return read_frame(path, max_bytes=settings.watch.max_file_bytes)
    except MlflowUnavailable:
        raise
    except DriftwardenError as exc:
        log.warning(
            "retrain: champion's training data unavailable (%s); using labelled drops only", exc
        )
        return None


def _prune_cycle_dirs(parent: Path, keep: int) -> None:
    """Remove all but the ``keep`` newest cycle work directories (names sort by time)."""
    dirs = sorted(p for p in parent.iterdir() if p.is_dir() and not p.is_symlink())
    for old in dirs[: max(0, len(dirs) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def _run_tags(decision: Decision, training: dataset.TrainingSet) -> dict[str, str]:
    """Why the run was started and on what data; also put on the registered version."""
    detail = json.dumps(decision.detail, default=str, sort_keys=True)
    return {
        "driftwarden.cycle_id": decision.cycle_id,
        "driftwarden.trigger": decision.trigger,
        "driftwarden.reason": decision.requested_reason[:MAX_TAG_CHARS],
        "driftwarden.detail": detail[:MAX_TAG_CHARS],
        "driftwarden.champion_version": decision.champion_version or "",
        "driftwarden.training_version": training.train_version,
        "driftwarden.training_rows": str(len(training.train)),
        "driftwarden.holdout_version": training.holdout_version,
        "driftwarden.holdout_rows": str(len(training.holdout)),
    }


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


# Exit codes of `driftwarden retrain` by outcome; MLflow unreachable is 3 whatever the outcome.
EXIT_CODES: dict[str, int] = {
    "promoted": 0,
    "rejected": 0,
    "failed": 1,
    "skipped_cooldown": 1,
    "skipped_running": 1,
}


def retrain_command(args: argparse.Namespace) -> int:
    """CLI: one cycle by hand (cooldown and single-flight apply); prints the decision as one line.

    Exit 0 when a decision was made (promoted or rejected), 1 when no decision was made
    (the run failed or timed out, no usable data, cooldown, another cycle running),
    2 for a bad config, 3 when MLflow was unreachable.
    """
    settings = load_settings(args.config)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    decision = run_cycle(settings, args.reason, trigger="manual")
    print(decision.summary())
    if decision.error == "MlflowUnavailable":
        return MlflowUnavailable.exit_code
    return EXIT_CODES[decision.outcome]
