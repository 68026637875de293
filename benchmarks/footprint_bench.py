"""What the running daemon costs at start and at rest, with a big reference.

Starts ``driftwarden run`` as a subprocess on a temp dir whose ``reference.path`` is a
Parquet file of ``--rows`` x ``--columns`` float64 values (10M x 25 by default, 2 GB),
three times on the same state directory:

1. first start: the store is empty, the reference is prepared (streamed column by
   column) and stored under ``<state>/prepared`` (the baseline for the restart);
2. restart: the stored preparation is memory-mapped; the time from ``Popen`` to
   ``/readyz`` answering 200 is what a restart costs;
3. the same restart, then ``--files`` drops of ``--drop-rows`` rows are checked and the
   daemon is left idle for ``--idle-seconds``: its CPU share (utime + stime from
   ``/proc/<pid>/stat``, with its children's) and resident memory (VmRSS, with RssAnon and
   RssFile: mapped reference pages count only where touched), alone and with its children.
   The idle spell starts once the MLflow writer child has stopped (a minute after the last
   write); the tree's memory until then is shown on its own line.

How each start got its reference is read from the daemon's own ``reference_loaded``
event (JSON log), not guessed from the time. The RSS baseline is a bare interpreter
that imports what a process needs to check a file (``driftwarden.detectors.drift``,
pandas, pyarrow.parquet), measured in the same run.

Run: ``.venv/bin/python benchmarks/footprint_bench.py [--rows 10000000] [--columns 25]
[--idle-seconds 60] [--files 5]`` (about 3-4 minutes at the defaults on 2 shared cores;
``--rows 1000000 --idle-seconds 20`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from daemon_bench import free_port, write_config

ROW_GROUP = 1_000_000
BASELINE_IMPORTS = "import driftwarden.detectors.drift, pandas, pyarrow.parquet"
# What the outbox writer adds once it has logged a run to the default (sqlite) MLflow store
# (in the writer child with [mlflow] writer = "process", the default; in the daemon with "thread").
MLFLOW_IMPORTS = ", mlflow, mlflow.store.tracking.sqlalchemy_store"


def write_reference(path: Path, rows: int, columns: int, seed: int = 7) -> None:
    """Float64 columns, one row group at a time (never the whole table in memory)."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(columns)]
    schema = pa.schema([(name, pa.float64()) for name in names])
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:
        for start in range(0, rows, ROW_GROUP):
            n = min(ROW_GROUP, rows - start)
            arrays = [pa.array(rng.normal(i, 1.0 + i / 10, n)) for i in range(columns)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


def write_drop(path: Path, rows: int, columns: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = pa.table({f"x{i}": rng.normal(i, 1.0 + i / 10, rows) for i in range(columns)})
    staged = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, staged)
    os.rename(staged, path)


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def wait_ready(port: int, process: subprocess.Popen[bytes], started: float) -> float:
    """Seconds from ``started`` until ``/readyz`` answers 200 (polled every 20 ms)."""
    while time.perf_counter() - started < 1800:
        if process.poll() is not None:
            raise SystemExit(f"daemon exited with {process.returncode} before it was ready")
        if get(port, "/readyz")[0] == 200:
            return time.perf_counter() - started
        time.sleep(0.02)
    raise SystemExit("daemon not ready in 30 minutes")


def events(log: Path, name: str) -> list[dict[str, object]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == name:
            out.append(record)
    return out


def proc_cpu_seconds(pid: int) -> float:
    """The process's CPU, with that of its children already reaped (the writer child)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The live child processes (the MLflow writer child while it runs)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def tree_rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS of the process and its live children, how many children)."""
    kids = children(pid)
    total = proc_memory_kib(pid)["VmRSS"]
    for kid in kids:
        try:
            total += proc_memory_kib(kid)["VmRSS"]
        except OSError:
            continue
    return total, len(kids)


def proc_memory_kib(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0])
    return out


def processed(port: int) -> float:
    status, text = get(port, "/metrics")
    for line in text.splitlines() if status == 200 else []:
        if line.startswith('driftwarden_files_total{outcome="processed"}'):
            return float(line.rpartition(" ")[2])
    return 0.0


def pending(port: int) -> float:
    status, text = get(port, "/metrics")
    for line in text.splitlines() if status == 200 else []:
        if line.startswith("driftwarden_mlflow_pending_writes"):
            return float(line.rpartition(" ")[2])
    return 0.0


class Run:
    """One ``driftwarden run`` of the config; its log is kept per start."""

    def __init__(
        self, config: Path, port: int, log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.port = port
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "driftwarden.cli", "run", "--config", str(config)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.ready = wait_ready(port, self.process, self.started)
        # CPU the process used until ready: the wall time on a quiet machine (this one is
        # shared, and a start waits its turn for the cores).
        self.cpu = proc_cpu_seconds(self.process.pid)

    def how(self) -> tuple[str, float]:
        """How the reference was had ("prepared" / "stored") and the daemon's own seconds."""
        deadline = time.monotonic() + 10
        while not (found := events(self.log, "reference_loaded")) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not found:
            return "?", float("nan")
        return str(found[-1]["how"]), float(str(found[-1]["seconds"]))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()


def tree_cpu_seconds(pid: int) -> float:
    total = proc_cpu_seconds(pid)
    for kid in children(pid):
        try:
            total += proc_cpu_seconds(kid)
        except OSError:
            continue
    return total


def idle_usage(pid: int, seconds: float) -> tuple[float, list[int], list[int], dict[str, int]]:
    """CPU share of one core (the daemon and its children), and samples every second of the
    daemon's VmRSS and of the whole tree's (the MLflow writer child stops after a minute
    without a write)."""
    w0, c0 = time.perf_counter(), tree_cpu_seconds(pid)
    rss: list[int] = []
    tree: list[int] = []
    while time.perf_counter() - w0 < seconds:
        rss.append(proc_memory_kib(pid)["VmRSS"])
        tree.append(tree_rss_kib(pid)[0])
        time.sleep(1.0)
    w1, c1 = time.perf_counter(), tree_cpu_seconds(pid)
    return (c1 - c0) / (w1 - w0), rss, tree, proc_memory_kib(pid)


def baseline_rss_mib(imports: str = BASELINE_IMPORTS) -> float:
    """RSS of a bare interpreter that imports what checking a file needs (VmRSS: a child's
    ru_maxrss starts from the parent's RSS at fork, which exec does not reset)."""
    code = (
        f"{imports}; print([l for l in open('/proc/self/status') if l.startswith('VmRSS')]"
        "[0].split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--columns", type=int, default=25)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--files", type=int, default=5, help="drops checked before idling")
    parser.add_argument("--drop-rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="footprint-bench-"))
    runs: list[Run] = []
    try:
        t = time.perf_counter()
        reference = root / "reference.parquet"
        write_reference(reference, args.rows, args.columns)
        size = reference.stat().st_size / 2**20
        print(f"wrote the reference ({args.rows:,} x {args.columns}, {size:,.0f} MiB) in "
              f"{time.perf_counter() - t:.1f} s", flush=True)  # fmt: skip
        port = free_port()
        config = write_config(root, port, reference, log='level = "INFO"\nformat = "json"')

        first = Run(config, port, root / "first.log")
        runs.append(first)
        first_how, first_seconds = first.how()
        first_rss = proc_memory_kib(first.process.pid)
        first.stop()
        print(f"first start ready in {first.ready:.2f} s ({first_how})", flush=True)
        # The reference and the store just written (4 GB at the defaults) are still being
        # written out: let the disk finish, so that the restart does not wait for the
        # benchmark's own writes.
        t = time.perf_counter()
        os.sync()
        print(f"synced the disk in {time.perf_counter() - t:.1f} s", flush=True)

        again = Run(config, port, root / "restart.log")
        runs.append(again)
        again_how, again_seconds = again.how()
        again_rss = proc_memory_kib(again.process.pid)
        print(f"restart ready in {again.ready:.2f} s ({again_how})", flush=True)

        drop = root / "drop"
        for i in range(args.files):
            write_drop(drop / f"drop_{i:03d}.parquet", args.drop_rows, args.columns, seed=100 + i)
            while processed(port) < i + 1:
                if again.process.poll() is not None:
                    raise SystemExit("the daemon exited while checking the drops")
                time.sleep(0.05)
        deadline = time.monotonic() + 300
        while pending(port) > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2.0)  # the worker's and the flusher's idle turn
        # At rest means after the MLflow writer child stopped (a minute without a write).
        lingering, waited = [], time.perf_counter()
        while children(again.process.pid) and time.perf_counter() - waited < 300:
            lingering.append(tree_rss_kib(again.process.pid)[0])
            time.sleep(1.0)
        waited = time.perf_counter() - waited
        share, rss, tree, memory = idle_usage(again.process.pid, args.idle_seconds)
        end_tree, end_children = tree_rss_kib(again.process.pid)
        baseline = baseline_rss_mib()
        with_mlflow = baseline_rss_mib(BASELINE_IMPORTS + MLFLOW_IMPORTS)
        load = os.getloadavg()

        print()
        print(
            f"reference {args.rows:,} rows x {args.columns} float64 columns (Parquet, "
            f"{size:,.0f} MiB; prepared store {du(root / 'state' / 'prepared'):,.0f} MiB); "
            f"{args.files} drops of {args.drop_rows:,} rows checked before the idle spell"
        )
        print(f"machine: {os.cpu_count()} CPUs, shared (load average now {load[0]:.2f})")
        print()
        print(f"{'start -> /readyz 200':50}{'wall s':>8}{'ratio':>7}{'CPU s':>7}  how (event)")
        print(f"{'first start (baseline: prepares the reference)':50}{first.ready:8.2f}"
              f"{1.0:7.2f}{first.cpu:7.2f}  {first_how}, {first_seconds:.2f} s in daemon")  # fmt: skip
        print(f"{'restart (the stored preparation mapped)':50}{again.ready:8.2f}"
              f"{again.ready / first.ready:7.3f}{again.cpu:7.2f}  "
              f"{again_how}, {again_seconds:.3f} s in daemon")  # fmt: skip
        print()
        print(f"{'memory (MiB)':58}{'RSS':>9}{'anon':>8}{'file':>8}")
        for label, mem in (
            ("first start, just ready", first_rss),
            ("restart, just ready", again_rss),
            (f"idle after the drops, mean over {args.idle_seconds:.0f} s", None),
            ("idle after the drops, at the end", memory),
        ):
            if mem is None:
                print(f"{label:58}{statistics.mean(rss) / 1024:9.1f}")
                continue
            print(f"{label:58}{mem['VmRSS'] / 1024:9.1f}{mem['RssAnon'] / 1024:8.1f}"
                  f"{mem['RssFile'] / 1024:8.1f}")  # fmt: skip
        if lingering:
            print(f"{f'daemon + MLflow writer child until it stopped ({waited:.0f} s), mean':58}"
                  f"{statistics.mean(lingering) / 1024:9.1f}")  # fmt: skip
        print(f"{'idle, daemon + its children, mean':58}{statistics.mean(tree) / 1024:9.1f}")
        print(f"{'idle, daemon + its children, at the end':58}{end_tree / 1024:9.1f}"
              f"  ({end_children} child process(es) left)")  # fmt: skip
        print(f"{'baseline: python -c ' + repr(BASELINE_IMPORTS)[:36] + '...':58}{baseline:9.1f}")
        print(f"{'ratio idle RSS / baseline':58}{statistics.mean(rss) / 1024 / baseline:9.2f}")
        print(
            f"{'the same + mlflow and its sqlite store (the outbox writer)':58}{with_mlflow:9.1f}"
        )
        print(f"{'peak RSS of the restarted daemon (VmHWM)':58}{memory['VmHWM'] / 1024:9.1f}")
        print()
        print(
            f"idle CPU share over {args.idle_seconds:.0f} s (daemon + children): "
            f"{100 * share:.2f} % of one core"
        )
    finally:
        for run in runs:
            run.stop()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def du(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


if __name__ == "__main__":
    main()
