"""One-vs-rest isotonic calibration: scikit-learn's isotonic regression as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold

from driftwarden.detectors.estimation.calibration import OneVsRestCalibrator, cross_fitted


def _binary(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=n)
    truth = (rng.uniform(size=n) < score**2).astype(int)  # overconfident scores
    return np.column_stack([1 - score, score]), truth


def test_binary_is_smoothed_isotonic_regression_of_the_positive_score() -> None:
    proba, truth = _binary(300, 0)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=300)

    calibrated = OneVsRestCalibrator().fit(proba, truth, weights).predict(proba)

    oracle = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")
    level = oracle.fit(proba[:, 1], truth, sample_weight=weights).predict(proba[:, 1])
    pooled = np.array([weights[level == v].sum() for v in level])  # weight of each row's pool
    rate = np.dot(weights, truth) / weights.sum()
    assert calibrated[:, 1] == pytest.approx((level * pooled + rate) / (pooled + 1.0))
    assert calibrated.sum(axis=1) == pytest.approx(np.ones(300))


def test_a_pool_of_only_correct_rows_is_not_certain() -> None:
    proba = np.column_stack([np.linspace(0.9, 0.0, 40), np.linspace(0.1, 1.0, 40)])
    truth = np.ones(40, dtype=int)
    truth[0] = 0
    calibrated = OneVsRestCalibrator().fit(proba, truth).predict(np.array([[0.0, 1.0]]))
    assert calibrated[0, 1] == pytest.approx((39 + 39 / 40) / 40)  # one pseudo-row at the rate


def test_calibration_learns_the_true_probability() -> None:
    proba, truth = _binary(20_000, 2)
    calibrated = OneVsRestCalibrator().fit(proba, truth).predict(np.array([[0.5, 0.5], [0.1, 0.9]]))
    assert calibrated[:, 1] == pytest.approx([0.25, 0.81], abs=0.04)


def test_multiclass_rows_sum_to_one_and_follow_each_class() -> None:
    rng = np.random.default_rng(3)
    proba = rng.dirichlet(np.ones(3), size=500)
    truth = np.array([rng.choice(3, p=p) for p in proba])
    calibrated = OneVsRestCalibrator().fit(proba, truth).predict(proba)
    assert calibrated.sum(axis=1) == pytest.approx(np.ones(500))
    # already calibrated scores: the map stays close to the identity on average
    assert np.abs(calibrated - proba).mean() < 0.1


def test_a_class_with_one_outcome_keeps_the_scores() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    truth = np.array([0, 1, 0])  # class 2 never occurs: nothing to learn for it
    calibrated = OneVsRestCalibrator().fit(proba, truth).predict(proba)
    assert np.all(np.isfinite(calibrated))
    assert calibrated.sum(axis=1) == pytest.approx(np.ones(3))


def test_cross_fitted_values_come_from_models_that_did_not_see_the_row() -> None:
    proba, truth = _binary(200, 4)

    got = cross_fitted(proba, truth, None, folds=5, seed=0)

    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(proba, truth)
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        model = OneVsRestCalibrator().fit(proba[train], truth[train])
        assert got[test] == pytest.approx(model.predict(proba[test]))


def test_cross_fitting_copes_with_a_class_of_one_row() -> None:
    proba = np.array([[0.8, 0.1, 0.1]] * 9 + [[0.1, 0.1, 0.8]])
    truth = np.array([0, 1] * 4 + [0, 2])
    got = cross_fitted(proba, truth, None, folds=5, seed=0)
    assert got.sum(axis=1) == pytest.approx(np.ones(10))
