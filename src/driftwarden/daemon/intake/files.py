"""Which names in a drop directory are data files, and when a file counts as complete.

A file is complete when it was renamed into place, when its size and mtime have not moved
for ``settle_seconds`` (a close event alone proves nothing: an interrupted upload closes
too), or, with ``completion = "marker"``, when ``<file><marker_suffix>`` exists. The tracker
only decides; it never reads or moves a file.
"""

from __future__ import annotations

import fnmatch
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from driftwarden.config.model import WatchConfig

IGNORED_SUFFIXES = (".tmp", ".part", ".reason.txt")


@dataclass(frozen=True)
class DropDir:
    """One watched directory with where its processed and quarantined files go."""

    root: Path
    processed: Path
    quarantine: Path


def drop_dirs(cfg: WatchConfig) -> list[DropDir]:
    """The watched directories with their destinations (defaults inside each directory)."""
    return [
        DropDir(
            root=root,
            processed=cfg.processed_dir or root / "processed",
            quarantine=cfg.quarantine_dir or root / "quarantine",
        )
        for root in cfg.paths
    ]


class NameFilter:
    """Decides from a path alone whether it names a candidate data file or marker."""

    def __init__(self, cfg: WatchConfig, dirs: list[DropDir]) -> None:
        self.patterns = list(cfg.patterns)
        self.recursive = cfg.recursive
        self.marker_suffix = cfg.marker_suffix
        self.markers = cfg.completion == "marker"
        self.dirs = dirs
        self._excluded = [d.processed for d in dirs] + [d.quarantine for d in dirs]

    def root_of(self, path: Path) -> DropDir | None:
        """The drop directory that holds ``path`` (directly, or below it when recursive)."""
        for d in self.dirs:
            if path.parent == d.root or (self.recursive and d.root in path.parents):
                return d
        return None

    def _excluded_dir(self, path: Path) -> bool:
        return any(path == ex or ex in path.parents for ex in self._excluded)

    def is_ignored_name(self, name: str) -> bool:
        return name.startswith(".") or name.endswith(IGNORED_SUFFIXES)

    def is_candidate(self, path: Path) -> bool:
        """A name that matches a pattern, is not hidden/temporary, and lies in a drop dir."""
        name = path.name
        if self.is_ignored_name(name) or (self.markers and name.endswith(self.marker_suffix)):
            return False
        if not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns):
            return False
        return self.root_of(path) is not None and not self._excluded_dir(path)

    def data_file_for_marker(self, path: Path) -> Path | None:
        """``x.csv`` for a marker ``x.csv.done`` (when markers are in use)."""
        if not self.markers or not path.name.endswith(self.marker_suffix):
            return None
        data = path.with_name(path.name[: -len(self.marker_suffix)])
        return data if self.is_candidate(data) else None

    def marker_for(self, path: Path) -> Path:
        return path.with_name(path.name + self.marker_suffix)


@dataclass
class _Seen:
    signature: tuple[int, int] | None
    renamed: bool = False


class CompletionTracker:
    """Candidate files not yet complete; ``due()`` hands out the ones that are.

    Fed by watchdog events (any thread) and scans; ``due()`` is called by the main loop,
    which ``wake`` rouses when a new candidate is noted (it sleeps until there is work).
    """

    def __init__(self, names: NameFilter, settle_seconds: float, wake: Callable[[], None]) -> None:
        self.names = names
        self.settle_seconds = settle_seconds
        self._wake = wake
        self._pending: dict[Path, _Seen] = {}
        self._lock = threading.Lock()

    def note(self, path: Path, renamed: bool = False) -> None:
        """Something happened to ``path`` (created, modified, moved in, closed, found by a scan)."""
        data = self.names.data_file_for_marker(path)
        if data is not None:
            path = data
        elif not self.names.is_candidate(path):
            return
        with self._lock:
            new = path not in self._pending
            seen = self._pending.setdefault(path, _Seen(None))
            seen.renamed = seen.renamed or renamed
        if new or renamed:
            self._wake()

    def forget(self, path: Path) -> None:
        with self._lock:
            self._pending.pop(path, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def due(self, now: float | None = None) -> list[Path]:
        """Paths that are complete now (removed from the pending set), oldest name first."""
        wall = time.time() if now is None else now
        ready: list[Path] = []
        with self._lock:
            items = list(self._pending.items())
        for path, seen in items:
            verdict = self._complete(path, seen, wall)
            if verdict is None:  # vanished: nothing to do
                self.forget(path)
            elif verdict:
                self.forget(path)
                ready.append(path)
        return sorted(ready)

    def _complete(self, path: Path, seen: _Seen, wall: float) -> bool | None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError:
            return True  # let the worker find out what is wrong and quarantine it
        if not _is_regular(st.st_mode):
            # Directories named like data files, symlinks, fifos: the worker refuses them.
            return True
        if self.names.markers:
            return self.names.marker_for(path).exists()
        signature = (st.st_size, st.st_mtime_ns)
        if seen.renamed:
            return True
        stable = seen.signature == signature
        seen.signature = signature
        quiet = wall - st.st_mtime >= self.settle_seconds
        # Unchanged since the last look and quiet for settle_seconds by its mtime.
        return quiet and (stable or self.settle_seconds == 0)


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def iter_candidates(names: NameFilter) -> list[Path]:
    """Every candidate (and, with markers, every marked data file) in the drop directories."""
    found: list[Path] = []
    for d in names.dirs:
        if not d.root.is_dir():
            continue
        walker = d.root.rglob("*") if names.recursive else d.root.iterdir()
        for path in walker:
            data = names.data_file_for_marker(path)
            if data is not None:
                found.append(data)
            elif names.is_candidate(path):
                found.append(path)
    return sorted(set(found))
