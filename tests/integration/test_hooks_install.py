"""`driftwarden hooks install` against real `mlflow server`s (sqlite and PostgreSQL stores),
and real deliveries: an alias moved with MlflowClient reaches a receiver on 127.0.0.1 and
passes driftwarden's verifier; a tampered delivery does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from driftwarden.config import load_settings
from driftwarden.errors import ConfigError
from driftwarden.tracking.webhook_install import install_from_settings
from driftwarden.tracking.webhooks import REGISTRY_EVENTS, handle_mlflow_webhook
from tests.support.mlflow_server import MlflowServer
from tests.support.webhook_receiver import Delivery, WebhookReceiver

# One worker runs every module on the session's `mlflow server`s (sqlite and PostgreSQL),
# so each server starts once (each start costs seconds of CPU).
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("mlflow_servers")]

DRIFTWARDEN = Path(sys.executable).parent / "driftwarden"
SECRET = "hooks-integration-secret-7d1"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    r.start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest) -> MlflowServer:
    """The session's `mlflow server` on a sqlite store, then the one on PostgreSQL."""
    name = "mlflow_server" if request.param == "sqlite" else "mlflow_pg_server"
    server: MlflowServer = request.getfixturevalue(name)
    return server


def write_config(tmp_path: Path, server_url: str, public_url: str, name: str) -> Path:
    config = tmp_path / "driftwarden.toml"
    config.write_text(
        f'[mlflow]\ntracking_uri = "{server_url}"\n'
        f'[hooks]\nenabled = true\npublic_url = "{public_url}"\nwebhook_name = "{name}"\n'
        f'[state]\ndirectory = "{tmp_path / "state"}"\n',
        encoding="utf-8",
    )
    return config


