"""POST routes on the ops endpoint (``/hooks/mlflow`` is one): the real server, a recording route.

The route here only records what reached it: the daemon's route (``RegistryHook``) is tested
end to end in tests/integration/test_hooks_endpoint.py.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterable, Iterator

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from driftwarden.observability.http import MAX_POST_BYTES, HealthState, MetricsServer
from driftwarden.observability.metrics import Metrics


class Recording:
    """A route answering ``status``; records (headers, body) of each call."""

    def __init__(self, status: int = 200, on: bool = True, fail: bool = False) -> None:
        self.status, self.on, self.fail = status, on, fail
        self.calls: list[tuple[dict[str, str], bytes]] = []

    def enabled(self) -> bool:
        return self.on

    def __call__(self, headers: Iterable[tuple[str, str]] | object, body: bytes) -> int:
        self.calls.append((dict(headers.items()), body))  # type: ignore[attr-defined]
        if self.fail:
            raise RuntimeError("route broke")
        return self.status


@pytest.fixture
def routes() -> dict[str, Recording]:
    return {"/hook": Recording(), "/off": Recording(on=False), "/broken": Recording(fail=True)}


@pytest.fixture
def server(routes: dict[str, Recording]) -> Iterator[MetricsServer]:
    health = HealthState(wedged_after_seconds=30)
    srv = MetricsServer(Metrics(CollectorRegistry()), health, "127.0.0.1", 0, routes)
    srv.start()
    try:
        yield srv
    finally:
        srv.close()
        srv.join(5)


def send(
    server: MetricsServer, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One POST on a fresh connection; ``headers`` may declare a length the body lacks."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("POST", path)
        sent = {"Content-Length": str(len(body)), **(headers or {})}
        for key, value in sent.items():
            connection.putheader(key, value)
        connection.endheaders(body if body else None)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_route_gets_the_headers_and_body_and_answers(
    server: MetricsServer, routes: dict[str, Recording]
) -> None:
    status, _ = send(server, "/hook?x=1", b'{"a": 1}', {"X-MLflow-Delivery-Id": "d-1"})
    assert status == 200
    [(headers, body)] = routes["/hook"].calls
    assert body == b'{"a": 1}' and headers["X-MLflow-Delivery-Id"] == "d-1"


def test_204_has_no_body(server: MetricsServer, routes: dict[str, Recording]) -> None:
    routes["/hook"].status = 204
    assert send(server, "/hook", b"{}") == (204, b"")


@pytest.mark.parametrize("path", ["/off", "/nowhere", "/metrics"])
def test_a_disabled_or_unknown_route_is_404(
    server: MetricsServer, routes: dict[str, Recording], path: str
) -> None:
    assert send(server, path, b"{}")[0] == 404
    assert routes["/off"].calls == []


def test_a_body_too_large_or_without_length_is_refused_unread(
    server: MetricsServer, routes: dict[str, Recording]
) -> None:
    assert send(server, "/hook", headers={"Content-Length": str(MAX_POST_BYTES + 1)})[0] == 413
    assert send(server, "/hook", headers={"Content-Length": "many"})[0] == 411
    assert routes["/hook"].calls == []
    # The server goes on serving.
    assert send(server, "/hook", b"{}")[0] == 200


def test_a_route_that_raises_answers_500_and_the_server_goes_on(server: MetricsServer) -> None:
    assert send(server, "/broken", b"{}")[0] == 500
    assert send(server, "/hook", b"{}")[0] == 200


def test_forget_model_removes_every_series_of_that_model_only() -> None:
    metrics = Metrics(CollectorRegistry())
    for model in ("kept", "gone"):
        metrics.initialise(model)
        metrics.set_production_version(model, 3)
        metrics.observe_check(model, "drift", "ok", 0.1)
        metrics.observe_validation(model, {"accuracy": 0.9})
    metrics.observe_file("processed")
    metrics.forget_model("gone")
    text = generate_latest(metrics.registry).decode()
    models: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if "model" in sample.labels:
                models.setdefault(sample.name, set()).add(sample.labels["model"])
    assert all(seen == {"kept"} for seen in models.values()), models
    for name in (
        "driftwarden_checks_total",
        "driftwarden_production_model_version",
        "driftwarden_validation_metric",
        "driftwarden_last_success_timestamp_seconds",
        "driftwarden_dataset_drift",
        "driftwarden_alerts_total",
    ):
        assert models[name] == {"kept"}
    assert 'driftwarden_files_total{outcome="processed"} 1.0' in text
