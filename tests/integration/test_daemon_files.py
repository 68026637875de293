"""The daemon with real files: exactly once, completion, restarts, crashes, bad files.

Most run the daemon in process (the same parts as ``driftwarden run``) and wait on its
events; the kill -9 test runs it as a subprocess, because a crash of the process is the point.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from driftwarden.events import types as ev
from driftwarden.state.sqlite import SqliteLedger
from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon

pytestmark = pytest.mark.integration

Start = Callable[..., InProcessDaemon]


def _ledger(root: Path) -> SqliteLedger:
    return SqliteLedger.open(root / "state" / "ledger.db", readonly=True)


def _file_checks_per_name(root: Path) -> dict[str, int]:
    """How many file drift checks the ledger holds per dropped file name."""
    ledger = _ledger(root)
    try:
        counts: dict[str, int] = {}
        for check in ledger.checks():
            if check["kind"] == "drift" and check["scope"] == "file":
                name = check["summary"]["driftwarden.file"]
                counts[name] = counts.get(name, 0) + 1
        return counts
    finally:
        ledger.close()


def _processing(root: Path) -> list[str]:
    """Paths the ledger holds as claimed but not finished (a crash in the middle of a check)."""
    ledger = _ledger(root)
    try:
        return [row["path"] for row in ledger.processing()]
    finally:
        ledger.close()


def _next_timer_rescan(running: InProcessDaemon) -> None:
    """Wait until the periodic rescan has run once more from now (and its jobs are done)."""
    seen = len([e for e in running.events.of(ev.RescanDone) if e.reason == "timer"])
    running.wait(ev.RescanDone, lambda e: e.reason == "timer", count=seen + 1)
    running.wait(ev.RescanDone, lambda e: e.reason == "timer", count=seen + 2)


def test_drops_while_running_and_while_stopped_are_each_processed_once(
    tmp_path: Path, start_daemon: Start
) -> None:
    config = daemon_config(tmp_path)
    drop = tmp_path / "drop"
    # Dropped while the daemon is down: found by the start-up scan.
    for i in range(3):
        write_csv(drop / f"before-{i}.csv", sample_frame(200, seed=10 + i))
    running = start_daemon(config)
    [ready] = running.events.of(ev.DaemonReady)
    assert ready.found_at_start == 3
    running.wait(ev.FileChecked, count=3)
    for i in range(3):
        write_csv(drop / f"live-{i}.csv", sample_frame(200, seed=20 + i))
    running.wait(ev.FileChecked, count=6)
    running.stop()
    # Dropped while stopped, then a restart.
    write_csv(drop / "after.csv", sample_frame(200, seed=30))
    again = start_daemon(config)
    again.checked("after.csv")
    _next_timer_rescan(again)  # a rescan passes: nothing is checked again
    assert len(again.events.of(ev.FileChecked)) == 1
    again.stop()
    counts = _file_checks_per_name(tmp_path)
    expected = (
        {f"before-{i}.csv" for i in range(3)} | {f"live-{i}.csv" for i in range(3)} | {"after.csv"}
    )
    assert counts == dict.fromkeys(expected, 1)
    processed = {p.name for p in (drop / "processed").iterdir()}
    assert processed == expected
    assert [p.name for p in drop.iterdir() if p.is_file()] == []


def test_a_slowly_written_file_is_processed_once_after_it_is_complete(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(daemon_config(tmp_path, watch={"settle_seconds": 1.0}))
    path = tmp_path / "drop" / "slow.csv"
    text = sample_frame(300, seed=5).to_csv(index=False)
    lines = text.splitlines(keepends=True)
    with path.open("w") as handle:  # in place, under its final name, over ~2.5 s
        for start in range(0, len(lines), 60):
            handle.write("".join(lines[start : start + 60]))
            handle.flush()
            time.sleep(0.5)
    written_at = time.time()
    checked = running.checked("slow.csv")
    assert checked.file == str(path)
    [claimed] = [r for r in running.parts.ledger.files() if r["path"] == str(path)]
    assert claimed["created_at"] >= written_at, "claimed before the writer finished"
    _next_timer_rescan(running)
    running.stop()
    assert _file_checks_per_name(tmp_path) == {"slow.csv": 1}
    ledger = _ledger(tmp_path)
    try:
        [row] = ledger.files()
        assert row["status"] == "done" and row["size"] == len(text.encode())
    finally:
        ledger.close()


def test_same_content_under_another_name_is_a_duplicate(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(daemon_config(tmp_path))
    drop = tmp_path / "drop"
    frame = sample_frame(150, seed=3)
    write_csv(drop / "first.csv", frame)
    running.checked("first.csv")
    write_csv(drop / "copy.csv", frame)
    [duplicate] = running.wait(ev.FileDuplicate)
    assert duplicate.file == str(drop / "copy.csv")
    running.stop()  # the worker finishes the job it is in (the move) before it stops
    ledger = _ledger(tmp_path)
    try:
        assert ledger.file_counts() == {"done": 1, "duplicate": 1}
        assert duplicate.duplicate_of == ledger.files("done")[0]["id"]
    finally:
        ledger.close()
    assert _file_checks_per_name(tmp_path) == {"first.csv": 1}
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["copy.csv", "first.csv"]


def test_kill_9_in_the_middle_of_a_batch_loses_none_and_repeats_none(tmp_path: Path) -> None:
    config = daemon_config(tmp_path, logging={"level": "DEBUG"})  # DEBUG: rescans are logged
    drop = tmp_path / "drop"
    names = [f"batch-{i:02d}.csv" for i in range(50)]
    daemon = DaemonProcess(config).start()
    try:
        for i, name in enumerate(names):
            write_csv(drop / name, sample_frame(120, seed=100 + i))
        # The kill must land while a file is claimed but not yet recorded ('processing'),
        # or the redo path is not exercised: try a few kill times.
        half_done: list[str] = []
        for attempt in range(6):
            daemon.wait_event("file_checked", count=3, timeout=60)
            time.sleep(0.013 * attempt)  # where in a check the kill lands
            daemon.kill()
            half_done = _processing(tmp_path)
            if half_done:
                break
            daemon.start()
        assert half_done, "no kill landed while a file was being processed"
        done_before = len(_file_checks_per_name(tmp_path))
        assert done_before < 50, "the batch finished before the kill; the test proves nothing"
        daemon.start()
        [redo] = daemon.wait_for(
            lambda e: e.get("event") == "file_redo" and e.get("file") in half_done,
            what="the half-processed file redone",
        )
        assert redo["attempt"] == 2
        daemon.wait_until(
            lambda: len(_file_checks_per_name(tmp_path)) == 50, timeout=120, what="all 50 checked"
        )
        rescans = len([e for e in daemon.named("rescan_done") if e.get("reason") == "timer"])
        daemon.wait_event("rescan_done", reason="timer", count=rescans + 2)  # one more full pass
    finally:
        assert daemon.stop() == 0
    counts = _file_checks_per_name(tmp_path)
    assert counts == dict.fromkeys(names, 1)
    processed = sorted(p.name for p in (drop / "processed").iterdir())
    assert processed == names
    ledger = _ledger(tmp_path)
    try:
        assert ledger.file_counts() == {"done": 50}
    finally:
        ledger.close()


def _malformed(drop: Path, outside: Path) -> dict[str, str]:
    """50 bad entries of many kinds; value: a word the reason must contain."""
    good = sample_frame(50, seed=7).to_csv(index=False)
    bad: dict[str, str] = {}

    def put(name: str, data: bytes, expect: str) -> None:
        path = drop / name
        tmp = drop / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, path)
        bad[name] = expect

    lines = good.splitlines(keepends=True)
    for i in range(4):  # cut off mid-row, as an interrupted upload leaves it
        put(
            f"truncated-{i}.csv",
            "".join(lines[: 5 + i]).encode() + lines[5 + i][:3].encode(),
            "truncated",
        )
    for i in range(2):  # cut inside a quoted field
        put(f"truncated-quote-{i}.csv", "".join(lines[: 5 + i]).encode() + b'1.5,2.5,"unterm', "")
    for i in range(6):
        put(f"binary-{i}.csv", os.urandom(300 + i) + b"\xff\xfe\x00", "")
    for i in range(5):
        put(f"empty-{i}.csv", b"", "empty")
    for i in range(5):
        put(f"header-only-{i}.csv", b"x1,x2,cat,target\n", "header only")
    for i in range(6):
        put(f"wrong-columns-{i}.csv", b"a,b,c\n1,2,3\n4,5,6\n", "missing column")
    for i in range(6):
        rows = "x1,x2,cat,target\n" + "".join(f"{j}.5,abc{i},a,1\n" for j in range(5))
        put(f"text-in-numbers-{i}.csv", rows.encode(), "non-numeric")
    for i in range(5):
        put(f"latin1-{i}.csv", "x1,x2,cat,target\n1,2,caf\xe9,1\n".encode("latin-1"), "UTF-8")
    for i in range(3):
        (drop / f"directory-{i}.csv").mkdir()
        bad[f"directory-{i}.csv"] = "directory"
    for i in range(3):
        (drop / f"symlink-{i}.csv").symlink_to(outside)
        bad[f"symlink-{i}.csv"] = "symlink"
    for i in range(5):
        put(f"parquet-garbage-{i}.parquet", b"PAR1" + os.urandom(100) + b"PAR1", "parquet")
    assert len(bad) == 50
    return bad


def test_fifty_malformed_files_are_quarantined_while_good_files_flow(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(daemon_config(tmp_path))
    drop = tmp_path / "drop"
    outside = tmp_path / "outside.csv"
    write_csv(outside, sample_frame(50, seed=8))
    bad = _malformed(drop, outside)
    for i in range(5):
        write_csv(drop / f"good-{i}.csv", sample_frame(200, seed=40 + i))
    running.wait(ev.FileChecked, count=5, timeout=90)
    quarantined = running.wait(ev.FileQuarantined, count=50, timeout=90)
    running.stop()
    assert {Path(e.file).name for e in quarantined} == set(bad)
    quarantine = drop / "quarantine"
    for name, expect in bad.items():
        moved = quarantine / name
        assert os.path.lexists(moved), f"{name} not in quarantine"
        reason = (quarantine / f"{name}.reason.txt").read_text()
        assert expect.lower() in reason.lower(), f"{name}: {reason}"
    assert outside.exists(), "the symlink's target outside the drop dir was touched"
    assert sorted(p.name for p in (drop / "processed").iterdir()) == [
        f"good-{i}.csv" for i in range(5)
    ]
    ledger = _ledger(tmp_path)
    try:
        assert ledger.file_counts() == {"done": 5, "quarantined": 50}
    finally:
        ledger.close()


def test_marker_mode_waits_for_the_marker_and_moves_it_along(
    tmp_path: Path, start_daemon: Start
) -> None:
    config = daemon_config(tmp_path, watch={"completion": "marker", "marker_suffix": ".ready"})
    running = start_daemon(config)
    drop = tmp_path / "drop"
    write_csv(drop / "m.csv", sample_frame(100, seed=9))
    _next_timer_rescan(running)  # well past the settle time, and found by a rescan: no marker
    assert running.events.of(ev.FileChecked) == []
    (drop / "m.csv.ready").write_text("")
    running.checked("m.csv")
    running.stop()
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["m.csv", "m.csv.ready"]
