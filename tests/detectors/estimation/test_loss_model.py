"""Direct loss estimation on data whose error distribution is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from driftwarden.detectors.estimation import fit_estimator, regressor_outputs


def _heteroscedastic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The model predicts the mean exactly; the noise's sd is 0.2 + 2 x1 (x1 uniform in [0, 1])."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 3))
    predicted = 3.0 * x[:, 0]
    y = predicted + rng.normal(size=n) * (0.2 + 2.0 * x[:, 1])
    return pd.DataFrame(x, columns=["x0", "x1", "x2"]), predicted, y


def test_reference_metrics_are_the_evaluation_sets() -> None:
    frame, predicted, y = _heteroscedastic(500, 0)
    estimator = fit_estimator("dle", regressor_outputs(predicted), y, frame)
    assert estimator.reference["mae"] == pytest.approx(mean_absolute_error(y, predicted))
    assert estimator.reference["rmse"] == pytest.approx(root_mean_squared_error(y, predicted))


@pytest.mark.parametrize("method", ["dle", "iw-dle"])
def test_a_batch_from_the_noisy_segment_is_estimated_not_assumed(method: str) -> None:
    frame, predicted, y = _heteroscedastic(12_000, 1)
    ref = np.arange(3000)
    pool = np.arange(3000, 12_000)
    batch = pool[frame["x1"].to_numpy()[pool] > 0.7][:1000]
    estimator = fit_estimator(method, regressor_outputs(predicted[ref]), y[ref], frame.iloc[ref])

    result = estimator.estimate(
        regressor_outputs(predicted[batch]), frame.iloc[batch], labels=y[batch]
    )

    assert result.realized is not None
    realized = result.realized["mae"]
    assert realized == pytest.approx(mean_absolute_error(y[batch], predicted[batch]))
    # the evaluation set's MAE ("no change") is far off; the loss model is not
    assert abs(result.reference["mae"] - realized) > 0.3
    assert result.estimated["mae"] == pytest.approx(realized, rel=0.08)
    assert result.estimated["rmse"] == pytest.approx(result.realized["rmse"], rel=0.08)
    for name in ("mae", "rmse"):
        low, high = result.interval[name]
        assert low <= result.realized[name] <= high
    assert result.details["weighted"] == (method == "iw-dle")


def test_intervals_hold_the_realized_mae_on_clean_batches() -> None:
    frame, predicted, y = _heteroscedastic(2000 + 40 * 250, 2)
    estimator = fit_estimator(
        "dle", regressor_outputs(predicted[:2000]), y[:2000], frame.iloc[:2000]
    )
    held = []
    for start in range(2000, len(y), 250):
        rows = slice(start, start + 250)
        result = estimator.estimate(
            regressor_outputs(predicted[rows]), frame.iloc[rows], labels=y[rows]
        )
        assert result.realized is not None
        low, high = result.interval["mae"]
        held.append(low <= result.realized["mae"] <= high)
    assert np.mean(held) >= 0.88  # nominal 95%


def test_without_features_the_prediction_alone_feeds_the_loss_model() -> None:
    rng = np.random.default_rng(3)
    predicted = rng.uniform(0, 10, size=3000)
    y = predicted + rng.normal(size=3000) * predicted / 5  # error grows with the prediction
    estimator = fit_estimator("dle", regressor_outputs(predicted[:1500]), y[:1500])
    high = np.arange(1500, 3000)[predicted[1500:] > 8]
    result = estimator.estimate(regressor_outputs(predicted[high]), labels=y[high])
    assert result.realized is not None
    assert result.estimated["mae"] == pytest.approx(result.realized["mae"], rel=0.15)
