"""How fast the running daemon turns a dropped file into its verdict, and how fast a burst drains.

Starts ``driftwarden run`` as a subprocess on a temp dir with a 100,000-row reference
(8 numeric + 2 categorical columns). Every file is written beforehand under a hidden temp
name in the drop directory (which the daemon ignores) and renamed into place (atomic).

Latency: files of 100,000 rows dropped one at a time; the clock runs from the rename to
``driftwarden_files_total{outcome="processed"}`` on ``/metrics`` counting it: the daemon
counts a file before it moves it to ``processed/``, so the benchmark watches for the file
there (stat every 5 ms, nothing asked of the daemon) and confirms with one scrape. Every other file has one column moved by 0.5 sd, so both verdicts are exercised.
The daemon does its whole job per file: hash, ledger claim, read, admission, drift check,
outbox entry, ledger record, metrics, alert rules, move; then, after the verdict, the HTML
report and (its outbox writer thread) the MLflow run. A (``--files``): back to back, the
next drop as soon as the last is counted, so the daemon's outbox writer is logging earlier
checks to its sqlite MLflow store (same process, same GIL) while the next check runs.
B (``--quiet-files``): each drop once the outbox is empty.

Baseline, in this process on the same files afterwards: ``read_frame`` + ``check_drift``
against a ``PreparedReference`` built once (the least a hand-written loop has to do).

Burst: ``--burst`` files of ``--burst-rows`` rows renamed into the drop directory at once;
the drain rate is the count over the seconds from the first rename to ``/metrics`` counting
the last one. After the daemon stops, the ledger confirms every burst file was recorded
exactly once (one ``done`` row per name, nothing else). Baseline: the same files read and
checked one after another in this process (the files/s a loop without a daemon gets).

The idle daemon's CPU and memory, and its start-up, are measured by
``benchmarks/footprint_bench.py`` (not here).

Run: ``.venv/bin/python benchmarks/daemon_bench.py [--files 30] [--quiet-files 10]
[--burst 500]`` (about 3 minutes on 2 shared cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from driftwarden.config.model import DriftConfig
from driftwarden.data.read import read_frame
from driftwarden.detectors import PreparedReference, check_drift

NUMERIC = [f"num_{i}" for i in range(8)]
CATEGORICAL = ["region", "plan"]
SETTLE_SECONDS = 0.1
# The benchmark watches the processed directory (stat calls in its own process, free for
# the daemon) this often, and confirms each result with one scrape of /metrics. Polling
# /metrics itself every 20 ms cost the daemon a quarter of a core (a scrape is about 5 ms
# of its CPU, in Python under its GIL): far more than Prometheus's one scrape per 15 s.
POLL_SECONDS = 0.005


def make_frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Rows of one fixed distribution; ``shift`` moves num_0 by that many sd."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i, name in enumerate(NUMERIC):
        data[name] = rng.normal(10.0 * i, 1.0 + i, rows).round(4)
    data["num_0"] = (rng.normal(shift, 1.0, rows)).round(4)
    data["region"] = rng.choice(["north", "south", "east", "west"], rows, p=[0.4, 0.3, 0.2, 0.1])
    data["plan"] = rng.choice(["free", "pro", "team"], rows, p=[0.6, 0.3, 0.1])
    return pd.DataFrame(data)


def write_drop(frame: pd.DataFrame, path: Path) -> None:
    """CSV through pyarrow (several times faster than ``DataFrame.to_csv``; reads back equal)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    root: Path,
    port: int,
    reference: Path | None = None,
    log: str = 'level = "WARNING"',
    model: str | None = None,
) -> Path:
    """The benchmark daemon's config (also the footprint benches'): ``reference`` defaults to
    ``root/reference.csv``; ``log`` is the body of its ``[logging]`` table; ``model``, TOML
    that replaces the model and its reference file (a registered model: the registry poll
    then runs)."""
    drop, state = root / "drop", root / "state"
    drop.mkdir(exist_ok=True)
    reference = root / "reference.csv" if reference is None else reference
    if model is None:
        model = f"""
[model]
name = "bench-model"
target = "target"

[reference]
source = "file"
path = "{reference}"

[schedule.registry_poll]
enabled = false
"""
    text = f"""{model}
[watch]
paths = ["{drop}"]
settle_seconds = {SETTLE_SECONDS}
rescan_interval_seconds = 60.0

[schedule.drift]
enabled = false

[schedule.validation]
enabled = false

[alerts]
sinks = ["log"]

[metrics]
port = {port}

[state]
directory = "{state}"

[logging]
{log}
"""
    path = root / "driftwarden.toml"
    path.write_text(text, encoding="utf-8")
    return path


