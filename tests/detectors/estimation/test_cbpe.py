"""CBPE and importance-weighted CBPE on data whose true probabilities are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from driftwarden.detectors.estimation import classifier_outputs, fit_estimator


def _binary_population(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A model whose score is the true probability: ``P(y = 1 | x) = score``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    score = 1.0 / (1.0 + np.exp(-2.0 * x[:, 0]))
    y = (rng.uniform(size=n) < score).astype(int)
    return pd.DataFrame(x, columns=["a", "b", "c"]), np.column_stack([1 - score, score]), y


def test_accuracy_estimate_is_the_expected_accuracy_of_calibrated_scores() -> None:
    _, proba, y = _binary_population(6000, 0)
    ref, cur = slice(0, 3000), slice(3000, 6000)
    estimator = fit_estimator("cbpe", classifier_outputs(proba[ref], [0, 1]), y[ref])

    result = estimator.estimate(classifier_outputs(proba[cur], [0, 1]), labels=y[cur])

    expected = np.maximum(proba[cur, 0], proba[cur, 1]).mean()
    assert result.estimated["accuracy"] == pytest.approx(expected, abs=0.015)
    assert result.realized is not None
    assert result.realized["accuracy"] == pytest.approx(
        accuracy_score(y[cur], proba[cur].argmax(axis=1))
    )
    assert result.reference["accuracy"] == pytest.approx(
        accuracy_score(y[ref], proba[ref].argmax(axis=1))
    )
    low, high = result.interval["accuracy"]
    assert low < result.estimated["accuracy"] < high


def test_accuracy_interval_is_the_batch_variance_plus_the_estimates() -> None:
    _, proba, y = _binary_population(4000, 1)
    estimator = fit_estimator("cbpe", classifier_outputs(proba[:2000], [0, 1]), y[:2000])
    batch = classifier_outputs(proba[2000:2400], [0, 1])

    result = estimator.estimate(batch)

    # batch part: Poisson-binomial variance of the correct count under calibrated probabilities
    p = np.maximum(proba[2000:2400, 0], proba[2000:2400, 1])
    batch_sd = np.sqrt(np.sum(p * (1 - p))) / 400
    assert result.details["sampling_sd"] == pytest.approx(batch_sd, rel=0.1)
    half = (result.interval["accuracy"][1] - result.interval["accuracy"][0]) / 2
    z = norm.ppf(0.975)
    # at least the batch's own variance, at most that plus the evaluation set's (~2000 rows)
    assert z * batch_sd * 0.95 < half < z * np.sqrt(batch_sd**2 + 0.25 / 2000) * 1.15


def test_intervals_hold_the_realized_accuracy_on_clean_batches() -> None:
    _, proba, y = _binary_population(1000 + 60 * 200, 2)
    estimator = fit_estimator("cbpe", classifier_outputs(proba[:1000], [0, 1]), y[:1000])
    held = []
    for start in range(1000, len(y), 200):
        rows = slice(start, start + 200)
        result = estimator.estimate(classifier_outputs(proba[rows], [0, 1]), labels=y[rows])
        low, high = result.interval["accuracy"]
        assert result.realized is not None
        held.append(low <= result.realized["accuracy"] <= high)
    assert np.mean(held) >= 0.88  # nominal 95%


def _segmented(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Two segments with the same scores; in segment 1 the scores mean nothing.

    Segment 0: ``P(y = 1) = score``; segment 1: ``P(y = 1) = 0.5``. Pooled, the scores look
    fairly calibrated; a batch from segment 1 alone is far less accurate than they say.
    """
    rng = np.random.default_rng(seed)
    segment = rng.integers(0, 2, size=n)
    score = rng.beta(0.5, 0.5, size=n)
    truth_p = np.where(segment == 0, score, 0.5)
    y = (rng.uniform(size=n) < truth_p).astype(int)
    frame = pd.DataFrame({"segment": segment.astype(float), "noise": rng.normal(size=n)})
    return frame, np.column_stack([1 - score, score]), y


def test_importance_weighting_fixes_a_segment_the_pooled_calibration_gets_wrong() -> None:
    frame, proba, y = _segmented(8000, 3)
    ref = np.arange(3000)
    pool = np.arange(3000, 8000)
    batch = pool[frame["segment"].to_numpy()[pool] == 1][:1000]
    outputs = classifier_outputs(proba[ref], [0, 1])
    plain = fit_estimator("cbpe", outputs, y[ref], frame.iloc[ref])
    weighted = fit_estimator("iw-cbpe", outputs, y[ref], frame.iloc[ref])
    current = classifier_outputs(proba[batch], [0, 1])

    realized = accuracy_score(y[batch], proba[batch].argmax(axis=1))
    by_plain = plain.estimate(current, frame.iloc[batch])
    by_weights = weighted.estimate(current, frame.iloc[batch])

    assert realized == pytest.approx(0.5, abs=0.05)
    assert by_plain.estimated["accuracy"] - realized > 0.1  # pooled calibration: overconfident
    assert abs(by_weights.estimated["accuracy"] - realized) < 0.04
    assert by_weights.details["weighted"] and not by_plain.details["weighted"]
    assert by_weights.details["effective_reference_rows"] < 3000
    low, high = by_weights.interval["accuracy"]
    assert low <= realized <= high


def test_without_a_shift_the_weighted_method_is_plain_cbpe() -> None:
    frame, proba, y = _binary_population(3000, 4)
    outputs = classifier_outputs(proba[:1500], [0, 1])
    plain = fit_estimator("cbpe", outputs, y[:1500], frame.iloc[:1500])
    weighted = fit_estimator("iw-cbpe", outputs, y[:1500], frame.iloc[:1500])
    batch = classifier_outputs(proba[1500:], [0, 1])

    a = plain.estimate(batch, frame.iloc[1500:])
    b = weighted.estimate(batch, frame.iloc[1500:])

    assert not b.details["weighted"]
    assert b.estimated == a.estimated
    assert b.interval == a.interval


def test_multiclass_metrics_track_the_realized_ones() -> None:
    rng = np.random.default_rng(5)
    n = 9000
    logits = rng.normal(size=(n, 3)) * 1.5
    truth_p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in truth_p])
    # an overconfident model: sharpened scores
    scores = truth_p**2 / (truth_p**2).sum(axis=1, keepdims=True)
    labels = np.array(["a", "b", "c"])
    estimator = fit_estimator(
        "cbpe", classifier_outputs(scores[:3000], labels), labels[y[:3000]], average="weighted"
    )

    result = estimator.estimate(classifier_outputs(scores[3000:], labels), labels=labels[y[3000:]])

    predicted = scores[3000:].argmax(axis=1)
    realized = {
        "accuracy": accuracy_score(y[3000:], predicted),
        "precision": precision_score(y[3000:], predicted, average="weighted"),
        "recall": recall_score(y[3000:], predicted, average="weighted"),
        "f1": f1_score(y[3000:], predicted, average="weighted"),
    }
    assert result.realized == pytest.approx(realized)
    for name, value in realized.items():
        assert result.estimated[name] == pytest.approx(value, abs=0.02), name
        low, high = result.interval[name]
        assert low <= value <= high, name
    # uncalibrated, the model would promise more than it delivers
    assert scores[3000:].max(axis=1).mean() > realized["accuracy"] + 0.05
