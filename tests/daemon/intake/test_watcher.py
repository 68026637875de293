"""The drop watcher on a real inotify observer: a file renamed into place is seen as a rename."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from driftwarden.config.model import WatchConfig
from driftwarden.daemon.intake.watcher import MOVE_PAIR_SECONDS, DropWatcher, make_watch


def _grouper_delays(watcher: DropWatcher) -> list[float]:
    """The move-pairing window of each armed inotify watch (watchdog 7's internals)."""
    observer = watcher._observer
    assert observer is not None
    delays = []
    for emitter in observer.emitters:
        inotify = emitter._inotify  # type: ignore[attr-defined]
        delays.append(inotify._move_event_grouper._queue.delay)
    return delays


def test_a_file_renamed_into_place_is_due_without_settling(tmp_path: Path) -> None:
    """settle_seconds is an hour: only a rename recognised as one (both halves paired within
    the short window) makes the files due."""
    woken = threading.Event()
    watcher = make_watch(WatchConfig(paths=[tmp_path], settle_seconds=3600.0), woken.set)
    watcher.start()
    try:
        assert _grouper_delays(watcher) == [MOVE_PAIR_SECONDS]  # watchdog's 0.5 s hold is gone
        names = [f"batch-{i}.csv" for i in range(5)]
        for name in names:
            staged = tmp_path / f".{name}.tmp"
            staged.write_text("x\n1\n", encoding="utf-8")
            os.replace(staged, tmp_path / name)
        due: list[Path] = []
        while len(due) < len(names):
            assert woken.wait(30), f"only {due} seen as renamed into place"
            woken.clear()
            due += watcher.tracker.due()
        assert sorted(p.name for p in due) == sorted(names)
    finally:
        watcher.close()
        assert watcher.join(10)
