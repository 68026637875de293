"""Files per second through 1, 2 and 3 ``driftwarden run`` processes on one PostgreSQL, and takeover.

Starts a throw-away PostgreSQL cluster (Debian's ``postgresql``, as tests/support/postgres.py
does), then for each instance count N: a fresh database, N daemon processes sharing it
(``state.url``, ``state.lease_seconds``) and 12 models, each watching its own drop directory
(every instance reads every directory). Once the models are split over the N instances
(their ``ownership_taken`` events) and one warm-up drop per model is done (a process's
first checks pay lazy imports: steady state is what a long-running service sees), a batch of CSV drops of 10k rows each is renamed into the
directories, round-robin over the models, and the clock runs until the shared ledger has
every file ``done``. Reported: files per second, the ratio against the 1-instance run of the
same invocation, and the daemons' CPU seconds per file (user + system, from /proc, from the
drops until the outbox has written every MLflow run, less what the daemons use at rest: the
floor a file costs whatever the instance count; with C cores, no instance count goes faster
than C / that). Each daemon writes MLflow runs to its default sqlite store (the outbox has
one writer across instances), as part of the cost.

Takeover: with the last run's instances still up, one that owns models is killed with
SIGKILL; the time until every model it owned is leased by a survivor, against
``lease_seconds``.

Run: ``.venv/bin/python benchmarks/instances_bench.py [--files 72] [--rows 10000]
[--models 12] [--instances 1 2 3] [--lease-seconds 5]`` (about 6 minutes on 2 busy cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from tests.support.daemon_proc import DaemonProcess, models_config, sample_frame
from tests.support.postgres import PostgresCluster, PostgresDatabase

PASSWORD_ENV = "DW_BENCH_STATE_PASSWORD"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (and its waited-for children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the name: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
    return sum(int(v) for v in fields[11:15]) / CLOCK_TICKS


def owned(daemon: DaemonProcess) -> set[str]:
    """The models the daemon's events say it holds now."""
    held: dict[str, int] = {}
    for event in daemon.events():
        if event.get("event") in ("ownership_taken", "ownership_lost"):
            step = 1 if event["event"] == "ownership_taken" else -1
            held[event["model"]] = held.get(event["model"], 0) + step
    return {model for model, count in held.items() if count > 0}


