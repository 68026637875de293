"""A real Prometheus on 127.0.0.1 scrapes a MetricsServer and answers PromQL about driftwarden.

The daemon-driven variant (Prometheus scraping `driftwarden run`) builds on the same
helpers in tests/support/prom_tools.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.observability.http import HealthState, MetricsServer
from driftwarden.observability.metrics import Metrics
from tests.support.prom_tools import PrometheusServer, wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "config" / "prometheus" / "alerts.yml"
DASHBOARD = REPO / "config" / "grafana" / "dashboard.json"

DRIFT_RESULT = {
    "dataset_drift": True,
    "drifted_features": ["petal_length"],
    "features": [
        {
            "feature": "petal_length",
            "test": "ks",
            "statistic": 0.42,
            "p_value": 3e-7,
            "p_value_corrected": 9e-7,
            "effect_size": 0.61,
            "drifted": True,
        },
        {
            "feature": "sepal_width",
            "test": "ks",
            "statistic": 0.05,
            "p_value": 0.81,
            "p_value_corrected": 1.0,
            "effect_size": 0.04,
            "drifted": False,
        },
        {
            "feature": "species",
            "test": "chi2",
            "statistic": 1.2,
            "p_value": 0.55,
            "p_value_corrected": 1.0,
            "effect_size": 0.02,
            "drifted": False,
        },
    ],
}


@pytest.fixture(scope="module")
def exporter() -> Iterator[MetricsServer]:
    metrics = Metrics(CollectorRegistry())
    metrics.initialise("iris")
    metrics.observe_drift_result("iris", DRIFT_RESULT)
    metrics.observe_validation("iris", {"accuracy": 0.93, "f1": 0.91}, version=3)
    metrics.observe_estimation(
        "iris", {"accuracy": 0.88}, {"accuracy": (0.84, 0.92)}, {"accuracy": -0.02}, 0.3
    )
    metrics.observe_check("iris", "drift", "drift", duration_seconds=0.4)
    metrics.observe_file("processed")
    health = HealthState()
    health.mark_config_loaded()
    health.mark_scan_done()
    server = MetricsServer(metrics, health, "127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def prometheus(
    exporter: MetricsServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    server = PrometheusServer(
        tmp_path_factory.mktemp("prometheus"), [f"127.0.0.1:{exporter.port}"], rule_files=[RULES]
    )
    server.start()
    try:
        wait_for(lambda: server.query('up{job="driftwarden"} == 1'), 30, "first successful scrape")
        yield server
    finally:
        server.stop()


def values(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {series["metric"][label]: float(series["value"][1]) for series in result}


def test_target_is_up_and_scraped_on_loopback(
    prometheus: PrometheusServer, exporter: MetricsServer
) -> None:
    (target,) = prometheus.api("targets")["activeTargets"]
    assert target["health"] == "up"
    assert target["scrapeUrl"] == f"http://127.0.0.1:{exporter.port}/metrics"


def test_driftwarden_series_are_queryable(prometheus: PrometheusServer) -> None:
    p_values = values(
        prometheus.query('driftwarden_feature_drift_p_value{model="iris"}'), "feature"
    )
    assert p_values == {"petal_length": 3e-7, "sepal_width": 0.81, "species": 0.55}
    statistic = prometheus.query(
        'driftwarden_feature_drift_statistic{feature="petal_length", test="ks"}'
    )
    assert float(statistic[0]["value"][1]) == 0.42
    assert float(prometheus.query('driftwarden_dataset_drift{model="iris"}')[0]["value"][1]) == 1
    assert values(prometheus.query('driftwarden_validation_metric{model="iris"}'), "metric") == {
        "accuracy": 0.93,
        "f1": 0.91,
    }
    assert float(prometheus.query("driftwarden_production_model_version")[0]["value"][1]) == 3
    checks = prometheus.query(
        'driftwarden_checks_total{model="iris", kind="drift", outcome="drift"}'
    )
    assert float(checks[0]["value"][1]) == 1
    assert prometheus.query('driftwarden_check_duration_seconds_count{kind="drift"}')
    assert prometheus.query('driftwarden_build_info{version!=""}')
    names = set(prometheus.api("label/__name__/values"))
    assert {
        "driftwarden_files_total",
        "driftwarden_mlflow_pending_writes",
        "driftwarden_alerts_total",
    } <= names


def test_new_values_show_up_in_prometheus(
    prometheus: PrometheusServer, exporter: MetricsServer
) -> None:
    exporter.metrics.set_pending_writes(7)
    wait_for(
        lambda: prometheus.query("driftwarden_mlflow_pending_writes == 7"), 15, "pending writes = 7"
    )
    exporter.metrics.set_pending_writes(0)
    wait_for(
        lambda: prometheus.query("driftwarden_mlflow_pending_writes == 0"), 15, "pending writes = 0"
    )


def test_shipped_rules_load_and_evaluate_against_real_series(
    prometheus: PrometheusServer, exporter: MetricsServer
) -> None:
    groups = prometheus.api("rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 8
    assert all(rule["health"] == "ok" for rule in rules), [r for r in rules if r["health"] != "ok"]
    # dataset drift is 1: its alert is pending (for: 1m) within a couple of evaluations
    wait_for(
        lambda: [
            a
            for a in prometheus.api("alerts")["alerts"]
            if a["labels"]["alertname"] == "DriftwardenDatasetDrift"
        ],
        15,
        "DriftwardenDatasetDrift pending",
    )
    # a check error after the zero-initialised series was scraped: firing at once (no `for`)
    exporter.metrics.observe_check("iris", "validation", "error")

    def check_errors_firing() -> list[dict[str, Any]]:
        return [
            a
            for a in prometheus.api("alerts")["alerts"]
            if a["labels"]["alertname"] == "DriftwardenCheckErrors" and a["state"] == "firing"
        ]

    (alert,) = wait_for(check_errors_firing, 20, "DriftwardenCheckErrors firing")
    assert alert["labels"]["model"] == "iris" and alert["labels"]["kind"] == "validation"


def test_every_dashboard_query_is_valid_promql(prometheus: PrometheusServer) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    empty = []
    for expr in exprs:
        concrete = (
            expr.replace("$model", ".*").replace("$__rate_interval", "1m").replace("$__range", "1h")
        )
        if not prometheus.query(concrete):  # raises ValueError on a PromQL error
            empty.append(expr)
    # rate/increase-based panels may still be empty this early; the gauges must not be
    assert not [e for e in empty if "increase(" not in e and "rate(" not in e], empty


def test_the_dashboard_lists_only_flagged_features_with_their_numbers(
    prometheus: PrometheusServer,
) -> None:
    """The "Drifted features" table: effect, corrected p and raw p of flagged features only."""
    dashboard = json.loads(DASHBOARD.read_text())
    panel = next(p for p in dashboard["panels"] if p["title"] == "Drifted features (last check)")
    got = {}
    for target in panel["targets"]:
        result = prometheus.query(target["expr"].replace("$model", ".*"))
        got[target["refId"]] = values(result, "feature")
    assert got == {
        "A": {"petal_length": 0.61},
        "B": {"petal_length": 9e-7},
        "C": {"petal_length": 3e-7},
    }
    flagged = next(p for p in dashboard["panels"] if p["title"] == "Features flagged as drifted")
    expr = flagged["targets"][0]["expr"].replace("$model", ".*").replace("$__range", "1h")
    assert values(prometheus.query(expr), "feature") == {"petal_length": 1.0}
