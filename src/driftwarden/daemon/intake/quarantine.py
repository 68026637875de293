"""Moving handled files out of the drop directory: processed files, and bad ones with a reason.

Nothing is ever deleted or overwritten: a name already taken at the destination gets a
numbered suffix. A quarantined file gets ``<name>.reason.txt`` beside it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from driftwarden.data.quoting import escape_text


def free_name(directory: Path, name: str) -> Path:
    """``directory/name``, or ``directory/stem.N.suffix`` when that is taken."""
    candidate = directory / name
    if not os.path.lexists(candidate):
        return candidate
    stem, dot, suffix = name.partition(".")
    for n in range(1, 1_000_000):
        candidate = directory / (f"{stem}.{n}{dot}{suffix}" if dot else f"{name}.{n}")
        if not os.path.lexists(candidate) and not os.path.lexists(
            candidate.with_name(candidate.name + ".reason.txt")
        ):
            return candidate
    raise FileExistsError(f"{directory}: no free name for {name}")


def move_into(path: Path, directory: Path, extra: Path | None = None) -> Path:
    """Move ``path`` (and ``extra``, e.g. its marker file) into ``directory``; returns the new path.

    A symlink is moved as a link (never followed); a directory moves whole.
    """
    directory.mkdir(parents=True, exist_ok=True)
    dest = free_name(directory, path.name)
    _move(path, dest)
    if extra is not None and os.path.lexists(extra):
        _move(extra, free_name(directory, dest.name + extra.name[len(path.name) :]))
    return dest


def _move(src: Path, dest: Path) -> None:
    try:
        os.rename(src, dest)  # atomic within one filesystem; moves links as links
    except OSError as exc:
        if exc.errno != 18:  # EXDEV: another filesystem
            raise
        shutil.move(str(src), str(dest))


def quarantine(path: Path, directory: Path, reason: str, extra: Path | None = None) -> Path:
    """Move a bad file into quarantine and write ``<name>.reason.txt`` beside it."""
    dest = move_into(path, directory, extra)
    write_reason(dest, path, reason)
    return dest


def write_reason(dest: Path, original: Path, reason: str) -> Path:
    """Write the reason file atomically (temp name, then rename).

    One line per field: control characters in the file name or the reason (a newline in a
    name, pandas' multi-line messages) are escaped, so no line of the file can be forged.
    The reason's leading file name (``InputFileError`` starts with it) is not repeated.
    """
    reason_path = dest.with_name(dest.name + ".reason.txt")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    reason = reason.removeprefix(f"{original}: ")
    text = (
        f"file: {escape_text(str(original))}\nquarantined: {stamp}\nreason: {escape_text(reason)}\n"
    )
    tmp = reason_path.with_name(f".{reason_path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, reason_path)
    return reason_path