def wait(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def scalar(db: PostgresDatabase, sql: str) -> Any:
    with db.connect() as conn:
        row = conn.execute(sql).fetchone()
    return row[0] if row else None


def stage_files(
    root: Path, models: list[str], files: int, rows: int, prefix: str = "drop"
) -> list[tuple[Path, str]]:
    """Distinct CSVs (own seeds: the ledger skips a duplicate) ready to be renamed into place."""
    root.mkdir(parents=True, exist_ok=True)
    staged = []
    first_seed = 10_000 if prefix == "drop" else 90_000
    for i in range(files):
        path = root / f"{prefix}-{i:04d}.csv"
        sample_frame(rows, seed=first_seed + i).to_csv(path, index=False)
        staged.append((path, models[i % len(models)]))
    return staged


class Site:
    """N daemons on one database, 12 models, drop directories under ``root/shared``."""

    def __init__(
        self, root: Path, db: PostgresDatabase, models: list[str], count: int, lease: float
    ) -> None:
        self.db = db
        self.models = models
        self.dirs = {m: root / "shared" / f"drop-{m}" for m in models}
        for path in self.dirs.values():
            path.mkdir(parents=True)
        self.daemons: dict[str, DaemonProcess] = {}
        for i in range(count):
            name = f"i{i + 1}"
            site = root / name
            site.mkdir(parents=True)
            # the reference as big as a drop: the drift test's cost is the real one
            sample_frame(10_000, seed=1).to_csv(site / "reference.csv", index=False)
            config = models_config(
                site,
                {m: {"watch": {"paths": [str(self.dirs[m])]}} for m in models},
                watch={"settle_seconds": 0.2, "rescan_interval_seconds": 1.0},
                state={
                    "url": db.dsn,
                    "password_env": PASSWORD_ENV,
                    "lease_seconds": lease,
                    "instance_id": name,
                },
                logging={"level": "INFO"},
            )
            self.daemons[name] = DaemonProcess(config, env={PASSWORD_ENV: db.password})

    def start(self) -> None:
        for daemon in self.daemons.values():
            daemon.start(timeout=120)
        wait(self.split, "the models to split over the instances", 120)

    def split(self) -> bool:
        shares = [owned(d) for d in self.daemons.values() if d.process and d.process.poll() is None]
        every = sorted(m for share in shares for m in share)
        return every == sorted(self.models) and all(shares)

    def cpu(self) -> float:
        return sum(cpu_seconds(d.pid) for d in self.daemons.values() if d.process)

    def stop(self) -> None:
        for daemon in self.daemons.values():
            try:
                daemon.stop(timeout=60)
            except AssertionError as exc:
                print(f"warning: {exc}".splitlines()[0], file=sys.stderr)


def idle_cpu(site: Site, seconds: float) -> float:
    """The daemons' CPU seconds per second with nothing dropped (leases, rescans, heartbeats)."""
    before, started = site.cpu(), time.perf_counter()
    time.sleep(seconds)
    return (site.cpu() - before) / (time.perf_counter() - started)


def drained(db: PostgresDatabase) -> bool:
    """Every queued MLflow write done (the one outbox writer works after the files)."""
    return bool(scalar(db, "SELECT COUNT(*) FROM outbox WHERE status <> 'done'") == 0)


def throughput(
    site: Site, staged: list[tuple[Path, str]], timeout: float
) -> tuple[float, float, float]:
    """Seconds until every staged file is done; seconds and daemon CPU until MLflow has them."""
    done_sql = "SELECT COUNT(*) FROM files WHERE status = 'done'"
    target = scalar(site.db, done_sql) + len(staged)
    cpu_before = site.cpu()
    started = time.perf_counter()
    for path, model in staged:
        os.replace(path, site.dirs[model] / path.name)
    wait(lambda: scalar(site.db, done_sql) >= target, "every file done", timeout)
    elapsed = time.perf_counter() - started
    wait(lambda: drained(site.db), "every MLflow write done", timeout)
    return elapsed, time.perf_counter() - started, site.cpu() - cpu_before


def takeover(site: Site) -> tuple[str, int, float]:
    """Kill -9 the instance owning the most models; seconds until survivors lease them all."""
    victim = max(site.daemons, key=lambda name: len(owned(site.daemons[name])))
    models = owned(site.daemons[victim])
    site.daemons[victim].kill()
    killed = time.monotonic()
    names = ", ".join(f"'{m}'" for m in sorted(models))
    sql = (
        f"SELECT COUNT(*) FROM leases WHERE model IN ({names}) AND owner <> '{victim}' "
        "AND expires_at > EXTRACT(EPOCH FROM clock_timestamp())"
    )
    wait(lambda: scalar(site.db, sql) == len(models), "the victim's models taken over", 120)
    return victim, len(models), time.monotonic() - killed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=72, help="drops per run")
    parser.add_argument("--rows", type=int, default=10_000, help="rows per drop")
    parser.add_argument("--models", type=int, default=12)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--lease-seconds", type=float, default=5.0)
    parser.add_argument(
        "--idle-seconds", type=float, default=5.0, help="idle CPU sampled before the drops"
    )
    args = parser.parse_args()
    models = [f"m{i:02d}" for i in range(args.models)]
    cluster = PostgresCluster()
    cluster.start()
    tmp = Path(tempfile.mkdtemp(prefix="dw-instances-bench-"))
    results: list[tuple[int, float, float, float]] = []
    took: tuple[str, int, float] | None = None
    try:
        for count in args.instances:
            root = tmp / f"n{count}"
            staged = stage_files(root / "staging", models, args.files, args.rows)
            warm = stage_files(root / "staging", models, len(models), args.rows, "warm")
            db = cluster.create_database()
            site = Site(root, db, models, count, args.lease_seconds)
            try:
                site.start()
                # one file per model first: each process's first checks pay lazy imports
                # and first-use costs once, not per file of a long-running service
                throughput(site, warm, timeout=60 + 10 * len(warm))
                idle = idle_cpu(site, args.idle_seconds)
                elapsed, drain, cpu = throughput(site, staged, timeout=60 + 10 * args.files)
                results.append((count, elapsed, cpu - idle * drain, idle))
                if count == max(args.instances) and count > 1:
                    took = takeover(site)
            finally:
                site.stop()
            cluster.drop_database(db.name)
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, results, took)


def report(
    args: argparse.Namespace,
    results: list[tuple[int, float, float, float]],
    took: tuple[str, int, float] | None,
) -> None:
    cores = os.cpu_count() or 1
    print(f"cores: {cores} (shared; timings are noisy, compare ratios within one run)")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        f"{args.files} drops of {args.rows} rows over {args.models} models, one PostgreSQL, "
        f"lease_seconds {args.lease_seconds:g}"
    )
    print()
    head = f"{'instances':>9} {'seconds':>8} {'files/s':>8} {'vs 1':>6}"
    print(f"{head} {'idle CPU/s':>10} {'CPU s/file':>11} {'max files/s':>11}")
    base = None
    for count, elapsed, cpu, idle in results:
        rate = args.files / elapsed
        base = base or rate
        work = max(cpu, 1e-9) / args.files
        print(
            f"{count:9d} {elapsed:8.1f} {rate:8.2f} {rate / base:5.2f}x "
            f"{idle:10.3f} {work:11.3f} {cores / work:11.2f}"
        )
    print("seconds: the drops renamed in -> every file done in the shared ledger")
    print("idle CPU/s: all daemons at rest; CPU s/file: the daemons' CPU from the drops until")
    print(
        "  MLflow has every run, less the idle share (the floor a file costs, any instance count)"
    )
    print(f"max files/s: {cores} cores / CPU s/file, if the machine were ours alone")
    if took is not None:
        victim, owned_count, seconds = took
        print()
        print("takeover: kill -9 of one instance -> every model it owned leased by a survivor")
        print(f"{'killed':>6} {'models':>6} {'seconds':>8} {'lease_seconds':>13} {'/ lease':>8}")
        print(
            f"{victim:>6} {owned_count:6d} {seconds:8.2f} {args.lease_seconds:13g} "
            f"{seconds / args.lease_seconds:8.2f}"
        )


if __name__ == "__main__":
    main()
