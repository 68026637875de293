"""``POST /hooks/mlflow``: the registry heard at once.

MLflow's tracking server POSTs a signed delivery when a version is registered or an alias
is set, moved or deleted. A delivery that verifies (``tracking.webhooks``) and names a model
this daemon keeps queues an immediate registry poll of that model on its worker, as
SIGUSR1's poll does; the endpoint answers at once and never waits for the poll. Everything
else changes nothing: a delivery that does not verify (401), a body that is not MLflow's
(400), an event kind or a model the daemon does not act on (204). Polling stays on: MLflow
does not store failed deliveries.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from driftwarden.config.model import Settings
from driftwarden.events import Publish
from driftwarden.events.types import RegistryHookHeard, RegistryHookIgnored, RegistryHookRefused
from driftwarden.tracking.webhooks import HeaderSource, handle_mlflow_webhook

HOOK_PATH = "/hooks/mlflow"

# Asks a model's keeper for a job: (kind, reason, model) -> False when the model is not kept.
Route = Callable[[str, str, str], bool]


class RegistryHook:
    """The handler of ``POST /hooks/mlflow`` (called on the HTTP server's threads).

    ``config`` gives the settings in force (``[hooks]`` is read per delivery, so a reload
    applies at once); the secret is read from the environment variable ``hooks.secret_env``
    names. Returns the HTTP status.
    """

    def __init__(
        self,
        config: Callable[[], Settings],
        route: Route,
        publish: Publish,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.route = route
        self._publish = publish
        self._env = os.environ if env is None else env
        self._clock = clock

    def enabled(self) -> bool:
        return self.config().hooks.enabled

    def __call__(self, headers: HeaderSource, body: bytes) -> int:
        hooks = self.config().hooks
        secret = self._env.get(hooks.secret_env, "").encode()
        if not secret:  # run refuses to start without it; the variable vanished since
            self._publish(RegistryHookRefused(503))
            return 503
        status, event = handle_mlflow_webhook(
            headers, body, secret, self._clock(), hooks.replay_window_seconds
        )
        if event is None:
            if status >= 400:
                self._publish(RegistryHookRefused(status))
            return status
        reason = f"webhook {event.kind}"
        if not self.route("registry_poll", reason, event.model):
            self._publish(RegistryHookIgnored(event.model, event.kind, event.delivery_id))
            return 204
        self._publish(
            RegistryHookHeard(
                event.model, event.kind, event.version, event.alias, event.delivery_id
            )
        )
        return 200
