"""Register the daemon's MLflow webhook with the tracking server (``driftwarden hooks install``).

Idempotent by name: the webhook named ``hooks.webhook_name`` is created when missing and
otherwise updated in place (URL, events, secret, status), and any extra webhook with the
same name (left by a race) is deleted, so running it twice leaves one webhook. MLflow
never returns a webhook's secret, so the secret is always re-sent: a changed secret takes
effect on the next run.

MLflow's webhooks carry no model filter (3.17: events only), so the webhook hears every
registered model and the daemon acts on the models it keeps.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from driftwarden.config.load import redact_url
from driftwarden.config.model import Settings
from driftwarden.errors import ConfigError, MlflowUnavailable, UsageError
from driftwarden.tracking.webhooks import REGISTRY_EVENTS, secret_from_env

if TYPE_CHECKING:
    from mlflow.entities.webhook import Webhook
    from mlflow.tracking import MlflowClient

HOOK_PATH = "/hooks/mlflow"
DESCRIPTION = "driftwarden: a new version or an alias move makes the daemon poll that model at once"


@dataclass(frozen=True)
class InstallResult:
    """What ``install_webhook`` did."""

    action: Literal["created", "updated"]
    webhook_id: str
    name: str
    url: str
    events: tuple[str, ...]
    changed: tuple[str, ...]  # visible fields that differed before an update
    removed_duplicates: int


def webhook_url(settings: Settings) -> str:
    """``hooks.public_url``, else ``http://<metrics.address>:<metrics.port>/hooks/mlflow``.

    A wildcard bind address (0.0.0.0, ::) or port 0 names no place the MLflow server can
    reach, so then ``hooks.public_url`` is required.
    """
    if settings.hooks.public_url:
        return settings.hooks.public_url
    address, port = settings.metrics.address, settings.metrics.port
    try:
        wildcard = ipaddress.ip_address(address).is_unspecified
    except ValueError:
        wildcard = False  # a host name
    if wildcard or port == 0 or not settings.metrics.enabled:
        why = (
            "metrics.enabled is false (the endpoint is served on the metrics port)"
            if not settings.metrics.enabled
            else f"metrics.address {address!r} / metrics.port {port} name no address the "
            "MLflow server can reach"
        )
        raise ConfigError(
            f"hooks.public_url: required because {why}; set it to the daemon's URL as the "
            f"MLflow server sees it, e.g. http://driftwarden.internal:{port or 9108}{HOOK_PATH}"
        )
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}{HOOK_PATH}"


def registry_server_uri(settings: Settings) -> str:
    """The registry's http(s) URI; ``ConfigError`` for a store webhooks never fire from."""
    key, uri = (
        ("mlflow.registry_uri", settings.mlflow.registry_uri)
        if settings.mlflow.registry_uri
        else ("mlflow.tracking_uri", settings.tracking_uri)
    )
    scheme = urlsplit(uri).scheme.lower()
    if scheme not in ("http", "https"):
        env = "MLFLOW_REGISTRY_URI" if key.endswith("registry_uri") else "MLFLOW_TRACKING_URI"
        raise ConfigError(
            f"{key} (or {env}): {redact_url(uri)!r} is a {scheme or 'local'} store; MLflow "
            "sends webhooks only from a tracking server (`mlflow server`): point it at "
            "the server's http(s):// URL"
        )
    return uri


def _all_webhooks(client: MlflowClient) -> list[Webhook]:
    found: list[Webhook] = []
    token: str | None = None
    while True:
        page = client.list_webhooks(max_results=100, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def install_webhook(
    client: MlflowClient,
    name: str,
    url: str,
    secret: str,
    events: Sequence[str] = REGISTRY_EVENTS,
) -> InstallResult:
    """Create or update the webhook called ``name``; see the module docstring."""
    from mlflow.exceptions import MlflowException

    try:
        ours = sorted(
            (w for w in _all_webhooks(client) if w.name == name),
            key=lambda w: (w.creation_timestamp, w.webhook_id),
        )
        if not ours:
            created = client.create_webhook(
                name=name,
                url=url,
                events=list(events),  # type: ignore[arg-type]  # WebhookEventStr literals
                description=DESCRIPTION,
                secret=secret,
                status="ACTIVE",
            )
            return InstallResult(
                "created", created.webhook_id, name, url, tuple(events), (), removed_duplicates=0
            )
        keep, extra = ours[0], ours[1:]
        changed = _visible_changes(keep, url, events)
        client.update_webhook(
            keep.webhook_id,
            url=url,
            events=list(events),  # type: ignore[arg-type]
            description=DESCRIPTION,
            secret=secret,
            status="ACTIVE",
        )
        for duplicate in extra:
            client.delete_webhook(duplicate.webhook_id)
    except MlflowException as exc:
        raise _mapped(exc, url) from exc
    return InstallResult("updated", keep.webhook_id, name, url, tuple(events), changed, len(extra))


def _visible_changes(existing: Webhook, url: str, events: Sequence[str]) -> tuple[str, ...]:
    changed = []
    if existing.url != url:
        changed.append("url")
    if sorted(str(e) for e in existing.events) != sorted(events):
        changed.append("events")
    if not existing.status.is_active():
        changed.append("status")
    if (existing.description or "") != DESCRIPTION:
        changed.append("description")
    return tuple(changed)


def _mapped(exc: Exception, url: str) -> Exception:
    """MlflowUnavailable (exit 3) for an unreachable or failing server; ConfigError (exit 2)
    when the server refuses our URL (its scheme or a private address, MLflow's SSRF guard)."""
    from mlflow.exceptions import RestException

    from driftwarden.tracking.client import is_connection_error

    first_line = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    if is_connection_error(exc):
        return MlflowUnavailable(f"MLflow tracking server is unreachable: {first_line}")
    if isinstance(exc, RestException):
        status = exc.get_http_status_code()
        if status == 404:
            return MlflowUnavailable(
                "the tracking server has no webhook API (MLflow 3.3 or later is needed): "
                f"{first_line}"
            )
        if exc.error_code == "INVALID_PARAMETER_VALUE":
            return ConfigError(
                f"hooks.public_url: the tracking server refused {redact_url(url)!r}: {first_line}. "
                "An http:// URL needs MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https and a "
                "private or loopback address needs MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true in "
                "the server's environment"
            )
        if status in (401, 403):
            return UsageError(
                f"the tracking server refused the webhook API ({status}): {first_line}; "
                "registering webhooks needs a user allowed to manage them"
            )
    return MlflowUnavailable(f"the tracking server failed: {first_line}")


def install_from_settings(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> InstallResult:
    """Check the config, connect, install; every failure is a DriftwardenError."""
    if not settings.hooks.enabled:
        raise ConfigError(
            "hooks.enabled: is false, so the daemon would refuse every delivery; set "
            "[hooks] enabled = true (and restart the daemon) before installing the webhook"
        )
    registry_server_uri(settings)
    secret = secret_from_env(settings.hooks.secret_env, environ).decode()
    url = webhook_url(settings)
    from driftwarden.tracking.client import configure_mlflow

    client = configure_mlflow(settings)
    return install_webhook(client, settings.hooks.webhook_name, url, secret)