def run_install(config: Path, secret: str = SECRET) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DRIFTWARDEN_"))}
    env["DRIFTWARDEN_HOOKS_SECRET"] = secret
    return subprocess.run(
        [str(DRIFTWARDEN), "hooks", "install", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def named(client: MlflowClient, name: str) -> list:  # type: ignore[type-arg]
    return [w for w in client.list_webhooks(max_results=100) if w.name == name]


@pytest.fixture
def hook_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """A webhook name unique to the test; its webhooks are deleted afterwards (shared servers)."""
    name = f"dw-{uuid.uuid4().hex[:10]}"
    yield name
    for fixture in ("mlflow_server", "mlflow_pg_server"):
        if fixture in request.fixturenames:
            client = MlflowClient(tracking_uri=request.getfixturevalue(fixture).url)
            for webhook in named(client, name):
                client.delete_webhook(webhook.webhook_id)


def new_version(client: MlflowClient, model: str) -> str:
    """Register one more version of ``model`` (a run with no artifacts is enough)."""
    experiment = client.get_experiment_by_name("Default")
    assert experiment is not None
    run = client.create_run(experiment.experiment_id)
    client.set_terminated(run.info.run_id)
    if not client.search_registered_models(f"name = '{model}'"):
        client.create_registered_model(model)
    version = client.create_model_version(
        model, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    )
    return str(version.version)


def alias_delivery(model: str, alias: str, version: str) -> object:
    def matches(d: Delivery) -> bool:
        body = json.loads(d.body)
        return (body["entity"], body["action"]) == ("model_version_alias", "created") and body[
            "data"
        ] == {"name": model, "alias": alias, "version": version}

    return matches


def test_install_is_idempotent_and_a_moved_alias_arrives_signed(
    server: MlflowServer, receiver: WebhookReceiver, hook_name: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, server.url, receiver.url, hook_name)
    first = run_install(config)
    assert first.returncode == 0, first.stderr
    assert f"webhook {hook_name!r} created" in first.stdout
    second = run_install(config)
    assert second.returncode == 0, second.stderr
    assert f"webhook {hook_name!r} updated" in second.stdout and "changed" not in second.stdout
    assert SECRET not in first.stdout + first.stderr + second.stdout + second.stderr

    client = MlflowClient(tracking_uri=server.url)
    [webhook] = named(client, hook_name)
    assert webhook.url == receiver.url
    assert sorted(str(e) for e in webhook.events) == sorted(REGISTRY_EVENTS)
    assert webhook.status.is_active()

    model = f"churn-{uuid.uuid4().hex[:8]}"
    v1 = new_version(client, model)
    v2 = new_version(client, model)
    client.set_registered_model_alias(model, "production", v1)
    client.set_registered_model_alias(model, "production", v2)  # a person moves the alias
    delivery = receiver.wait_for(alias_delivery(model, "production", v2))  # type: ignore[arg-type]

    status, event = handle_mlflow_webhook(
        delivery.headers, delivery.body, SECRET.encode(), time.time()
    )
    assert status == 200 and event is not None
    assert (event.kind, event.model, event.alias, event.version) == (
        "model_version_alias.created",
        model,
        "production",
        int(v2),
    )
    assert event.delivery_id == delivery.headers["X-MLflow-Delivery-Id"]
    tampered = delivery.body.replace(f'"version": "{v2}"'.encode(), f'"version": "{v1}"'.encode())
    assert tampered != delivery.body
    assert handle_mlflow_webhook(delivery.headers, tampered, SECRET.encode(), time.time()) == (
        401,
        None,
    )
    assert handle_mlflow_webhook(
        delivery.headers, delivery.body, b"another-secret", time.time()
    ) == (401, None)

    # The new version and the alias removal are announced too.
    receiver.wait_for(
        lambda d: (
            json.loads(d.body)["data"].get("name") == model
            and json.loads(d.body)["action"] == "created"
            and json.loads(d.body)["entity"] == "model_version"
        )
    )
    client.delete_registered_model_alias(model, "production")
    deleted = receiver.wait_for(
        lambda d: (
            json.loads(d.body)["entity"] == "model_version_alias"
            and json.loads(d.body)["action"] == "deleted"
            and json.loads(d.body)["data"]["name"] == model
        )
    )
    outcome = handle_mlflow_webhook(deleted.headers, deleted.body, SECRET.encode(), time.time())
    assert outcome.event is not None and outcome.event.kind == "model_version_alias.deleted"


def test_a_changed_url_or_secret_updates_the_one_webhook(
    mlflow_server: MlflowServer, hook_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_receiver, new_receiver = WebhookReceiver(), WebhookReceiver()
    old_receiver.start()
    new_receiver.start()
    try:
        monkeypatch.setenv("DRIFTWARDEN_HOOKS_SECRET", "first-secret")
        config = write_config(tmp_path, mlflow_server.url, old_receiver.url, hook_name)
        assert install_from_settings(load_settings(config)).action == "created"

        monkeypatch.setenv("DRIFTWARDEN_HOOKS_SECRET", "second-secret")
        config = write_config(tmp_path, mlflow_server.url, new_receiver.url, hook_name)
        result = install_from_settings(load_settings(config))
        assert (result.action, result.changed) == ("updated", ("url",))

        client = MlflowClient(tracking_uri=mlflow_server.url)
        [webhook] = named(client, hook_name)
        assert webhook.url == new_receiver.url

        model = f"fraud-{uuid.uuid4().hex[:8]}"
        version = new_version(client, model)
        client.set_registered_model_alias(model, "champion", version)
        delivery = new_receiver.wait_for(alias_delivery(model, "champion", version))  # type: ignore[arg-type]
        now = time.time()
        assert (
            handle_mlflow_webhook(delivery.headers, delivery.body, b"second-secret", now)[0] == 200
        )
        assert (
            handle_mlflow_webhook(delivery.headers, delivery.body, b"first-secret", now)[0] == 401
        )
        assert not any(
            json.loads(d.body)["data"].get("name") == model for d in old_receiver.deliveries
        )
    finally:
        old_receiver.stop()
        new_receiver.stop()


def test_duplicates_left_by_a_race_are_removed(
    mlflow_server: MlflowServer, hook_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = MlflowClient(tracking_uri=mlflow_server.url)
    for _ in range(2):
        client.create_webhook(hook_name, "http://127.0.0.1:9/old", ["model_version.created"])
    monkeypatch.setenv("DRIFTWARDEN_HOOKS_SECRET", SECRET)
    config = write_config(
        tmp_path, mlflow_server.url, "http://127.0.0.1:9108/hooks/mlflow", hook_name
    )
    result = install_from_settings(load_settings(config))
    assert result.action == "updated" and result.removed_duplicates == 1
    assert set(result.changed) == {"url", "events", "description"}
    [webhook] = named(client, hook_name)
    assert webhook.webhook_id == result.webhook_id
    assert sorted(str(e) for e in webhook.events) == sorted(REGISTRY_EVENTS)


def test_a_server_that_refuses_http_urls_is_a_clear_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow's defaults allow only https:// and public addresses for webhook URLs."""
    stock = MlflowServer(
        tmp_path / "stock-server",
        env={
            "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "https",
            "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "false",
        },
    )
    stock.start(timeout=180)
    try:
        monkeypatch.setenv("DRIFTWARDEN_HOOKS_SECRET", SECRET)
        config = write_config(tmp_path, stock.url, "http://127.0.0.1:9108/hooks/mlflow", "dw")
        with pytest.raises(ConfigError) as info:
            install_from_settings(load_settings(config))
        message = str(info.value)
        assert message.startswith("hooks.public_url: the tracking server refused")
        assert "MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https" in message
        assert named(MlflowClient(tracking_uri=stock.url), "dw") == []
    finally:
        stock.stop()
