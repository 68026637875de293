"""A real small file system for fault tests: a tmpfs of a few MiB, filled with a ballast file.

Mounting needs root (and a kernel that lets this process mount). Tests that need it skip
with the reason when it is refused; nothing is faked here.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHUNK = 64 * 1024


def _mount_refused(path: Path, size: str) -> str | None:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        return f"mount -t tmpfs refused: {done.stderr.strip() or done.returncode}"
    return None


@contextmanager
def small_tmpfs(path: Path, size: str = "16m") -> Iterator[Path]:
    """``path`` as a tmpfs of ``size`` (skips the test when mounting is refused)."""
    path.mkdir(parents=True, exist_ok=True)
    refused = _mount_refused(path, size)
    if refused is not None:
        pytest.skip(refused)
    try:
        yield path
    finally:
        # Lazy: a file the daemon still holds open must not keep the mount (and the test) up.
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def fill(directory: Path, name: str = "ballast") -> Path:
    """Write ``directory/name`` until the file system is full (ENOSPC), to the last page."""
    ballast = directory / name
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (CHUNK, 4096, 512, 1):
            block = b"\0" * size
            while True:
                try:
                    if os.write(fd, block) == 0:
                        break
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return ballast


def free_bytes(directory: Path) -> int:
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize
