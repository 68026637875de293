"""``driftwarden run``: the daemon. The main thread owns the start order, the loop and the stop.

Start: the parts in ``Parts.components()`` order (state, endpoint, alert sinks, MLflow
writer, worker, retrain runner, watch armed before the start-up scan, scheduler, systemd),
then the scan and ``READY=1``. The main loop sleeps until there is work (a signal, a new
file, a requested rescan) or a deadline (the settling of noted files, the timers), then
runs one ``tick``. Stop: the parts in reverse; a job still running at its deadline is
redone at the next start (its ledger row says ``processing``).
"""

from __future__ import annotations

import argparse
import signal
import time
from collections.abc import Callable
from pathlib import Path

from driftwarden.config.model import Settings
from driftwarden.daemon.jobs.keeper import wants_poll
from driftwarden.daemon.service.assembly import Parts, assemble
from driftwarden.daemon.service.lifecycle import Lifecycle
from driftwarden.daemon.service.signals import SignalFlags
from driftwarden.daemon.service.state_wait import build_when_state_writable
from driftwarden.daemon.service.timers import Timers
from driftwarden.errors import StateUnavailable
from driftwarden.events import EventBus, log_event
from driftwarden.events.types import DaemonReady, StopRequested
from driftwarden.logs import setup_logging

ALERT_TICK_SECONDS = 15.0
STATUS_SECONDS = 10.0
# The longest the main loop sleeps with nothing to do (health heartbeat, queue length).
MAX_SLEEP_SECONDS = 1.0
# How often files noted but not complete yet are looked at again (size/mtime settling).
SETTLE_POLL_SECONDS = 0.2


def run_daemon(args: argparse.Namespace, settings: Settings, config_path: Path) -> int:
    """``driftwarden run`` once its config passed the checks (``commands/run.py``): build the
    daemon and run it until stopped."""
    log_level = getattr(args, "log_level", None)
    log_format = getattr(args, "log_format", None)
    setup_logging(log_level or settings.logging.level, log_format or settings.logging.format)
    daemon = build_when_state_writable(  # a full state disk: wait for it, do not crash-loop
        lambda: Daemon.build(settings, config_path, log_level=log_level, log_format=log_format),
        settings,
    )
    return 0 if daemon is None else daemon.run()


