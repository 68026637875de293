"""The watches in force, one ``DropWatcher`` per kept model: their scans, and each completed
file handed out with its model.

Drop directories never overlap between models (the config refuses it), so every file
belongs to exactly one model's watch, and the main loop routes it to that model's queue.
A model's watch is added when its keeper starts, replaced when a reload changes its
``[watch]``, and removed when its keeper stops.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.files import NameFilter
from driftwarden.daemon.intake.watcher import DropWatcher
from driftwarden.events import Publish
from driftwarden.events.types import RescanDone
from driftwarden.state import Ledger

# How long a replaced or removed watch may take to stop.
REPLACED_WATCH_SECONDS = 2.0

# Whether a scan may skip a path of a model without looking further: (model, path) -> bool.
Skip = Callable[[str, Path], bool]


class KeptFiles:
    """Skips files left in place after their check (``on_success = "keep"``) without hashing."""

    def __init__(self, ledger: Ledger, config: Callable[[str], Settings | None]) -> None:
        self.ledger = ledger
        self.config = config  # the model's settings in force (None once it is no longer kept)

    def __call__(self, model: str, path: Path) -> bool:
        settings = self.config(model)
        if settings is None or settings.watch.on_success != "keep":
            return False
        try:
            st = path.stat()
        except OSError:
            return False
        return self.ledger.is_kept_unchanged(str(path), st.st_size, st.st_mtime)


class Intake:
    """The kept models' watches by model name (thread-safe), scanned on request."""

    def __init__(self, skip: Skip, publish: Publish) -> None:
        self.skip = skip
        self._publish = publish
        self._lock = threading.Lock()
        self._watches: dict[str, DropWatcher] = {}

    @property
    def models(self) -> list[str]:
        with self._lock:
            return list(self._watches)

    def watch(self, model: str) -> DropWatcher:
        """``model``'s watch in force (KeyError when it is not watched)."""
        with self._lock:
            return self._watches[model]

    def names(self, model: str) -> NameFilter:
        return self.watch(model).names

    def add(self, model: str, watcher: DropWatcher) -> None:
        """Arm ``watcher`` for ``model`` (ConfigError naming the directory when it cannot be
        watched); a watch the model had is replaced."""
        watcher.start()
        self.replace(model, watcher)

    def replace(self, model: str, watcher: DropWatcher) -> None:
        """A watch already armed (a reload's) takes over ``model``'s; the old one stops."""
        with self._lock:
            old = self._watches.get(model)
            self._watches[model] = watcher
        if old is not None:
            _stop(old)

    def remove(self, model: str) -> None:
        """Stop watching ``model``'s drop directories (files noted but not complete are forgotten;
        the next scan of whoever keeps the model finds them again)."""
        with self._lock:
            old = self._watches.pop(model, None)
        if old is not None:
            _stop(old)

    def is_alive(self, model: str) -> bool:
        with self._lock:
            watcher = self._watches.get(model)
        return watcher is not None and watcher.is_alive()

    def scan(self, reason: str, model: str | None = None) -> int:
        """Note every candidate file present now (the watch never replays what it missed), of
        every model or of ``model`` only."""
        noted = 0
        for name, watcher in self._items(model):
            noted += watcher.scan(functools.partial(self.skip, name))
        self._publish(RescanDone(noted, reason, model))
        return noted

    def due(self) -> list[tuple[str, Path]]:
        """(model, file) for every file complete now (each handed out once)."""
        return [(name, path) for name, w in self._items(None) for path in w.tracker.due()]

    def pending(self) -> int:
        """Candidate files not complete yet, over every model."""
        return sum(len(w.tracker) for _, w in self._items(None))

    def _items(self, model: str | None) -> list[tuple[str, DropWatcher]]:
        with self._lock:
            if model is None:
                return list(self._watches.items())
            watcher = self._watches.get(model)
            return [] if watcher is None else [(model, watcher)]


def _stop(watcher: DropWatcher) -> None:
    watcher.close()
    watcher.join(REPLACED_WATCH_SECONDS)
