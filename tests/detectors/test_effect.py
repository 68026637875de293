"""Effect sizes: scale-free, exact for small samples, close on the quantile grid for large ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from driftwarden.detectors.effect import (
    binned_proportions,
    normalised_wasserstein,
    psi,
    psi_edges,
    robust_std,
)


def test_small_samples_use_scipy_wasserstein() -> None:
    rng = np.random.default_rng(0)
    a, b = np.sort(rng.normal(size=300)), np.sort(rng.normal(0.4, size=200))
    expected = wasserstein_distance(a, b) / np.std(a)
    assert normalised_wasserstein(a, b, float(np.std(a))) == pytest.approx(expected, rel=1e-9)


def test_large_samples_read_a_pure_shift_in_standard_deviations() -> None:
    rng = np.random.default_rng(1)
    a = np.sort(rng.normal(5, 2, size=200_000))
    b = np.sort(a + 1.0)  # exactly half a standard deviation
    assert normalised_wasserstein(a, b, robust_std(a)) == pytest.approx(0.5, rel=2e-3)


def test_constant_columns() -> None:
    same = np.full(10, 4.0)
    assert normalised_wasserstein(same, same, 0.0) == 0.0
    assert normalised_wasserstein(same, np.full(5, 6.0), 0.0) > 0


def test_huge_values_do_not_overflow() -> None:
    a = np.array([-1e308, 1e308])
    b = np.array([-1e308, 0.0, 1e308])
    assert np.isfinite(normalised_wasserstein(a, b, robust_std(a)))
    assert np.isfinite(robust_std(a))


def test_psi_is_zero_for_identical_and_grows_with_shift() -> None:
    rng = np.random.default_rng(2)
    ref = np.sort(rng.normal(size=10_000))
    edges = psi_edges(ref)
    base = binned_proportions(ref, edges)
    assert psi(base, base) == 0.0
    near = psi(base, binned_proportions(np.sort(ref + 0.1), edges))
    far = psi(base, binned_proportions(np.sort(ref + 1.0), edges))
    assert 0 < near < far
