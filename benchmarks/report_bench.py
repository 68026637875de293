"""How long the HTML drift report takes to render, against the check it reports on.

The daemon renders a report for every check, so its time is measured against the check's
own time in the same run (the baseline): the target is a render well under the check.

Data: ``drift_bench``'s 25 columns (20 numeric, 5 categorical), a 1,000,000-row reference
and a 200,000-row batch; then 2,000 numeric columns (40 of them shifted), a 5,000-row
reference and a 2,000-row batch. The report is rendered from the reference frame (what the
daemon passes today) and from the ``PreparedReference`` the check used (its columns are
already sorted). Times are the best of 3 runs (the check: 5, 2 for 2,000 columns), so that other load on a
shared machine disturbs them less. Run: ``.venv/bin/python benchmarks/report_bench.py``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from drift_bench import make_frame

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import PreparedReference, check_drift
from driftwarden.detectors.report import render_html


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    return min(times), value


def measure(
    name: str, reference: pd.DataFrame, current: pd.DataFrame, check_runs: int
) -> list[str]:
    cfg = DriftConfig()
    prepared = PreparedReference.from_frame(reference, cfg)
    check_s, result = timed(lambda: check_drift(prepared, current, cfg), check_runs)
    frame_s, page = timed(lambda: render_html(result, reference, current), 3)
    prepared_s, _ = timed(lambda: render_html(result, prepared, current), 3)
    charts = page.count("<svg")
    rows = [
        f"{name}: {len(result.features):,} features, {len(result.drifted_features)} drifted, "
        f"{charts} charts, page {len(page) / 1024:,.0f} KiB",
        f"  {'step (best of 3-5 runs)':44} {'time s':>8} {'vs check':>9}",
        f"  {'check, prepared reference (baseline)':44} {check_s:>8.3f} {1.0:>8.2f}x",
        f"  {'render, reference frame':44} {frame_s:>8.3f} {frame_s / check_s:>8.2f}x",
        f"  {'render, prepared reference':44} {prepared_s:>8.3f} {prepared_s / check_s:>8.2f}x",
    ]
    return rows


def wide_frames(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    columns = [f"f{i:04d}" for i in range(2_000)]
    reference = pd.DataFrame(rng.normal(size=(5_000, len(columns))), columns=columns)
    batch = rng.normal(size=(2_000, len(columns)))
    batch[:, :40] += 0.5
    return reference, pd.DataFrame(batch, columns=columns)


def main() -> None:
    rng = np.random.default_rng(7)
    print(f"cores: {os.cpu_count()}")
    lines = measure(
        "25 columns, 1,000,000-row reference, 200,000-row batch",
        make_frame(1_000_000, rng, shifted=False),
        make_frame(200_000, rng, shifted=True),
        check_runs=5,
    )
    print("\n".join(lines))
    reference, current = wide_frames(rng)
    wide = measure("2,000 columns, 5,000-row reference, 2,000-row batch", reference, current, 2)
    print("\n".join(wide))
    print("target: render (prepared reference) well under the check's own time")


if __name__ == "__main__":
    main()
