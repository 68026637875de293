"""When a retrain may start: trigger rule, single-flight across threads and processes, cooldown.

Single-flight (per model) uses ``fcntl.flock`` on ``<state>/remediation/cycle-<model>.lock``:
flock locks belong
to the open file, so a second open of the same file conflicts whether it comes from another
thread of the daemon or from a ``driftwarden retrain`` in another process, and the kernel
drops the lock when its holder dies. Everything else about retrains lives in the ledger
only: the cooldown reads it, and every cycle leaves one row there (``CycleRecord``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftwarden.config.model import RetrainConfig
from driftwarden.state import Ledger

if TYPE_CHECKING:
    from driftwarden.remediation.decision import Decision


def remediation_dir(state_directory: Path) -> Path:
    """``<state>/remediation`` (the lock, and the cycles' work directories), created on first use."""
    path = Path(state_directory) / "remediation"
    path.mkdir(parents=True, exist_ok=True)
    return path


def should_trigger(cfg: RetrainConfig, breach: str) -> bool:
    """True when automatic retraining is on and ``breach`` ('drift' or 'validation') is a trigger."""
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


def lock_name(model: str) -> str:
    """``cycle-<model>.lock``: the name made safe for a file name, with a hash of the real
    name so that two names that read the same once made safe do not share a lock."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model)[:80]
    digest = hashlib.sha256(model.encode()).hexdigest()[:8]
    return f"cycle-{safe}-{digest}.lock"


class CycleLock:
    """The single-flight lock of one model's retrains in one state directory (another model's
    cycle may run meanwhile)."""

    def __init__(self, state_directory: Path, model: str) -> None:
        self.directory = remediation_dir(state_directory)
        self.lock_path = self.directory / lock_name(model)

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Try to take the lock without waiting; yields True when this caller holds it."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def fail_stale_retrains(ledger: Ledger, state_directory: Path, model: str) -> int:
    """Mark ``model``'s retrains a crash left 'running' as failed; none while a cycle holds
    its lock (a ``driftwarden retrain`` in another process may be running one right now)."""
    if ledger.retrain_running(model) is None:
        return 0
    with CycleLock(state_directory, model).hold() as held:
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
