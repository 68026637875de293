"""An alias moved by a person on the MLflow server: the daemon keeping the model switches its
production model and its reference long before any poll could, with the poll every 10 minutes.

Real `mlflow server`s (a sqlite store, then one on PostgreSQL), real models logged through
them, an in-process daemon whose webhook is registered the way `driftwarden hooks install`
does. After the start-up poll, the next poll is 10 minutes away: a switch seen within the
test's wait (30 s) came through ``POST /hooks/mlflow``. How long the path takes is measured
in benchmarks/hooks_bench.py, never asserted here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from driftwarden.events import types as ev
from tests.support.hook_switch import POLL_INTERVAL, SECRET, SECRET_ENV, HookedDaemon, log_versions
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_server import MlflowServer

# One worker runs every module on the session's `mlflow server`s (sqlite and PostgreSQL),
# so each server starts once (each start costs seconds of CPU).
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("mlflow_servers")]

Start = Callable[..., InProcessDaemon]


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest) -> MlflowServer:
    """The session's `mlflow server` on a sqlite store, then the one on PostgreSQL."""
    name = "mlflow_server" if request.param == "sqlite" else "mlflow_pg_server"
    server: MlflowServer = request.getfixturevalue(name)
    return server


@pytest.fixture
def hook_name(server: MlflowServer) -> Iterator[str]:
    name = f"dw-switch-{uuid.uuid4().hex[:8]}"
    yield name
    client = MlflowClient(tracking_uri=server.url)
    for webhook in client.list_webhooks(max_results=100):
        if webhook.name == name:
            client.delete_webhook(webhook.webhook_id)


def test_a_person_moving_the_alias_switches_the_model_and_reference_at_once(
    server: MlflowServer,
    hook_name: str,
    tmp_path: Path,
    start_daemon: Start,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    model = f"switch-{uuid.uuid4().hex[:8]}"
    v1, v2 = log_versions(server.url, model, tmp_path / "training")
    client = MlflowClient(tracking_uri=server.url)
    client.set_registered_model_alias(model, "production", v1)
    hooked = HookedDaemon(tmp_path / "daemon", server.url, model, hook_name, start_daemon)
    running = hooked.running
    assert running.settings.schedule.registry_poll.interval_seconds == POLL_INTERVAL
    first = hooked.in_force(v1, timeout=90)  # the start-up poll
    assert first.previous is None
    assert hooked.install_hook() == "created"
    hooked.hook_heard([v1])  # the server knows the webhook now (its list is cached 1 s)

    moved_at = len(running.events.events)
    client.set_registered_model_alias(model, "production", v2)  # a person moves it
    switched = hooked.in_force(v2)
    assert (switched.previous, switched.version) == (v1, v2)
    # The switch came from the hook: heard for v2, then the poll it asked for moved the model.
    after = running.events.events[moved_at:]
    kinds = [type(e) for e in after]
    heard = [e for e in after if isinstance(e, ev.RegistryHookHeard) and e.version == int(v2)]
    assert heard and kinds.index(ev.RegistryHookHeard) < kinds.index(ev.ModelMoved)
    [moved] = [e for e in after if isinstance(e, ev.ModelMoved)]
    assert (moved.version, moved.previous) == (v2, v1)
    # Its reference is v2's training data, not v1's.
    [reference] = [e for e in after if isinstance(e, ev.ReferenceInForce)]
    assert reference.source == f"model version {v2}"
    assert running.parts.keepers[model].reference.get().source == f"model version {v2}"
    assert running.parts.keepers[model].registry.version == v2

    # And back: a second move by hand switches again.
    hooked.move(v1)  # waits for v1 in force a second time
    assert hooked.in_force(v1).previous == v2
