"""The ops HTTP endpoint: ``/metrics``, ``/healthz`` and ``/readyz`` on one port, and the
POST routes the daemon mounts there (``/hooks/mlflow``).

prometheus-client's own ``start_http_server`` answers every path with metrics and binds
0.0.0.0, so this is a small stdlib server in front of the registry. Liveness comes from
progress (STYLE.md habit 6): the job loop calls :meth:`HealthState.heartbeat` as it turns
over and reports how much work waits; the server only reads that state. A POST body is
refused by its declared length before a byte of it is read.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from prometheus_client.exposition import choose_encoder

from driftwarden.observability.metrics import Metrics

log = logging.getLogger(__name__)

Clock = Callable[[], float]
# The largest POST body read; a larger declared length is refused unread (413).
MAX_POST_BYTES = 64 * 1024


class PostRoute(Protocol):
    """A POST handler: ``enabled()`` (else 404) and ``(headers, body) -> HTTP status``."""

    def enabled(self) -> bool: ...

    def __call__(self, headers: _Headers, body: bytes) -> int: ...


class _Headers(Protocol):
    def items(self) -> Iterable[tuple[str, str]]: ...


@dataclass
class _Component:
    name: str
    alive: Callable[[], bool] | None = None
    last_beat: float | None = None
    pending: int = 0
    pending_since: float | None = None
    dead_reason: str | None = None
    # A job that said how long it may be silent (its own deadline) is not wedged before it.
    quiet_until: float | None = None


@dataclass(frozen=True)
class HealthReport:
    """The outcome of one health or readiness probe; ``problems`` is empty when ``ok``."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Alive but not doing its work (the state disk is full): a restart would not help.
    degraded: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.ok:
            return "unhealthy"
        return "degraded" if self.degraded else "ok"

    def to_json(self) -> str:
        return json.dumps(
            {
                "status": self.status,
                "problems": self.problems,
                "degraded": self.degraded,
                "components": self.components,
            },
            sort_keys=True,
        )


class HealthState:
    """What ``/healthz`` and ``/readyz`` report; thread-safe, written by the daemon, read by the server.

    A component is *wedged* when it has work pending and has made no progress (no
    :meth:`heartbeat`) for ``wedged_after_seconds``, counted from the later of its last
    heartbeat and the moment work started waiting, so an idle loop that blocks on an empty
    queue is never reported as wedged; a long step that announced how long it may be
    silent (:meth:`allow_quiet`, e.g. reading a large file) is not wedged before that. A
    component is *dead* when its ``alive`` probe returns False (e.g. ``thread.is_alive``)
    or :meth:`mark_dead` was called.

    A *degraded* condition (:meth:`set_degraded`: the state cannot be written) keeps
    ``/healthz`` at 200 with ``"status": "degraded"`` (the process is alive and a restart
    would not help) and makes ``/readyz`` 503 (it takes no work).

    Args:
        wedged_after_seconds: how long pending work may wait without progress.
        clock: monotonic seconds; injectable for tests.
    """

    def __init__(self, wedged_after_seconds: float = 60.0, clock: Clock = time.monotonic) -> None:
        if wedged_after_seconds <= 0:
            raise ValueError("wedged_after_seconds must be > 0")
        self.wedged_after_seconds = wedged_after_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._components: dict[str, _Component] = {}
        self._config_loaded = False
        self._scan_done = False
        self._degraded: dict[str, str] = {}

    # -- written by the daemon -------------------------------------------------------------

    def mark_config_loaded(self) -> None:
        with self._lock:
            self._config_loaded = True

    def mark_scan_done(self) -> None:
        with self._lock:
            self._scan_done = True

    def register(self, component: str, alive: Callable[[], bool] | None = None) -> None:
        """Track ``component``; ``alive`` (optional) is called on every probe and must be cheap."""
        with self._lock:
            entry = self._components.setdefault(component, _Component(component))
            entry.alive = alive
            entry.dead_reason = None

    def unregister(self, component: str) -> None:
        """Stop tracking ``component`` (it was closed on purpose)."""
        with self._lock:
            self._components.pop(component, None)

    def heartbeat(self, component: str = "loop", pending: int | None = None) -> None:
        """``component`` made progress; optionally report how much work still waits."""
        now = self._clock()
        with self._lock:
            entry = self._components.setdefault(component, _Component(component))
            entry.last_beat = now
            if pending is not None:
                self._set_pending(entry, pending, now)

    def set_pending(self, component: str, pending: int) -> None:
        """Report how much work waits for ``component`` (e.g. the job queue length)."""
        now = self._clock()
        with self._lock:
            entry = self._components.setdefault(component, _Component(component))
            self._set_pending(entry, pending, now)

    def allow_quiet(self, component: str, until: float | None) -> None:
        """``component`` is in a step that may make no progress until ``until`` (monotonic);
        None ends the allowance (the step, or its job, is over)."""
        now = self._clock()
        with self._lock:
            entry = self._components.setdefault(component, _Component(component))
            entry.last_beat = now
            entry.quiet_until = until

    def set_degraded(self, condition: str, reason: str | None) -> None:
        """Note (``reason``) or clear (None) a condition that stops the daemon's work."""
        with self._lock:
            if reason is None:
                self._degraded.pop(condition, None)
            else:
                self._degraded[condition] = reason

    def mark_dead(self, component: str, reason: str) -> None:
        """``component`` failed for good (its thread died with an exception, ...)."""
        with self._lock:
            entry = self._components.setdefault(component, _Component(component))
            entry.dead_reason = reason

    @staticmethod
    def _set_pending(entry: _Component, pending: int, now: float) -> None:
        if pending > 0 and entry.pending <= 0:
            entry.pending_since = now
        elif pending <= 0:
            entry.pending_since = None
        entry.pending = max(0, pending)

    # -- read by the server and the systemd watchdog ---------------------------------------

    def health(self) -> HealthReport:
        """Alive: every component alive, none wedged."""
        now = self._clock()
        with self._lock:
            entries = list(self._components.values())
        problems: list[str] = []
        detail: dict[str, dict[str, Any]] = {}
        for entry in entries:
            state = "ok"
            if entry.dead_reason is not None:
                state = "dead"
                problems.append(f"{entry.name}: dead: {entry.dead_reason}")
            elif entry.alive is not None and not _probe(entry.alive):
                state = "dead"
                problems.append(f"{entry.name}: not alive")
            elif entry.pending > 0 and entry.pending_since is not None:
                since = max(entry.pending_since, entry.last_beat or entry.pending_since)
                stalled = now - since
                quiet = entry.quiet_until is not None and now < entry.quiet_until
                if stalled > self.wedged_after_seconds and not quiet:
                    state = "wedged"
                    problems.append(
                        f"{entry.name}: wedged: {entry.pending} pending, no progress for "
                        f"{stalled:.0f}s (limit {self.wedged_after_seconds:g}s)"
                    )
            detail[entry.name] = {
                "state": state,
                "pending": entry.pending,
                "seconds_since_heartbeat": None
                if entry.last_beat is None
                else round(now - entry.last_beat, 3),
            }
        with self._lock:
            degraded = [f"{name}: {reason}" for name, reason in sorted(self._degraded.items())]
        return HealthReport(
            ok=not problems, problems=problems, components=detail, degraded=degraded
        )

    def readiness(self) -> HealthReport:
        """Ready: config loaded, the start-up scan done, and no degraded condition."""
        with self._lock:
            problems = []
            if not self._config_loaded:
                problems.append("config not loaded")
            if not self._scan_done:
                problems.append("start-up scan not done")
            problems += [f"{name}: {reason}" for name, reason in sorted(self._degraded.items())]
        return HealthReport(ok=not problems, problems=problems)


