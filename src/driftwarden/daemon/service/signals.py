"""Signal handlers that only set flags; the main loop reacts.

SIGTERM/SIGINT ask for a clean stop; a second one forces the exit at once. SIGHUP asks for
a config reload, SIGUSR1 for an immediate registry poll.

A handler runs on the main thread between two bytecodes, possibly while that thread holds
a lock (inside ``threading.Event.clear``, say): taking any lock in a handler can deadlock.
So handlers only assign attributes, and the main loop sleeps in ``select`` on a pipe that
``signal.set_wakeup_fd`` writes to from C, which wakes it at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
from types import FrameType

log = logging.getLogger(__name__)


class SignalFlags:
    """Flags set by signal handlers, and a wake-up pipe for the main loop's sleep."""

    def __init__(self) -> None:
        self.stop_signal: int | None = None
        self.reload = False
        self.poll = False
        self._previous: dict[int, object] = {}
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        self._old_wakeup_fd: int | None = None

    def install(self) -> None:
        """Install the handlers and the wake-up fd (main thread only)."""
        self._old_wakeup_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for signum, handler in (
            (signal.SIGTERM, self._on_stop),
            (signal.SIGINT, self._on_stop),
            (signal.SIGHUP, self._on_reload),
            (signal.SIGUSR1, self._on_poll),
        ):
            self._previous[signum] = signal.signal(signum, handler)

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()
        if self._old_wakeup_fd is not None:
            signal.set_wakeup_fd(self._old_wakeup_fd)
            self._old_wakeup_fd = None

    def close(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def sleep(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds; a signal or ``wake()`` ends it early."""
        ready, _, _ = select.select([self._read_fd], [], [], timeout)
        if ready:
            with contextlib.suppress(BlockingIOError):
                while os.read(self._read_fd, 512):
                    pass

    def wake(self) -> None:
        """End the main loop's sleep (safe from any thread)."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write_fd, b"\0")

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is not None:
            # The second stop signal: the operator does not want to wait.
            os.write(2, b"driftwarden: second stop signal, exiting now\n")
            os._exit(128 + signum)
        self.stop_signal = signum

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self.reload = True

    def _on_poll(self, signum: int, frame: FrameType | None) -> None:
        self.poll = True

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop as if signalled (for tests and fatal errors in components)."""
        if self.stop_signal is None:
            self.stop_signal = signum
        self.wake()
