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

from pydantic import SecretStr, ValidationError

from driftwarden.config.layout import drop_layout_problems
from driftwarden.config.messages import format_validation_error
from driftwarden.config.model import Settings, StateSource
from driftwarden.config.models import OVERRIDES, refuse_model_and_models, resolve_models
from driftwarden.config.paths import absolute, resolve_estimation_path, resolve_model_paths
from driftwarden.errors import ConfigError, UsageError
from driftwarden.redact import redact, redact_url, register_settings

__all__ = [
    "CONFIG_ENV",
    "format_validation_error",
    "load_settings",
    "redact_url",
    "redacted_dict",
    "require_explicit_store",
    "resolve_config_path",
]

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
    refuse_model_and_models(raw, config_path)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, config_path)) from None
    _apply_env(settings, env, config_path)
    explicit_state = "directory" in raw.get("state", {})
    try:
        _resolve_paths(settings, base_dir, env, explicit_state)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, config_path)) from None
    settings._state_source = _state_source(config_path, env, explicit_state)
    if settings.state_is_implicit:
        _artifacts_beside_a_users_sqlite_store(settings)
    where = str(config_path) if config_path else "<defaults>"
    problems = [f"{where}: {line}" for line in drop_layout_problems(settings.watch)]
    if problems:
        raise ConfigError("\n".join(problems))
    if settings.models:
        settings._per_model = resolve_models(settings, base_dir, config_path)
    register_settings(settings, env)  # from now on every log line and error hides them
    return settings


def _state_source(path: Path | None, env: Mapping[str, str], explicit: bool) -> StateSource:
    if explicit:
        return "file"
    if env.get("STATE_DIRECTORY"):
        return "systemd"
    # No file and no systemd: the state directory is only a guess in the working directory.
    return "config-dir" if path is not None else "working-dir"


def _artifacts_beside_a_users_sqlite_store(settings: Settings) -> None:
    """Without a config file, a sqlite store the user named keeps its artifacts beside it.

    The default would be ``<state.directory>/mlartifacts``, and that state directory is only
    a guess (``./driftwarden-state``) that nobody asked for.
    """
    uri = settings.tracking_uri
    users_sqlite = uri.startswith("sqlite:///") and uri != default_tracking_uri(settings)
    if users_sqlite and settings.mlflow.artifact_location == default_artifact_location(settings):
        db = Path(uri.removeprefix("sqlite:///").partition("?")[0])
        settings.mlflow.artifact_location = (db.parent.absolute() / "mlartifacts").as_uri()


def default_tracking_uri(settings: Settings) -> str:
    """The embedded store driftwarden uses when no tracking URI is given."""
    return f"sqlite:///{settings.state.directory / 'mlflow.db'}"


def default_artifact_location(settings: Settings) -> str:
    """Where experiments that driftwarden creates in a sqlite store keep their artifacts."""
    return (settings.state.directory / "mlartifacts").as_uri()


def require_explicit_store(settings: Settings) -> None:
    """Refuse to create the default MLflow store in a state directory nobody chose.

    Without ``--config`` (or ``DRIFTWARDEN_CONFIG`` or systemd's ``STATE_DIRECTORY``) and
    without ``MLFLOW_TRACKING_URI``, the default store would be a new
    ``./driftwarden-state/mlflow.db`` wherever the command happens to run: an empty store
    the user did not ask for, which hides the one they meant. Raises UsageError (exit 2).
    """
    if settings.state_is_implicit and settings.tracking_uri == default_tracking_uri(settings):
        raise UsageError(
            "no MLflow tracking store given: pass --config FILE (its default store is "
            "<state.directory>/mlflow.db beside the file) or set MLFLOW_TRACKING_URI; "
            f"nothing was written to {settings.state.directory.parent}"
        )


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

    state_dir = settings.state.directory
    if not explicit_state and env.get("STATE_DIRECTORY"):
        # systemd's StateDirectory= sets this (first entry when several are listed).
        state_dir = Path(env["STATE_DIRECTORY"].split(":")[0])
    settings.state.directory = absolute(state_dir, base)
    resolve_model_paths(settings.watch, settings.reference, settings.retrain, base)
    resolve_estimation_path(settings.estimation, base)
    if settings.mlflow.tracking_uri is None:
        settings.mlflow.tracking_uri = default_tracking_uri(settings)
    if settings.mlflow.artifact_location is None and settings.tracking_uri.startswith("sqlite:"):
        settings.mlflow.artifact_location = default_artifact_location(settings)


def redacted_dict(settings: Settings) -> dict[str, Any]:
    """The effective config as plain data with secrets replaced; safe to print or log.

    With ``[models.<name>]`` tables, ``models`` holds each model's effective settings (its
    own keys and its sections, overrides merged in) under its table's name.
    """
    data = settings.model_dump(mode="json", exclude={"models"})
    if settings.models:
        # [model] is not in force with [models.<name>] tables: each model's keys are below.
        del data["model"]
        data["models"] = effective_models(settings)
    return _redacted(data)


def effective_models(settings: Settings) -> dict[str, dict[str, Any]]:
    """Table name -> the model's keys and effective sections, as plain data (not redacted)."""
    kept = settings.kept_models()
    out: dict[str, dict[str, Any]] = {}
    for table, entry in settings.models.items():
        view = kept[entry.name or table]
        out[table] = {
            **view.model.model_dump(mode="json"),
            **{s: getattr(view, s).model_dump(mode="json") for s in OVERRIDES},
        }
    return out


def _redacted(data: dict[str, Any]) -> dict[str, Any]:
    for key in ("password", "token"):
        if data["mlflow"].get(key):
            data["mlflow"][key] = "***"
    # A URI may carry a password in its user info (https://user:secret@host).
    for key in ("tracking_uri", "registry_uri"):
        if data["mlflow"].get(key):
            data["mlflow"][key] = redact_url(data["mlflow"][key])
    for retrain in [data["retrain"], *(m["retrain"] for m in data.get("models", {}).values())]:
        if retrain.get("project_uri"):  # a git URI may carry a token; '#subdir' is not one
            retrain["project_uri"] = redact(retrain["project_uri"])
    # A webhook URL is itself the credential (Slack's /services/T0/B0/SECRET): hide its path.
    for sink, hide_path in (("webhook", True), ("alertmanager", False)):
        if data["alerts"].get(sink):
            data["alerts"][sink]["url"] = redact_url(data["alerts"][sink]["url"], hide_path)
    if data["hooks"].get("public_url"):
        data["hooks"]["public_url"] = redact_url(data["hooks"]["public_url"])
    return data
