"""A ticking progress line on a terminal for steps that are silent for many seconds.

``with progress("loading model models:/churn@production"):`` shows
``- loading model models:/churn@production ... 12 s`` on stderr, redrawn in place, and
erases it when the step ends. Only for a person watching: nothing is written when stderr
is not a terminal (a pipe, a file, journald) or when logs go to stderr as JSON, and a log
record printed meanwhile first clears the line so the two never mix.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

SPINNER = "-\\|/"
CLEAR = "\r\x1b[K"  # back to the line's start, erase to its end


def progress_wanted(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (default: stderr) is a terminal that no JSON log handler writes to."""
    stream = sys.stderr if stream is None else stream
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    return not any(_is_json(h) and _stream_of(h) is stream for h in _root_handlers())


def _root_handlers() -> list[logging.Handler]:
    return list(logging.getLogger().handlers)


def _stream_of(handler: logging.Handler) -> object:
    return getattr(handler, "stream", None)


def _is_json(handler: logging.Handler) -> bool:
    from driftwarden.logs import JsonFormatter

    return isinstance(handler.formatter, JsonFormatter)


class Ticker:
    """The thread that redraws the line; log records on the same stream clear it first.

    ``draws`` counts the lines drawn (for tests and for callers that want to know).
    """

    def __init__(self, what: str, stream: TextIO, interval: float) -> None:
        self.what = what
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._quiet_until = 0.0
        self.draws = 0
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._handlers = [h for h in _root_handlers() if _stream_of(h) is stream]

    def start(self) -> None:
        for handler in self._handlers:
            handler.addFilter(self._before_log)
        self._draw(0)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        for handler in self._handlers:
            handler.removeFilter(self._before_log)
        with self._lock:
            self._write(CLEAR)

    def _before_log(self, record: logging.LogRecord) -> bool:
        """A logging filter that only erases the line, and holds the next redraw back."""
        with self._lock:
            self._write(CLEAR)
            self._quiet_until = time.monotonic() + self.interval
        return True

    def _run(self) -> None:
        tick = 1
        while not self._stop.wait(self.interval):
            if time.monotonic() >= self._quiet_until:
                self._draw(tick)
            tick += 1

    def _draw(self, tick: int) -> None:
        elapsed = time.monotonic() - self.started
        line = f"{SPINNER[tick % len(SPINNER)]} {self.what} ... {elapsed:.0f} s"
        width = shutil.get_terminal_size((80, 24)).columns
        if len(line) >= width:  # a wrapped line cannot be redrawn in place
            line = line[: max(width - 2, 1)] + "…"
        with self._lock:
            if not self._stop.is_set():
                self._write(CLEAR + line)
                self.draws += 1

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away; progress is a courtesy
            pass


@contextmanager
def progress(
    what: str, stream: TextIO | None = None, interval: float = 0.5, enabled: bool | None = None
) -> Iterator[Ticker | None]:
    """Show ``what`` with the elapsed time on ``stream`` (stderr) while the block runs.

    ``enabled`` None decides by :func:`progress_wanted`; the line is erased at the end,
    whether the block returns or raises. Yields the ticker, or None when nothing is shown.
    """
    stream = sys.stderr if stream is None else stream
    if not (progress_wanted(stream) if enabled is None else enabled):
        yield None
        return
    ticker = Ticker(what, stream, interval)
    ticker.start()
    try:
        yield ticker
    finally:
        ticker.stop()


def with_progress(what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` under :func:`progress`: a one-line edit at a call site."""
    with progress(what):
        return func(*args, **kwargs)
