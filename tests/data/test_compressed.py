"""Compressed CSV drops are read like plain ones, with a cap on what they unpack to."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from driftwarden.data.read import read_frame
from driftwarden.errors import InputFileError


def _zstd(data: bytes) -> bytes:
    return bytes(pa.compress(data, codec="zstd", asbytes=True))


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    ".csv.gz": gzip.compress,
    ".csv.bz2": bz2.compress,
    ".csv.xz": lzma.compress,
    ".csv.zst": _zstd,
}
FRAME = pd.DataFrame({"x1": [1.5, -2.0, 3.25], "cat": ["a", "é", "c"], "n": [1, 2, 3]})


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_a_compressed_csv_reads_as_the_plain_one(tmp_path: Path, suffix: str) -> None:
    plain = FRAME.to_csv(index=False).encode()
    path = tmp_path / f"drop{suffix}"
    path.write_bytes(COMPRESSORS[suffix](plain))
    pd.testing.assert_frame_equal(read_frame(path, max_unpacked_bytes=len(plain)), FRAME)


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_a_decompression_bomb_is_refused_at_the_limit(tmp_path: Path, suffix: str) -> None:
    """2.5 MB of rows that compress to kilobytes; the limit is 1 MB unpacked."""
    rows = b"x1,x2\n" + b"1,2\n" * 625_000
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(COMPRESSORS[suffix](rows))
    assert path.stat().st_size < 200_000
    with pytest.raises(InputFileError) as info:
        read_frame(path, max_unpacked_bytes=1_000_000)
    assert info.value.reason == (
        "unpacks to more than 1000000 bytes; refused as a possible decompression bomb"
    )


def test_the_file_size_limit_applies_to_the_compressed_bytes(tmp_path: Path) -> None:
    rows = b"x1,x2\n" + b"1,2\n" * 10_000
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(rows))
    assert read_frame(path, max_bytes=path.stat().st_size).shape == (10_000, 2)
    with pytest.raises(InputFileError, match="larger than the limit"):
        read_frame(path, max_bytes=path.stat().st_size - 1)


def test_a_truncated_gzip_says_it_was_probably_still_being_written(tmp_path: Path) -> None:
    whole = gzip.compress(b"x1,x2\n" + b"1,2\n" * 10_000)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputFileError) as info:
        read_frame(path)
    assert info.value.reason.startswith("the gz data ends early (truncated): ")
    assert "still being written" in info.value.reason
    assert 'completion = "marker"' in info.value.reason


@pytest.mark.parametrize(("suffix", "kind"), [(".csv.gz", "gz"), (".csv.xz", "xz")])
def test_corrupt_compressed_data_is_a_clear_error(tmp_path: Path, suffix: str, kind: str) -> None:
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(b"this is not compressed data at all\n" * 10)
    with pytest.raises(InputFileError, match=f"corrupt {kind} data: "):
        read_frame(path)


def test_a_non_utf8_byte_inside_a_compressed_csv_is_placed_in_the_unpacked_text(
    tmp_path: Path,
) -> None:
    data = b"x1,x2\n" + b"1,2\n" * 100 + b"3,\xff\n"
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(InputFileError) as info:
        read_frame(path)
    assert "byte 0xff at offset 408 of the unpacked text (line 102)" in info.value.reason


def test_other_compressed_names_stay_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl.gz"
    path.write_bytes(gzip.compress(b"x"))
    with pytest.raises(InputFileError, match=r"unsupported file type \.gz; expected \.csv"):
        read_frame(path)
