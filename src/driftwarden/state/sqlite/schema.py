"""The ledger's tables (files, checks, alerts, retrains, model versions) as versioned migrations.

``MIGRATIONS[n - 1]`` takes a ledger from version ``n - 1`` to ``n``; ``migrate`` applies the
ones a file lacks, each in its own transaction, and notes the version in ``meta``. Version 1
is the first schema (written with ``IF NOT EXISTS``, so files made before versioning pass
through it unchanged). Add a migration at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress

V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    root TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    result TEXT,
    has_target INTEGER NOT NULL DEFAULT 0,
    duplicate_of INTEGER,
    final_path TEXT,
    moved INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_path ON files (path, digest);
CREATE INDEX IF NOT EXISTS files_digest ON files (digest, status);
CREATE INDEX IF NOT EXISTS files_status ON files (status, id);
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    file_id INTEGER,
    model TEXT NOT NULL,
    model_version TEXT,
    outcome TEXT NOT NULL,
    summary TEXT,
    outbox_key TEXT,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS checks_file ON checks (file_id);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    rule TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT,
    summary TEXT,
    labels TEXT,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS retrains (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    reason TEXT NOT NULL,
    trigger TEXT,
    status TEXT NOT NULL,
    run_id TEXT,
    candidate_version TEXT,
    champion_version TEXT,
    detail TEXT,
    started_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS model_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    run_id TEXT,
    source TEXT,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    UNIQUE (model, version)
);
"""

# v2: the cooldown reads the ledger (no state file beside it): when did a cycle's training
# start? Rows written before v2 started training when they finished later than they began.
V2 = """
ALTER TABLE retrains ADD COLUMN training_started_at REAL;
UPDATE retrains SET training_started_at = started_at
    WHERE status NOT IN ('skipped_cooldown', 'skipped_running')
    AND (finished_at IS NULL OR finished_at > started_at);
"""

# v3: history for ``driftwarden status``. Each check keeps its per-feature numbers
# (``records.encode_features``: compact JSON, at most metrics.max_features features), and the
# MLflow run the outbox wrote for a check is noted by outbox key (the writer may finish
# before the check is recorded, so it is a table of its own, not a column of ``checks``).
V3 = """
ALTER TABLE checks ADD COLUMN features TEXT;
CREATE INDEX IF NOT EXISTS checks_model_finished ON checks (model, finished_at);
CREATE TABLE IF NOT EXISTS check_runs (
    outbox_key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    experiment_id TEXT,
    written_at REAL NOT NULL
);
"""

# v4: one daemon keeps several models, so a file row says whose drop it was (window drift,
# scheduled validation and retraining read their own model's drops). Rows written before
# v4 take the model of their checks; a row without checks (quarantined) stays NULL.
V4 = """
ALTER TABLE files ADD COLUMN model TEXT;
UPDATE files SET model = (
    SELECT checks.model FROM checks WHERE checks.file_id = files.id ORDER BY checks.id LIMIT 1
) WHERE model IS NULL;
CREATE INDEX IF NOT EXISTS files_model ON files (model, status, id);
"""

MIGRATIONS: tuple[str, ...] = (V1, V2, V3, V4)
SCHEMA_VERSION = len(MIGRATIONS)


def version_of(conn: sqlite3.Connection) -> int:
    """The schema version of an open ledger (0 for an empty file)."""
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if not has_meta:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the ledger to ``SCHEMA_VERSION``; returns the version it had.

    A file newer than this code is refused rather than written with an older idea of it.
    """
    conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait and see it done
    try:
        found = version_of(conn)
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"ledger schema version {found} is newer than this driftwarden ({SCHEMA_VERSION})"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(version),),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # sqlite may have rolled back already (a full disk)
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    return found


def _statements(script: str) -> list[str]:
    """The statements of a migration (``executescript`` would commit on its own)."""
    return [s.strip() for s in script.split(";") if s.strip()]
