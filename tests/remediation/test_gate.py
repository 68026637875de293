"""The promotion rule and the metric, without model loading (the integration tests load real models)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
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

from driftwarden.remediation.decision import Decision
from driftwarden.remediation.gate import decide, score_predictions


def test_challenger_must_beat_champion_by_more_than_the_margin() -> None:
    assert decide(0.80, 0.86, 0.05, "accuracy")[0]
    assert not decide(0.80, 0.85, 0.05, "accuracy")[0]  # equal to the margin is not enough
    assert not decide(0.80, 0.80, 0.0, "accuracy")[0]  # a tie keeps the champion
    assert not decide(0.90, 0.60, 0.0, "accuracy")[0]


def test_no_champion_score_promotes() -> None:
    promote, reason = decide(None, 0.5, 0.1, "f1")
    assert promote and "no champion" in reason


@given(
    st.lists(st.integers(0, 2), min_size=1, max_size=50).flatmap(
        lambda y: st.tuples(
            st.just(y), st.lists(st.integers(0, 2), min_size=len(y), max_size=len(y))
        )
    )
)
def test_metrics_match_sklearn(pair: tuple[list[int], list[int]]) -> None:
    y_true, y_pred = pd.Series(pair[0]), np.array(pair[1])
    assert score_predictions(y_true, y_pred, "accuracy") == accuracy_score(y_true, y_pred)
    assert score_predictions(y_true, y_pred, "f1", "macro") == pytest.approx(
        f1_score(y_true, y_pred, average="macro", zero_division=0)
    )


def test_unknown_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of accuracy, f1"):
        score_predictions(pd.Series([1]), np.array([1]), "auc")


def test_decision_serialises_and_summarises() -> None:
    d = Decision(
        cycle_id="c", outcome="rejected", model="m", reason="why", champion_version="1",
        challenger_version="2", metric="accuracy", champion_score=0.9, challenger_score=0.5,
        started_at=10.0, finished_at=12.5,
    )  # fmt: skip
    data = d.to_dict()
    assert data["outcome"] == "rejected" and data["duration_seconds"] == 2.5
    assert "0.9000 -> 0.5000" in d.summary() and "why" in d.summary()
    assert '"challenger_version": "2"' in d.to_json()


def test_a_lower_error_wins_by_more_than_the_margin() -> None:
    assert decide(50.0, 44.0, 5.0, "rmse")[0]
    assert not decide(50.0, 45.0, 5.0, "rmse")[0]  # equal to the margin is not enough
    assert not decide(50.0, 50.0, 0.0, "mae")[0]  # a tie keeps the champion
    assert not decide(50.0, 60.0, 0.0, "mae")[0]
    reason = decide(50.0, 44.0, 5.0, "rmse")[1]
    assert "rmse 44.0000 is lower than champion 50.0000" in reason
    assert decide(0.5, 0.6, 0.0, "r2")[0]  # R² is higher-is-better
    assert not decide(0.5, 0.6, 0.0, "score", direction="lower")[0]


@given(
    st.lists(st.tuples(st.floats(-100, 100), st.floats(-100, 100)), min_size=2, max_size=40),
)
def test_regression_metrics_match_sklearn(pairs: list[tuple[float, float]]) -> None:
    y_true = pd.Series([a for a, _ in pairs])
    y_pred = np.array([b for _, b in pairs])
    assert score_predictions(y_true, y_pred, "mae") == pytest.approx(
        mean_absolute_error(y_true, y_pred)
    )
    assert score_predictions(y_true, y_pred, "rmse") == pytest.approx(
        root_mean_squared_error(y_true, y_pred)
    )
    assert score_predictions(y_true, y_pred, "r2") == pytest.approx(r2_score(y_true, y_pred))


def test_precision_and_recall_follow_the_averaging() -> None:
    y_true, y_pred = pd.Series(["a", "b", "b", "a", "b"]), np.array(["a", "b", "a", "a", "a"])
    assert score_predictions(y_true, y_pred, "precision", "binary") == pytest.approx(
        precision_score(y_true, y_pred, pos_label="b")
    )
    assert score_predictions(y_true, y_pred, "recall", "macro") == pytest.approx(
        recall_score(y_true, y_pred, average="macro")
    )
