"""Where a check's outcome goes, in the one order that makes a crash harmless.

1. queue the MLflow writes in the outbox (keyed by the check: a redo queues nothing twice);
2. record the checks in the ledger (with the file's outcome, in one transaction);
3. publish: the event, the metrics, the alert rules, and a breach to remediation;
4. move the file (and note the move in the ledger);
5. render a file check's HTML report, or while more files wait leave it to the outbox
   writer (``reports.ReportDesk``): nothing in front of the verdict waits for it, and the
   writer renders it again from the file when a crash or a stop came before it was written.

A crash before 2 redoes the check; after 2 it only finishes the move. File jobs, window
checks and scheduled validations all go through ``Commit``; nothing else writes a check.
A window check's report is written before its write is queued (no file to render it from
again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from driftwarden.daemon.jobs.alerting import AlertFeed
from driftwarden.daemon.jobs.checks import DriftOutcome, OutboxWrite, ValidationOutcome
from driftwarden.daemon.jobs.estimation import EstimationOutcome
from driftwarden.daemon.jobs.reports import ReportDesk, write_report
from driftwarden.events import Event, Publish
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.queue import Outbox
from driftwarden.state import Ledger

Outcome = DriftOutcome | ValidationOutcome | EstimationOutcome
# Called with the trigger ('drift', 'validation', 'estimated') and what breached (remediation listens).
OnBreach = Callable[[str, dict[str, Any]], None]


class Commit:
    """Stores and announces one model's check outcomes."""

    def __init__(
        self,
        model: str,
        outbox: Outbox,
        ledger: Ledger,
        metrics: Metrics,
        alerts: AlertFeed,
        on_breach: OnBreach,
        publish: Publish,
        wake_writer: Callable[[], None],
        reports: ReportDesk,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.model = model
        self.outbox = outbox
        self.ledger = ledger
        self.metrics = metrics
        self.alerts = alerts
        self.on_breach = on_breach
        self._publish = publish
        self.wake_writer = wake_writer
        self.reports = reports
        self.busy = busy  # more jobs wait: a report is left to the writer (``ReportDesk``)

    def file(
        self,
        file_id: int,
        outcomes: Sequence[Outcome],
        *,
        has_target: bool,
        checked: Event,
        move: Callable[[], None],
    ) -> None:
        """A dropped file's checks: queued, recorded with the file, announced, the move, then
        the reports."""
        drafts = [o.write.report for o in outcomes if o.write.report is not None]
        for draft in drafts:
            self.reports.expect(draft.path)
        try:
            self._record_file(file_id, outcomes, has_target=has_target, checked=checked)
        except BaseException:  # no verdict: no report is coming (the redo makes it)
            for draft in drafts:
                self.reports.release(draft.path)
            raise
        try:
            move()
        finally:  # the verdict is recorded: its report is owed even when the move failed
            defer = self.busy()
            for draft in drafts:
                self.reports.hand_over(draft, defer)
            self.wake_writer()

    def _record_file(
        self, file_id: int, outcomes: Sequence[Outcome], *, has_target: bool, checked: Event
    ) -> None:
        self._queue(outcomes, write_reports=False)
        result: dict[str, Any] = {}
        for outcome in outcomes:
            if isinstance(outcome, DriftOutcome):
                result.update(outcome.record.summary)
            elif isinstance(outcome, EstimationOutcome):
                result["estimated"] = outcome.record.summary["estimated"]
            else:
                result["validation"] = outcome.record.summary["metrics"]
        self.ledger.finish_file(
            file_id,
            "done",
            result=result,
            has_target=has_target,
            checks=[o.record for o in outcomes],
        )
        self._announce(outcomes, checked)
        self.metrics.observe_file("processed")

    def check(self, outcome: Outcome, checked: Event) -> None:
        """A check over recent drops (window drift, scheduled validation): queued, recorded, announced."""
        self._queue([outcome])
        self.ledger.record_check(outcome.record)
        self._announce([outcome], checked)
        self.wake_writer()

    def _queue(self, outcomes: Sequence[Outcome], write_reports: bool = True) -> None:
        for outcome in outcomes:
            write: OutboxWrite = outcome.write
            if write.report is not None and write_reports:
                draft = write.report
                write_report(draft.path, draft.render())  # a full disk: StateUnavailable
            self.outbox.enqueue(write.kind, write.payload, write.key, model=self.model)

    def _announce(self, outcomes: Sequence[Outcome], checked: Event) -> None:
        self._publish(checked)
        for outcome in outcomes:
            if isinstance(outcome, DriftOutcome):
                self._drift(outcome)
            elif isinstance(outcome, EstimationOutcome):
                self._estimation(outcome)
            else:
                self._validation(outcome)

    def _drift(self, outcome: DriftOutcome) -> None:
        # The result's document, built once by the check (not walked again here).
        self.metrics.observe_drift_result(self.model, outcome.write.payload["result"])
        self.metrics.observe_check(self.model, "drift", outcome.record.outcome, outcome.duration)
        detail = {
            "drifted_features": list(outcome.result.drifted_features),
            "scope": outcome.record.scope,
            "outbox_key": outcome.record.outbox_key,
        }
        self.alerts.drift(bool(outcome.result.dataset_drift), detail)
        if outcome.result.dataset_drift:
            self.on_breach("drift", detail)

    def _validation(self, outcome: ValidationOutcome) -> None:
        values = {k: float(v) for k, v in outcome.result.metrics.items()}
        self.metrics.observe_validation(self.model, values, outcome.record.model_version)
        self.metrics.observe_check(
            self.model, "validation", outcome.record.outcome, outcome.duration
        )
        self.alerts.validation(values, outcome.minimums, outcome.maximums)
        if outcome.breached:
            self.on_breach(
                "validation", {"breached": outcome.breached, "scope": outcome.record.scope}
            )

    def _estimation(self, outcome: EstimationOutcome) -> None:
        result = outcome.result
        drift = outcome.prediction_drift
        self.metrics.observe_estimation(
            self.model,
            result.estimated,
            result.interval,
            result.errors(),
            drift.p_value if drift is not None else None,
        )
        self.metrics.observe_check(
            self.model, "estimation", outcome.record.outcome, outcome.duration
        )
        self._publish(outcome.event(self.model))
        self.alerts.estimation(result.interval, outcome.minimums, outcome.maximums)
        if outcome.breached:
            breached = {name: bound for name, (bound, _limit) in outcome.breached.items()}
            self.on_breach("estimated", {"breached": breached, "scope": outcome.record.scope})
