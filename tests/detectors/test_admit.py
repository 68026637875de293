"""admit_frame: the rule that refuses a batch whose columns cannot be tested (check and daemon)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import PreparedReference
from driftwarden.detectors.schema import admit_frame
from driftwarden.errors import InputFileError


@pytest.fixture()
def reference() -> PreparedReference:
    frame = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0], "b": [1, 2, 3], "c": ["x", "y", "z"], "label": [0, 1, 0]}
    )
    return PreparedReference.one_shot(frame, DriftConfig(), target="label")


def _admit(frame: pd.DataFrame, reference: PreparedReference) -> pd.DataFrame:
    numeric = {n for n in reference.tested if reference.profiles[n].numeric}
    return admit_frame(frame, reference.tested, numeric, "drop.csv")


def test_missing_columns_name_the_first_and_list_the_expected(
    reference: PreparedReference,
) -> None:
    with pytest.raises(InputFileError) as info:
        _admit(pd.DataFrame({"p": [1.0], "q": [2.0]}), reference)
    assert info.value.path == "drop.csv" and info.value.field == "a"
    assert "missing column(s) ['a', 'b', 'c']" in info.value.reason
    assert "['a', 'b', 'c']" in info.value.reason.split("expected")[1]


def test_the_target_and_extra_columns_are_not_required(reference: PreparedReference) -> None:
    frame = pd.DataFrame({"a": [1.0], "b": [2], "c": ["x"], "extra": [0]})
    assert _admit(frame, reference) is frame


def test_text_in_a_numeric_column_names_the_column_and_a_value(
    reference: PreparedReference,
) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["1", "oops", "bad"], "c": ["x", "y", "z"]})
    with pytest.raises(InputFileError) as info:
        _admit(frame, reference)
    assert info.value.field == "b"
    assert "non-numeric value 'oops' in 2 row(s)" in info.value.reason


def test_number_strings_and_blanks_are_converted(reference: PreparedReference) -> None:
    frame = pd.DataFrame({"a": ["1.5", " ", None], "b": [1, 2, 3], "c": [1, 2, 3]})
    admitted = _admit(frame, reference)
    assert admitted["a"].dtype == np.float64
    assert admitted["a"].iloc[0] == 1.5 and admitted["a"].iloc[1:].isna().all()
    assert admitted["c"].tolist() == [1, 2, 3]  # a categorical column may hold anything
