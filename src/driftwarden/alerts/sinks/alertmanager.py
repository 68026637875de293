"""The Alertmanager sink: API v2 ``POST /api/v2/alerts``.

Labels carry what routing expects (alertname, severity, model, service=driftwarden, rule);
annotations carry summary and description. A firing alert is sent with ``endsAt`` a few
repeat intervals ahead, the way Prometheus does, so that Alertmanager keeps it active
between our repeats but lets it lapse if driftwarden goes away; a resolution is sent with
``endsAt`` = the moment it cleared, which Alertmanager treats as resolved.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Mapping

from driftwarden.alerts.rules import Alert, iso_utc
from driftwarden.alerts.sinks.base import post_json
from driftwarden.config.model import AlertmanagerConfig
from driftwarden.errors import ConfigError
from driftwarden.redact import basic_auth_value

# A firing alert stays active in Alertmanager this many repeat intervals without a re-send.
RESEND_LIFETIME_FACTOR = 4


class AlertmanagerSink:
    """Posts each alert as a one-element list to ``{url}/api/v2/alerts``, with HTTP basic
    auth when ``username`` and ``password_env`` are set (the password read once, here)."""

    name = "alertmanager"

    def __init__(
        self,
        cfg: AlertmanagerConfig,
        repeat_interval_seconds: float,
        generator_url: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint = cfg.url.rstrip("/") + "/api/v2/alerts"
        self.timeout = cfg.timeout_seconds
        self.retries = cfg.retries
        self.lifetime = RESEND_LIFETIME_FACTOR * repeat_interval_seconds
        self.generator_url = generator_url or f"http://{socket.gethostname()}/driftwarden"
        self._headers: dict[str, str] = {}
        if cfg.username is not None and cfg.password_env:
            env = os.environ if environ is None else environ
            password = env.get(cfg.password_env, "")
            if not password:
                raise ConfigError(
                    f"alerts.alertmanager.password_env: environment variable {cfg.password_env} "
                    "is not set or empty (expected the basic auth password)"
                )
            self._headers["Authorization"] = "Basic " + basic_auth_value(cfg.username, password)

    def __repr__(self) -> str:  # never show the credentials
        return f"AlertmanagerSink(endpoint={self.endpoint!r}, basic_auth={bool(self._headers)})"

    def payload(self, alert: Alert, now: float | None = None) -> list[dict[str, object]]:
        now = time.time() if now is None else now
        ends_at = alert.ends_at if alert.ends_at is not None else now + self.lifetime
        return [
            {
                "labels": dict(alert.labels),
                "annotations": dict(alert.annotations),
                "startsAt": iso_utc(alert.starts_at),
                "endsAt": iso_utc(ends_at),
                "generatorURL": self.generator_url,
            }
        ]

    def send(self, alert: Alert) -> None:
        body = json.dumps(self.payload(alert)).encode()
        post_json(self.endpoint, body, dict(self._headers), self.timeout)
