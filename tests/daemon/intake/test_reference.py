"""Admission of a drop against the reference: missing columns and text in numeric columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from driftwarden.daemon.intake.admission import check_csv_complete
from driftwarden.daemon.intake.reference import admit
from driftwarden.errors import InputFileError


class _Ref:
    """Only what ``admit`` reads (PreparedReference is not needed for the column checks)."""

    def __init__(self, tested: tuple[str, ...], numeric: frozenset[str]) -> None:
        self.tested = tested
        self.numeric = numeric
        self.target = "target"
        self.empty: frozenset[str] = frozenset()


REF = _Ref(("x1", "x2", "cat"), frozenset({"x1", "x2"}))


def test_missing_column_names_the_column() -> None:
    frame = pd.DataFrame({"x1": [1.0], "cat": ["a"]})
    with pytest.raises(InputFileError) as info:
        admit(frame, REF, "/d/f.csv")  # type: ignore[arg-type]
    assert info.value.field == "x2" and "missing column" in info.value.reason


def test_text_in_a_numeric_column_is_refused_blanks_are_missing() -> None:
    frame = pd.DataFrame({"x1": ["1.5", "abc", "2"], "x2": [1, 2, 3], "cat": ["a", "b", "c"]})
    with pytest.raises(InputFileError) as info:
        admit(frame, REF, "/d/f.csv")  # type: ignore[arg-type]
    assert info.value.field == "x1" and "'abc'" in info.value.reason
    ok = pd.DataFrame(
        {"x1": ["1.5", " ", None], "x2": [1, 2, 3], "cat": ["a", "b", "c"], "extra": 1}
    )
    admitted = admit(ok, REF, "/d/f.csv")  # type: ignore[arg-type]
    assert admitted["x1"].tolist()[0] == 1.5 and admitted["x1"].isna().sum() == 2
    assert pd.api.types.is_numeric_dtype(admitted["x1"])


def test_a_csv_cut_off_mid_row_is_refused_as_truncated(tmp_path: Path) -> None:
    complete = tmp_path / "ok.csv"
    complete.write_text("a,b,c\n1,2,3\n4,5,6\n")
    check_csv_complete(complete)
    no_newline = tmp_path / "last.csv"
    no_newline.write_text("a,b,c\n1,2,3\n4,5,6")  # all fields present: accepted
    check_csv_complete(no_newline)
    cut = tmp_path / "cut.csv"
    cut.write_text("a,b,c\n1,2,3\n4,")
    with pytest.raises(InputFileError, match="truncated: the last row has 2 of 3 fields"):
        check_csv_complete(cut)
