"""How long one job may run before the daemon calls it wedged (issue 10.2).

The worker makes no heartbeat while a job runs, so a check of a large file that takes
minutes would look wedged after ``WEDGED_AFTER_SECONDS`` and a systemd watchdog would
restart a daemon that is working. Each job gets its own deadline instead: ``/healthz``
does not say wedged, and the watchdog keeps being pinged, until the running job passes
it. A file's deadline grows with its size (reading and testing are linear in it); the
others are bounded by their MLflow calls and the windows they read.
"""

from __future__ import annotations

from driftwarden.daemon.jobs.queue import Job

# A file job: this much, plus this much per MiB of the file.
FILE_BASE_SECONDS = 120.0
FILE_SECONDS_PER_MIB = 2.0
# The other kinds (a window check reads up to its window from the ledger; validation loads
# the model and predicts; a registry poll and the alert rules make a few calls).
KIND_SECONDS = {
    "window_drift": 900.0,
    "validation": 900.0,
    "registry_poll": 300.0,
    "alert_tick": 120.0,
}
OTHER_SECONDS = 300.0
MIB = 1 << 20


def job_deadline_seconds(job: Job) -> float:
    """Seconds ``job`` may run before it counts as wedged."""
    if job.kind == "file" and job.path is not None:
        try:
            size = job.path.stat().st_size
        except OSError:
            size = 0  # gone or unreadable: the job says so quickly
        return FILE_BASE_SECONDS + FILE_SECONDS_PER_MIB * size / MIB
    return KIND_SECONDS.get(job.kind, OTHER_SECONDS)
