"""When a retrain may start: trigger rule, single-flight across threads, processes and instances, cooldown.

Single flight (per model: another model's cycle may run meanwhile) is the state engine's
``retrain_lock``: on the sqlite engine ``fcntl.flock`` on
``<state>/remediation/cycle-<model>-<hash>.lock`` (a second open of the file conflicts, from
another thread or a ``driftwarden retrain`` in another process, and the kernel drops the lock
when its holder dies); on PostgreSQL a session advisory lock per model, which holds across
instances and goes with its holder's connection. Everything else about retrains lives in the
ledger only: the cooldown reads it, and every cycle leaves one row there (``CycleRecord``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftwarden.config.model import RetrainConfig
from driftwarden.state import Ledger, SingleFlight
from driftwarden.state.sqlite.locks import FileLock, cycle_lock_path

if TYPE_CHECKING:
    from driftwarden.remediation.decision import Decision


def remediation_dir(state_directory: Path) -> Path:
    """``<state>/remediation`` (the lock, and the cycles' work directories), created on first use."""
    path = Path(state_directory) / "remediation"
    path.mkdir(parents=True, exist_ok=True)
    return path


def should_trigger(cfg: RetrainConfig, breach: str) -> bool:
    """True when automatic retraining is on and ``breach`` ('drift', 'validation' or
    'estimated') is a trigger."""
    return cfg.enabled and cfg.project_uri is not None and breach in cfg.triggers


def cooldown_left(ledger: Ledger, model: str, cooldown_seconds: float, now: float) -> float:
    """Seconds until a new cycle of ``model`` may start (0 when it may start now).

    Counted from the later of the last training start and its finish (the ledger's
    ``last_training_activity``), so a cycle that died mid-run still holds the cooldown from
    its start, and skips or cycles that never trained do not restart it.
    """
    last = ledger.last_training_activity(model)
    if last is None:
        return 0.0
    return max(0.0, last + cooldown_seconds - now)


class CycleLock(FileLock):
    """The single-flight lock of one model's retrains in one state directory (what the sqlite
    engine's ``retrain_lock`` is; another model's cycle may run meanwhile)."""

    def __init__(self, state_directory: Path, model: str) -> None:
        self.directory = remediation_dir(state_directory)
        super().__init__(cycle_lock_path(state_directory, model))


def fail_stale_retrains(ledger: Ledger, lock: SingleFlight | Path, model: str) -> int:
    """Mark ``model``'s retrains a crash left 'running' as failed; none while a cycle holds
    its lock (a ``driftwarden retrain`` in another process, or another instance, may be
    running one right now). ``lock``: the engine's retrain lock of ``model``, or a state
    directory (its sqlite cycle lock)."""
    if ledger.retrain_running(model) is None:
        return 0
    single = CycleLock(lock, model) if isinstance(lock, Path) else lock
    with single.hold() as held:
        return ledger.fail_stale_retrains(model=model) if held else 0


class CycleRecord:
    """One cycle's row in the ledger: 'running' when its training starts, the decision at the end."""

    def __init__(self, ledger: Ledger, model: str, reason: str, trigger: str) -> None:
        self.ledger = ledger
        self.model = model
        self.reason = reason
        self.trigger = trigger
        self._row: int | None = None

    def training(self, cycle_id: str) -> None:
        """The training run is about to start: from now on the cooldown holds."""
        self._row = self.ledger.record_retrain(
            self.model, self.reason, self.trigger, status="running", detail={"cycle_id": cycle_id}
        )

    def decided(self, decision: Decision) -> None:
        data: dict[str, Any] = decision.to_dict()
        if self._row is None:
            self.ledger.record_retrain(
                self.model, self.reason, self.trigger, status=decision.outcome, detail=data
            )
            return
        self.ledger.finish_retrain(
            self._row,
            decision.outcome,
            run_id=decision.run_id,
            candidate_version=decision.challenger_version,
            champion_version=decision.champion_version,
            detail=data,
        )
