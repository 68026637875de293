"""The Grafana dashboard: valid JSON, a $model variable, and PromQL on real metric names only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerts.promql import PROMETHEUS_SERIES, exported_names, metric_names

GRAFANA = Path(__file__).resolve().parents[2] / "config" / "grafana"


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GRAFANA / "dashboard.json").read_text())
    return data


def walk_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def dashboard_exprs() -> list[str]:
    return [
        target["expr"]
        for panel in walk_panels(dashboard()["panels"])
        for target in panel.get("targets", [])
    ]


def test_metric_name_extraction() -> None:
    expr = 'histogram_quantile(0.95, sum by (le, kind) (rate(foo_bucket{model=~"$model", x="a b"}[$__rate_interval]))) / bar'
    assert metric_names(expr) == {"foo_bucket", "bar"}
    assert metric_names('time() - max by (model) (ts{kind="drift"}) > 7200') == {"ts"}


def test_every_expr_uses_only_exported_metric_names() -> None:
    known = exported_names() | PROMETHEUS_SERIES
    exprs = dashboard_exprs()
    assert len(exprs) >= 15
    for expr in exprs:
        names = metric_names(expr)
        assert names, f"no metric in {expr!r}"
        assert names <= known, f"{expr!r} uses unknown metric(s) {sorted(names - known)}"


def test_the_model_variable_drives_the_model_scoped_panels() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert variables["model"]["query"]["query"] == "label_values(driftwarden_dataset_drift, model)"
    assert metric_names("driftwarden_dataset_drift") <= exported_names()
    assert variables["datasource"]["type"] == "datasource"
    for expr in dashboard_exprs():
        uses_model_label = any(
            n
            in {
                "driftwarden_dataset_drift",
                "driftwarden_feature_drift_p_value",
                "driftwarden_feature_drifted",
                "driftwarden_feature_drift_effect",
                "driftwarden_feature_drift_corrected_p_value",
                "driftwarden_features_left_out",
                "driftwarden_checks_total",
            }
            for n in metric_names(expr)
        )
        if uses_model_label:
            assert 'model=~"$model"' in expr, expr


@pytest.mark.parametrize(
    "metric",
    [
        "driftwarden_feature_drift_statistic",
        "driftwarden_feature_drift_p_value",
        "driftwarden_feature_drifted",
        "driftwarden_feature_drift_effect",
        "driftwarden_feature_drift_corrected_p_value",
        "driftwarden_features_left_out",
        "driftwarden_dataset_drift",
        "driftwarden_validation_metric",
        "driftwarden_production_model_version",
        "driftwarden_checks_total",
        "driftwarden_files_total",
        "driftwarden_retrains_total",
        "driftwarden_mlflow_pending_writes",
    ],
)
def test_required_panels_exist(metric: str) -> None:
    assert any(metric in metric_names(e) for e in dashboard_exprs())


def test_validation_panel_shows_the_production_version() -> None:
    panel = next(
        p for p in walk_panels(dashboard()["panels"]) if p["title"].startswith("Validation metrics")
    )
    names = set().union(*(metric_names(t["expr"]) for t in panel["targets"]))
    assert names == {"driftwarden_validation_metric", "driftwarden_production_model_version"}


def test_panel_ids_are_unique_and_every_panel_uses_the_datasource_variable() -> None:
    panels = list(walk_panels(dashboard()["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_provisioning_examples_parse() -> None:
    datasources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    assert datasources["apiVersion"] == 1
    assert datasources["datasources"][0]["type"] == "prometheus"
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/driftwarden.yml").read_text())
    assert providers["providers"][0]["type"] == "file"
    assert providers["providers"][0]["options"]["path"]


def test_the_per_feature_p_value_panel_plots_the_corrected_p_that_decides() -> None:
    """The raw p-value misleads (features below alpha that were not flagged): the time series
    of p-values is the corrected one, and the raw one appears only beside flagged features."""
    panels = {p["title"]: p for p in walk_panels(dashboard()["panels"])}
    [plotted] = panels["Corrected p-value per feature"]["targets"]
    assert metric_names(plotted["expr"]) == {"driftwarden_feature_drift_corrected_p_value"}
    for target in panels["Drifted features (last check)"]["targets"]:
        assert "driftwarden_feature_drifted" in metric_names(target["expr"]), target["expr"]
