"""Parquet with struct/list columns: refused by the reader, and hashed without a TypeError."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.data import data_version, read_frame
from driftwarden.errors import InputFileError


def nested_parquet(path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "x1": [1.0, 2.0, 3.0],
            "meta": [{"a": 1}, {"a": 2}, {"a": 3}],
            "tags": [[1, 2], [3], []],
        }
    )
    frame.to_parquet(path, index=False)
    return path


def test_a_parquet_file_with_struct_and_list_columns_is_refused_naming_the_column(
    tmp_path: Path,
) -> None:
    path = nested_parquet(tmp_path / "nested.parquet")
    with pytest.raises(InputFileError) as info:
        read_frame(path)
    assert info.value.field == "meta"
    assert info.value.reason == (
        "holds nested values of type 'struct<a: int64>' (and 1 more nested column(s)); "
        "expected flat values (numbers, text, booleans, dates), one per cell"
    )


def test_parquet_limits_are_judged_from_the_footer(tmp_path: Path) -> None:
    path = tmp_path / "flat.parquet"
    pd.DataFrame({f"c{i}": np.arange(1000.0) for i in range(20)}).to_parquet(path)
    with pytest.raises(InputFileError, match="20 columns, more than the limit of 19; not read"):
        read_frame(path, max_columns=19)
    with pytest.raises(InputFileError, match=r"column data is \d+ bytes uncompressed, more than"):
        read_frame(path, max_unpacked_bytes=10_000)
    assert read_frame(path, max_columns=20, max_unpacked_bytes=10**7).shape == (1000, 20)


def test_data_version_of_nested_values_is_defined_and_content_sensitive() -> None:
    """``TypeError: unhashable type: 'dict'`` was the crash; now containers hash as JSON."""
    frame = pd.DataFrame({"x": [1, 2], "meta": [{"a": 1, "b": [1, 2]}, {"a": 2}]})
    version = data_version(frame)
    same = pd.DataFrame({"x": [1, 2], "meta": [{"b": [1, 2], "a": 1}, {"a": 2}]})
    assert data_version(same) == version  # key order is not content
    arrays = pd.DataFrame({"x": [1, 2], "meta": [{"a": 1, "b": np.array([1, 2])}, {"a": 2}]})
    assert data_version(arrays) == version  # a list and an array of the same numbers
    changed = pd.DataFrame({"x": [1, 2], "meta": [{"a": 1, "b": [1, 3]}, {"a": 2}]})
    assert data_version(changed) != version
    text = pd.DataFrame({"x": [1, 2], "meta": ['{"a": 1, "b": [1, 2]}', '{"a": 2}']})
    assert data_version(text) != version


def test_data_version_of_flat_frames_is_unchanged() -> None:
    """Versions already logged to MLflow must not move: the formula they were made with."""
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.25, 0.125], "c": ["x", "y", "z"]})
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update("\x1f".join(str(t) for t in frame.dtypes).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    assert data_version(frame) == digest.hexdigest()[:16]