def _probe(alive: Callable[[], bool]) -> bool:
    try:
        return bool(alive())
    except Exception:  # a probe that raises means the component cannot be vouched for
        log.exception("health probe raised")
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        metrics: Metrics,
        health: HealthState,
        posts: Mapping[str, PostRoute],
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.metrics = metrics
        self.health = health
        self.posts = posts
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections (Prometheus keeps one open) end after this many seconds,
    # so no connection outlives close() for long.
    timeout = 30

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._reply(200, content_type, encoder(self.server.metrics.registry))
        elif path == "/healthz":
            self._report(self.server.health.health())
        elif path == "/readyz":
            self._report(self.server.health.readiness())
        else:
            self._reply(
                404, "text/plain; charset=utf-8", b"not found: try /metrics, /healthz, /readyz\n"
            )

    def do_POST(self) -> None:
        route = self.server.posts.get(self.path.split("?", 1)[0])
        if route is None or not route.enabled():
            self._refuse(404, "not found: no POST route here\n")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._refuse(411, "Content-Length required\n")
            return
        if length < 0 or length > MAX_POST_BYTES:
            self._refuse(413, f"body larger than {MAX_POST_BYTES} bytes\n")
            return
        body = self.rfile.read(length)
        try:
            status = route(self.headers, body)
        except Exception:  # a broken handler answers 500; the server goes on
            log.exception("POST handler failed", extra={"path": self.path.split("?", 1)[0]})
            status = 500
        self._reply(status, "text/plain; charset=utf-8", b"" if status == 204 else b"\n")

    def _refuse(self, status: int, text: str) -> None:
        """Answer without reading the body, and end the connection (its body is unread)."""
        self.close_connection = True
        self.send_response(status)
        body = text.encode()
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _report(self, report: HealthReport) -> None:
        body = (report.to_json() + "\n").encode()
        self._reply(200 if report.ok else 503, "application/json", body)

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if status != 204:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s %s", self.address_string(), format % args)


class MetricsServer:
    """Serves ``/metrics`` from ``metrics.registry`` plus ``/healthz`` and ``/readyz``.

    Binds in :meth:`start` (not in the constructor); ``port=0`` picks a free port, read it
    back from :attr:`port` after :meth:`start`.
    """

    def __init__(
        self,
        metrics: Metrics,
        health: HealthState,
        address: str = "127.0.0.1",
        port: int = 9108,
        posts: Mapping[str, PostRoute] | None = None,
    ) -> None:
        self.metrics = metrics
        self.health = health
        self.posts = dict(posts or {})
        self.address = address
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port once started, else the configured one."""
        if self._server is not None:
            return int(self._server.server_address[1])
        return self._requested_port

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind and serve on a background thread; raises OSError if the port is taken."""
        if self._server is not None:
            raise RuntimeError("MetricsServer already started")
        self._server = _Server(
            (self.address, self._requested_port), self.metrics, self.health, self.posts
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="driftwarden-metrics-http",
            daemon=True,
        )
        self._thread.start()
        log.info("metrics endpoint listening", extra={"url": self.url})

    def is_alive(self) -> bool:
        """For :meth:`HealthState.register`: the serving thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop serving and release the port (within the 0.2 s poll); safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()

    def join(self, timeout: float) -> bool:
        """Wait for the serving thread to end; False when it is still running."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            return False
        self._thread = None
        return True
