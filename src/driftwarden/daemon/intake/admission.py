"""Cheap checks on a drop's bytes before it is parsed: catching a CSV cut off mid-row.

pandas fills the missing fields of a short last row with NaN, so an upload that stopped
half-way would pass as data with missing values. A CSV whose last line has no line end and
fewer fields than the header is refused as truncated.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from driftwarden.errors import InputFileError

TAIL_BYTES = 64 * 1024


def _fields(line: str) -> int:
    try:
        return len(next(csv.reader(io.StringIO(line))))
    except (StopIteration, csv.Error):
        return 0


def check_csv_complete(path: Path) -> None:
    """Raise InputFileError when ``path`` (a CSV) ends in a partial row without a line end."""
    if path.suffix.lower() != ".csv":
        return
    with path.open("rb") as handle:
        header = handle.readline(TAIL_BYTES)
        size = path.stat().st_size
        handle.seek(max(0, size - TAIL_BYTES))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")) or len(header) >= size:
        return  # complete last line, or a header-only file (read_frame reports that)
    last = tail.rsplit(b"\n", 1)[-1]
    expected = _fields(header.decode("utf-8", "replace"))
    got = _fields(last.decode("utf-8", "replace"))
    if 0 < got < expected:
        raise InputFileError(
            path,
            f"truncated: the last row has {got} of {expected} fields and no line end "
            "(was the upload interrupted?)",
        )