class Daemon:
    """One daemon process; ``run`` blocks until SIGTERM/SIGINT and returns the exit code.

    Build it with :meth:`build`. Tests and the demo subscribe to ``bus`` and drive the daemon
    with ``start``/``tick``/``stop``, or ``run(on_started=...)`` on the main thread.
    """

    def __init__(
        self,
        parts: Parts,
        config_path: Path,
        bus: EventBus,
        flags: SignalFlags,
        log_overrides: tuple[str | None, str | None] = (None, None),
    ) -> None:
        self.parts = parts
        self.config_path = config_path
        self.bus = bus
        self.flags = flags
        self.log_overrides = log_overrides
        self.lifecycle = Lifecycle(parts.health, bus.publish)
        self.timers = Timers(
            {
                "rescan": self._rescan_interval,
                "alert_tick": lambda: ALERT_TICK_SECONDS,
                "status": lambda: STATUS_SECONDS,
            },
            time.monotonic(),
        )
        self._last_progress: dict[str, int] = {}

    @classmethod
    def build(
        cls,
        settings: Settings,
        config_path: Path,
        *,
        bus: EventBus | None = None,
        log_level: str | None = None,
        log_format: str | None = None,
    ) -> Daemon:
        """Open the state and build every part (no thread starts); the log subscribes to ``bus``."""
        bus = bus if bus is not None else EventBus()
        bus.subscribe(log_event)
        flags = SignalFlags()
        try:
            parts = assemble(settings, bus.publish, flags.wake)
        except BaseException:
            flags.close()
            raise
        return cls(parts, config_path, bus, flags, (log_level, log_format))

    @property
    def settings(self) -> Settings:
        return self.parts.settings.get()

    @property
    def metrics_url(self) -> str | None:
        return self.parts.http.url if self.parts.http is not None else None

    # ---- lifecycle ----------------------------------------------------------------------

    def run(self, on_started: Callable[[Daemon], None] | None = None) -> int:
        """Install the signal handlers, start, call ``on_started``, loop until stopped, stop."""
        self.flags.install()
        try:
            self.start()
            if on_started is not None:
                on_started(self)
            self.loop()
        finally:
            self.stop()
            self.flags.restore()
            self.flags.close()
        return 0

    def start(self) -> None:
        """Start every part in order, scan the drop directories, tell systemd we are ready."""
        for part in self.parts.components():
            self.lifecycle.start(part.name, part.component, part.stop_within, part.watched)
        noted = self.parts.intake.scan("start-up")  # the watch is armed: nothing slips between
        self.parts.health.mark_scan_done()
        settings = self.settings
        kept = settings.kept_models()
        for model, own in kept.items():
            if wants_poll(own):
                self.request("registry_poll", "start-up", model)
        dirs = ", ".join(str(p) for own in kept.values() for p in own.watch.paths) or "(none)"
        self.parts.notifier.ready(f"watching {dirs}")
        self.bus.publish(DaemonReady(dirs, noted, self.metrics_url, str(settings.state.directory)))

    def loop(self) -> None:
        """The main thread: sleep until there is work or a deadline, then ``tick``."""
        while self.flags.stop_signal is None:
            due = self.tick(time.monotonic())
            if self.flags.stop_signal is not None:
                break
            self.flags.sleep(max(0.0, due - time.monotonic()))
        signum = self.flags.stop_signal
        self.bus.publish(StopRequested(signal.Signals(signum).name if signum else None))

    def stop(self) -> None:
        """Stop every started part, last started first (safe after a partial start, and twice)."""
        self.lifecycle.stop()

    # ---- one turn of the main loop ------------------------------------------------------

    def tick(self, now: float) -> float:
        """Signal flags, timers, a requested rescan, completed files, liveness.

        Returns the monotonic time by which the next tick is due. While the state cannot be
        written (a full disk) no file is handed out: they wait in the drop directories, and
        once the state is writable again a scan finds every one of them.
        """
        self._signal_flags()
        try:
            self._work(now)
        except StateUnavailable as exc:  # the main loop outlives a full disk
            self.parts.state.failed(exc)
        self._liveness()
        return self._next_due(now)

    def _work(self, now: float) -> None:
        for name in self.timers.due(now):
            self._timer(name)
        state = self.parts.state.poll(now)
        if self.parts.rescan.take() or state == "recovered":
            self.parts.intake.scan("state writable again" if state == "recovered" else "requested")
            self.timers.reset("rescan", now)
        if state == "unavailable":
            return
        for model, path in self.parts.intake.due():  # each file to its own model's worker
            self.parts.keepers.put_file(model, path)

    def _signal_flags(self) -> None:
        if self.flags.reload:
            self.flags.reload = False
            self.reload()
        if self.flags.poll:
            self.flags.poll = False
            self.request("registry_poll", "SIGUSR1")

    def _timer(self, name: str) -> None:
        if name == "rescan":
            self.parts.intake.scan("timer")
        elif name == "alert_tick":
            self.request("alert_tick", "timer")
        elif name == "status":
            self.parts.notifier.status(self._status_line())

    def _status_line(self) -> str:
        """systemd's STATUS=: models, jobs done and queued, MLflow writes pending, a full
        state disk."""
        workers, problem = [k.worker for k in self.parts.keepers], self.parts.state.reason
        if problem is not None:
            return f"state not writable, taking no file: {problem}"
        return (
            f"{len(workers)} model(s), {sum(w.done for w in workers)} jobs done, "
            f"{sum(w.jobs.qsize() for w in workers)} queued, "
            f"{self.parts.outbox.pending()} MLflow writes pending"
        )

    def _liveness(self) -> None:
        """Health heartbeat, each model's queue length, and a watchdog ping when every model's
        worker turned over or its job is still within the job's own deadline (a large file
        takes minutes); one stuck worker stops the pings."""
        self.parts.health.heartbeat("main")
        progress: dict[str, int] = {}
        for keeper in self.parts.keepers:
            worker = keeper.worker
            self.parts.health.set_pending(worker.name, worker.jobs.qsize())
            turned = self._last_progress.get(keeper.model) != worker.progress
            if worker.is_alive() and (turned or worker.within_deadline()):
                progress[keeper.model] = worker.progress
        if progress and len(progress) == len(self.parts.keepers):
            self._last_progress = progress
            self.parts.notifier.watchdog()

    def _next_due(self, now: float) -> float:
        due = min(self.timers.next_due(), now + MAX_SLEEP_SECONDS)
        probe = self.parts.state.next_probe()
        if probe is not None:  # files wait for the state: no settling to watch meanwhile
            due = min(due, probe)
        elif self.parts.intake.pending():
            due = min(due, now + SETTLE_POLL_SECONDS)
        interval = self.parts.notifier.watchdog_interval
        if interval is not None:
            due = min(due, now + interval / 2)
        return due

    # ---- requests and reloads -----------------------------------------------------------

    def request(self, kind: str, reason: str, model: str | None = None) -> None:
        """Ask for work by name: ``"rescan"``, or a job kind for ``model`` (every kept model
        when None)."""
        if kind == "rescan":
            self.parts.rescan.request()
        elif model is None:
            self.parts.keepers.request_all(kind, reason)
        else:
            self.parts.keepers.request(kind, reason, model)

    def _rescan_interval(self) -> float:
        """The periodic rescan covers every model: as often as the most eager one asks."""
        kept = self.settings.kept_models().values()
        return min((m.watch.rescan_interval_seconds for m in kept), default=60.0)

    def reload(self) -> None:
        """SIGHUP: apply the config file again, section by section (see ``reload.py``)."""
        from driftwarden.daemon.service.reload import reload

        reload(self)
