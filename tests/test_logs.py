"""Log lines: one per event, text or JSON, with context fields such as the file."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

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


HOSTILE = "drop/batch\n2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear\x1b[2J.csv"
ESCAPED = "drop/batch\\n2026-01-01T00:00:00Z INFO driftwarden.daemon: all clear\\x1b[2J.csv"


def test_text_line_escapes_control_characters_in_message_and_extras() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "text", stream)
    logging.getLogger("driftwarden.test").warning(
        "quarantined %s", HOSTILE, extra={"file": HOSTILE, "columns": ["a\rb", "\x9bc"]}
    )
    out = stream.getvalue()
    assert out.count("\n") == 1 and out.endswith("\n")  # one record, one line
    assert f"quarantined {ESCAPED} file={ESCAPED} columns=['a\\rb', '\\x9bc']" in out
    assert "\x1b" not in out and "\r" not in out


def test_traceback_lines_are_indented_so_no_line_can_pass_for_a_record() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "text", stream)
    try:
        raise ValueError(f"cannot read {HOSTILE}")
    except ValueError:
        logging.getLogger("driftwarden.test").exception("job failed")
    first, *rest = stream.getvalue().rstrip("\n").split("\n")
    assert first.endswith("job failed")
    assert rest and all(line.startswith("  ") for line in rest), rest
    assert "\x1b" not in stream.getvalue()
    assert any("ValueError: cannot read drop/batch" in line for line in rest)


def test_json_lines_are_safe_by_construction_and_keep_the_exact_name() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        logging.getLogger("driftwarden.test").exception(
            "failed %s", HOSTILE, extra={"file": HOSTILE}
        )
    out = stream.getvalue()
    assert out.count("\n") == 1 and "\x1b" not in out
    data = json.loads(out)
    assert data["msg"] == f"failed {HOSTILE}"
    assert data["file"] == HOSTILE
    assert data["exc"].endswith(f"ValueError: {HOSTILE}")


def test_secrets_are_hidden_in_message_extras_traceback_and_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from driftwarden.redact import REDACTOR

    REDACTOR.add_secret("LogSecret-5c1d")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "EnvLogSecret-9a7e")
    for fmt in ("text", "json"):
        stream = io.StringIO()
        setup_logging("INFO", fmt, stream)  # learns the environment's secrets
        log = logging.getLogger("driftwarden.test")
        try:
            raise RuntimeError("auth failed with LogSecret-5c1d")
        except RuntimeError:
            log.error(
                "POST http://u:UrlSecret-3b2f@h/x?token=QuerySecret-8e4a with %s",
                "EnvLogSecret-9a7e",
                extra={
                    "error": "LogSecret-5c1d",
                    "tried": ["EnvLogSecret-9a7e", 3],
                    "where": Path("/x/LogSecret-5c1d"),
                    "attempt": 2,
                },
                exc_info=True,
                stack_info=True,
            )
        out = stream.getvalue()
        for secret in ("LogSecret-5c1d", "EnvLogSecret-9a7e", "UrlSecret-3b2f", "QuerySecret-8e4a"):
            assert secret not in out, (fmt, secret, out)
        assert "http://u:***@h/x?token=***" in out
        assert "attempt=2" in out or '"attempt": 2' in out  # other values keep their type


def test_loggers_with_their_own_handler_are_redacted_too() -> None:
    """MLflow gives its loggers a stderr handler of their own and stops propagation."""
    from driftwarden.redact import REDACTOR

    REDACTOR.add_secret("OwnHandlerSecret-4d0b")
    setup_logging("INFO", "text", io.StringIO())
    stream = io.StringIO()
    own = logging.getLogger("driftwarden.test.own_handler")
    handler = logging.StreamHandler(stream)
    own.addHandler(handler)
    own.propagate = False
    try:
        own.warning("request to http://u:OwnUrl-1234@h failed: OwnHandlerSecret-4d0b")
    finally:
        own.removeHandler(handler)
    assert stream.getvalue() == "request to http://u:***@h failed: ***\n"
