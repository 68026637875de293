"""frame_version and the lean Parquet conversion change nothing a caller can see."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.data.lean_parquet import LEAN_PARQUET
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.data.version_stream import frame_version
from tests.data.frames import mixed_frame


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_frame_version_equals_data_version(workers: int) -> None:
    frames = [
        mixed_frame(3000),
        mixed_frame(1),
        pd.DataFrame(),
        pd.DataFrame(index=range(4)),
        pd.DataFrame([[1, 2.0, "a"], [3, 4.0, "b"]], columns=["a", "a", "b"]),  # repeated name
        pd.DataFrame({"x": np.arange(300_000.0), "y": np.arange(300_000)}),  # on threads
    ]
    for frame in frames:
        assert frame_version(frame, workers=workers) == data_version(frame)


def test_the_lean_conversion_reads_the_same_frame(tmp_path: Path) -> None:
    frame = mixed_frame(2000).set_index("label")  # a stored index, restored as the index
    path = tmp_path / "f.parquet"
    frame.to_parquet(path, row_group_size=300)
    lean = read_frame(path)
    pd.testing.assert_frame_equal(lean, pd.read_parquet(path))
    assert data_version(lean) == data_version(pd.read_parquet(path))
    assert "to_pandas_kwargs" in LEAN_PARQUET  # this pandas has it: the lean path was tested
