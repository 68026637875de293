"""What every alert sink is: a name, a retry budget and one blocking ``send``."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Protocol

from driftwarden import __version__
from driftwarden.alerts.rules import Alert
from driftwarden.redact import redact_url

USER_AGENT = f"driftwarden/{__version__}"


class SinkError(Exception):
    """Delivery failed; ``retryable`` says whether trying again may help (5xx, 429, network)."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Sink(Protocol):
    """A destination for alerts. ``send`` blocks (the dispatcher calls it off the job loop)
    and raises :class:`SinkError` on failure; the dispatcher retries up to ``retries`` times."""

    name: str
    retries: int

    def send(self, alert: Alert) -> None: ...


def post_json(
    url: str, body: bytes, headers: dict[str, str], timeout: float, shown_url: str | None = None
) -> int:
    """POST ``body``; returns the status or raises :class:`SinkError` (retryable for 5xx/429/network).

    Errors name ``shown_url`` (default: ``url`` with its password and query hidden).
    """
    shown = shown_url or redact_url(url)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        retryable = exc.code >= 500 or exc.code == 429
        text = exc.read(500).decode("utf-8", "replace").strip()
        raise SinkError(f"{shown} answered {exc.code}: {text}", retryable=retryable) from exc
    except (urllib.error.URLError, OSError) as exc:  # refused, DNS, timeout, reset
        reason = getattr(exc, "reason", exc)
        raise SinkError(f"{shown} unreachable: {reason}", retryable=True) from exc
