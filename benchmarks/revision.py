"""Another git revision's code, for a benchmark's ``--before REV`` (measured in the same run).

Kept apart, with nothing but the standard library, so that a step's child process that
imports it holds nothing more than before.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def export_src(rev: str, into: Path) -> Path:
    """The ``src`` tree of ``rev`` unpacked under ``into``; put it on ``PYTHONPATH``."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"
