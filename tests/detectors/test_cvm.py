"""Cramér-von Mises against scipy.stats.cramervonmises_2samp; ties by the ECDF form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, cramervonmises_2samp

from driftwarden.detectors.cvm import cvm_sorted
from tests.support.hypothesis_profiles import examples


def _ecdf_form(a: np.ndarray, b: np.ndarray) -> float:
    """n m / N² Σ_z l_z (F(z) - G(z))² over the distinct pooled values, written plainly."""
    n, m = a.size, b.size
    values, counts = np.unique(np.concatenate([a, b]), return_counts=True)
    f = np.array([np.sum(a <= v) for v in values]) / n
    g = np.array([np.sum(b <= v) for v in values]) / m
    return float(n * m / (n + m) ** 2 * np.sum(counts * (f - g) ** 2))


unique_floats = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    min_size=4,
    max_size=80,
    unique=True,
)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unique_floats, st.floats(0.0, 1.0))
@example([0.0, 1.0, 2.0, 3.0], 0.5)
def test_without_ties_equals_scipy(values: list[float], fraction: float) -> None:
    """Statistic to 1e-12; p-value exact (scipy's own, both at most 20) or to 1e-7 (asymp)."""
    split = min(max(2, round(fraction * len(values))), len(values) - 2)
    shuffled = np.random.default_rng(len(values)).permutation(np.array(values))
    a, b = shuffled[:split], shuffled[split:]
    outcome = cvm_sorted(np.sort(a), np.sort(b))
    expected = cramervonmises_2samp(a, b)
    assert outcome.statistic == pytest.approx(expected.statistic, rel=1e-12, abs=1e-12)
    if max(a.size, b.size) <= 20:
        assert outcome.method == "exact" and outcome.p_value == expected.pvalue
    else:
        assert outcome.method == "asymp"
        assert outcome.p_value == pytest.approx(expected.pvalue, abs=1e-7)


@pytest.mark.parametrize(
    ("n", "m", "shift"), [(50, 30, 0.0), (3000, 700, 0.1), (20_000, 4000, 0.3)]
)
def test_explicit_untied_cases(n: int, m: int, shift: float) -> None:
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=n), rng.normal(shift, size=m)
    outcome = cvm_sorted(np.sort(a), np.sort(b))
    expected = cramervonmises_2samp(a, b)
    assert outcome.statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert outcome.p_value == pytest.approx(expected.pvalue, abs=1e-7)


small_ints = st.lists(st.integers(-3, 3).map(float), min_size=2, max_size=60)


@settings(max_examples=examples(100), deadline=None)
@given(small_ints, small_ints)
def test_with_ties_is_the_ecdf_form(a: list[float], b: list[float]) -> None:
    ref, cur = np.sort(np.array(a)), np.sort(np.array(b))
    outcome = cvm_sorted(ref, cur)
    assert 0.0 <= outcome.p_value <= 1.0
    if np.unique(np.concatenate([ref, cur])).size == 1:
        assert (outcome.statistic, outcome.p_value, outcome.method) == (0.0, 1.0, "constant")
    else:
        assert outcome.statistic == pytest.approx(_ecdf_form(ref, cur), rel=1e-12, abs=1e-15)


def test_two_values_is_pearsons_chi_square() -> None:
    rng = np.random.default_rng(3)
    a = (rng.uniform(size=250) < 0.3).astype(float)
    b = (rng.uniform(size=90) < 0.4).astype(float)
    outcome = cvm_sorted(np.sort(a), np.sort(b))
    table = [[np.sum(a == 0), np.sum(a == 1)], [np.sum(b == 0), np.sum(b == 1)]]
    assert outcome.method == "binary"
    assert outcome.p_value == pytest.approx(chi2_contingency(table, correction=False).pvalue)


@pytest.mark.parametrize("values", [3, 5, 20])
def test_ties_keep_the_level(values: int) -> None:
    """scipy's rank formula rejects every clean sample of a five-valued column at 5%; ours
    rejects about 5%."""
    rng = np.random.default_rng(values)
    trials, at_5, at_1 = 1000, 0, 0
    for _ in range(trials):
        a = np.sort(rng.integers(0, values, 300).astype(float))
        b = np.sort(rng.integers(0, values, 100).astype(float))
        p = cvm_sorted(a, b).p_value
        at_5 += p < 0.05
        at_1 += p < 0.01
    assert at_5 <= 70 and at_1 <= 20


def test_too_few_values_are_an_error() -> None:
    with pytest.raises(ValueError, match="at least 2 values"):
        cvm_sorted(np.array([1.0]), np.array([2.0, 3.0]))
