"""Moves never overwrite or delete; quarantined files get a reason beside them."""

from __future__ import annotations

from pathlib import Path

from driftwarden.daemon.intake.quarantine import move_into, quarantine


def test_move_never_overwrites(tmp_path: Path) -> None:
    dest = tmp_path / "processed"
    for content in ("one", "two"):
        src = tmp_path / "a.csv"
        src.write_text(content)
        move_into(src, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["a.1.csv", "a.csv"]
    assert (dest / "a.csv").read_text() == "one" and (dest / "a.1.csv").read_text() == "two"


def test_quarantine_writes_the_reason(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(b"\xff\xfe")
    moved = quarantine(src, tmp_path / "q", "not UTF-8 text")
    assert moved == tmp_path / "q" / "bad.csv" and not src.exists()
    reason = (tmp_path / "q" / "bad.csv.reason.txt").read_text()
    assert "not UTF-8 text" in reason and str(src) in reason


def test_a_symlink_moves_as_a_link_and_its_target_stays(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("secret")
    link = tmp_path / "drop" / "link.csv"
    link.parent.mkdir()
    link.symlink_to(outside)
    moved = quarantine(link, tmp_path / "q", "symlink leaves the watched directory")
    assert moved.is_symlink() and outside.read_text() == "secret"


def test_marker_moves_with_its_file(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("x")
    marker = tmp_path / "a.csv.done"
    marker.write_text("")
    move_into(src, tmp_path / "p", extra=marker)
    move_again = tmp_path / "a.csv"
    move_again.write_text("y")
    marker.write_text("")
    moved = move_into(move_again, tmp_path / "p", extra=marker)
    assert moved.name == "a.1.csv"
    assert (tmp_path / "p" / "a.1.csv.done").exists() and (tmp_path / "p" / "a.csv.done").exists()


def test_a_reason_file_has_one_line_per_field_whatever_the_name_and_reason(
    tmp_path: Path,
) -> None:
    """A newline in a file name or a multi-line parser message cannot forge a line."""
    src = tmp_path / "a\nreason: all fine\x1b[2J.csv"
    src.write_text("x")
    reason = f"{src}: malformed CSV: Error tokenizing data.\nC error: Expected 2 fields"
    moved = quarantine(src, tmp_path / "q", reason)
    lines = moved.with_name(moved.name + ".reason.txt").read_text().splitlines()
    assert len(lines) == 3
    assert lines[0] == "file: " + str(tmp_path) + "/a\\nreason: all fine\\x1b[2J.csv"
    assert lines[2] == "reason: malformed CSV: Error tokenizing data.\\nC error: Expected 2 fields"
