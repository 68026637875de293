"""Columns tested on a thread pool give the same result as one after the other."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import PreparedReference, check_drift, check_frames
from driftwarden.detectors.columns_pool import PARALLEL_MIN_VALUES, map_columns, start_order


def _frames(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(n: int, shift: float) -> pd.DataFrame:
        cols: dict[str, object] = {f"x{i}": rng.normal(shift * (i % 3), 1, n) for i in range(6)}
        cols["ties"] = rng.poisson(3, n)
        cols["cat"] = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2] if shift else None)
        cols["gaps"] = np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n))
        return pd.DataFrame(cols)

    return frame(rows, 0.0), frame(rows // 2, 0.05)


def test_results_come_back_in_input_order_on_threads() -> None:
    seen: set[str] = set()

    def work(i: int) -> int:
        seen.add(threading.current_thread().name)
        return i * i

    assert map_columns(work, list(range(50)), values=PARALLEL_MIN_VALUES, workers=3) == [
        i * i for i in range(50)
    ]
    assert any(name.startswith("driftwarden-column") for name in seen)


def test_the_costliest_items_start_first_and_equal_costs_keep_their_order() -> None:
    heavy = {3, 7, 11}
    order = start_order(list(range(12)), lambda i: 2 if i in heavy else 1)
    assert order == [3, 7, 11, 0, 1, 2, 4, 5, 6, 8, 9, 10]
    assert start_order(list("abc"), None) == [0, 1, 2]


def test_results_keep_the_input_order_when_the_costliest_start_first() -> None:
    items = list(range(40))
    found = map_columns(
        lambda i: -i, items, values=PARALLEL_MIN_VALUES, workers=2, cost=lambda i: i % 3
    )
    assert found == [-i for i in items]


def test_small_work_stays_on_the_calling_thread() -> None:
    seen: set[str] = set()
    map_columns(
        lambda i: seen.add(threading.current_thread().name), [1, 2, 3], values=10, workers=4
    )
    assert seen == {threading.current_thread().name}


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_prepared_and_one_shot_checks_are_the_same_on_any_thread_count(workers: int) -> None:
    ref, cur = _frames(60_000, seed=workers)
    cfg = DriftConfig()
    serial = PreparedReference.from_frame(ref, cfg, workers=1)
    parallel = PreparedReference.from_frame(ref, cfg, workers=workers)
    for name in serial.tested:
        a, b = serial.column(name), parallel.column(name)
        assert type(a) is type(b)
        for field, value in vars(a).items():
            other = vars(b)[field]
            if isinstance(value, np.ndarray):
                assert np.array_equal(value, other), (name, field)
            else:
                assert value == other, (name, field)
    expected = check_drift(serial, cur, cfg, workers=1).to_dict()
    assert check_drift(parallel, cur, cfg, workers=workers).to_dict() == expected
    assert check_frames(ref, cur, cfg, workers=workers).to_dict() == expected
    assert expected["drifted_features"]  # the shifted columns are found either way


def test_a_failing_column_does_not_stop_the_others_on_threads() -> None:
    ref, cur = _frames(60_000, seed=1)
    cur = cur.assign(x0=np.nan)  # nothing finite: an error result, not an exception
    result = check_drift(
        PreparedReference.from_frame(ref, DriftConfig()), cur, DriftConfig(), workers=2
    )
    by_name = {f.feature: f for f in result.features}
    assert by_name["x0"].error is not None and "no finite values" in by_name["x0"].error
    assert all(f.error is None for n, f in by_name.items() if n != "x0")


def test_preparing_never_sorts_the_callers_data_in_place() -> None:
    """Sorting in place is kept to private copies; the caller's frame and arrays stay as given."""
    rng = np.random.default_rng(3)
    raw = rng.normal(size=100_000)
    ints = rng.integers(0, 1000, 100_000)
    frame = pd.DataFrame({"raw": raw, "ints": ints}, copy=False)
    before = frame.copy(deep=True)
    raw_before, ints_before = raw.copy(), ints.copy()
    PreparedReference.from_frame(frame, DriftConfig())
    check_frames(frame, frame.iloc[:50_000], DriftConfig())
    pd.testing.assert_frame_equal(frame, before)
    assert np.array_equal(raw, raw_before) and np.array_equal(ints, ints_before)
