"""Opening sqlite files: read-only for ``driftwarden status``, read-write for the daemon."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open a SQLite file for reading only: no pragma that writes, no schema, nothing created.

    A WAL database needs its ``-shm`` file; when the daemon is not running that file is gone,
    and a reader without write access to the directory cannot create it. Without a ``-wal``
    file every page is in the main file, so it is then opened as immutable (a snapshot).
    """
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        if Path(f"{path}-wal").exists():
            raise
        conn = sqlite3.connect(
            uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False
        )
    return conn


def use_wal(conn: sqlite3.Connection, timeout_seconds: float) -> None:
    """Switch a writer's connection to WAL, waiting out other openers.

    Switching needs the file to itself, and sqlite answers "database is locked" at once
    (without its busy handler) while another connection opens or switches the same new
    file, e.g. two cycles or a cycle and the daemon starting together.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)
