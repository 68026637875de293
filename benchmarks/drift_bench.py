"""Speed, memory and agreement of driftwarden's drift check against the plain scipy loop.

The loop is what driftwarden replaces: per column ``scipy.stats.ks_2samp`` (numeric) or
``chi2_contingency`` of the two count rows (categorical). Every step runs in its own
child process that reads the same Parquet files and then repeats its computation, so
each reports the median compute time of its repetitions and the peak RSS of its whole
process (``ru_maxrss``: interpreter, imports, frames and computation).

Data: a 1,000,000-row reference and a 200,000-row current batch with 20 numeric columns
(normal, lognormal, uniform, integer-valued with many ties; one with 1% NaN) and 5
categorical ones; 5 columns are shifted in the current batch.

Steps: the scipy loop (the baseline; its frames read by ``read_frame`` as every other
step's, so peak RSS differences are the computation's); the sorting floor (one ``np.sort``
of each numeric column of the batch on the check's thread pool: what any warm check must
do at least); driftwarden's one-shot check
(prepares the reference in the same call; what ``driftwarden check`` computes);
preparing the reference once; a warm check against the reference prepared in the same
process (which then holds the reference frame and its sorted copy); a warm check against
the reference loaded from the prepared store (what a restarted daemon holds: no
reference frame, the sorted values memory-mapped); each also on one thread (the
scheduling before this round); and the whole ``driftwarden check`` command as a process
(reading, hashing the data versions, checking, printing) against the seed's script as a
process (``pd.read_parquet`` of both files, then the loop). ``--before REV`` adds the
same steps for the code of another git revision (e.g. ``--before main``), measured in
the same run.

Run: ``.venv/bin/python benchmarks/drift_bench.py`` (``--repeat 7`` for steadier
medians, ``--rows 200000 --batch 40000`` for a quick look). The machine's load
(``uptime``) is printed before and after: on a shared machine, rerun when it is quiet.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from revision import export_src

N_REFERENCE, N_CURRENT = 1_000_000, 200_000
SHIFTED = {
    "normal_0": "+0.05 sd",
    "lognormal_0": "scale x1.05",
    "uniform_0": "upper end +2%",
    "ties_0": "poisson 3.0 -> 3.1",
    "cat_0": "one category +3 points",
}
TARGETS = (
    "targets: warm check >= 45x the loop, one-shot >= 8x, peak RSS of the one-shot and warm "
    "processes <= the loop's, D identical and p within 1e-10 of scipy"
)


def make_frame(rows: int, rng: np.random.Generator, shifted: bool) -> pd.DataFrame:
    """20 numeric + 5 categorical columns; with ``shifted`` the SHIFTED columns move a little."""
    cols: dict[str, Any] = {}
    for i in range(6):
        cols[f"normal_{i}"] = rng.normal(10 * i, 1 + i, rows)
    for i in range(5):
        cols[f"lognormal_{i}"] = rng.lognormal(0, 0.5 + 0.2 * i, rows)
    for i in range(5):
        cols[f"uniform_{i}"] = rng.uniform(-i, i + 1, rows)
    for i in range(4):
        cols[f"ties_{i}"] = rng.poisson(3 + 5 * i, rows).astype(np.int64)
    for i in range(5):
        k = 4 + 6 * i
        names = np.array([f"c{i}_{j}" for j in range(k)], dtype=object)
        p = np.linspace(1, 3, k)
        p /= p.sum()
        if shifted and i == 0:
            p[0] += 0.03
            p /= p.sum()
        cols[f"cat_{i}"] = names[rng.choice(k, size=rows, p=p)]
    if shifted:
        cols["normal_0"] = cols["normal_0"] + 0.05
        cols["lognormal_0"] = cols["lognormal_0"] * 1.05
        cols["uniform_0"] = rng.uniform(0, 1.02, rows)
        cols["ties_0"] = rng.poisson(3.1, rows).astype(np.int64)
    frame = pd.DataFrame(cols)
    frame.loc[rng.random(rows) < 0.01, "normal_5"] = np.nan
    return frame


def scipy_loop(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, list[float]]:
    """The hand-written loop driftwarden replaces: {column: [statistic, p-value]}."""
    from scipy.stats import chi2_contingency, ks_2samp

    out = {}
    for column in reference.columns:
        ref, cur = reference[column].dropna(), current[column].dropna()
        if pd.api.types.is_numeric_dtype(ref.dtype):
            result = ks_2samp(ref.to_numpy(), cur.to_numpy())
        else:
            cats = sorted(set(ref.unique()) | set(cur.unique()))
            table = np.array(
                [
                    ref.value_counts().reindex(cats, fill_value=0).to_numpy(),
                    cur.value_counts().reindex(cats, fill_value=0).to_numpy(),
                ]
            )
            result = chi2_contingency(table)
        out[column] = [float(result.statistic), float(result.pvalue)]
    return out


# --- one step, in a child process ----------------------------------------------------


def _features(result: Any) -> dict[str, list[float | None]]:
    return {f.feature: [f.statistic, f.p_value] for f in result.features}


def run_step(step: str, ref_path: str, cur_path: str, repeat: int, store: str) -> dict[str, Any]:
    """Read the files, repeat the step's computation, report times, peak RSS and results."""
    import inspect

    from driftwarden.config.model import DriftConfig
    from driftwarden.data.read import read_frame
    from driftwarden.detectors import PreparedReference, check_drift, check_frames

    current = read_frame(cur_path)
    # A restarted daemon has the store, not the reference frame: that step never reads it.
    reference = None if step.startswith(("check_stored", "sort_floor")) else read_frame(ref_path)
    cfg = DriftConfig()
    threaded = "workers" in inspect.signature(check_drift).parameters
    one = {"workers": 1} if threaded else {}
    if step.endswith("_1thread") and not threaded:
        return {"skipped": "this revision has no thread pool"}
    if step.startswith(("store", "check_stored", "sort_floor")) and not threaded:
        return {"skipped": "this revision has no prepared store"}
    if step == "store":  # not measured: writes the prepared reference for check_stored
        from driftwarden.data.prepared_store import PreparedStore

        prepared = PreparedReference.from_frame(reference, cfg)
        PreparedStore(store).save("bench", prepared, {"bench": True})
        return {"skipped": "setup"}
    kwargs = one if step.endswith("_1thread") else {}
    work: Callable[[], Any]
    if step == "loop":
        work = lambda: scipy_loop(reference, current)  # noqa: E731
    elif step.startswith("one_shot"):
        work = lambda: _features(check_frames(reference, current, cfg, **kwargs))  # noqa: E731
    elif step.startswith("prepare"):
        work = lambda: PreparedReference.from_frame(reference, cfg, **kwargs) and None  # noqa: E731
    elif step.startswith("sort_floor"):
        from driftwarden.detectors.base import clean_numeric
        from driftwarden.detectors.columns_pool import map_columns

        numeric = [c for c in current.columns if pd.api.types.is_numeric_dtype(current[c].dtype)]
        values = [clean_numeric(current[c]).values for c in numeric]
        size = sum(v.size for v in values)
        work = lambda: map_columns(np.sort, values, values=size, **kwargs) and None  # noqa: E731
    elif step.startswith("check_stored"):
        from driftwarden.data.prepared_store import PreparedStore

        loaded = PreparedStore(store).load("bench", {"bench": True}, verify="quick")
        assert loaded is not None, "the store step should have written it"
        work = lambda: _features(check_drift(loaded, current, cfg, **kwargs))  # noqa: E731
    elif step.startswith("check"):
        prepared = PreparedReference.from_frame(reference, cfg)
        work = lambda: _features(check_drift(prepared, current, cfg, **kwargs))  # noqa: E731
    else:
        raise SystemExit(f"unknown step {step}")
    times, cpu, value = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = work()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)  # all threads: the work, not the wait
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"times": times, "cpu": cpu, "rss_mib": rss, "result": value}


