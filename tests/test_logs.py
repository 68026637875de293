"""Log lines: one per event, text or JSON, with context fields such as the file."""

from __future__ import annotations

import io
import json
import logging

from driftwarden.logs import setup_logging


def test_json_lines_carry_extras() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    logging.getLogger("driftwarden.test").warning("quarantined", extra={"file": "/drops/a.csv"})
    line = stream.getvalue().strip().splitlines()[-1]
    data = json.loads(line)
    assert data["msg"] == "quarantined"
    assert data["file"] == "/drops/a.csv"
    assert data["level"] == "WARNING"


def test_text_lines_name_the_file_and_replace_previous_handler() -> None:
    first = io.StringIO()
    setup_logging("INFO", "text", first)
    stream = io.StringIO()
    setup_logging("INFO", "text", stream)
    logging.getLogger("driftwarden.test").info("processed", extra={"file": "/drops/b.csv"})
    assert "processed file=/drops/b.csv" in stream.getvalue()
    assert first.getvalue() == ""
