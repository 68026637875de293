"""MLflow's registry webhooks, the receiving side: verify a delivery, parse it into an event.

Pure code (no mlflow import, no I/O, an injected clock) so that the daemon's HTTP endpoint
(``POST /hooks/mlflow``) calls :func:`handle_mlflow_webhook` and nothing else.

What MLflow 3.x sends (``mlflow/webhooks/delivery.py``, checked against a real server):

- headers ``X-MLflow-Delivery-Id`` (a UUID), ``X-MLflow-Timestamp`` (Unix seconds) and,
  when the webhook has a secret, ``X-MLflow-Signature: v1,<base64 HMAC-SHA256>`` over
  ``f"{delivery_id}.{timestamp}.{body}"``;
- a JSON body ``{"entity", "action", "timestamp", "data": {...}}``, where ``data`` holds
  ``name``, ``version`` and, for alias events, ``alias``.

A webhook only makes the daemon react sooner; registry polling stays the source of truth
(MLflow does not store failed deliveries). So a replay inside the window is harmless (one
extra poll), and everything that does not verify is refused without changing anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, Protocol, get_args

from driftwarden.errors import ConfigError

log = logging.getLogger(__name__)

DELIVERY_ID_HEADER: Final = "X-MLflow-Delivery-Id"
TIMESTAMP_HEADER: Final = "X-MLflow-Timestamp"
SIGNATURE_HEADER: Final = "X-MLflow-Signature"
SIGNATURE_VERSION: Final = "v1"
# A registry event is a few hundred bytes; refuse a large body before hashing it.
MAX_BODY_BYTES: Final = 64 * 1024
DEFAULT_REPLAY_WINDOW_SECONDS: Final = 300.0

RegistryEventKind = Literal[
    "model_version.created",
    "model_version_alias.created",
    "model_version_alias.deleted",
]
# The events `driftwarden hooks install` subscribes to; anything else is acknowledged and ignored.
REGISTRY_EVENTS: Final[tuple[RegistryEventKind, ...]] = get_args(RegistryEventKind)


class HeaderSource(Protocol):
    """A dict, or ``http.server``'s ``HTTPMessage``: anything with ``items()``."""

    def items(self) -> Iterable[tuple[str, str]]: ...


@dataclass(frozen=True)
class RegistryEvent:
    """One registry change MLflow told us about.

    ``version`` is None for ``model_version_alias.deleted`` (MLflow does not send it);
    ``alias`` is None for ``model_version.created``. ``sent_at`` is the delivery's
    ``X-MLflow-Timestamp`` (Unix seconds).
    """

    kind: RegistryEventKind
    model: str
    version: int | None
    alias: str | None
    delivery_id: str
    sent_at: int


class WebhookOutcome(NamedTuple):
    """What the endpoint answers: the HTTP status, and the event to act on (or None)."""

    status: int
    event: RegistryEvent | None


