"""Which features keep per-feature numbers under ``metrics.max_features``: drifted first,
then the smallest corrected p, then the smallest p, then the name; the rest are counted."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from driftwarden.observability.feature_cap import select_features
from tests.support.hypothesis_profiles import examples


def row(name: str, p: float | None, q: float | None, drifted: bool = False) -> dict[str, Any]:
    return {"feature": name, "p_value": p, "p_value_corrected": q, "drifted": drifted}


def test_drifted_features_come_first_even_with_larger_p_values() -> None:
    rows = [
        row("a", 0.001, 0.004),
        row("b", 0.02, 0.03, drifted=True),  # flagged: kept before smaller p-values
        row("c", 0.0001, 0.0005),
        row("d", 0.5, 0.9),
    ]
    kept, left_out = select_features(rows, 2)
    assert [r["feature"] for r in kept] == ["b", "c"]
    assert left_out == 2


def test_failed_tests_and_nan_come_last_and_ties_go_by_name() -> None:
    rows = [
        row("z", None, None),  # the test failed
        row("y", math.nan, math.nan),
        row("b", 0.1, 0.2),
        row("a", 0.1, 0.2),
        row("c", 0.05, 0.2),  # same corrected p, smaller raw p
    ]
    kept, left_out = select_features(rows, 10)
    assert [r["feature"] for r in kept] == ["c", "a", "b", "y", "z"]
    assert left_out == 0


rows_strategy = st.lists(
    st.builds(
        row,
        st.text(min_size=1, max_size=5),
        st.none() | st.floats(0, 1),
        st.none() | st.floats(0, 1),
        st.booleans(),
    ),
    max_size=40,
)


@given(rows=rows_strategy, cap=st.integers(1, 50))
@settings(max_examples=examples(200))
def test_nothing_is_lost_and_no_kept_feature_ranks_below_a_left_out_one(
    rows: list[dict[str, Any]], cap: int
) -> None:
    kept, left_out = select_features(rows, cap)
    assert len(kept) == min(cap, len(rows)) and len(kept) + left_out == len(rows)
    left = [r for r in rows if not any(r is k for k in kept)]
    for k in kept:
        for r in left:
            if k["drifted"] != r["drifted"]:
                assert k["drifted"]  # every drifted feature is kept before any other
            else:
                kq, rq = k["p_value_corrected"], r["p_value_corrected"]
                assert rq is None or (kq is not None and kq <= rq)
