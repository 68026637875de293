"""MLflow client setup: tracking URI, quiet output, short HTTP retries, the experiment.

MLflow reads its HTTP retry settings from the environment at call time, so they are set
here before any client call. Defaults would make a call against a dead server take ~4 min;
the daemon retries through its outbox instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftwarden.config.load import note_self_set, require_explicit_store
from driftwarden.config.model import Settings
from driftwarden.errors import MlflowUnavailable
from driftwarden.redact import redact


def mlflow_env(settings: Settings) -> dict[str, str]:
    """Environment for MLflow calls and child `mlflow run` processes (no secrets added here)."""
    env = {
        "MLFLOW_TRACKING_URI": settings.tracking_uri,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(settings.mlflow.http_request_max_retries),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(
            int(max(1, settings.mlflow.http_request_timeout_seconds))
        ),
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    if settings.mlflow.registry_uri:
        env["MLFLOW_REGISTRY_URI"] = settings.mlflow.registry_uri
    return env


def configure_mlflow(settings: Settings) -> MlflowClient:
    """Point this process's MLflow at the configured store and return a client.

    Creates the state directory for a sqlite store, but never an unasked-for one in the
    working directory (UsageError). Credentials stay in the environment where MLflow reads
    them; the config only mirrors them for redacted display.
    """
    require_explicit_store(settings)
    for var, value in mlflow_env(settings).items():
        if os.environ.get(var) != value:
            note_self_set(var, value)
            os.environ[var] = value
    if settings.mlflow.username:
        os.environ.setdefault("MLFLOW_TRACKING_USERNAME", settings.mlflow.username)
    if settings.mlflow.password:
        os.environ.setdefault(
            "MLFLOW_TRACKING_PASSWORD", settings.mlflow.password.get_secret_value()
        )
    if settings.mlflow.token:
        os.environ.setdefault("MLFLOW_TRACKING_TOKEN", settings.mlflow.token.get_secret_value())
    if settings.tracking_uri.startswith("sqlite:///"):
        Path(settings.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    mlflow.set_tracking_uri(settings.tracking_uri)
    if settings.mlflow.registry_uri:
        mlflow.set_registry_uri(settings.mlflow.registry_uri)
    return MlflowClient(
        tracking_uri=settings.tracking_uri, registry_uri=settings.mlflow.registry_uri
    )


def ensure_experiment(client: MlflowClient, name: str, artifact_location: str | None = None) -> str:
    """The id of the named experiment, created (with the configured artifact root) if missing."""
    try:
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return str(experiment.experiment_id)
        return str(client.create_experiment(name, artifact_location=artifact_location))
    except MlflowException as exc:
        raise unavailable_or_raise(exc) from exc


# HTTP statuses that say "not now" rather than "never": a rate limit, or a server (or the
# proxy in front of it) failing or gone. 501 (not implemented) will not get better.
_UNAVAILABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def is_connection_error(exc: BaseException) -> bool:
    """True when an MLflow failure says the server cannot be used now (worth retrying later).

    That is: not reaching it (refused, timeout), and a server or proxy answering 429 or 5xx.
    MLflow retries those statuses itself, then requests raises ``RetryError`` (urllib3's
    ``MaxRetryError`` inside); an artifact upload raises ``HTTPError`` with the response; a
    JSON error body becomes a ``RestException`` whose error code maps to a status. MLflow
    raises its ``MlflowException`` from inside an ``except`` of requests' error, so the cause
    is found on ``__context__`` (checked against a stopped server and a stub answering 502).
    A 4xx other than 408/429 (bad payload, permission) is an ordinary failure.
    """
    import requests
    from mlflow.exceptions import RestException
    from urllib3.exceptions import MaxRetryError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            requests.exceptions.ConnectionError
            | requests.exceptions.Timeout
            | requests.exceptions.RetryError
            | MaxRetryError
            | ConnectionError
            | TimeoutError,
        ):
            return True
        if isinstance(current, requests.exceptions.HTTPError) and current.response is not None:
            return current.response.status_code in _UNAVAILABLE_STATUSES
        if isinstance(current, RestException):  # an HTTP answer, not a local MlflowException
            return current.get_http_status_code() in _UNAVAILABLE_STATUSES
        current = current.__cause__ or current.__context__
    return False


def unavailable_or_raise(exc: BaseException) -> BaseException:
    """Map a connection failure to MlflowUnavailable; return other errors unchanged."""
    if is_connection_error(exc):
        # Redacted before it is cut short: a cut could leave 'user:pass' without its '@'.
        first_line = redact(str(exc).splitlines()[0] if str(exc) else "")
        return MlflowUnavailable(f"MLflow is unreachable: {first_line[:300]}")
    return exc
