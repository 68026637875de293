"""An alert notification: what the rules (``rules.py``) hand to the sinks, plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["firing", "resolved"]
Severity = Literal["info", "warning", "critical"]


def iso_utc(ts: float) -> str:
    """RFC 3339 with a ``Z`` (what Alertmanager and most webhooks expect)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Alert:
    """One notification to deliver: a rule firing (first time or repeat) or resolving.

    ``labels`` identify the alert (Alertmanager groups and deduplicates on them);
    ``annotations`` carry ``summary`` and ``description``. Times are unix seconds;
    ``ends_at`` is set only when ``status == "resolved"``.
    """

    rule: str
    status: Status
    severity: Severity
    summary: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float | None = None
    repeat: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.labels.get("model", "")

    @property
    def description(self) -> str:
        return self.annotations.get("description", "")

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape sent by the webhook sink."""
        return {
            "service": "driftwarden",
            "rule": self.rule,
            "status": self.status,
            "severity": self.severity,
            "model": self.model,
            "summary": self.summary,
            "description": self.description,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "starts_at": iso_utc(self.starts_at),
            "ends_at": None if self.ends_at is None else iso_utc(self.ends_at),
            "repeat": self.repeat,
            "detail": self.detail,
        }
