"""kill -9 of the owning daemon process while it checks files (the process is the point).

Two ``driftwarden run`` processes share one throw-away PostgreSQL and one drop directory.
The owner is killed while it works through a batch; the survivor takes the model over
within the lease time and finishes the batch, the killed one's in-flight file included.
Judged by the shared ledger: every file ``done`` exactly once with one drift check, none
lost, none quarantined, nothing left in the drop directory.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from driftwarden.daemon.ownership.assignment import assign
from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv
from tests.support.postgres import PostgresDatabase

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("postgres")]

LEASE_SECONDS = 2.0
PASSWORD_ENV = "DW_TEST_STATE_PASSWORD"
MODEL = "test-model"
FILES = 24


def _rows(db: PostgresDatabase, sql: str) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return list(conn.execute(sql).fetchall())


def _holds(daemon: DaemonProcess) -> bool:
    """Whether the daemon's log says it holds the model now (taken more often than lost)."""
    return len(daemon.named("ownership_taken")) > len(daemon.named("ownership_lost"))


def test_kill_9_of_the_owner_mid_batch_moves_the_model_and_loses_nothing(
    tmp_path: Path, postgres_db: PostgresDatabase
) -> None:
    drop = tmp_path / "shared-drop"
    drop.mkdir()
    env = {PASSWORD_ENV: postgres_db.password}
    daemons: dict[str, DaemonProcess] = {}
    for name in ("a", "b"):
        config = daemon_config(
            tmp_path / name,
            watch={"paths": [str(drop)], "rescan_interval_seconds": 1.0},
            state={
                "url": postgres_db.dsn,
                "password_env": PASSWORD_ENV,
                "lease_seconds": LEASE_SECONDS,
                "instance_id": name,
            },
        )
        daemons[name] = DaemonProcess(config, env=env)
    try:
        for daemon in daemons.values():
            daemon.start()
        owner_id = assign([MODEL], list(daemons))[MODEL]
        survivor_id = "b" if owner_id == "a" else "a"
        owner, survivor = daemons[owner_id], daemons[survivor_id]
        owner.wait_until(
            lambda: _holds(owner) and not _holds(survivor),
            what="the owner to hold the model alone",
        )
        names = [f"batch-{i:02d}.csv" for i in range(FILES)]
        for i, name in enumerate(names):
            write_csv(drop / name, sample_frame(4000, seed=100 + i))
        owner.wait_event("file_checked", count=3, timeout=60)
        taken_before = len(survivor.named("ownership_taken"))
        assert owner.process is not None
        owner.process.kill()  # SIGKILL: no clean stop, the lease is left to run out
        owner.process.wait(10)
        killed = time.monotonic()
        survivor.wait_event("ownership_taken", count=taken_before + 1, timeout=30)
        moved = time.monotonic() - killed
        # the lease time after the last renewal, plus a turn of the survivor (polled at 0.1 s)
        assert moved <= 2 * LEASE_SECONDS + 2.0, f"took {moved:.1f}s"

        deadline = time.monotonic() + 120
        done_sql = "SELECT COUNT(*) FROM files WHERE status = 'done'"
        while _rows(postgres_db, done_sql)[0][0] < FILES:
            assert time.monotonic() < deadline, "the survivor did not finish the batch"
            time.sleep(0.2)
        rows = _rows(postgres_db, "SELECT id, path, status, claimed_by FROM files")
        done = [r for r in rows if r[2] == "done"]
        assert Counter(Path(r[1]).name for r in done) == Counter(names)
        assert [r for r in rows if r[2] != "done"] == [], "nothing quarantined or half-done"
        checks = Counter(r[0] for r in _rows(postgres_db, "SELECT file_id FROM checks"))
        assert all(checks[r[0]] == 1 for r in done), f"drift checks per file: {checks}"
        assert {r[3] for r in done} <= {owner_id, survivor_id}
        assert any(r[3] == survivor_id for r in done), "the survivor finished the batch"
        survivor.wait_until(
            lambda: not list(drop.glob("*.csv")), what="every file moved out of the drop dir"
        )
        metrics = survivor.get("/metrics")[1]
        assert f'driftwarden_model_owner{{instance="{survivor_id}",model="{MODEL}"}} 1.0' in metrics
    finally:
        for daemon in daemons.values():
            daemon.stop()
