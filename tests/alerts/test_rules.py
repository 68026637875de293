"""AlertRules: fire once, repeat on the interval while firing, resolve when the condition clears."""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.alerts.rules import Alert, AlertRules, iso_utc
from driftwarden.config.model import AlertsConfig
from driftwarden.observability.metrics import Metrics


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


def make_rules(clock: FakeClock, metrics: Metrics, **cfg: object) -> AlertRules:
    settings = {
        "drift_consecutive": 2,
        "repeat_interval_seconds": 600,
        "stale_after_seconds": 3600,
        "pending_writes_max_age_seconds": 300,
        **cfg,
    }
    return AlertRules(AlertsConfig(**settings), "iris", metrics, clock=clock)


def fired(metrics: Metrics, rule: str) -> float:
    return (
        metrics.registry.get_sample_value(
            "driftwarden_alerts_total", {"model": "iris", "rule": rule}
        )
        or 0.0
    )


def statuses(alerts: list[Alert]) -> list[tuple[str, str]]:
    return [(a.rule, a.status) for a in alerts]


def test_drift_fires_only_after_n_consecutive_checks(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics, drift_consecutive=3)
    assert rules.observe_drift(True, {"drifted_features": ["a"]}) == []
    assert rules.observe_drift(True) == []
    alerts = rules.observe_drift(True, {"drifted_features": ["a", "b"]})
    assert statuses(alerts) == [("dataset_drift", "firing")]
    alert = alerts[0]
    assert alert.labels == {
        "alertname": "DriftwardenDatasetDrift",
        "severity": "warning",
        "model": "iris",
        "rule": "dataset_drift",
        "service": "driftwarden",
    }
    assert "3 consecutive" in alert.summary and "a, b" in alert.annotations["description"]
    assert alert.starts_at == clock.now and alert.ends_at is None and not alert.repeat
    assert fired(metrics, "dataset_drift") == 1


def test_a_clean_check_breaks_the_streak(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics, drift_consecutive=2)
    assert rules.observe_drift(True) == []
    assert rules.observe_drift(False) == []
    assert rules.observe_drift(True) == []
    assert rules.drift_streak == 1
    assert statuses(rules.observe_drift(True)) == [("dataset_drift", "firing")]


def test_drift_fires_once_then_repeats_on_the_interval(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics, drift_consecutive=1)
    first = rules.observe_drift(True)
    assert len(first) == 1
    clock.now += 100
    assert rules.observe_drift(True) == []  # still firing, not yet due
    assert rules.evaluate_time(last_success_ts=clock.now) == []
    clock.now += 500  # 600 s since the notification
    repeat = rules.evaluate_time(last_success_ts=clock.now)
    assert statuses(repeat) == [("dataset_drift", "firing")]
    assert repeat[0].repeat and repeat[0].starts_at == first[0].starts_at
    # the repeat moved the clock of the next one
    clock.now += 599
    assert rules.observe_drift(True) == []
    clock.now += 1
    assert statuses(rules.observe_drift(True)) == [("dataset_drift", "firing")]
    assert fired(metrics, "dataset_drift") == 3


def test_drift_resolves_after_one_clean_check(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics, drift_consecutive=1)
    start = clock.now
    rules.observe_drift(True)
    clock.now += 60
    resolved = rules.observe_drift(False)
    assert statuses(resolved) == [("dataset_drift", "resolved")]
    assert resolved[0].ends_at == clock.now and resolved[0].starts_at == start
    assert resolved[0].status == "resolved" and "Resolved" not in resolved[0].summary
    # resolution is not a fired notification, and nothing repeats after it
    assert fired(metrics, "dataset_drift") == 1
    clock.now += 10_000
    assert rules.evaluate_time(last_success_ts=clock.now) == []
    assert rules.observe_drift(False) == []


