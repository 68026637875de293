"""A drift breach and its recovery driven through the running daemon (in process, its real
parts), read back from a real Alertmanager on 127.0.0.1 (firing, then resolved), and from a
webhook receiver in the test that checks the JSON body and the HMAC-SHA256 signature and
answers the first POST with 500 to see the daemon retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from driftwarden.alerts.sinks.webhook import SIGNATURE_HEADER
from driftwarden.events import types as ev
from tests.alerts.receiver import Receiver, webhook_receiver
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.prom_tools import AlertmanagerServer, require_tool, wait_for

pytestmark = pytest.mark.integration

MODEL = "test-model"
SECRET = "s3cret-for-the-test"
SECRET_ENV = "DRIFTWARDEN_TEST_WEBHOOK_SECRET"


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    server = AlertmanagerServer(tmp_path / "alertmanager", binary=require_tool("alertmanager"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with webhook_receiver(statuses=[500]) as receiver:  # the first delivery fails
        yield receiver


def drift_alerts(alertmanager: AlertmanagerServer) -> list[dict[str, Any]]:
    return alertmanager.alerts(filter='alertname="DriftwardenDatasetDrift"')


def posts(hook: Receiver, status: str) -> list[dict[str, Any]]:
    bodies = [json.loads(r.body) for r in hook.requests]
    return [b for b in bodies if b["rule"] == "dataset_drift" and b["status"] == status]


def test_drift_breach_fires_in_alertmanager_and_webhook_then_resolves(
    tmp_path: Path,
    alertmanager: AlertmanagerServer,
    hook: Receiver,
    start_daemon: Callable[..., InProcessDaemon],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = daemon_config(
        tmp_path,
        watch={"settle_seconds": 0.2},
        alerts={
            "sinks": ["log", "alertmanager", "webhook"],
            "drift_consecutive": 2,
            "repeat_interval_seconds": 3600.0,
            "alertmanager": {"url": alertmanager.url, "retries": 3},
            "webhook": {"url": hook.url, "retries": 3, "secret_env": SECRET_ENV},
        },
    )
    drop = tmp_path / "drop"
    monkeypatch.setenv(SECRET_ENV, SECRET)
    caplog.set_level("DEBUG")
    daemon = start_daemon(config)

    def checked(count: int) -> None:
        daemon.wait(ev.FileChecked, timeout=60, count=count)

    try:
        # One drifting check is not a breach yet (drift_consecutive = 2).
        write_csv(drop / "drifted-1.csv", sample_frame(500, seed=2, shift=1.0))
        checked(1)
        # The second drifting check fires.
        write_csv(drop / "drifted-2.csv", sample_frame(500, seed=3, shift=1.0))
        checked(2)
        (active,) = wait_for(lambda: drift_alerts(alertmanager), 20, "alert in Alertmanager")
        assert active["status"]["state"] == "active"
        assert active["labels"] == {
            "alertname": "DriftwardenDatasetDrift",
            "severity": "warning",
            "model": MODEL,
            "rule": "dataset_drift",
            "service": "driftwarden",
        }
        assert "x1" in active["annotations"]["description"]
        assert active["generatorURL"].startswith("http://127.0.0.1:")
        assert active["generatorURL"].endswith("/metrics")

        # The webhook's first POST got 500; the daemon retried the same body.
        wait_for(lambda: len(posts(hook, "firing")) >= 2, 20, "firing webhook retried")
        first, second = hook.requests[0], hook.requests[1]
        assert first.body == second.body
        for request in (first, second):
            expected = (
                "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
            )
            headers = {k.lower(): v for k, v in request.headers.items()}
            assert hmac.compare_digest(headers[SIGNATURE_HEADER.lower()], expected)
            assert headers["content-type"] == "application/json"
        body = json.loads(first.body)
        assert body["service"] == "driftwarden"
        assert body["model"] == MODEL
        assert body["severity"] == "warning"
        assert body["ends_at"] is None
        assert body["detail"]["drifted_features"] == ["x1"]
        assert body["labels"]["model"] == MODEL
        assert SECRET not in caplog.text

        # A clean drop resolves it: gone from Alertmanager's active alerts, "resolved" posted.
        write_csv(drop / "clean.csv", sample_frame(500, seed=4))
        checked(3)
        wait_for(lambda: not drift_alerts(alertmanager), 20, "alert resolved in Alertmanager")
        (resolved,) = wait_for(lambda: posts(hook, "resolved"), 20, "resolved webhook")
        assert resolved["ends_at"] is not None
        assert resolved["labels"] == body["labels"]
        expected = (
            "sha256="
            + hmac.new(SECRET.encode(), hook.requests[-1].body, hashlib.sha256).hexdigest()
        )
        assert {k.lower(): v for k, v in hook.requests[-1].headers.items()}[
            SIGNATURE_HEADER.lower()
        ] == expected
    finally:
        daemon.stop()
    assert SECRET not in caplog.text
    # Exactly one firing alert (delivered twice to the webhook because of the 500) and one
    # resolution: the first drifting check alone fired nothing.
    assert len(posts(hook, "firing")) == 2
    assert len(posts(hook, "resolved")) == 1
    retried = [e for e in daemon.events.of(ev.AlertDeliveryRetrying) if e.sink == "webhook"]
    assert len(retried) == 1, retried
    assert retried[0].attempt == 1 and "500" in retried[0].error
    notified = [(e.rule, e.status) for e in daemon.events.of(ev.AlertNotified)]
    assert notified == [("dataset_drift", "firing"), ("dataset_drift", "resolved")]
