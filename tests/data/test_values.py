"""Values the model cannot take: refused with the column named, not crashed on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwarden.data.values import refuse_empty, refuse_infinite
from driftwarden.errors import InputFileError


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_values_are_refused_naming_column_count_and_row(bad: float) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, bad, bad], "c": ["x", "y", "z"]})
    with pytest.raises(InputFileError) as info:
        refuse_infinite(frame, "drop.csv")
    assert info.value.field == "b"
    assert info.value.reason == (
        f"2 infinite value(s), the first {bad} in data row 2; expected finite numbers"
    )


def test_nullable_floats_and_finite_frames_pass() -> None:
    frame = pd.DataFrame(
        {"a": pd.array([1.5, None], dtype="Float64"), "b": [np.nan, 1e308], "c": ["inf", "x"]}
    )
    refuse_infinite(frame, "drop.csv")  # text "inf" is text, not a number
    with pytest.raises(InputFileError, match="infinite"):
        refuse_infinite(frame.assign(a=pd.array([1.5, np.inf], dtype="Float64")), "drop.csv")


def test_columns_without_any_value_are_refused_all_named() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": [np.nan, np.nan], "c": [None, None]})
    refuse_empty(frame, ["a", "missing"], "drop.csv")
    with pytest.raises(InputFileError) as info:
        refuse_empty(frame, ["a", "b", "c"], "drop.csv")
    assert info.value.field == "b"
    assert info.value.reason == (
        "every value is missing in all 2 rows (so are ['c']); expected values as in the reference"
    )
