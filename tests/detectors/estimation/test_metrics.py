"""Confusion-matrix metrics against scikit-learn as the oracle (counted matrices)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    root_mean_squared_error,
)

from driftwarden.detectors.estimation.metrics import (
    classification_metrics,
    classification_metrics_many,
    confusion_rates,
    regression_metrics,
)
from tests.support.hypothesis_profiles import examples

K = 4
pairs = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, K - 1), min_size=n, max_size=n),
        st.lists(st.integers(0, K - 1), min_size=n, max_size=n),
    )
)


@settings(max_examples=examples(80), deadline=None)
@given(pairs, st.sampled_from(["macro", "weighted", "micro"]))
@example(([0, 0, 0], [0, 0, 0]), "macro")  # one class only
@example(([0, 1], [2, 3]), "weighted")  # predicted classes never true
def test_counted_matrix_matches_sklearn(pair: tuple[list[int], list[int]], average: str) -> None:
    truth, predicted = np.array(pair[0]), np.array(pair[1])
    rates = confusion_rates(truth, predicted, K)

    got = classification_metrics(rates, average, K - 1, truth.size)

    kw = {"average": average, "zero_division": 0}
    assert got["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert got["precision"] == pytest.approx(precision_score(truth, predicted, **kw))
    assert got["recall"] == pytest.approx(recall_score(truth, predicted, **kw))
    assert got["f1"] == pytest.approx(f1_score(truth, predicted, **kw))


@settings(max_examples=examples(40), deadline=None)
@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
        )
    )
)
def test_binary_counts_the_positive_class(pair: tuple[list[int], list[int]]) -> None:
    truth, predicted = np.array(pair[0]), np.array(pair[1])
    present = set(pair[0]) | set(pair[1])
    got = classification_metrics(confusion_rates(truth, predicted, 2), "binary", 1, truth.size)
    if len(present) == 2:
        expected = f1_score(truth, predicted, pos_label=1, zero_division=0)
    else:  # one label only: binary falls back to macro, as detectors.validation does
        expected = f1_score(truth, predicted, average="macro", zero_division=0)
    assert got["f1"] == pytest.approx(expected)


def test_many_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(0)
    stack = rng.dirichlet(np.ones(9), size=20).reshape(20, 3, 3)
    many = classification_metrics_many(stack, "macro", 2, 100)
    for i, rates in enumerate(stack):
        one = classification_metrics(rates, "macro", 2, 100)
        assert {k: v[i] for k, v in many.items()} == pytest.approx(one)


def test_expected_matrix_counts_a_class_present_from_half_a_row() -> None:
    # Class 2 has 0.004 of 100 rows: absent, so macro averages over classes 0 and 1 only.
    rates = np.array([[0.5, 0.0, 0.0], [0.0, 0.496, 0.0], [0.0, 0.0, 0.004]])
    assert classification_metrics(rates, "macro", 2, 100)["f1"] == pytest.approx(1.0)
    assert classification_metrics(rates, "macro", 2, 1000)["f1"] == pytest.approx(1.0)
    off = np.array([[0.5, 0.0, 0.0], [0.0, 0.496, 0.004], [0.0, 0.0, 0.0]])
    assert classification_metrics(off, "macro", 2, 1000)["f1"] == pytest.approx(
        (1.0 + 2 * 0.496 / (0.496 + 0.5) + 0.0) / 3
    )


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(-10, 10))
def test_regression_metrics_match_sklearn(values: list[float], shift: float) -> None:
    truth = np.array(values)
    predicted = truth + shift * np.cos(np.arange(truth.size))
    got = regression_metrics(truth, predicted)
    assert got["mae"] == pytest.approx(mean_absolute_error(truth, predicted), abs=1e-9)
    assert got["rmse"] == pytest.approx(root_mean_squared_error(truth, predicted), abs=1e-9)