def test_validation_fires_per_metric_and_resolves_per_metric(
    clock: FakeClock, metrics: Metrics
) -> None:
    rules = make_rules(clock, metrics)
    minimums = {"accuracy": 0.8, "f1": 0.75}
    alerts = rules.observe_validation({"accuracy": 0.7, "f1": 0.9}, minimums)
    assert statuses(alerts) == [("validation_below_minimum", "firing")]
    assert alerts[0].labels["metric"] == "accuracy"
    assert alerts[0].labels["severity"] == "critical"
    assert "0.7" in alerts[0].summary and "0.8" in alerts[0].summary
    alerts = rules.observe_validation({"accuracy": 0.7, "f1": 0.5}, minimums)
    assert [a.labels["metric"] for a in alerts] == ["f1"]
    alerts = rules.observe_validation({"accuracy": 0.85, "f1": 0.5}, minimums)
    assert [(a.labels["metric"], a.status) for a in alerts] == [("accuracy", "resolved")]
    assert fired(metrics, "validation_below_minimum") == 2


def test_validation_at_the_minimum_is_not_a_breach(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics)
    assert rules.observe_validation({"accuracy": 0.8}, {"accuracy": 0.8}) == []


def test_missing_or_nan_metric_leaves_the_alert_alone(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics)
    rules.observe_validation({"accuracy": 0.1}, {"accuracy": 0.8})
    assert rules.observe_validation({}, {"accuracy": 0.8}) == []
    assert rules.observe_validation({"accuracy": float("nan")}, {"accuracy": 0.8}) == []
    assert rules.firing() == [("validation_below_minimum", "accuracy")]


def test_stale_fires_when_no_success_for_too_long(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics)
    last = clock.now
    clock.now += 3600
    assert rules.evaluate_time(last_success_ts=last) == []  # at the limit, not past it
    clock.now += 1
    alerts = rules.evaluate_time(last_success_ts=last)
    assert statuses(alerts) == [("stale", "firing")]
    assert alerts[0].labels["alertname"] == "DriftwardenStale"
    clock.now += 5
    alerts = rules.evaluate_time(last_success_ts=clock.now)
    assert statuses(alerts) == [("stale", "resolved")]


def test_stale_counts_from_start_when_nothing_ever_succeeded(
    clock: FakeClock, metrics: Metrics
) -> None:
    rules = make_rules(clock, metrics)
    clock.now += 3000
    assert rules.evaluate_time(last_success_ts=None) == []
    alerts = rules.evaluate_time(now=clock.now + 601, last_success_ts=None)
    assert statuses(alerts) == [("stale", "firing")]
    assert "none since start" in alerts[0].annotations["description"]


def test_pending_writes_fire_and_resolve(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics)
    now = clock.now
    assert rules.evaluate_time(now, now, pending_oldest_age=300) == []
    alerts = rules.evaluate_time(now, now, pending_oldest_age=301)
    assert statuses(alerts) == [("mlflow_pending_writes", "firing")]
    assert alerts[0].labels["alertname"] == "DriftwardenMlflowWritesPending"
    assert rules.evaluate_time(now + 1, now, pending_oldest_age=302) == []
    alerts = rules.evaluate_time(now + 2, now, pending_oldest_age=None)
    assert statuses(alerts) == [("mlflow_pending_writes", "resolved")]
    assert fired(metrics, "mlflow_pending_writes") == 1


def test_time_rules_repeat_while_firing(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics)
    now = clock.now
    assert len(rules.evaluate_time(now, now, 1000)) == 1
    assert rules.evaluate_time(now + 599, now + 599, 1599) == []
    repeat = rules.evaluate_time(now + 600, now + 600, 1600)
    assert statuses(repeat) == [("mlflow_pending_writes", "firing")] and repeat[0].repeat
    assert fired(metrics, "mlflow_pending_writes") == 2


