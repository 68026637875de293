"""Telling "the state cannot be written now" apart from other failures, for every engine.

A full disk, an I/O error or a file system remounted read-only go away when an operator
acts (or a cleanup job runs); the daemon waits them out instead of crashing. Engines turn
their own errors into ``StateUnavailable`` (``state/sqlite/errors.py``); writes of plain
files in the state directory (reports, references) go through :func:`state_file_writes`.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftwarden.errors import StateUnavailable

# errno values that mean "cannot write here now" rather than "this write is wrong".
UNAVAILABLE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})

# Below this much free space the state counts as full (pausing before a write fails, and
# resuming only with some room, so that a nearly full disk does not flap).
MIN_FREE_BYTES = 1 << 20


def is_unavailable_os_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in UNAVAILABLE_ERRNOS


@contextmanager
def state_file_writes(where: Path | str) -> Iterator[None]:
    """Turn a full disk (or an I/O error, a read-only file system) while writing a file of
    the state directory into ``StateUnavailable``; other OS errors pass unchanged."""
    try:
        yield
    except OSError as exc:
        if is_unavailable_os_error(exc):
            raise StateUnavailable(f"{where}: {exc.strerror or exc}") from exc
        raise


def free_space_problem(directory: Path, min_free: int | None = None) -> str | None:
    """Why ``directory``'s file system counts as full (None when it has room)."""
    min_free = MIN_FREE_BYTES if min_free is None else min_free
    if min_free <= 0:
        return None
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return None  # not there (yet): the writes themselves will say what is wrong
    if free < min_free:
        return f"{directory}: only {free} bytes free (at least {min_free} needed)"
    return None
