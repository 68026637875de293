"""APScheduler wiring: triggers from [schedule], coalesce/max_instances/grace set, jobs only enqueue."""

from __future__ import annotations

import threading
import time

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from driftwarden.config.model import JobSchedule, ScheduleConfig
from driftwarden.daemon.jobs.scheduler import Scheduler, build_trigger
from driftwarden.errors import ConfigError


def test_triggers_from_cron_interval_and_disabled() -> None:
    assert isinstance(build_trigger("drift", JobSchedule(cron="*/15 * * * *")), CronTrigger)
    assert isinstance(build_trigger("drift", JobSchedule(interval_seconds=5)), IntervalTrigger)
    assert build_trigger("drift", JobSchedule(enabled=False, interval_seconds=5)) is None
    # The config model rejects this already; build_trigger still names the key if one slips by.
    bad = JobSchedule.model_construct(enabled=True, cron="99 * * * *", interval_seconds=None)
    with pytest.raises(ConfigError, match=r"schedule\.drift\.cron"):
        build_trigger("drift", bad)


def test_jobs_enqueue_by_kind_with_grace_and_coalescing() -> None:
    calls: list[tuple[str, str]] = []
    got = threading.Event()

    def enqueue(kind: str, reason: str) -> None:
        calls.append((kind, reason))
        got.set()

    cfg = ScheduleConfig(
        drift=JobSchedule(interval_seconds=0.2),
        validation=JobSchedule(cron="0 3 * * *"),
        registry_poll=JobSchedule(enabled=False),
        misfire_grace_seconds=42,
    )
    scheduler = Scheduler(enqueue, cfg)
    scheduler.start()
    try:
        assert sorted(job.id for job in scheduler._scheduler.get_jobs())  # type: ignore[union-attr] == ["drift", "validation"]
        assert got.wait(5)
        assert calls[0] == ("window_drift", "schedule.drift")
        jobs = {job.id: job for job in scheduler._scheduler.get_jobs()}  # type: ignore[union-attr]
        for job in jobs.values():
            assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 42
        scheduler.apply(ScheduleConfig(drift=JobSchedule(enabled=False), misfire_grace_seconds=7))
        assert sorted(job.id for job in scheduler._scheduler.get_jobs())  # type: ignore[union-attr] == ["registry_poll", "validation"]
        assert all(job.misfire_grace_time == 7 for job in scheduler._scheduler.get_jobs())  # type: ignore[union-attr]
    finally:
        scheduler.close()
    assert scheduler.join(1.0) and not scheduler.is_alive()
    time.sleep(0.1)