def test_retrain_failed_or_rejected_fires_promoted_resolves(
    clock: FakeClock, metrics: Metrics
) -> None:
    rules = make_rules(clock, metrics)
    alerts = rules.observe_retrain("failed", {"reason": "mlflow run exited 1"})
    assert statuses(alerts) == [("retrain_failed", "firing")]
    assert "mlflow run exited 1" in alerts[0].annotations["description"]
    assert alerts[0].detail["outcome"] == "failed"
    assert rules.observe_retrain("rejected") == []  # still firing, not yet due
    assert rules.observe_retrain("skipped_cooldown") == []  # says nothing either way
    assert rules.firing() == [("retrain_failed", "")]
    assert statuses(rules.observe_retrain("promoted")) == [("retrain_failed", "resolved")]
    alerts = rules.observe_retrain("rejected", {"reason": "challenger 0.81 <= champion 0.84"})
    assert statuses(alerts) == [("retrain_failed", "firing")]
    assert fired(metrics, "retrain_failed") == 2


def test_promoted_without_a_failure_sends_nothing(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics)
    assert rules.observe_retrain("promoted") == []


def test_several_rules_fire_and_repeat_independently(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics, drift_consecutive=1)
    rules.observe_drift(True)
    clock.now += 300
    rules.observe_validation({"accuracy": 0.5}, {"accuracy": 0.8})
    clock.now += 300  # drift due, validation not
    alerts = rules.evaluate_time(last_success_ts=clock.now)
    assert statuses(alerts) == [("dataset_drift", "firing")]
    clock.now += 300  # validation due
    alerts = rules.evaluate_time(last_success_ts=clock.now)
    assert statuses(alerts) == [("validation_below_minimum", "firing")]
    assert rules.firing() == [("dataset_drift", ""), ("validation_below_minimum", "accuracy")]


def test_alert_to_dict_is_json_ready(clock: FakeClock, metrics: Metrics) -> None:
    rules = make_rules(clock, metrics, drift_consecutive=1)
    (alert,) = rules.observe_drift(True, {"drifted_features": ["x"]})
    body = alert.to_dict()
    assert (
        body["status"] == "firing" and body["model"] == "iris" and body["rule"] == "dataset_drift"
    )
    assert body["starts_at"] == iso_utc(clock.now) and body["starts_at"].endswith("Z")
    assert body["ends_at"] is None and body["detail"] == {"drifted_features": ["x"]}


def test_iso_utc_format() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
    assert iso_utc(1.5) == "1970-01-01T00:00:01.500Z"


def test_concurrent_observers_fire_exactly_once(metrics: Metrics) -> None:
    rules = AlertRules(
        AlertsConfig(drift_consecutive=1, repeat_interval_seconds=3600), "iris", metrics
    )
    results: list[list[Alert]] = []
    lock = threading.Lock()

    def observe() -> None:
        for _ in range(200):
            alerts = rules.observe_drift(True) + rules.evaluate_time(last_success_ts=time.time())
            with lock:
                results.append(alerts)

    threads = [threading.Thread(target=observe) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(a) for a in results) == 1
    assert fired(metrics, "dataset_drift") == 1


def test_restored_alerts_resolve_when_clear_and_are_not_sent_again_as_new(
    clock: FakeClock, metrics: Metrics
) -> None:
    """After a restart the ledger hands back what was firing (see Daemon.start)."""
    rules = make_rules(clock, metrics, drift_consecutive=2)
    rules.restore(
        [
            {
                "rule": "dataset_drift",
                "key": "",
                "started_at": clock.now - 100,
                "last_sent": clock.now - 10,
                "summary": "drift",
            },
            {
                "rule": "validation_below_minimum",
                "key": "accuracy",
                "started_at": clock.now - 50,
                "last_sent": clock.now - 50,
                "summary": "acc",
            },
        ]
    )
    assert rules.firing() == [("dataset_drift", ""), ("validation_below_minimum", "accuracy")]
    assert rules.observe_drift(True) == []  # still drifting: no new notification yet
    assert rules.observe_validation({"accuracy": 0.5}, {"accuracy": 0.8}) == []
    assert fired(metrics, "dataset_drift") == 0
    [resolved] = rules.observe_drift(False)
    assert (resolved.rule, resolved.status, resolved.starts_at) == (
        "dataset_drift",
        "resolved",
        clock.now - 100,
    )
    clock.now += 600
    repeats = rules.evaluate_time(last_success_ts=clock.now)
    assert statuses(repeats) == [("validation_below_minimum", "firing")]
    assert repeats[0].repeat
