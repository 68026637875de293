"""The record of one remediation cycle: what was decided and why.

The cycle records it in the ledger; the daemon feeds it to
``driftwarden_retrains_total{model,outcome}`` and ``AlertRules.observe_retrain(outcome,
detail)``; ``driftwarden retrain`` prints it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# The label values of driftwarden_retrains_total.
Outcome = Literal["promoted", "rejected", "failed", "skipped_cooldown", "skipped_running"]
OUTCOMES: tuple[Outcome, ...] = (
    "promoted",
    "rejected",
    "failed",
    "skipped_cooldown",
    "skipped_running",
)


@dataclass(frozen=True)
class Decision:
    """One cycle's outcome, built once when the cycle ends.

    ``outcome``: promoted (alias moved to ``challenger_version``), rejected (no run
    qualified, or the challenger did not beat the champion by ``min_improvement``), failed
    (the run failed, timed out or was cancelled, no usable data, or MLflow failed; the
    champion stays), skipped_cooldown / skipped_running (nothing was started).
    ``error`` names the exception class when one ended the cycle (e.g. ``MlflowUnavailable``).
    """

    cycle_id: str
    outcome: Outcome
    model: str
    reason: str
    trigger: str = "manual"
    requested_reason: str = ""
    run_id: str | None = None
    champion_version: str | None = None
    challenger_version: str | None = None
    metric: str | None = None
    champion_score: float | None = None
    challenger_score: float | None = None
    min_improvement: float | None = None
    training_rows: int | None = None
    holdout_rows: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    cooldown_left_seconds: float | None = None
    log_path: str | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def promoted(self) -> bool:
        return self.outcome == "promoted"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the ledger row, the alert detail, ``retrain`` output)."""
        data = asdict(self)
        data["duration_seconds"] = self.duration_seconds
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str, sort_keys=True)

    def summary(self) -> str:
        """One human line: outcome, versions, scores, reason."""
        parts = [f"{self.outcome}: model {self.model!r} cycle {self.cycle_id}"]
        if self.champion_version or self.challenger_version:
            parts.append(
                f"champion v{self.champion_version or '-'}, challenger v{self.challenger_version or '-'}"
            )
        if self.metric and (self.champion_score is not None or self.challenger_score is not None):
            parts.append(
                f"{self.metric} {_fmt(self.champion_score)} -> {_fmt(self.challenger_score)}"
            )
        parts.append(self.reason)
        return "; ".join(parts)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
