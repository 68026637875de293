"""Read CSV or Parquet into a DataFrame, turning every failure into an InputFileError.

Nothing here unpickles: only CSV (plain or compressed) and Parquet are accepted, chosen by
suffix. The header (a CSV's first row, a Parquet footer) is judged before the body is
read, so a file with far too many columns, duplicate names or nested values costs only its
first megabytes.
"""

from __future__ import annotations

import csv
import lzma
import os
import stat
import zlib
from pathlib import Path
from typing import IO

import pandas as pd

from driftwarden.data.compressed import (
    CSV_COMPRESSIONS,
    UnpackedTooLarge,
    csv_compression,
    open_unpacked,
)
from driftwarden.data.header import (
    duplicate_names,
    first_bad_utf8,
    read_csv_header,
    read_parquet_header,
)
from driftwarden.data.lean_parquet import read_parquet
from driftwarden.data.quoting import escape_text, quote_name, quote_names
from driftwarden.errors import InputFileError

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")
COMPRESSED_CSV_SUFFIXES = tuple(".csv" + s for s in CSV_COMPRESSIONS)
HEADER_BYTES = 16 * 1024 * 1024  # read for a CSV header when no column limit is set
HEADER_BYTES_PER_COLUMN = 64  # with a column limit: this much per allowed column, at least 1 MiB
STILL_WRITTEN = (
    "the file was probably still being written when it was read (an upload that paused "
    'for longer than watch.settle_seconds); watch.completion = "marker" waits for a marker file'
)


def is_data_file_name(path: str | os.PathLike[str]) -> bool:
    """Whether the name has a suffix ``read_frame`` reads (plain or compressed CSV, Parquet)."""
    p = Path(path)
    return p.suffix.lower() in SUPPORTED_SUFFIXES or csv_compression(p) is not None


def read_frame(
    path: str | os.PathLike[str],
    max_bytes: int | None = None,
    *,
    max_columns: int | None = None,
    max_unpacked_bytes: int | None = None,
) -> pd.DataFrame:
    """Read a data file; raise ``InputFileError`` naming the file and what was wrong.

    Args:
        path: a ``.csv``, ``.csv.gz``/``.bz2``/``.xz``/``.zst``, ``.parquet`` or ``.pq`` file.
        max_bytes: refuse a larger file (its size on disk, compressed or not).
        max_columns: refuse a file with more columns, judged on its header alone.
        max_unpacked_bytes: refuse a compressed CSV that unpacks to more bytes, or a
            Parquet file whose column data is larger than this uncompressed.
    """
    p = Path(path)
    compression = csv_compression(p)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES and compression is None:
        raise InputFileError(
            p,
            f"unsupported file type {escape_text(suffix[:20]) or '(none)'}; expected .csv, "
            f".parquet or a compressed CSV ({', '.join(COMPRESSED_CSV_SUFFIXES)})",
        )
    _check_file(p, max_bytes)
    if compression is not None or suffix == ".csv":
        return _read_csv(p, compression, max_columns, max_unpacked_bytes)
    return _read_parquet(p, suffix, max_columns, max_unpacked_bytes)


