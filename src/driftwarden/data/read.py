"""Read CSV or Parquet into a DataFrame, turning every failure into an InputFileError.

Nothing here unpickles: only CSV and Parquet are accepted, chosen by suffix.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from driftwarden.data.lean_parquet import read_parquet
from driftwarden.errors import InputFileError

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")


def read_frame(path: str | os.PathLike[str], max_bytes: int | None = None) -> pd.DataFrame:
    """Read a data file; raise ``InputFileError`` naming the file and what was wrong."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputFileError(
            p, f"unsupported file type {suffix or '(none)'}; expected .csv or .parquet"
        )
    if p.is_dir():
        raise InputFileError(p, "is a directory, expected a data file")
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputFileError(p, "file not found") from None
    except OSError as exc:
        raise InputFileError(p, f"cannot stat: {exc.strerror}") from None
    if size == 0:
        raise InputFileError(p, "file is empty (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise InputFileError(p, f"file is {size} bytes, larger than the limit of {max_bytes}")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(p, encoding="utf-8", low_memory=False)
        else:
            frame = read_parquet(p)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            p, f"not UTF-8 text (byte {exc.start}): expected a UTF-8 CSV"
        ) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(p, "no columns to parse: expected a header row and data") from None
    except pd.errors.ParserError as exc:
        raise InputFileError(p, f"malformed CSV: {str(exc).strip()}") from None
    except PermissionError:
        raise InputFileError(p, "permission denied") from None
    except Exception as exc:  # pyarrow raises many types for corrupt Parquet
        raise InputFileError(
            p, f"unreadable {suffix[1:]} file: {type(exc).__name__}: {exc}"
        ) from None
    if frame.shape[1] == 0:
        raise InputFileError(p, "no columns: expected a header row")
    if len(frame) == 0:
        raise InputFileError(p, "header only, no rows")
    # pandas renames a repeated CSV header "a" to "a.1", so look at the header as written.
    names = (csv_header(p) if suffix == ".csv" else []) or [str(c) for c in frame.columns]
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise InputFileError(p, f"duplicate column names {duplicated}", field=duplicated[0])
    return frame


def csv_header(path: Path) -> list[str]:
    """The header row of a CSV as written (first non-blank record; quoting as pandas reads it)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                if any(cell.strip() for cell in row):
                    return row
    except (csv.Error, OSError, UnicodeDecodeError):  # pandas read it; keep its column names
        return []
    return []
