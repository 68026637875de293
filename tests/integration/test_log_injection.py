"""A dropped file's name cannot forge a log line or drive the operator's terminal.

The name holds a newline followed by a complete fake log line, and an ESC sequence that
clears the screen. The daemon logs text (what journald shows), then ``status`` prints the
last checks: neither output holds a raw control character, the text log has exactly one
line for the check of that file, with the characters escaped, and JSON output still gives
the name back exactly.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAKE_LINE = "2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear, nothing quarantined"
HOSTILE_NAME = f"batch\n{FAKE_LINE}\x1b[2J.csv"
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ [A-Z]+ [\w.]+: ")
# Anything below space but the newline that ends a line, DEL, and the C1 range.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def test_hostile_file_name_is_one_escaped_log_line_and_harmless_in_status(
    tmp_path: Path,
) -> None:
    config = daemon_config(tmp_path)
    drop = tmp_path / "drop"
    daemon = DaemonProcess(config, log_path=tmp_path / "daemon.log", log_format="text").start()
    try:
        write_csv(drop / HOSTILE_NAME, sample_frame(200, seed=3))
        daemon.wait_until(
            lambda: (
                (drop / "processed" / HOSTILE_NAME).exists()
                and ": file checked" in daemon.log_text()
            ),
            timeout=60,
            what="the hostile file checked and moved",
        )
    finally:
        assert daemon.stop() == 0

    log = daemon.log_text()
    assert not RAW_CONTROL.search(log), "a raw control character in the text log"
    lines = log.splitlines()
    assert FAKE_LINE not in lines and not any(line.startswith(FAKE_LINE) for line in lines)
    checked = [line for line in lines if ": file checked" in line and "all clear" in line]
    assert len(checked) == 1, checked
    assert RECORD_START.match(checked[0])
    assert f"batch\\n{FAKE_LINE}\\x1b[2J.csv" in checked[0]
    # Every line that mentions the name is a record of its own that escapes it.
    for line in lines:
        if "all clear" in line:
            assert RECORD_START.match(line) and "batch\\n2026-01-01" in line, line

    status = _status(config)
    assert status.returncode == 0, status.stderr
    assert not RAW_CONTROL.search(status.stdout + status.stderr)
    assert FAKE_LINE not in status.stdout.splitlines()
    assert f"batch\\n{FAKE_LINE}\\x1b[2J.csv" in status.stdout

    as_json = _status(config, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert not RAW_CONTROL.search(as_json.stdout)
    files = [c["file"] for c in json.loads(as_json.stdout)["last_checks"]]
    assert files == [HOSTILE_NAME]


def _status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftwarden.cli", "status", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
