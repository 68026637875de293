"""A real Alertmanager on 127.0.0.1 receives driftwarden's alert, firing and then resolved.

The path is the one the daemon uses: AlertRules decides, AlertDispatcher delivers on its
own thread through the alertmanager sink (API v2). Alertmanager then routes on the labels
to a webhook receiver in the test, which proves the labels are what routing expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.alerts.rules import AlertRules
from driftwarden.alerts.sinks import AlertDispatcher, build_sinks
from driftwarden.config.model import AlertmanagerConfig, AlertsConfig
from driftwarden.events import Recorder
from driftwarden.events.types import AlertDeliveryFailed
from driftwarden.observability.metrics import Metrics
from tests.alerts.receiver import Receiver, webhook_receiver
from tests.support.prom_tools import AlertmanagerServer, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as rec:
        yield rec


@pytest.fixture
def alertmanager(
    tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> Iterator[AlertmanagerServer]:
    server = AlertmanagerServer(tmp_path_factory.mktemp("alertmanager"), receiver_url=receiver.url)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def ours(alertmanager: AlertmanagerServer) -> list[dict[str, Any]]:
    return alertmanager.alerts(filter='alertname="DriftwardenDatasetDrift"')


def notifications(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


def test_drift_alert_fires_then_resolves_in_alertmanager(
    alertmanager: AlertmanagerServer, receiver: Receiver
) -> None:
    cfg = AlertsConfig(
        sinks=["log", "alertmanager"],
        alertmanager=AlertmanagerConfig(url=alertmanager.url, retries=2),
        drift_consecutive=2,
        repeat_interval_seconds=60,
    )
    metrics = Metrics(CollectorRegistry())
    rules = AlertRules(cfg, "iris", metrics)
    dispatcher = AlertDispatcher(
        build_sinks(cfg, generator_url="http://127.0.0.1:9108/metrics"), Recorder()
    )
    dispatcher.start()
    try:
        # one drifting check is not enough (hysteresis)
        dispatcher.submit_all(rules.observe_drift(True, {"drifted_features": ["petal_length"]}))
        assert dispatcher.flush(10)
        assert ours(alertmanager) == []

        dispatcher.submit_all(rules.observe_drift(True, {"drifted_features": ["petal_length"]}))
        (active,) = wait_for(lambda: ours(alertmanager), 15, "alert active in Alertmanager")
        assert active["status"]["state"] == "active"
        assert active["labels"] == {
            "alertname": "DriftwardenDatasetDrift",
            "severity": "warning",
            "model": "iris",
            "rule": "dataset_drift",
            "service": "driftwarden",
        }
        assert "Dataset drift on model iris" in active["annotations"]["summary"]
        assert "petal_length" in active["annotations"]["description"]
        assert active["generatorURL"] == "http://127.0.0.1:9108/metrics"
        # Alertmanager routed it to its webhook receiver as firing
        wait_for(
            lambda: [n for n in notifications(receiver) if n["status"] == "firing"],
            15,
            "firing notification",
        )

        # a clean check resolves it: Alertmanager stops listing it and notifies "resolved"
        dispatcher.submit_all(rules.observe_drift(False))
        wait_for(lambda: not ours(alertmanager), 15, "alert gone from Alertmanager's active list")
        resolved = wait_for(
            lambda: [n for n in notifications(receiver) if n["status"] == "resolved"],
            20,
            "resolved notification",
        )
        assert resolved[0]["alerts"][0]["labels"]["model"] == "iris"
        assert resolved[0]["alerts"][0]["status"] == "resolved"
    finally:
        dispatcher.close()
        assert dispatcher.join(5)
    stats = dispatcher.stats()
    assert stats["alertmanager"] == {"delivered": 2, "failed": 0, "retried": 0, "dropped": 0}
    assert (
        metrics.registry.get_sample_value(
            "driftwarden_alerts_total", {"model": "iris", "rule": "dataset_drift"}
        )
        == 1
    )


def test_sink_retries_until_alertmanager_comes_up(
    tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> None:
    server = AlertmanagerServer(
        tmp_path_factory.mktemp("alertmanager-late"), receiver_url=receiver.url
    )
    cfg = AlertsConfig(
        sinks=["alertmanager"],
        alertmanager=AlertmanagerConfig(url=server.url, retries=10, timeout_seconds=2),
        drift_consecutive=1,
    )
    rules = AlertRules(cfg, "iris", Metrics(CollectorRegistry()))
    dispatcher = AlertDispatcher(
        build_sinks(cfg), Recorder(), backoff_seconds=0.5, max_backoff_seconds=1.0
    )
    dispatcher.start()
    try:
        dispatcher.submit_all(rules.observe_drift(True))  # Alertmanager is not running yet
        wait_for(lambda: dispatcher.stats()["alertmanager"]["retried"] >= 1, 10, "a failed attempt")
        server.start()
        try:
            wait_for(lambda: ours(server), 20, "alert delivered once Alertmanager is up")
        finally:
            server.stop()
    finally:
        dispatcher.close()
        assert dispatcher.join(5)
    assert dispatcher.stats()["alertmanager"]["delivered"] == 1


def test_alert_reaches_an_alertmanager_that_demands_basic_auth(
    tmp_path_factory: pytest.TempPathFactory,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Alertmanager's own ``--web.config.file`` basic auth: refused without, delivered with."""
    password = "am-Basic-Pass-31"
    server = AlertmanagerServer(
        tmp_path_factory.mktemp("alertmanager-auth"),
        receiver_url=receiver.url,
        basic_auth=("driftwarden", password),
    )
    monkeypatch.setenv("DW_TEST_AM_PASSWORD", password)
    with_auth = AlertsConfig(
        sinks=["alertmanager"],
        alertmanager=AlertmanagerConfig(
            url=server.url, retries=0, username="driftwarden", password_env="DW_TEST_AM_PASSWORD"
        ),
        drift_consecutive=1,
    )
    without = AlertsConfig(
        sinks=["alertmanager"],
        alertmanager=AlertmanagerConfig(url=server.url, retries=0),
        drift_consecutive=1,
    )
    server.start()
    try:
        for cfg in (without, with_auth):
            rules = AlertRules(cfg, "iris", Metrics(CollectorRegistry()))
            recorder = Recorder()
            dispatcher = AlertDispatcher(build_sinks(cfg), recorder)
            dispatcher.start()
            try:
                dispatcher.submit_all(rules.observe_drift(True))
                assert dispatcher.flush(15)
            finally:
                dispatcher.close()
                assert dispatcher.join(5)
            if cfg is without:
                assert dispatcher.stats()["alertmanager"]["failed"] == 1
                (failed,) = recorder.of(AlertDeliveryFailed)
                assert "answered 401" in failed.error
                assert ours(server) == []
        assert dispatcher.stats()["alertmanager"]["delivered"] == 1
        (active,) = wait_for(lambda: ours(server), 15, "alert active in Alertmanager")
        assert active["labels"]["model"] == "iris"
    finally:
        server.stop()
