"""Load the TOML file, apply MLflow's environment variables, resolve paths.

Errors are ``ConfigError`` with one line per problem naming the file, the key, the bad
value and what is allowed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError

from driftwarden.config.model import Settings
from driftwarden.errors import ConfigError

CONFIG_ENV = "DRIFTWARDEN_CONFIG"

# MLflow's own variables win over the file (PRODUCT.md).
_ENV_OVERRIDES = {
    "MLFLOW_TRACKING_URI": "tracking_uri",
    "MLFLOW_REGISTRY_URI": "registry_uri",
    "MLFLOW_EXPERIMENT_NAME": "experiment_name",
    "MLFLOW_TRACKING_USERNAME": "username",
}
_ENV_SECRETS = {"MLFLOW_TRACKING_PASSWORD": "password", "MLFLOW_TRACKING_TOKEN": "token"}

# Variables this process put into its own environment (configure_mlflow does, and MLflow's
# set_tracking_uri mirrors the URI there for child processes). They are not the user's
# overrides: a later load (a SIGHUP reload, a second command in one process) ignores them.
_SELF_SET: dict[str, str] = {}


def note_self_set(var: str, value: str) -> None:
    """Record that this process, not the user, set ``var`` to ``value`` in ``os.environ``."""
    _SELF_SET[var] = value


def resolve_config_path(path: str | os.PathLike[str] | None) -> Path | None:
    """The config file from the argument, else from ``DRIFTWARDEN_CONFIG``, else None."""
    if path:
        return Path(path)
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else None


def load_settings(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Read and validate the config; ``path=None`` uses ``DRIFTWARDEN_CONFIG`` or the defaults."""
    env = os.environ if env is None else env
    config_path = Path(path) if path else (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    raw: dict[str, Any] = {}
    base_dir = Path.cwd()
    if config_path is not None:
        raw = _read_toml(config_path)
        base_dir = config_path.resolve().parent
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, config_path)) from None
    _apply_env(settings, env, config_path)
    _resolve_paths(settings, base_dir, env, explicit_state="directory" in raw.get("state", {}))
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a TOML file") from None
    except PermissionError:
        raise ConfigError(f"{path}: permission denied reading the config file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def format_validation_error(exc: ValidationError, path: Path | None) -> str:
    """One line per problem: ``FILE: key.path: message (got VALUE)``."""
    where = str(path) if path else "<defaults>"
    lines = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(part) for part in err["loc"]) or "<file>"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (misspelled? see config/driftwarden.example.toml)"
        if err["type"] in ("literal_error", "enum"):
            expected = err.get("ctx", {}).get("expected", "")
            message = f"must be one of {expected}"
        got = err.get("input")
        shown = "" if isinstance(got, dict) or err["type"] == "missing" else f" (got {got!r})"
        lines.append(f"{where}: {key}: {message}{shown}")
    return "\n".join(lines)


def _apply_env(settings: Settings, env: Mapping[str, str], path: Path | None) -> None:
    try:
        for var, field in _ENV_OVERRIDES.items():
            if env.get(var) and _SELF_SET.get(var) != env[var]:
                setattr(settings.mlflow, field, env[var])
        for var, field in _ENV_SECRETS.items():
            if env.get(var):
                setattr(settings.mlflow, field, SecretStr(env[var]))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, path)) from None


def _resolve_paths(
    settings: Settings, base: Path, env: Mapping[str, str], explicit_state: bool
) -> None:
    """Make every path absolute (relative to the config file) and fill the sqlite default."""

    def absolute(p: Path) -> Path:
        p = p.expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    state_dir = settings.state.directory
    if not explicit_state and env.get("STATE_DIRECTORY"):
        # systemd's StateDirectory= sets this (first entry when several are listed).
        state_dir = Path(env["STATE_DIRECTORY"].split(":")[0])
    settings.state.directory = absolute(state_dir)
    settings.watch.paths = [absolute(p) for p in settings.watch.paths]
    for name in ("processed_dir", "quarantine_dir"):
        value = getattr(settings.watch, name)
        if value is not None:
            setattr(settings.watch, name, absolute(value))
    if settings.reference.path is not None:
        settings.reference.path = absolute(settings.reference.path)
    if settings.estimation.reference_path is not None:
        settings.estimation.reference = str(absolute(settings.estimation.reference_path))
    if settings.retrain.project_uri and "://" not in settings.retrain.project_uri:
        local = absolute(Path(settings.retrain.project_uri))
        if local.exists():
            settings.retrain.project_uri = str(local)
    if settings.mlflow.tracking_uri is None:
        settings.mlflow.tracking_uri = f"sqlite:///{settings.state.directory / 'mlflow.db'}"
    if settings.mlflow.artifact_location is None and settings.tracking_uri.startswith("sqlite:"):
        settings.mlflow.artifact_location = (settings.state.directory / "mlartifacts").as_uri()


def redacted_dict(settings: Settings) -> dict[str, Any]:
    """The effective config as plain data with secrets replaced; safe to print or log."""
    data = settings.model_dump(mode="json")
    for key in ("password", "token"):
        if data["mlflow"].get(key):
            data["mlflow"][key] = "***"
    # A URI may carry a password in its user info (https://user:secret@host).
    for key in ("tracking_uri", "registry_uri"):
        if data["mlflow"].get(key):
            data["mlflow"][key] = redact_url(data["mlflow"][key])
    # A webhook URL is itself the credential (Slack's /services/T0/B0/SECRET): hide its path.
    for sink, hide_path in (("webhook", True), ("alertmanager", False)):
        if data["alerts"].get(sink):
            data["alerts"][sink]["url"] = redact_url(data["alerts"][sink]["url"], hide_path)
    return data


def redact_url(url: str, hide_path: bool = False) -> str:
    """``url`` with secrets replaced by ``***``: the user-info password, the query string
    (``?token=...``) and fragment, and with ``hide_path`` the path (``scheme://host/***``).

    Edited as text, not re-joined by ``urlunsplit``, which rewrites ``sqlite:////x`` as
    ``sqlite://x``.
    """
    parts = urlsplit(url)
    base = url.partition("#")[0].partition("?")[0]
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username}:***@{netloc.rpartition('@')[2]}"
        base = base.replace(f"//{parts.netloc}", f"//{netloc}", 1)
    if hide_path and parts.path not in ("", "/"):
        base = f"{parts.scheme}://{netloc}/***"
    return base + ("?***" if parts.query else "") + ("#***" if parts.fragment else "")
