"""The estimated-performance rule: fires when the whole interval is past the limit (upper
bound below a minimum; for error metrics the lower bound above a maximum), resolves when
it no longer is, one alert per metric."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry

from driftwarden.alerts.rules import AlertRules
from driftwarden.config.model import AlertsConfig
from driftwarden.observability.metrics import Metrics

RULE = "estimated_performance_below_minimum"


def rules() -> tuple[AlertRules, Metrics]:
    metrics = Metrics(CollectorRegistry())
    return AlertRules(AlertsConfig(), "iris", metrics, clock=lambda: 1_700_000_000.0), metrics


def test_fires_only_when_the_upper_bound_is_below_the_minimum_then_resolves() -> None:
    r, metrics = rules()
    # The point estimate is below the minimum but the interval reaches it: not sure, no alert.
    assert r.observe_estimation({"accuracy": (0.70, 0.81)}, {"accuracy": 0.8}, {}) == []
    [alert] = r.observe_estimation({"accuracy": (0.65, 0.79)}, {"accuracy": 0.8}, {})
    assert alert.status == "firing" and alert.rule == RULE
    assert alert.labels["alertname"] == "DriftwardenEstimatedPerformanceBelowMinimum"
    assert alert.labels["metric"] == "accuracy" and alert.labels["model"] == "iris"
    assert alert.detail == {"metric": "accuracy", "lower": 0.65, "upper": 0.79, "minimum": 0.8}
    assert (
        r.observe_estimation({"accuracy": (0.6, 0.78)}, {"accuracy": 0.8}, {}) == []
    )  # no repeat yet
    [resolved] = r.observe_estimation({"accuracy": (0.75, 0.85)}, {"accuracy": 0.8}, {})
    assert resolved.status == "resolved"
    assert (
        metrics.registry.get_sample_value(
            "driftwarden_alerts_total", {"model": "iris", "rule": RULE}
        )
        == 1.0
    )


def test_error_metrics_fire_when_the_lower_bound_is_above_the_maximum() -> None:
    r, _ = rules()
    assert r.observe_estimation({"mae": (39.0, 60.0)}, {}, {"mae": 40.0}) == []
    [alert] = r.observe_estimation(
        {"mae": (41.0, 60.0), "rmse": (50.0, 70.0)}, {}, {"mae": 40.0, "rmse": 80.0}
    )
    assert alert.labels["metric"] == "mae" and alert.detail["maximum"] == 40.0
    assert r.firing() == [(RULE, "mae")]


def test_a_metric_not_estimated_or_nan_leaves_its_alert_as_it_is() -> None:
    r, _ = rules()
    [fired] = r.observe_estimation({"accuracy": (0.5, 0.6)}, {"accuracy": 0.8}, {})
    assert fired.status == "firing"
    assert r.observe_estimation({}, {"accuracy": 0.8}, {}) == []
    assert r.observe_estimation({"accuracy": (math.nan, math.nan)}, {"accuracy": 0.8}, {}) == []
    assert r.firing() == [(RULE, "accuracy")]


def test_measured_error_metrics_fire_above_their_maximum_and_resolve() -> None:
    r, _ = rules()
    assert r.observe_validation({"mae": 39.0}, {}, {"mae": 40.0}) == []
    [alert] = r.observe_validation({"mae": 41.5, "r2": 0.3}, {"r2": 0.2}, {"mae": 40.0})
    assert alert.labels["alertname"] == "DriftwardenValidationBelowMinimum"
    assert alert.labels["metric"] == "mae" and alert.detail["maximum"] == 40.0
    [resolved] = r.observe_validation({"mae": 30.0}, {}, {"mae": 40.0})
    assert resolved.status == "resolved"
