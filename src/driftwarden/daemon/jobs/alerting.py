"""From the alert rules to the sinks: each alert is recorded in the ledger, published, delivered.

``AlertOutlet`` is the long-lived part (the dispatcher and its sink threads; a reload swaps
the sinks); ``AlertFeed`` is one model's rules feeding it. ``AlertRules`` is thread-safe
itself, so the worker and the retrain thread may both observe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from driftwarden.alerts.rules import Alert, AlertRules
from driftwarden.alerts.sinks import AlertDispatcher, Sink
from driftwarden.errors import StateUnavailable
from driftwarden.events import Publish
from driftwarden.events.types import AlertNotified
from driftwarden.state import Ledger

log = logging.getLogger(__name__)

# How long a reload waits for the replaced sinks to deliver what they hold.
REPLACED_SINKS_SECONDS = 1.0


class AlertOutlet:
    """The alert sinks in force (lifecycle: start, close, join).

    ``sinks`` builds them from the config in force. It is called at construction, so a bad
    ``[alerts]`` section fails before anything starts, and again at ``start``, when the
    metrics endpoint is bound and its URL (the link Alertmanager shows) is known.
    """

    def __init__(self, sinks: Callable[[], Sequence[Sink]], publish: Publish) -> None:
        self._sinks = sinks
        self._publish = publish
        self._lock = threading.Lock()
        self._dispatcher = AlertDispatcher(sinks(), publish)

    @property
    def dispatcher(self) -> AlertDispatcher:
        with self._lock:
            return self._dispatcher

    def start(self) -> None:
        dispatcher = AlertDispatcher(self._sinks(), self._publish)
        with self._lock:
            self._dispatcher = dispatcher
        dispatcher.start()

    def close(self) -> None:
        self.dispatcher.close()

    def join(self, timeout: float) -> bool:
        return self.dispatcher.join(timeout)

    def is_alive(self) -> bool:
        return self.dispatcher.is_alive()

    def submit(self, alert: Alert) -> None:
        self.dispatcher.submit(alert)

    def replace(self, sinks: Sequence[Sink]) -> None:
        """New sinks from a reload: started before the old ones stop (no alert falls between)."""
        new = AlertDispatcher(sinks, self._publish)
        new.start()
        with self._lock:
            old, self._dispatcher = self._dispatcher, new
        old.close()
        old.join(REPLACED_SINKS_SECONDS)


class AlertFeed:
    """One model's alert rules; what they return goes to the ledger, the bus and the outlet."""

    def __init__(
        self, rules: AlertRules, ledger: Ledger, outlet: AlertOutlet, publish: Publish
    ) -> None:
        self.rules = rules
        self.ledger = ledger
        self.outlet = outlet
        self._publish = publish

    def drift(self, dataset_drift: bool, detail: Mapping[str, Any]) -> None:
        self.deliver(self.rules.observe_drift(dataset_drift, detail))

    def validation(self, metrics: Mapping[str, float], minimums: Mapping[str, float]) -> None:
        self.deliver(self.rules.observe_validation(metrics, minimums))

    def retrain(self, outcome: str, detail: Mapping[str, Any]) -> None:
        self.deliver(self.rules.observe_retrain(outcome, detail))

    def time(
        self,
        last_success_ts: float | None,
        pending_oldest_age: float | None,
        **more: Any,
    ) -> None:
        """Time-driven rules (stale, old pending and dead writes, the state) and repeats;
        ``more``: the other inputs of ``AlertRules.evaluate_time`` (by keyword)."""
        self.deliver(
            self.rules.evaluate_time(
                last_success_ts=last_success_ts, pending_oldest_age=pending_oldest_age, **more
            )
        )

    def deliver(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            try:
                self.ledger.record_alert(
                    alert.model or self.rules.model,
                    alert.rule,
                    alert.status,
                    alert.severity,
                    alert.summary,
                    alert.labels,
                )
            except StateUnavailable as exc:  # a full disk: the alert is still delivered
                log.warning(
                    "could not record alert in the ledger: %s", exc, extra={"rule": alert.rule}
                )
            except Exception:
                log.exception("could not record alert in the ledger", extra={"rule": alert.rule})
            self._publish(
                AlertNotified(
                    model=alert.model or self.rules.model,
                    rule=alert.rule,
                    alertname=alert.labels.get("alertname", alert.rule),
                    status=alert.status,
                    severity=alert.severity,
                    summary=alert.summary,
                    repeat=alert.repeat,
                )
            )
            self.outlet.submit(alert)
