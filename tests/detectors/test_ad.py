"""Anderson-Darling against scipy.stats.anderson_ksamp: statistic equal, p-value as documented."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.stats import anderson_ksamp, chi2_contingency

from driftwarden.detectors.ad import ad_sorted
from driftwarden.detectors.limiting_laws import AD_MEAN, AD_SD, anderson_darling_sf
from tests.support.hypothesis_profiles import examples


def _scipy(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns when it caps or floors its p-value
        result = anderson_ksamp([a, b], variant="midrank")
    return float(result.statistic), float(result.pvalue)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
small_ints = st.integers(-3, 3).map(float)
samples = st.lists(st.one_of(finite, small_ints), min_size=1, max_size=60)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples, samples)
@example([0.0, 0.0, 1.0], [1.0])  # two values: the 2 x 2 table
@example([5.0, 5.0], [5.0, 5.0, 5.0])  # one value in all
def test_statistic_equals_scipys_on_arbitrary_samples(a: list[float], b: list[float]) -> None:
    """Ties, duplicates, huge value ranges; the p-value is always a probability."""
    ref, cur = np.sort(np.array(a)), np.sort(np.array(b))
    if ref.size + cur.size < 4:
        with pytest.raises(ValueError, match="at least 4 values"):
            ad_sorted(ref, cur)
        return
    outcome = ad_sorted(ref, cur)
    assert 0.0 <= outcome.p_value <= 1.0
    if np.unique(np.concatenate([ref, cur])).size < 2:
        assert (outcome.statistic, outcome.p_value, outcome.method) == (0.0, 1.0, "constant")
        return
    statistic, _ = _scipy(ref, cur)
    assert outcome.statistic == pytest.approx(statistic, rel=1e-9, abs=1e-9)


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(5, 2000), st.integers(5, 2000), st.floats(0.0, 0.5), st.integers(0, 2**32 - 1))
def test_untied_p_value_is_scipys_table_read_exactly(
    n: int, m: int, shift: float, seed: int
) -> None:
    """Without ties: P(A > 1 + σ∞ T) for the AD law; scipy interpolates the same law's
    7-point table, so inside its range (0.001, 0.25) the two agree within 4%."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(shift, size=m)
    outcome = ad_sorted(np.sort(a), np.sort(b))
    _, p_scipy = _scipy(a, b)
    assert outcome.method == "asymp"
    assert outcome.p_value == anderson_darling_sf(AD_MEAN + AD_SD * outcome.statistic)
    if 0.001 < p_scipy < 0.25:
        assert outcome.p_value == pytest.approx(p_scipy, rel=0.04)
    elif p_scipy == 0.001:  # scipy's floor: the truth is smaller
        assert outcome.p_value < 0.0011
    else:
        assert outcome.p_value > 0.24


@pytest.mark.parametrize(
    ("n", "m", "shift", "p_range"),
    [
        (200, 100, 0.0, (0.001, 1.0)),
        (5000, 400, 0.25, (1e-12, 1e-3)),  # below scipy's floor of 0.001
        (20_000, 5000, 1.0, (0.0, 1e-200)),  # far below: still a number, not a clipped 0.001
    ],
)
def test_explicit_cases(n: int, m: int, shift: float, p_range: tuple[float, float]) -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=n), rng.normal(shift, size=m)
    outcome = ad_sorted(np.sort(a), np.sort(b))
    statistic, _ = _scipy(a, b)
    assert outcome.statistic == pytest.approx(statistic, rel=1e-9)
    assert p_range[0] <= outcome.p_value <= p_range[1]


def test_two_values_is_pearsons_chi_square() -> None:
    """With two distinct values A²akN = (N - 1)/N X², so the p-value is the 2 x 2 chi-square's."""
    rng = np.random.default_rng(3)
    a = (rng.uniform(size=300) < 0.3).astype(float)
    b = (rng.uniform(size=120) < 0.4).astype(float)
    outcome = ad_sorted(np.sort(a), np.sort(b))
    table = [[np.sum(a == 0), np.sum(a == 1)], [np.sum(b == 0), np.sum(b == 1)]]
    assert outcome.method == "binary"
    assert outcome.p_value == pytest.approx(chi2_contingency(table, correction=False).pvalue)


@pytest.mark.parametrize("kind", ["three values", "five values", "zero inflated", "rounded"])
def test_ties_keep_the_level(kind: str) -> None:
    """On clean samples of discrete columns at most ~5% / 1% fall below 0.05 / 0.01.

    (scipy's σ_N ignores the ties: its p-value rejects 8-11% at 5% on such columns.)
    """
    rng = np.random.default_rng(11)
    trials, at_5, at_1 = 1000, 0, 0
    for _ in range(trials):
        a, b = _discrete(kind, 300, rng), _discrete(kind, 100, rng)
        p = ad_sorted(np.sort(a), np.sort(b)).p_value
        at_5 += p < 0.05
        at_1 += p < 0.01
    assert at_5 <= 70 and at_1 <= 20  # expected 50 and 10; three binomial sds above


def _discrete(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "three values":
        return rng.choice(3, size, p=[0.2, 0.3, 0.5]).astype(float)
    if kind == "five values":
        return rng.choice(5, size).astype(float)
    if kind == "zero inflated":
        return np.where(rng.uniform(size=size) < 0.4, 0.0, rng.exponential(size=size))
    return np.round(rng.normal(size=size), 1)


def test_too_few_values_are_an_error() -> None:
    with pytest.raises(ValueError, match="both samples"):
        ad_sorted(np.array([]), np.array([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="at least 4"):
        ad_sorted(np.array([1.0]), np.array([2.0, 3.0]))
