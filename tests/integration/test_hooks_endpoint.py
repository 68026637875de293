"""``POST /hooks/mlflow`` end to end: a real `mlflow server` delivers a signed webhook to an
in-process daemon keeping two models, and only the named model's registry is polled at once.

The daemon's registry poll runs every 10 minutes, so the alias move can only reach it
within the test's wait through the webhook. ``driftwarden hooks install``'s code registers
the webhook with the server (the daemon's port is known once it listens). A delivery that
does not verify is refused (401) and polls nothing; one about a model the daemon does not
keep is acknowledged (204) and polls nothing.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from driftwarden.config import load_settings
from driftwarden.events import types as ev
from driftwarden.tracking.webhook_install import install_from_settings
from driftwarden.tracking.webhooks import sign
from tests.support.daemon_proc import models_config
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_server import MlflowServer

# One worker runs every module on the session's `mlflow server`s (sqlite and PostgreSQL),
# so each server starts once (each start costs seconds of CPU).
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("mlflow_servers")]

SECRET = "hooks-endpoint-secret-93c"
Start = Callable[..., InProcessDaemon]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def signed(body: bytes, secret: str, delivery_id: str | None = None) -> dict[str, str]:
    """Headers as MLflow's server sends them, signed with ``secret`` by the real signing code."""
    delivery_id = delivery_id or uuid.uuid4().hex
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": sign(secret.encode(), delivery_id, timestamp, body),
    }


def alias_body(model: str, version: str) -> bytes:
    return json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {"name": model, "alias": "production", "version": version},
        }
    ).encode()


def register_version(client: MlflowClient, model: str) -> str:
    """One version of ``model`` (a run without artifacts is enough to move an alias)."""
    experiment = client.get_experiment_by_name("Default")
    assert experiment is not None
    run = client.create_run(experiment.experiment_id)
    client.set_terminated(run.info.run_id)
    client.create_registered_model(model)
    version = client.create_model_version(
        model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    return str(version.version)


@pytest.fixture
def names() -> tuple[str, str]:
    """Registered model names unique to the test (the server is shared by the session)."""
    tag = uuid.uuid4().hex[:8]
    return f"alpha-{tag}", f"beta-{tag}"


@pytest.fixture
def hook_name(mlflow_server: MlflowServer) -> Iterator[str]:
    name = f"dw-endpoint-{uuid.uuid4().hex[:8]}"
    yield name
    client = MlflowClient(tracking_uri=mlflow_server.url)
    for webhook in client.list_webhooks(max_results=100):
        if webhook.name == name:
            client.delete_webhook(webhook.webhook_id)


def polls(running: InProcessDaemon, model: str) -> int:
    """Registry polls of ``model`` seen so far (no alias yet, or a version moved to)."""
    return len(
        [e for e in running.events.of(ev.NoProductionModel) if e.model == model]
        + [e for e in running.events.of(ev.ModelMoved) if e.model == model]
    )


def test_a_moved_alias_polls_the_named_model_at_once(
    mlflow_server: MlflowServer,
    names: tuple[str, str],
    hook_name: str,
    tmp_path: Path,
    start_daemon: Start,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alpha, beta = names
    client = MlflowClient(tracking_uri=mlflow_server.url)
    version = register_version(client, alpha)
    register_version(client, beta)
    monkeypatch.setenv("DRIFTWARDEN_HOOKS_SECRET", SECRET)
    sections = {
        "mlflow": {"tracking_uri": mlflow_server.url},
        "schedule": {"registry_poll": {"enabled": True, "interval_seconds": 600.0}},
        "hooks": {"enabled": True, "webhook_name": hook_name},
    }
    models = {"alpha": {"name": alpha}, "beta": {"name": beta}}
    running = start_daemon(models_config(tmp_path, models, **sections))
    running.wait(ev.NoProductionModel, lambda e: e.model == alpha, timeout=60)  # start-up poll
    running.wait(ev.NoProductionModel, lambda e: e.model == beta, timeout=60)
    hook_url = running.url + "/hooks/mlflow"

    # Registered the way `driftwarden hooks install` does, now that the port is known.
    sections["hooks"]["public_url"] = hook_url
    config = models_config(tmp_path, models, **sections)
    assert install_from_settings(load_settings(config)).action == "created"

    client.set_registered_model_alias(alpha, "production", version)  # a person moves it
    [heard] = running.wait(ev.RegistryHookHeard, lambda e: e.model == alpha, timeout=30)
    assert (heard.kind, heard.alias, heard.version) == (
        "model_version_alias.created",
        "production",
        int(version),
    )
    [moved] = running.wait(ev.ModelMoved, lambda e: e.model == alpha, timeout=30)
    assert moved.version == version
    assert polls(running, beta) == 1  # only the named model was polled

    # Signed with another secret: refused, nothing polled.
    before = polls(running, alpha)
    body = alias_body(alpha, version)
    assert post(hook_url, body, signed(body, "not-the-secret")) == 401
    running.wait(ev.RegistryHookRefused, lambda e: e.status == 401)
    # Verified, about a model not kept here: acknowledged, nothing polled.
    other = alias_body(f"gamma-{uuid.uuid4().hex[:6]}", "1")
    assert post(hook_url, other, signed(other, SECRET)) == 204
    running.wait(ev.RegistryHookIgnored)
    time.sleep(1.0)  # a poll queued by mistake would have run by now (polls take ~10 ms)
    assert polls(running, alpha) == before and polls(running, beta) == 1
    assert len(running.events.of(ev.RegistryHookHeard)) == 1


def test_the_route_is_absent_while_hooks_are_disabled(tmp_path: Path, start_daemon: Start) -> None:
    running = start_daemon(models_config(tmp_path, {"alpha": {}}))
    body = alias_body("alpha", "1")
    assert post(running.url + "/hooks/mlflow", body, signed(body, SECRET)) == 404
    assert running.events.of(ev.RegistryHookHeard) == []
