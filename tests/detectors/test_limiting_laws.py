"""The AD and CvM limiting laws: exact cumulants, scipy's CvM series, the Scholz-Stephens
table, and the leading tail term far beyond where any series is accurate."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats._hypotests import _cdf_cvm_inf

from driftwarden.detectors.limiting_laws import (
    AD_SD,
    ANDERSON_DARLING,
    CRAMER_VON_MISES,
    anderson_darling_sf,
    cramer_von_mises_sf,
)

# Σ w_j, Σ w_j², Σ w_j³ in closed form (AD: w_j = 1/(j(j+1)); CvM: w_j = 1/(πj)²).
_POWER_SUMS = {
    "anderson_darling": (1.0, (math.pi**2 - 9.0) / 3.0, 10.0 - math.pi**2),
    "cramer_von_mises": (1.0 / 6.0, 1.0 / 90.0, 1.0 / 945.0),
}


@pytest.mark.parametrize("law", [ANDERSON_DARLING, CRAMER_VON_MISES], ids=lambda law: law.name)
def test_first_three_moments_match_the_weights(law: object) -> None:
    """E[Q^k] = k ∫ z^(k-1) P(Q > z) dz against the cumulants 2^(r-1) (r-1)! Σ w^r."""
    s1, s2, s3 = _POWER_SUMS[law.name]  # type: ignore[attr-defined]
    k1, k2, k3 = s1, 2 * s2, 8 * s3
    moments = [k1, k2 + k1**2, k3 + 3 * k2 * k1 + k1**3]
    top = 80.0 * k1
    for power, expected in enumerate(moments, start=1):

        def integrand(z: float, power: int = power) -> float:
            return float(power * z ** (power - 1) * law.sf(z))  # type: ignore[attr-defined]

        assert quad(integrand, 0, top, limit=400)[0] == pytest.approx(expected, rel=1e-8)


def test_cramer_von_mises_matches_scipys_series_where_it_is_accurate() -> None:
    """scipy's series stops at terms below 1e-7; where p > 1e-6 the two agree to 1e-10."""
    for z in np.linspace(0.004, 1.8, 60):
        assert cramer_von_mises_sf(z) == pytest.approx(1.0 - float(_cdf_cvm_inf(z)), abs=1e-10)


def test_anderson_darling_matches_the_scholz_stephens_table() -> None:
    """scipy's AD critical values (k = 2) are this law's quantiles, rounded to 3 decimals."""
    b0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    b1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    b2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    levels = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001]
    for critical, level in zip(b0 + b1 + b2, levels, strict=True):
        assert anderson_darling_sf(1.0 + AD_SD * critical) == pytest.approx(level, rel=0.03)


@pytest.mark.parametrize("z", [20.0, 50.0, 150.0, 400.0, 700.0])
def test_far_tails_follow_the_leading_term(z: float) -> None:
    """P(Q > z) ~ Π_j≥2 (1 - w_j/w_1)^(-1/2) P(w_1 χ²₁ > z), with relative error O(1/z).

    AD: sqrt(3) erfc(sqrt(z)); CvM: sqrt(2) erfc(π sqrt(z/2)) (at z/10 to stay in range).
    """
    ad_ratio = anderson_darling_sf(z) / (math.sqrt(3) * math.erfc(math.sqrt(z)))
    assert 1.0 < ad_ratio < 1.0 + 0.5 / z
    w = z / 10.0
    cvm_ratio = cramer_von_mises_sf(w) / (math.sqrt(2) * math.erfc(math.pi * math.sqrt(w / 2)))
    assert 1.0 < cvm_ratio < 1.0 + 0.5 / w


def test_edges_are_defined() -> None:
    for sf in (anderson_darling_sf, cramer_von_mises_sf):
        assert sf(-1.0) == 1.0
        assert sf(0.0) == 1.0
        assert sf(math.nan) == 1.0
        assert sf(1e6) == 0.0
        values = [sf(z) for z in np.linspace(0.001, 80, 400)]
        assert all(a >= b for a, b in itertools.pairwise(values))
