"""How soon an alias moved by a person on the MLflow server is in force in the daemon (target 2 s).

For each MLflow server (one on a sqlite store; with Debian's ``postgresql`` also one whose
backend store is PostgreSQL, a throw-away cluster as the tests use), an in-process daemon
keeps one model with its registry poll every 10 minutes and its webhook registered with the
server (as ``driftwarden hooks install`` does). Each move sets the alias with ``MlflowClient``
to the other of two real versions (each a logged model and its training data) and times it
until the daemon publishes ``ModelInForce`` for it: MLflow's delivery, the signature check,
the poll, the model loaded and its training data read as the new reference.

Baseline, measured in the same run and on the same daemon before the webhook is registered:
the same move followed at once by a direct poll request to the model's keeper (the switch
without MLflow's delivery). The ratio says what the webhook path adds.

Run: ``.venv/bin/python benchmarks/hooks_bench.py [--moves 10] [--no-postgres]``
(a few minutes: servers start, models are logged).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from tests.support.hook_switch import SECRET, SECRET_ENV, HookedDaemon, log_versions
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_server import MlflowServer

TARGET_S = 2.0


class Started:
    """``start_daemon`` for a script: starts in-process daemons, stops them all at the end."""

    def __init__(self) -> None:
        self.daemons: list[InProcessDaemon] = []

    def __call__(self, config: Path, loop: bool = True) -> InProcessDaemon:
        daemon = InProcessDaemon(config)
        self.daemons.append(daemon)
        return daemon.start(loop)

    def stop(self) -> None:
        for daemon in reversed(self.daemons):
            daemon.stop()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(server: MlflowServer, root: Path, moves: int) -> dict[str, list[tuple[float, float]]]:
    """Seconds from each alias move to ``ModelInForce`` (and to ``ModelMoved``): by direct
    poll, then by webhook."""
    from mlflow.tracking import MlflowClient

    model = f"bench-{uuid.uuid4().hex[:8]}"
    versions = log_versions(server.url, model, root / "training")
    MlflowClient(server.url).set_registered_model_alias(model, "production", versions[0])
    started = Started()
    hook_name = f"dw-bench-{uuid.uuid4().hex[:8]}"
    try:
        hooked = HookedDaemon(root / "daemon", server.url, model, hook_name, started)
        hooked.in_force(versions[0], timeout=120)
        timings: dict[str, list[tuple[float, float]]] = {"poll": [], "hook": []}
        for i in range(moves):  # before the webhook exists: only the direct request polls
            timings["poll"].append(hooked.move(versions[(i + 1) % 2], poll=True))
        hooked.install_hook()
        hooked.hook_heard(versions)
        current = hooked.running.parts.keepers[model].registry.version
        first = 1 if current == versions[0] else 0
        for i in range(moves):
            timings["hook"].append(hooked.move(versions[(first + i) % 2]))
        return timings
    finally:
        started.stop()
        client = MlflowClient(server.url)
        for webhook in client.list_webhooks(max_results=100):
            if webhook.name == hook_name:
                client.delete_webhook(webhook.webhook_id)


def postgres_server(stack: list[Any], root: Path) -> MlflowServer | None:
    from tests.support.postgres import PostgresCluster, find_bindir

    if find_bindir() is None:
        print("(no Debian postgresql: the PostgreSQL-backed server is left out)", file=sys.stderr)
        return None
    cluster = PostgresCluster()
    cluster.start()
    stack.append(cluster)
    db = cluster.create_database("mlflow")
    server = MlflowServer(root, backend_store_uri=db.sqlalchemy_url("psycopg"), env=db.env())
    server.start(timeout=180)
    stack.append(server)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=10, help="alias moves per path (default 10)")
    parser.add_argument("--no-postgres", action="store_true", help="only the sqlite-backed server")
    args = parser.parse_args()
    os.environ[SECRET_ENV] = SECRET
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    rows: list[tuple[str, str, list[tuple[float, float]]]] = []
    stack: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="hooks-bench-") as tmp:
        root = Path(tmp)
        try:
            sqlite = MlflowServer(root / "sqlite-server")
            sqlite.start()
            stack.append(sqlite)
            servers = [("sqlite", sqlite)]
            if not args.no_postgres:
                pg = postgres_server(stack, root / "pg-server")
                if pg is not None:
                    servers.append(("postgresql", pg))
            for backend, server in servers:
                timings = measure(server, root / f"run-{backend}", args.moves)
                rows += [(backend, path, timings[path]) for path in ("poll", "hook")]
        finally:
            for part in reversed(stack):
                part.stop()
    print(f"cores: {os.cpu_count()}  moves per path: {args.moves}  target: {TARGET_S:g} s")
    print("to switch: alias move -> ModelInForce; to start: -> ModelMoved (heard and polled)")
    print(
        f"{'server store':<13} {'path':<24} {'median s':>9} {'p95 s':>7} {'max s':>7} "
        f"{'vs poll':>8} {'p95/2 s':>8} {'to start median':>16}"
    )
    baseline = {
        backend: statistics.median(s for s, _ in t) for backend, path, t in rows if path == "poll"
    }
    names = {"poll": "move + direct poll", "hook": "move -> webhook -> poll"}
    for backend, path, t in rows:
        total = [s for s, _ in t]
        median = statistics.median(total)
        print(
            f"{backend:<13} {names[path]:<24} {median:>9.3f} {p95(total):>7.3f} "
            f"{max(total):>7.3f} {median / baseline[backend]:>7.2f}x "
            f"{p95(total) / TARGET_S:>7.2f}x {statistics.median(m for _, m in t):>16.3f}"
        )
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
