"""Multiple-testing corrections against scipy (BH) and the textbook Holm/Bonferroni formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control

from driftwarden.detectors.correction import correct
from tests.support.hypothesis_profiles import examples

p_lists = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40)


@settings(max_examples=examples(100), deadline=None)
@given(p_lists)
def test_bh_matches_scipy(p: list[float]) -> None:
    np.testing.assert_allclose(
        correct(p, "bh"), false_discovery_control(p, method="bh"), rtol=1e-12, atol=1e-15
    )


def _holm_reference(p: list[float]) -> np.ndarray:
    """Holm as statsmodels' multipletests computes it, written out loop by loop."""
    n = len(p)
    order = sorted(range(n), key=lambda i: p[i])
    out = [0.0] * n
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (n - rank) * p[i]))
        out[i] = running
    return np.array(out)


@settings(max_examples=examples(100), deadline=None)
@given(p_lists)
def test_holm_matches_the_step_down_formula(p: list[float]) -> None:
    np.testing.assert_allclose(correct(p, "holm"), _holm_reference(p), rtol=1e-12)


@settings(max_examples=examples(50), deadline=None)
@given(p_lists)
def test_bonferroni_and_none(p: list[float]) -> None:
    np.testing.assert_allclose(correct(p, "bonferroni"), np.minimum(np.array(p) * len(p), 1.0))
    np.testing.assert_array_equal(correct(p, "none"), np.array(p))


def test_known_values() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(correct(p, "bonferroni"), [0.04, 0.16, 0.12, 0.02])
    np.testing.assert_allclose(correct(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(correct(p, "bh"), [0.02, 0.04, 0.04, 0.02])


def test_unknown_method_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"bh.*bonferroni.*holm.*none"):
        correct([0.1], "sidak")
