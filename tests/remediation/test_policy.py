"""Single-flight across threads and processes, the cooldown read from the ledger, trigger rule."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from driftwarden.config.model import RetrainConfig
from driftwarden.remediation.policy import (
    CycleLock,
    cooldown_left,
    fail_stale_retrains,
    should_trigger,
)
from driftwarden.state.sqlite import SqliteLedger


def test_should_trigger_needs_enabled_project_and_listed_breach() -> None:
    on = RetrainConfig(enabled=True, project_uri="examples/model_project", triggers=["drift"])
    assert should_trigger(on, "drift")
    assert not should_trigger(on, "validation")
    assert not should_trigger(RetrainConfig(enabled=False, project_uri="p"), "drift")


def test_only_one_of_many_threads_holds_the_lock(tmp_path: Path) -> None:
    lock = CycleLock(tmp_path, "m")
    barrier = threading.Barrier(5)
    results: list[bool] = []
    release = threading.Event()

    def attempt() -> None:
        barrier.wait()
        with lock.hold() as held:
            results.append(held)
            if held:
                release.wait(5)

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while len(results) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for t in threads:
        t.join(5)
    assert sorted(results) == [False, False, False, False, True]
    with lock.hold() as held:  # released afterwards
        assert held


def test_lock_held_by_another_process_blocks_and_is_freed_when_it_dies(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from driftwarden.remediation.policy import CycleLock
        with CycleLock(Path({str(tmp_path)!r}), "m").hold() as held:
            print(held, flush=True)
            time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "True"
        with CycleLock(tmp_path, "m").hold() as held:
            assert not held
    finally:
        child.kill()
        child.wait()
    with CycleLock(tmp_path, "m").hold() as held:
        assert held


def test_cooldown_counts_from_the_later_of_training_start_and_finish(tmp_path: Path) -> None:
    ledger = SqliteLedger.open(tmp_path / "ledger.db")
    assert cooldown_left(ledger, "m", 100, now=time.time()) == 0
    started = time.time()
    row = ledger.record_retrain("m", "drift breach", "drift")  # training starts
    left = cooldown_left(ledger, "m", 100, now=started + 50)
    assert 49 <= left <= 51  # died mid-run: still holds from the start
    ledger.finish_retrain(row, "failed")
    finished = time.time()
    assert cooldown_left(ledger, "m", 100, now=finished + 20) == pytest.approx(80, abs=1)
    assert cooldown_left(ledger, "m", 100, now=finished + 101) == 0
    assert cooldown_left(ledger, "other", 100, now=finished) == 0  # per model


def test_skips_do_not_restart_the_cooldown(tmp_path: Path) -> None:
    ledger = SqliteLedger.open(tmp_path / "ledger.db")
    ledger.record_retrain("m", "drift breach", "drift", status="skipped_cooldown")
    ledger.record_retrain("m", "drift breach", "drift", status="skipped_running")
    assert cooldown_left(ledger, "m", 3600, now=time.time()) == 0


def test_stale_running_rows_are_failed_only_when_no_cycle_holds_the_lock(tmp_path: Path) -> None:
    ledger = SqliteLedger.open(tmp_path / "ledger.db")
    ledger.record_retrain("m", "manual", "manual")  # 'running'
    with CycleLock(tmp_path, "m").hold() as held:  # e.g. `driftwarden retrain` in another process
        assert held
        assert fail_stale_retrains(ledger, tmp_path, "m") == 0
    assert ledger.retrain_running("m") is not None
    assert fail_stale_retrains(ledger, tmp_path, "m") == 1
    last = ledger.last_retrain("m")
    assert last is not None and last["status"] == "failed"


def test_each_model_has_its_own_lock(tmp_path: Path) -> None:
    """Single flight is per model: one model's cycle does not hold back another's."""
    with CycleLock(tmp_path, "m").hold() as held:
        assert held
        with CycleLock(tmp_path, "other").hold() as other:
            assert other
        with CycleLock(tmp_path, "m").hold() as again:
            assert not again
    # Names that read the same once made safe for a file name still get their own lock.
    with CycleLock(tmp_path, "a/b").hold() as first, CycleLock(tmp_path, "a_b").hold() as second:
        assert first and second


def test_stale_rows_of_one_model_wait_for_its_own_lock_only(tmp_path: Path) -> None:
    ledger = SqliteLedger.open(tmp_path / "ledger.db")
    ledger.record_retrain("m", "manual", "manual")
    ledger.record_retrain("other", "manual", "manual")
    with CycleLock(tmp_path, "m").hold():
        assert fail_stale_retrains(ledger, tmp_path, "other") == 1
        assert fail_stale_retrains(ledger, tmp_path, "m") == 0
    assert ledger.retrain_running("m") is not None
    assert ledger.retrain_running("other") is None
