"""Drop-directory watching: watchdog events plus scans feed the completion tracker.

watchdog never replays events it missed (queue overflow, downtime), so the daemon scans
once after arming the watch and again every ``watch.rescan_interval_seconds``; the ledger
makes the resulting duplicates harmless. Patterns are matched here on the file name (watchdog
7 matches ``*.csv`` only against relative names).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from driftwarden.config.model import WatchConfig
from driftwarden.daemon.intake.files import (
    CompletionTracker,
    NameFilter,
    drop_dirs,
    iter_candidates,
)
from driftwarden.errors import ConfigError

log = logging.getLogger(__name__)
_INOTIFY_LOG = logging.getLogger("watchdog.observers.inotify")

# watchdog holds every IN_MOVED_FROM for 0.5 s, waiting for its IN_MOVED_TO to pair them, and
# what queues behind it waits too: a file renamed into place (the safe way to drop one) was
# noticed half a second late, longer than its whole check. The kernel reports both halves of
# a rename back to back, read in one batch, so a short window still pairs them; a half left
# unpaired only sends the file through ``settle_seconds`` (later, never wrong).
MOVE_PAIR_SECONDS = 0.05


def shorten_move_pairing(seconds: float = MOVE_PAIR_SECONDS) -> None:
    """Set watchdog's move-pairing window (process-wide) for observers created after this.

    The knob is a class attribute: ``InotifyMoveEventGrouper.delay`` in watchdog 7,
    ``InotifyBuffer.delay`` in watchdog 6 (``tests/daemon/intake/test_watcher.py`` checks that a
    started watcher uses it, so an upgrade that moves it cannot bring the wait back unseen).
    """
    try:
        from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper
    except ImportError:  # watchdog 6, or a platform without inotify
        try:
            from watchdog.observers.inotify_buffer import InotifyBuffer
        except ImportError:
            return
        InotifyBuffer.delay = seconds
        return
    InotifyMoveEventGrouper.delay = seconds


class _Handler(FileSystemEventHandler):
    def __init__(self, tracker: CompletionTracker) -> None:
        self.tracker = tracker

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        if kind == "moved":
            self.tracker.note(Path(os.fsdecode(event.dest_path)), renamed=True)
        elif kind == "deleted":
            self.tracker.forget(Path(os.fsdecode(event.src_path)))
        else:  # created, modified, closed
            self.tracker.note(Path(os.fsdecode(event.src_path)))


class DropWatcher:
    """Arms a watchdog observer on every drop directory and scans them on request."""

    def __init__(self, names: NameFilter, tracker: CompletionTracker) -> None:
        self.names = names
        self.tracker = tracker
        self._observer: BaseObserver | None = None
        self._inotify_level: int | None = None

    def start(self) -> None:
        """Create missing drop directories and arm the watch (before any scan).

        Raises ConfigError naming the directory when it cannot be created or watched (a path
        under a regular file, no permission, out of inotify watches).
        """
        shorten_move_pairing()
        observer = Observer()
        handler = _Handler(self.tracker)
        for d in self.names.dirs:
            try:
                if not d.root.is_dir():
                    d.root.mkdir(parents=True, exist_ok=True)
                    log.warning(
                        "watched directory did not exist; created it", extra={"path": str(d.root)}
                    )
                observer.schedule(handler, str(d.root), recursive=self.names.recursive)
            except OSError as exc:
                raise ConfigError(
                    f"watch.paths: cannot create/watch {d.root}: {exc.strerror or exc}"
                ) from None
        try:
            observer.start()
        except OSError as exc:
            observer.stop()
            where = exc.filename or ", ".join(str(d.root) for d in self.names.dirs)
            raise ConfigError(f"watch.paths: cannot watch {where}: {exc.strerror or exc}") from None
        self._observer = observer

    def scan(self, skip: Callable[[Path], bool] | None = None) -> int:
        """Note every candidate file now present; returns how many were noted."""
        noted = 0
        for path in iter_candidates(self.names):
            if skip is not None and skip(path):
                continue
            self.tracker.note(path)
            noted += 1
        return noted

    def is_alive(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    def close(self) -> None:
        """Stop watching (the observer thread ends on its own; ``join`` waits for it)."""
        observer = self._observer
        if observer is None:
            return
        # watchdog 7 logs "queue_events() called when the thread is inactive" at ERROR when
        # an event races the stop; it is harmless (the rescan at the next start covers it).
        self._inotify_level = _INOTIFY_LOG.level
        _INOTIFY_LOG.setLevel(logging.CRITICAL)
        observer.stop()

    def join(self, timeout: float) -> bool:
        observer = self._observer
        if observer is None:
            return True
        observer.join(timeout)
        if observer.is_alive():
            return False
        self._observer = None
        if self._inotify_level is not None:
            _INOTIFY_LOG.setLevel(self._inotify_level)
            self._inotify_level = None
        return True


def make_watch(cfg: WatchConfig, wake: Callable[[], None]) -> DropWatcher:
    """The watcher (not yet armed) for a ``[watch]`` section; ``wake`` rouses the main loop."""
    names = NameFilter(cfg, drop_dirs(cfg))
    return DropWatcher(names, CompletionTracker(names, cfg.settle_seconds, wake))
