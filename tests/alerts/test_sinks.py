"""Sinks by name, the webhook (JSON, HMAC, retries) and the dispatcher that never blocks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from driftwarden.alerts.rules import Alert, AlertRules
from driftwarden.alerts.sinks import (
    SIGNATURE_HEADER,
    SINKS,
    AlertDispatcher,
    AlertmanagerSink,
    LogSink,
    SinkError,
    WebhookSink,
    build_sinks,
)
from driftwarden.config.model import AlertmanagerConfig, AlertsConfig, WebhookConfig
from driftwarden.errors import ConfigError
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.observability.metrics import Metrics
from tests.alerts.receiver import webhook_receiver
from tests.support.mlflow_server import free_port

SECRET = "s3cret-for-tests"


def drift_alert(clock: float = 1_700_000_000.0) -> Alert:
    rules = AlertRules(
        AlertsConfig(drift_consecutive=1), "iris", Metrics(CollectorRegistry()), clock=lambda: clock
    )
    (alert,) = rules.observe_drift(True, {"drifted_features": ["petal_length"]})
    return alert


def test_build_sinks_by_name_in_order() -> None:
    cfg = AlertsConfig(
        sinks=["alertmanager", "log", "webhook", "log"],
        webhook=WebhookConfig(url="http://127.0.0.1:1/hook"),
        alertmanager=AlertmanagerConfig(url="http://127.0.0.1:9093/"),
    )
    sinks = build_sinks(cfg, generator_url="http://127.0.0.1:9108/metrics")
    assert [s.name for s in sinks] == ["alertmanager", "log", "webhook"]
    assert isinstance(sinks[0], AlertmanagerSink)
    assert sinks[0].endpoint == "http://127.0.0.1:9093/api/v2/alerts"
    assert set(SINKS) == {"log", "webhook", "alertmanager"}


def test_unknown_sink_name_lists_the_valid_ones() -> None:
    cfg = AlertsConfig.model_construct(sinks=["pager"])  # bypasses the Literal on purpose
    with pytest.raises(
        ConfigError, match=r"unknown sink 'pager'; valid: \['alertmanager', 'log', 'webhook'\]"
    ):
        build_sinks(cfg)


def test_missing_secret_env_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DW_TEST_SECRET", raising=False)
    cfg = AlertsConfig(
        sinks=["webhook"], webhook=WebhookConfig(url="http://x/", secret_env="DW_TEST_SECRET")
    )
    with pytest.raises(ConfigError, match="DW_TEST_SECRET is not set"):
        build_sinks(cfg)


def test_secret_never_appears_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DW_TEST_SECRET", SECRET)
    sink = WebhookSink(WebhookConfig(url="http://x/", secret_env="DW_TEST_SECRET"))
    assert SECRET not in repr(sink) and "signed=True" in repr(sink)


def test_webhook_posts_signed_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DW_TEST_SECRET", SECRET)
    alert = drift_alert()
    with webhook_receiver() as receiver:
        sink = WebhookSink(WebhookConfig(url=receiver.url, secret_env="DW_TEST_SECRET"))
        sink.send(alert)
        (request,) = receiver.requests
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == expected
    body = json.loads(request.body)
    assert (
        body["status"] == "firing" and body["rule"] == "dataset_drift" and body["model"] == "iris"
    )
    assert body["labels"]["alertname"] == "DriftwardenDatasetDrift"
    assert body["annotations"]["summary"] == alert.summary
    assert body["starts_at"] == "2023-11-14T22:13:20.000Z"
    assert body["detail"] == {"drifted_features": ["petal_length"]}


def test_webhook_without_secret_sends_no_signature() -> None:
    with webhook_receiver() as receiver:
        WebhookSink(WebhookConfig(url=receiver.url)).send(drift_alert())
        (request,) = receiver.requests
    assert SIGNATURE_HEADER not in request.headers


def test_webhook_errors_say_whether_to_retry() -> None:
    with webhook_receiver([500, 400]) as receiver:
        sink = WebhookSink(WebhookConfig(url=receiver.url))
        with pytest.raises(SinkError, match="answered 500") as server_error:
            sink.send(drift_alert())
        with pytest.raises(SinkError, match="answered 400") as client_error:
            sink.send(drift_alert())
    assert server_error.value.retryable and not client_error.value.retryable
    refused = WebhookSink(WebhookConfig(url=f"http://127.0.0.1:{free_port()}/", timeout_seconds=1))
    with pytest.raises(SinkError, match="unreachable") as unreachable:
        refused.send(drift_alert())
    assert unreachable.value.retryable


def test_dispatcher_retries_a_webhook_that_answers_500(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DW_TEST_SECRET", SECRET)
    with webhook_receiver([500, 500]) as receiver:
        cfg = AlertsConfig(
            sinks=["webhook"],
            webhook=WebhookConfig(url=receiver.url, retries=3, secret_env="DW_TEST_SECRET"),
        )
        dispatcher = AlertDispatcher(build_sinks(cfg), Recorder(), backoff_seconds=0.05)
        dispatcher.start()
        dispatcher.submit(drift_alert())
        assert dispatcher.flush(10)
        dispatcher.close()
        assert dispatcher.join(5)
        requests = receiver.requests
    assert len(requests) == 3  # 500, 500, then 200
    assert len({r.body for r in requests}) == 1  # the same signed body each time
    for request in requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers[SIGNATURE_HEADER] == expected
    assert dispatcher.stats()["webhook"] == {
        "delivered": 1,
        "failed": 0,
        "retried": 2,
        "dropped": 0,
    }


def test_dispatcher_gives_up_after_retries_and_reports_it() -> None:
    events = Recorder()
    with webhook_receiver([500] * 10) as receiver:
        cfg = AlertsConfig(sinks=["webhook"], webhook=WebhookConfig(url=receiver.url, retries=2))
        dispatcher = AlertDispatcher(build_sinks(cfg), events, backoff_seconds=0.01)
        dispatcher.start()
        dispatcher.submit(drift_alert())
        assert dispatcher.flush(10)
        dispatcher.close()
        assert dispatcher.join(5)
        assert len(receiver.requests) == 3
    assert dispatcher.stats()["webhook"] == {
        "delivered": 0,
        "failed": 1,
        "retried": 2,
        "dropped": 0,
    }
    assert [e.attempt for e in events.of(ev.AlertDeliveryRetrying)] == [1, 2]
    [failed] = events.of(ev.AlertDeliveryFailed)
    assert failed.sink == "webhook" and failed.attempt == 3 and "500" in failed.error
    assert not failed.at_shutdown


def test_exponential_backoff_between_attempts() -> None:
    class Failing:
        name = "failing"
        retries = 3

        def __init__(self) -> None:
            self.times: list[float] = []

        def send(self, alert: Alert) -> None:
            self.times.append(time.monotonic())
            raise SinkError("down")

    sink = Failing()
    dispatcher = AlertDispatcher([sink], Recorder(), backoff_seconds=0.05, max_backoff_seconds=0.15)
    dispatcher.start()
    dispatcher.submit(drift_alert())
    assert dispatcher.flush(10)
    dispatcher.close()
    assert dispatcher.join(1)
    gaps = [b - a for a, b in zip(sink.times, sink.times[1:], strict=False)]
    assert len(gaps) == 3
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.15  # 0.05, 0.1, capped 0.15


class Blocking:
    """A sink stuck on a network call (a fake: a hung peer is hard to cause on loopback)."""

    name = "blocking"
    retries = 0

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.entered.set()
        self.release.wait(10)
        self.sent.append(alert)


def test_submit_never_blocks_and_a_stuck_sink_delays_no_other_sink() -> None:
    blocking = Blocking()
    with webhook_receiver() as receiver:
        webhook = WebhookSink(WebhookConfig(url=receiver.url))
        dispatcher = AlertDispatcher([blocking, webhook], Recorder())
        dispatcher.start()
        started = time.monotonic()
        for _ in range(5):
            dispatcher.submit(drift_alert())
        assert time.monotonic() - started < 1.0
        assert len(receiver.wait_for(5)) == 5  # the webhook got all while the other hangs
        assert blocking.sent == []
        blocking.release.set()
        assert dispatcher.flush(10)
        dispatcher.close()
        assert dispatcher.join(5)
    assert len(blocking.sent) == 5
    assert dispatcher.stats()["webhook"]["delivered"] == 5


def test_a_full_queue_drops_new_alerts_instead_of_blocking() -> None:
    blocking = Blocking()
    dispatcher = AlertDispatcher([blocking], Recorder(), queue_size=2)
    dispatcher.start()
    dispatcher.submit(drift_alert())
    assert blocking.entered.wait(5)  # one in flight
    started = time.monotonic()
    for _ in range(4):
        dispatcher.submit(drift_alert())
    assert time.monotonic() - started < 1.0
    blocking.release.set()
    assert dispatcher.flush(10)
    dispatcher.close()
    assert dispatcher.join(5)
    assert dispatcher.stats()["blocking"] == {
        "delivered": 3,
        "failed": 0,
        "retried": 0,
        "dropped": 2,
    }


def test_close_with_a_full_queue_delivers_what_waits_then_stops() -> None:
    """``close`` wakes a blocked worker with a stop sign; when the queue is full and the sign
    does not fit, the worker delivers what waits and stops once the queue is empty."""
    blocking = Blocking()
    dispatcher = AlertDispatcher([blocking], Recorder(), queue_size=2)
    dispatcher.start()
    dispatcher.submit(drift_alert())
    assert blocking.entered.wait(5)  # one in flight, then the queue is filled
    dispatcher.submit(drift_alert())
    dispatcher.submit(drift_alert())
    dispatcher.close()  # no room for the stop sign
    blocking.release.set()
    assert dispatcher.join(10)
    assert len(blocking.sent) == 3
    idle = AlertDispatcher([Blocking()], Recorder())
    idle.start()
    idle.close()  # an idle worker is woken by the stop sign
    assert idle.join(10)


def test_close_gives_up_on_retries_and_returns_in_time() -> None:
    class Down:
        name = "down"
        retries = 20

        def send(self, alert: Alert) -> None:
            raise SinkError("connection refused")

    dispatcher = AlertDispatcher([Down()], Recorder(), backoff_seconds=5.0)
    dispatcher.start()
    dispatcher.submit(drift_alert())
    time.sleep(0.2)  # first attempt failed, now waiting 5 s to retry
    started = time.monotonic()
    dispatcher.close()
    assert dispatcher.join(2)
    assert time.monotonic() - started < 1.5
    assert not dispatcher.is_alive()
    assert dispatcher.stats()["down"]["failed"] == 1
    dispatcher.submit(drift_alert())
    assert dispatcher.stats()["down"]["dropped"] == 1


def test_a_crashing_sink_does_not_kill_its_worker() -> None:
    class Buggy:
        name = "buggy"
        retries = 0
        calls = 0

        def send(self, alert: Alert) -> None:
            Buggy.calls += 1
            if Buggy.calls == 1:
                raise KeyError("bug")

    dispatcher = AlertDispatcher([Buggy()], Recorder())
    dispatcher.start()
    dispatcher.submit(drift_alert())
    dispatcher.submit(drift_alert())
    assert dispatcher.flush(5)
    assert dispatcher.is_alive()
    dispatcher.close()
    assert dispatcher.join(2)
    assert (
        dispatcher.stats()["buggy"]["failed"] == 1 and dispatcher.stats()["buggy"]["delivered"] == 1
    )


def test_log_sink_logs_firing_as_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="driftwarden.alerts"):
        LogSink().send(drift_alert())
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    fields = {k: record.__dict__[k] for k in ("alertname", "status", "model")}
    assert fields == {
        "alertname": "DriftwardenDatasetDrift",
        "status": "firing",
        "model": "iris",
    }


def test_alertmanager_payload_has_routing_labels_and_times() -> None:
    sink = AlertmanagerSink(
        AlertmanagerConfig(url="http://127.0.0.1:9093"),
        repeat_interval_seconds=600,
        generator_url="http://h:9108/metrics",
    )
    alert = drift_alert(clock=1_700_000_000.0)
    (firing,) = sink.payload(alert, now=1_700_000_100.0)
    assert firing["labels"] == {
        "alertname": "DriftwardenDatasetDrift",
        "severity": "warning",
        "model": "iris",
        "rule": "dataset_drift",
        "service": "driftwarden",
    }
    assert firing["annotations"] == alert.annotations
    assert firing["startsAt"] == "2023-11-14T22:13:20.000Z"
    assert firing["endsAt"] == "2023-11-14T22:55:00.000Z"  # now + 4 repeat intervals (2400 s)
    assert firing["generatorURL"] == "http://h:9108/metrics"
    resolved = Alert(**{**alert.__dict__, "status": "resolved", "ends_at": 1_700_000_200.0})
    assert sink.payload(resolved, now=1_700_000_300.0)[0]["endsAt"] == "2023-11-14T22:16:40.000Z"


def test_webhook_errors_never_show_the_secrets_in_its_url() -> None:
    secret_part = "/PathSecret-41?token=QuerySecret-42"
    with webhook_receiver([500]) as receiver:
        sink = WebhookSink(WebhookConfig(url=receiver.url + secret_part))
        with pytest.raises(SinkError) as answered:
            sink.send(drift_alert())
    refused = WebhookSink(
        WebhookConfig(url=f"http://127.0.0.1:{free_port()}{secret_part}", timeout_seconds=1)
    )
    with pytest.raises(SinkError) as unreachable:
        refused.send(drift_alert())
    for error in (answered.value, unreachable.value):
        assert "PathSecret-41" not in str(error) and "QuerySecret-42" not in str(error)
        assert "/***?***" in str(error)
    assert "PathSecret-41" not in repr(sink) and "QuerySecret-42" not in repr(sink)


def test_alertmanager_sends_basic_auth_from_the_named_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DW_TEST_AM_PASSWORD", "am-pass:with colon")
    with webhook_receiver() as receiver:
        base = receiver.url.removesuffix("/hook")
        cfg = AlertmanagerConfig(url=base, username="dw", password_env="DW_TEST_AM_PASSWORD")
        sink = AlertmanagerSink(cfg, repeat_interval_seconds=60)
        sink.send(drift_alert())
        (request,) = receiver.requests
    assert request.path == "/api/v2/alerts"
    scheme, _, value = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == "dw:am-pass:with colon"
    assert "am-pass" not in repr(sink) and "basic_auth=True" in repr(sink)


def test_alertmanager_without_credentials_sends_no_authorization() -> None:
    with webhook_receiver() as receiver:
        sink = AlertmanagerSink(
            AlertmanagerConfig(url=receiver.url.removesuffix("/hook")), repeat_interval_seconds=60
        )
        sink.send(drift_alert())
        (request,) = receiver.requests
    assert "Authorization" not in request.headers


def test_alertmanager_password_variable_unset_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DW_TEST_AM_PASSWORD", raising=False)
    cfg = AlertsConfig(
        sinks=["alertmanager"],
        alertmanager=AlertmanagerConfig(
            url="http://127.0.0.1:9093", username="dw", password_env="DW_TEST_AM_PASSWORD"
        ),
    )
    with pytest.raises(ConfigError, match="DW_TEST_AM_PASSWORD is not set"):
        build_sinks(cfg)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AlertmanagerConfig(url="http://dw:pw@127.0.0.1:9093"),
        lambda: AlertmanagerConfig(url="http://dw@127.0.0.1:9093"),
        lambda: WebhookConfig(url="https://bot:pw@hooks.example.com/x"),
    ],
)
def test_credentials_in_a_sink_url_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ValidationError, match=r"must not contain user info"):
        make()


def test_alertmanager_username_and_password_env_go_together() -> None:
    for partial in ({"username": "dw"}, {"password_env": "DW_TEST_AM_PASSWORD"}):
        with pytest.raises(ValidationError, match="set both username and password_env"):
            AlertmanagerConfig(url="http://127.0.0.1:9093", **partial)
