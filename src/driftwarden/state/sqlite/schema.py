"""The ledger's tables: files, checks, alerts, retrains, model versions (SQLite DDL)."""

from __future__ import annotations

SCHEMA = """
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
