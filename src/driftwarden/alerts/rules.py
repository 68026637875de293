"""Alert rules the daemon evaluates: when to fire, repeat and resolve a notification.

Pure logic, no I/O and no threads: the daemon feeds observations in and hands the
returned :class:`Alert` events to the dispatcher. Every condition is a small state
machine — inactive → firing (notify) → firing (re-notify every
``repeat_interval_seconds``) → resolved (notify) — keyed by rule and, for validation, by
metric, so each alert fires once and resolves once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from driftwarden.alerts.alert import Alert, Severity, Status, iso_utc
from driftwarden.config.model import AlertsConfig
from driftwarden.observability.metrics import Metrics

__all__ = ["RULES", "Alert", "AlertRules", "RuleSpec", "Severity", "Status", "iso_utc"]


@dataclass(frozen=True)
class RuleSpec:
    """A rule's fixed identity: its Alertmanager ``alertname`` and severity."""

    alertname: str
    severity: Severity


# rule name (the ``rule`` label of driftwarden_alerts_total) -> identity.
RULES: dict[str, RuleSpec] = {
    "dataset_drift": RuleSpec("DriftwardenDatasetDrift", "warning"),
    "validation_below_minimum": RuleSpec("DriftwardenValidationBelowMinimum", "critical"),
    "stale": RuleSpec("DriftwardenStale", "warning"),
    "retrain_failed": RuleSpec("DriftwardenRetrainFailed", "warning"),
    "mlflow_pending_writes": RuleSpec("DriftwardenMlflowWritesPending", "warning"),
    "mlflow_dead_writes": RuleSpec("DriftwardenMlflowDeadWrites", "warning"),
    "state_not_writable": RuleSpec("DriftwardenStateNotWritable", "critical"),
    "estimated_performance_below_minimum": RuleSpec(
        "DriftwardenEstimatedPerformanceBelowMinimum", "warning"
    ),
}
# Rules with one alert per metric (the ``metric`` label).
PER_METRIC_RULES = ("validation_below_minimum", "estimated_performance_below_minimum")

# Retrain outcomes that start / clear the retrain_failed alert; others leave it as it is.
RETRAIN_BAD = ("failed", "rejected")
RETRAIN_GOOD = ("promoted",)


# A time-driven rule's verdict: active, summary, description, detail.
_Condition = tuple[bool, str, str, dict[str, Any]]


