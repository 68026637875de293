"""Preparing a Parquet reference column by column and row group by row group.

``PreparedReference.from_frame`` needs the whole reference in memory and then a sorted
copy of it; a 100M-row reference does not fit. Here one column is read at a time, in
batches: a numeric column's finite values are copied into one array and sorted in place
(8 bytes a row: 800 MB for 100M rows, the most memory this needs besides the data
version's one uint64 a row), category counts add up batch by batch. Each finished
column goes to ``sink`` (the prepared store writes it to disk and lets it go). The
result is the one ``from_frame(read_frame(path))`` gives: the same columns, profiles,
findings, data version and prepared values, bit for bit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from driftwarden.config.model import DriftConfig
from driftwarden.data.lean_parquet import release_arrow_memory
from driftwarden.data.parquet_columns import BATCH_ROWS, ParquetColumns
from driftwarden.data.version_stream import StreamingDataVersion
from driftwarden.detectors.base import clean_numeric, is_numeric_column, null_count
from driftwarden.detectors.prepared import (
    CategoricalColumn,
    PreparedColumn,
    PreparedReference,
    drop_datetimes,
    numeric_column,
    tested_columns,
)
from driftwarden.detectors.schema import ColumnProfile, dtype_family
from driftwarden.detectors.tally import CategoryTally

# What happens to each prepared column: kept (returned) or written away (None).
ColumnSink = Callable[[PreparedColumn], PreparedColumn | None]


def _keep(column: PreparedColumn) -> PreparedColumn:
    return column


def prepare_parquet(
    path: str | os.PathLike[str],
    cfg: DriftConfig,
    target: str | None = None,
    *,
    sink: ColumnSink = _keep,
    with_version: bool = True,
    max_bytes: int | None = None,
    batch_rows: int = BATCH_ROWS,
) -> PreparedReference:
    """Prepare a Parquet reference reading one column at a time, in batches.

    Args:
        path: the reference file (``.parquet`` or ``.pq``).
        cfg: the ``[drift]`` settings (columns, exclusions, categorical overrides, MMD).
        target: the label column, never tested (ignored when the file lacks it).
        sink: receives each prepared column; what it returns is kept in the result (a
            sink that writes the column to disk returns None and the memory is freed).
        with_version: compute the data version (one more pass of hashing per column).
        max_bytes: refuse a larger file, as ``read_frame`` does.
        batch_rows: rows per batch read.

    Raises:
        InputFileError: the file is missing, unreadable or has no rows or columns.
    """
    source = ParquetColumns(path, max_bytes)
    columns = source.columns
    target = target if target in columns else None
    tested, findings = tested_columns(columns, cfg, target)
    families = {name: dtype_family(source.dtype(name)) for name in columns}
    findings += drop_datetimes(tested, families)
    forced = set(cfg.categorical_columns or [])
    numeric = {
        name: is_numeric_column(pd.Series([], dtype=source.dtype(name), name=name), forced)
        for name in tested
    }
    mmd_names = [n for n in tested if numeric[n]] if cfg.mmd.enabled else []
    sampler = _RowSample(source.n_rows, cfg) if mmd_names else None
    version = StreamingDataVersion(source.n_rows, len(columns)) if with_version else None
    profiles: dict[str, ColumnProfile] = {}
    prepared: dict[str, PreparedColumn] = {}
    for name in columns:
        if name not in numeric and version is None:
            continue
        reader = _ColumnReader(name, numeric.get(name), source.n_rows, sampler, version)
        for batch in source.batches(name, batch_rows):
            reader.add(batch)
        rate = reader.nulls / source.n_rows
        if name in numeric:
            profiles[name] = ColumnProfile(families[name], numeric[name], rate)
            kept = sink(reader.prepared())
            if kept is not None:
                prepared[name] = kept
        reader.close()
    release_arrow_memory()  # the batches' pages, cached by Arrow's allocator
    profiles = {name: profiles[name] for name in tested}  # from_frame's order
    prepared = {name: prepared[name] for name in tested if name in prepared}
    data_version = None
    if version is not None:
        data_version = version.hexdigest(source.labels, [source.dtype(n) for n in columns])
    return PreparedReference(
        columns,
        tested,
        profiles,
        findings,
        source.n_rows,
        target,
        data_version,
        prepared,
        mmd_rows=sampler.frame(mmd_names) if sampler is not None else None,
    )


class _ColumnReader:
    """What one pass over one column collects: sorted values or counts, nulls, hashes."""

    def __init__(
        self,
        name: str,
        numeric: bool | None,
        n_rows: int,
        sampler: _RowSample | None,
        version: StreamingDataVersion | None,
    ) -> None:
        self.name = name
        self.numeric = numeric  # None: only hashed (not tested)
        self.nulls = 0
        self._values = np.empty(n_rows if numeric else 0, dtype=np.float64)
        self._filled = 0
        self._dropped = 0
        self._tally = CategoryTally() if numeric is False else None
        self._sampler = sampler if numeric else None
        self._version = version
        self._row = 0
        if version is not None:
            version.start_column()

    def add(self, batch: pd.Series) -> None:
        if self._version is not None:
            self._version.add(batch)
        if self.numeric is None:
            return
        self.nulls += null_count(batch)
        if self._tally is not None:
            self._tally.add(batch)
        else:
            clean = clean_numeric(batch)
            end = self._filled + clean.values.size
            self._values[self._filled : end] = clean.values
            self._filled = end
            self._dropped += clean.n_dropped
        if self._sampler is not None:
            self._sampler.add(self.name, self._row, batch)
        self._row += len(batch)

    def prepared(self) -> PreparedColumn:
        if self._tally is not None:
            counts, n_null = self._tally.result()
            return CategoricalColumn(self.name, counts, n_null)
        values = self._values[: self._filled]
        if values.size < self._values.size:  # NaNs dropped: do not keep the unused tail
            values = values.copy()
        self._values = np.empty(0)
        values.sort()
        return numeric_column(self.name, values, self._dropped)

    def close(self) -> None:
        if self._version is not None:
            self._version.end_column()


class _RowSample:
    """The rows ``from_frame`` keeps for MMD, picked as ``DataFrame.sample`` picks them."""

    def __init__(self, n_rows: int, cfg: DriftConfig) -> None:
        size = cfg.mmd.max_samples
        if n_rows > size:
            rows = np.random.RandomState(cfg.mmd.seed).choice(n_rows, size=size, replace=False)
        else:
            rows = np.arange(n_rows)
        self._rows = rows.astype(np.intp)
        self._order = np.argsort(self._rows, kind="stable")
        self._sorted = self._rows[self._order]
        self._parts: dict[str, list[pd.Series]] = {}

    def add(self, name: str, start: int, batch: pd.Series) -> None:
        lo, hi = np.searchsorted(self._sorted, [start, start + len(batch)])
        if hi > lo:
            picked = batch.iloc[self._sorted[lo:hi] - start]
            picked.index = self._sorted[lo:hi]
            self._parts.setdefault(name, []).append(picked)

    def frame(self, names: list[str]) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for name in names:
            parts = self._parts.get(name, [])
            whole = pd.concat(parts) if parts else pd.Series([], dtype=np.float64)
            columns[name] = whole.reindex(self._rows)
        sample = pd.DataFrame(columns, index=self._rows)
        return sample.apply(pd.to_numeric, errors="coerce")
