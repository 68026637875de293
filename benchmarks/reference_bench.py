"""References of any size: loading a stored preparation, and preparing one bigger than memory.

Part 1, restart with a big reference (default 10,000,000 rows x 25 columns: 20 numeric,
5 categorical): what a restart costs today (read the reference and prepare it in
memory) against loading the stored preparation (memory-mapped; ``quick``: manifest
digest and array headers checked, ``full``: every array's CRC-32 too), in fresh
processes, each also checking a 200,000-row batch; plus the first preparation into the
store (streamed from Parquet).

Part 2, a reference bigger than memory (default 100,000,000 rows x 10 columns: 8 numeric,
2 categorical): streamed into the store column by column and row group by row group,
with the peak RSS of that whole process; then every prepared column is compared, bit
for bit, with ``prepare_column`` of that column read whole (one column in memory at a
time), and a batch is checked against the stored reference.

Every step is its own child process; times and peak RSS (``ru_maxrss``) are that
process's. The Parquet files and the store are written under ``--dir`` (default: a
temporary directory in /tmp) and deleted at the end; part 2 needs about 11 GB of disk.
Run: ``.venv/bin/python benchmarks/reference_bench.py`` (``--load-rows 1000000
--stream-rows 10000000`` for a quick look, ``--skip-stream`` for part 1 only).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 1_000_000
BATCH_ROWS = 200_000


def write_reference(path: Path, rows: int, kind: str, seed: int = 0) -> None:
    """Write a reference row group by row group (never all in memory).

    ``wide``: 20 numeric + 5 categorical columns (as drift_bench); ``tall``: 4 continuous
    floats, 2 floats on a 0.001 grid, 2 integer columns, 2 categorical ones.
    """
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, rows, ROW_GROUP):
        n = min(ROW_GROUP, rows - start)
        columns = _columns(rng, n, kind)
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def _columns(rng: np.random.Generator, n: int, kind: str) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    if kind == "wide":
        for i in range(20):
            cols[f"num_{i}"] = rng.normal(i, 1 + i % 3, n)
        for i in range(5):
            names = np.array([f"c{i}_{j}" for j in range(4 + 6 * i)])
            cols[f"cat_{i}"] = pa.array(names[rng.integers(0, names.size, n)])
        return cols
    for i in range(4):
        cols[f"float_{i}"] = rng.normal(i, 1, n)
    for i in range(2):
        cols[f"grid_{i}"] = np.round(rng.normal(i, 1, n), 3)
    for i in range(2):
        cols[f"int_{i}"] = rng.poisson(3 + 10 * i, n)
    for i in range(2):
        names = np.array([f"k{i}_{j}" for j in range(10 + 20 * i)])
        cols[f"cat_{i}"] = pa.array(names[rng.integers(0, names.size, n)])
    return cols


def current_batch(rows: int, kind: str) -> Any:
    import pandas as pd

    frame = pd.DataFrame(_columns(np.random.default_rng(99), rows, kind))
    for name in frame.columns[:2]:
        if frame[name].dtype.kind == "f":
            frame[name] = frame[name] + 0.02
    return frame


# --- steps, each in its own process ---------------------------------------------------


def step_memory(args: argparse.Namespace) -> dict[str, Any]:
    """Today's restart: read the whole reference, prepare it in memory, check a batch."""
    started = time.perf_counter()
    from driftwarden.config.model import DriftConfig
    from driftwarden.data.read import read_frame
    from driftwarden.data.version import data_version
    from driftwarden.detectors import PreparedReference, check_drift

    imported = time.perf_counter()
    frame = read_frame(args.file)
    prepared = PreparedReference.from_frame(frame, DriftConfig(), None, data_version(frame))
    ready = time.perf_counter()
    batch = current_batch(BATCH_ROWS, args.kind)
    checking = time.perf_counter()
    result = check_drift(prepared, batch, DriftConfig())
    return {
        "imports": imported - started,
        "ready": ready - imported,
        "check": time.perf_counter() - checking,
        "result": result.to_dict(),
    }


