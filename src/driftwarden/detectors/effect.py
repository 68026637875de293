"""Effect sizes: how far apart two distributions are, independent of sample size.

p-values shrink with sample size; these do not, so a floor on them keeps huge batches from
flagging shifts nobody cares about.
"""

from __future__ import annotations

import math

import numpy as np

QUANTILE_POINTS = 2_000  # above EXACT_WASSERSTEIN_MAX values, W1 is integrated on this grid
EXACT_WASSERSTEIN_MAX = 20_000
PSI_BINS = 10
_MAX_EFFECT = 1e300  # keeps degenerate columns (constant vs subnormal) finite
PSI_EPSILON = 1e-4  # proportions are floored at this so empty bins do not give infinite PSI


def quantile_grid(sorted_values: np.ndarray) -> np.ndarray:
    """Empirical quantiles at the midpoints of ``QUANTILE_POINTS`` equal probability steps."""
    n = sorted_values.size
    u = (np.arange(QUANTILE_POINTS) + 0.5) / QUANTILE_POINTS
    return sorted_values[np.minimum((u * n).astype(np.int64), n - 1)]


def robust_std(values: np.ndarray) -> float:
    """Standard deviation that does not overflow for values near the float limits."""
    if values.size == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        direct = float(np.std(values))
    if math.isfinite(direct) and direct > 1e-150:
        return direct
    scale = float(np.max(np.abs(values)))
    if scale == 0.0 or not math.isfinite(scale):
        return 0.0
    return float(np.std(values / scale)) * scale


def normalised_wasserstein(
    ref_sorted: np.ndarray,
    cur_sorted: np.ndarray,
    ref_std: float,
    ref_grid: np.ndarray | None = None,
) -> float:
    """Wasserstein-1 distance divided by the reference's standard deviation.

    Exact for small samples; for large ones the quantile form ``∫|Q_ref - Q_cur| du`` on
    ``QUANTILE_POINTS`` midpoints (a pure shift of ``k`` sd reads ``k`` either way). When
    the reference is constant the current sample's spread is the scale; when both are
    constant, the values' magnitude (so equal constants read 0).
    """
    scale = ref_std or robust_std(cur_sorted)
    if scale == 0.0:
        scale = max(abs(float(ref_sorted[0])), abs(float(cur_sorted[0])), 1.0)
    big = max(abs(float(ref_sorted[0])), abs(float(ref_sorted[-1])), 1.0)
    big = max(big, abs(float(cur_sorted[0])), abs(float(cur_sorted[-1])))
    if ref_sorted.size + cur_sorted.size <= EXACT_WASSERSTEIN_MAX:
        from scipy.stats import wasserstein_distance  # not at import: see detectors/__init__

        # Divide first so that values near the float limits cannot overflow.
        distance = wasserstein_distance(ref_sorted / big, cur_sorted / big)
    else:
        grid = quantile_grid(ref_sorted) if ref_grid is None else ref_grid
        distance = float(np.mean(np.abs(grid / big - quantile_grid(cur_sorted) / big)))
    if distance <= 0.0:
        return 0.0
    # In logs: scale may be subnormal and big near the float limit.
    return min(math.exp(math.log(distance) + math.log(big) - math.log(scale)), _MAX_EFFECT)


def psi_edges(ref_sorted: np.ndarray) -> np.ndarray:
    """Interior bin edges at the reference's deciles (duplicates from ties removed)."""
    q = np.arange(1, PSI_BINS) / PSI_BINS
    idx = np.minimum((q * ref_sorted.size).astype(np.int64), ref_sorted.size - 1)
    return np.unique(ref_sorted[idx])


def binned_proportions(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of values in each bin ``(-inf, e0), [e0, e1), ..., [ek, inf)``."""
    cuts = np.searchsorted(sorted_values, edges, side="left")
    counts = np.diff(np.concatenate(([0], cuts, [sorted_values.size])))
    return counts / sorted_values.size


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index ``Σ (a - e) ln(a / e)`` with proportions floored at 1e-4."""
    e = np.maximum(expected, PSI_EPSILON)
    a = np.maximum(actual, PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def js_distance(expected: np.ndarray, actual: np.ndarray) -> float:
    """Jensen–Shannon distance in bits (0: identical, 1: disjoint)."""
    if expected.sum() == 0 or actual.sum() == 0:
        return 0.0
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(expected, actual, base=2.0))
