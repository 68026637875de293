"""What ``run`` refuses at start beyond the file itself: the environment the config names.

The model and the loader refuse what a file alone gets wrong (types, ranges, a watch path
of ``/``, a quarantine directory that swallows a watch path). These rules need the
environment: a signing secret's variable, the state and drop directories, the reference
file, the metrics address. ``config check`` and ``run`` (and a SIGHUP reload) call
``check_runnable`` so that ``config check`` refuses everything ``run`` would. It only looks:
it creates, opens for writing and contacts nothing.

Not checked here, because only the start itself can tell: a metrics port another process
holds, an address not on this host, inotify limits, the reference file's contents.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path

from driftwarden.config.model import Settings
from driftwarden.config.models import model_keys
from driftwarden.errors import ConfigError


def check_runnable(
    settings: Settings, env: Mapping[str, str] | None = None, where: str | None = None
) -> None:
    """Raise ConfigError with one line per problem (``WHERE: key: problem``) when ``run``
    would refuse ``settings`` at start; ``where`` names the config file in the lines."""
    problems = runnable_problems(settings, env)
    if problems:
        prefix = f"{where}: " if where else ""
        raise ConfigError("\n".join(prefix + line for line in problems))


def runnable_problems(settings: Settings, env: Mapping[str, str] | None = None) -> list[str]:
    """Every reason ``run`` would refuse ``settings`` in this environment (empty: none)."""
    env = os.environ if env is None else env
    problems: list[str] = []
    problems += _secret_env(settings, env)
    if settings.state_source in ("file", "systemd"):
        # The default beside the config file is replaced by $STATE_DIRECTORY under systemd,
        # which a `config check` run by hand does not see: only a chosen directory is checked.
        problems += _directory("state.directory", settings.state.directory)
    keys = model_keys(settings)
    for name, model in settings.kept_models().items():
        for index, path in enumerate(model.watch.paths):
            problems += _directory(f"{keys[name]}watch.paths[{index}]", path)
        problems += [keys[name] + line for line in _reference(model)]
    problems += _metrics_address(settings)
    return problems


def _secret_env(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """A sink (or the state database) refuses to start when the variable that holds its
    secret is missing."""
    alerts = settings.alerts
    wanted: list[tuple[str, str | None, str]] = []
    if settings.hooks.enabled:
        wanted.append(("hooks.secret_env", settings.hooks.secret_env, "the webhook's HMAC secret"))
    if alerts.webhook is not None and "webhook" in alerts.sinks:
        wanted.append(("alerts.webhook.secret_env", alerts.webhook.secret_env, "the HMAC secret"))
    if alerts.alertmanager is not None and "alertmanager" in alerts.sinks:
        wanted.append(
            (
                "alerts.alertmanager.password_env",
                alerts.alertmanager.password_env,
                "the basic-auth password",
            )
        )
    if settings.state.url is not None and settings.state.password_env:
        wanted.append(("state.password_env", settings.state.password_env, "the database password"))
    return [
        f"{key}: environment variable {var} is not set or empty (expected {what})"
        for key, var, what in wanted
        if var and not env.get(var)
    ]


def _directory(key: str, path: Path) -> list[str]:
    """A directory the daemon writes in: present and writable, or creatable."""
    if path.exists():
        if not path.is_dir():
            return [f"{key}: {str(path)!r} exists and is not a directory"]
        if not os.access(path, os.W_OK | os.X_OK):
            return [f"{key}: {str(path)!r} is not writable by this user"]
        return []
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return [f"{key}: cannot create {str(path)!r}: {str(parent)!r} is not a directory"]
    if not os.access(parent, os.W_OK | os.X_OK):
        return [f"{key}: cannot create {str(path)!r}: {str(parent)!r} is not writable by this user"]
    return []


def _reference(settings: Settings) -> list[str]:
    """``reference.source = "file"`` needs a readable regular file at start."""
    path = settings.reference.path
    if settings.reference.source != "file" or path is None:
        return []
    if not path.exists():
        return [f"reference.path: {str(path)!r} does not exist"]
    if not path.is_file():
        return [f"reference.path: {str(path)!r} is not a regular file"]
    if not os.access(path, os.R_OK):
        return [f"reference.path: {str(path)!r} is not readable by this user"]
    return []


def _metrics_address(settings: Settings) -> list[str]:
    """The endpoint cannot listen on a name that does not resolve."""
    metrics = settings.metrics
    if not metrics.enabled:
        return []
    try:
        socket.getaddrinfo(metrics.address, metrics.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return [f"metrics.address: cannot listen on {metrics.address!r}: {reason}"]
    return []
