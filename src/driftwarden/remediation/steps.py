"""The steps of one remediation cycle: each returns what it found or raises ``CycleEnded``.

assemble the training set → train (``mlflow run``) → register the best qualifying run → gate
it against the champion → promote or not. ``cycle.run_cycle`` calls them in turn and builds
the ``Decision`` once, from what the steps returned before the cycle ended.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftwarden.config.model import Settings
from driftwarden.data.read import read_frame
from driftwarden.errors import DriftwardenError, MlflowUnavailable
from driftwarden.events import Publish
from driftwarden.events.types import TrainingStarted
from driftwarden.remediation import candidates, dataset
from driftwarden.remediation.decision import Outcome
from driftwarden.remediation.gate import GateResult, run_gate
from driftwarden.remediation.policy import CycleRecord
from driftwarden.remediation.promote import current_version, move_alias
from driftwarden.remediation.runner import ProcessOutcome, child_env, mlflow_run_argv, run_process
from driftwarden.tracking.client import ensure_experiment, mlflow_env
from driftwarden.tracking.models import download_training_data
from driftwarden.tracking.registry import register_run, tag_version

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

MAX_TAG_CHARS = 4000
# Decision.error of a cycle whose training run was killed because its caller is stopping.
CANCELLED = "Cancelled"


class CycleEnded(Exception):
    """The cycle ends here with ``outcome`` and ``reason`` (``error``: the exception class, if one ended it)."""

    def __init__(
        self,
        outcome: Outcome,
        reason: str,
        error: str | None = None,
        cooldown_left_seconds: float | None = None,
    ) -> None:
        super().__init__(f"{outcome}: {reason}")
        self.outcome: Outcome = outcome
        self.reason = reason
        self.error = error
        self.cooldown_left_seconds = cooldown_left_seconds


@dataclass(frozen=True)
class CycleInputs:
    """What a cycle was asked to do, fixed before it starts."""

    cycle_id: str
    settings: Settings
    reason: str
    trigger: str
    detail: dict[str, Any]
    labelled_paths: Sequence[Path] | None
    cancel: threading.Event | None
    publish: Publish
    workdir: Path

    @property
    def model(self) -> str:
        return self.settings.model.name


@dataclass(frozen=True)
class Trained:
    """The training run: how the process ended and the MLflow runs it left."""

    process: ProcessOutcome
    run_ids: list[str]
    log_path: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def run_id(self) -> str | None:
        return self.run_ids[0] if self.run_ids else None


@dataclass(frozen=True)
class Registered:
    """The best qualifying run, registered as a new (not yet promoted) version."""

    run_id: str
    version: str


@dataclass(frozen=True)
class Verdict:
    """The gate's decision between champion and challenger."""

    outcome: Outcome
    reason: str
    champion_score: float | None
    challenger_score: float | None


# ---- data ---------------------------------------------------------------------------------


def training_set(
    inputs: CycleInputs, client: MlflowClient, champion: str | None
) -> dataset.TrainingSet:
    """The reference rows plus recent labelled drops, split into training set and holdout."""
    settings, cfg = inputs.settings, inputs.settings.retrain
    reference = _reference(client, settings, champion, inputs.workdir)
    paths = (
        list(inputs.labelled_paths)
        if inputs.labelled_paths is not None
        else dataset.labelled_candidates(settings)
    )
    labelled, skipped = dataset.read_labelled(
        paths, settings.model.target, cfg.recent_files, settings.watch.max_file_bytes
    )
    return dataset.assemble(reference, labelled, settings.model.target, cfg, skipped)


def require_data(training: dataset.TrainingSet, champion: str | None, target: str) -> None:
    """Ends the cycle when there is nothing to train on, or no holdout to challenge with."""
    if len(training.train) == 0:
        raise CycleEnded(
            "failed", "no training data: no reference data and no labelled rows outside the holdout"
        )
    if champion is not None and len(training.holdout) == 0:
        raise CycleEnded(
            "failed",
            f"no labelled rows (column {target!r}) in recent drops to hold out; the champion"
            f" v{champion} cannot be challenged without them",
        )


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


# ---- training -----------------------------------------------------------------------------


