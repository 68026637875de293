"""A tiny HTTP server on 127.0.0.1 that answers every request with one fixed status.

A fake, used only for a fault we cannot cause with the real parts: a reverse proxy in front
of MLflow answering 502/503/504/429 while MLflow behind it is down, or a server refusing a
request with a 4xx.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def status_server(status: int, body: dict[str, str] | None = None) -> Iterator[str]:
    """Serve ``status`` (with ``body`` as JSON, else an HTML page as proxies send) on a free port."""
    payload = (
        json.dumps(body).encode()
        if body is not None
        else b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    )
    content_type = "application/json" if body is not None else "text/html"

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
