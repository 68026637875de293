"""Counting one sorted sample against another: the pooled runs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from driftwarden.detectors.runs import ordered_masses, pooled_counts
from tests.support.hypothesis_profiles import examples

values = st.lists(st.integers(-20, 20).map(float), min_size=1, max_size=300)


@settings(max_examples=examples(100), deadline=None)
@given(values, values)
def test_pooled_counts_match_a_plain_count(ref: list[float], cur: list[float]) -> None:
    a, b = np.sort(np.array(ref)), np.sort(np.array(cur))
    pooled = pooled_counts(a, b)
    got: dict[float, tuple[float, float, float, float]] = {}
    reference_values = np.unique(a)
    current_only = np.setdiff1d(np.unique(b), reference_values)
    for block, block_values in (
        (pooled.reference, reference_values),
        (pooled.current, current_only),
    ):
        fields = [
            np.broadcast_to(np.asarray(x, dtype=float), block_values.shape)
            for x in (block.ref_below, block.ref_at, block.cur_below, block.cur_at)
        ]
        for i, v in enumerate(block_values):
            got[float(v)] = tuple(float(f[i]) for f in fields)  # type: ignore[assignment]
    pooled_values = np.unique(np.concatenate([a, b]))
    assert sorted(got) == list(pooled_values)
    for v in pooled_values:
        expected = (np.sum(a < v), np.sum(a == v), np.sum(b < v), np.sum(b == v))
        assert got[float(v)] == tuple(float(x) for x in expected)
    h, t = ordered_masses(pooled, a.size + b.size)
    expected_h = np.array([np.sum(a == v) + np.sum(b == v) for v in pooled_values]) / (
        a.size + b.size
    )
    assert np.allclose(h, expected_h) and np.allclose(t, np.cumsum(expected_h))
    assert pooled.tied == (pooled_values.size < a.size + b.size)
