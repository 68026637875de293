"""Scheduled checks over recent drops: drift over a rolling window, validation on labelled data.

They read the drops the ledger recorded as checked (from where the files lie now), so a
drop counts here only after its own check is recorded.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import pandas as pd

from driftwarden.daemon.intake.reference import admit
from driftwarden.daemon.jobs.checks import (
    publish_drift,
    publish_validation,
    run_drift,
    run_validation,
)
from driftwarden.daemon.jobs.context import DaemonContext
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.errors import InputFileError

log = logging.getLogger(__name__)


def _recent_frames(
    ctx: DaemonContext, limit: int, with_target: bool
) -> tuple[pd.DataFrame, list[str]] | None:
    """The newest ``limit`` checked drops stacked oldest first; None when there are none."""
    rows = ctx.ledger.recent_done_files(limit, with_target=with_target)
    frames: list[pd.DataFrame] = []
    names: list[str] = []
    for row in reversed(rows):
        location = Path(row["final_path"] or row["path"])
        try:
            frames.append(read_frame(location))
            names.append(location.name)
        except InputFileError as exc:
            log.warning(
                "recent drop unreadable now; left out: %s", exc, extra={"file": str(location)}
            )
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True, sort=False), names


def window_drift(ctx: DaemonContext) -> None:
    """Drift of the last ``schedule.window_files`` drops together against the reference."""
    reference = ctx.reference.get()
    if reference is None:
        log.info("window drift skipped: no reference yet")
        return
    recent = _recent_frames(ctx, ctx.settings.schedule.window_files, with_target=False)
    if recent is None:
        log.info("window drift skipped: no checked drops yet")
        return
    frame, names = recent
    frame = admit(frame, reference, f"window of {len(names)} drops")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    outcome = run_drift(
        ctx,
        frame,
        scope="window",
        key=f"drift:window:{stamp}:{uuid.uuid4().hex[:8]}",
        tags={"driftwarden.window_files": ",".join(names)[:4000]},
        current_version=data_version(frame),
    )
    if outcome is None:
        return
    ctx.ledger.record_check(outcome.record)
    log.info(
        "window drift check: %s",
        "dataset drift" if outcome.result.dataset_drift else "no drift",
        extra={
            "files": len(names),
            "drifted_features": ",".join(outcome.result.drifted_features) or "-",
        },
    )
    publish_drift(ctx, outcome)


def scheduled_validation(ctx: DaemonContext, reason: str) -> None:
    """Validate the production model on the last ``validation.window_files`` labelled drops."""
    if ctx.model.get() is None:
        log.info("validation skipped: no production model loaded", extra={"reason": reason})
        return
    recent = _recent_frames(ctx, ctx.settings.validation.window_files, with_target=True)
    if recent is None:
        log.info("validation skipped: no labelled drops yet", extra={"reason": reason})
        return
    frame, names = recent
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    outcome = run_validation(
        ctx,
        frame,
        scope="scheduled",
        key=f"validation:scheduled:{stamp}:{uuid.uuid4().hex[:8]}",
        tags={
            "driftwarden.window_files": ",".join(names)[:4000],
            "driftwarden.reason": reason[:200],
        },
    )
    if outcome is None:
        return
    ctx.ledger.record_check(outcome.record)
    log.info(
        "validation: %s",
        "below minimum" if outcome.breached else "ok",
        extra={
            "files": len(names),
            "reason": reason,
            "metrics": ",".join(f"{k}={v:.4g}" for k, v in outcome.result.metrics.items()),
        },
    )
    publish_validation(ctx, outcome)


def alert_tick(ctx: DaemonContext) -> None:
    """Time-driven alert rules: stale checks, old pending writes, repeats."""
    last = ctx.ledger.last_success_time()
    oldest = ctx.outbox.oldest_age_seconds()
    ctx.alert(lambda rules: rules.evaluate_time(last_success_ts=last, pending_oldest_age=oldest))
