"""The log sink: every alert as one log line (WARNING when firing, INFO when resolved)."""

from __future__ import annotations

import logging

from driftwarden.alerts.rules import Alert

log = logging.getLogger("driftwarden.alerts")


class LogSink:
    """Writes alerts to the driftwarden log; never fails, so never retried."""

    name = "log"
    retries = 0

    def send(self, alert: Alert) -> None:
        level = logging.WARNING if alert.status == "firing" else logging.INFO
        name = alert.labels.get("alertname", alert.rule)
        log.log(
            level,
            "alert %s %s: %s",
            name,
            alert.status + (" (repeat)" if alert.repeat else ""),
            alert.summary,
            extra={
                "alertname": name,
                "status": alert.status,
                "rule": alert.rule,
                "model": alert.model,
                "severity": alert.severity,
            },
        )
