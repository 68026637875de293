"""Cauchy and harmonic-mean combinations: the formulas, their level under dependence, sources."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import cauchy, landau, norm

from driftwarden.detectors.combination import (
    CAUCHY_MAX_P,
    COMBINATIONS,
    combine,
    likely_sources,
)
from tests.support.hypothesis_profiles import examples

p_lists = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=50)


@settings(max_examples=examples(200), deadline=None)
@given(p_lists)
@example([5e-324])
def test_cauchy_is_the_acat_formula(p: list[float]) -> None:
    values = np.minimum(np.array(p), CAUCHY_MAX_P)
    got = combine(p, "cauchy")
    assert 0.0 <= got <= 1.0
    if np.any(values == 0.0):
        assert got == 0.0
    elif values.min() > 1e-12:
        expected = cauchy.sf(np.mean(np.tan((0.5 - values) * np.pi)))
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-15)


@settings(max_examples=examples(200), deadline=None)
@given(p_lists)
@example([1.0, 2.225073858507e-311])
def test_harmonic_mean_is_wilsons_landau_calibration(p: list[float]) -> None:
    values = np.array(p)
    got = combine(p, "harmonic_mean")
    assert 0.0 <= got <= 1.0
    if values.size == 1:
        assert got == values[0]
    elif np.any(values == 0.0):
        assert got == 0.0
    else:
        location, scale = math.log(values.size) + 0.874, math.pi / 2
        with np.errstate(over="ignore"):
            expected = landau.sf((np.mean(1.0 / values) - location) / scale)
        assert got == pytest.approx(min(expected, 1.0), rel=1e-9)


def test_a_tiny_p_value_survives_combination() -> None:
    """One column at 1e-300 among 29 ordinary ones: the batch's p is about 30 x 1e-300."""
    p = [1e-300] + [0.5] * 29
    assert combine(p, "cauchy") == pytest.approx(30e-300, rel=0.01)
    assert combine(p, "harmonic_mean") < 1e-298


def test_a_p_value_of_one_does_not_cancel_the_evidence() -> None:
    """Constant columns report p = 1; uncapped, ACAT would add tan(-π/2) = -∞."""
    assert combine([1e-6, 1.0, 1.0], "cauchy") < 1e-5


@pytest.mark.parametrize("method", sorted(COMBINATIONS))
@pytest.mark.parametrize("rho", [0.0, 0.5, 0.95])
def test_level_holds_under_dependence(method: str, rho: float) -> None:
    """Equicorrelated Gaussian z-scores for 20 columns: about 1% of clean batches below 0.01."""
    rng = np.random.default_rng(int(rho * 100))
    trials, columns = 4000, 20
    shared = rng.normal(size=(trials, 1))
    z = math.sqrt(rho) * shared + math.sqrt(1 - rho) * rng.normal(size=(trials, columns))
    p = 2 * norm.sf(np.abs(z))
    rejected = sum(combine(row, method) < 0.01 for row in p)
    assert 22 <= rejected <= 62  # 40 expected, three binomial sds either side


def test_likely_sources_name_the_columns_carrying_the_evidence() -> None:
    one_strong = [0.4, 1e-9, 0.7, 0.2, 0.9]
    assert likely_sources(one_strong, "cauchy", 0.005) == [1]
    several_weak = [0.0009, 0.0008, 0.001, 0.0011, 0.5, 0.8, 0.9, 0.6, 0.4, 0.7]
    assert combine(several_weak, "cauchy") < 0.005  # together significant ...
    assert all(
        p * len(several_weak) > 0.005 for p in several_weak
    )  # ... none alone after Bonferroni
    assert sorted(likely_sources(several_weak, "cauchy", 0.005)) == [0, 1, 2]
    assert likely_sources([0.3, 0.5, 0.9], "harmonic_mean", 0.005) == []


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"cauchy.*harmonic_mean"):
        combine([0.1], "fisher")


def test_nothing_to_combine() -> None:
    assert combine([], "cauchy") == 1.0
    assert combine([math.nan], "harmonic_mean") == 1.0
