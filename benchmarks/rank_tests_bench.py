"""Speed of the numeric drift tests on a prepared reference, against scipy's own functions.

For each size, one column: the reference is sorted once (and fenced, as
``PreparedReference`` does); a check sorts the batch and runs the test. The baseline is
the scipy call a user would write on the raw arrays (``ks_2samp``, ``anderson_ksamp``,
``cramervonmises_2samp``), measured in the same run. Continuous data (no ties) and data
rounded to 2 decimals (heavy ties). Median of several repeats.

    .venv/bin/python benchmarks/rank_tests_bench.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
from scipy.stats import anderson_ksamp, cramervonmises_2samp, ks_2samp

from driftwarden.detectors.ad import ad_sorted
from driftwarden.detectors.cvm import cvm_sorted
from driftwarden.detectors.ks import ks_sorted, make_fence

SIZES = ((20_000, 500), (100_000, 5_000), (1_000_000, 10_000), (1_000_000, 200_000))


def _median_time(func: Callable[[], object], repeats: int) -> float:
    func()  # warm caches (and anderson_ksamp's lru-cached sums in ours)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


Calls = dict[str, Callable[[], object]]


def _calls(ref: np.ndarray, cur: np.ndarray) -> tuple[Calls, Calls]:
    """(ours on the prepared reference, scipy's on the raw arrays), by test name."""
    ref_sorted = np.sort(ref)
    fence = make_fence(ref_sorted)
    ours: Calls = {
        "ks": lambda: ks_sorted(ref_sorted, np.sort(cur), fence),
        "ad": lambda: ad_sorted(ref_sorted, np.sort(cur)),
        "cvm": lambda: cvm_sorted(ref_sorted, np.sort(cur)),
    }
    theirs: Calls = {
        "ks": lambda: ks_2samp(ref, cur),
        "ad": lambda: anderson_ksamp([ref, cur], variant="midrank"),
        "cvm": lambda: cramervonmises_2samp(ref, cur),
    }
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    print(f"{os.cpu_count()} cores; one column; median of {args.repeats} repeats\n")
    header = f"{'data':9} {'reference':>10} {'batch':>8} {'test':5} {'ours ms':>9} {'scipy ms':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for data in ("continuous", "ties"):
        for n, m in SIZES:
            ref, cur = rng.normal(size=n), rng.normal(0.02, size=m)
            if data == "ties":
                ref, cur = np.round(ref, 2), np.round(cur, 2)
            ours, theirs = _calls(ref, cur)
            for test in ours:
                mine = _median_time(ours[test], args.repeats)
                base = _median_time(theirs[test], max(1, args.repeats // 2))
                print(
                    f"{data:9} {n:>10,} {m:>8,} {test:5} {1000 * mine:>9.1f} {1000 * base:>9.1f} "
                    f"{base / mine:>6.1f}x"
                )


if __name__ == "__main__":
    main()
