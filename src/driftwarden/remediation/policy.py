"""When a retrain may start: trigger rule, single-flight across threads and processes, cooldown.

Single-flight uses ``fcntl.flock`` on ``<state>/remediation/cycle.lock``: flock locks belong
to the open file, so a second open of the same file conflicts whether it comes from another
thread of the daemon or from a ``driftwarden retrain`` in another process, and the kernel
drops the lock when its holder dies. The cooldown reads ``state.json`` beside the lock,
written only while the lock is held.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from driftwarden.config.model import RetrainConfig

LOCK_NAME = "cycle.lock"
STATE_NAME = "state.json"
HISTORY_NAME = "history.jsonl"


def remediation_dir(state_directory: Path) -> Path:
    """``<state>/remediation``, created on first use."""
    path = Path(state_directory) / "remediation"
    path.mkdir(parents=True, exist_ok=True)
    return path


def should_trigger(cfg: RetrainConfig, breach: str) -> bool:
    """True when automatic retraining is on and ``breach`` ('drift' or 'validation') is a trigger."""
    return cfg.enabled and cfg.project_uri is not None and breach in cfg.triggers


@dataclass
class CycleState:
    """What the last cycle left behind (``state.json``)."""

    last_cycle_id: str | None = None
    last_started: float | None = None
    last_finished: float | None = None
    last_outcome: str | None = None

    def cooldown_left(self, cooldown_seconds: float, now: float) -> float:
        """Seconds until a new cycle may start (0 when it may start now).

        Counted from the later of the last start and the last finish, so a cycle that died
        without finishing still holds the cooldown from its start.
        """
        marks = [t for t in (self.last_started, self.last_finished) if t is not None]
        if not marks:
            return 0.0
        return max(0.0, max(marks) + cooldown_seconds - now)


class CycleLock:
    """The single-flight lock and the state file of one state directory."""

    def __init__(self, state_directory: Path) -> None:
        self.directory = remediation_dir(state_directory)
        self.lock_path = self.directory / LOCK_NAME
        self.state_path = self.directory / STATE_NAME
        self.history_path = self.directory / HISTORY_NAME

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

    def read_state(self) -> CycleState:
        """The last cycle's state; an absent or unreadable file counts as 'never ran'."""
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return CycleState()
        if not isinstance(data, dict):
            return CycleState()
        known = {k: data.get(k) for k in CycleState.__dataclass_fields__}
        return CycleState(**known)

    def write_state(self, state: CycleState) -> None:
        """Replace ``state.json`` atomically (write a temp file, then rename)."""
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(state), indent=1), encoding="utf-8")
        os.replace(tmp, self.state_path)

    def mark_started(self, cycle_id: str, now: float | None = None) -> None:
        """Record a start before the run begins, so a crash mid-run still holds the cooldown."""
        state = self.read_state()
        state.last_cycle_id = cycle_id
        state.last_started = time.time() if now is None else now
        state.last_outcome = "running"
        self.write_state(state)

    def mark_finished(self, outcome: str, now: float | None = None) -> None:
        """Record the end of the cycle and its outcome."""
        state = self.read_state()
        state.last_finished = time.time() if now is None else now
        state.last_outcome = outcome
        self.write_state(state)

    def append_history(self, record: dict[str, Any]) -> None:
        """One JSON line per decision (skips included), for people reading the state dir."""
        with self.history_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")
