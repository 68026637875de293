"""This instance's name, as leases, ``driftwarden_model_owner`` and ``status`` show it."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from driftwarden.config.model import Settings

# Set by systemd/driftwarden@.service to %H/%i: stable across restarts of one instance.
INSTANCE_ENV = "DRIFTWARDEN_INSTANCE_ID"


def instance_id(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """``state.instance_id``, else ``$DRIFTWARDEN_INSTANCE_ID``, else ``HOST/PID``."""
    env = os.environ if env is None else env
    if settings.state.instance_id:
        return settings.state.instance_id
    if env.get(INSTANCE_ENV):
        return env[INSTANCE_ENV]
    return f"{socket.gethostname()}/{os.getpid()}"
