"""Scheduled work from ``[schedule]``: APScheduler 3.x jobs that only enqueue.

APScheduler 3 skips a run more than ``misfire_grace_time`` late (default 1 s): it is set from
``schedule.misfire_grace_seconds``, with ``coalesce=True`` (missed runs collapse into one)
and ``max_instances=1``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from driftwarden.config.model import JobSchedule, ScheduleConfig
from driftwarden.errors import ConfigError

log = logging.getLogger(__name__)

# schedule section key -> job kind it enqueues.
SCHEDULED_JOBS = {
    "drift": "window_drift",
    "validation": "validation",
    "registry_poll": "registry_poll",
}


def build_trigger(name: str, spec: JobSchedule) -> BaseTrigger | None:
    """The trigger for one ``[schedule.<name>]`` entry; None when disabled or unset."""
    if not spec.enabled:
        return None
    if spec.cron is not None:
        try:
            return CronTrigger.from_crontab(spec.cron, timezone=dt.UTC)
        except ValueError as exc:
            raise ConfigError(f"schedule.{name}.cron: {exc} (got {spec.cron!r})") from None
    if spec.interval_seconds is not None:
        return IntervalTrigger(seconds=spec.interval_seconds, timezone=dt.UTC)
    return None


class Scheduler:
    """Wraps a BackgroundScheduler whose jobs call ``enqueue(kind, reason)`` (lifecycle: start,
    close, join); ``cfg`` is the ``[schedule]`` section to start with."""

    def __init__(self, enqueue: Callable[[str, str], None], cfg: ScheduleConfig) -> None:
        self.enqueue = enqueue
        self.cfg = cfg
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        cfg = self.cfg
        triggers = self.triggers(cfg)  # validate before starting anything
        self._scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(max(1, cfg.misfire_grace_seconds)),
            },
        )
        self._add(triggers)
        self._scheduler.start()

    def apply(self, cfg: ScheduleConfig) -> None:
        """Replace the jobs after a reload (raises ConfigError, changing nothing, when invalid)."""
        triggers = self.triggers(cfg)
        self.cfg = cfg
        if self._scheduler is None:
            return
        self._scheduler.remove_all_jobs()
        # job_defaults were fixed at start; a changed grace time is passed per job.
        self._add(triggers, misfire_grace=int(max(1, cfg.misfire_grace_seconds)))

    @staticmethod
    def triggers(cfg: ScheduleConfig) -> dict[str, BaseTrigger]:
        """The triggers of ``cfg``; ConfigError naming the key when one is invalid."""
        out: dict[str, BaseTrigger] = {}
        for name in SCHEDULED_JOBS:
            trigger = build_trigger(name, getattr(cfg, name))
            if trigger is not None:
                out[name] = trigger
        return out

    def _add(self, triggers: dict[str, BaseTrigger], misfire_grace: int | None = None) -> None:
        assert self._scheduler is not None
        for name, trigger in triggers.items():
            kind = SCHEDULED_JOBS[name]
            extra = {} if misfire_grace is None else {"misfire_grace_time": misfire_grace}
            self._scheduler.add_job(
                self.enqueue,
                trigger,
                args=(kind, f"schedule.{name}"),
                id=name,
                name=f"enqueue {kind}",
                replace_existing=True,
                **extra,
            )

    def is_alive(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def close(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    def join(self, timeout: float) -> bool:
        """Nothing to wait for: the scheduler's jobs only enqueue."""
        return True
