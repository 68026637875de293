"""Name filtering and completion: settle, rename into place, markers, odd entries."""

from __future__ import annotations

import os
import time
from pathlib import Path

from driftwarden.config.model import WatchConfig
from driftwarden.daemon.intake.files import (
    CompletionTracker,
    NameFilter,
    drop_dirs,
    iter_candidates,
)


def _filter(tmp_path: Path, **kw: object) -> NameFilter:
    cfg = WatchConfig(paths=[tmp_path], **kw)  # type: ignore[arg-type]
    return NameFilter(cfg, drop_dirs(cfg))


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_names_hidden_temporary_and_excluded_dirs_are_ignored(tmp_path: Path) -> None:
    names = _filter(tmp_path, recursive=True)
    assert names.is_candidate(tmp_path / "a.csv")
    assert names.is_candidate(tmp_path / "sub" / "b.parquet")
    for bad in (".a.csv", "a.csv.tmp", "a.csv.part", "a.txt", "a.csv.reason.txt"):
        assert not names.is_candidate(tmp_path / bad), bad
    assert not names.is_candidate(tmp_path / "processed" / "a.csv")
    assert not names.is_candidate(tmp_path / "quarantine" / "a.csv")
    assert not names.is_candidate(tmp_path.parent / "a.csv")
    assert not _filter(tmp_path).is_candidate(tmp_path / "sub" / "b.csv")  # not recursive


def test_settle_waits_until_the_file_is_quiet(tmp_path: Path) -> None:
    names = _filter(tmp_path)
    tracker = CompletionTracker(names, settle_seconds=2.0, wake=lambda: None)
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n")
    tracker.note(path)
    assert tracker.due() == []  # just written
    _age(path, 5)
    assert tracker.due() == []  # first look at the quiet file records its size
    assert tracker.due() == [path]
    assert len(tracker) == 0


def test_a_growing_file_is_not_due(tmp_path: Path) -> None:
    tracker = CompletionTracker(_filter(tmp_path), settle_seconds=1.0, wake=lambda: None)
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n")
    _age(path, 5)
    tracker.note(path)
    tracker.due()
    with path.open("a") as handle:  # grows again, mtime now
        handle.write("2\n")
    assert tracker.due() == []
    assert tracker.due(now=time.time() + 5) == [path]


def test_renamed_into_place_is_due_at_once(tmp_path: Path) -> None:
    tracker = CompletionTracker(_filter(tmp_path), settle_seconds=60.0, wake=lambda: None)
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n")
    tracker.note(path, renamed=True)
    assert tracker.due() == [path]


def test_marker_mode_waits_for_the_marker(tmp_path: Path) -> None:
    names = _filter(tmp_path, completion="marker")
    tracker = CompletionTracker(names, settle_seconds=0.0, wake=lambda: None)
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n")
    tracker.note(path, renamed=True)
    assert tracker.due() == []
    (tmp_path / "a.csv.done").write_text("")
    tracker.note(tmp_path / "a.csv.done")
    assert tracker.due() == [path]
    assert iter_candidates(names) == [path]


def test_vanished_files_are_forgotten_and_directories_handed_on(tmp_path: Path) -> None:
    tracker = CompletionTracker(_filter(tmp_path), settle_seconds=60.0, wake=lambda: None)
    gone = tmp_path / "gone.csv"
    tracker.note(gone)
    (tmp_path / "dir.csv").mkdir()
    tracker.note(tmp_path / "dir.csv")
    assert tracker.due() == [tmp_path / "dir.csv"]
    assert len(tracker) == 0


def test_scan_lists_candidates_only(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / ".b.csv").write_text("x\n")
    (tmp_path / "c.csv.part").write_text("x\n")
    (tmp_path / "processed").mkdir()
    (tmp_path / "processed" / "d.csv").write_text("x\n")
    assert iter_candidates(_filter(tmp_path, recursive=True)) == [tmp_path / "a.csv"]


def test_a_new_candidate_wakes_the_main_loop(tmp_path: Path) -> None:
    wakes: list[Path] = []
    tracker = CompletionTracker(
        _filter(tmp_path), settle_seconds=60.0, wake=lambda: wakes.append(tmp_path)
    )
    tracker.note(tmp_path / "a.csv")
    tracker.note(tmp_path / "a.csv")  # written to again: it waits already, no new wake-up
    tracker.note(tmp_path / "a.txt")  # not a candidate
    assert len(wakes) == 1
    tracker.note(tmp_path / "a.csv", renamed=True)  # renamed into place: due at once
    assert len(wakes) == 2
