"""Single-flight across threads and processes, cooldown bookkeeping, trigger rule."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from driftwarden.config.model import RetrainConfig
from driftwarden.remediation.policy import CycleLock, CycleState, should_trigger


def test_should_trigger_needs_enabled_project_and_listed_breach() -> None:
    on = RetrainConfig(enabled=True, project_uri="examples/model_project", triggers=["drift"])
    assert should_trigger(on, "drift")
    assert not should_trigger(on, "validation")
    assert not should_trigger(RetrainConfig(enabled=False, project_uri="p"), "drift")


def test_only_one_of_many_threads_holds_the_lock(tmp_path: Path) -> None:
    lock = CycleLock(tmp_path)
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
        with CycleLock(Path({str(tmp_path)!r})).hold() as held:
            print(held, flush=True)
            time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "True"
        with CycleLock(tmp_path).hold() as held:
            assert not held
    finally:
        child.kill()
        child.wait()
    with CycleLock(tmp_path).hold() as held:
        assert held


def test_cooldown_counts_from_the_later_of_start_and_finish(tmp_path: Path) -> None:
    lock = CycleLock(tmp_path)
    assert lock.read_state().cooldown_left(100, now=1_000) == 0
    lock.mark_started("c1", now=1_000)
    assert lock.read_state().cooldown_left(100, now=1_050) == 50  # died mid-run: still holds
    lock.mark_finished("failed", now=1_080)
    state = lock.read_state()
    assert state.last_outcome == "failed" and state.last_cycle_id == "c1"
    assert state.cooldown_left(100, now=1_100) == 80
    assert state.cooldown_left(100, now=1_181) == 0


def test_unreadable_state_file_counts_as_never_ran(tmp_path: Path) -> None:
    lock = CycleLock(tmp_path)
    lock.state_path.write_text("{not json")
    assert lock.read_state() == CycleState()


def test_history_appends_one_json_line_per_record(tmp_path: Path) -> None:
    lock = CycleLock(tmp_path)
    lock.append_history({"outcome": "skipped_running"})
    lock.append_history({"outcome": "promoted"})
    lines = lock.history_path.read_text().splitlines()
    assert [line.count("outcome") for line in lines] == [1, 1]
    assert "promoted" in lines[1]