def step_store(args: argparse.Namespace) -> dict[str, Any]:
    """Prepare into the store (streamed from Parquet) or load from it; then check a batch."""
    started = time.perf_counter()
    from driftwarden.config.model import DriftConfig
    from driftwarden.data.prepared_store import PreparedStore
    from driftwarden.data.reference_cache import load_or_prepare
    from driftwarden.detectors import check_drift

    imported = time.perf_counter()
    fetched = []

    def fetch() -> Path:
        fetched.append(True)
        return Path(args.file)

    store = PreparedStore(args.store)
    prepared = load_or_prepare(
        store, "bench", "bench-source", fetch, DriftConfig(), verify=args.verify
    )
    ready = time.perf_counter()
    out: dict[str, Any] = {"imports": imported - started, "ready": ready - imported}
    out["prepared_now"] = bool(fetched)
    if not args.no_check:
        batch = current_batch(BATCH_ROWS, args.kind)
        checking = time.perf_counter()
        result = check_drift(prepared, batch, DriftConfig())
        out["check"] = time.perf_counter() - checking
        out["result"] = result.to_dict()
    return out


def step_compare(args: argparse.Namespace) -> dict[str, Any]:
    """Each stored column against ``prepare_column`` of the column read whole, bit for bit."""
    from driftwarden.config.model import DriftConfig
    from driftwarden.data.parquet_columns import ParquetColumns
    from driftwarden.data.prepared_store import PreparedStore
    from driftwarden.data.reference_cache import reference_fingerprint
    from driftwarden.detectors.drift import _test_one
    from driftwarden.detectors.prepared import prepare_column

    cfg = DriftConfig()
    store = PreparedStore(args.store)
    fingerprint = reference_fingerprint(cfg, None, "bench-source")
    outline = store.load("bench", fingerprint, verify="quick")
    assert outline is not None, "the store should hold the reference"
    source = ParquetColumns(args.file)
    batch = current_batch(BATCH_ROWS, args.kind)
    compared, differing = 0, []
    for name in outline.tested:
        whole = prepare_column(source.read(name), outline.profiles[name].numeric)
        # Loaded afresh for each column and dropped after: the maps of the columns already
        # compared are released, so their pages stop counting in this process's RSS.
        stored = store.load("bench", fingerprint, verify="quick")
        assert stored is not None
        mine = stored.column(name)
        for field in dataclasses.fields(whole):
            a, b = getattr(whole, field.name), getattr(mine, field.name)
            same = np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
            if not same:
                differing.append(f"{name}.{field.name}")
        in_memory = _test_one(_Single(whole, stored), name, batch[name], cfg)
        streamed = _test_one(stored, name, batch[name], cfg)
        if dataclasses.asdict(in_memory) != dataclasses.asdict(streamed):
            differing.append(f"{name} result")
        compared += 1
        del whole, mine, stored
    return {"columns": compared, "differing": differing}


class _Single:
    """A prepared reference that answers one column from memory (for step_compare)."""

    def __init__(self, column: Any, like: Any) -> None:
        self._column = column
        self.profiles = like.profiles

    def column(self, name: str) -> Any:
        return self._column


STEPS = {"memory": step_memory, "store": step_store, "compare": step_compare}


# --- driver ---------------------------------------------------------------------------


def _run(step: str, args: list[str]) -> dict[str, Any]:
    """One step in a fresh process: its report, wall time and peak RSS (MiB)."""
    command = [sys.executable, __file__, "--step", step, *args]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"step {step} failed: {err[-3000:]}")
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    report["wall"] = wall
    report["rss_mib"] = usage.ru_maxrss / 1024
    return report


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**30


def _row(name: str, seconds: list[float], rss: float | None, note: str = "") -> str:
    med = statistics.median(seconds)
    spread = f"{min(seconds):.2f}-{max(seconds):.2f}" if len(seconds) > 1 else ""
    shown = "" if rss is None else f"{rss:.0f}"
    return f"{name:58} {med:>8.3f} {spread:>12} {shown:>9}  {note}".rstrip()


HEADER = f"{'step (fresh process each)':58} {'median s':>8} {'min-max s':>12} {'peak MiB':>9}"


