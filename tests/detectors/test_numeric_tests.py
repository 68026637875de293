"""Every numeric test by name: in the result, report, MLflow metrics and Prometheus like KS."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from driftwarden.commands.check import render_table
from driftwarden.config.model import DriftConfig
from driftwarden.detectors import PreparedReference, check_drift
from driftwarden.detectors.ad import ad_sorted
from driftwarden.detectors.cvm import cvm_sorted
from driftwarden.detectors.drift import NUMERIC_TESTS
from driftwarden.detectors.ks import ks_sorted
from driftwarden.detectors.report import format_number, render_html
from driftwarden.detectors.report.labels import display_test
from driftwarden.observability.metrics import Metrics

DIRECT = {"ks": ks_sorted, "ad": ad_sorted, "cvm": cvm_sorted}


def test_config_names_are_the_registered_tests() -> None:
    allowed = get_args(DriftConfig.model_fields["numeric_test"].annotation)
    assert set(allowed) == set(NUMERIC_TESTS) == set(DIRECT)


def test_an_unknown_test_lists_the_valid_ones() -> None:
    with pytest.raises(ValidationError, match="'ks', 'ad' or 'cvm'"):
        DriftConfig(numeric_test="anderson")  # type: ignore[arg-type]


@pytest.mark.parametrize("test", sorted(NUMERIC_TESTS))
def test_each_test_reaches_result_report_mlflow_and_prometheus(test: str) -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=3000), "y": rng.normal(size=3000)})
    cur = pd.DataFrame({"x": rng.normal(0.4, size=300), "y": rng.normal(size=300)})
    cfg = DriftConfig(numeric_test=test)  # type: ignore[arg-type]
    result = check_drift(PreparedReference.from_frame(ref, cfg), cur, cfg)
    by_name = {f.feature: f for f in result.features}
    direct = DIRECT[test](np.sort(ref["x"].to_numpy()), np.sort(cur["x"].to_numpy()))
    assert by_name["x"].test == test
    assert (by_name["x"].statistic, by_name["x"].p_value, by_name["x"].method) == (
        direct.statistic,
        direct.p_value,
        direct.method,
    )
    assert result.drifted_features == ["x"]
    page = render_html(result)
    row = (
        '<a href="#f0">x</a></td><td class="l">numeric</td>'
        f'<td class="l">{display_test(test)}</td><td>{format_number(direct.statistic)}</td>'
    )
    assert row in page
    table_rows = [line.split() for line in render_table(result, "r", "c").splitlines()]
    assert ["x", test, format_number(direct.statistic)] in [row[:3] for row in table_rows]
    metrics = result.to_mlflow_metrics()
    assert metrics["feature.x.p_value"] == direct.p_value
    registry = CollectorRegistry()
    Metrics(registry).observe_drift_result("m", result)
    labels = {"model": "m", "feature": "x", "test": test}
    assert registry.get_sample_value("driftwarden_feature_drift_p_value", labels) == direct.p_value
    assert (
        registry.get_sample_value("driftwarden_feature_drift_statistic", labels) == direct.statistic
    )


def test_switching_the_numeric_test_replaces_the_prometheus_series() -> None:
    """A config reload from ks to ad leaves no stale ``test="ks"`` series behind."""
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=500)})
    cur = pd.DataFrame({"x": rng.normal(size=100)})
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    for test in ("ks", "ad"):
        cfg = DriftConfig(numeric_test=test)  # type: ignore[arg-type]
        metrics.observe_drift_result(
            "m", check_drift(PreparedReference.from_frame(ref, cfg), cur, cfg)
        )
    ks = {"model": "m", "feature": "x", "test": "ks"}
    ad = {"model": "m", "feature": "x", "test": "ad"}
    assert registry.get_sample_value("driftwarden_feature_drift_p_value", ks) is None
    assert registry.get_sample_value("driftwarden_feature_drift_p_value", ad) is not None
    assert registry.get_sample_value("driftwarden_feature_drift_statistic", ad) is not None
