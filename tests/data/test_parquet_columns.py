"""A Parquet file read column by column, batch by batch, gives read_frame's columns exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftwarden.data.parquet_columns import ParquetColumns
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.data.version_stream import StreamingDataVersion
from driftwarden.errors import InputFileError
from tests.data.frames import mixed_frame


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    path = tmp_path / "reference.parquet"
    mixed_frame(1000).to_parquet(path, row_group_size=150)
    return path


def test_batches_rebuild_every_column_with_read_frames_dtype(parquet: Path) -> None:
    frame = read_frame(parquet)
    source = ParquetColumns(parquet)
    assert source.columns == list(frame.columns) and source.n_rows == len(frame)
    for name in source.columns:
        parts = list(source.batches(name, batch_rows=64))
        assert len(parts) > 5  # really in batches
        whole = pd.concat(parts, ignore_index=True)
        assert source.dtype(name) == frame[name].dtype or str(source.dtype(name)) == "category"
        pd.testing.assert_series_equal(whole, frame[name], check_categorical=False)
        pd.testing.assert_series_equal(source.read(name), frame[name])


def test_an_int_column_with_one_null_in_the_last_group_reads_as_float(tmp_path: Path) -> None:
    """pandas reads the whole column as float64, so every batch is float64 too."""
    values = pa.array([*list(range(99)), None], type=pa.int64())
    path = tmp_path / "late.parquet"
    pq.write_table(pa.table({"n": values}), path, row_group_size=10)
    source = ParquetColumns(path)
    assert source.dtype("n") == np.float64 == read_frame(path)["n"].dtype
    assert all(batch.dtype == np.float64 for batch in source.batches("n", 10))


def test_null_counts_are_read_when_the_file_has_no_statistics(tmp_path: Path) -> None:
    path = tmp_path / "nostats.parquet"
    table = pa.table({"n": pa.array([1, None, 3], type=pa.int64()), "m": [1, 2, 3]})
    pq.write_table(table, path, write_statistics=False)
    source = ParquetColumns(path)
    assert source.dtype("n") == np.float64 and source.dtype("m") == np.int64


def test_streamed_data_version_equals_data_version(parquet: Path) -> None:
    source = ParquetColumns(parquet)
    version = StreamingDataVersion(source.n_rows, len(source.columns))
    for name in source.columns:
        version.start_column()
        for batch in source.batches(name, batch_rows=97):
            version.add(batch)
        version.end_column()
    dtypes = [source.dtype(n) for n in source.columns]
    assert version.hexdigest(source.labels, dtypes) == data_version(read_frame(parquet))


def test_a_short_column_is_refused() -> None:
    version = StreamingDataVersion(5, 1)
    version.start_column()
    version.add(pd.Series([1, 2, 3]))
    with pytest.raises(ValueError, match="3 of 5 rows"):
        version.end_column()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.parquet", b"", "empty"),
        ("junk.parquet", b"\x00\x01 not parquet at all", "unreadable parquet"),
        ("data.csv", b"a\n1\n", "unsupported file type .csv"),
    ],
)
def test_bad_files_raise_input_file_error(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=expected) as info:
        ParquetColumns(path)
    assert str(path) in str(info.value)


def test_missing_too_big_headerless_and_duplicate_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        ParquetColumns(tmp_path / "nope.parquet")
    big = tmp_path / "big.parquet"
    pd.DataFrame({"a": range(1000)}).to_parquet(big)
    with pytest.raises(InputFileError, match="larger than the limit"):
        ParquetColumns(big, max_bytes=100)
    header = tmp_path / "header.parquet"
    pd.DataFrame({"a": pd.Series([], dtype=float)}).to_parquet(header)
    with pytest.raises(InputFileError, match="header only"):
        ParquetColumns(header)
    twice = tmp_path / "twice.parquet"
    pq.write_table(pa.table([pa.array([1]), pa.array([2])], names=["a", "a"]), twice)
    with pytest.raises(InputFileError, match="duplicate column names"):
        ParquetColumns(twice)


def test_a_corrupt_page_is_an_input_file_error_naming_the_column(tmp_path: Path) -> None:
    path = tmp_path / "torn.parquet"
    pd.DataFrame({"a": np.arange(20_000.0)}).to_parquet(path, compression=None)
    data = bytearray(path.read_bytes())
    data[4:64] = b"\xff" * 60  # the first page header; the footer stays readable
    path.write_bytes(bytes(data))
    source = ParquetColumns(path)
    with pytest.raises(InputFileError) as info:
        list(source.batches("a"))
    assert info.value.field == "a" and str(path) in str(info.value)
