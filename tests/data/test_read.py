"""read_frame turns every bad file into an InputFileError that names the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.data import data_version, read_frame
from driftwarden.data.version import file_digest
from driftwarden.errors import InputFileError


def test_reads_csv_and_parquet_to_the_same_frame(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.5, np.nan], "b": ["x", "y", "z"]})
    frame.to_csv(tmp_path / "f.csv", index=False)
    frame.to_parquet(tmp_path / "f.parquet", index=False)
    pd.testing.assert_frame_equal(read_frame(tmp_path / "f.csv"), frame, check_dtype=False)
    pd.testing.assert_frame_equal(read_frame(tmp_path / "f.parquet"), frame, check_dtype=False)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", b"a,b\n", "header only"),
        ("latin1.csv", "a,b\n\xe9t\xe9,1\n".encode("latin-1"), "not UTF-8"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5,6\n", "malformed CSV"),
        ("junk.parquet", b"\x00\x01 definitely not parquet", "unreadable parquet"),
        ("model.pkl", b"\x80\x04K\x01.", "unsupported file type .pkl"),
        ("blank.csv", b"\n\n", "no columns"),
    ],
)
def test_bad_files_raise_input_file_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=expected) as info:
        read_frame(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)


def test_directory_and_missing_file_and_size_limit(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputFileError, match="is a directory"):
        read_frame(tmp_path / "dir.csv")
    with pytest.raises(InputFileError, match="not found"):
        read_frame(tmp_path / "missing.csv")
    big = tmp_path / "big.csv"
    big.write_text("a\n" + "1\n" * 100)
    with pytest.raises(InputFileError, match="larger than the limit"):
        read_frame(big, max_bytes=10)


def test_data_version_depends_on_content_not_index() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.25, 0.125]})
    same = frame.set_axis([10, 11, 12])
    assert data_version(frame) == data_version(same)
    changed = frame.copy()
    changed.loc[2, "b"] = 0.126
    assert data_version(changed) != data_version(frame)
    assert data_version(frame.rename(columns={"a": "c"})) != data_version(frame)
    assert len(data_version(frame)) == 16


def test_file_digest_matches_for_same_bytes(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a\n1\n")
    (tmp_path / "y.csv").write_text("a\n1\n")
    (tmp_path / "z.csv").write_text("a\n2\n")
    assert file_digest(str(tmp_path / "x.csv")) == file_digest(str(tmp_path / "y.csv"))
    assert file_digest(str(tmp_path / "x.csv")) != file_digest(str(tmp_path / "z.csv"))


@pytest.mark.parametrize(
    ("header", "duplicated"),
    [
        (b"a,b,a", "['a']"),
        (b'"a",b,a,b', "['a', 'b']"),
        (b"\xef\xbb\xbfa,b,a", "['a']"),  # a UTF-8 byte-order mark before the header
        (b"\n\nx,y,x", "['x']"),  # blank lines before the header, which pandas skips
    ],
)
def test_duplicate_csv_header_names_the_columns(
    tmp_path: Path, header: bytes, duplicated: str
) -> None:
    """pandas renames the second "a" to "a.1"; the header as written is what counts."""
    path = tmp_path / "dup.csv"
    width = len(header.strip().split(b","))
    path.write_bytes(header + b"\n" + b",".join([b"1"] * width) + b"\n")
    with pytest.raises(InputFileError) as info:
        read_frame(path)
    assert info.value.path == str(path)
    assert f"duplicate column names {duplicated}" in info.value.reason
    assert info.value.field == duplicated.split("'")[1]


def test_names_that_look_like_pandas_renames_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_bytes(b'a,a.1,"b,c"\n1,2,3\n')
    assert list(read_frame(path).columns) == ["a", "a.1", "b,c"]


def test_a_fifo_or_device_is_refused_without_reading(tmp_path: Path) -> None:
    """Reading a FIFO would block the worker forever; a device may never end."""
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError, match="is a FIFO, not a regular file"):
        read_frame(fifo)
    device = tmp_path / "zero.csv"
    device.symlink_to("/dev/zero")
    with pytest.raises(InputFileError, match="is a character device, not a regular file"):
        read_frame(device)


def test_data_file_problem_follows_links_to_what_they_name(tmp_path: Path) -> None:
    import os

    from driftwarden.data.read import data_file_problem

    secret = tmp_path / "shadow"
    secret.write_text("root:$y$j9T$hash:19700:0:99999:7:::\n")
    link = tmp_path / "ref.csv"
    link.symlink_to(secret)
    assert data_file_problem(link) == (
        f"leads to {secret}, which is not named as a data file; expected .csv, .parquet or "
        "a compressed CSV (.csv.gz, .csv.bz2, .csv.xz, .csv.zst)"
    )
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "fifo.csv").symlink_to(fifo)
    assert data_file_problem(tmp_path / "fifo.csv") == (
        f"leads to {fifo}, a FIFO; expected a regular data file"
    )
    good = tmp_path / "data.csv"
    good.write_text("a\n1\n")
    (tmp_path / "good.csv").symlink_to(good)
    assert data_file_problem(good) is None and data_file_problem(tmp_path / "good.csv") is None
    assert data_file_problem(tmp_path / "missing.csv") is None  # read_frame says "not found"


def test_duplicate_names_in_a_reason_are_bounded_and_escaped(tmp_path: Path) -> None:
    names = [f"n{i}\x1b[2J" for i in range(30)] * 2
    path = tmp_path / "dup.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(InputFileError) as info:
        read_frame(path)
    assert info.value.reason.endswith(", +10 more]")
    assert "\x1b" not in str(info.value) and "\\x1b[2J" in info.value.reason
