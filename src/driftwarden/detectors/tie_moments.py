"""Null mean and variance of the AD and CvM statistics when the pooled sample has ties.

Both statistics converge to quadratic forms in a Brownian bridge ``B`` read at the pooled
ECDF's levels ``t_1 < ... < t_K = 1`` (one per distinct value, with shares ``h_j``):

* Anderson–Darling (midrank): ``Σ c_j Z_j²`` with ``Z_j = (B(t_(j-1)) + B(t_j)) / 2``,
  ``c_j = h_j / Var Z_j``;
* Cramér–von Mises (ECDF form): ``Σ h_j B(t_j)²``.

Without ties these laws are the continuous ones (AD: mean 1, variance 2(π² - 9)/3; CvM:
mean 1/6, variance 1/45). With ties the variance grows (a two-valued column makes the AD
law chi-square(1), variance 2), so the continuous moments (which scipy uses whatever the
ties) make both tests reject far too often on discrete columns. The bridge's covariance
``Cov(B(s), B(t)) = s (1 - t)`` for ``s <= t`` is separable, so the variance is an
``O(K)`` cumulative sum instead of a ``K × K`` double sum.
"""

from __future__ import annotations

import numpy as np


def anderson_darling_variance(h: np.ndarray, t: np.ndarray) -> float:
    """Variance of the AD midrank law for shares ``h`` and ECDF levels ``t`` (mean is 1)."""
    lower = np.concatenate(([0.0], t[:-1]))
    mid = (lower + t) / 2.0  # H_j, the midrank level
    var_z = mid * (1.0 - mid) - h / 4.0
    keep = var_z > 0.0  # only the degenerate one-value sample has none
    h, mid, var_z = h[keep], mid[keep], var_z[keep]
    c = h / var_z
    # Cov(Z_i, Z_j) = H_i (1 - H_j) for i < j.
    before = np.concatenate(([0.0], np.cumsum(c * mid**2)[:-1]))
    cross = float(np.sum(c * (1.0 - mid) ** 2 * before))
    return 2.0 * (float(np.sum(h**2)) + 2.0 * cross)


def cramer_von_mises_moments(h: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Mean and variance of the CvM ECDF-form law ``Σ h_j B(t_j)²``."""
    var_b = t * (1.0 - t)
    mean = float(np.sum(h * var_b))
    before = np.concatenate(([0.0], np.cumsum(h * t**2)[:-1]))
    cross = float(np.sum(h * (1.0 - t) ** 2 * before))
    return mean, 2.0 * (float(np.sum(h**2 * var_b**2)) + 2.0 * cross)
