"""The PostgreSQL ledger: the ``Ledger`` interface over a database several instances share.

Same semantics as the sqlite ledger (``driftwarden.state.ledger``), plus what sharing needs:

- **Claims across instances.** ``begin_file`` takes a transaction-level advisory lock on the
  file's content hash, so two instances deciding about the same content run one after the
  other; a partial unique index keeps at most one claim in flight per file. A row left
  ``processing`` is redone by the model's owner (the instance that claimed it has lost the
  model, or it is this instance after a restart); ``finish_file`` commits only a claim that
  is still this instance's.
- **Fencing.** With ``Owner.fences`` (a daemon holding leases), every write that records a
  model's outcome (claim, check, alert, retrain start) first locks the model's lease row
  ``FOR SHARE`` and checks *this instance, this epoch, not run out*, in the same
  transaction; otherwise ``LeaseLost`` and nothing is written. The row lock makes a takeover
  wait for a commit already under way, never the other way round.

Retrains, alerts and model versions live in ``history.py`` (the other half of the class).
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

from driftwarden.errors import LeaseLost
from driftwarden.state.fencing import Owner
from driftwarden.state.postgres.connect import NOW, Database, key_sql
from driftwarden.state.postgres.history import HistoryRows
from driftwarden.state.records import CheckRecord, FileClaim, decode_features, encode_features


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


class PostgresLedger(HistoryRows):
    """Thread-safe (a pool of connections, one transaction per call)."""

    def __init__(self, db: Database, owner: Owner) -> None:
        self.db = db
        self.owner = owner
        self.readonly = db.readonly

    def close(self) -> None:
        self.db.close()

    # ---- fencing ------------------------------------------------------------------------

    def _fence(self, cur: Any, model: str | None) -> int | None:
        """Check, under the lease row's lock, that this instance still owns ``model``.

        Returns the epoch held, or None for an unfenced writer (or a row with no model).
        """
        fences = self.owner.fences
        if fences is None or model is None:
            return None
        epoch = fences.epoch(model)
        if epoch is None:
            raise LeaseLost(model, f"instance {self.owner.instance!r} does not own it")
        row = cur.execute(
            f"SELECT owner, epoch, expires_at > {NOW} AS live FROM leases WHERE model = %s"
            " FOR SHARE",
            (model,),
        ).fetchone()
        if row is None or row["owner"] != self.owner.instance or row["epoch"] != epoch:
            holder = "nobody" if row is None else f"{row['owner']!r} (epoch {row['epoch']})"
            raise LeaseLost(model, f"its lease (epoch {epoch}) is now held by {holder}")
        if not row["live"]:
            raise LeaseLost(model, f"its lease (epoch {epoch}) ran out before this write")
        return epoch

    # ---- files --------------------------------------------------------------------------

    def is_kept_unchanged(self, path: str, size: int, mtime: float) -> bool:
        rows = self.db.rows(
            "SELECT 1 FROM files WHERE path = %s AND size = %s AND mtime = %s AND moved = 1"
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

        ``model`` is whose drop it is (and fences the claim); the same content dropped for
        another model is not a duplicate (each model checks it against its own reference).
        """
        me = self.owner.instance

        def claim(cur: Any) -> FileClaim:
            cur.execute(f"SELECT pg_advisory_xact_lock({key_sql('file')})", (digest,))
            epoch = self._fence(cur, model)
            now = time.time()
            row = cur.execute(
                "SELECT * FROM files WHERE path = %s AND digest = %s ORDER BY id DESC LIMIT 1",
                (path, digest),
            ).fetchone()
            if row is not None:
                if row["status"] == "processing":
                    self._may_redo(cur, row, epoch)
                    cur.execute(
                        "UPDATE files SET attempts = attempts + 1, updated_at = %s, size = %s,"
                        " mtime = %s, claimed_by = %s, claim_epoch = %s,"
                        " model = COALESCE(%s, model) WHERE id = %s",
                        (now, size, mtime, me, epoch, model, row["id"]),
                    )
                    return FileClaim("redo", row["id"], "processing")
                if not row["moved"]:
                    return FileClaim(
                        "finish_move", row["id"], row["status"], row["duplicate_of"], row["reason"]
                    )
                if row["final_path"] == path:
                    return FileClaim("ignore", row["id"], row["status"])
            dup = cur.execute(
                "SELECT id FROM files WHERE digest = %s AND status = 'done'"
                " AND model IS NOT DISTINCT FROM %s ORDER BY id LIMIT 1",
                (digest, model),
            ).fetchone()
            status = "duplicate" if dup is not None else "processing"
            inserted = cur.execute(
                "INSERT INTO files (path, root, digest, size, mtime, status, duplicate_of,"
                " reason, created_at, updated_at, model, claimed_by, claim_epoch)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
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
                    me,
                    epoch,
                ),
            ).fetchone()
            if dup is not None:
                return FileClaim("duplicate", inserted["id"], "duplicate", int(dup["id"]))
            return FileClaim("new", inserted["id"], "processing")

        return self.db.run(claim)

    def _may_redo(self, cur: Any, row: dict[str, Any], epoch: int | None) -> None:
        """A claim in flight elsewhere is not taken from a live instance by an unfenced caller.

        A fenced caller owns the model, so whoever claimed the row lost it: redo. An unfenced
        caller redoes only claims of instances no longer alive (or its own).
        """
        claimer = row["claimed_by"]
        if epoch is not None or claimer is None or claimer == self.owner.instance:
            return
        live = cur.execute(
            f"SELECT 1 FROM instances WHERE instance = %s AND expires_at > {NOW}", (claimer,)
        ).fetchone()
        if live is not None:
            raise LeaseLost(
                row["model"] or "?", f"file #{row['id']} is being checked by {claimer!r}"
            )

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
        """Record a file's outcome and its checks in one transaction (a fenced claim only
        while this instance still holds it)."""

        def finish(cur: Any) -> None:
            row = cur.execute(
                "SELECT model, status, claimed_by FROM files WHERE id = %s FOR UPDATE",
                (file_id,),
            ).fetchone()
            if row is None:
                raise KeyError(f"no file #{file_id} in the ledger")
            epoch = self._fence(cur, row["model"])
            if epoch is not None and (
                row["status"] != "processing" or row["claimed_by"] != self.owner.instance
            ):
                raise LeaseLost(
                    row["model"],
                    f"file #{file_id} was taken over by {row['claimed_by']!r} ({row['status']})",
                )
            cur.execute(
                "UPDATE files SET status = %s, reason = %s, result = %s, has_target = %s,"
                " updated_at = %s WHERE id = %s",
                (status, reason, _json(result), int(has_target), time.time(), file_id),
            )
            for check in checks or []:
                self._insert_check(cur, check, file_id)

        self.db.run(finish)

    def mark_moved(self, file_id: int, final_path: str) -> None:
        self.db.run(
            lambda cur: cur.execute(
                "UPDATE files SET moved = 1, final_path = %s, updated_at = %s WHERE id = %s",
                (final_path, time.time(), file_id),
            )
        )

    def processing(self) -> list[dict[str, Any]]:
        return self.db.rows(
            "SELECT id, path, attempts, model, claimed_by FROM files"
            " WHERE status = 'processing' ORDER BY id"
        )

    def get_file(self, file_id: int) -> dict[str, Any] | None:
        rows = self.db.rows("SELECT * FROM files WHERE id = %s", (file_id,))
        return rows[0] if rows else None

    def files(self, status: str | None = None) -> list[dict[str, Any]]:
        if status is None:
            return self.db.rows("SELECT * FROM files ORDER BY id")
        return self.db.rows("SELECT * FROM files WHERE status = %s ORDER BY id", (status,))

    def recent_done_files(
        self, limit: int, with_target: bool = False, *, model: str | None = None
    ) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM files WHERE status = 'done'", ()  # type: tuple[str, tuple[Any, ...]]
        if with_target:
            sql += " AND has_target = 1"
        if model is not None:
            sql, params = sql + " AND model = %s", (model,)
        return self.db.rows(sql + " ORDER BY id DESC LIMIT %s", (*params, limit))

    def file_counts(self, model: str | None = None) -> dict[str, int]:
        sql, params = "SELECT status, COUNT(*) AS n FROM files", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " WHERE model = %s", (model,)
        rows = self.db.rows(sql + " GROUP BY status", params)
        return {row["status"]: int(row["n"]) for row in rows}

    # ---- checks -------------------------------------------------------------------------

    def _insert_check(self, cur: Any, check: CheckRecord, file_id: int | None) -> int:
        row = cur.execute(
            "INSERT INTO checks (kind, scope, file_id, model, model_version, outcome, summary,"
            " outbox_key, started_at, finished_at, instance, features)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
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
                self.owner.instance,
                encode_features(check.features, check.features_left_out),
            ),
        ).fetchone()
        return int(row["id"])

    def record_check(self, check: CheckRecord, file_id: int | None = None) -> int:
        def record(cur: Any) -> int:
            self._fence(cur, check.model)
            return self._insert_check(cur, check, file_id)

        return self.db.run(record)

    def checks(
        self,
        limit: int | None = None,
        file_id: int | None = None,
        *,
        model: str | None = None,
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; ``model`` and ``since`` (finished at or after) narrow them (see the
        sqlite ledger for the row's keys)."""
        sql = (
            "SELECT c.*, r.run_id AS run_id, r.experiment_id AS experiment_id FROM checks c"
            " LEFT JOIN check_runs r ON r.outbox_key = c.outbox_key"
        )
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("c.file_id = %s", file_id),
            ("c.model = %s", model),
            ("c.finished_at >= %s", since),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.id DESC"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        rows = self.db.rows(sql, tuple(params))
        for row in rows:
            row["summary"] = json.loads(row["summary"]) if row["summary"] else {}
            row["features"], row["features_left_out"] = decode_features(row.get("features"))
        return rows

    def record_check_run(self, outbox_key: str, run_id: str, experiment_id: str | None) -> None:
        """Note the MLflow run the outbox wrote for the check with ``outbox_key`` (idempotent)."""
        self.db.run(
            lambda cur: cur.execute(
                "INSERT INTO check_runs (outbox_key, run_id, experiment_id, written_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (outbox_key) DO UPDATE SET"
                " run_id = excluded.run_id, experiment_id = excluded.experiment_id,"
                " written_at = excluded.written_at",
                (outbox_key, run_id, experiment_id, time.time()),
            )
        )

    def last_success_time(self, model: str | None = None) -> float | None:
        sql, params = "SELECT MAX(finished_at) AS t FROM checks WHERE outcome != 'error'", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " AND model = %s", (model,)
        rows = self.db.rows(sql, params)
        value = rows[0]["t"] if rows else None
        return None if value is None else float(value)
