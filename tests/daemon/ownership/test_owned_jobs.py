"""The model's job queue on a shared state takes work only while this instance owns the model."""

from __future__ import annotations

from pathlib import Path

from driftwarden.daemon.jobs.queue import Job, JobQueue
from driftwarden.daemon.ownership.wiring import OwnedJobs, job_queue
from driftwarden.state import Fences


def test_jobs_are_refused_until_the_lease_is_held_and_after_it_is_lost() -> None:
    fences = Fences()
    jobs = OwnedJobs("m", fences)
    assert not jobs.put(Job("file", Path("/drop/a.csv")))
    assert not jobs.put(Job("registry_poll", reason="timer"))
    assert jobs.qsize() == 0
    fences.hold("m", 3)
    assert jobs.put(Job("file", Path("/drop/a.csv")))
    assert not jobs.put(Job("file", Path("/drop/a.csv"))), "still deduplicated"
    fences.hold("other-model", 1)
    fences.drop("m")
    assert not jobs.put(Job("alert_tick", reason="timer")), (
        "another model's lease is not this one's"
    )
    assert jobs.qsize() == 1


def test_an_unshared_state_gets_a_plain_queue() -> None:
    plain = job_queue("m", None)
    assert type(plain) is JobQueue and plain.put(Job("alert_tick"))
    assert isinstance(job_queue("m", Fences()), OwnedJobs)


def test_jobs_queued_before_the_lease_was_lost_are_dropped_not_run() -> None:
    """A rebalance hands the model over with files queued: the new owner's rescan checks them."""
    fences = Fences()
    jobs = OwnedJobs("m", fences)
    fences.hold("m", 1)
    assert jobs.put(Job("file", Path("/drop/a.csv")))
    assert jobs.put(Job("file", Path("/drop/b.csv")))
    fences.drop("m")
    assert jobs.get(0.05) is None
    assert jobs.qsize() == 0
    fences.hold("m", 2)  # taken back: new jobs run again
    assert jobs.put(Job("file", Path("/drop/a.csv")))
    assert jobs.get(0.05) == Job("file", Path("/drop/a.csv"))
