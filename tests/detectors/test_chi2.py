"""Chi-square: equals scipy's chi2_contingency on the same table; pooling and new categories."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import chi2_contingency

from driftwarden.detectors.chi2 import OTHER, chi2_test, pearson_chi2

TABLES = arrays(
    np.int64,
    st.tuples(st.sampled_from([1, 2, 3]), st.integers(1, 40)),
    elements=st.one_of(st.integers(0, 20), st.integers(0, 10**9)),
)


@given(TABLES)
@example(np.array([[60, 40], [45, 55]]))  # one degree of freedom: the Yates correction
@example(np.array([[5, 0], [7, 0]]))  # a zero expected count: both refuse it
@example(np.array([[3, 4, 5]]))  # one row: no degree of freedom
def test_pearson_chi2_is_chi2_contingency_to_the_last_bit(table: np.ndarray) -> None:
    assume(table.sum() > 0)  # chi2_test never sees an empty table (a count of 0 is refused before)
    try:
        expected = chi2_contingency(table)
    except ValueError:
        with pytest.raises(ValueError, match="expected frequencies has a zero element"):
            pearson_chi2(table)
        return
    found = pearson_chi2(table)
    assert found == (float(expected.statistic), float(expected.pvalue), int(expected.dof))


def test_matches_scipy_when_no_category_is_sparse() -> None:
    ref = {"a": 500, "b": 300, "c": 200}
    cur = {"a": 90, "b": 70, "c": 40}
    outcome = chi2_test(ref, cur, max_categories=50)
    expected = chi2_contingency(np.array([[500, 300, 200], [90, 70, 40]]))
    assert outcome.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert outcome.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert outcome.dof == 2
    assert outcome.details["pooled_categories"] == 0


def test_two_categories_use_yates_correction_like_scipy() -> None:
    outcome = chi2_test({"x": 60, "y": 40}, {"x": 45, "y": 55}, max_categories=50)
    expected = chi2_contingency(np.array([[60, 40], [45, 55]]))  # correction=True for dof 1
    assert outcome.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_new_categories_are_reported_not_crashed_on() -> None:
    outcome = chi2_test({"a": 100, "b": 100}, {"a": 50, "b": 30, "zz": 40}, max_categories=50)
    assert outcome.details["new_categories"] == ["zz"]
    assert outcome.details["n_current_in_new_categories"] == 40
    assert outcome.p_value < 1e-6


def test_sparse_categories_are_pooled_until_expected_counts_reach_five() -> None:
    ref = {"a": 400, "b": 400, "r1": 10, "r2": 8, "r3": 7}
    cur = {"a": 100, "b": 100, "r4": 3}
    outcome = chi2_test(ref, cur, max_categories=50)
    # the four rare categories end up in one bin: a, b and __other__
    assert outcome.details["bins"] == 3
    assert outcome.details["pooled_categories"] == 4
    table = np.array([[400, 400, 25], [100, 100, 3]])
    assert outcome.statistic == pytest.approx(chi2_contingency(table).statistic, rel=1e-12)


def test_a_pooled_bin_that_is_still_sparse_is_merged_again() -> None:
    outcome = chi2_test({"a": 400, "b": 400, "r1": 2}, {"a": 100, "b": 100, "r2": 1}, 50)
    assert outcome.details["bins"] == 2  # expected count of the rare bin was about 1


def test_max_categories_pools_the_rarest() -> None:
    ref = {f"c{i}": 100 + i for i in range(10)}
    outcome = chi2_test(ref, ref, max_categories=4)
    assert outcome.details["bins"] == 4
    assert outcome.p_value == pytest.approx(1.0)
    assert OTHER == "__other__"


def test_single_category_gives_no_evidence() -> None:
    outcome = chi2_test({"a": 10}, {"a": 7}, max_categories=50)
    assert (outcome.statistic, outcome.p_value, outcome.dof) == (0.0, 1.0, 0)


def test_effect_sizes() -> None:
    same = chi2_test({"a": 50, "b": 50}, {"a": 50, "b": 50}, 50)
    assert same.effect_sizes["jensen_shannon"] == pytest.approx(0.0, abs=1e-12)
    apart = chi2_test({"a": 100}, {"b": 100}, 50)
    assert apart.effect_sizes["jensen_shannon"] == pytest.approx(1.0)
    assert apart.effect_sizes["psi"] > 1.0
