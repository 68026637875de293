"""Scheduled checks over recent drops: drift over a rolling window, validation on labelled data.

They read the drops the ledger recorded as checked (from where the files lie now), so a
drop counts here only after its own check is recorded. Outcomes go through ``Commit``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from driftwarden.daemon.intake.reference import admit
from driftwarden.daemon.jobs.alerting import AlertFeed
from driftwarden.daemon.jobs.checks import Checker
from driftwarden.daemon.jobs.commit import Commit
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.errors import InputFileError, StateUnavailable
from driftwarden.events import Publish
from driftwarden.events.types import (
    ValidationChecked,
    ValidationSkipped,
    WindowDriftChecked,
    WindowDriftSkipped,
)
from driftwarden.outbox.queue import Outbox
from driftwarden.state import Ledger

log = logging.getLogger(__name__)


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f":{uuid.uuid4().hex[:8]}"


class WindowChecks:
    """One model's checks over its recent drops (job handlers on its worker thread)."""

    def __init__(
        self, model: str, ledger: Ledger, checker: Checker, commit: Commit, publish: Publish
    ) -> None:
        self.model = model
        self.ledger = ledger
        self.checker = checker
        self.commit = commit
        self._publish = publish

    def _recent(self, limit: int, with_target: bool) -> tuple[pd.DataFrame, list[str]] | None:
        """The newest ``limit`` checked drops stacked oldest first; None when there are none."""
        rows = self.ledger.recent_done_files(limit, with_target=with_target, model=self.model)
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

    def drift(self) -> None:
        """Drift of the last ``schedule.window_files`` drops together against the reference."""
        reference = self.checker.reference.get()
        if reference is None:
            self._publish(WindowDriftSkipped(self.model, "no reference yet"))
            return
        recent = self._recent(self.checker.config().schedule.window_files, with_target=False)
        if recent is None:
            self._publish(WindowDriftSkipped(self.model, "no checked drops yet"))
            return
        frame, names = recent
        frame = admit(frame, reference, f"window of {len(names)} drops")
        outcome = self.checker.drift(
            frame,
            scope="window",
            key=f"drift:window:{_stamp()}",
            tags={"driftwarden.window_files": ",".join(names)[:4000]},
            current_version=data_version(frame),
        )
        if outcome is None:
            return
        result = outcome.result
        checked = WindowDriftChecked(
            self.model, len(names), bool(result.dataset_drift), tuple(result.drifted_features)
        )
        self.commit.check(outcome, checked)

    def validation(self, reason: str) -> None:
        """Validate the production model on the last ``validation.window_files`` labelled drops."""
        if self.checker.production.get() is None:
            self._publish(ValidationSkipped(self.model, reason, "no production model loaded"))
            return
        recent = self._recent(self.checker.config().validation.window_files, with_target=True)
        if recent is None:
            self._publish(ValidationSkipped(self.model, reason, "no labelled drops yet"))
            return
        frame, names = recent
        outcome = self.checker.validation(
            frame,
            scope="scheduled",
            key=f"validation:scheduled:{_stamp()}",
            tags={
                "driftwarden.window_files": ",".join(names)[:4000],
                "driftwarden.reason": reason[:200],
            },
        )
        if outcome is None:
            return
        checked = ValidationChecked(
            self.model,
            str(outcome.record.model_version),
            len(names),
            reason,
            bool(outcome.breached),
            {k: float(v) for k, v in outcome.result.metrics.items()},
        )
        self.commit.check(outcome, checked)


def alert_tick(
    alerts: AlertFeed, ledger: Ledger, outbox: Outbox, state_problem: str | None = None
) -> None:
    """Time-driven alert rules of one model: its stale checks, old pending and dead writes,
    the state, repeats.

    On a full state disk the stores may not even be readable: what cannot be read counts as
    unknown (the rules leave their alert as it is), and the state rule still fires.
    """
    unknown: list[str] = []
    last_success = _read(lambda: ledger.last_success_time(alerts.rules.model), "stale", unknown)
    oldest = _read(outbox.oldest_age_seconds, "mlflow_pending_writes", unknown)
    dead = _read(outbox.dead, "mlflow_dead_writes", unknown)
    alerts.time(
        last_success, oldest, dead_writes=dead, state_problem=state_problem, unknown=unknown
    )


T = TypeVar("T")


def _read(read: Callable[[], T], rule: str, unknown: list[str]) -> T | None:
    """``read()``, or None with ``rule`` noted as unknown when the state cannot be read."""
    try:
        return read()
    except StateUnavailable:
        unknown.append(rule)
        return None
