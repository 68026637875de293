"""One result type: JSON round trip and MLflow metric names without special cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from mlflow.utils.validation import _validate_metric_name

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import DriftResult, PreparedReference, check_drift
from driftwarden.detectors.base import metric_names


def _result() -> DriftResult:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(
        {
            "age (years)": rng.normal(size=500),
            "age_years_": rng.normal(size=500),
            "naïve/../x": rng.normal(size=500),
            "city": rng.choice(["a", "b"], 500),
            "empty": np.nan,
        }
    )
    cur = ref.sample(frac=0.5, random_state=1).assign(city="c")
    cfg = DriftConfig()
    return check_drift(PreparedReference.from_frame(ref, cfg), cur, cfg, current_version="v2")


def test_json_round_trip_is_strict_json() -> None:
    result = _result()
    text = result.to_json()
    data = json.loads(text)  # no NaN/Infinity literals
    assert data["current_version"] == "v2"
    empty = next(f for f in data["features"] if f["feature"] == "empty")
    assert empty["error"] and empty["statistic"] is None
    assert DriftResult.from_dict(data).to_dict() == result.to_dict()


def test_mlflow_metric_names_are_valid_and_unique() -> None:
    metrics = _result().to_mlflow_metrics()
    for name, value in metrics.items():
        _validate_metric_name(name)  # raises on an invalid name
        assert math.isfinite(value)
    assert metrics["dataset_drift"] == 1.0
    p_keys = [k for k in metrics if k.startswith("feature.") and k.endswith(".p_value")]
    assert len(p_keys) == 4  # one per tested feature; 'empty' has no p-value
    assert 0.0 <= metrics["dataset.p_value"] <= 1.0  # the combining dataset rule's p-value


def test_metric_names_disambiguate_collisions() -> None:
    names = metric_names(["a b", "a_b", "ok"])
    assert names["ok"] == "ok"
    assert names["a b"] != names["a_b"]
    assert all(n.startswith("a_b_") for k, n in names.items() if k != "ok")
