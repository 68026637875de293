"""The watch in force: one ``DropWatcher`` at a time (a reload replaces it), its scans, its completed files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.files import NameFilter
from driftwarden.daemon.intake.watcher import DropWatcher
from driftwarden.events import Publish
from driftwarden.events.types import RescanDone
from driftwarden.state import Ledger

# How long a replaced watch may take to stop.
REPLACED_WATCH_SECONDS = 2.0


class KeptFiles:
    """Skips files left in place after their check (``on_success = "keep"``) without hashing."""

    def __init__(self, ledger: Ledger, config: Callable[[], Settings]) -> None:
        self.ledger = ledger
        self.config = config

    def __call__(self, path: Path) -> bool:
        if self.config().watch.on_success != "keep":
            return False
        try:
            st = path.stat()
        except OSError:
            return False
        return self.ledger.is_kept_unchanged(str(path), st.st_size, st.st_mtime)


class Intake:
    """The drop directories' watch (lifecycle: start, close, join), scanned on request."""

    def __init__(
        self, watcher: DropWatcher, skip: Callable[[Path], bool], publish: Publish
    ) -> None:
        self._watcher = watcher
        self.skip = skip
        self._publish = publish

    @property
    def watcher(self) -> DropWatcher:
        return self._watcher

    @property
    def names(self) -> NameFilter:
        return self._watcher.names

    def start(self) -> None:
        self._watcher.start()

    def close(self) -> None:
        self._watcher.close()

    def join(self, timeout: float) -> bool:
        return self._watcher.join(timeout)

    def is_alive(self) -> bool:
        return self._watcher.is_alive()

    def scan(self, reason: str) -> int:
        """Note every candidate file present now (the watch never replays what it missed)."""
        noted = self._watcher.scan(self.skip)
        self._publish(RescanDone(noted, reason))
        return noted

    def due(self) -> list[Path]:
        """Files complete now (each handed out once)."""
        return self._watcher.tracker.due()

    def pending(self) -> int:
        """Candidate files not complete yet."""
        return len(self._watcher.tracker)

    def replace(self, watcher: DropWatcher) -> None:
        """A reload's new watch, already armed: it takes over, the old one stops."""
        old, self._watcher = self._watcher, watcher
        old.close()
        old.join(REPLACED_WATCH_SECONDS)
