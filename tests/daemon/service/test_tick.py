"""One turn of the main loop, called directly: files handed to the worker, rescans, the next deadline."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from driftwarden.daemon.service.daemon import MAX_SLEEP_SECONDS, SETTLE_POLL_SECONDS
from driftwarden.events import types as ev
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon

Start = Callable[..., InProcessDaemon]


def test_a_complete_file_goes_to_the_worker_on_the_next_tick(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(daemon_config(tmp_path), loop=False)
    daemon = running.daemon
    now = time.monotonic()
    assert daemon.tick(now) <= now + MAX_SLEEP_SECONDS  # idle: sleeps until a deadline
    path = write_csv(tmp_path / "drop" / "a.csv", sample_frame(100, seed=1))  # renamed in
    running.wait(ev.RescanDone, lambda e: e.reason == "start-up")
    running.parts.intake.watch("test-model").tracker.note(
        path, renamed=True
    )  # as the watch reports it
    daemon.tick(time.monotonic())
    checked = running.checked("a.csv")
    assert checked.dataset_drift is False


def test_a_noted_file_wakes_the_loop_and_is_looked_at_again_soon(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(daemon_config(tmp_path, watch={"settle_seconds": 30.0}), loop=False)
    daemon = running.daemon
    path = tmp_path / "drop" / "slow.csv"
    path.write_text("x1,x2,cat,target\n")  # still being written under its final name
    running.parts.intake.watch("test-model").tracker.note(path)
    started = time.monotonic()
    daemon.flags.sleep(30.0)  # the wake-up pipe is readable: returns at once
    assert time.monotonic() - started < 15.0
    now = time.monotonic()
    assert daemon.tick(now) <= now + SETTLE_POLL_SECONDS
    assert running.parts.keeper.jobs.qsize() == 0  # not complete yet


def test_a_requested_rescan_runs_on_the_next_tick(tmp_path: Path, start_daemon: Start) -> None:
    running = start_daemon(daemon_config(tmp_path), loop=False)
    write_csv(tmp_path / "drop" / "found.csv", sample_frame(50, seed=2))
    os.utime(tmp_path / "drop" / "found.csv", (1, 1))  # quiet long since: complete once seen
    running.daemon.request("rescan", "reference switched")
    daemon = running.daemon
    daemon.tick(time.monotonic())
    [rescan] = running.events.of(ev.RescanDone)[-1:]
    assert rescan.reason == "requested" and rescan.noted == 1
    daemon.tick(time.monotonic())  # first look at its size
    daemon.tick(time.monotonic())  # unchanged: complete
    running.checked("found.csv")


def test_signal_flags_are_acted_on_by_the_tick(tmp_path: Path, start_daemon: Start) -> None:
    running = start_daemon(daemon_config(tmp_path), loop=False)
    running.daemon.flags.reload = True  # what SIGHUP's handler does
    running.daemon.tick(time.monotonic())
    assert not running.daemon.flags.reload
    [reloaded] = running.events.of(ev.ConfigReloaded)
    assert reloaded.changes == ()
