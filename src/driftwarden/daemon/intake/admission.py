"""Cheap checks on a drop before its body is parsed: a CSV cut off mid-row, a wrong header.

pandas fills the missing fields of a short last row with NaN, so an upload that stopped
half-way would pass as data with missing values. A CSV whose last line has no line end and
fewer fields than the header is refused as truncated.

The header is compared with the reference before the body is read (``read_drop``): a file
with far more columns than the reference is refused from its first megabytes, and a header
that is not the reference's says what was found instead: another delimiter, or data where
the header should be (the tail of an upload that paused longer than ``settle_seconds``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from driftwarden.config.model import WatchConfig
from driftwarden.data.compressed import csv_compression, open_unpacked
from driftwarden.data.header import read_csv_header
from driftwarden.data.quoting import quote_names
from driftwarden.data.read import STILL_WRITTEN, read_frame
from driftwarden.errors import InputFileError

if TYPE_CHECKING:
    from driftwarden.daemon.intake.reference import Reference

TAIL_BYTES = 64 * 1024
HEADER_BYTES = 1 << 20  # enough to compare a header with the reference's names
MIN_COLUMN_LIMIT = 1000
COLUMN_LIMIT_FACTOR = 10
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


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
            f"truncated: the last row has {got} of {expected} fields and no line end; "
            + STILL_WRITTEN,
        )


def column_limit(watch: WatchConfig, reference_columns: int) -> int:
    """``watch.max_columns``, or 10 × the reference's columns and at least 1000."""
    if watch.max_columns is not None:
        return watch.max_columns
    return max(MIN_COLUMN_LIMIT, COLUMN_LIMIT_FACTOR * reference_columns)


def read_drop(path: Path, watch: WatchConfig, reference: Reference) -> pd.DataFrame:
    """Read a drop under the watch limits, its header first compared with the reference.

    Raises InputFileError (the file goes to quarantine) before the body is read when the
    file has more columns than ``column_limit`` allows or a CSV header lacks every reference
    column; ``admit`` checks the values afterwards.
    """
    limit = column_limit(watch, len(reference.columns))
    compression = csv_compression(path)
    if compression is not None or path.suffix.lower() == ".csv":
        names = _csv_names(path, compression, watch)
        if names is not None and len(names) <= limit:
            problem = header_problem(names, reference.tested)
            if problem is not None:
                reason, field = problem
                raise InputFileError(path, reason, field=field)
    return read_frame(
        path,
        max_bytes=watch.max_file_bytes,
        max_columns=limit,
        max_unpacked_bytes=watch.max_unpacked_bytes,
    )


def _csv_names(path: Path, compression: str | None, watch: WatchConfig) -> list[str] | None:
    """The header as written, or None when it cannot be had cheaply (read_frame says why)."""
    try:
        if compression is None:
            with path.open("rb") as stream:
                return read_csv_header(stream, HEADER_BYTES)
        with open_unpacked(path, compression, watch.max_unpacked_bytes) as unpacked:
            return read_csv_header(unpacked, HEADER_BYTES)
    except Exception:  # not UTF-8, corrupt, unreadable: read_frame names the problem
        return None


def header_problem(names: Sequence[str], tested: Sequence[str]) -> tuple[str, str | None] | None:
    """Why a header does not fit the reference, or None: (reason, the missing column).

    The column is named when some of the reference's are there and one is missing, not
    when none is (then the header as a whole is wrong).

    Names are quoted bounded and escaped: the reference may hold anything, and the reason
    is written beside the file for whoever dropped it.
    """
    present = set(names)
    missing = [c for c in tested if c not in present]
    if not missing:
        return None
    found = quote_names(names)
    expected = quote_names(tested)
    if len(missing) < len(tested):
        return (
            f"missing column(s) {quote_names(missing)} ({len(missing)} of the {len(tested)} "
            f"reference columns); the header has {found}",
            missing[0],
        )
    delimiter = _other_delimiter(names, tested)
    if delimiter is not None:
        reason = (
            f"the header {found} looks {OTHER_DELIMITERS[delimiter]}-separated; expected a "
            f"comma-separated CSV with the reference columns {expected}"
        )
    elif _looks_like_data(names):
        reason = (
            f"the first line {found} looks like data, not a header with the reference "
            f"columns {expected}: {STILL_WRITTEN}"
        )
    else:
        reason = f"none of the reference columns {expected} is in the header {found}"
    return f"missing column(s): {reason}", None


def _other_delimiter(names: Sequence[str], tested: Sequence[str]) -> str | None:
    """``;``, tab or ``|`` when splitting the header on it yields reference names."""
    wanted = set(tested)
    for delimiter in OTHER_DELIMITERS:
        parts = {p.strip() for name in names if delimiter in name for p in name.split(delimiter)}
        if parts & wanted:
            return delimiter
    if len(names) == 1:
        return next((d for d in OTHER_DELIMITERS if d in names[0]), None)
    return None


def _looks_like_data(names: Sequence[str]) -> bool:
    """At least half the non-blank cells are numbers: a row of data, not column names."""
    cells = [n.strip() for n in names if n.strip()]
    if not cells:
        return False
    numbers = sum(1 for cell in cells if _is_number(cell))
    return numbers * 2 >= len(cells)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
