"""Prediction drift: the output tests against scipy, kept apart from the features' correction."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency, ks_2samp

from driftwarden.config.model import DriftConfig
from driftwarden.detectors.estimation import (
    ClassifierOutputs,
    PredictionDriftReference,
    classifier_outputs,
    regressor_outputs,
)
from driftwarden.detectors.estimation.prediction_drift import prediction_drift


def _binary(n: int, shift: float, seed: int) -> ClassifierOutputs:
    rng = np.random.default_rng(seed)
    score = 1.0 / (1.0 + np.exp(-(rng.normal(size=n) + shift)))
    return classifier_outputs(np.column_stack([1 - score, score]), [0, 1])


def test_binary_tests_the_predicted_class_and_the_positive_score() -> None:
    reference, current = _binary(800, 0.0, 0), _binary(500, 0.0, 1)

    result = prediction_drift(reference, current, DriftConfig(correction="none"))

    names = [t.feature for t in result.tests]
    assert names == ["prediction", "proba_1"]
    ks = ks_2samp(reference.proba[:, 1], current.proba[:, 1])
    assert result.tests[1].p_value == pytest.approx(ks.pvalue, rel=1e-6)
    table = np.array(
        [np.bincount(reference.predicted, minlength=2), np.bincount(current.predicted, minlength=2)]
    )
    assert result.tests[0].p_value == pytest.approx(chi2_contingency(table).pvalue)
    assert not result.drifted
    assert result.p_value == pytest.approx(min(t.p_value for t in result.tests))


def test_moved_scores_drift_and_the_p_value_is_corrected_among_the_outputs() -> None:
    reference = PredictionDriftReference(_binary(800, 0.0, 2), DriftConfig())

    result = reference.check(_binary(500, 1.0, 3))

    assert result.drifted
    assert result.p_value is not None and result.p_value < 1e-6
    assert result.correction == "bh"
    for test in result.tests:
        assert test.p_value_corrected is not None and test.p_value is not None
        assert test.p_value_corrected >= test.p_value
    assert result.to_dict()["tests"][0]["feature"] == "prediction"


def test_multiclass_tests_every_class_score_and_regression_the_value() -> None:
    rng = np.random.default_rng(4)
    proba = rng.dirichlet(np.ones(3), size=300)
    outputs = classifier_outputs(proba, ["x", "y", "z"])
    result = prediction_drift(outputs, outputs, DriftConfig())
    assert [t.feature for t in result.tests] == ["prediction", "proba_x", "proba_y", "proba_z"]
    assert not result.drifted

    values = regressor_outputs(rng.normal(size=400))
    moved = regressor_outputs(rng.normal(loc=1.0, size=400))
    drift = prediction_drift(values, moved, DriftConfig())
    assert [t.feature for t in drift.tests] == ["prediction"]
    assert drift.tests[0].test == "ks" and drift.drifted
