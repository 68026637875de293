"""The shared state's tables as versioned migrations, applied at start under an advisory lock.

``MIGRATIONS[n - 1]`` takes the database from version ``n - 1`` to ``n``; ``migrate`` applies
the ones it lacks, each in its own transaction, and notes each in ``schema_migrations``.
Several instances starting at once take the same transaction-level advisory lock first, so
one migrates and the others find it done. A database newer than this code is refused. Add a
migration at the end; never edit one that has shipped.

The ledger's tables mirror the sqlite engine's (same columns, same meaning, times as unix
seconds) and add what sharing needs: which model and instance a row belongs to, the file
claim's instance and lease epoch, instance membership and the leases themselves.
"""

from __future__ import annotations

from typing import Any

from driftwarden.state.postgres.connect import NOW, Target

# pg_advisory_xact_lock key of the migration (any constant; "dw-schema" in ASCII).
MIGRATION_LOCK = 0x64772D736368656D

V1 = """
CREATE TABLE files (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path TEXT NOT NULL,
    root TEXT NOT NULL,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    mtime DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    result TEXT,
    has_target INTEGER NOT NULL DEFAULT 0,
    duplicate_of BIGINT,
    final_path TEXT,
    moved INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 1,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    model TEXT,
    claimed_by TEXT,
    claim_epoch BIGINT
);
CREATE INDEX files_path ON files (path, digest);
CREATE INDEX files_digest ON files (digest, status);
CREATE INDEX files_status ON files (status, id);
-- At most one claim in flight per file, whatever the instances believe.
CREATE UNIQUE INDEX files_one_claim ON files (path, digest) WHERE status = 'processing';

CREATE TABLE checks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    file_id BIGINT,
    model TEXT NOT NULL,
    model_version TEXT,
    outcome TEXT NOT NULL,
    summary TEXT,
    outbox_key TEXT,
    started_at DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION NOT NULL,
    instance TEXT
);
CREATE INDEX checks_file ON checks (file_id);
CREATE INDEX checks_model ON checks (model, id);

CREATE TABLE alerts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model TEXT NOT NULL,
    rule TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT,
    summary TEXT,
    labels TEXT,
    at DOUBLE PRECISION NOT NULL,
    instance TEXT
);
CREATE INDEX alerts_model ON alerts (model, id);

CREATE TABLE retrains (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model TEXT NOT NULL,
    reason TEXT NOT NULL,
    trigger TEXT,
    status TEXT NOT NULL,
    run_id TEXT,
    candidate_version TEXT,
    champion_version TEXT,
    detail TEXT,
    started_at DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION,
    training_started_at DOUBLE PRECISION,
    instance TEXT
);
CREATE INDEX retrains_model ON retrains (model, id);

CREATE TABLE model_versions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    run_id TEXT,
    source TEXT,
    first_seen DOUBLE PRECISION NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL,
    UNIQUE (model, version)
);

CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    done_at DOUBLE PRECISION,
    model TEXT
);
CREATE INDEX outbox_pending ON outbox (status, id);

CREATE TABLE instances (
    instance TEXT PRIMARY KEY,
    started_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE leases (
    model TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    taken_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
"""

# v2: status history, as the sqlite ledger's v3: each check's per-feature numbers and the
# MLflow run the outbox wrote for a check (by outbox key).
V2 = """
ALTER TABLE checks ADD COLUMN features TEXT;
CREATE INDEX checks_model_finished ON checks (model, finished_at);
CREATE TABLE check_runs (
    outbox_key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    experiment_id TEXT,
    written_at DOUBLE PRECISION NOT NULL
);
"""

# v3: one daemon keeps several models; window drift, scheduled validation and status read
# one model's drops (files.model was there from v1, as the claim's fence).
V3 = """
CREATE INDEX files_model ON files (model, status, id);
"""

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("ledger, outbox, instances and leases", V1),
    ("check features and check runs", V2),
    ("files by model", V3),
)
SCHEMA_VERSION = len(MIGRATIONS)


def version_of(conn: Any) -> int:
    """The schema version of the database (0 before the first migration)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    found = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(found[0])


def migrate(target: Target) -> int:
    """Bring the database to ``SCHEMA_VERSION`` on a connection of its own; returns the
    version it had. Safe when several instances start at once (advisory lock)."""
    with target.connect() as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " description TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            found = version_of(conn)
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"state database schema version {found} is newer than this driftwarden "
                f"({SCHEMA_VERSION})"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                if version_of(conn) >= version:  # another instance was quicker
                    continue
                description, script = MIGRATIONS[version - 1]
                conn.execute(script.encode())
                conn.execute(
                    f"INSERT INTO schema_migrations (version, description, applied_at)"
                    f" VALUES (%s, %s, {NOW})",
                    (version, description),
                )
    return found