def part_load(work: Path, rows: int, repeat: int) -> None:
    file = work / "wide.parquet"
    store = work / "store-wide"
    started = time.perf_counter()
    write_reference(file, rows, "wide")
    print(
        f"\n== restart with a {rows:,}-row x 25-column reference "
        f"(Parquet {file.stat().st_size / 2**30:.2f} GiB, written in {time.perf_counter() - started:.0f} s)"
    )
    common = ["--file", str(file), "--kind", "wide"]
    first = _run("store", [*common, "--store", str(store), "--verify", "quick"])
    assert first["prepared_now"]
    print(f"store on disk: {_du(store):.2f} GiB")
    memory = [_run("memory", common) for _ in range(repeat)]
    quick = [
        _run("store", [*common, "--store", str(store), "--verify", "quick"]) for _ in range(repeat)
    ]
    full = [
        _run("store", [*common, "--store", str(store), "--verify", "full"]) for _ in range(repeat)
    ]
    assert not any(r["prepared_now"] for r in quick + full)
    same = all(r["result"] == memory[0]["result"] for r in memory + quick + full)
    print(HEADER)
    print(_row("first preparation into the store (streamed)", [first["ready"]], first["rss_mib"]))
    today = [r["ready"] for r in memory]
    print(
        _row(
            "today: read_frame + from_frame (to ready)",
            today,
            max(r["rss_mib"] for r in memory),
            "1.0x",
        )
    )
    for label, runs in (("quick", quick), ("full", full)):
        ready = [r["ready"] for r in runs]
        ratio = statistics.median(today) / statistics.median(ready)
        rss = max(r["rss_mib"] for r in runs)
        print(
            _row(
                f"load stored preparation, verify={label} (to ready)",
                ready,
                rss,
                f"{ratio:.0f}x faster",
            )
        )
    for label, runs in (("today", memory), ("quick", quick), ("full", full)):
        starts = [r["imports"] + r["ready"] for r in runs]
        print(_row(f"  {label}: imports + ready (from process start)", starts, None))
        print(
            _row(
                f"  {label}: then check a {BATCH_ROWS:,}-row batch",
                [r["check"] for r in runs],
                None,
            )
        )
    print(f"results identical (in memory, quick, full): {same}")
    shutil.rmtree(store)
    file.unlink()


def part_stream(work: Path, rows: int) -> None:
    file = work / "tall.parquet"
    store = work / "store-tall"
    started = time.perf_counter()
    write_reference(file, rows, "tall")
    print(
        f"\n== a {rows:,}-row x 10-column reference streamed into the store "
        f"(Parquet {file.stat().st_size / 2**30:.2f} GiB, written in {time.perf_counter() - started:.0f} s)"
    )
    common = ["--file", str(file), "--kind", "tall", "--store", str(store)]
    prepare = _run("store", [*common, "--verify", "quick", "--no-check"])
    assert prepare["prepared_now"]
    size = _du(store)
    load = _run("store", [*common, "--verify", "quick"])
    compare = _run("compare", common)
    print(HEADER)
    print(
        _row(
            "stream-prepare into the store (whole process)",
            [prepare["wall"]],
            prepare["rss_mib"],
            "target: peak <= 4096 MiB",
        )
    )
    print(_row("load it (quick) + check a 200,000-row batch", [load["wall"]], load["rss_mib"]))
    print(
        _row(
            "compare every column with prepare_column(column read whole)",
            [compare["wall"]],
            compare["rss_mib"],
        )
    )
    print(
        f"store on disk: {size:.2f} GiB; columns compared: {compare['columns']}, "
        f"differing: {compare['differing'] or 'none'} (fields bit for bit, and each column's test result)"
    )
    shutil.rmtree(store)
    file.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--load-rows", type=int, default=10_000_000)
    parser.add_argument("--stream-rows", type=int, default=100_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where files go (default /tmp)")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-stream", action="store_true")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--verify", default="quick", help=argparse.SUPPRESS)
    parser.add_argument("--no-check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        report = STEPS[args.step](args)
        report["self_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(report, default=str))
        return
    print(
        f"cores: {os.cpu_count()}; memory: {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB"
    )
    print(f"load before: {_uptime()}")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="reference-bench-") as tmp:
        work = Path(tmp)
        free = shutil.disk_usage(work).free / 2**30
        need = (0 if args.skip_stream else args.stream_rows * 110e-9) + (
            0 if args.skip_load else args.load_rows * 400e-9
        )
        print(f"disk free under {work}: {free:.0f} GiB, this run needs about {need:.0f} GiB")
        if need > free - 5:
            raise SystemExit(
                "not enough free disk; pass --dir on a bigger file system or fewer rows"
            )
        if not args.skip_load:
            part_load(work, args.load_rows, args.repeat)
        if not args.skip_stream:
            part_stream(work, args.stream_rows)
    print(f"\nload after:  {_uptime()}")


if __name__ == "__main__":
    main()
