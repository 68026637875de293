"""The MLflow writer child process: ``python -m driftwarden.outbox.writer_child FD``.

Started by ``writer_process.WriterProcess`` with one end of a socket pair as ``FD``. It reads
the settings in force, then answers calls one at a time until the daemon closes the socket
(or dies: the socket closes all the same). Answers are ``("ok", value)``,
``("unavailable", message)`` (MLflow cannot be reached now: the outbox keeps the write) or
``("failed", "Type: message")``; messages are redacted. SIGINT and SIGTERM are left to the
daemon, which stops this process after the call in progress (a Ctrl-C or systemd's stop
signal reaches the whole process group).
"""

from __future__ import annotations

import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

from driftwarden.errors import MlflowUnavailable
from driftwarden.redact import redact


def serve(conn: Connection) -> None:
    """Answer calls until the connection closes."""
    from driftwarden.config.model import Settings
    from driftwarden.logs import setup_logging
    from driftwarden.outbox.mlflow_calls import InProcessCalls
    from driftwarden.tracking.access import MlflowAccess

    kind, settings = conn.recv()
    if kind != "init" or not isinstance(settings, Settings):
        raise SystemExit(f"writer child: expected the settings first, got {kind!r}")
    setup_logging(settings.logging.level, settings.logging.format)
    calls = InProcessCalls(MlflowAccess(settings))
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the daemon closed the socket, or is gone
            return
        try:
            conn.send(_answer(calls, request))
        except OSError:  # gone while this call ran (the replay finds the run by its key)
            return


def _answer(calls: Any, request: tuple[Any, ...]) -> tuple[str, Any]:
    op, *args = request
    try:
        if op == "find":
            return "ok", calls.find(*args)
        if op == "write":
            return "ok", calls.write(*args)
        return "failed", f"ValueError: unknown writer call {op!r}"
    except MlflowUnavailable as exc:
        return "unavailable", redact(str(exc))
    except Exception as exc:
        return "failed", redact(f"{type(exc).__name__}: {exc}")


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    conn = Connection(int(argv[0]))
    try:
        serve(conn)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
