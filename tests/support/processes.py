"""Small process and socket helpers shared by unit and integration tests."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie still answers kill(0), so /proc tells it apart."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return False


def dies_within(pid: int, timeout: float) -> bool:
    """True once ``pid`` no longer runs, polled for up to ``timeout`` seconds.

    A signal is delivered asynchronously: a process sent SIGKILL can still be running for a
    moment on a loaded machine, so a test that checks right after the kill would be flaky.
    """
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


@contextmanager
def notify_listener(timeout: float) -> Iterator[tuple[socket.socket, str]]:
    """A bound AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET.

    The path lives in /tmp: AF_UNIX paths are limited to ~108 bytes and tmp_path can be longer.
    """
    path = f"/tmp/dw-notify-{os.getpid()}-{time.monotonic_ns()}.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(timeout)
    try:
        yield sock, path
    finally:
        sock.close()
        Path(path).unlink(missing_ok=True)
