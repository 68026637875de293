"""The data version of a frame computed column by column, batch by batch.

``data_version`` hashes every row of a frame held in memory. A reference read one column
at a time gets the same version from this: pandas hashes each column's values, then
folds the columns into one hash per row, in column order (CPython's tuple hash, as
``pandas.util.hash_pandas_object`` does); the fold needs one uint64 per row, not the data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from driftwarden.detectors.columns_pool import map_columns, worker_count

_SEED = np.uint64(0x345678)
_MULT = np.uint64(1000003)
_FINAL = np.uint64(97531)


class StreamingDataVersion:
    """``data_version`` of a frame whose columns are given one after the other, in order.

    Args:
        n_rows: the frame's row count.
        n_columns: its column count (the fold depends on it).
    """

    def __init__(self, n_rows: int, n_columns: int) -> None:
        self._rows = np.full(n_rows, _SEED, dtype=np.uint64)
        self._n_columns = n_columns
        self._column = 0
        self._mult = _MULT
        self._column_hash = np.empty(0, dtype=np.uint64)
        self._filled = 0
        self._digest: str | None = None

    def start_column(self) -> None:
        """Begin the next column; its batches follow with ``add``."""
        if self._column >= self._n_columns:
            raise ValueError("more columns than declared")
        self._filled = 0

    def add(self, batch: pd.Series) -> None:
        """The next rows of the current column."""
        self.add_hashes(column_hashes(batch))

    def add_hashes(self, hashed: np.ndarray) -> None:
        """The next rows of the current column, already hashed (``column_hashes``)."""
        end = self._filled + hashed.size
        rows = self._rows[self._filled : end]
        rows ^= hashed
        rows *= self._mult
        self._filled = end

    def end_column(self) -> None:
        """Finish the current column (it must have covered every row)."""
        if self._filled != self._rows.size:
            raise ValueError(f"column {self._column} gave {self._filled} of {self._rows.size} rows")
        inverse = self._n_columns - self._column
        self._mult = self._mult + np.uint64(82520 + inverse + inverse)
        self._column += 1

    def hexdigest(self, labels: Sequence[Any], dtypes: Sequence[Any]) -> str:
        """The version string, equal to ``data_version`` of the whole frame."""
        if self._column != self._n_columns:
            raise ValueError(f"{self._column} of {self._n_columns} columns hashed")
        if self._digest is None:
            digest = hashlib.sha256()
            digest.update("\x1f".join(map(str, labels)).encode())
            digest.update("\x1f".join(str(t) for t in dtypes).encode())
            if self._rows.size:
                self._rows += _FINAL  # in place: a copy of a 100M-row fold is 800 MB
                digest.update(self._rows.data)
            self._digest = digest.hexdigest()[:16]
            self._rows = np.empty(0, dtype=np.uint64)
        return self._digest


def column_hashes(values: pd.Series) -> np.ndarray:
    """pandas' per-row hash of one column (what ``hash_pandas_object`` folds)."""
    return pd.util.hash_pandas_object(values, index=False).to_numpy(np.uint64)


def frame_version(frame: pd.DataFrame, workers: int | None = None) -> str:
    """``data_version(frame)``, hashing a few columns at a time on threads.

    Hashing numbers is numpy arithmetic that releases the GIL; columns are hashed
    ``workers`` at a time and folded in order, so the extra memory is one uint64 per
    row and per worker.
    """
    count = worker_count() if workers is None else max(workers, 1)
    version = StreamingDataVersion(len(frame), frame.shape[1])
    columns = [frame.iloc[:, i] for i in range(frame.shape[1])]
    for start in range(0, len(columns), count):
        chunk = columns[start : start + count]
        hashed = map_columns(column_hashes, chunk, values=len(frame) * len(chunk), workers=count)
        for values in hashed:
            version.start_column()
            version.add_hashes(values)
            version.end_column()
    return version.hexdigest(list(frame.columns), list(frame.dtypes))
