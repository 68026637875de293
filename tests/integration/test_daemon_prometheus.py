"""A real Prometheus on 127.0.0.1 scrapes the running daemon (in process, its real endpoint)
and answers PromQL about the files it checked; the shipped rules load against its series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.prom_tools import PrometheusServer, require_tool, wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "config" / "prometheus" / "alerts.yml"
MODEL = "test-model"


@dataclass
class Stack:
    daemon: InProcessDaemon
    prometheus: PrometheusServer
    drop: Path
    metrics_port: int


@pytest.fixture
def stack(tmp_path: Path, start_daemon: Callable[..., InProcessDaemon]) -> Iterator[Stack]:
    binary = require_tool("prometheus")  # skip (or fail under CI) before starting anything
    daemon = start_daemon(daemon_config(tmp_path, watch={"settle_seconds": 0.2}))
    port = int(urlsplit(daemon.url).port or 0)
    prometheus = PrometheusServer(
        tmp_path / "prometheus", [f"127.0.0.1:{port}"], rule_files=[RULES], binary=binary
    )
    prometheus.start()
    try:
        wait_for(lambda: prometheus.query('up{job="driftwarden"} == 1'), 30, "first scrape")
        yield Stack(daemon, prometheus, tmp_path / "drop", port)
    finally:
        prometheus.stop()


def scalar(prometheus: PrometheusServer, expr: str) -> float | None:
    result = prometheus.query(expr)
    if not result:
        return None
    assert len(result) == 1, result
    return float(result[0]["value"][1])


def wait_value(prometheus: PrometheusServer, expr: str, expected: float) -> None:
    wait_for(lambda: scalar(prometheus, expr) == expected, 30, f"{expr} == {expected}")


def test_prometheus_scrapes_the_daemon_and_sees_each_drop(stack: Stack) -> None:
    prom = stack.prometheus
    (target,) = prom.api("targets")["activeTargets"]
    assert target["health"] == "up"
    assert target["scrapeUrl"] == f"http://127.0.0.1:{stack.metrics_port}/metrics"
    # Before any drop: the zero-initialised series are there already.
    assert scalar(prom, 'driftwarden_files_total{outcome="processed"}') == 0
    assert scalar(prom, f'driftwarden_dataset_drift{{model="{MODEL}"}}') == 0
    assert prom.query('driftwarden_build_info{version!=""}')

    write_csv(stack.drop / "drifted.csv", sample_frame(500, seed=2, shift=1.0))
    wait_value(prom, 'driftwarden_files_total{outcome="processed"}', 1)
    wait_value(prom, f'driftwarden_dataset_drift{{model="{MODEL}"}}', 1)
    assert scalar(prom, f'driftwarden_drifted_features{{model="{MODEL}"}}') == 1
    p_values = prom.query(f'driftwarden_feature_drift_p_value{{model="{MODEL}"}}')
    by_feature = {s["metric"]["feature"]: float(s["value"][1]) for s in p_values}
    assert set(by_feature) == {"x1", "x2", "cat"}
    assert by_feature["x1"] < 1e-6 < by_feature["x2"]
    assert (
        scalar(prom, f'driftwarden_checks_total{{model="{MODEL}",kind="drift",outcome="drift"}}')
        == 1
    )

    write_csv(stack.drop / "clean.csv", sample_frame(500, seed=3))
    wait_value(prom, 'driftwarden_files_total{outcome="processed"}', 2)
    wait_value(prom, f'driftwarden_dataset_drift{{model="{MODEL}"}}', 0)
    assert scalar(prom, 'sum(driftwarden_check_duration_seconds_count{kind="drift"})') == 2
    assert (
        scalar(prom, f'driftwarden_last_success_timestamp_seconds{{model="{MODEL}",kind="drift"}}')
        or 0
    ) > 0

    empty = sample_frame(0, seed=4)
    write_csv(stack.drop / "empty.csv", empty)
    wait_value(prom, 'driftwarden_files_total{outcome="quarantined"}', 1)
    # Counters as Prometheus sees them over time: two files processed since start.
    assert scalar(prom, 'max_over_time(driftwarden_files_total{outcome="processed"}[5m])') == 2
    names = set(prom.api("label/__name__/values"))
    assert {
        "driftwarden_mlflow_pending_writes",
        "driftwarden_alerts_total",
        "driftwarden_retrains_total",
        "driftwarden_check_duration_seconds_bucket",
    } <= names


def test_shipped_rules_load_and_evaluate_on_the_daemons_series(stack: Stack) -> None:
    prom = stack.prometheus
    groups = prom.api("rules")["groups"]
    rules: list[dict[str, Any]] = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 8
    wait_for(
        lambda: all(
            r.get("health") == "ok" for g in prom.api("rules")["groups"] for r in g["rules"]
        ),
        15,
        "every rule evaluated without error",
    )
    write_csv(stack.drop / "drifted.csv", sample_frame(500, seed=2, shift=1.0))
    wait_for(
        lambda: [
            a
            for a in prom.api("alerts")["alerts"]
            if a["labels"]["alertname"] == "DriftwardenDatasetDrift"
            and a["labels"].get("model") == MODEL
        ],
        30,
        "DriftwardenDatasetDrift pending or firing on the daemon's series",
    )
    # A quarantined file fires at once (no `for`): the rule sees the counter move from 0.
    write_csv(stack.drop / "empty.csv", sample_frame(0, seed=4))
    (alert,) = wait_for(
        lambda: [
            a
            for a in prom.api("alerts")["alerts"]
            if a["labels"]["alertname"] == "DriftwardenFilesQuarantined" and a["state"] == "firing"
        ],
        30,
        "DriftwardenFilesQuarantined firing",
    )
    assert alert["labels"]["outcome"] == "quarantined"