class WebhookRejected(Exception):
    """A delivery that is refused; ``status`` is the HTTP answer, ``reason`` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def secret_from_env(variable: str, environ: Mapping[str, str] | None = None) -> bytes:
    """The webhook secret from the environment variable that ``hooks.secret_env`` names."""
    env = os.environ if environ is None else environ
    value = env.get(variable, "")
    if not value:
        raise ConfigError(
            f"hooks.secret_env: environment variable {variable} is not set or empty "
            "(expected the webhook's HMAC secret)"
        )
    return value.encode()


def sign(secret: bytes, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The ``X-MLflow-Signature`` value MLflow computes for this delivery."""
    content = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret, content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def _header_map(headers: HeaderSource) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def verify_delivery(
    headers: HeaderSource,
    body: bytes,
    secret: bytes,
    now: float,
    replay_window_seconds: float = DEFAULT_REPLAY_WINDOW_SECONDS,
) -> tuple[str, int]:
    """Check the signature and the timestamp; return ``(delivery_id, timestamp)``.

    Raises :class:`WebhookRejected` with 401 when a header is missing, the signature does
    not match (any of several space-separated ``v1,...`` values, as during a secret
    rotation) or the timestamp is further than ``replay_window_seconds`` from ``now``
    in either direction; 413 when the body is larger than :data:`MAX_BODY_BYTES`.
    """
    if not secret:
        raise ValueError("the webhook secret is empty; refusing to accept unsigned deliveries")
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected(413, f"body of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    found = _header_map(headers)
    delivery_id = found.get(DELIVERY_ID_HEADER.lower(), "").strip()
    timestamp = found.get(TIMESTAMP_HEADER.lower(), "").strip()
    signatures = found.get(SIGNATURE_HEADER.lower(), "").split()
    for name, value in (
        (DELIVERY_ID_HEADER, delivery_id),
        (TIMESTAMP_HEADER, timestamp),
        (SIGNATURE_HEADER, signatures),
    ):
        if not value:
            raise WebhookRejected(401, f"missing {name} header")
    expected = _signature_bytes(sign(secret, delivery_id, timestamp, body))
    # compare_digest on every candidate, so the time taken does not depend on which matched.
    matches = [hmac.compare_digest(expected, _signature_bytes(s)) for s in signatures]
    if not any(matches):
        raise WebhookRejected(401, "signature does not verify")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookRejected(401, f"{TIMESTAMP_HEADER} is not Unix seconds") from None
    if not math.isfinite(now) or abs(now - sent_at) > replay_window_seconds:
        raise WebhookRejected(
            401,
            f"{TIMESTAMP_HEADER} is {now - sent_at:.0f} s from now "
            f"(allowed: {replay_window_seconds:g} s either way)",
        )
    return delivery_id, sent_at


def _signature_bytes(value: str) -> bytes:
    """The raw HMAC from ``v1,<base64>``; anything else maps to b"" (which never matches)."""
    version, _, encoded = value.partition(",")
    if version != SIGNATURE_VERSION:
        return b""
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return b""


def parse_event(body: bytes, delivery_id: str, sent_at: int) -> RegistryEvent | None:
    """The registry event in a verified body; None for an event kind driftwarden ignores.

    Raises :class:`WebhookRejected` (400) when the body is not the JSON MLflow sends.
    """
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookRejected(400, f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    entity, action, data = payload.get("entity"), payload.get("action"), payload.get("data")
    if not isinstance(entity, str) or not isinstance(action, str):
        raise WebhookRejected(400, "body lacks string 'entity' and 'action'")
    kind = f"{entity}.{action}"
    if kind not in REGISTRY_EVENTS:
        return None
    if not isinstance(data, dict):
        raise WebhookRejected(400, f"{kind}: 'data' is not an object")
    model = _text(data, "name", kind)
    version = None if kind == "model_version_alias.deleted" else _version(data, kind)
    alias = _text(data, "alias", kind) if kind.startswith("model_version_alias.") else None
    return RegistryEvent(
        kind=kind,  # narrowed by the REGISTRY_EVENTS check above
        model=model,
        version=version,
        alias=alias,
        delivery_id=delivery_id,
        sent_at=sent_at,
    )


def _text(data: dict[str, object], key: str, kind: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise WebhookRejected(400, f"{kind}: data.{key} must be a non-empty string")
    return value


def _version(data: dict[str, object], kind: str) -> int:
    value = data.get("version")
    # MLflow sends versions as decimal strings ("3"); accept a JSON integer too.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isdecimal() and int(value) > 0:
        return int(value)
    raise WebhookRejected(400, f"{kind}: data.version must be a positive integer (got {value!r})")


def handle_mlflow_webhook(
    headers: HeaderSource,
    body: bytes,
    secret: bytes,
    now: float,
    replay_window_seconds: float = DEFAULT_REPLAY_WINDOW_SECONDS,
) -> WebhookOutcome:
    """What ``POST /hooks/mlflow`` answers, and the event to act on.

    - 200 and the event: a verified ``model_version.created`` or
      ``model_version_alias.created|deleted`` (the caller checks whether it keeps the model);
    - 204 and None: verified, but an event kind driftwarden does not act on;
    - 400 and None: verified, but the body is not what MLflow sends;
    - 401 and None: signature, delivery id or timestamp missing, wrong or outside the
      replay window (nothing is parsed, nothing changes);
    - 413 and None: body larger than :data:`MAX_BODY_BYTES`.

    Rejections are logged at WARNING with the reason (never the secret or the signature).
    """
    try:
        delivery_id, sent_at = verify_delivery(headers, body, secret, now, replay_window_seconds)
        event = parse_event(body, delivery_id, sent_at)
    except WebhookRejected as exc:
        log.warning(
            "MLflow webhook refused (%d): %s",
            exc.status,
            exc.reason,
            extra={"status": exc.status, "reason": exc.reason},
        )
        return WebhookOutcome(exc.status, None)
    if event is None:
        return WebhookOutcome(204, None)
    return WebhookOutcome(200, event)
