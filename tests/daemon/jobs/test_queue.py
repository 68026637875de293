"""The job queue and worker: one job at a time, failures counted, the loop goes on."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from driftwarden.daemon.jobs.queue import Job, JobQueue, Worker
from driftwarden.errors import LeaseLost


def test_equal_jobs_are_queued_once() -> None:
    jobs = JobQueue()
    assert jobs.put(Job("file", Path("/d/a.csv")))
    assert not jobs.put(Job("file", Path("/d/a.csv")))
    assert jobs.put(Job("file", Path("/d/b.csv")))
    assert jobs.put(Job("registry_poll"))
    assert not jobs.put(Job("registry_poll", reason="again"))
    assert jobs.qsize() == 3
    first = jobs.get(0.1)
    assert first is not None and first.path == Path("/d/a.csv")
    assert jobs.put(Job("file", Path("/d/a.csv")))  # taken, so it may be queued again


def test_a_failing_job_is_reported_and_the_loop_goes_on() -> None:
    jobs = JobQueue()
    done: list[str] = []
    errors: list[tuple[str, str]] = []
    finished = threading.Event()

    def handle(job: Job) -> None:
        if job.reason == "boom":
            raise RuntimeError("broken input")
        done.append(job.reason)
        if job.reason == "last":
            finished.set()

    worker = Worker(
        "test",
        jobs,
        {"validation": handle},
        on_error=lambda j, e: errors.append((j.reason, str(e))),
        on_turn=lambda: None,
        idle_wait=0.05,
    )
    worker.start()
    for reason in ("one", "boom", "last"):  # distinct jobs: an equal one waiting is dropped
        assert jobs.put(Job("validation", Path(reason), reason=reason))
    assert finished.wait(5)
    worker.close()
    assert worker.join(5)
    assert done == ["one", "last"]
    assert errors == [("boom", "broken input")]
    assert worker.failed == 1 and worker.done == 2


def test_an_idle_worker_still_turns_over() -> None:
    turns: list[int] = []
    worker = Worker(
        "idle",
        JobQueue(),
        {},
        on_error=lambda j, e: None,
        on_turn=lambda: turns.append(1),
        idle_wait=0.02,
    )
    worker.start()
    time.sleep(0.2)
    assert worker.progress > 2 and len(turns) >= worker.progress - 1
    worker.close()
    assert worker.join(2)


def test_stop_lets_the_running_job_finish() -> None:
    jobs = JobQueue()
    started, results = threading.Event(), []

    def slow(job: Job) -> None:
        started.set()
        time.sleep(0.3)
        results.append(job.reason)

    worker = Worker(
        "w",
        jobs,
        {"validation": slow},
        on_error=lambda j, e: None,
        on_turn=lambda: None,
        idle_wait=0.05,
    )
    worker.start()
    jobs.put(Job("validation", reason="running"))
    jobs.put(Job("window_drift", reason="queued"))
    assert started.wait(2)
    worker.close()
    assert worker.join(5)
    assert results == ["running"]
    assert not jobs.put(Job("validation", reason="after close"))


def test_a_job_refused_by_the_lease_fence_is_reported_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another instance took the model mid-job and redoes it: a warning, not an error."""
    errors: list[BaseException] = []

    def handle(job: Job) -> None:
        raise LeaseLost("m", "instance 'a' does not own it")

    worker = Worker(
        "test", JobQueue(), {"file": handle}, on_error=lambda j, e: errors.append(e),
        on_turn=lambda: None,
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="driftwarden.daemon.jobs.queue"):
        worker.run_one(Job("file", Path("/drop/a.csv")))
    [record] = [r for r in caplog.records if r.name == "driftwarden.daemon.jobs.queue"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert [type(e) for e in errors] == [LeaseLost] and worker.failed == 1
