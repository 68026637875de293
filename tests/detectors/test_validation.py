"""Validation metrics against scikit-learn as the oracle, with hypothesis for label edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    root_mean_squared_error,
)

from driftwarden.config.model import ValidationConfig
from driftwarden.detectors.validation import ValidationResult, evaluate_predictions
from tests.support.hypothesis_profiles import examples

ALL = ValidationConfig(metrics=["accuracy", "f1", "precision", "recall"])

labels = st.lists(st.integers(0, 3), min_size=1, max_size=60)


@settings(max_examples=examples(60), deadline=None)
@given(data=st.data())
def test_metrics_match_sklearn_macro(data: st.DataObject) -> None:
    y_true = data.draw(labels)
    y_pred = data.draw(st.lists(st.integers(0, 3), min_size=len(y_true), max_size=len(y_true)))

    result = evaluate_predictions(y_true, y_pred, ALL)

    kw = {"average": "macro", "zero_division": 0}
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert result.metrics["f1"] == pytest.approx(f1_score(y_true, y_pred, **kw))
    assert result.metrics["precision"] == pytest.approx(precision_score(y_true, y_pred, **kw))
    assert result.metrics["recall"] == pytest.approx(recall_score(y_true, y_pred, **kw))
    assert result.n_rows == len(y_true)
    assert ValidationResult.from_dict(json.loads(result.to_json())) == result


def test_binary_uses_the_larger_label_as_positive_and_falls_back_to_macro() -> None:
    cfg = ValidationConfig(f1_average="binary")
    y_true = ["no", "yes", "yes", "no", "yes"]
    y_pred = ["no", "yes", "no", "no", "yes"]

    binary = evaluate_predictions(y_true, y_pred, cfg)
    multi = evaluate_predictions([0, 1, 2, 2], [0, 1, 2, 1], cfg)

    assert binary.average == "binary"
    assert binary.metrics["f1"] == pytest.approx(f1_score(y_true, y_pred, pos_label="yes"))
    assert multi.average == "macro"
    assert multi.metrics["f1"] == pytest.approx(
        f1_score([0, 1, 2, 2], [0, 1, 2, 1], average="macro")
    )


def test_only_configured_metrics_but_always_accuracy() -> None:
    result = evaluate_predictions(
        [1, 0, 1], [1, 1, 1], ValidationConfig(metrics=["f1"], minimums={})
    )
    assert set(result.metrics) == {"accuracy", "f1"}
    assert result.to_mlflow_metrics() == {
        "validation_accuracy": pytest.approx(2 / 3),
        "validation_f1": result.metrics["f1"],
    }


def test_report_and_breaches() -> None:
    result = evaluate_predictions(np.array([0, 1, 1, 1]), np.array([0, 1, 0, 1]), ALL, "7")

    assert "macro avg" in result.report
    assert result.report_dict["0"]["support"] == 1
    assert result.model_version == "7"
    assert result.breaches({"accuracy": 0.9, "f1": 0.1, "unknown": 1.0}) == {
        "accuracy": (0.75, 0.9)
    }


def test_bad_shapes_are_value_errors() -> None:
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        evaluate_predictions([0, 1, 1], [0, 1], ALL)
    with pytest.raises(ValueError, match="no labelled rows"):
        evaluate_predictions([], [], ALL)


@pytest.mark.parametrize("dtype", [int, float])
def test_binary_positive_label_is_the_numerically_larger(dtype: type) -> None:
    """Labels 2 and 10: the positive label is 10 (as text "2" > "10")."""
    cfg = ValidationConfig(f1_average="binary")
    y_true = np.array([2, 10, 10, 2, 10, 2], dtype=dtype)
    y_pred = np.array([2, 10, 2, 2, 2, 10], dtype=dtype)
    result = evaluate_predictions(y_true, y_pred, cfg)
    assert result.average == "binary"
    expected = f1_score(y_true, y_pred, pos_label=dtype(10))
    assert expected != pytest.approx(f1_score(y_true, y_pred, pos_label=dtype(2)))
    assert result.metrics["f1"] == pytest.approx(expected)
    assert result.labels == [str(dtype(2)), str(dtype(10))]


# ---- regression --------------------------------------------------------------------------

numbers = st.floats(-1e4, 1e4, allow_nan=False)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.tuples(numbers, numbers), min_size=2, max_size=60))
def test_regression_metrics_match_sklearn(pairs: list[tuple[float, float]]) -> None:
    y_true = [a for a, _ in pairs]
    y_pred = [b for _, b in pairs]

    result = evaluate_predictions(y_true, y_pred, ValidationConfig(), task="regression")

    assert result.task == "regression"
    assert result.metrics["mae"] == pytest.approx(mean_absolute_error(y_true, y_pred))
    assert result.metrics["rmse"] == pytest.approx(root_mean_squared_error(y_true, y_pred))
    assert result.metrics["r2"] == pytest.approx(r2_score(y_true, y_pred))
    assert result.n_rows == len(pairs)
    assert ValidationResult.from_dict(json.loads(result.to_json())) == result


def test_regression_with_one_row_has_no_r2_and_reports_the_errors() -> None:
    result = evaluate_predictions([3.0], [1.0], ValidationConfig(), task="regression")
    assert result.metrics == {"mae": 2.0, "rmse": 2.0}
    assert "max_absolute_error" in result.report
    assert result.to_mlflow_metrics() == {"validation_mae": 2.0, "validation_rmse": 2.0}


def test_regression_refuses_values_that_are_not_numbers() -> None:
    with pytest.raises(ValueError, match="finite numbers"):
        evaluate_predictions([1.0, float("nan")], [1.0, 2.0], ValidationConfig(), task="regression")


def test_breaches_have_minimums_and_maximums() -> None:
    result = evaluate_predictions(
        [1.0, 2.0, 3.0], [2.0, 2.0, 2.0], ValidationConfig(), task="regression"
    )
    assert result.breaches({"r2": 0.5}, {"mae": 0.5, "rmse": 5.0}) == {
        "r2": (0.0, 0.5),
        "mae": (pytest.approx(2 / 3), 0.5),
    }
