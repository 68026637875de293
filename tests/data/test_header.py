"""Headers judged before the body: too many columns, duplicates in one pass, bad bytes placed."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from driftwarden.data.header import duplicate_names, first_bad_utf8, read_csv_header
from driftwarden.data.read import read_frame
from driftwarden.errors import InputFileError
from tests.support.hypothesis_profiles import examples

WIDE = 100_000


def wide_csv(path: Path, columns: int, body: bytes = b"") -> Path:
    """A header of ``columns`` names (about 1 MB for 100,000), then ``body``."""
    header = ",".join(f"c{i}" for i in range(columns)).encode()
    path.write_bytes(header + b"\n" + body)
    return path


def test_a_100000_column_header_is_refused_without_parsing_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack of issue 10.2: a 1 MB header kept the worker busy for minutes.

    pandas is watched (a spy that records and passes through), and the body is a row of
    the right width with text that is not UTF-8, so parsing it would give another reason.
    """
    parsed: list[object] = []
    real = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: parsed.append(a) or real(*a, **k))
    row = b",".join([b"1"] * WIDE) + b"\xff\n"
    path = wide_csv(tmp_path / "wide.csv", WIDE, row * 3)
    assert path.stat().st_size > 1_000_000
    with pytest.raises(InputFileError) as info:
        read_frame(path, max_columns=1000)
    assert info.value.reason == "100000 columns, more than the limit of 1000; not read"
    assert info.value.path == str(path)
    assert parsed == []


def test_a_header_longer_than_the_limit_allows_is_refused_from_its_first_megabyte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"x" * (3 << 20) + b"\n1\n")  # one 3 MB "name", no line end before it
    with pytest.raises(InputFileError, match=r"header row longer than 1048576 bytes; at most 10 "):
        read_frame(path, max_columns=10)


def test_without_a_limit_a_wide_file_is_read(tmp_path: Path) -> None:
    path = wide_csv(tmp_path / "wide.csv", 5000, b",".join([b"1"] * 5000) + b"\n")
    assert read_frame(path).shape == (1, 5000)
    assert read_frame(path, max_columns=5000).shape == (1, 5000)


def test_wide_duplicate_headers_are_found_in_one_pass(tmp_path: Path) -> None:
    """40,000 names took 27.9 s with ``names.count``; the names themselves are the check."""
    names = [f"c{i}" for i in range(40_000)] + ["c7", "c39999", "c7"]
    path = tmp_path / "dup.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(InputFileError) as info:
        read_frame(path)
    assert info.value.reason == "duplicate column names ['c39999', 'c7']"


@settings(max_examples=examples(100))
@given(st.lists(st.sampled_from(["a", "b", "c", "", "a.1", "ä"]), max_size=30))
@example(["a", "a", "", ""])
def test_duplicate_names_match_the_quadratic_definition(names: list[str]) -> None:
    assert duplicate_names(names) == sorted({n for n in names if n and names.count(n) > 1})


@pytest.mark.parametrize(
    ("data", "cap", "expected"),
    [
        (b"a,b\n1,2\n", 100, ["a", "b"]),
        (b'"x\ny",b\n1,2\n', 100, ["x\ny", "b"]),  # a quoted name across lines
        (b"\xef\xbb\xbfa,b\n", 100, ["a", "b"]),
        (b"\n \n,\na,b\n", 100, ["a", "b"]),  # blank records before the header
        (b"a,b", 100, ["a", "b"]),  # no line end, end of file
        (b"a,b,c,d\n", 4, None),  # cut at the cap
        (b"abcd", 4, ["abcd"]),  # exactly the cap, nothing after it
        (b"\n\n", 100, []),
    ],
)
def test_read_csv_header_reads_the_first_record_within_the_cap(
    data: bytes, cap: int, expected: list[str] | None
) -> None:
    assert read_csv_header(io.BytesIO(data), cap) == expected


@settings(max_examples=examples(100))
@given(
    prefix=st.text(max_size=300),
    bad=st.sampled_from([b"\xff", b"\xe9t", b"\xc3", b"\xed\xa0\x80"]),
    chunk=st.integers(1, 64),
)
@example(prefix="é" * 40, bad=b"\xe9t", chunk=3)  # a good two-byte character split by a chunk
def test_first_bad_utf8_names_the_real_offset_and_line(prefix: str, bad: bytes, chunk: int) -> None:
    head = prefix.encode()
    found = first_bad_utf8(io.BytesIO(head + bad + b"\nrest\n"), chunk_size=chunk)
    assert found is not None
    assert (found.offset, found.line, found.value) == (len(head), head.count(b"\n") + 1, bad[0])


def test_first_bad_utf8_is_none_for_utf8() -> None:
    assert first_bad_utf8(io.BytesIO("é,ü\n€\n".encode()), chunk_size=1) is None


def test_a_non_utf8_reason_says_the_real_offset_not_byte_0(tmp_path: Path) -> None:
    """Issue 10: the bad byte at offset 1335 was reported as "byte 0" (pandas' buffer start)."""
    data = b"x1,x2\n" + b"1.25,1\n" * 189 + b"1.25,1"  # 6 + 7 * 189 + 6 bytes
    assert len(data) == 1335
    path = tmp_path / "latin1.csv"
    path.write_bytes(data + b"\xe9\n2,3\n")
    with pytest.raises(InputFileError) as info:
        read_frame(path)
    assert info.value.reason == (
        "not UTF-8 text: byte 0xe9 at offset 1335 (line 191) is not valid UTF-8; "
        "expected a UTF-8 CSV"
    )


class _Counting(io.BytesIO):
    """Counts the bytes handed out, to show how much of a file the header read takes."""

    handed = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.handed += len(data)
        return data


def test_a_short_header_costs_one_small_read_of_a_large_file() -> None:
    stream = _Counting(b"a,b\n" + b"1,2\n" * 5_000_000)
    assert read_csv_header(stream, 16 << 20) == ["a", "b"]
    assert stream.handed == 1 << 16
