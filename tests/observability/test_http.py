"""/metrics, /healthz and /readyz served by a real MetricsServer on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from driftwarden.config.model import MetricsConfig
from driftwarden.observability.http import HealthState, MetricsServer
from driftwarden.observability.metrics import Metrics


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) without raising on 4xx/5xx."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def health(clock: FakeClock) -> HealthState:
    return HealthState(wedged_after_seconds=30, clock=clock)


@pytest.fixture
def server(health: HealthState) -> Iterator[MetricsServer]:
    srv = MetricsServer(Metrics(CollectorRegistry()), health, "127.0.0.1", 0)
    srv.start()
    try:
        yield srv
    finally:
        srv.close()
        srv.join(5)


def test_constructor_binds_nothing_and_starts_no_thread(health: HealthState) -> None:
    before = threading.active_count()
    srv = MetricsServer(Metrics(CollectorRegistry()), health, "127.0.0.1", 0)
    assert threading.active_count() == before
    assert srv.port == 0 and not srv.is_alive()


def test_port_zero_binds_a_free_loopback_port(server: MetricsServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.is_alive()


def test_metrics_endpoint_serves_the_injected_registry(server: MetricsServer) -> None:
    server.metrics.observe_check("iris", "drift", "drift", duration_seconds=0.5, at=123.0)
    server.metrics.dataset_drift.labels(model="iris").set(1)
    status, content_type, body = get(server.url + "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert found[("driftwarden_dataset_drift", (("model", "iris"),))] == 1
    key = ("driftwarden_checks_total", (("kind", "drift"), ("model", "iris"), ("outcome", "drift")))
    assert found[key] == 1
    assert (
        found[
            ("driftwarden_last_success_timestamp_seconds", (("kind", "drift"), ("model", "iris")))
        ]
        == 123.0
    )


def test_openmetrics_is_served_when_asked_for(server: MetricsServer) -> None:
    request = urllib.request.Request(
        server.url + "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        assert response.read().decode().rstrip().endswith("# EOF")


def test_unknown_path_is_404(server: MetricsServer) -> None:
    status, _, body = get(server.url + "/nope")
    assert status == 404 and "/metrics" in body


def test_readyz_turns_ready_after_config_and_scan(
    server: MetricsServer, health: HealthState
) -> None:
    status, _, body = get(server.url + "/readyz")
    assert status == 503
    assert json.loads(body)["problems"] == ["config not loaded", "start-up scan not done"]
    health.mark_config_loaded()
    status, _, body = get(server.url + "/readyz")
    assert status == 503 and json.loads(body)["problems"] == ["start-up scan not done"]
    health.mark_scan_done()
    status, _, body = get(server.url + "/readyz")
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_healthz_turns_503_when_the_loop_is_wedged(
    server: MetricsServer, health: HealthState, clock: FakeClock
) -> None:
    health.register("loop")
    health.heartbeat("loop", pending=0)
    assert get(server.url + "/healthz")[0] == 200
    # work arrives and the loop keeps turning: healthy
    health.set_pending("loop", 3)
    clock.now += 20
    health.heartbeat("loop", pending=2)
    clock.now += 20
    assert get(server.url + "/healthz")[0] == 200
    # no progress for longer than the limit with work pending: wedged
    clock.now += 11
    status, _, body = get(server.url + "/healthz")
    report = json.loads(body)
    assert status == 503
    assert report["components"]["loop"]["state"] == "wedged"
    assert "loop: wedged: 2 pending, no progress for 31s" in report["problems"][0]
    # progress again: healthy
    health.heartbeat("loop", pending=1)
    assert get(server.url + "/healthz")[0] == 200


def test_idle_loop_is_not_wedged(health: HealthState, clock: FakeClock) -> None:
    health.heartbeat("loop", pending=0)
    clock.now += 10_000  # idle for hours, nothing pending
    assert health.health().ok
    # work arrives after a long idle period: the clock starts when it arrived
    health.set_pending("loop", 1)
    clock.now += 29
    assert health.health().ok
    clock.now += 2
    assert not health.health().ok


def test_a_degraded_condition_keeps_healthz_200_and_makes_readyz_503(
    server: MetricsServer, health: HealthState
) -> None:
    health.mark_config_loaded()
    health.mark_scan_done()
    health.set_degraded("state", "not writable: disk full")
    status, _, body = get(server.url + "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "degraded"
    assert json.loads(body)["degraded"] == ["state: not writable: disk full"]
    status, _, body = get(server.url + "/readyz")
    assert status == 503 and json.loads(body)["problems"] == ["state: not writable: disk full"]
    health.set_degraded("state", None)
    assert json.loads(get(server.url + "/healthz")[2])["status"] == "ok"
    assert get(server.url + "/readyz")[0] == 200


def test_a_quiet_allowance_defers_wedged_until_it_ends(
    health: HealthState, clock: FakeClock
) -> None:
    health.set_pending("jobs", 2)
    health.allow_quiet("jobs", clock.now + 600)  # a long job with its own deadline
    clock.now += 300
    assert health.health().ok
    clock.now += 301
    assert not health.health().ok


def test_dead_components_make_healthz_503(server: MetricsServer, health: HealthState) -> None:
    alive = {"watcher": True}
    health.register("watcher", alive=lambda: alive["watcher"])
    health.register("metrics", alive=server.is_alive)
    assert get(server.url + "/healthz")[0] == 200
    alive["watcher"] = False
    status, _, body = get(server.url + "/healthz")
    assert status == 503 and json.loads(body)["problems"] == ["watcher: not alive"]
    alive["watcher"] = True
    health.mark_dead("scheduler", "RuntimeError: boom")
    status, _, body = get(server.url + "/healthz")
    assert status == 503 and json.loads(body)["problems"] == ["scheduler: dead: RuntimeError: boom"]


def test_a_probe_that_raises_counts_as_dead(health: HealthState) -> None:
    def probe() -> bool:
        raise RuntimeError("cannot tell")

    health.register("outbox", alive=probe)
    report = health.health()
    assert not report.ok and report.problems == ["outbox: not alive"]


def test_close_releases_the_port(health: HealthState) -> None:
    srv = MetricsServer(Metrics(CollectorRegistry()), health, "127.0.0.1", 0)
    srv.start()
    port = srv.port
    srv.close()
    assert srv.join(5) and not srv.is_alive()
    srv.close()  # twice is fine
    again = MetricsServer(Metrics(CollectorRegistry()), health, "127.0.0.1", port)
    again.start()
    try:
        assert get(again.url + "/healthz")[0] == 200
    finally:
        again.close()
        again.join(5)


def test_a_taken_port_fails_at_start(server: MetricsServer, health: HealthState) -> None:
    other = MetricsServer(Metrics(CollectorRegistry()), health, "127.0.0.1", server.port)
    with pytest.raises(OSError):
        other.start()


def test_loopback_is_the_default_address(health: HealthState) -> None:
    assert MetricsServer(Metrics(CollectorRegistry()), health).address == "127.0.0.1"
    assert MetricsConfig().address == "127.0.0.1"
