"""A long job that is still within its own deadline is not wedged (issue 10.2).

Before: a check of a large file kept the worker in one job for minutes while more files
queued, and ``/healthz`` said "jobs: wedged" (and the watchdog pings stopped) the whole
time. Now each job has a deadline of its own; only a job past it is wedged. The health
clock is shifted by hand inside the job, so no test waits for real time to pass.
"""

from __future__ import annotations

import time
from pathlib import Path

from driftwarden.daemon.jobs.deadline import (
    FILE_BASE_SECONDS,
    FILE_SECONDS_PER_MIB,
    MIB,
    job_deadline_seconds,
)
from driftwarden.daemon.jobs.queue import Job, JobQueue, Worker
from driftwarden.observability.http import HealthState

WEDGED_AFTER = 60.0


def test_a_job_within_its_deadline_is_not_wedged_and_one_past_it_is() -> None:
    shift = [0.0]
    health = HealthState(WEDGED_AFTER, clock=lambda: time.monotonic() + shift[0])
    seen: dict[str, object] = {}

    def long_check(job: Job) -> None:
        health.set_pending("jobs", 3)  # more files wait behind this one
        shift[0] = 10 * WEDGED_AFTER  # ten minutes into a 20-minute job
        seen["in_time"] = (health.health().ok, worker.within_deadline())
        shift[0] = 30 * WEDGED_AFTER  # past its deadline: stuck for real
        report = health.health()
        seen["overdue"] = (report.ok, report.problems)

    worker = Worker(
        "jobs",
        JobQueue(),
        handlers={"file": long_check},
        on_error=lambda job, exc: None,
        on_turn=lambda: health.heartbeat("jobs"),
        deadline_of=lambda job: 20 * WEDGED_AFTER,
        on_job=lambda until: health.allow_quiet("jobs", until),
    )
    worker.run_one(Job("file", Path("/drop/big.csv")))
    assert seen["in_time"] == (True, True)
    ok, problems = seen["overdue"]  # type: ignore[misc]
    assert not ok and any("jobs: wedged" in p for p in problems)
    assert not worker.within_deadline()  # the job ended: no allowance left behind
    shift[0] = 0.0
    health.set_pending("jobs", 3)
    assert health.health().ok


def test_a_file_job_deadline_grows_with_the_file(tmp_path: Path) -> None:
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_bytes(b"a\n1\n")
    with big.open("wb") as handle:
        handle.truncate(300 * MIB)  # sparse: the size is what counts
    assert job_deadline_seconds(Job("file", small)) < FILE_BASE_SECONDS + 1
    assert job_deadline_seconds(Job("file", big)) == FILE_BASE_SECONDS + 300 * FILE_SECONDS_PER_MIB
    assert job_deadline_seconds(Job("file", tmp_path / "gone.csv")) == FILE_BASE_SECONDS
    assert job_deadline_seconds(Job("alert_tick")) > 0
