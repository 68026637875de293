"""Importance weights from the domain classifier: none without a shift, towards the batch with one."""

from __future__ import annotations

import numpy as np
import pytest

from driftwarden.detectors.estimation.weights import domain_weights, uniform


def test_two_samples_of_one_population_get_no_weights() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(600, 5))
    current = rng.normal(size=(400, 5))

    weights = domain_weights(reference, current, seed=0)

    assert not weights.applied
    assert np.all(weights.weights == 1.0)
    assert weights.p_value >= 0.01
    assert weights.auc == pytest.approx(0.5, abs=0.06)


def test_a_subpopulation_gets_the_weight() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(800, 4))
    pool = rng.normal(size=(4000, 4))
    current = pool[pool[:, 2] > 0.5][:400]  # only rows with a large third feature

    weights = domain_weights(reference, current, seed=0)

    assert weights.applied
    assert weights.auc > 0.75
    assert weights.weights.mean() == pytest.approx(1.0)
    inside = reference[:, 2] > 0.5
    assert weights.weights[inside].mean() > 5 * weights.weights[~inside].mean()
    assert 0 < weights.effective_rows < 800
    assert weights.weights.max() / weights.weights.min() <= 19.0**2 + 1e-6  # clipped odds


def test_missing_values_are_allowed() -> None:
    rng = np.random.default_rng(2)
    reference = rng.normal(size=(300, 3))
    current = rng.normal(loc=2.0, size=(300, 3))
    reference[::7, 0] = np.nan
    assert domain_weights(reference, current, seed=0).applied


def test_too_few_rows_or_no_columns_mean_no_weighting() -> None:
    assert not domain_weights(np.zeros((4, 2)), np.ones((50, 2))).applied
    assert not domain_weights(np.zeros((50, 0)), np.ones((50, 0))).applied
    plain = uniform(5)
    assert plain.effective_rows == 5 and plain.weights.tolist() == [1.0] * 5
