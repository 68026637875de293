"""The PostgreSQL lease store: instance membership and one lease row per model.

Every time is the database's clock (``NOW``) and every decision one statement, so two
instances racing for a model both run the same ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``
and exactly one gets the row back. Taking a lease always bumps its epoch (the fencing token
the ledger checks); renewing keeps it.
"""

from __future__ import annotations

from typing import Any

from driftwarden.state.leases import Lease, Membership
from driftwarden.state.postgres.connect import NOW, Database


def _lease(row: dict[str, Any]) -> Lease:
    return Lease(row["model"], row["owner"], int(row["epoch"]), float(row["remaining"]))


class PostgresLeases:
    """The ``LeaseStore`` of a shared database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.readonly = db.readonly

    def close(self) -> None:
        self.db.close()

    def join(self, instance: str, ttl: float) -> Membership:
        def join(cur: Any) -> Membership:
            cur.execute(
                f"INSERT INTO instances (instance, started_at, expires_at) VALUES (%s, {NOW},"
                f" {NOW} + %s) ON CONFLICT (instance) DO UPDATE SET expires_at = excluded.expires_at",
                (instance, ttl),
            )
            rows = cur.execute(
                f"SELECT instance, expires_at - {NOW} AS remaining FROM instances"
                f" WHERE expires_at > {NOW} ORDER BY instance"
            ).fetchall()
            others = [float(r["remaining"]) for r in rows if r["instance"] != instance]
            live = tuple(r["instance"] for r in rows)
            return Membership(live, min(others) if others else None)

        return self.db.run(join)

    def leave(self, instance: str) -> None:
        def leave(cur: Any) -> None:
            cur.execute(f"UPDATE leases SET expires_at = {NOW} WHERE owner = %s", (instance,))
            cur.execute("DELETE FROM instances WHERE instance = %s", (instance,))

        self.db.run(leave)

    def acquire(self, model: str, instance: str, ttl: float) -> Lease | None:
        rows = self.db.rows(
            f"INSERT INTO leases AS l (model, owner, epoch, taken_at, expires_at)"
            f" VALUES (%s, %s, 1, {NOW}, {NOW} + %s)"
            f" ON CONFLICT (model) DO UPDATE SET owner = excluded.owner, epoch = l.epoch + 1,"
            f" taken_at = excluded.taken_at, expires_at = excluded.expires_at"
            f" WHERE l.expires_at <= {NOW} OR l.owner = excluded.owner"
            f" RETURNING model, owner, epoch, expires_at - {NOW} AS remaining",
            (model, instance, ttl),
        )
        return _lease(rows[0]) if rows else None

    def renew(self, model: str, instance: str, epoch: int, ttl: float) -> Lease | None:
        rows = self.db.rows(
            f"UPDATE leases SET expires_at = {NOW} + %s"
            f" WHERE model = %s AND owner = %s AND epoch = %s"
            f" RETURNING model, owner, epoch, expires_at - {NOW} AS remaining",
            (ttl, model, instance, epoch),
        )
        return _lease(rows[0]) if rows else None

    def release(self, model: str, instance: str, epoch: int) -> None:
        self.db.run(
            lambda cur: cur.execute(
                f"UPDATE leases SET expires_at = LEAST(expires_at, {NOW})"
                " WHERE model = %s AND owner = %s AND epoch = %s",
                (model, instance, epoch),
            )
        )

    def leases(self) -> list[Lease]:
        rows = self.db.rows(
            f"SELECT model, owner, epoch, expires_at - {NOW} AS remaining FROM leases"
            " ORDER BY model"
        )
        return [_lease(row) for row in rows]

    def instances(self) -> dict[str, float]:
        rows = self.db.rows(
            f"SELECT instance, expires_at - {NOW} AS remaining FROM instances"
            f" WHERE expires_at > {NOW} ORDER BY instance"
        )
        return {r["instance"]: float(r["remaining"]) for r in rows}