class RunTagger:
    """Tags the cycle's MLflow runs with why they started: early (polled) and at the end."""

    def __init__(
        self, client: MlflowClient, experiment_id: str, cycle_id: str, tags: dict[str, str]
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.cycle_id = cycle_id
        self.tags = tags
        self._tagged: set[str] = set()

    def tag_all(self) -> list[str]:
        """Tag every run of the cycle not tagged yet; returns the cycle's run ids."""
        run_ids = candidates.find_cycle_run_ids(self.client, self.experiment_id, self.cycle_id)
        for run_id in run_ids:
            if run_id not in self._tagged:
                for key, value in self.tags.items():
                    self.client.set_tag(run_id, key, value)
                self._tagged.add(run_id)
        return run_ids

    def early(self) -> None:
        if not self._tagged:
            try:
                self.tag_all()
            except Exception as exc:  # tagging early is a courtesy; the end retries
                log.debug("retrain: early tagging failed: %s", exc)


def train(
    inputs: CycleInputs,
    client: MlflowClient,
    champion: str | None,
    training: dataset.TrainingSet,
    record: CycleRecord,
) -> Trained:
    """``mlflow run`` the project on the training set; the ledger's 'running' row first."""
    settings, cfg = inputs.settings, inputs.settings.retrain
    dataset.write(training, inputs.workdir)
    assert training.train_path is not None
    experiment_id = ensure_experiment(
        client, cfg.experiment_name, settings.mlflow.artifact_location
    )
    tags = _run_tags(inputs, champion, training)
    tagger = RunTagger(client, experiment_id, inputs.cycle_id, tags)
    argv = mlflow_run_argv(cfg, training.train_path, candidates.run_name_for(inputs.cycle_id))
    log_path = inputs.workdir / "run.log"
    record.training(inputs.cycle_id)
    inputs.publish(TrainingStarted(inputs.model, inputs.cycle_id, " ".join(argv)))
    process = run_process(
        argv,
        env=child_env(os.environ, mlflow_env(settings)),
        cwd=inputs.workdir,
        log_path=log_path,
        timeout_seconds=cfg.timeout_seconds,
        cancel=inputs.cancel,
        on_poll=tagger.early,
    )
    return Trained(process, tagger.tag_all(), str(log_path), tags)


def require_success(inputs: CycleInputs, client: MlflowClient, trained: Trained) -> None:
    """Ends the cycle as failed when the run did not exit 0 (its MLflow runs marked so)."""
    process = trained.process
    if process.ok:
        return
    end = "KILLED" if (process.timed_out or process.cancelled) else "FAILED"
    for run_id in trained.run_ids:
        if client.get_run(run_id).info.status == "RUNNING":
            client.set_terminated(run_id, end)
    timeout = inputs.settings.retrain.timeout_seconds
    if process.timed_out:
        raise CycleEnded(
            "failed", f"training run exceeded retrain.timeout_seconds = {timeout:g} and was killed"
        )
    if process.cancelled:
        raise CycleEnded("failed", "training run cancelled (shutdown) and killed", CANCELLED)
    raise CycleEnded(
        "failed", f"training run exited with code {process.returncode} (log: {process.log_path})"
    )


def _run_tags(
    inputs: CycleInputs, champion: str | None, training: dataset.TrainingSet
) -> dict[str, str]:
    """Why the run was started and on what data; also put on the registered version."""
    detail = json.dumps({**inputs.detail, "data": training.summary()}, default=str, sort_keys=True)
    return {
        "driftwarden.cycle_id": inputs.cycle_id,
        "driftwarden.trigger": inputs.trigger,
        "driftwarden.reason": inputs.reason[:MAX_TAG_CHARS],
        "driftwarden.detail": detail[:MAX_TAG_CHARS],
        "driftwarden.champion_version": champion or "",
        "driftwarden.training_version": training.train_version,
        "driftwarden.training_rows": str(len(training.train)),
        "driftwarden.holdout_version": training.holdout_version,
        "driftwarden.holdout_rows": str(len(training.holdout)),
    }


# ---- registration and gate ----------------------------------------------------------------


def register(inputs: CycleInputs, client: MlflowClient, trained: Trained) -> Registered:
    """Register the best run past ``register_threshold`` in the metric's direction, or end."""
    cfg = inputs.settings.retrain
    rule = (cfg.register_metric, cfg.register_threshold, cfg.register_better)
    best, seen = candidates.best_candidate(client, trained.run_ids, *rule)
    if best is None:
        raise CycleEnded(
            "rejected", f"no run of this cycle passed {candidates.rule_text(*rule)} (seen: {seen})"
        )
    version = str(register_run(client, best.run_id, inputs.model).version)
    tag_version(client, inputs.model, version, {**trained.tags, "driftwarden.role": "challenger"})
    return Registered(best.run_id, version)


def gate(
    inputs: CycleInputs,
    client: MlflowClient,
    champion: str | None,
    training: dataset.TrainingSet,
    challenger: Registered,
) -> Verdict:
    """Score both on the holdout; promote the challenger (move the alias) only if it wins."""
    settings = inputs.settings
    result = run_gate(client, settings, champion, challenger.version, training.holdout)
    promote, reason = result.promote, result.reason
    if promote and current_version(client, settings) != champion:
        promote = False
        reason = f"alias {settings.model.alias!r} moved during the cycle; not promoting over it"
    tags = _gate_tags(inputs, champion, challenger, result, training, promote, reason)
    tag_version(client, inputs.model, challenger.version, tags)
    if champion is not None:
        tag_version(client, inputs.model, champion, tags)
    if promote:
        move_alias(client, settings, challenger.version, champion, by=f"retrain {inputs.cycle_id}")
    outcome: Outcome = "promoted" if promote else "rejected"
    return Verdict(outcome, reason, result.champion_score, result.challenger_score)


def _gate_tags(
    inputs: CycleInputs,
    champion: str | None,
    challenger: Registered,
    result: GateResult,
    training: dataset.TrainingSet,
    promote: bool,
    reason: str,
) -> dict[str, object]:
    return {
        "driftwarden.gate.cycle_id": inputs.cycle_id,
        "driftwarden.gate.metric": result.metric,
        "driftwarden.gate.champion_version": champion or "",
        "driftwarden.gate.challenger_version": challenger.version,
        "driftwarden.gate.champion_score": _num(result.champion_score),
        "driftwarden.gate.challenger_score": _num(result.challenger_score),
        "driftwarden.gate.min_improvement": f"{result.min_improvement:g}",
        "driftwarden.gate.holdout_rows": str(result.holdout_rows),
        "driftwarden.gate.holdout_version": training.holdout_version,
        "driftwarden.gate.decision": "promoted" if promote else "rejected",
        "driftwarden.gate.reason": reason[:MAX_TAG_CHARS],
    }


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"
