"""What the shared PostgreSQL state costs per file, and how soon a dead instance's model moves.

Starts a throw-away PostgreSQL cluster (Debian's ``postgresql``: ``initdb`` + ``pg_ctl`` in a
temporary directory, on 127.0.0.1; as tests/support/postgres.py does), then:

A. Ledger throughput: each file is the daemon's two ledger transactions, the claim
   (``begin_file``) and the outcome (``finish_file`` with one check row). Baseline: the
   embedded sqlite engine in a temporary directory. Then PostgreSQL fenced by a held lease
   (every write checks the lease row, as the daemon's do), with 1 and 2 instances claiming
   at once (2 threads, one model each, their own connection pools), as files per second
   and the ratio against sqlite.
B. Takeover: instance ``a`` holds the model's lease and dies (stops renewing, no clean
   stop); instance ``b``'s ``LeaseKeeper`` runs on its thread. The time from ``a``'s last
   renewal to ``b`` holding the model, for a few lease times (the promise: within the
   lease time, plus one turn of ``b``).

Run: ``.venv/bin/python benchmarks/scale_bench.py [--files 1000]`` (about a minute).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support.postgres

from driftwarden.daemon.ownership.assignment import assign
from driftwarden.daemon.ownership.leases import LeaseKeeper, OwnershipHooks
from driftwarden.events import Event
from driftwarden.observability.http import HealthState
from driftwarden.observability.metrics import Metrics
from driftwarden.state import CheckRecord, Fences, Ledger, Owner
from driftwarden.state.postgres import PostgresEngine
from driftwarden.state.postgres.connect import Target
from driftwarden.state.sqlite import SqliteEngine
from tests.support.postgres import PostgresCluster, PostgresDatabase

LEASE_FOR_CLAIMS = 300.0


def _check(model: str) -> CheckRecord:
    return CheckRecord(kind="drift", scope="file", outcome="ok", model=model, summary={"p": 0.5})


def claim_files(ledger: Ledger, model: str, prefix: str, files: int) -> float:
    """Claim and finish ``files`` files; returns the seconds taken."""
    started = time.perf_counter()
    for i in range(files):
        path = f"/drops/{prefix}/{i}.csv"
        claim = ledger.begin_file(path, "/drops", f"{prefix}-{i}", 1000 + i, 1.0, model=model)
        ledger.finish_file(claim.file_id, "done", result={"n": i}, checks=[_check(model)])
    return time.perf_counter() - started


def _engine(db: PostgresDatabase, instance: str, fences: Fences | None) -> PostgresEngine:
    return PostgresEngine(Target(db.dsn, db.password, f"bench {instance}"), Owner(instance, fences))


def _held(db: PostgresDatabase, instance: str, model: str) -> Ledger:
    """A ledger fenced by a lease this instance holds (as the daemon's)."""
    engine = _engine(db, instance, fences := Fences())
    leases = engine.leases()
    lease = leases.acquire(model, instance, LEASE_FOR_CLAIMS)
    assert lease is not None
    fences.hold(model, lease.epoch)
    leases.close()
    return engine.ledger()


def bench_claims(cluster: PostgresCluster, files: int) -> list[tuple[str, int, float]]:
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ledger = SqliteEngine(Path(tmp)).ledger()
        seconds = claim_files(ledger, "m0", "sqlite", files)
        ledger.close()
    rows.append(("sqlite (embedded, baseline)", files, files / seconds))

    db = cluster.create_database()
    ledger = _held(db, "a", "m0")
    seconds = claim_files(ledger, "m0", "pg1", files)
    ledger.close()
    rows.append(("postgresql, 1 instance", files, files / seconds))

    ledgers = [_held(db, name, f"m{i + 1}") for i, name in enumerate(("b", "c"))]
    spans: list[float] = []
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=lambda i=i: spans.append(claim_files(ledgers[i], f"m{i + 1}", f"pg2-{i}", files))
        )
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for ledger in ledgers:
        ledger.close()
    rows.append(("postgresql, 2 instances at once", 2 * files, 2 * files / elapsed))
    cluster.drop_database(db.name)
    return rows


def _keeper(
    db: PostgresDatabase, instance: str, lease: float, taken: threading.Event
) -> LeaseKeeper:
    engine = _engine(db, instance, None)
    hooks = OwnershipHooks(lambda model: taken.set(), lambda model: None)

    def publish(event: Event) -> None:
        """The bench reads the hooks, not the events."""

    return LeaseKeeper(
        engine.leases(), instance, lambda: ["m"], lambda: lease, Fences(), hooks, Metrics(),
        publish, HealthState(60.0),
    )  # fmt: skip


def bench_takeover(cluster: PostgresCluster, lease: float) -> float:
    """Seconds from the owner's last renewal to the survivor holding the model."""
    db = cluster.create_database()
    dead_taken, b_taken = threading.Event(), threading.Event()
    # the model is the dying instance's by the assignment too (not handed over on a rebalance)
    first = assign(["m"], ["a", "b"])["m"]
    second = "b" if first == "a" else "a"
    a = _keeper(db, first, lease, dead_taken)
    a.tick()  # a joins and takes the model (alone)
    b = _keeper(db, second, lease, b_taken)
    b.start()
    assert a.owns("m") and not b.owns("m")
    a.tick()  # a's last renewal: then it dies (no clean stop: its lease runs out)
    died = time.monotonic()
    b_taken.wait(10 * lease)
    moved = time.monotonic() - died
    b.close()
    b.join(5.0)
    a.store.close()
    b.store.close()
    cluster.drop_database(db.name)
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files per instance (A)")
    args = parser.parse_args()
    cluster = PostgresCluster()
    cluster.start()
    try:
        claims = bench_claims(cluster, args.files)
        takeovers = [(lease, bench_takeover(cluster, lease)) for lease in (2.0, 5.0)]
    finally:
        cluster.stop()
    print(f"cores: {os.cpu_count()} (shared; timings are noisy, compare ratios in one run)")
    print()
    print("A. ledger: claim + outcome (2 transactions) per file")
    print(f"{'engine':34} {'files':>6} {'files/s':>9} {'vs sqlite':>10}")
    base = claims[0][2]
    for name, files, rate in claims:
        print(f"{name:34} {files:6d} {rate:9.0f} {rate / base:9.2f}x")
    print()
    print("B. takeover: owner stops renewing -> survivor holds the model")
    print(f"{'lease_seconds':>13} {'seconds':>8} {'/ lease':>8}")
    for lease, moved in takeovers:
        print(f"{lease:13.1f} {moved:8.2f} {moved / lease:8.2f}")


if __name__ == "__main__":
    main()
