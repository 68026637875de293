"""sd_notify over ``NOTIFY_SOCKET`` with a plain datagram socket (no libsystemd needed).

systemd 252 has no ``Type=notify-reload``: the unit uses ``Type=notify`` and
``ExecReload=/bin/kill -HUP $MAINPID``; a reload is announced with ``RELOADING=1`` plus
``MONOTONIC_USEC`` and ended with ``READY=1``. ``WATCHDOG=1`` is sent by the main loop only
when the job loop has turned over, never from a timer of its own.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


def _address(raw: str) -> str:
    """An abstract socket is written ``@name`` in the environment and ``\\0name`` on the wire."""
    return "\0" + raw[1:] if raw.startswith("@") else raw


class Notifier:
    """Sends state strings to systemd; a no-op when not started by systemd."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET") or None
        self._sock: socket.socket | None = None
        usec = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        applies = usec is not None and usec.isdigit() and (pid is None or pid == str(os.getpid()))
        # Ping at half the watchdog interval, as sd_watchdog_enabled(3) advises.
        self.watchdog_interval: float | None = int(usec) / 2e6 if applies and usec else None
        self._last_ping = 0.0

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *fields: str) -> bool:
        """Send ``FIELD=value`` lines in one datagram; False (logged once) when it fails."""
        if self.address is None:
            return False
        message = "\n".join(fields).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.sendto(message, _address(self.address))
        except OSError as exc:
            log.warning("systemd notify failed: %s", exc, extra={"socket": self.address})
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self) -> bool:
        return self.notify("STOPPING=1", "STATUS=stopping")

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}", "STATUS=reloading config")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def watchdog(self, now: float | None = None) -> bool:
        """Ping the watchdog if due; the caller calls this only after the loop made progress."""
        if self.watchdog_interval is None:
            return False
        now = time.monotonic() if now is None else now
        if now - self._last_ping < self.watchdog_interval:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class StopNotice:
    """The notifier's place in the daemon's lifecycle: started last, so the stop walk reaches
    it first and systemd hears ``STOPPING=1`` before anything else stops."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def start(self) -> None:
        """Nothing to start: ``READY=1`` is sent once the start-up scan is done."""

    def close(self) -> None:
        self.notifier.stopping()

    def join(self, timeout: float) -> bool:
        self.notifier.close()
        return True

    def is_alive(self) -> bool:
        return True
