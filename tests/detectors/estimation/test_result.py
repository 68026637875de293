"""The estimation result record: JSON round trip, breaches by direction, estimation error."""

from __future__ import annotations

import json
import math

import pytest

from driftwarden.detectors.estimation import EstimationResult


def _result(realized: dict[str, float] | None = None) -> EstimationResult:
    return EstimationResult(
        method="iw-cbpe",
        task="classification",
        rows=200,
        estimated={"accuracy": 0.81, "f1": 0.7},
        interval={"accuracy": (0.76, 0.86), "f1": (0.6, 0.8)},
        reference={"accuracy": 0.9, "f1": math.nan},
        realized=realized,
        details={"weighted": True},
    )


def test_json_round_trip_with_no_nan_literals() -> None:
    result = _result({"accuracy": 0.8, "f1": 0.72})
    text = result.to_json()
    data = json.loads(text)
    assert data["reference"]["f1"] is None
    assert data["interval"]["accuracy"] == [0.76, 0.86]
    back = EstimationResult.from_dict(data)
    assert back.estimated == result.estimated and back.interval == result.interval
    assert back.realized == result.realized
    assert math.isnan(back.reference["f1"])


def test_breaches_need_the_whole_interval_past_the_limit() -> None:
    result = _result()
    assert result.breaches({"accuracy": 0.85}, {}) == {}  # the upper bound 0.86 is not below
    assert result.breaches({"accuracy": 0.9, "unknown": 1.0}, {}) == {"accuracy": (0.86, 0.9)}
    regression = EstimationResult(
        "dle", "regression", 50, {"mae": 12.0}, {"mae": (10.0, 14.0)}, {"mae": 8.0}
    )
    assert regression.breaches({}, {"mae": 11.0}) == {}
    assert regression.breaches({}, {"mae": 9.5}) == {"mae": (10.0, 9.5)}


def test_errors_and_mlflow_metrics() -> None:
    result = _result({"accuracy": 0.8})
    assert result.errors() == {"accuracy": pytest.approx(0.01)}
    metrics = result.to_mlflow_metrics()
    assert metrics["estimated_accuracy_lower"] == 0.76
    assert metrics["estimation_error_accuracy"] == pytest.approx(0.01)
    assert "estimation_error_f1" not in metrics
    assert _result().errors() == {}
