"""Category counts added up batch by batch equal ``category_counts`` of the whole column."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from driftwarden.detectors.base import category_counts, null_count
from driftwarden.detectors.tally import CategoryTally
from tests.support.hypothesis_profiles import examples

floats = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 3.0, np.nan, np.inf, -np.inf, 1.5, 1e300]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)


def _split(series: pd.Series, cuts: list[int]) -> list[pd.Series]:
    bounds = sorted({0, len(series), *(c % (len(series) + 1) for c in cuts)})
    return [series.iloc[a:b] for a, b in itertools.pairwise(bounds)]


def _tallied(parts: list[pd.Series]) -> tuple[dict[str, int], int]:
    tally = CategoryTally()
    for part in parts:
        tally.add(part)
    return tally.result()


@settings(max_examples=examples(80), deadline=None)
@given(st.lists(floats, min_size=1, max_size=40), st.lists(st.integers(0, 40), max_size=5))
@example([1.0, 2.5], [1])  # the first batch all whole numbers, the second not
@example([-0.0, 0.0, 1.5], [1])  # 0.0 and -0.0 are one category, named as first seen
@example([9.223372036854776e18], [])  # beyond int64: pandas refuses the cast, both ways
def test_float_columns_match_counting_the_whole_column(
    values: list[float], cuts: list[int]
) -> None:
    series = pd.Series(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Int64 cast of whole floats >= 2**63
        try:
            expected = category_counts(series)
        except TypeError:
            with pytest.raises(TypeError):
                _tallied(_split(series, cuts))
            return
        assert _tallied(_split(series, cuts)) == expected


@settings(max_examples=examples(40), deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "1", ""])), min_size=1, max_size=30),
    st.lists(st.integers(0, 30), max_size=4),
)
def test_string_columns_match(values: list[str | None], cuts: list[int]) -> None:
    series = pd.Series(values, dtype="str")
    assert _tallied(_split(series, cuts)) == category_counts(series)


def test_ints_bools_and_categoricals_match() -> None:
    rng = np.random.default_rng(0)
    columns = [
        pd.Series(rng.integers(0, 5, 100)),
        pd.Series(rng.random(100) < 0.3),
        pd.Series(
            pd.array(np.where(rng.random(100) < 0.2, None, rng.integers(0, 3, 100)), "Int64")
        ),
        pd.Series(pd.Categorical(rng.choice(["u", "v"], 100), categories=["u", "v", "w"])),
    ]
    for series in columns:
        assert _tallied(_split(series, [7, 30, 31, 90])) == category_counts(series)


texts = st.one_of(
    st.none(), st.sampled_from(["a", "b", "", " ", "é", "1", "nan"]), st.text(max_size=5)
)


@settings(max_examples=examples(80), deadline=None)
@given(st.lists(texts, max_size=40))
@example(["a", None, "b", "a"])
@example([None, None])
@example([])
def test_text_held_in_arrow_counts_as_the_same_text_held_as_objects(values: list) -> None:
    arrow = pd.Series(values, dtype="str")
    assert isinstance(arrow.array, pd.arrays.ArrowStringArray)  # the counted-by-Arrow path
    counts, n_null = category_counts(arrow)
    expected, expected_null = category_counts(pd.Series(values, dtype=object))
    assert (counts, n_null) == (expected, expected_null)
    assert list(counts) == list(expected)  # first seen first, as value_counts(sort=False)


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(texts, max_size=40), st.integers(0, 40))
def test_a_text_columns_null_count_is_its_missing_values(values: list, start: int) -> None:
    """Text held in Arrow is counted from Arrow's own null count, also for a slice."""
    series = pd.Series(values, dtype="str").iloc[start:]
    assert isinstance(series.array, pd.arrays.ArrowStringArray)
    assert null_count(series) == int(pd.Series(values[start:], dtype=object).isna().sum())
