"""Intervals for estimated metrics: the batch's own sampling variance plus the estimate's.

The realized value of a batch differs from the estimate for two reasons: which labels the
batch's rows happen to have (even with perfect probabilities), and what the finite
evaluation set got wrong about those probabilities. Both are sums of many small
independent terms, so their joint distribution is close to normal; the interval is the
spread of the metric over draws from it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import norm


def weighted_mean_covariance(
    residuals: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of row vectors and the covariance of that mean (sandwich form).

    ``var(sum w_i r_i / sum w_i)`` for independent rows is ``sum w_i^2 (r_i - mean)^2 / (sum w)^2``.
    """
    total = float(weights.sum())
    mean = weights @ residuals / total
    centred = (residuals - mean) * (weights / total)[:, None]
    return mean, centred.T @ centred


def normal_draws(covariance: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, d) samples of N(0, covariance); a covariance that is not quite PSD is clipped."""
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2.0)
    scale = vectors * np.sqrt(np.clip(values, 0.0, None))
    return np.asarray(rng.standard_normal((draws, covariance.shape[0])) @ scale.T)


def percentile_interval(
    center: np.ndarray,
    covariance: np.ndarray,
    metrics: Callable[[np.ndarray], dict[str, np.ndarray]],
    level: float,
    draws: int,
    rng: np.random.Generator,
) -> dict[str, tuple[float, float]]:
    """Interval of every metric of ``metrics(center + noise)`` over normal draws of the noise.

    ``metrics`` takes the (draws, d) samples and returns one array of values per metric.
    """
    values = metrics(center[None, :] + normal_draws(covariance, draws, rng))
    tail = (1.0 - level) / 2.0 * 100.0
    return {
        name: (float(np.percentile(v, tail)), float(np.percentile(v, 100.0 - tail)))
        for name, v in values.items()
    }


def normal_interval(value: float, variance: float, level: float) -> tuple[float, float]:
    """``value`` plus or minus the normal quantile for ``level`` times the standard deviation."""
    half = float(norm.ppf(0.5 + level / 2.0)) * float(np.sqrt(max(variance, 0.0)))
    return value - half, value + half
