"""What a data file's header says, read before (and without) the body.

A CSV's header row is read from at most a bounded number of bytes, so a file whose header
alone is hostile (100,000 columns, a one-gigabyte first line) is judged on its first
megabytes. Duplicate names are found in one pass (the quadratic ``names.count(n)`` took
half a minute for 40,000 names).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_SURROGATE = re.compile("[\udc80-\udcff]")  # undecodable bytes, kept by surrogateescape


def read_csv_header(stream: IO[bytes], cap: int) -> list[str] | None:
    """The first non-blank record of a CSV as written (quoting as pandas reads it).

    Reads at most ``cap`` bytes, in growing steps, so a short header costs one small read.
    Returns None when the record does not end within them (more data follows), ``[]``
    for a file of blank lines. Raises ``UnicodeDecodeError`` for a header that is not
    UTF-8 and ``csv.Error`` for a record csv cannot parse.
    """
    head = b""
    step = 1 << 16
    while True:
        wanted = min(step, cap + 1 - len(head))
        chunk = stream.read(wanted)
        head += chunk
        over = len(head) > cap  # one byte past the cap says that more follows
        whole = len(chunk) < wanted and not over  # a short read: the end of the stream
        row = _first_record(head[:cap], whole)
        if row is not None:
            return row
        if whole:
            return []
        if over:
            return None
        step *= 2


def _first_record(head: bytes, whole: bool) -> list[str] | None:
    """The first non-blank record in ``head`` when it ends there (or ``head`` is all there is)."""
    if not whole and b"\n" not in head and b"\r" not in head:
        return None  # one line, still going
    # Bytes after the header may be anything: only the header's own must be UTF-8.
    text = codecs.getincrementaldecoder("utf-8-sig")("surrogateescape").decode(head, final=whole)
    lines = _LINE.findall(text)
    fed: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            fed.append(line)
            yield line

    for row in csv.reader(feed()):
        if any(cell.strip() for cell in row):
            if not whole and not fed[-1].endswith(("\n", "\r")):
                return None  # the record goes on past what was read
            if any(_SURROGATE.search(cell) for cell in row):
                raise UnicodeDecodeError("utf-8", head, 0, 1, "header is not UTF-8")
            return row
    return None


def duplicate_names(names: Sequence[str]) -> list[str]:
    """Non-empty names that occur more than once, sorted (one pass over the names)."""
    counts = Counter(n for n in names if n)
    return sorted(n for n, c in counts.items() if c > 1)


@dataclass(frozen=True)
class BadByte:
    """Where a byte sequence stops being UTF-8: offset from the start, 1-based line, the byte."""

    offset: int
    line: int
    value: int


def first_bad_utf8(stream: IO[bytes], chunk_size: int = 1 << 20) -> BadByte | None:
    """The first byte that is not valid UTF-8 in ``stream``, or None when all of it is.

    pandas' ``UnicodeDecodeError.start`` counts from the start of its read buffer, not the
    file, so the reason for quarantine scans the bytes again to name the real place.
    """
    offset = 0  # of buffer[0] in the stream
    line = 1
    buffer = b""
    while True:
        chunk = stream.read(chunk_size)
        buffer += chunk
        try:
            buffer.decode("utf-8")
            good = len(buffer)
        except UnicodeDecodeError as exc:
            split_at_end = exc.end == len(buffer) and exc.reason == "unexpected end of data"
            if not (chunk and split_at_end):  # a real error, or a sequence cut off by EOF
                return BadByte(
                    offset + exc.start,
                    line + buffer.count(b"\n", 0, exc.start),
                    buffer[exc.start],
                )
            good = exc.start  # a character split between two chunks: read on
        line += buffer.count(b"\n", 0, good)
        offset += good
        buffer = buffer[good:]
        if not chunk:
            return None


@dataclass(frozen=True)
class ParquetHeader:
    """A Parquet file's columns, its nested ones, and its size once unpacked (footer only)."""

    names: list[str]
    nested: list[tuple[str, str]]  # (column, arrow type) of struct/list/map/union columns
    unpacked_bytes: int


def read_parquet_header(path: str) -> ParquetHeader:
    """The schema and size from a Parquet footer, without reading any column data."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        schema = handle.schema_arrow
        meta = handle.metadata
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    nested = [(f.name, str(f.type)) for f in schema if pa.types.is_nested(f.type)]
    return ParquetHeader([str(n) for n in schema.names], nested, int(unpacked))
