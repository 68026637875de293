"""An in-process daemon for wiring tests: the real parts, its main loop on a thread, its events recorded.

The same ``Daemon`` as ``driftwarden run`` (real watch, worker, ledger, outbox, endpoint,
MLflow store); only the signal handlers are not installed (stop with ``stop()``). Tests wait
on the daemon's events (``wait``) instead of sleeping or reading logs.

It writes to MLflow on a thread (``[mlflow] writer = "thread"`` is written into its config
file unless the file names a writer, so a reload reads the same): the writer child's own
``import mlflow`` would cost each test that writes about 5 s of CPU. The child is tested in
``tests/outbox`` (every writer test runs in both modes) and by every subprocess daemon,
which runs the default.
"""

from __future__ import annotations

import threading
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import TypeVar

from driftwarden.config import load_settings
from driftwarden.daemon.service.daemon import Daemon
from driftwarden.events import Event, EventBus, Recorder
from driftwarden.events import types as ev
from tests.support.mlflow_store import prepare_default_store

E = TypeVar("E", bound=Event)
THREAD_WRITER = 'writer = "thread"'


def write_on_a_thread(config: Path) -> None:
    """Add ``writer = "thread"`` to the file's ``[mlflow]`` table unless it names a writer."""
    text = config.read_text(encoding="utf-8")
    if "writer" in tomllib.loads(text).get("mlflow", {}):
        return
    lines = text.splitlines()
    if "[mlflow]" in (line.strip() for line in lines):
        at = next(i for i, line in enumerate(lines) if line.strip() == "[mlflow]")
        lines.insert(at + 1, THREAD_WRITER)
    else:
        lines += ["", "[mlflow]", THREAD_WRITER]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


class InProcessDaemon:
    """One daemon built from ``config`` (not started until ``start``)."""

    def __init__(self, config: Path) -> None:
        write_on_a_thread(config)
        settings = load_settings(config, env={})
        self.settings = settings
        self.config = config
        self.events = Recorder()
        bus = EventBus()
        bus.subscribe(self.events)
        self.daemon = Daemon.build(settings, config, bus=bus)
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self._stopped = False

    @property
    def parts(self):  # type: ignore[no-untyped-def]
        return self.daemon.parts

    @property
    def url(self) -> str:
        assert self.daemon.metrics_url is not None, "metrics are enabled in test configs"
        return self.daemon.metrics_url

    def start(self, loop: bool = True) -> InProcessDaemon:
        """Start the parts; with ``loop`` the main loop runs on a thread (else call ``tick``)."""
        prepare_default_store(self.settings)  # the outbox writer may create it otherwise
        self.daemon.start()
        if loop:
            self._thread = threading.Thread(target=self._loop, name="test-main-loop", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            self.daemon.loop()
        except BaseException as exc:  # surfaced by stop()
            self.error = exc

    def wait(
        self,
        kind: type[E],
        match: object = None,
        *,
        timeout: float = 30.0,
        count: int = 1,
    ) -> list[E]:
        """Wait for ``count`` events of ``kind`` (and ``match``: a predicate)."""
        if self.error is not None:
            raise AssertionError(f"the main loop died: {self.error!r}")
        return self.events.wait_for(kind, match, timeout=timeout, count=count)  # type: ignore[arg-type]

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode()

    def stop(self) -> None:
        """Stop the loop and every part (also for a daemon never started); raise what the loop raised."""
        if self._stopped:
            return
        self._stopped = True
        self.daemon.flags.request_stop()
        if self._thread is not None:
            self._thread.join(30)
        self.daemon.stop()
        self.daemon.parts.ledger.close()
        self.daemon.flags.close()
        if self.error is not None:
            raise self.error

    def checked(self, name: str, timeout: float = 30.0) -> ev.FileChecked:
        """Wait for the check of the drop called ``name``."""
        [found] = self.wait(ev.FileChecked, lambda e: Path(e.file).name == name, timeout=timeout)
        return found
