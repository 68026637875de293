"""Log setup: one line per event, human-readable text or JSON lines (for journald and shippers).

Pass context with ``extra={"file": ..., "model": ...}``; both formats show it.

Every record is redacted where it is made (a record factory, so that also loggers with a
handler of their own, as MLflow's, hide secrets) and again, ``extra=`` values included, by
:class:`RedactingFilter` on our handler: no secret reaches a log line whoever logged it
(our code, MLflow, urllib3). The text format escapes control
characters in the message and in every extra value: a file name holding a newline cannot
forge a log line, nor an ESC sequence drive the reader's terminal. A traceback is the only
text spread over several lines, and each of its lines is indented, so a line that starts at
column 0 is always the start of a record. JSON is safe as it is (``json.dumps`` escapes).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any, TextIO

from driftwarden.redact import escape_controls, redact, register_environment

# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The traceback (and stack), redacted by :class:`RedactingFilter` when it ran first."""
    text = record.exc_text or (
        formatter.formatException(record.exc_info) if record.exc_info else ""
    )
    if record.stack_info:
        stack = formatter.formatStack(record.stack_info)
        text = f"{text}\n{stack}" if text else stack
    return text or None


def _redact_value(value: Any) -> Any:
    """``value`` with secrets hidden, keeping its type where no secret was found."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if type(value) in (list, tuple):
        return type(value)(_redact_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    text = str(value)
    hidden = redact(text)
    return value if hidden == text else hidden


def _redact_record(record: logging.LogRecord) -> None:
    """Hide secrets in the message, traceback and stack; applying it twice is harmless."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: the handler reports it as usual
        return
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """Hides secrets in a record's message, extras, traceback and stack (edits the record,
    so every handler after this one sees it redacted too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        for key, value in _extras(record).items():
            setattr(record, key, _redact_value(value))
        return True


def _install_redacting_factory() -> None:
    """Redact every record where it is made, so that loggers with handlers of their own
    (MLflow's write straight to stderr) hide secrets too. ``extra=`` values are added after
    the factory runs; :class:`RedactingFilter` on our handler takes care of those."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_driftwarden", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    factory._driftwarden = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class TextFormatter(logging.Formatter):
    """``2026-11-26T07:00:00Z INFO driftwarden.daemon: message key=value ...``"""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        extras = " ".join(f"{k}={escape_controls(str(v))}" for k, v in _extras(record).items())
        message = escape_controls(record.getMessage())
        line = f"{stamp}Z {record.levelname} {record.name}: {message}"
        if extras:
            line = f"{line} {extras}"
        trace = _exception_text(self, record)
        if trace:
            line += "".join(f"\n  {escape_controls(t)}" for t in trace.split("\n"))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, plus any extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update(_extras(record))
        trace = _exception_text(self, record)
        if trace:
            data["exc"] = trace
        return json.dumps(data, default=str)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": TextFormatter, "json": JsonFormatter}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (it changes under test capture)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def setup_logging(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Configure the root logger once for a command; logs go to stderr so stdout stays clean."""
    handler: logging.Handler = logging.StreamHandler(stream) if stream else _StderrHandler()
    handler.setFormatter(FORMATTERS[fmt]())
    handler.addFilter(RedactingFilter())
    register_environment(os.environ)
    _install_redacting_factory()
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_driftwarden", False):
            root.removeHandler(old)
    handler._driftwarden = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # MLflow and its HTTP stack are chatty at INFO; keep them to warnings.
    for noisy in ("mlflow", "alembic", "urllib3", "apscheduler", "watchdog", "git"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
