"""``driftwarden run``: the daemon's lifecycle. The main thread owns the start and stop order.

Start: ledger and outbox, metrics and health endpoint, reference, alert sinks, the worker,
the watch (armed before the start-up scan), the scheduler, the outbox flusher, then
``READY=1``. The main loop turns completed files into jobs, rescans, reacts to signal flags
(stop, reload, poll) and pings systemd's watchdog only when the worker has turned over.
Stop: scheduler and watch first (no new work), the worker finishes its job (a job still
running at the deadline is redone at the next start: its ledger row says ``processing``),
then the flusher, the alert sinks and the endpoint.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path

from driftwarden.alerts.rules import AlertRules
from driftwarden.alerts.sinks import AlertDispatcher, build_sinks
from driftwarden.config import load_settings, resolve_config_path
from driftwarden.config.model import Settings
from driftwarden.daemon.intake.files import CompletionTracker, NameFilter, drop_dirs
from driftwarden.daemon.intake.reference import Reference, load_file_reference
from driftwarden.daemon.intake.watcher import DropWatcher
from driftwarden.daemon.jobs.context import DaemonContext, MlflowAccess
from driftwarden.daemon.jobs.file_job import FileProcessor
from driftwarden.daemon.jobs.queue import CHECK_KIND_OF, Job, JobQueue, Worker
from driftwarden.daemon.jobs.registry_watch import RegistryWatcher
from driftwarden.daemon.jobs.retrain import RetrainRunner
from driftwarden.daemon.jobs.scheduled import alert_tick, scheduled_validation, window_drift
from driftwarden.daemon.jobs.scheduler import Scheduler, build_trigger
from driftwarden.daemon.service.signals import SignalFlags
from driftwarden.daemon.service.systemd import Notifier
from driftwarden.errors import ConfigError, UsageError
from driftwarden.logs import setup_logging
from driftwarden.observability.http import HealthState, MetricsServer
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.queue import Outbox
from driftwarden.outbox.writer import MlflowWriter, OutboxFlusher
from driftwarden.state.paths import state_paths
from driftwarden.state.sqlite.ledger import Ledger

log = logging.getLogger(__name__)

TICK_SECONDS = 0.2
ALERT_TICK_SECONDS = 15.0
STATUS_SECONDS = 10.0
WORKER_STOP_SECONDS = 5.0
# Sections a SIGHUP does not apply (warned about and kept): the model is loaded, the state
# files, the endpoint and the MLflow client are opened once at start-up.
RESTART_ONLY = ("state", "metrics", "mlflow", "model")


def run_command(args: argparse.Namespace) -> int:
    """Entry of ``driftwarden run``: load and validate the config, then run until stopped."""
    config_path = resolve_config_path(args.config)
    if config_path is None:
        raise UsageError("run needs --config FILE (or DRIFTWARDEN_CONFIG)")
    settings = load_settings(config_path)
    log_level = getattr(args, "log_level", None)
    log_format = getattr(args, "log_format", None)
    setup_logging(log_level or settings.logging.level, log_format or settings.logging.format)
    return Daemon(settings, config_path, log_level=log_level, log_format=log_format).run()


class Daemon:
    """One daemon process; ``run`` blocks until SIGTERM/SIGINT and returns the exit code."""

    def __init__(
        self,
        settings: Settings,
        config_path: Path,
        log_level: str | None = None,
        log_format: str | None = None,
    ) -> None:
        self.settings = settings
        self.config_path = config_path
        self.log_overrides = (log_level, log_format)
        self.flags = SignalFlags()
        self.notifier = Notifier()
        self.jobs = JobQueue()
        self._rescan = threading.Event()
        self.ctx: DaemonContext | None = None
        self.server: MetricsServer | None = None
        self.dispatcher: AlertDispatcher | None = None
        self.worker: Worker | None = None
        self.watcher: DropWatcher | None = None
        self.scheduler: Scheduler | None = None
        self.flusher: OutboxFlusher | None = None
        self.files: FileProcessor | None = None
        self.registry: RegistryWatcher | None = None
        self.retrain: RetrainRunner | None = None

    # ---- lifecycle ----------------------------------------------------------------------

    def run(self) -> int:
        self.flags.install()
        try:
            self.start()
            self.loop()
        finally:
            self.stop()
            self.flags.restore()
            self.flags.close()
        return 0

    def start(self) -> None:
        settings = self.settings
        paths = state_paths(settings)
        settings.state.directory.mkdir(parents=True, exist_ok=True)
        ledger = Ledger.open(paths["ledger"])
        half_done = ledger.processing()
        if half_done:
            log.info(
                "files left half-processed by the last run will be redone",
                extra={"count": len(half_done)},
            )
        stale = ledger.fail_stale_retrains()
        if stale:
            log.warning(
                "retrains left running by the last run marked failed", extra={"count": stale}
            )
        metrics = Metrics()
        metrics.initialise(settings.model.name)
        health = HealthState()
        health.mark_config_loaded()
        outbox = Outbox(paths["outbox"])
        metrics.set_pending_writes(outbox.pending())
        self.ctx = ctx = DaemonContext(
            settings=settings,
            ledger=ledger,
            outbox=outbox,
            metrics=metrics,
            health=health,
            mlflow=MlflowAccess(settings),
            reports_dir=paths["reports"],
        )
        ctx.request = self.request
        previous = ledger.last_model_version(settings.model.name)
        if previous is not None:
            metrics.set_production_version(settings.model.name, previous["version"])
        if settings.reference.source == "file":
            ctx.reference.set(load_file_reference(settings))
        if settings.metrics.enabled:
            self.server = MetricsServer(
                metrics, health, settings.metrics.address, settings.metrics.port
            )
            try:
                self.server.start()
            except OSError as exc:
                self.server = None
                raise ConfigError(
                    f"metrics: cannot listen on {settings.metrics.address}:{settings.metrics.port}: {exc.strerror}"
                ) from None
            health.register("http", self.server.is_alive)
        ctx.rules = AlertRules(settings.alerts, settings.model.name, metrics)
        still_firing = ledger.firing_alerts(settings.model.name)
        if still_firing:
            ctx.rules.restore(still_firing)
            log.info(
                "alerts firing before the restart are still open",
                extra={"rules": ",".join(sorted({a["rule"] for a in still_firing}))},
            )
        generator = self.server.url + "/metrics" if self.server is not None else None
        self.dispatcher = AlertDispatcher(build_sinks(settings.alerts, generator), metrics)
        self.dispatcher.start()
        ctx.dispatcher = self.dispatcher
        health.register("alerts", self.dispatcher.is_alive)

        self.registry = RegistryWatcher(ctx, paths["reference"] / settings.model.name)
        self._build_watch(settings)
        self.worker = Worker(
            "jobs",
            self.jobs,
            handlers={
                "file": self._handle_file,
                "window_drift": lambda job: window_drift(self._context()),
                "validation": lambda job: scheduled_validation(self._context(), job.reason),
                "registry_poll": lambda job: self._poll(),
                "alert_tick": lambda job: alert_tick(self._context()),
            },
            on_error=self._job_failed,
            on_turn=lambda: health.heartbeat("jobs"),
        )
        self.worker.start()
        health.register("jobs", self.worker.is_alive)
        self.retrain = RetrainRunner(ctx)
        self.retrain.start()
        ctx.breach_listeners.append(self.retrain.request)
        health.register("retrain", self.retrain.is_alive)

        assert self.watcher is not None
        self.watcher.start()  # armed before the scan: nothing slips between
        noted = self.watcher.scan(self._kept)
        health.mark_scan_done()
        # Through self.watcher: a reload replaces the watcher, health must follow it.
        health.register("watcher", lambda: self.watcher is not None and self.watcher.is_alive())

        self.scheduler = Scheduler(self.request)
        self.scheduler.start(settings.schedule)
        health.register("scheduler", self.scheduler.is_alive)
        if settings.schedule.registry_poll.enabled or settings.reference.source == "model":
            self.request("registry_poll", "start-up")

        self.flusher = OutboxFlusher(
            outbox, MlflowWriter(ctx.mlflow), metrics, on_turn=lambda: health.heartbeat("outbox")
        )
        self.flusher.start()
        health.register("outbox", self.flusher.is_alive)

        dirs = ", ".join(str(p) for p in settings.watch.paths) or "(none)"
        self.notifier.ready(f"watching {dirs}")
        log.info(
            "daemon ready",
            extra={
                "watching": dirs,
                "found_at_start": noted,
                "metrics_url": self.server.url if self.server else None,
                "state": str(settings.state.directory),
            },
        )

    def loop(self) -> None:
        """The main thread: completion, rescans, signal flags, watchdog, status."""
        settings = self.settings
        next_rescan = time.monotonic() + settings.watch.rescan_interval_seconds
        next_alert = time.monotonic() + ALERT_TICK_SECONDS
        next_status = time.monotonic() + STATUS_SECONDS
        last_progress = -1
        ctx = self._context()
        while self.flags.stop_signal is None:
            self.flags.sleep(TICK_SECONDS)
            if self.flags.stop_signal is not None:
                break
            now = time.monotonic()
            if self.flags.reload:
                self.flags.reload = False
                self.reload()
            if self.flags.poll:
                self.flags.poll = False
                self.request("registry_poll", "SIGUSR1")
            if self._rescan.is_set() or now >= next_rescan:
                self._rescan.clear()
                self._scan()
                next_rescan = now + self.settings.watch.rescan_interval_seconds
            assert self.tracker is not None
            for path in self.tracker.due():
                self.jobs.put(Job("file", path, "complete"))
            if now >= next_alert:
                self.request("alert_tick", "timer")
                next_alert = now + ALERT_TICK_SECONDS
            ctx.health.heartbeat("main")
            ctx.health.set_pending("jobs", self.jobs.qsize())
            assert self.worker is not None
            if self.worker.progress != last_progress and self.worker.is_alive():
                last_progress = self.worker.progress
                self.notifier.watchdog()
            if now >= next_status:
                next_status = now + STATUS_SECONDS
                self.notifier.status(
                    f"{self.worker.done} jobs done, {self.jobs.qsize()} queued, "
                    f"{ctx.outbox.pending()} MLflow writes pending"
                )
        signum = self.flags.stop_signal
        log.info(
            "stop requested", extra={"signal": signal.Signals(signum).name if signum else None}
        )

    def stop(self) -> None:
        """Stop every component in order; safe after a partial start."""
        self.notifier.stopping()
        if self.retrain is not None:
            self.retrain.cancel()  # kills a running training run's process group
        if self.scheduler is not None:
            self.scheduler.close()
        if self.watcher is not None:
            self.watcher.close()
        worker_done = True
        if self.worker is not None:
            self.worker.stop()
            worker_done = self.worker.join(WORKER_STOP_SECONDS)
            if not worker_done:
                log.warning(
                    "a job was still running at the stop deadline; it is redone at the next start",
                    extra={"job": self.worker.current.kind if self.worker.current else None},
                )
        if self.retrain is not None and not self.retrain.join(1.5):
            log.warning(
                "retrain thread still busy at stop; its ledger row is failed at the next start"
            )
        if self.flusher is not None:
            self.flusher.close(1.0)
        if self.dispatcher is not None:
            self.dispatcher.close(1.0)
        if self.server is not None:
            self.server.close(1.0)
        if self.ctx is not None and worker_done:
            self.ctx.ledger.close()
        self.notifier.close()
        log.info("daemon stopped")

    # ---- watch --------------------------------------------------------------------------

    tracker: CompletionTracker | None = None

    def _build_watch(self, settings: Settings) -> None:
        self._install_watch(self._make_watch(settings))

    @staticmethod
    def _make_watch(settings: Settings) -> DropWatcher:
        names = NameFilter(settings.watch, drop_dirs(settings.watch))
        return DropWatcher(names, CompletionTracker(names, settings.watch.settle_seconds))

    def _install_watch(self, watcher: DropWatcher) -> None:
        self.watcher = watcher
        self.tracker = watcher.tracker
        if self.files is None:
            self.files = FileProcessor(self._context(), watcher.names)
        else:
            self.files.names = watcher.names

    def _kept(self, path: Path) -> bool:
        """Skip files left in place after their check (``on_success = "keep"``) without hashing."""
        if self.settings.watch.on_success != "keep":
            return False
        try:
            st = path.stat()
        except OSError:
            return False
        return self._context().ledger.is_kept_unchanged(str(path), st.st_size, st.st_mtime)

    def _scan(self) -> None:
        if self.watcher is not None:
            self.watcher.scan(self._kept)

    # ---- jobs ---------------------------------------------------------------------------

    def _context(self) -> DaemonContext:
        assert self.ctx is not None, "started"
        return self.ctx

    def request(self, kind: str, reason: str) -> None:
        """Ask for work by name (the scheduler, the registry watcher and remediation call this)."""
        if kind == "rescan":
            self._rescan.set()
            self.flags.wake()
            return
        self.jobs.put(Job(kind, reason=reason))  # type: ignore[arg-type]

    def request_registry_poll(self, reason: str = "requested") -> None:
        """An immediate registry poll (e.g. remediation just moved the alias)."""
        self.request("registry_poll", reason)

    def _handle_file(self, job: Job) -> None:
        assert self.files is not None and job.path is not None
        self.files.handle(job.path)
        if self.flusher is not None:
            self.flusher.wake()

    def _poll(self) -> None:
        assert self.registry is not None
        self.registry.poll()

    def _job_failed(self, job: Job, exc: BaseException) -> None:
        kind = CHECK_KIND_OF.get(job.kind)
        if kind is not None:
            ctx = self._context()
            ctx.metrics.observe_check(ctx.model_name, kind, "error")

    # ---- reload -------------------------------------------------------------------------

    def reload(self) -> None:
        """SIGHUP: load and validate the file; on any problem the old config stays in force.

        Everything that can fail is built first (reference, alert sinks, triggers, the new
        watch armed beside the old one); only then is anything swapped.
        """
        self.notifier.reloading()
        log.info("reloading config", extra={"config": str(self.config_path)})
        old = self.settings
        ctx = self._context()
        watcher: DropWatcher | None = None
        try:
            new = load_settings(self.config_path)
            restart_only = [s for s in RESTART_ONLY if getattr(new, s) != getattr(old, s)]
            for section in restart_only:
                setattr(new, section, getattr(old, section))
            reference = None
            current = ctx.reference.get()
            changed = new.reference != old.reference or new.drift != old.drift
            from_model = new.reference.source == old.reference.source == "model"
            if changed and new.reference.source == "file":
                reference = load_file_reference(new)
            elif from_model and new.drift != old.drift and current is not None:
                # The prepared reference fixes the tested columns: prepare the model's
                # training data again (a switch to "model" waits for the registry poll).
                reference = Reference.from_frame(current.frame, new, source=current.source)
            generator = self.server.url + "/metrics" if self.server is not None else None
            sinks = build_sinks(new.alerts, generator) if new.alerts != old.alerts else None
            for name in ("drift", "validation", "registry_poll"):
                build_trigger(name, getattr(new.schedule, name))
            if new.watch != old.watch:
                watcher = self._make_watch(new)
                watcher.start()  # armed before the old watch closes: nothing slips between
        except Exception as exc:  # a reload never stops the daemon
            if watcher is not None:
                watcher.close()
            why = str(exc) if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
            log.error(
                "config reload refused; the old config stays in force: %s",
                why.replace("\n", "; "),
                extra={"config": str(self.config_path)},
            )
            self.notifier.ready("reload refused: old config in force")
            return
        for section in restart_only:
            log.warning(f"[{section}] changed: takes effect after a restart")
        self.settings = new
        ctx.settings = new
        if reference is not None:
            ctx.reference.set(reference)
        elif new.reference.source == "model" and old.reference.source != "model":
            assert self.registry is not None
            self.registry.version = None
            self.request("registry_poll", "reference now follows the model")
        if watcher is not None:
            if self.watcher is not None:
                self.watcher.close()
            self._install_watch(watcher)
            watcher.scan(self._kept)
        if new.schedule != old.schedule and self.scheduler is not None:
            self.scheduler.apply(new.schedule)
        if ctx.rules is not None:
            ctx.rules.cfg = new.alerts
        if sinks is not None:
            old_dispatcher = self.dispatcher
            self.dispatcher = AlertDispatcher(sinks, ctx.metrics)
            self.dispatcher.start()
            ctx.dispatcher = self.dispatcher
            ctx.health.register("alerts", self.dispatcher.is_alive)
            if old_dispatcher is not None:
                old_dispatcher.close(1.0)
        level, fmt = self.log_overrides
        setup_logging(level or new.logging.level, fmt or new.logging.format)
        self.notifier.ready("config reloaded")
        log.info("config reloaded", extra={"config": str(self.config_path)})
