"""The webhook sink: the alert as a JSON body, optionally signed with HMAC-SHA256.

The signature header is ``X-Driftwarden-Signature: sha256=<hex>`` over the exact bytes of
the body; the receiver recomputes it with the shared secret. The secret comes from the
environment variable named in ``[alerts.webhook] secret_env``, never from the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from driftwarden.alerts.rules import Alert
from driftwarden.alerts.sinks.base import post_json
from driftwarden.config.model import WebhookConfig
from driftwarden.errors import ConfigError
from driftwarden.redact import redact_url

SIGNATURE_HEADER = "X-Driftwarden-Signature"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookSink:
    """POSTs :meth:`Alert.to_dict` as JSON to ``cfg.url`` with ``cfg.timeout_seconds``.

    One attempt per :meth:`send`; the dispatcher retries up to ``cfg.retries`` times with
    exponential backoff (5xx, 429 and network errors only; other 4xx are final).
    """

    name = "webhook"

    def __init__(self, cfg: WebhookConfig, environ: dict[str, str] | None = None) -> None:
        self.url = cfg.url
        self.timeout = cfg.timeout_seconds
        self.retries = cfg.retries
        self._secret: bytes | None = None
        if cfg.secret_env:
            env = os.environ if environ is None else environ
            value = env.get(cfg.secret_env, "")
            if not value:
                raise ConfigError(
                    f"alerts.webhook.secret_env: environment variable {cfg.secret_env} is not set "
                    "or empty (expected the HMAC secret)"
                )
            self._secret = value.encode()

    def __repr__(self) -> str:  # never show the secret, nor the URL (it may be one)
        return f"WebhookSink(url={redact_url(self.url, hide_path=True)!r}, signed={self._secret is not None})"

    def body(self, alert: Alert) -> bytes:
        return json.dumps(alert.to_dict(), sort_keys=True, default=str).encode()

    def send(self, alert: Alert) -> None:
        body = self.body(alert)
        headers = {}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        # The URL may itself be the credential (a token in its path or query): never shown.
        post_json(self.url, body, headers, self.timeout, redact_url(self.url, hide_path=True))
