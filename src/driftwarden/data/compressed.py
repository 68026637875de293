"""Compressed CSV drops (``.csv.gz``, ``.csv.bz2``, ``.csv.xz``, ``.csv.zst``), read with a cap.

A few kilobytes of gzip can unpack to gigabytes (a decompression bomb), so every stream
opened here counts the bytes it hands out and raises ``UnpackedTooLarge`` past a limit,
before pandas ever holds them. gzip, bz2 and xz come from the standard library; zstd from
pyarrow, which is already a dependency (no ``zstandard`` package needed).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

# suffix after ".csv" -> the name used in messages
CSV_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class UnpackedTooLarge(Exception):
    """A compressed stream unpacked to more bytes than allowed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"unpacks to more than {limit} bytes")


def csv_compression(path: Path) -> str | None:
    """The compression suffix of a compressed CSV name (``.gz`` for ``x.csv.gz``), else None."""
    name = path.name.lower()
    for suffix in CSV_COMPRESSIONS:
        if name.endswith(".csv" + suffix):
            return suffix
    return None


def _open_zstd(path: Path) -> _Readable:
    import pyarrow as pa

    stream: _Readable = pa.input_stream(str(path), compression="zstd")
    return stream


# The caller owns (and closes) the stream each opener returns.
_OPENERS: dict[str, Callable[[Path], _Readable]] = {
    ".gz": lambda p: gzip.open(p, "rb"),  # noqa: SIM115
    ".bz2": lambda p: bz2.open(p, "rb"),  # noqa: SIM115
    ".xz": lambda p: lzma.open(p, "rb"),  # noqa: SIM115
    ".zst": _open_zstd,
}


class _Capped(io.RawIOBase):
    """Hands out at most ``limit`` bytes of ``raw``; one more raises ``UnpackedTooLarge``."""

    def __init__(self, raw: _Readable, limit: int | None) -> None:
        self._raw = raw
        self._limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        self.count += len(data)
        if self._limit is not None and self.count > self._limit:
            raise UnpackedTooLarge(self._limit)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def open_unpacked(path: Path, suffix: str, limit: int | None) -> io.BufferedReader:
    """The unpacked bytes of a compressed file, raising ``UnpackedTooLarge`` past ``limit``."""
    return io.BufferedReader(_Capped(_OPENERS[suffix](path), limit), buffer_size=1 << 20)
