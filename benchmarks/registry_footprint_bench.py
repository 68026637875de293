"""What an idle daemon holds when it follows a model in the MLflow registry.

``footprint_bench.py`` measures a daemon whose reference is a file. A daemon that follows
a registered model also polls the registry and keeps the production model loaded, so it
imports MLflow and, for a scikit-learn model, skops (MLflow 3's format). This script trains
the example project once (``examples/model_project/train.py``: a random forest logged with
skops, its training frame as the reference), registers it with the alias ``production`` in
a sqlite store, starts ``driftwarden run`` following it, checks ``--files`` drops, waits
for the MLflow writer child to stop (a minute after the last write) and for 5 s without
work, then samples the idle daemon for ``--idle-seconds``: resident memory (VmRSS) and CPU share, and which heavy
modules the process holds (read from ``/proc/<pid>/maps``: torch's shared library).

``--before REV`` runs the same daemon with another git revision's code (e.g. ``--before
main``), in the same run, for the change's effect. The baseline is the import floor,
measured in the same run: fresh interpreters that import, layer by layer, what the daemon
must hold (a check's modules, the daemon's, MLflow's client, the opened sqlite store, the
model's loader); the last layer is the least such a daemon can hold at rest.

Run: ``.venv/bin/python benchmarks/registry_footprint_bench.py [--idle-seconds 30]
[--before REV]`` (about 2-3 minutes per daemon on 2 shared cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from daemon_bench import free_port, write_config
from footprint_bench import (
    Run,
    baseline_rss_mib,
    children,
    get,
    idle_usage,
    pending,
    tree_cpu_seconds,
)
from revision import export_src

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "examples" / "model_project"
MODEL = "bench-model"
# What the daemon's process must hold, layer by layer: each row is a fresh interpreter that
# imports its layer and every layer above it ({uri}: the benchmark's sqlite store).
LAYERS = (
    ("what a check needs", "import driftwarden.detectors.drift, pandas, pyarrow.parquet"),
    ("+ the daemon's own modules", "import driftwarden.daemon.service.daemon"),
    ("+ MLflow's client (the registry poll)", "from mlflow.tracking import MlflowClient"),
    (
        "+ the sqlite store opened (SQLAlchemy, alembic)",
        "MlflowClient({uri!r}, {uri!r}).search_registered_models()",
    ),
    (
        "+ the model's loader: pyfunc, scikit-learn, skops",
        "import mlflow.pyfunc, sklearn.ensemble; "
        "from driftwarden.tracking.skops_import import import_skops; import_skops()",
    ),
)


def import_floor(uri: str) -> list[tuple[str, float]]:
    """RSS of a fresh interpreter after each layer of ``LAYERS`` (and those above it)."""
    rows, code = [], []
    for name, imports in LAYERS:
        code.append(imports.format(uri=uri))
        rows.append((name, baseline_rss_mib("; ".join(code))))
    return rows


def train_and_register(root: Path) -> str:
    """Train the example into ``root/mlflow.db`` and give its model the production alias."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    env = dict(os.environ, MLFLOW_TRACKING_URI=uri, MLFLOW_EXPERIMENT_NAME="bench-train")
    subprocess.run(  # from root: the run's artifacts go to root/mlruns
        [sys.executable, str(PROJECT / "train.py"), "--num-trees", "20"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    from mlflow.tracking import MlflowClient

    from driftwarden.tracking.registry import register_run, set_alias

    os.environ["MLFLOW_TRACKING_URI"] = uri  # register_run resolves runs:/ URIs through it
    client = MlflowClient(uri, uri)
    [run] = client.search_runs(
        [client.get_experiment_by_name("bench-train").experiment_id], max_results=1
    )
    version = register_run(client, run.info.run_id, MODEL)
    set_alias(client, MODEL, "production", version.version)
    return uri


def model_tables(uri: str) -> str:
    """The registered model to follow, its training data as the reference, and its store."""
    return f"""
[model]
name = "{MODEL}"
alias = "production"
target = "target"

[reference]
source = "model"

[mlflow]
tracking_uri = "{uri}"
"""


def write_drops(drop: Path, count: int) -> None:
    """Rows of the training data, shifted a little, without the label."""
    frame = pd.read_csv(PROJECT / "data" / "breast_cancer.csv").drop(columns=["target"])
    rng = np.random.default_rng(3)
    for i in range(count):
        sample = frame.sample(200, random_state=i) * rng.normal(1.0, 0.01)
        staged = drop / f".drop-{i}.csv.tmp"
        sample.to_csv(staged, index=False)
        os.rename(staged, drop / f"drop-{i}.csv")


def processed(port: int) -> float:
    """Drops processed, over every series (a model's own carry its name as a label)."""
    status, text = get(port, "/metrics")
    return sum(
        float(line.rpartition(" ")[2])
        for line in (text.splitlines() if status == 200 else [])
        if line.startswith("driftwarden_files_total{") and 'outcome="processed"' in line
    )


def holds(pid: int, library: str) -> bool:
    return library in Path(f"/proc/{pid}/maps").read_text()


def measure(root: Path, uri: str, files: int, idle: float, src: Path | None) -> dict[str, float]:
    """One daemon (this tree's code, or ``src``'s) from start to the end of its idle spell."""
    if (root / "state").exists():
        shutil.rmtree(root / "state")
    shutil.rmtree(root / "drop", ignore_errors=True)
    port = free_port()
    log = 'level = "INFO"\nformat = "json"'
    config = write_config(root, port, log=log, model=model_tables(uri))
    env = None if src is None else {**os.environ, "PYTHONPATH": str(src)}
    run = Run(config, port, root / "daemon.log", env)
    try:
        pid = run.process.pid
        write_drops(root / "drop", files)
        deadline = time.monotonic() + 300
        while processed(port) < files and time.monotonic() < deadline:
            time.sleep(0.2)
        while pending(port) > 0 and time.monotonic() < deadline:  # the runs reach MLflow
            time.sleep(0.5)
        while children(pid) and time.monotonic() < deadline:  # the writer child's idle stop
            time.sleep(1.0)
        while time.monotonic() < deadline:  # at rest: 5 s in which the tree used < 50 ms
            before = tree_cpu_seconds(pid)
            time.sleep(5.0)
            if tree_cpu_seconds(pid) - before < 0.05:
                break
        share, rss, _, memory = idle_usage(pid, idle)
        return {
            "ready_s": run.ready,
            "checked": processed(port),
            "rss_mib": float(np.median(rss)) / 1024,
            "peak_mib": memory["VmHWM"] / 1024,
            "cpu_pct": 100 * share,
            "torch": float(holds(pid, "libtorch")),
        }
    finally:
        run.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3, help="drops checked before idling")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--before", help="also measure this git revision's code (e.g. main)")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load before: {os.getloadavg()[0]:.2f}", flush=True)
    root = Path(tempfile.mkdtemp(prefix="registry-footprint-"))
    try:
        uri = train_and_register(root)
        rows = [("this tree", measure(root, uri, args.files, args.idle_seconds, None))]
        if args.before:
            src = export_src(args.before, root)
            rows.append((args.before, measure(root, uri, args.files, args.idle_seconds, src)))
        floor = import_floor(uri)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load after: {os.getloadavg()[0]:.2f}\n")
    baseline = floor[-1][1]
    head = f"{'code':12} {'ready s':>8} {'checked':>8} {'idle RSS MiB':>13} {'peak MiB':>9}"
    print(f"{head} {'idle CPU %':>11} {'torch loaded':>13} {'vs baseline':>12}")
    for name, r in rows:
        print(
            f"{name:12} {r['ready_s']:>8.2f} {r['checked']:>8.0f} {r['rss_mib']:>13.0f} "
            f"{r['peak_mib']:>9.0f} {r['cpu_pct']:>11.2f} {'yes' if r['torch'] else 'no':>13} "
            f"{r['rss_mib'] / baseline:>11.2f}x"
        )
    print("\nbaseline: the import floor, a fresh interpreter importing each layer and those above")
    print(f"{'layer':50} {'RSS MiB':>8}")
    for name, rss in floor:
        print(f"{name:50} {rss:>8.0f}")
    print("target (issue 14): an idle daemon at most 250 MiB RSS and under 0.5% of a core")


if __name__ == "__main__":
    main()
