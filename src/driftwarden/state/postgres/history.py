"""The PostgreSQL ledger's other half: alerts, retrains and model versions.

Writes that speak for a model (an alert sent, a retrain's training started) are fenced like
a check (see ``ledger.py``): an instance that lost the model records, and so sends, nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

from driftwarden.state.fencing import Owner
from driftwarden.state.postgres.connect import Database


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


class HistoryRows:
    """Alerts, retrains and model versions (mixed into ``PostgresLedger``)."""

    db: Database
    owner: Owner

    def _fence(self, cur: Any, model: str | None) -> int | None:
        raise NotImplementedError

    # ---- alerts -------------------------------------------------------------------------

    def record_alert(
        self,
        model: str,
        rule: str,
        status: str,
        severity: str | None = None,
        summary: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> int:
        def record(cur: Any) -> int:
            self._fence(cur, model)
            row = cur.execute(
                "INSERT INTO alerts (model, rule, status, severity, summary, labels, at, instance)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    model,
                    rule,
                    status,
                    severity,
                    summary,
                    _json(labels),
                    time.time(),
                    self.owner.instance,
                ),
            ).fetchone()
            return int(row["id"])

        return self.db.run(record)

    def alerts(self, limit: int = 20, *, model: str | None = None) -> list[dict[str, Any]]:
        if model is None:
            return self.db.rows("SELECT * FROM alerts ORDER BY id DESC LIMIT %s", (limit,))
        return self.db.rows(
            "SELECT * FROM alerts WHERE model = %s ORDER BY id DESC LIMIT %s", (model, limit)
        )

    def firing_alerts(self, model: str) -> list[dict[str, Any]]:
        """Alerts whose last notification was 'firing' (see the sqlite ledger)."""
        open_: dict[tuple[str, str], dict[str, Any]] = {}
        for row in self.db.rows("SELECT * FROM alerts WHERE model = %s ORDER BY id", (model,)):
            labels = json.loads(row["labels"]) if row["labels"] else {}
            key = (row["rule"], str(labels.get("metric", "")))
            if row["status"] != "firing":
                open_.pop(key, None)
                continue
            entry = open_.setdefault(key, {"rule": key[0], "key": key[1], "started_at": row["at"]})
            entry.update(summary=row["summary"] or "", last_sent=row["at"])
        return list(open_.values())

    # ---- retrains -----------------------------------------------------------------------

    def record_retrain(
        self,
        model: str,
        reason: str,
        trigger: str | None = None,
        status: str = "running",
        detail: dict[str, Any] | None = None,
    ) -> int:
        now = time.time()
        running = status == "running"

        def record(cur: Any) -> int:
            if running:  # a training run starts: only the model's owner may start one
                self._fence(cur, model)
            row = cur.execute(
                "INSERT INTO retrains (model, reason, trigger, status, detail, started_at,"
                " finished_at, training_started_at, instance)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    model,
                    reason,
                    trigger,
                    status,
                    _json(detail),
                    now,
                    None if running else now,
                    now if running else None,
                    self.owner.instance,
                ),
            ).fetchone()
            return int(row["id"])

        return self.db.run(record)

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
        self.db.run(
            lambda cur: cur.execute(
                "UPDATE retrains SET status = %s, run_id = COALESCE(%s, run_id),"
                " candidate_version = COALESCE(%s, candidate_version),"
                " champion_version = COALESCE(%s, champion_version),"
                " detail = COALESCE(%s, detail), finished_at = %s WHERE id = %s",
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
        )

    def last_retrain(
        self, model: str | None = None, finished_only: bool = False
    ) -> dict[str, Any] | None:
        sql, params = "SELECT * FROM retrains WHERE 1 = 1", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " AND model = %s", (model,)
        if finished_only:
            sql += " AND status NOT IN ('running', 'skipped_cooldown', 'skipped_running')"
        rows = self.db.rows(sql + " ORDER BY id DESC LIMIT 1", params)
        if not rows:
            return None
        row = rows[0]
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
        return row

    def skipped_retrains_since(self, model: str, after_id: int = 0) -> int:
        rows = self.db.rows(
            "SELECT COUNT(*) AS n FROM retrains WHERE model = %s AND id > %s"
            " AND status IN ('skipped_cooldown', 'skipped_running')",
            (model, after_id),
        )
        return int(rows[0]["n"])

    def retrain_running(self, model: str | None = None) -> dict[str, Any] | None:
        sql, params = "SELECT * FROM retrains WHERE status = 'running'", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " AND model = %s", (model,)
        rows = self.db.rows(sql + " ORDER BY id DESC LIMIT 1", params)
        return rows[0] if rows else None

    def last_training_activity(self, model: str) -> float | None:
        rows = self.db.rows(
            "SELECT MAX(GREATEST(training_started_at, COALESCE(finished_at, 0))) AS t"
            " FROM retrains WHERE model = %s AND training_started_at IS NOT NULL",
            (model,),
        )
        value = rows[0]["t"] if rows else None
        return None if value is None else float(value)

    def fail_stale_retrains(
        self, reason: str = "daemon restarted while it ran", *, model: str | None = None
    ) -> int:
        """Mark retrains left 'running' as failed (the caller holds the single-flight lock)."""
        sql = "UPDATE retrains SET status = 'failed', finished_at = %s, detail = %s"
        sql += " WHERE status = 'running'"
        params: tuple[Any, ...] = (time.time(), _json({"error": reason}))
        if model is not None:
            sql, params = sql + " AND model = %s", (*params, model)
        return int(self.db.run(lambda cur: cur.execute(sql, params).rowcount))

    # ---- model versions -----------------------------------------------------------------

    def record_model_version(
        self, model: str, version: str, run_id: str | None, source: str
    ) -> bool:
        now = time.time()

        def record(cur: Any) -> bool:
            # Serialise per model: "was it the last one seen?" must see the other writer's row.
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))", (model,))
            last = cur.execute(
                "SELECT version FROM model_versions WHERE model = %s ORDER BY last_seen DESC,"
                " id DESC LIMIT 1",
                (model,),
            ).fetchone()
            cur.execute(
                "INSERT INTO model_versions (model, version, run_id, source, first_seen,"
                " last_seen) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (model, version)"
                " DO UPDATE SET last_seen = excluded.last_seen, source = excluded.source",
                (model, version, run_id, source, now, now),
            )
            return last is None or str(last["version"]) != version

        return bool(self.db.run(record))

    def last_model_version(self, model: str | None = None) -> dict[str, Any] | None:
        sql, params = "SELECT * FROM model_versions", ()  # type: tuple[str, tuple[Any, ...]]
        if model is not None:
            sql, params = sql + " WHERE model = %s", (model,)
        rows = self.db.rows(sql + " ORDER BY last_seen DESC, id DESC LIMIT 1", params)
        return rows[0] if rows else None
