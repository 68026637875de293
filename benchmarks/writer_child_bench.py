"""What the MLflow writer child costs at each start: memory and CPU after one write of each kind.

The daemon logs its checks to MLflow from a child process (``[mlflow] writer = "process"``)
that starts at the first write and stops after a minute without one, so this cost comes
back with every burst of checks. For each kind of write (drift, validation, estimation) a
fresh child logs one run to a pre-migrated sqlite store; the table shows the child's
resident and peak memory and its CPU time, and which heavy libraries it mapped.

``--before REV`` measures another git revision's code in the same run (its ``src`` is
exported to a temporary folder), and the last column is this tree against it. Run:
``.venv/bin/python benchmarks/writer_child_bench.py --before HEAD~1`` (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from revision import export_src

REPO = Path(__file__).resolve().parents[1]
KINDS = ("drift_run", "validation_run", "estimation_run")

# Runs in a fresh interpreter with the measured code first on sys.path; prints one JSON line.
MEASURE = r"""
import json, os, sys
from pathlib import Path
import numpy as np, pandas as pd
from driftwarden.config.load import load_settings
from driftwarden.config.model import DriftConfig, ValidationConfig
from driftwarden.detectors import check_frames
from driftwarden.detectors.estimation import EstimationResult
from driftwarden.detectors.validation import evaluate_predictions
from driftwarden.outbox.writer_process import WriterProcess
from driftwarden.tracking.client import configure_mlflow

root, kind = Path(sys.argv[1]), sys.argv[2]
config = root / "dw.toml"
config.write_text(f'[state]\ndirectory = "{root / "state"}"\n')
settings = load_settings(config, env={})
configure_mlflow(settings).search_experiments()  # the store, created and migrated here
rng = np.random.default_rng(1)
frame = lambda shift: pd.DataFrame({"x": rng.normal(shift, 1, 500), "c": rng.choice(list("ab"), 500)})
if kind == "drift_run":
    result = check_frames(frame(0), frame(1), DriftConfig()).to_dict()
elif kind == "validation_run":
    result = evaluate_predictions([0, 1, 1, 0], [0, 1, 0, 0], ValidationConfig()).to_dict()
else:
    result = EstimationResult("cbpe", "classification", 100, {"accuracy": 0.9},
                              {"accuracy": (0.85, 0.95)}, {"accuracy": 0.92}).to_dict()
payload = {"experiment": "bench", "result": result, "tags": {"driftwarden.outbox_key": kind},
           "html_path": "", "prediction_drift": {"p_value": 0.5, "drifted": False}}
writer = WriterProcess(settings)
try:
    experiment_id, _ = writer.find("bench", kind)
    writer.write(kind, experiment_id, payload)
    pid = writer.pid
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    maps = Path(f"/proc/{pid}/maps").read_text()
    print(json.dumps({
        "rss_mib": int(status["VmRSS"].split()[0]) / 1024,
        "peak_mib": int(status["VmHWM"].split()[0]) / 1024,
        "cpu_s": (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
        "sklearn": "/sklearn/" in maps,
        "scipy_stats": "/scipy/stats/" in maps,
    }))
finally:
    writer.close()
"""


def measure(kind: str, src: Path) -> dict[str, float]:
    """One fresh child's figures after one write of ``kind``, with the code in ``src``."""
    root = Path(tempfile.mkdtemp(prefix="writer-child-"))
    try:
        env = {**os.environ, "PYTHONPATH": str(src), "MLFLOW_DISABLE_TELEMETRY": "true"}
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(root), kind],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="also measure this git revision's code (e.g. main)")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load before: {os.getloadavg()[0]:.2f}", flush=True)
    codes = [("this tree", REPO / "src")]
    scratch = Path(tempfile.mkdtemp(prefix="writer-child-src-"))
    try:
        if args.before:
            codes.append((args.before, export_src(args.before, scratch)))
        rows = {(name, kind): measure(kind, src) for name, src in codes for kind in KINDS}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"load after: {os.getloadavg()[0]:.2f}\n")
    print(
        f"{'write':16} {'code':12} {'RSS MiB':>8} {'peak MiB':>9} {'CPU s':>6} "
        f"{'sklearn':>8} {'scipy.stats':>12} {'RSS vs before':>14}"
    )
    for kind in KINDS:
        for name, _ in codes:
            r = rows[(name, kind)]
            ratio = ""
            if args.before and name == "this tree":
                ratio = f"{r['rss_mib'] / rows[(args.before, kind)]['rss_mib']:.2f}x"
            print(
                f"{kind:16} {name:12} {r['rss_mib']:>8.0f} {r['peak_mib']:>9.0f} "
                f"{r['cpu_s']:>6.2f} {'yes' if r['sklearn'] else 'no':>8} "
                f"{'yes' if r['scipy_stats'] else 'no':>12} {ratio:>14}"
            )


if __name__ == "__main__":
    main()
