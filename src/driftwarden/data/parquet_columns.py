"""A Parquet file read one column at a time, batch by batch, as ``read_frame`` reads it whole.

A reference too big for memory is prepared column by column and row group by row group.
Every batch comes back as the pandas Series that the same rows of ``read_frame``'s frame
hold: same values, same dtype. The dtype is the whole column's, not the batch's: pandas
reads an integer column with a null anywhere as float64 (a bool column as object), so a
batch without nulls is cast to what the whole column gets.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftwarden.errors import InputFileError

try:  # what pd.read_parquet itself calls: the same dtypes for the same table
    from pandas.io._util import arrow_table_to_pandas as _pandas_conversion
except ImportError:  # a pandas that moved it
    _pandas_conversion = None

PARQUET_SUFFIXES = (".parquet", ".pq")
BATCH_ROWS = 1 << 20  # rows per batch: 8 MB of float64, few enough batches to be cheap


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """``table`` converted to pandas the way ``pd.read_parquet`` converts it."""
    if _pandas_conversion is not None:
        return _pandas_conversion(table)
    return table.to_pandas()


class ParquetColumns:
    """One Parquet file, opened and checked; its columns come one at a time.

    Raises InputFileError (naming the file and what was wrong) on every problem
    ``read_frame`` reports: missing, empty, too big, unreadable, no columns, no rows,
    duplicate column names.
    """

    def __init__(self, path: str | os.PathLike[str], max_bytes: int | None = None) -> None:
        self.path = Path(path)
        self._file = _open(self.path, max_bytes)
        schema = self._file.schema_arrow
        self._schema = schema
        self.n_rows = int(self._file.metadata.num_rows)
        empty = to_pandas(schema.empty_table())
        names = [str(c) for c in empty.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise InputFileError(
                self.path, f"duplicate column names {duplicated}", field=duplicated[0]
            )
        if not names:
            raise InputFileError(self.path, "no columns: expected a header row")
        if self.n_rows == 0:
            raise InputFileError(self.path, "header only, no rows")
        self.columns: list[str] = names
        self._labels = list(empty.columns)
        self._dtypes: dict[str, Any] = {}
        for name in names:
            if schema.get_field_index(name) < 0:
                raise InputFileError(
                    self.path, "column stored under another name in the file", field=name
                )
            self._dtypes[name] = self._whole_column_dtype(name, empty[name].dtype)

    @property
    def labels(self) -> list[Any]:
        """The column labels as pandas reads them (``data_version`` hashes their ``str``)."""
        return list(self._labels)

    def dtype(self, name: str) -> Any:
        """The pandas dtype ``read_frame`` gives this column."""
        return self._dtypes[name]

    def batches(self, name: str, batch_rows: int = BATCH_ROWS) -> Iterator[pd.Series]:
        """The column in row order, ``batch_rows`` rows (or a row group's end) at a time."""
        dtype = self._dtypes[name]
        try:
            for batch in self._file.iter_batches(
                batch_size=batch_rows, columns=[name], use_pandas_metadata=False
            ):
                yield _as_whole(self._series(pa.Table.from_batches([batch]), name), dtype)
        except InputFileError:
            raise
        except Exception as exc:  # pyarrow raises many types for corrupt pages
            raise InputFileError(
                self.path, f"unreadable parquet file: {type(exc).__name__}: {exc}", field=name
            ) from None

    def read(self, name: str) -> pd.Series:
        """The whole column at once (one column's memory, not the file's)."""
        try:
            table = self._file.read(columns=[name], use_pandas_metadata=False)
        except Exception as exc:
            raise InputFileError(
                self.path, f"unreadable parquet file: {type(exc).__name__}: {exc}", field=name
            ) from None
        return _as_whole(self._series(table, name), self._dtypes[name])

    def _series(self, table: pa.Table, name: str) -> pd.Series:
        table = table.replace_schema_metadata(self._schema.metadata)
        frame = to_pandas(table)
        series = frame.iloc[:, 0]
        series.name = name
        return series.reset_index(drop=True)

    def _whole_column_dtype(self, name: str, empty_dtype: Any) -> Any:
        """The dtype with nulls when the column has a null anywhere, else the plain one."""
        field = self._schema.field(name)
        one_null = pa.table(
            {name: pa.nulls(1, type=field.type)}, schema=pa.schema([field], self._schema.metadata)
        )
        with_null = to_pandas(one_null)[name].dtype
        if with_null == empty_dtype or not self._has_nulls(name):
            return empty_dtype
        return with_null

    def _has_nulls(self, name: str) -> bool:
        """From the row groups' statistics when every one has a null count, else by reading."""
        metadata = self._file.metadata
        index = self._schema.get_field_index(name)
        flat = metadata.num_columns == len(self._schema)
        if flat:
            counts = []
            for group in range(metadata.num_row_groups):
                stats = metadata.row_group(group).column(index).statistics
                if stats is None or not stats.has_null_count:
                    break
                counts.append(stats.null_count)
            else:
                return sum(counts) > 0
        try:
            return any(
                batch.column(0).null_count
                for batch in self._file.iter_batches(batch_size=BATCH_ROWS, columns=[name])
            )
        except Exception as exc:
            raise InputFileError(
                self.path, f"unreadable parquet file: {type(exc).__name__}: {exc}", field=name
            ) from None


def _as_whole(series: pd.Series, dtype: Any) -> pd.Series:
    """A batch cast to the whole column's dtype (int to float, bool to object, when nulls).

    Categoricals are left alone: each batch has its own categories, and the values (all
    that a test or a hash sees) are the same as in the whole column.
    """
    if series.dtype == dtype or isinstance(series.dtype, pd.CategoricalDtype):
        return series
    return series.astype(dtype)


def _open(path: Path, max_bytes: int | None) -> pq.ParquetFile:
    """The checks ``read_frame`` makes before reading, then the file's footer."""
    suffix = path.suffix.lower()
    if suffix not in PARQUET_SUFFIXES:
        raise InputFileError(path, f"unsupported file type {suffix or '(none)'}; expected .parquet")
    if path.is_dir():
        raise InputFileError(path, "is a directory, expected a data file")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot stat: {exc.strerror}") from None
    if size == 0:
        raise InputFileError(path, "file is empty (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise InputFileError(path, f"file is {size} bytes, larger than the limit of {max_bytes}")
    try:
        return pq.ParquetFile(path)
    except PermissionError:
        raise InputFileError(path, "permission denied") from None
    except Exception as exc:
        raise InputFileError(
            path, f"unreadable parquet file: {type(exc).__name__}: {exc}"
        ) from None