def _check_file(p: Path, max_bytes: int | None) -> None:
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputFileError(p, "file not found") from None
    except OSError as exc:
        raise InputFileError(p, f"cannot stat: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputFileError(p, "is a directory, expected a data file")
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(
            p, f"is a {_kind(st.st_mode)}, not a regular file; expected a data file"
        )
    if st.st_size == 0:
        raise InputFileError(p, "file is empty (0 bytes)")
    if max_bytes is not None and st.st_size > max_bytes:
        raise InputFileError(p, f"file is {st.st_size} bytes, larger than the limit of {max_bytes}")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


def _open(p: Path, compression: str | None, limit: int | None) -> IO[bytes]:
    if compression is None:
        return p.open("rb")
    return open_unpacked(p, compression, limit)


def _read_csv(
    p: Path, compression: str | None, max_columns: int | None, max_unpacked: int | None
) -> pd.DataFrame:
    cap = (
        HEADER_BYTES if max_columns is None else max(1 << 20, max_columns * HEADER_BYTES_PER_COLUMN)
    )
    try:
        with _open(p, compression, max_unpacked) as stream:
            names = read_csv_header(stream, cap)
        if names is None and max_columns is not None:
            raise InputFileError(
                p, f"header row longer than {cap} bytes; at most {max_columns} columns are accepted"
            )
        if names is not None and max_columns is not None and len(names) > max_columns:
            raise InputFileError(
                p, f"{len(names)} columns, more than the limit of {max_columns}; not read"
            )
        if names:
            _refuse_duplicates(p, names)
        if compression is None:
            frame = pd.read_csv(p, encoding="utf-8", low_memory=False)
        else:
            with _open(p, compression, max_unpacked) as stream:
                frame = pd.read_csv(stream, encoding="utf-8", low_memory=False)
    except (UnicodeDecodeError, csv.Error, pd.errors.ParserError) as exc:
        raise _csv_error(p, compression, exc) from None
    except Exception as exc:
        raise _read_error(p, compression or ".csv", exc) from None
    _refuse_empty(p, frame)
    if names is None:  # a header past the cap without a column limit: pandas' names
        _refuse_duplicates(p, [str(c) for c in frame.columns])
    return frame


def _read_parquet(
    p: Path, suffix: str, max_columns: int | None, max_unpacked: int | None
) -> pd.DataFrame:
    try:
        header = read_parquet_header(str(p))
    except Exception as exc:
        raise _read_error(p, suffix, exc) from None
    if max_columns is not None and len(header.names) > max_columns:
        raise InputFileError(
            p, f"{len(header.names)} columns, more than the limit of {max_columns}; not read"
        )
    if header.nested:
        name, kind = header.nested[0]
        more = (
            f" (and {len(header.nested) - 1} more nested column(s))"
            if len(header.nested) > 1
            else ""
        )
        raise InputFileError(
            p,
            f"holds nested values of type {quote_name(kind, 60)}{more}; expected flat values "
            "(numbers, text, booleans, dates), one per cell",
            field=name,
        )
    if max_unpacked is not None and header.unpacked_bytes > max_unpacked:
        raise InputFileError(
            p,
            f"column data is {header.unpacked_bytes} bytes uncompressed, more than the limit "
            f"of {max_unpacked}; not read",
        )
    _refuse_duplicates(p, header.names)
    try:
        frame = read_parquet(p)
    except Exception as exc:
        raise _read_error(p, suffix, exc) from None
    _refuse_empty(p, frame)
    return frame


def _refuse_duplicates(p: Path, names: list[str]) -> None:
    # pandas renames a repeated CSV header "a" to "a.1", so look at the header as written.
    duplicated = duplicate_names(names)
    if duplicated:
        raise InputFileError(
            p, f"duplicate column names {quote_names(duplicated)}", field=duplicated[0]
        )


def _refuse_empty(p: Path, frame: pd.DataFrame) -> None:
    if frame.shape[1] == 0:
        raise InputFileError(p, "no columns: expected a header row")
    if len(frame) == 0:
        raise InputFileError(p, "header only, no rows")


def _csv_error(p: Path, compression: str | None, exc: Exception) -> InputFileError:
    if isinstance(exc, UnicodeDecodeError):
        where = "of the unpacked text " if compression else ""
        try:
            with _open(p, compression, None) as stream:
                bad = first_bad_utf8(stream)
        except Exception:  # the reason stays useful without the place
            bad = None
        if bad is None:
            return InputFileError(p, "not UTF-8 text: expected a UTF-8 CSV")
        return InputFileError(
            p,
            f"not UTF-8 text: byte 0x{bad.value:02x} at offset {bad.offset} {where}(line "
            f"{bad.line}) is not valid UTF-8; expected a UTF-8 CSV",
        )
    text = " ".join(str(exc).split())  # pandas' messages end in a newline
    return InputFileError(p, f"malformed CSV: {text}")


def _read_error(p: Path, kind: str, exc: Exception) -> InputFileError:
    if isinstance(exc, InputFileError):
        return exc
    if isinstance(exc, UnpackedTooLarge):
        return InputFileError(
            p, f"unpacks to more than {exc.limit} bytes; refused as a possible decompression bomb"
        )
    if isinstance(exc, pd.errors.EmptyDataError):
        return InputFileError(p, "no columns to parse: expected a header row and data")
    if isinstance(exc, PermissionError):
        return InputFileError(p, "permission denied")
    if kind in CSV_COMPRESSIONS:
        if isinstance(exc, EOFError):
            return InputFileError(p, f"the {kind[1:]} data ends early (truncated): {STILL_WRITTEN}")
        if isinstance(exc, OSError | zlib.error | lzma.LZMAError | ValueError):
            return InputFileError(p, f"corrupt {kind[1:]} data: {type(exc).__name__}: {exc}")
    # pyarrow raises many types for corrupt Parquet
    return InputFileError(p, f"unreadable {kind.lstrip('.')} file: {type(exc).__name__}: {exc}")


def data_file_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a regular data file once links are followed, or None.

    For files named in the config (``reference.path``): a link named ``ref.csv`` that leads
    to ``/etc/shadow`` or ``/dev/zero`` is refused, while ``read_frame`` reads a linked
    drop whatever its target is called. A missing file is left to ``read_frame``.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    target = Path(os.path.realpath(p))
    linked = target != Path(os.path.abspath(p))
    if not stat.S_ISREG(st.st_mode):
        kind = "directory" if stat.S_ISDIR(st.st_mode) else _kind(st.st_mode)
        if not linked:
            return f"is a {kind}, not a regular file; expected a data file"
        return f"leads to {escape_text(str(target))}, a {kind}; expected a regular data file"
    if linked and not is_data_file_name(target):
        return (
            f"leads to {escape_text(str(target))}, which is not named as a data file; expected "
            f".csv, .parquet or a compressed CSV ({', '.join(COMPRESSED_CSV_SUFFIXES)})"
        )
    return None
