"""Six models, 300 drops, while ``driftwarden run`` processes start and stop (the process is the point).

Three instances share one throw-away PostgreSQL (``state.url``) and one drop directory per
model on a path all of them read. The schedule follows the shared ledger and the instances' JSON events, never
the clock: ``a`` alone takes the first third of the drops; ``b`` joins (the models are
rebalanced while files are in flight) and the second third is dropped; ``c`` joins and
the last third is dropped; ``b`` stops cleanly while that third is being checked, handing
its models back.

Judged at the end from the shared ledger and the MLflow server: every file ``done`` once,
with one drift check recorded under the model whose directory it was dropped in, and one
MLflow write queued for it in the shared outbox under that model; nothing left in a drop
directory or stuck ``processing``; each model's lease held by exactly one of the live
instances, as their ``driftwarden_model_owner`` series say too.

No `mlflow server` here: the shared outbox has one writer across instances (an advisory
lock), and a server on PostgreSQL takes ~0.5 s a run on a busy 2-core machine, so 300 runs
would triple the test's time. The daemons keep their default MLflow stores; that the
server takes the runs is tested in tests/integration/test_pipeline_mlflow_server.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon_proc import DaemonProcess, models_config, sample_frame, write_csv
from tests.support.postgres import PostgresDatabase

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("postgres")]

LEASE_SECONDS = 2.0
PASSWORD_ENV = "DW_TEST_STATE_PASSWORD"
MODELS = tuple(f"m{i}" for i in range(6))
FILES = 300
ROWS = 40  # tiny drops: the schedule and the claims are the point, not the statistics


def _rows(db: PostgresDatabase, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return list(conn.execute(sql, tuple(params)).fetchall())


def _done(db: PostgresDatabase) -> int:
    return int(_rows(db, "SELECT COUNT(*) FROM files WHERE status = 'done'")[0][0])


def owned(daemon: DaemonProcess) -> set[str]:
    """The models the daemon's events say it holds now (each taken more often than lost)."""
    balance: Counter[str] = Counter()
    for event in daemon.events():
        if event.get("event") == "ownership_taken":
            balance[event["model"]] += 1
        elif event.get("event") == "ownership_lost":
            balance[event["model"]] -= 1
    return {model for model, held in balance.items() if held > 0}


def _split_among(daemons: list[DaemonProcess]) -> bool:
    """Each model held by exactly one of ``daemons``, and each of them holds one at least."""
    shares = [owned(d) for d in daemons]
    every = [m for share in shares for m in share]
    return sorted(every) == sorted(MODELS) and all(shares)


def wait_for(
    condition: Callable[[], bool], live: list[DaemonProcess], what: str, timeout: float = 90.0
) -> None:
    """Poll ``condition`` (events or ledger rows); fail at once if a live daemon exited."""
    deadline = time.monotonic() + timeout
    while not condition():
        for daemon in live:
            assert daemon.process is not None
            if daemon.process.poll() is not None:
                raise AssertionError(
                    f"{daemon.config} exited before {what}:\n{daemon.log_text()[-4000:]}"
                )
        if time.monotonic() > deadline:
            tails = "\n".join(d.log_text()[-2000:] for d in live)
            raise AssertionError(f"timed out after {timeout}s waiting for {what}:\n{tails}")
        time.sleep(0.1)


def drop(dirs: dict[str, Path], numbers: range) -> dict[str, str]:
    """Drop files ``numbers`` round-robin over the models; returns file name -> model."""
    dropped: dict[str, str] = {}
    for i in numbers:
        model = MODELS[i % len(MODELS)]
        name = f"f{i:03d}.csv"
        write_csv(dirs[model] / name, sample_frame(ROWS, seed=1000 + i))
        dropped[name] = model
    return dropped


def _owner_series(daemon: DaemonProcess, instance: str) -> set[str]:
    text = daemon.get("/metrics")[1]
    return {
        m
        for m in MODELS
        if f'driftwarden_model_owner{{instance="{instance}",model="{m}"}} 1.0' in text
    }


