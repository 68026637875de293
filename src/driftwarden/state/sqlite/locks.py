"""The sqlite engine's single flight: ``fcntl.flock`` on a file in the state directory.

flock locks belong to the open file, so a second open of the same file conflicts whether it
comes from another thread of the daemon or from a ``driftwarden retrain`` in another
process, and the kernel drops the lock when its holder dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_name(model: str) -> str:
    """``cycle-<model>-<hash>.lock``: the name made safe for a file name, with a hash of the
    real name so that two names that read the same once made safe do not share a lock."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model)[:80]
    digest = hashlib.sha256(model.encode()).hexdigest()[:8]
    return f"cycle-{safe}-{digest}.lock"


def cycle_lock_path(state_directory: Path, model: str) -> Path:
    """Where the sqlite engine's single flight of ``model``'s retrains is held."""
    return Path(state_directory) / "remediation" / lock_name(model)


class FileLock:
    """An exclusive, non-blocking flock on ``path`` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.lock_path = Path(path)

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Try to take the lock without waiting; yields True when this caller holds it."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
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