@dataclass
class _State:
    firing: bool = False
    started_at: float = 0.0
    last_sent: float = 0.0
    summary: str = ""
    description: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class AlertRules:
    """The alert state of one model.

    Args:
        cfg: ``[alerts]``: drift_consecutive, repeat_interval_seconds, stale_after_seconds,
            pending_writes_max_age_seconds.
        model: registered model name (the ``model`` label).
        metrics: ``driftwarden_alerts_total{model,rule}`` is incremented per firing
            notification, repeats included (not for resolutions).
        clock: unix seconds, injectable for tests.

    Thread-safe. ``cfg`` is read on every call, so assigning a reloaded ``[alerts]``
    section to :attr:`cfg` keeps the alert state.
    """

    def __init__(
        self,
        cfg: AlertsConfig,
        model: str,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.model = model
        self.metrics = metrics
        self._clock = clock
        self._states: dict[tuple[str, str], _State] = {}
        self._drift_streak = 0
        self._created_at = clock()
        # The job loop and the scheduler may observe from different threads.
        self._lock = threading.RLock()

    @property
    def drift_streak(self) -> int:
        """Consecutive checks with dataset drift so far."""
        return self._drift_streak

    def firing(self) -> list[tuple[str, str]]:
        """(rule, key) of every alert firing now."""
        with self._lock:
            return sorted(k for k, s in self._states.items() if s.firing)

    def restore(self, firing: Sequence[Mapping[str, Any]]) -> None:
        """Take back alerts that were firing when the last process stopped (from the ledger).

        They are not sent again as new: they repeat on the usual interval while their
        condition holds, and resolve (a notification is sent) when it clears.
        """
        with self._lock:
            for entry in firing:
                rule = str(entry["rule"])
                if rule not in RULES:
                    continue
                self._states[(rule, str(entry.get("key", "")))] = _State(
                    firing=True,
                    started_at=float(entry["started_at"]),
                    last_sent=float(entry["last_sent"]),
                    summary=str(entry.get("summary", "")),
                    description="Firing before driftwarden restarted.",
                )
                if rule == "dataset_drift":
                    self._drift_streak = max(self._drift_streak, self.cfg.drift_consecutive)

    # -- observations (thread-safe entry points) -------------------------------------------

    def observe_drift(
        self, dataset_drift: bool, detail: Mapping[str, Any] | None = None
    ) -> list[Alert]:
        """One drift check finished; fires after ``drift_consecutive`` drifting checks in a
        row, resolves on the first clean one. ``detail["drifted_features"]`` is named in the
        description."""
        with self._lock:
            return self._observe_drift(dataset_drift, detail)

    def observe_validation(
        self,
        metrics: Mapping[str, float],
        minimums: Mapping[str, float],
        maximums: Mapping[str, float] | None = None,
    ) -> list[Alert]:
        """One validation finished; one alert per metric below its minimum, or, for an
        error metric (mae, rmse), above its maximum (labelled ``metric``). A metric missing
        from ``metrics`` or NaN leaves its alert as it is."""
        with self._lock:
            return self._observe_validation(metrics, minimums, maximums or {})

    def observe_estimation(
        self,
        interval: Mapping[str, tuple[float, float]],
        minimums: Mapping[str, float],
        maximums: Mapping[str, float],
    ) -> list[Alert]:
        """One performance estimate (no labels); one alert per metric whose whole interval
        is past its limit: the upper bound below the minimum, or for an error metric the
        lower bound above the maximum. A metric not estimated (or NaN) leaves its alert."""
        with self._lock:
            return self._observe_estimation(interval, minimums, maximums)

    def observe_retrain(self, outcome: str, detail: Mapping[str, Any] | None = None) -> list[Alert]:
        """A retrain cycle ended: ``failed``/``rejected`` fire, ``promoted`` resolves, other
        outcomes (skipped_*) change nothing. ``detail["reason"]`` goes into the description."""
        with self._lock:
            return self._observe_retrain(outcome, detail)

    def evaluate_time(
        self,
        now: float | None = None,
        last_success_ts: float | None = None,
        pending_oldest_age: float | None = None,
        *,
        dead_writes: int | None = 0,
        state_problem: str | None = None,
        unknown: Collection[str] = (),
    ) -> list[Alert]:
        """Time-driven rules (stale, pending and dead writes, the state) plus repeats of
        everything firing.

        Call this periodically (e.g. every loop turn or every few seconds).

        Args:
            now: unix seconds (default: the clock).
            last_success_ts: unix time of the last successful check, None if none yet
                (then staleness counts from when these rules were created).
            pending_oldest_age: age in seconds of the oldest MLflow write waiting in the
                outbox, None when it is empty.
            dead_writes: MLflow writes parked as dead (0: none).
            state_problem: why the state cannot be written now (None: it can).
            unknown: rules whose input could not be read now (a full disk): their alert
                stays as it is, neither fired nor resolved.
        """
        with self._lock:
            return self._evaluate_time(
                now,
                {
                    "stale": last_success_ts,
                    "mlflow_pending_writes": pending_oldest_age,
                    "mlflow_dead_writes": dead_writes,
                    "state_not_writable": state_problem,
                },
                frozenset(unknown),
            )

    # -- the rules -------------------------------------------------------------------------

    def _observe_drift(self, dataset_drift: bool, detail: Mapping[str, Any] | None) -> list[Alert]:
        detail = dict(detail or {})
        self._drift_streak = self._drift_streak + 1 if dataset_drift else 0
        need = self.cfg.drift_consecutive
        drifted = detail.get("drifted_features") or []
        names = ", ".join(str(d) for d in drifted[:10]) + (" ..." if len(drifted) > 10 else "")
        summary = (
            f"Dataset drift on model {self.model} for {self._drift_streak} consecutive check(s)"
        )
        description = (
            f"{len(drifted)} drifted feature(s): {names or '-'}; fires after {need} consecutive "
            f"drifting check(s)."
        )
        return self._update(
            "dataset_drift",
            "",
            active=self._drift_streak >= need,
            summary=summary,
            description=description,
            detail=detail,
        )

    def _observe_validation(
        self,
        metrics: Mapping[str, float],
        minimums: Mapping[str, float],
        maximums: Mapping[str, float],
    ) -> list[Alert]:
        """One alert per limited metric: below its minimum, or (error metrics) above its maximum."""
        alerts: list[Alert] = []
        limits = [(n, v, "minimum") for n, v in minimums.items()]
        limits += [(n, v, "maximum") for n, v in maximums.items()]
        for name, limit, kind in sorted(limits):
            value = metrics.get(name)
            if value is None or math.isnan(value):
                continue
            word = "below" if kind == "minimum" else "above"
            alerts += self._update(
                "validation_below_minimum",
                name,
                active=value < limit if kind == "minimum" else value > limit,
                summary=f"Validation {name} of model {self.model} is {value:.4g}, {word} {limit:g}",
                description=f"The production model's {name} on the latest labelled data is "
                f"{value:.4g}; the configured {kind} is {limit:g}.",
                detail={"metric": name, "value": value, kind: limit},
            )
        return alerts

    def _observe_estimation(
        self,
        interval: Mapping[str, tuple[float, float]],
        minimums: Mapping[str, float],
        maximums: Mapping[str, float],
    ) -> list[Alert]:
        alerts: list[Alert] = []
        limits = [(n, v, "minimum") for n, v in minimums.items()]
        limits += [(n, v, "maximum") for n, v in maximums.items()]
        for name, limit, kind in sorted(limits):
            if name not in interval:
                continue
            low, high = interval[name]
            bound = high if kind == "minimum" else low
            if math.isnan(bound):
                continue
            past = bound < limit if kind == "minimum" else bound > limit
            side, word = ("upper", "below") if kind == "minimum" else ("lower", "above")
            alerts += self._update(
                "estimated_performance_below_minimum",
                name,
                active=past,
                summary=f"Estimated {name} of model {self.model} is {word} {limit:g} "
                f"({side} bound {bound:.4g})",
                description=f"Without labels, the production model's {name} on the latest "
                f"drop is estimated in [{low:.4g}, {high:.4g}]; even its {side} bound is "
                f"{word} the configured {kind} {limit:g}.",
                detail={"metric": name, "lower": low, "upper": high, kind: limit},
            )
        return alerts

    def _observe_retrain(self, outcome: str, detail: Mapping[str, Any] | None) -> list[Alert]:
        detail = dict(detail or {}, outcome=outcome)
        if outcome not in RETRAIN_BAD + RETRAIN_GOOD:
            return []
        reason = str(detail.get("reason", "")).strip()
        return self._update(
            "retrain_failed",
            "",
            active=outcome in RETRAIN_BAD,
            summary=f"Retrain of model {self.model} {outcome}",
            description=f"The last retrain cycle ended with outcome {outcome!r}"
            + (f": {reason}" if reason else "")
            + "; the champion stays in production.",
            detail=detail,
        )

    def _evaluate_time(
        self, now: float | None, inputs: dict[str, Any], unknown: frozenset[str]
    ) -> list[Alert]:
        now = self._clock() if now is None else now
        alerts: list[Alert] = []
        for rule, condition in _TIME_RULES.items():
            if rule in unknown:
                continue
            active, summary, description, detail = condition(self, now, inputs[rule])
            alerts += self._update(
                rule,
                "",
                active=active,
                summary=summary,
                description=description,
                detail=detail,
                now=now,
            )
        done = {(a.rule, a.labels.get("metric", "")) for a in alerts}
        for key, state in sorted(self._states.items()):
            if state.firing and key not in done and self._repeat_due(state, now):
                alerts.append(self._notify(key, state, now, repeat=True))
        return alerts

    def _stale(self, now: float, last_success_ts: float | None) -> _Condition:
        since = last_success_ts if last_success_ts is not None else self._created_at
        silent = now - since
        limit = self.cfg.stale_after_seconds
        return (
            silent > limit,
            f"No successful check of model {self.model} for {silent:.0f}s",
            f"The last successful check was {silent:.0f}s ago "
            + ("" if last_success_ts is not None else "(none since start) ")
            + f"(limit {limit:g}s).",
            {"last_success_ts": last_success_ts, "seconds_since": silent},
        )

    def _pending_writes(self, now: float, age: float | None) -> _Condition:
        max_age = self.cfg.pending_writes_max_age_seconds
        return (
            age is not None and age > max_age,
            f"MLflow writes pending for {age or 0:.0f}s",
            f"The oldest write waiting in the outbox is {age or 0:.0f}s old "
            f"(limit {max_age:g}s); is MLflow reachable?",
            {"oldest_age_seconds": age},
        )

    def _dead_writes(self, now: float, dead: int | None) -> _Condition:
        return (
            bool(dead),
            f"{dead or 0} MLflow write(s) parked as dead",
            f"{dead or 0} MLflow write(s) failed for good and wait aside in the outbox; see "
            "the daemon log for why, then `driftwarden outbox retry --all` to queue them again.",
            {"dead_writes": dead},
        )

    def _state(self, now: float, problem: str | None) -> _Condition:
        return (
            problem is not None,
            f"driftwarden's state is not writable (model {self.model}); no file is taken",
            f"{problem}. Files wait in the drop directories and are checked once there is "
            "room again; free space in the state directory.",
            {"problem": problem},
        )

    # -- the state machine -----------------------------------------------------------------

    def _update(
        self,
        rule: str,
        key: str,
        *,
        active: bool,
        summary: str,
        description: str,
        detail: dict[str, Any],
        now: float | None = None,
    ) -> list[Alert]:
        now = self._clock() if now is None else now
        state = self._states.setdefault((rule, key), _State())
        if active:
            state.summary, state.description, state.detail = summary, description, detail
            if not state.firing:
                state.firing, state.started_at = True, now
                return [self._notify((rule, key), state, now, repeat=False)]
            if self._repeat_due(state, now):
                return [self._notify((rule, key), state, now, repeat=True)]
            return []
        if state.firing:
            state.firing = False
            return [self._alert((rule, key), state, "resolved", ends_at=now, repeat=False)]
        return []

    def _repeat_due(self, state: _State, now: float) -> bool:
        return now - state.last_sent >= self.cfg.repeat_interval_seconds

    def _notify(self, key: tuple[str, str], state: _State, now: float, repeat: bool) -> Alert:
        state.last_sent = now
        self.metrics.alerts.labels(model=self.model, rule=key[0]).inc()
        return self._alert(key, state, "firing", ends_at=None, repeat=repeat)

    def _alert(
        self,
        key: tuple[str, str],
        state: _State,
        status: Status,
        ends_at: float | None,
        repeat: bool,
    ) -> Alert:
        rule, sub = key
        spec = RULES[rule]
        labels = {
            "alertname": spec.alertname,
            "severity": spec.severity,
            "model": self.model,
            "rule": rule,
            "service": "driftwarden",
        }
        if rule in PER_METRIC_RULES:
            labels["metric"] = sub
        # The summary names the condition; ``status`` says whether it holds or was resolved.
        summary = state.summary
        return Alert(
            rule=rule,
            status=status,
            severity=spec.severity,
            summary=summary,
            labels=labels,
            annotations={"summary": summary, "description": state.description},
            starts_at=state.started_at,
            ends_at=ends_at,
            repeat=repeat,
            detail=dict(state.detail),
        )


# The time-driven rules, in the order they are evaluated: rule -> its condition.
_TIME_RULES: dict[str, Callable[[AlertRules, float, Any], _Condition]] = {
    "stale": AlertRules._stale,
    "mlflow_pending_writes": AlertRules._pending_writes,
    "mlflow_dead_writes": AlertRules._dead_writes,
    "state_not_writable": AlertRules._state,
}