def test_six_models_three_hundred_drops_while_instances_start_and_stop(
    tmp_path: Path, postgres_db: PostgresDatabase
) -> None:
    shared = tmp_path / "shared"
    dirs = {m: shared / f"drop-{m}" for m in MODELS}
    for path in dirs.values():
        path.mkdir(parents=True)
    daemons: dict[str, DaemonProcess] = {}
    for name in ("a", "b", "c"):
        config = models_config(
            tmp_path / name,
            {m: {"watch": {"paths": [str(dirs[m])]}} for m in MODELS},
            watch={"settle_seconds": 0.2, "rescan_interval_seconds": 1.0},
            state={
                "url": postgres_db.dsn,
                "password_env": PASSWORD_ENV,
                "lease_seconds": LEASE_SECONDS,
                "instance_id": name,
            },
        )
        daemons[name] = DaemonProcess(config, env={PASSWORD_ENV: postgres_db.password})
    a, b, c = daemons["a"], daemons["b"], daemons["c"]
    third = FILES // 3
    dropped: dict[str, str] = {}
    try:
        a.start()
        wait_for(lambda: owned(a) == set(MODELS), [a], "a to hold every model")
        dropped |= drop(dirs, range(0, third))
        wait_for(lambda: _done(postgres_db) >= third // 2, [a], "a to check files alone")

        b.start()
        wait_for(lambda: _split_among([a, b]), [a, b], "the models split over a and b")
        dropped |= drop(dirs, range(third, 2 * third))
        wait_for(lambda: len(b.named("file_checked")) >= 5, [a, b], "b to check files")

        c.start()
        wait_for(lambda: _split_among([a, b, c]), [a, b, c], "the models split over a, b, c")
        dropped |= drop(dirs, range(2 * third, FILES))
        wait_for(lambda: len(c.named("file_checked")) >= 5, [a, b, c], "c to check files")
        assert b.stop() == 0  # a clean stop mid-batch: b hands its models back at once

        wait_for(lambda: _split_among([a, c]), [a, c], "b's models taken by a and c")
        wait_for(lambda: _done(postgres_db) >= FILES, [a, c], "every file checked", 120)
        wait_for(
            lambda: not [f for p in dirs.values() for f in p.glob("*.csv")],
            [a, c],
            "every drop moved out of its directory",
        )
        _assert_ledger(postgres_db, dropped)
        _assert_owners(postgres_db, a, c)
    finally:
        for daemon in daemons.values():
            daemon.stop()


def _assert_ledger(db: PostgresDatabase, dropped: dict[str, str]) -> None:
    files = _rows(db, "SELECT id, path, model, status FROM files")
    assert Counter(row[3] for row in files) == {"done": FILES}, "nothing quarantined or processing"
    names = Counter(Path(row[1]).name for row in files)
    assert set(names) == set(dropped) and set(names.values()) == {1}, "each file once"
    for _, path, model, _ in files:
        assert model == dropped[Path(path).name] == Path(path).parent.name.removeprefix("drop-")
    checks = _rows(db, "SELECT file_id, model, kind, outbox_key FROM checks WHERE scope = 'file'")
    per_file = Counter(row[0] for row in checks)
    assert sorted(per_file) == sorted(row[0] for row in files)
    assert set(per_file.values()) == {1}, f"checks per file: {per_file.most_common(3)}"
    model_of = {row[0]: row[2] for row in files}
    assert all(model == model_of[file_id] and kind == "drift" for file_id, model, kind, _ in checks)
    queued = dict(_rows(db, "SELECT key, model FROM outbox"))
    assert Counter(queued[key] for _, _, _, key in checks) == Counter(dropped.values()), (
        "one MLflow write queued per check, under its model"
    )
    by = Counter(row[0] for row in _rows(db, "SELECT instance FROM checks"))
    assert set(by) == {"a", "b", "c"}, f"every instance checked files: {by}"


def _assert_owners(db: PostgresDatabase, a: DaemonProcess, c: DaemonProcess) -> None:
    leases = _rows(
        db, "SELECT model, owner, expires_at > EXTRACT(EPOCH FROM clock_timestamp()) FROM leases"
    )
    assert sorted(row[0] for row in leases) == sorted(MODELS)
    assert {row[1] for row in leases} <= {"a", "c"}, leases
    assert all(row[2] for row in leases), f"a lease ran out: {leases}"
    series_a, series_c = _owner_series(a, "a"), _owner_series(c, "c")
    assert not series_a & series_c and series_a | series_c == set(MODELS)
    assert series_a == {row[0] for row in leases if row[1] == "a"}
