"""The sqlite ledger: WAL mode with a busy timeout, so ``driftwarden status`` (another
process) reads while the daemon writes. The semantics are the ``Ledger`` interface's
(``driftwarden.state.ledger``); every statement of it is here.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any, Literal

from driftwarden.state.records import CheckRecord, FileClaim, decode_features, encode_features
from driftwarden.state.sqlite.connect import connect_readonly, use_wal
from driftwarden.state.sqlite.errors import translated
from driftwarden.state.sqlite.schema import SCHEMA_VERSION, migrate, version_of

# The schema version that added per-feature numbers and check runs (a read-only ledger
# written by an older daemon has neither; it reads as if no check had them).
HISTORY_SCHEMA = 3
# The schema version that gave each file row its model; an older read-only ledger was kept
# by one model, so its files are every model's.
FILE_MODEL_SCHEMA = 4


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


class SqliteLedger:
    """Thread-safe access to the ledger database (one connection guarded by a lock)."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, readonly: bool, schema: int = SCHEMA_VERSION
    ) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self.schema = schema  # the file's version: a reader does not migrate
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls, path: Path, readonly: bool = False, busy_timeout_ms: int = 10_000
    ) -> SqliteLedger:
        """Open (and for writers create/migrate) the ledger at ``path``.

        A writer's open on a full disk (or a read-only file system) raises ``StateUnavailable``.
        """
        if readonly:
            conn = connect_readonly(path)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            return cls(conn, path, readonly, version_of(conn))
        with translated(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            try:
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
                use_wal(conn, busy_timeout_ms / 1000)
                conn.execute("PRAGMA synchronous = FULL")
                migrate(conn)
            except BaseException:
                conn.close()
                raise
        return cls(conn, path, readonly, SCHEMA_VERSION)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _translated(self) -> AbstractContextManager[None]:
        """A writer's sqlite errors that mean "cannot write now" become ``StateUnavailable``;
        ``driftwarden status`` (read-only) sees sqlite's own errors."""
        return nullcontext() if self.readonly else translated(self.path)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE takes the write lock up front.

        On a full disk sqlite may have rolled the transaction back already (and a failed
        COMMIT leaves it open): the connection is left outside any transaction either way.
        """
        with self._lock, self._translated():
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):  # the first error is the one to report
                        conn.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock, self._translated():
            return [dict(row) for row in self._conn.execute(sql, params).fetchall()]

    def probe(self) -> None:
        """Write one small row (raises ``StateUnavailable`` while the ledger cannot be written).

        The daemon calls this while its state is unavailable, to find out when it is back.
        """
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('write_probe', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (repr(time.time()),),
            )

    # ---- files ------------------------------------------------------------------------

    def is_kept_unchanged(self, path: str, size: int, mtime: float) -> bool:
        """True when this exact file (path, size, mtime) was handled and kept in place.

        Lets a rescan skip files left in place (``on_success = "keep"``) without hashing them.
        """
        rows = self._rows(
            "SELECT 1 FROM files WHERE path = ? AND size = ? AND mtime = ? AND moved = 1"
            " AND final_path = path LIMIT 1",
            (path, size, mtime),
        )
        return bool(rows)

    def begin_file(
        self,
        path: str,
        root: str,
        digest: str,
        size: int,
        mtime: float,
        *,
        model: str | None = None,
    ) -> FileClaim:
        """Claim a complete file for processing, or say why it needs no check.

        ``model`` is whose drop it is; the same content dropped for another model is not a
        duplicate (each model checks it against its own reference). One instance owns every
        model here, so ``model`` fences nothing on sqlite.
        """
        now = time.time()
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM files WHERE path = ? AND digest = ? ORDER BY id DESC LIMIT 1",
                (path, digest),
            ).fetchone()
            if row is not None:
                if row["status"] == "processing":
                    conn.execute(
                        "UPDATE files SET attempts = attempts + 1, updated_at = ?, size = ?,"
                        " mtime = ?, model = COALESCE(model, ?) WHERE id = ?",
                        (now, size, mtime, model, row["id"]),
                    )
                    return FileClaim("redo", row["id"], "processing")
                if not row["moved"]:
                    return FileClaim(
                        "finish_move", row["id"], row["status"], row["duplicate_of"], row["reason"]
                    )
                if row["final_path"] == path:
                    return FileClaim("ignore", row["id"], row["status"])
            dup = conn.execute(
                "SELECT id FROM files WHERE digest = ? AND status = 'done' AND model IS ?"
                " ORDER BY id LIMIT 1",
                (digest, model),
            ).fetchone()
            status = "duplicate" if dup is not None else "processing"
            cursor = conn.execute(
                "INSERT INTO files (path, root, digest, size, mtime, status, duplicate_of,"
                " reason, created_at, updated_at, model)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    path,
                    root,
                    digest,
                    size,
                    mtime,
                    status,
                    dup["id"] if dup is not None else None,
                    f"same content as file #{dup['id']}" if dup is not None else None,
                    now,
                    now,
                    model,
                ),
            )
            file_id = int(cursor.lastrowid or 0)
            if dup is not None:
                return FileClaim("duplicate", file_id, "duplicate", int(dup["id"]))
            return FileClaim("new", file_id, "processing")

    def finish_file(
        self,
        file_id: int,
        status: Literal["done", "quarantined"],
        *,
        reason: str | None = None,
        result: dict[str, Any] | None = None,
        has_target: bool = False,
        checks: list[CheckRecord] | None = None,
    ) -> None:
        """Record a file's outcome and its checks in one transaction."""
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "UPDATE files SET status = ?, reason = ?, result = ?, has_target = ?,"
                " updated_at = ? WHERE id = ?",
                (status, reason, _json(result), int(has_target), now, file_id),
            )
            for check in checks or []:
                self._insert_check(conn, check, file_id)

    def mark_moved(self, file_id: int, final_path: str) -> None:
        """The file now lies at ``final_path`` (or stays where it was, when kept)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE files SET moved = 1, final_path = ?, updated_at = ? WHERE id = ?",
                (final_path, time.time(), file_id),
            )

    def processing(self) -> list[dict[str, Any]]:
        """Rows a crash left half-done (redone when the file is seen again)."""
        return self._rows("SELECT id, path, attempts FROM files WHERE status = 'processing'")

    def get_file(self, file_id: int) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM files WHERE id = ?", (file_id,))
        return rows[0] if rows else None

    def files(self, status: str | None = None) -> list[dict[str, Any]]:
        if status is None:
            return self._rows("SELECT * FROM files ORDER BY id")
        return self._rows("SELECT * FROM files WHERE status = ? ORDER BY id", (status,))

    def recent_done_files(
        self, limit: int, with_target: bool = False, *, model: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest checked drops (newest first), for window drift and scheduled validation;
        ``model``: only its drops (None: every model's)."""
        sql, params = "SELECT * FROM files WHERE status = 'done'", ()  # type: tuple[str, tuple[Any, ...]]
        if with_target:
            sql += " AND has_target = 1"
        if model is not None and self.schema >= FILE_MODEL_SCHEMA:
            sql, params = sql + " AND model = ?", (model,)
        return self._rows(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))

    def file_counts(self, model: str | None = None) -> dict[str, int]:
        """Files by status; ``model``: only its drops (None: every file)."""
        sql, params = "SELECT status, COUNT(*) AS n FROM files", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None and self.schema >= FILE_MODEL_SCHEMA:
            sql, params = sql + " WHERE model = ?", (model,)
        rows = self._rows(sql + " GROUP BY status", params)
        return {row["status"]: int(row["n"]) for row in rows}

    # ---- checks -----------------------------------------------------------------------

    @staticmethod
    def _insert_check(conn: sqlite3.Connection, check: CheckRecord, file_id: int | None) -> int:
        cursor = conn.execute(
            "INSERT INTO checks (kind, scope, file_id, model, model_version, outcome, summary,"
            " outbox_key, started_at, finished_at, features)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                check.kind,
                check.scope,
                file_id,
                check.model,
                check.model_version,
                check.outcome,
                _json(check.summary),
                check.outbox_key,
                check.started_at,
                check.finished_at,
                encode_features(check.features, check.features_left_out),
            ),
        )
        return int(cursor.lastrowid or 0)

    def record_check(self, check: CheckRecord, file_id: int | None = None) -> int:
        """Record a check that is not tied to one file's outcome (window, scheduled)."""
        with self._write() as conn:
            return self._insert_check(conn, check, file_id)

    def checks(
        self,
        limit: int | None = None,
        file_id: int | None = None,
        *,
        model: str | None = None,
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        """Checks, newest first; ``model`` and ``since`` (finished at or after) narrow them.

        Each row has ``summary`` (a dict), ``features`` (per-feature numbers, a list of dicts),
        ``features_left_out``, and ``run_id`` / ``experiment_id`` once the outbox wrote the
        check's MLflow run (else None).
        """
        history = self.schema >= HISTORY_SCHEMA
        sql = (
            "SELECT c.*, r.run_id AS run_id, r.experiment_id AS experiment_id FROM checks c"
            " LEFT JOIN check_runs r ON r.outbox_key = c.outbox_key"
            if history
            else "SELECT c.* FROM checks c"
        )
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("c.file_id = ?", file_id),
            ("c.model = ?", model),
            ("c.finished_at >= ?", since),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._rows(sql, tuple(params))
        for row in rows:
            row["summary"] = json.loads(row["summary"]) if row["summary"] else {}
            row["features"], row["features_left_out"] = decode_features(row.get("features"))
            row.setdefault("run_id", None)
            row.setdefault("experiment_id", None)
        return rows

    def record_check_run(self, outbox_key: str, run_id: str, experiment_id: str | None) -> None:
        """Note the MLflow run the outbox wrote for the check with ``outbox_key`` (idempotent)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO check_runs (outbox_key, run_id, experiment_id, written_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (outbox_key) DO UPDATE SET"
                " run_id = excluded.run_id, experiment_id = excluded.experiment_id,"
                " written_at = excluded.written_at",
                (outbox_key, run_id, experiment_id, time.time()),
            )

    def last_success_time(self, model: str | None = None) -> float | None:
        """Unix time of the newest check (of ``model``, if given) that did not fail (None before
        the first)."""
        sql, params = "SELECT MAX(finished_at) AS t FROM checks WHERE outcome != 'error'", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " AND model = ?", (model,)
        rows = self._rows(sql, params)
        value = rows[0]["t"] if rows else None
        return None if value is None else float(value)

    # ---- alerts -----------------------------------------------------------------------

    def record_alert(
        self,
        model: str,
        rule: str,
        status: str,
        severity: str | None = None,
        summary: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO alerts (model, rule, status, severity, summary, labels, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (model, rule, status, severity, summary, _json(labels), time.time()),
            )
            return int(cursor.lastrowid or 0)

    def alerts(self, limit: int = 20, *, model: str | None = None) -> list[dict[str, Any]]:
        """Alert notifications, newest first; ``model``: only its alerts."""
        if model is None:
            return self._rows("SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
        return self._rows(
            "SELECT * FROM alerts WHERE model = ? ORDER BY id DESC LIMIT ?", (model, limit)
        )

    def firing_alerts(self, model: str) -> list[dict[str, Any]]:
        """Alerts whose last notification was 'firing': rule, key (the ``metric`` label or
        ""), summary, started_at (first firing since the last resolution), last_sent."""
        open_: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self._rows("SELECT * FROM alerts WHERE model = ? ORDER BY id", (model,)):
            labels = json.loads(row["labels"]) if row["labels"] else {}
            key = (row["rule"], str(labels.get("metric", "")))
            if row["status"] != "firing":
                open_.pop(key, None)
                continue
            entry = open_.setdefault(key, {"rule": key[0], "key": key[1], "started_at": row["at"]})
            entry.update(summary=row["summary"] or "", last_sent=row["at"])
        return list(open_.values())

    # ---- retrains (written by driftwarden.remediation) --------------------------------

    def record_retrain(
        self,
        model: str,
        reason: str,
        trigger: str | None = None,
        status: str = "running",
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Start a retrain record (``status='running'``: its training starts now, and the
        cooldown counts from it) or record a decision made without training; returns its id."""
        now = time.time()
        running = status == "running"
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO retrains (model, reason, trigger, status, detail, started_at,"
                " finished_at, training_started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    model,
                    reason,
                    trigger,
                    status,
                    _json(detail),
                    now,
                    None if running else now,
                    now if running else None,
                ),
            )
            return int(cursor.lastrowid or 0)

    def finish_retrain(
        self,
        retrain_id: int,
        status: str,
        *,
        run_id: str | None = None,
        candidate_version: str | None = None,
        champion_version: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Close a retrain record with its outcome (promoted, rejected, failed, ...)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE retrains SET status = ?, run_id = COALESCE(?, run_id),"
                " candidate_version = COALESCE(?, candidate_version),"
                " champion_version = COALESCE(?, champion_version),"
                " detail = COALESCE(?, detail), finished_at = ? WHERE id = ?",
                (
                    status,
                    run_id,
                    candidate_version,
                    champion_version,
                    _json(detail),
                    time.time(),
                    retrain_id,
                ),
            )

    def last_retrain(
        self, model: str | None = None, finished_only: bool = False
    ) -> dict[str, Any] | None:
        """The newest retrain record (any status unless ``finished_only``)."""
        sql, params = "SELECT * FROM retrains WHERE 1 = 1", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " AND model = ?", (model,)
        if finished_only:
            sql += " AND status NOT IN ('running', 'skipped_cooldown', 'skipped_running')"
        rows = self._rows(sql + " ORDER BY id DESC LIMIT 1", params)
        if not rows:
            return None
        row = rows[0]
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
        return row

    def skipped_retrains_since(self, model: str, after_id: int = 0) -> int:
        """How many breaches were recorded as skipped (cooldown, running) after row ``after_id``."""
        rows = self._rows(
            "SELECT COUNT(*) AS n FROM retrains WHERE model = ? AND id > ?"
            " AND status IN ('skipped_cooldown', 'skipped_running')",
            (model, after_id),
        )
        return int(rows[0]["n"])

    def retrain_running(self, model: str | None = None) -> dict[str, Any] | None:
        """The retrain record still marked running, if any (single flight)."""
        sql, params = "SELECT * FROM retrains WHERE status = 'running'", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " AND model = ?", (model,)
        rows = self._rows(sql + " ORDER BY id DESC LIMIT 1", params)
        return rows[0] if rows else None

    def last_training_activity(self, model: str) -> float | None:
        """When the last cycle that started training started or finished (the later), or None.

        The cooldown counts from it: a cycle that died mid-run still holds it from its start;
        skips and cycles that ended before training (no data) do not restart it.
        """
        rows = self._rows(
            "SELECT MAX(MAX(training_started_at, COALESCE(finished_at, 0))) AS t FROM retrains"
            " WHERE model = ? AND training_started_at IS NOT NULL",
            (model,),
        )
        value = rows[0]["t"] if rows else None
        return None if value is None else float(value)

    def fail_stale_retrains(
        self, reason: str = "daemon restarted while it ran", *, model: str | None = None
    ) -> int:
        """Mark retrains left 'running' by a crash as failed (called at start-up); ``model``:
        only its retrains (each model has its own single-flight lock)."""
        sql = "UPDATE retrains SET status = 'failed', finished_at = ?, detail = ?"
        sql += " WHERE status = 'running'"
        params: tuple[Any, ...] = (time.time(), _json({"error": reason}))
        if model is not None:
            sql, params = sql + " AND model = ?", (*params, model)
        with self._write() as conn:
            return int(conn.execute(sql, params).rowcount)

    # ---- model versions ---------------------------------------------------------------

    def record_model_version(
        self, model: str, version: str, run_id: str | None, source: str
    ) -> bool:
        """Note that ``version`` is in production; True when it was not the last one seen."""
        now = time.time()
        with self._write() as conn:
            last = conn.execute(
                "SELECT version FROM model_versions WHERE model = ? ORDER BY last_seen DESC,"
                " id DESC LIMIT 1",
                (model,),
            ).fetchone()
            conn.execute(
                "INSERT INTO model_versions (model, version, run_id, source, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model, version) DO UPDATE SET"
                " last_seen = excluded.last_seen, source = excluded.source",
                (model, version, run_id, source, now, now),
            )
            return last is None or str(last["version"]) != version

    def last_model_version(self, model: str | None = None) -> dict[str, Any] | None:
        sql, params = "SELECT * FROM model_versions", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " WHERE model = ?", (model,)
        rows = self._rows(sql + " ORDER BY last_seen DESC, id DESC LIMIT 1", params)
        return rows[0] if rows else None
