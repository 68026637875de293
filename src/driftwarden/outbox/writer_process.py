"""MLflow writes made by a child process, so that they never slow a check down.

An MLflow run costs about a quarter of a second of Python (SQLAlchemy, protobuf, the file
store) and, in the daemon's process, that time is taken from the checks under the one GIL:
a file checked while the previous one's run was being logged took twice as long. In a
child process, the write runs on another core; and ``import mlflow`` with its working memory
(about 100 MiB) lives there, not in the daemon at rest.

The child (``python -m driftwarden.outbox.writer_child``) is started at the first write, gets
the settings in force over its socket (secrets never on a command line or on disk), and is
stopped after ``idle_seconds`` without a write, and at the daemon's stop. The parent keeps
everything else of a write (the report page, the ledger note, the events). A child that dies
during a call (killed, out of memory) fails that write like any other failure (retried, then
parked after the outbox's attempts), and the next call starts a new child; the write is
idempotent by its key, so a run the dead child had begun is found or deleted by the replay.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from driftwarden.config.model import Settings
from driftwarden.errors import MlflowUnavailable, RecoverableError

log = logging.getLogger(__name__)

# A child that has written nothing for this long is stopped (its memory back to the system).
IDLE_SECONDS = 60.0
# How long a stopping child may finish the call it is in before it is killed.
STOP_SECONDS = 10.0


class MlflowWriteFailed(Exception):
    """A write failed in the writer child; the message is the child's ``Type: message``."""


class WriterStopped(RecoverableError):
    """The daemon is stopping: the write in progress was cut short (it stays queued)."""


class WriterProcess:
    """``MlflowCalls`` made by a child process (one call at a time)."""

    def __init__(self, settings: Settings, idle_seconds: float = IDLE_SECONDS) -> None:
        self.settings = settings
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._last_call = 0.0
        self._aborted = False

    def find(self, experiment: str, key: str) -> tuple[str, str | None]:
        experiment_id, run_id = self._call(("find", experiment, key))
        return str(experiment_id), None if run_id is None else str(run_id)

    def write(self, kind: str, experiment_id: str, payload: dict[str, Any]) -> str:
        return str(self._call(("write", kind, experiment_id, payload)))

    @property
    def pid(self) -> int | None:
        """The running child's pid (None when none runs)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def rest(self) -> None:
        """Stop the child if it has had nothing to write for ``idle_seconds`` (the flusher
        calls this while the outbox is empty)."""
        with self._lock:
            if (
                self._process is not None
                and time.monotonic() - self._last_call >= self.idle_seconds
            ):
                self._stop()

    def close(self) -> None:
        """Stop the child (after the call in progress, if any)."""
        with self._lock:
            self._stop()

    def abort(self) -> None:
        """From another thread, at the daemon's stop: kill the child now; the call in progress
        raises ``WriterStopped`` and no new child is started."""
        self._aborted = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def _call(self, request: tuple[Any, ...]) -> Any:
        with self._lock:
            conn = self._connection()
            try:
                conn.send(request)
                status, value = conn.recv()
            except (EOFError, OSError):
                code = self._stop()
                if self._aborted:
                    raise WriterStopped("the daemon is stopping; the write stays queued") from None
                raise MlflowWriteFailed(
                    f"the MLflow writer process ended during a write (exit code {code})"
                ) from None
            self._last_call = time.monotonic()
        if status == "ok":
            return value
        if status == "unavailable":
            raise MlflowUnavailable(value)
        raise MlflowWriteFailed(value)

    def _connection(self) -> Connection:
        """The running child's connection, starting a child when there is none."""
        if self._aborted:
            raise WriterStopped("the daemon is stopping; the write stays queued")
        if self._conn is not None and self._process is not None and self._process.poll() is None:
            return self._conn
        self._stop()
        mine, theirs = socket.socketpair()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "driftwarden.outbox.writer_child", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self._conn = Connection(mine.detach())
        self._conn.send(("init", self.settings))
        log.debug("MLflow writer process started", extra={"pid": self._process.pid})
        return self._conn

    def _stop(self) -> int | None:
        """Close the connection (the child exits when it sees that) and reap the child."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        try:
            return process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
