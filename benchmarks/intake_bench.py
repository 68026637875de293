"""What reading a drop costs: hostile headers, plain and compressed CSV, against pandas.

Rows, each timed in this process (best of N runs, so that other load on a shared machine
disturbs them less), with the baseline it is compared to measured in the same run:

- the duplicate-header check on 10,000 and 20,000 names: the one-pass check against the
  quadratic ``names.count(n)`` it replaced (kept here as the baseline; 40,000 names took
  27.9 s with it);
- a 100,000-column CSV header (about 1 MB) refused by ``read_frame(max_columns=1000)``
  from its header alone, against ``pandas.read_csv`` reading the same file;
- a 200,000-row, 10-column CSV read by ``read_frame`` (header first, then the body)
  against ``pandas.read_csv`` with the same options;
- the same rows as ``.csv.gz``: ``read_frame`` (a stream with an unpack cap) against
  ``pandas.read_csv`` with ``compression="gzip"``.

Run: ``.venv/bin/python benchmarks/intake_bench.py``.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftwarden.data.header import duplicate_names
from driftwarden.data.read import read_frame
from driftwarden.errors import InputFileError


def best(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def quadratic_duplicates(names: list[str]) -> list[str]:
    """The check ``read_frame`` used before (the baseline)."""
    return sorted({n for n in names if n and names.count(n) > 1})


def refused(path: Path) -> None:
    try:
        read_frame(path, max_columns=1000)
    except InputFileError:
        return
    raise AssertionError("the wide file was not refused")


def row(what: str, seconds: float, baseline: float, name: str) -> str:
    return f"| {what} | {seconds:.4f} | {baseline:.4f} ({name}) | {seconds / baseline:.3g} |"


def main() -> None:
    print(f"cores: {os.cpu_count()}, pandas {pd.__version__}")
    print("| step | driftwarden s | baseline s | ratio |")
    print("| --- | --- | --- | --- |")
    for n in (10_000, 20_000):
        names = [f"column_{i}" for i in range(n)]
        assert duplicate_names(names) == quadratic_duplicates(names) == []
        ours = best(lambda names=names: duplicate_names(names), 5)
        theirs = best(lambda names=names: quadratic_duplicates(names), 1)
        print(row(f"duplicate check, {n} names", ours, theirs, "names.count"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wide = root / "wide.csv"
        header = ",".join(f"c{i}" for i in range(100_000))
        wide.write_text(header + "\n" + ",".join(["1"] * 100_000) + "\n")
        ours = best(lambda: refused(wide), 5)
        theirs = best(lambda: pd.read_csv(wide), 1)
        size = wide.stat().st_size / 1e6
        print(row(f"100,000-column CSV ({size:.1f} MB) refused", ours, theirs, "pandas reads it"))

        rng = np.random.default_rng(0)
        frame = pd.DataFrame({f"x{i}": rng.normal(size=200_000).round(5) for i in range(10)})
        plain = root / "rows.csv"
        frame.to_csv(plain, index=False)
        ours = best(lambda: read_frame(plain), 3)
        theirs = best(lambda: pd.read_csv(plain, encoding="utf-8", low_memory=False), 3)
        print(row("200,000 x 10 CSV read", ours, theirs, "pandas on the path"))
        packed = root / "rows.csv.gz"
        packed.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=6))
        ours = best(lambda: read_frame(packed, max_unpacked_bytes=1 << 30), 3)
        theirs = best(lambda: pd.read_csv(packed, compression="gzip", low_memory=False), 3)
        print(row("the same as .csv.gz", ours, theirs, "pandas gzip"))


if __name__ == "__main__":
    main()
