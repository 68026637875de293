"""Direct loss estimation (DLE) for regressors, plain and importance-weighted.

A regressor's error depends on where in the feature space a row lies. DLE (NannyML's
method) learns that dependence on a labelled evaluation set: gradient-boosted models of
the absolute and the squared error from the features and the prediction. On a new batch
the mean predicted absolute error estimates MAE and the root of the mean predicted
squared error estimates RMSE.

The loss models are cross-fitted (each evaluation row's loss is predicted by models that
did not see it; the batch gets the mean of the fold models), so their residuals on the
evaluation set measure honestly how uncertain the estimate is. ``iw-dle`` refits the
loss models per batch with the evaluation rows weighted by how likely each is in the
batch (``weights.py``), so the loss model is most accurate where the batch lies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import KFold

from driftwarden.detectors.estimation.features import FeatureEncoder
from driftwarden.detectors.estimation.interval import normal_interval, weighted_mean_covariance
from driftwarden.detectors.estimation.metrics import regression_metrics
from driftwarden.detectors.estimation.outputs import RegressorOutputs
from driftwarden.detectors.estimation.result import EstimationResult
from driftwarden.detectors.estimation.threads import one_thread
from driftwarden.detectors.estimation.weights import DomainWeights, domain_weights, uniform


def _loss_regressor(seed: int) -> HistGradientBoostingRegressor:
    # Errors are noisy targets: shallow, slow and regularised, no early stopping (reproducible).
    return HistGradientBoostingRegressor(
        max_iter=100,
        learning_rate=0.05,
        max_leaf_nodes=8,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


class LossModelEstimator:
    """DLE fitted on a labelled evaluation set; ``estimate`` once per batch.

    Args:
        method: the name recorded in results.
        weighted: refit the loss models per batch, importance-weighted towards it.
        level: interval coverage level.
        seed: fold splits and model seeds (reproducible).
        folds: cross-fitting folds.
    """

    task = "regression"

    def __init__(
        self,
        method: str,
        *,
        weighted: bool,
        level: float = 0.95,
        seed: int = 0,
        folds: int = 5,
    ) -> None:
        self.method = method
        self.weighted = weighted
        self.level = level
        self.seed = seed
        self.folds = folds

    def fit(
        self, outputs: RegressorOutputs, truth: np.ndarray, features: pd.DataFrame | None = None
    ) -> LossModelEstimator:
        """Learn the loss models from the evaluation set's outputs, true values and features."""
        truth = np.asarray(truth, dtype=np.float64)
        self._rows = outputs.rows
        self._encoder = FeatureEncoder(features) if features is not None else None
        x = self._inputs(outputs, features)
        self._ref_x = x
        errors = truth - outputs.predicted
        self._abs, self._sq = np.abs(errors), errors**2
        self._models: list[tuple[HistGradientBoostingRegressor, HistGradientBoostingRegressor]] = []
        oof_abs, oof_sq = np.empty(self._rows), np.empty(self._rows)
        splits = KFold(min(self.folds, self._rows), shuffle=True, random_state=self.seed)
        with one_thread():
            for train, test in splits.split(x):
                pair = (
                    _loss_regressor(self.seed).fit(x[train], self._abs[train]),
                    _loss_regressor(self.seed).fit(x[train], self._sq[train]),
                )
                oof_abs[test], oof_sq[test] = self._predict(pair, x[test])
                self._models.append(pair)
        self._oof_abs, self._oof_sq = oof_abs, oof_sq
        # Tail weight of the errors given the loss model: E[e^4] / E[L_sq^2] (3 for normal errors).
        self._kurtosis = max(float(np.sum(self._sq**2) / max(np.sum(oof_sq**2), 1e-300)), 1.0)
        # How much more |e| scatters around the loss model than the model's own per-row
        # variance (L_sq - L_abs^2) says: shrunken loss models understate it.
        implied = float(np.sum(np.clip(oof_sq - oof_abs**2, 0.0, None)))
        observed = float(np.sum((self._abs - oof_abs) ** 2))
        self._spread = max(observed / max(implied, 1e-300), 1.0)
        self.reference = regression_metrics(truth, outputs.predicted)
        return self

    def _inputs(self, outputs: RegressorOutputs, features: pd.DataFrame | None) -> np.ndarray:
        """The loss model's inputs: the features and the prediction."""
        prediction = outputs.predicted[:, None]
        if self._encoder is None or features is None:
            return np.asarray(prediction)
        return np.hstack([self._encoder.encode(features), prediction])

    @staticmethod
    def _predict(
        pair: tuple[HistGradientBoostingRegressor, HistGradientBoostingRegressor], x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        absolute = np.clip(pair[0].predict(x), 0.0, None)
        squared = np.clip(pair[1].predict(x), 0.0, None)
        # A row's mean absolute error cannot exceed its root mean squared error.
        return np.minimum(absolute, np.sqrt(squared)), squared

    def estimate(
        self,
        outputs: RegressorOutputs,
        features: pd.DataFrame | None = None,
        truth: np.ndarray | None = None,
    ) -> EstimationResult:
        """Estimate the batch's MAE and RMSE from its predictions (and features).

        Args:
            outputs: the model's predictions on the batch.
            features: the batch's features (the columns the estimator was fitted with).
            truth: the batch's true values, if known: reported as ``realized``.
        """
        n = outputs.rows
        x = self._inputs(outputs, features if self._encoder is not None else None)
        domain = self._weights(x)
        with one_thread():
            if domain.applied:
                w = domain.weights
                pair = (
                    _loss_regressor(self.seed).fit(self._ref_x, self._abs, sample_weight=w),
                    _loss_regressor(self.seed).fit(self._ref_x, self._sq, sample_weight=w),
                )
                loss_abs, loss_sq = self._predict(pair, x)
            else:
                predictions = [self._predict(pair, x) for pair in self._models]
                loss_abs = np.mean([p[0] for p in predictions], axis=0)
                loss_sq = np.mean([p[1] for p in predictions], axis=0)
        # The estimate's own uncertainty: the scatter of the evaluation set's true losses
        # around the cross-fitted loss model (weighted towards the batch).
        residuals = np.column_stack([self._abs - self._oof_abs, self._sq - self._oof_sq])
        _, estimate_cov = weighted_mean_covariance(residuals, domain.weights)
        mae = float(loss_abs.mean())
        mse = float(loss_sq.mean())
        # The batch's own sampling variance of the mean absolute and mean squared error.
        var_abs = self._spread * float(np.sum(np.clip(loss_sq - loss_abs**2, 0.0, None))) / n**2
        var_sq = float(np.sum((self._kurtosis - 1.0) * loss_sq**2)) / n**2
        mae_low, mae_high = normal_interval(mae, var_abs + estimate_cov[0, 0], self.level)
        mse_low, mse_high = normal_interval(mse, var_sq + estimate_cov[1, 1], self.level)
        estimated = {"mae": mae, "rmse": float(np.sqrt(mse))}
        interval = {
            "mae": (max(mae_low, 0.0), mae_high),
            "rmse": (float(np.sqrt(max(mse_low, 0.0))), float(np.sqrt(max(mse_high, 0.0)))),
        }
        realized = None
        if truth is not None:
            realized = regression_metrics(np.asarray(truth, dtype=np.float64), outputs.predicted)
        details: dict[str, Any] = {
            # how far the realized MAE strays from its expectation by chance alone
            "sampling_sd": float(np.sqrt(var_abs)),
            "reference_rows": self._rows,
            "effective_reference_rows": domain.effective_rows,
            "domain_auc": domain.auc,
            "domain_p_value": domain.p_value,
            "weighted": domain.applied,
        }
        return EstimationResult(
            self.method,
            self.task,
            n,
            estimated,
            interval,
            dict(self.reference),
            realized,
            self.level,
            details,
        )

    def _weights(self, current: np.ndarray) -> DomainWeights:
        if not self.weighted:
            return uniform(self._rows)
        return domain_weights(self._ref_x, current, seed=self.seed)
