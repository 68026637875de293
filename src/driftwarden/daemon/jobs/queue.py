"""The job queue and the worker that runs one job at a time for one model.

Producers (the file watcher, the scheduler, the registry poll request, the main loop) only
enqueue; the worker does the work. A failing job is logged with its cause, counted, and the
loop goes on. The worker's heartbeat is what the health endpoint and systemd's watchdog see.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args

from driftwarden.errors import LeaseLost, RecoverableError
from driftwarden.memory import IdleRelease

log = logging.getLogger(__name__)

JobKind = Literal[
    "file",  # drift check (+ validation when labelled) of one dropped file
    "window_drift",  # drift over the last schedule.window_files drops
    "validation",  # production-model validation on recent labelled drops
    "registry_poll",  # has the alias (or stage) moved?
    "alert_tick",  # time-driven alert rules (stale, pending writes, repeats)
]

JOB_KINDS: tuple[str, ...] = get_args(JobKind)

# Job kind -> the ``kind`` label of driftwarden_checks_total when the job fails.
CHECK_KIND_OF: dict[str, str] = {
    "file": "drift",
    "window_drift": "drift",
    "validation": "validation",
    "registry_poll": "registry",
}


@dataclass(frozen=True)
class Job:
    """One unit of work; ``path`` for file jobs, ``reason`` says who asked (for the log)."""

    kind: JobKind
    path: Path | None = None
    reason: str = ""
    enqueued_at: float = field(default_factory=time.time, compare=False)

    @property
    def dedupe_key(self) -> Hashable:
        """Equal keys are not queued twice (a file once, a poll once, ...)."""
        return (self.kind, self.path)


class JobQueue:
    """FIFO of jobs that drops a job equal to one already waiting."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._waiting: set[Hashable] = set()
        self._lock = threading.Lock()
        self._closed = False

    def put(self, job: Job) -> bool:
        """Queue ``job``; False when an equal job already waits or the queue is closed."""
        with self._lock:
            if self._closed or job.dedupe_key in self._waiting:
                return False
            self._waiting.add(job.dedupe_key)
        self._queue.put(job)
        return True

    def get(self, timeout: float) -> Job | None:
        """The next job, or None after ``timeout`` or once closed."""
        try:
            job = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if job is not None:
            with self._lock:
                self._waiting.discard(job.dedupe_key)
        return job

    def qsize(self) -> int:
        with self._lock:
            return len(self._waiting)

    def close(self) -> None:
        """Accept no more jobs and wake the worker; waiting jobs are dropped (rediscovered later)."""
        with self._lock:
            self._closed = True
            self._waiting.clear()
        self._queue.put(None)


Handler = Callable[[Job], None]
OnError = Callable[[Job, BaseException], None]
# Ask for work by name with a reason: a job kind, or "rescan" (the main loop's).
Request = Callable[[str, str], None]


class Worker:
    """A thread that runs jobs from ``jobs`` one at a time through ``handlers[job.kind]``.

    ``progress`` counts loop turns (idle waits included): the main loop forwards a change
    as a watchdog ping, so a worker stuck in one job stops the pings. ``on_turn`` is called
    every turn (the health heartbeat); ``on_error`` with every job that raised.

    ``deadline_of`` gives each job the seconds it may run (a large file legitimately takes
    minutes): ``on_job`` hears the monotonic time it must end by when it starts, and None
    when it ends; :meth:`within_deadline` tells the main loop the job is still in time.
    """

    def __init__(
        self,
        name: str,
        jobs: JobQueue,
        handlers: dict[str, Handler],
        on_error: OnError,
        on_turn: Callable[[], None],
        idle_wait: float = 0.5,
        deadline_of: Callable[[Job], float] | None = None,
        on_job: Callable[[float | None], None] | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.jobs = jobs
        self.handlers = handlers
        self.on_error = on_error
        self.on_turn = on_turn
        self.idle_wait = idle_wait
        self._release = IdleRelease()  # the peak of a burst is not kept while idle
        self.deadline_of = deadline_of
        self.on_job = on_job
        self.on_idle = on_idle  # no job waiting: work put off while busy is done now
        self._until: float | None = None
        self.progress = 0
        self.done = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"driftwarden-{self.name}", daemon=True
        )
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Finish the running job, then leave; queued jobs are dropped (rediscovered later)."""
        self._stop.set()
        self.jobs.close()

    def join(self, timeout: float) -> bool:
        """Wait for the thread; False when it is still busy after ``timeout``."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.progress += 1
            self.on_turn()
            job = self.jobs.get(self.idle_wait)
            if job is None:
                if self.on_idle is not None:
                    self._idle()
                self._release.idle()
            if job is None or self._stop.is_set():
                continue
            self.run_one(job)
            self._release.worked()

    def _idle(self) -> None:
        assert self.on_idle is not None
        try:
            self.on_idle()
        except Exception:  # never kills the loop
            log.exception("idle work failed", extra={"job": "idle"})

    def within_deadline(self) -> bool:
        """A job is running and has not passed its own deadline."""
        until = self._until
        return until is not None and time.monotonic() < until

    def run_one(self, job: Job) -> None:
        """Run one job within its deadline (see the class), reporting anything it raises."""
        if self.deadline_of is not None:
            self._until = time.monotonic() + self.deadline_of(job)
            if self.on_job is not None:
                self.on_job(self._until)
        try:
            self._run_handler(job)
        finally:
            self._until = None
            if self.on_job is not None and self.deadline_of is not None:
                self.on_job(None)

    def _run_handler(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        extra = {"job": job.kind, **({"file": str(job.path)} if job.path else {})}
        try:
            if handler is None:
                raise KeyError(f"no handler for job kind {job.kind!r}")
            handler(job)
            self.done += 1
        except Exception as exc:
            self.failed += 1
            # MLflow unreachable, or the model's lease lost mid-job (the new owner redoes
            # the job): expected, so no traceback
            if isinstance(exc, RecoverableError | LeaseLost):
                log.warning("job failed: %s: %s", type(exc).__name__, exc, extra=extra)
            else:
                log.error("job failed: %s: %s", type(exc).__name__, exc, extra=extra, exc_info=exc)
            try:
                self.on_error(job, exc)
            except Exception:  # reporting must never kill the loop
                log.exception("error reporting failed", extra=extra)


class Rescan:
    """A scan of the drop directories asked for by anyone; the main loop does it on its thread.

    ``request`` notes it and wakes the loop (``wake``); the loop ``take``s it once.
    """

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._asked = threading.Event()

    def request(self) -> None:
        self._asked.set()
        self._wake()

    def take(self) -> bool:
        """True once after a rescan was asked for."""
        if not self._asked.is_set():
            return False
        self._asked.clear()
        return True


class Requests:
    """Work asked for by name for one model (its scheduler jobs, registry watcher, remediation).

    A job kind goes to the model's queue; ``"rescan"`` is the main loop's own work (``rescan``).
    """

    def __init__(self, jobs: JobQueue, rescan: Rescan) -> None:
        self.jobs = jobs
        self._rescan = rescan

    def __call__(self, kind: str, reason: str) -> None:
        if kind == "rescan":
            self._rescan.request()
            return
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {kind!r}; known: {[*JOB_KINDS, 'rescan']}")
        self.jobs.put(Job(cast(JobKind, kind), reason=reason))