# --- the driver -----------------------------------------------------------------------


def _child(args: list[str], env: dict[str, str]) -> str:
    """Run a step's process; its stdout (one JSON report)."""
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def _wall_and_rss(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """A whole process's wall time and peak RSS (from wait4, so nothing is measured inside)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{args} failed ({proc.returncode}): {err[-2000:]}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_maxrss / 1024


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _env(src: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


# The seed's script as a user writes it: pandas' own Parquet reader, then the loop.
LOOP_PROCESS = (
    "import sys; sys.path.insert(0, {bench!r}); import drift_bench as b; import pandas as pd; "
    "b.scipy_loop(pd.read_parquet({ref!r}), pd.read_parquet({cur!r}))"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=N_REFERENCE)
    parser.add_argument("--batch", type=int, default=N_CURRENT)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per step (median)")
    parser.add_argument("--processes", type=int, default=3, help="runs of each whole process")
    parser.add_argument("--before", help="also measure this git revision's code (e.g. main)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, *args.files, args.repeat, args.store)))
        return

    print(f"cores: {os.cpu_count()} (this process may use {len(os.sched_getaffinity(0))})")
    print(f"load before: {_uptime()}")
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(7)
        ref_path, cur_path = Path(tmp, "reference.parquet"), Path(tmp, "current.parquet")
        make_frame(args.rows, rng, shifted=False).to_parquet(ref_path)
        make_frame(args.batch, rng, shifted=True).to_parquet(cur_path)
        files = [str(ref_path), str(cur_path)]
        versions: list[tuple[str, Path | None]] = [("", None)]
        if args.before:
            versions.append((f" [{args.before}]", export_src(args.before, Path(tmp))))
        steps = ["loop", "one_shot", "one_shot_1thread", "prepare", "prepare_1thread"]
        steps += ["check", "check_1thread", "store", "check_stored", "check_stored_1thread"]
        steps += ["sort_floor", "sort_floor_1thread"]
        rows: list[tuple[str, list[float], float]] = []
        cpu: dict[str, float] = {}
        results: dict[str, Any] = {}
        for label, src in versions:
            for step in steps:
                if step == "loop" and label:
                    continue
                command = [sys.executable, __file__, "--step", step, "--files", *files]
                command += ["--store", str(Path(tmp, "store" + label.strip(" []")))]
                report = json.loads(_child([*command, "--repeat", str(args.repeat)], _env(src)))
                if "skipped" in report:
                    continue
                rows.append((step + label, report["times"], report["rss_mib"]))
                cpu[step + label] = statistics.median(report["cpu"])
                results[step + label] = report["result"]
            cli = [sys.executable, "-m", "driftwarden.cli", "check", *files, "--format", "json"]
            runs = [_wall_and_rss(cli, _env(src)) for _ in range(args.processes)]
            rows.append(
                (
                    "driftwarden check (process)" + label,
                    [w for w, _ in runs],
                    max(r for _, r in runs),
                )
            )
        loop_code = LOOP_PROCESS.format(
            bench=str(Path(__file__).parent), ref=files[0], cur=files[1]
        )
        runs = [
            _wall_and_rss([sys.executable, "-c", loop_code], _env(None))
            for _ in range(args.processes)
        ]
        rows.insert(
            0, ("read + scipy loop (process)", [w for w, _ in runs], max(r for _, r in runs))
        )
    print(f"load after:  {_uptime()}\n")

    loop_median = statistics.median(next(t for name, t, _ in rows if name == "loop"))
    loop_process = statistics.median(rows[0][1])
    print(
        f"reference {args.rows:,} rows, current {args.batch:,} rows, 20 numeric + 5 categorical "
        f"columns; shifted: {', '.join(SHIFTED)}"
    )
    header = f"{'step':44} {'median s':>9} {'min-max s':>15} {'speed-up':>9} {'CPU s':>7}"
    print(f"{header} {'peak RSS MiB':>13}")
    for name, times, rss in rows:
        median = statistics.median(times)
        base = loop_process if "(process)" in name else loop_median
        spread = f"{min(times):.3f}-{max(times):.3f}"
        ratio = "" if name.startswith("prepare") else f"{base / median:.1f}x"
        used = f"{cpu[name]:.3f}" if name in cpu else ""
        print(f"{name:44} {median:>9.3f} {spread:>15} {ratio:>9} {used:>7} {rss:>13.0f}")
    print("(compute steps: median wall time of the repetitions in one process, ratio against the")
    print(" loop's; CPU s: median CPU time of all the step's threads, the work done whatever the")
    print(" load; process rows: whole-process wall time, ratio against the seed script's process)")

    loop = results["loop"]
    for name in [n for n in results if n.startswith(("one_shot", "check"))]:
        found = results[name]
        d_diff = max(abs(found[k][0] - loop[k][0]) for k in found if found[k][0] is not None)
        p_diff = max(abs(found[k][1] - loop[k][1]) for k in found if found[k][1] is not None)
        print(f"{name}: largest |D - scipy| {d_diff:.3g}, largest |p - scipy| {p_diff:.3g}")
    print(TARGETS)


if __name__ == "__main__":
    main()
