"""Data versions: a content hash of the whole frame (MLflow's digest hashes only 10,000 rows)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd


def data_version(frame: pd.DataFrame) -> str:
    """Stable sha256 (first 16 hex digits) over every row, the column names and their order.

    Row order matters (it is part of the content); the index does not. Cells that pandas
    cannot hash (dicts, lists, arrays from nested Parquet columns) are hashed as canonical
    JSON text, so a frame built anywhere gets a version instead of a ``TypeError``.
    """
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update("\x1f".join(str(t) for t in frame.dtypes).encode())
    if len(frame):
        try:
            hashes = pd.util.hash_pandas_object(frame, index=False)
        except TypeError:  # unhashable cells; flat frames keep the versions they always had
            hashes = pd.util.hash_pandas_object(_flattened(frame), index=False)
        digest.update(hashes.to_numpy().tobytes())
    return digest.hexdigest()[:16]


def _flattened(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding containers replaced by their canonical JSON text."""
    out = {}
    for position, (_, series) in enumerate(frame.items()):
        if series.dtype == object and series.map(_is_container).any():
            series = series.map(_canonical)
        out[position] = series
    return pd.DataFrame(out, index=frame.index)


def _is_container(value: Any) -> bool:
    return isinstance(value, dict | list | tuple | set | np.ndarray)


def _canonical(value: Any) -> Any:
    """JSON with sorted keys for containers; anything else unchanged."""
    if not _is_container(value):
        return value
    return "\x00json:" + json.dumps(_plain(value), sort_keys=True, default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def file_digest(path: str, chunk_size: int = 1 << 20) -> str:
    """sha256 of a file's bytes, for recognising the same content dropped under another name."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
