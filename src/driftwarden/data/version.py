"""Data versions: a content hash of the whole frame (MLflow's digest hashes only 10,000 rows)."""

from __future__ import annotations

import hashlib

import pandas as pd


def data_version(frame: pd.DataFrame) -> str:
    """Stable sha256 (first 16 hex digits) over every row, the column names and their order.

    Row order matters (it is part of the content); the index does not.
    """
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update("\x1f".join(str(t) for t in frame.dtypes).encode())
    if len(frame):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def file_digest(path: str, chunk_size: int = 1 << 20) -> str:
    """sha256 of a file's bytes, for recognising the same content dropped under another name."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
