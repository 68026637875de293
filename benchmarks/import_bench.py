"""What each import costs a process: time and resident memory, each in a fresh interpreter.

For keeping the daemon lean at rest: every module is imported alone in a new process
(best of ``--repeat`` runs for the time; the peak RSS of that process less a bare
interpreter's), then the daemon's own modules (what ``driftwarden run`` loads before it
takes work, and what the first check, report and MLflow write add). Run:
``.venv/bin/python benchmarks/import_bench.py``; ``python -X importtime -c 'import M'``
shows the tree under any one line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

MODULES = [
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "scipy.special",
    "scipy.stats",
    "pydantic",
    "prometheus_client",
    "watchdog.observers",
    "apscheduler.schedulers.background",
    "sqlalchemy",
    "mlflow",
    "sklearn",
    "torch",
    "driftwarden.config",
    "driftwarden.detectors",
    "driftwarden.detectors.report",
    "driftwarden.data.prepared_store",
    "driftwarden.data.reference_cache",
    "driftwarden.tracking.client",
    "driftwarden.daemon.service",
    "driftwarden.daemon.service, driftwarden.detectors",
    "driftwarden.daemon.service, driftwarden.detectors, driftwarden.detectors.report",
    "driftwarden.daemon.service, driftwarden.detectors, driftwarden.tracking.client",
]

PROBE = (
    "import resource, sys, time; t = time.perf_counter(); {imports}; "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "
    "len(sys.modules))"
)


def probe(modules: str) -> tuple[float, float, int]:
    imports = "; ".join(f"import {m.strip()}" for m in modules.split(",")) if modules else "pass"
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        capture_output=True,
        text=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    if out.returncode != 0:
        return float("nan"), float("nan"), 0
    seconds, rss, count = out.stdout.split()
    return float(seconds), float(rss), int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; python {sys.version.split()[0]}")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    _, bare_rss, bare_count = probe("")
    print(f"bare interpreter: {bare_rss:.0f} MiB RSS, {bare_count} modules\n")
    print(f"{'import (alone, fresh process)':82} {'best s':>7} {'+RSS MiB':>9} {'+modules':>9}")
    for modules in MODULES:
        runs = [probe(modules) for _ in range(args.repeat)]
        best = min(r[0] for r in runs)
        rss = min(r[1] for r in runs) - bare_rss
        count = runs[0][2] - bare_count
        shown = "not installed" if best != best else f"{best:7.2f} {rss:>9.0f} {count:>9}"
        print(f"{modules:82} {shown}")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