def scrape(port: int) -> dict[str, float]:
    """The few unlabelled-or-simple samples this benchmark reads, by their exact line prefix."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("driftwarden_"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


PROCESSED = 'driftwarden_files_total{outcome="processed"}'
PENDING = "driftwarden_mlflow_pending_writes"
CHECK_SUM = 'driftwarden_check_duration_seconds_sum{kind="drift"}'
CHECK_COUNT = 'driftwarden_check_duration_seconds_count{kind="drift"}'
DRIFT_VERDICTS = 'driftwarden_checks_total{kind="drift",model="bench-model",outcome="drift"}'


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"daemon exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("daemon not ready in time")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def wait_flushed(port: int, timeout: float = 120.0) -> float:
    """Wait until the outbox is empty; returns what is left (0 unless timed out)."""
    deadline = time.monotonic() + timeout
    while (left := scrape(port).get(PENDING, 0.0)) > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def staged(drop: Path, name: str) -> Path:
    """The hidden temp name a file is written under (ignored by the daemon until renamed)."""
    return drop / f".{name}.tmp"


def drop_and_wait(
    port: int, process: subprocess.Popen[bytes], drop: Path, name: str, count: int
) -> float:
    """Rename the staged file to ``name``; seconds until /metrics counts ``count`` processed files.

    The daemon counts a file on /metrics before it moves it to ``processed/``: the clock
    stops when the file is there, and one scrape confirms the count.
    """
    landed = time.perf_counter()
    os.replace(staged(drop, name), drop / name)
    moved = drop / "processed" / name
    deadline = time.monotonic() + 120
    while not moved.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit(f"{name} not processed (see the daemon log)")
        time.sleep(POLL_SECONDS)
    took = time.perf_counter() - landed
    if scrape(port).get(PROCESSED, 0.0) < count:
        raise SystemExit(f"{name} was moved before /metrics counted it")
    return took


def baseline_times(root: Path, names: list[str]) -> list[float]:
    """read_frame + check_drift in this process, against a reference prepared once."""
    cfg = DriftConfig()
    prepared = PreparedReference.from_frame(read_frame(root / "reference.csv"), cfg)
    out = []
    for name in names:
        t0 = time.perf_counter()
        check_drift(prepared, read_frame(root / "drop" / "processed" / name), cfg)
        out.append(time.perf_counter() - t0)
    return out


def row(label: str, values: list[float], fmt: str = "9.3f") -> str:
    if not values:
        return f"{label:<62} {'-':>9} {'-':>9} {0:>6}"
    return (
        f"{label:<62} {statistics.median(values):>{fmt}} {percentile(values, 95):>{fmt}}"
        f" {len(values):>6}"
    )


def burst(port: int, process: subprocess.Popen[bytes], drop: Path, names: list[str]) -> float:
    """Rename every staged burst file into place at once; seconds until /metrics counts all
    (the last one moved to ``processed/``, then one scrape to confirm)."""
    before = scrape(port).get(PROCESSED, 0.0)
    started = time.perf_counter()
    for name in names:
        os.replace(staged(drop, name), drop / name)
    wanted, moved = set(names), drop / "processed"
    deadline = time.monotonic() + 600
    while len(wanted.intersection(os.listdir(moved))) < len(wanted):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("the burst was not drained (see the daemon log)")
        time.sleep(POLL_SECONDS * 10)
    took = time.perf_counter() - started
    if scrape(port).get(PROCESSED, 0.0) < before + len(names):
        raise SystemExit("the burst was moved before /metrics counted it")
    return took


def recorded_once(config: Path, names: list[str]) -> tuple[int, int]:
    """(burst files with exactly one ``done`` ledger row, ledger rows of burst files)."""
    from collections import Counter

    from driftwarden.config import load_settings
    from driftwarden.state import open_ledger

    ledger = open_ledger(load_settings(config, env={}), readonly=True)
    try:
        rows = [r for r in ledger.files() if Path(r["path"]).name in set(names)]
    finally:
        ledger.close()
    done = Counter(Path(r["path"]).name for r in rows if r["status"] == "done")
    return sum(1 for name in names if done[name] == 1), len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=30, help="back-to-back drops")
    parser.add_argument("--quiet-files", type=int, default=10, help="drops after a flush")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=500, help="files renamed in at once")
    parser.add_argument("--burst-rows", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="dw-daemon-bench-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        started = time.monotonic()
        port = free_port()
        config = write_config(root, port)
        drop = root / "drop"
        write_drop(make_frame(args.reference_rows, seed=0), root / "reference.csv")
        names = [f"batch-{i:03d}.csv" for i in range(args.files + args.quiet_files)]
        for i, name in enumerate(names):
            shift = 0.5 if i % 2 else 0.0
            write_drop(make_frame(args.rows, seed=1000 + i, shift=shift), staged(drop, name))
        bursts = [f"burst-{i:04d}.csv" for i in range(args.burst)]
        for i, name in enumerate(bursts):
            write_drop(make_frame(args.burst_rows, seed=5000 + i), staged(drop, name))
        print(f"generated the reference + {len(names) + len(bursts)} files", end=" ")
        print(f"in {time.monotonic() - started:.1f} s", flush=True)

        with (root / "daemon.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "driftwarden.cli", "run", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        t0 = time.monotonic()
        wait_ready(port, process)
        print(f"daemon ready in {time.monotonic() - t0:.1f} s (pid {process.pid})", flush=True)

        # A: back to back (the next drop as soon as the last one shows on /metrics), so the
        # daemon's MLflow writer is logging earlier checks while the next one runs.
        back_to_back = [
            drop_and_wait(port, process, drop, name, i + 1)
            for i, name in enumerate(names[: args.files])
        ]
        # B: each drop once the outbox is empty (nothing else running in the daemon).
        quiet = []
        for i, name in enumerate(names[args.files :], start=args.files):
            wait_flushed(port)
            quiet.append(drop_and_wait(port, process, drop, name, i + 1))
        samples = scrape(port)
        in_daemon_check = samples.get(CHECK_SUM, 0.0) / max(1.0, samples.get(CHECK_COUNT, 0.0))
        verdicts = samples.get(DRIFT_VERDICTS, 0.0)
        print(f"dropped {len(names)} files; dataset drift found in {verdicts:.0f}", flush=True)
        load_latency = os.getloadavg()[0]

        wait_flushed(port, timeout=300)
        drain = burst(port, process, drop, bursts) if bursts else float("nan")
        load_burst = os.getloadavg()[0]
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        once, rows = recorded_once(config, bursts)

        base_burst = sum(baseline_times(root, bursts)) if bursts else float("nan")
        base_a = baseline_times(root, names[: args.files])
        base_b = baseline_times(root, names[args.files :])
        size_mb = (drop / "processed" / names[0]).stat().st_size / 1e6 if names else 0.0
        print()
        print(
            f"settings: {len(names)} files x {args.rows:,} rows ({len(NUMERIC)} numeric + "
            f"{len(CATEGORICAL)} categorical columns, CSV ~{size_mb:.1f} MB each, every other "
            f"one shifted), reference {args.reference_rows:,} rows; each file written "
            "beforehand under a hidden temp name in the drop dir and renamed into place; "
            f"processed/ watched every {POLL_SECONDS * 1000:.0f} ms, each count confirmed by "
            "one /metrics scrape; default [drift] config; "
            "sinks=[log]; MLflow = the embedded sqlite store (outbox flushed by the daemon)"
        )
        print(
            f"machine: {os.cpu_count()} CPUs, shared (1-min load average {load_latency:.2f} "
            f"after the latency runs, {load_burst:.2f} after the burst)"
        )
        print()
        print(f"{'seconds per file':<62} {'median':>9} {'p95':>9} {'files':>6}")
        print(row("A daemon, back to back: renamed in -> counted on /metrics", back_to_back))
        print(row("B daemon, after the outbox flushed: renamed in -> on /metrics", quiet))
        print(row("baseline in-process: read_frame + check_drift (A files)", base_a))
        print(row("baseline in-process: read_frame + check_drift (B files)", base_b))
        ratio_a = [d / b for d, b in zip(back_to_back, base_a, strict=True)]
        ratio_b = [d / b for d, b in zip(quiet, base_b, strict=True)]
        print(row("ratio A / baseline (per file)", ratio_a, "9.2f"))
        print(row("ratio B / baseline (per file)", ratio_b, "9.2f"))
        print(f"{'in-daemon drift check (histogram mean)':<62} {in_daemon_check:>9.3f}")
        slowest = sorted(enumerate(back_to_back, start=1), key=lambda t: -t[1])[:3]
        print("A's slowest files (drop number: seconds): " + ", ".join(
            f"{i}: {t:.3f}" for i, t in slowest))  # fmt: skip
        print()
        if bursts:
            print(
                f"burst: {len(bursts)} files x {args.burst_rows:,} rows renamed in at once: "
                f"drained in {drain:.1f} s = {len(bursts) / drain:.1f} files/s; ledger: "
                f"{once}/{len(bursts)} recorded exactly once ({rows} rows for them)"
            )
            print(
                f"burst baseline in-process (read_frame + check_drift, one after another): "
                f"{len(bursts) / base_burst:.1f} files/s; daemon / baseline "
                f"{base_burst / drain:.2f}"
            )
        print(f"total benchmark time: {time.monotonic() - started:.0f} s")
        return 0 if once == len(bursts) and rows == len(bursts) else 1
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
