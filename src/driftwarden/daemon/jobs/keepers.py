"""The models this daemon keeps: one ``Keeper`` each, started and stopped one by one.

A model's keeper runs on its own threads (its worker and its retrain runner) and its drop
directories have their own watch, so a slow or failing model never delays another's files.
``Keepers`` is one lifecycle component for all of them (``start`` starts the models it was
built with, ``close``/``join`` stop every one) and, at run time, ``add(model)`` and
``remove(model)`` start or stop a single model's keeper: a reload that adds or removes a
model, or (with shared state) a lease gained or lost. Work queued for a stopped model is
dropped; its files are found again by the next scan of whoever keeps it, and the ledger
makes every file's check happen once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.intake import Intake
from driftwarden.daemon.intake.watcher import DropWatcher
from driftwarden.daemon.jobs.keeper import Keeper, health_name, wants_poll
from driftwarden.daemon.jobs.queue import Job
from driftwarden.events import Publish
from driftwarden.events.types import KeeperStarted, KeeperStopped
from driftwarden.observability.http import HealthState

# Builds a model's keeper, complete and not started, for the settings that keep it (None:
# the settings in force); raises ConfigError when the model cannot be kept.
KeeperFactory = Callable[[str, Settings | None], Keeper]

# How long one model's parts may take to stop: a running job (redone by whoever keeps the
# model next) and a training run (killed first).
JOB_STOP_SECONDS = 5.0
RETRAIN_STOP_SECONDS = 1.5
STOP_SECONDS = JOB_STOP_SECONDS + RETRAIN_STOP_SECONDS


class Keepers:
    """The kept models' keepers by registered model name (thread-safe).

    Args:
        build: builds a model's keeper, complete and not started (raises ConfigError when
            the model cannot be kept, e.g. its reference file does not read); given the
            settings that keep the model when they are not in force yet (a reload).
        watch_for: the (not yet armed) watch of a keeper's drop directories.
        initial: the keepers ``start`` starts, built before anything started.
        intake: the watches in force; a keeper's watch is added and removed with it.
        health: each model's worker, retrain runner and watch are reported as
            ``jobs:<model>``, ``retrain:<model>`` and ``watcher:<model>``.
        forget: drops what is exported about a model that is no longer kept (its metric
            series).
    """

    def __init__(
        self,
        build: KeeperFactory,
        watch_for: Callable[[Keeper], DropWatcher],
        initial: Mapping[str, Keeper],
        intake: Intake,
        health: HealthState,
        publish: Publish,
        forget: Callable[[str], None],
    ) -> None:
        self._build = build
        self._watch_for = watch_for
        self._initial = dict(initial)
        self._intake = intake
        self._health = health
        self._publish = publish
        self._forget = forget
        self._lock = threading.RLock()
        self._keepers: dict[str, Keeper] = {}
        self._closed = False

    # ---- the kept models ----------------------------------------------------------------

    @property
    def models(self) -> list[str]:
        """The models kept now, in the order they were started."""
        with self._lock:
            return list(self._keepers)

    def get(self, model: str) -> Keeper | None:
        with self._lock:
            return self._keepers.get(model)

    def __getitem__(self, model: str) -> Keeper:
        keeper = self.get(model)
        if keeper is None:
            raise KeyError(f"model {model!r} is not kept here; kept: {self.models}")
        return keeper

    def __contains__(self, model: object) -> bool:
        with self._lock:
            return model in self._keepers

    def __iter__(self) -> Iterator[Keeper]:
        with self._lock:
            return iter(list(self._keepers.values()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._keepers)

    def one(self) -> Keeper:
        """The keeper of the only model kept (a single-model daemon, the tests); before
        ``start``, the one built to be started."""
        with self._lock:
            started = bool(self._keepers) or self._closed
            keepers = list((self._keepers if started else self._initial).values())
        if len(keepers) != 1:
            raise LookupError(
                f"{len(keepers)} models are kept, not one: {[k.model for k in keepers]}"
            )
        return keepers[0]

    # ---- work for the models ------------------------------------------------------------

    def request_all(self, kind: str, reason: str) -> None:
        """Ask every kept model's keeper for work by name (the scheduler, SIGUSR1)."""
        for keeper in self:
            keeper.requests(kind, reason)

    def request(self, kind: str, reason: str, model: str) -> bool:
        """Ask ``model``'s keeper for work by name; False when the model is not kept here
        (nothing is queued)."""
        keeper = self.get(model)
        if keeper is None:
            return False
        keeper.requests(kind, reason)
        return True

    def put_file(self, model: str, path: Path) -> bool:
        """Queue a completed file for its model's worker; False when the model is not kept."""
        keeper = self.get(model)
        return keeper is not None and keeper.jobs.put(Job("file", path, "complete"))

    # ---- one model at a time ------------------------------------------------------------

    def prepare(self, model: str, settings: Settings | None = None) -> Keeper:
        """Build ``model``'s keeper without starting it (``settings``: the config that keeps
        the model, when it is not in force yet); ConfigError when it cannot be kept."""
        return self._build(model, settings)

    def add(self, model: str, reason: str, keeper: Keeper | None = None) -> Keeper:
        """Start ``model``'s keeper (``keeper``: one ``prepare`` built, else built now), scan
        its drop directories and poll its registry as at start-up (a running daemon).

        Raises ConfigError when the model cannot be kept (nothing of it is left running).
        A model kept already keeps its keeper.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the daemon is stopping: no model is added")
            existing = self._keepers.get(model)
            if existing is not None:
                return existing
            started = keeper if keeper is not None else self._build(model, None)
            self._start(started, reason)
        self._intake.scan(f"model {model} added", model)
        if wants_poll(started.config()):
            started.requests("registry_poll", reason)
        return started

    def remove(self, model: str, reason: str, forget: bool = True) -> bool:
        """Stop ``model``'s keeper: its watch, its worker (after the job it runs) and its
        retrain runner (a training run is killed); with ``forget`` its metric series go too
        (not when a new keeper of the same model follows). True when everything stopped in
        time; False also when the model was not kept.

        Files noted or queued for the model stay where they are (nothing is moved or
        recorded for them): whoever keeps the model next finds them with its first scan."""
        with self._lock:
            keeper = self._keepers.pop(model, None)
        if keeper is None:
            return False
        self._close(keeper)
        finished = self._join(keeper, time.monotonic() + STOP_SECONDS)
        self._unregister(model)  # again: the worker's last turn may have beaten since
        if forget:
            self._forget(model)
        self._publish(KeeperStopped(model, reason, finished))
        return finished

    def _start(self, keeper: Keeper, reason: str) -> None:
        """Worker, retrain runner, then the watch (armed before any scan); all or nothing."""
        model = keeper.model
        watcher = self._watch_for(keeper)
        keeper.worker.start()
        keeper.retrain.start()
        try:
            self._intake.add(model, watcher)
        except BaseException:
            self._close(keeper)
            self._join(keeper, time.monotonic() + STOP_SECONDS)
            raise
        self._keepers[model] = keeper
        self._health.register(health_name("jobs", model), keeper.worker.is_alive)
        self._health.register(health_name("retrain", model), keeper.retrain.is_alive)
        self._health.register(health_name("watcher", model), lambda: self._intake.is_alive(model))
        dirs = ", ".join(str(d.root) for d in watcher.names.dirs) or "(none)"
        self._publish(KeeperStarted(model, dirs, reason))

    def _unregister(self, model: str) -> None:
        for part in ("jobs", "retrain", "watcher"):
            self._health.unregister(health_name(part, model))

    def _close(self, keeper: Keeper) -> None:
        self._unregister(keeper.model)
        self._intake.remove(keeper.model)
        keeper.worker.close()
        keeper.retrain.close()

    @staticmethod
    def _join(keeper: Keeper, deadline: float) -> bool:
        """The worker until the retrain runner's share of ``deadline``, then the runner."""
        worker = keeper.worker.join(max(0.0, deadline - RETRAIN_STOP_SECONDS - time.monotonic()))
        retrain = keeper.retrain.join(max(0.0, deadline - time.monotonic()))
        return worker and retrain

    # ---- lifecycle (every model) --------------------------------------------------------

    def start(self) -> None:
        """Start the keepers built with the daemon (stops those started when one fails)."""
        with self._lock:
            try:
                for keeper in self._initial.values():
                    self._start(keeper, "start-up")
            except BaseException:
                for keeper in list(self._keepers.values()):
                    self._close(keeper)
                raise

    def close(self) -> None:
        """Stop every model's watch, worker and retrain runner; return at once."""
        with self._lock:
            self._closed = True
            keepers = list(self._keepers.values())
        for keeper in keepers:
            self._close(keeper)

    def join(self, timeout: float) -> bool:
        """Wait for every model's threads, all within ``timeout``; False when one is still busy."""
        deadline = time.monotonic() + timeout
        keepers = list(self)
        finished = True
        for keeper in keepers:
            done = self._join(keeper, deadline)
            finished = finished and done
            self._publish(KeeperStopped(keeper.model, "daemon stopping", done))
        return finished

    def is_alive(self) -> bool:
        """Every model's threads run (each is also reported on its own to ``/healthz``)."""
        return all(
            k.worker.is_alive() and k.retrain.is_alive() and self._intake.is_alive(k.model)
            for k in self
        )
