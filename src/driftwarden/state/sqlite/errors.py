"""Which sqlite failures mean that the state cannot be written now.

``SQLITE_FULL`` (the disk is full), ``SQLITE_IOERR`` and its extended codes (a write failed;
on a full disk opening a WAL database fails with ``SQLITE_IOERR_SHMSIZE``) and
``SQLITE_READONLY`` (the file system went read-only) become ``StateUnavailable``; anything
else (a corrupt file, a schema error, a bug) is raised as it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftwarden.errors import StateUnavailable

UNAVAILABLE_CODES = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY})


def is_unavailable(exc: BaseException) -> bool:
    """True for an sqlite error that says the database cannot be written now."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in UNAVAILABLE_CODES


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Raise ``StateUnavailable`` (naming ``path``) for an sqlite error that means it."""
    try:
        yield
    except sqlite3.Error as exc:
        if is_unavailable(exc):
            raise StateUnavailable(f"{path}: {exc}") from exc
        raise
    except OSError as exc:  # creating the directory or the file
        from driftwarden.state.availability import is_unavailable_os_error

        if is_unavailable_os_error(exc):
            raise StateUnavailable(f"{path}: {exc.strerror or exc}") from exc
        raise
