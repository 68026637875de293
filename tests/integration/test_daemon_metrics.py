"""The daemon's /metrics after real checks, parsed with prometheus-client's parser, and its
/healthz going unhealthy when the job loop is wedged by a hanging MLflow server.

The daemon runs in process with its real parts (endpoint, watch, worker, ledger, outbox);
files are renamed into the drop directory, a model is registered in the daemon's own
sqlite MLflow store (so labelled drops are validated), and, for the wedge, a TCP server
accepts MLflow's requests and never answers (what a hung tracking server or a stuck load
balancer looks like).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwarden import __version__
from driftwarden.daemon.jobs import deadline as job_deadlines
from driftwarden.daemon.service import assembly
from driftwarden.events import types as ev
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.models import register_model

pytestmark = pytest.mark.integration

MODEL = "test-model"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
Start = Callable[..., InProcessDaemon]


def scrape(running: InProcessDaemon) -> Samples:
    """``/metrics`` parsed: (sample name, labels) -> value."""
    status, text = running.get("/metrics")
    assert status == 200
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (sample, labels) in samples if sample == name]


def wait_processed(running: InProcessDaemon, count: int) -> Samples:
    """Scrape until ``driftwarden_files_total{outcome="processed"}`` reaches ``count`` (it moves
    after the check's metrics and alerts, just before the file is moved)."""
    deadline = time.monotonic() + 30
    while True:
        samples = scrape(running)
        if (value(samples, "driftwarden_files_total", outcome="processed") or 0) >= count:
            return samples
        assert time.monotonic() < deadline, f"files_total{{processed}} never reached {count}"
        time.sleep(0.05)


@pytest.mark.slow
def test_metrics_after_real_checks_have_contract_names_labels_and_values(
    tmp_path: Path, start_daemon: Start
) -> None:
    state = tmp_path / "state"
    assert register_model(state, sample_frame(400, seed=1), MODEL) == "1"
    config = daemon_config(
        tmp_path,
        watch={"settle_seconds": 0.2},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 3600.0}},
        validation={"minimums": {"accuracy": 0.5}},
    )
    running = start_daemon(config)
    drop = tmp_path / "drop"
    running.wait(ev.ModelInForce, timeout=90)
    # A drifted, labelled drop with two columns the reference does not have.
    drifted = sample_frame(500, seed=2, shift=1.0)
    drifted["surprise"] = 1.5
    drifted["free_text"] = "hello"
    write_csv(drop / "drifted.csv", drifted)
    after_drift = wait_processed(running, 1)

    write_csv(drop / "clean.csv", sample_frame(500, seed=3))
    after_clean = wait_processed(running, 2)

    bad = sample_frame(50, seed=4)
    bad["x1"] = "not-a-number"
    write_csv(drop / "bad.csv", bad)
    running.wait(ev.FileQuarantined)
    after_bad = scrape(running)

    # The two checks' MLflow writes (drift + validation each) leave the outbox.
    running.wait(ev.OutboxWritten, count=4, timeout=90)
    deadline = time.monotonic() + 30
    while value(scrape(running), "driftwarden_mlflow_pending_writes") != 0:
        assert time.monotonic() < deadline, "driftwarden_mlflow_pending_writes never 0"
        running.parts.flusher.wake()
        time.sleep(0.1)

    s = after_drift
    assert value(s, "driftwarden_build_info", version=__version__) == 1
    # Feature labels come from the reference schema only: no series for the extra columns.
    for name in ("driftwarden_feature_drift_statistic", "driftwarden_feature_drift_p_value"):
        labels = series(s, name)
        assert sorted((x["feature"], x["test"]) for x in labels) == [
            ("cat", "chi2"),
            ("x1", "ks"),
            ("x2", "ks"),
        ], name
        assert {x["model"] for x in labels} == {MODEL}
    assert not [k for k in s if "surprise" in str(k) or "free_text" in str(k)]
    x1_p = value(s, "driftwarden_feature_drift_p_value", model=MODEL, feature="x1", test="ks")
    x2_p = value(s, "driftwarden_feature_drift_p_value", model=MODEL, feature="x2", test="ks")
    assert x1_p is not None and x1_p < 1e-6  # x1 moved by one sd
    assert x2_p is not None and x2_p > 1e-3
    x1_d = value(s, "driftwarden_feature_drift_statistic", model=MODEL, feature="x1", test="ks")
    assert x1_d is not None and 0.2 < x1_d <= 1.0  # KS distance
    assert value(s, "driftwarden_dataset_drift", model=MODEL) == 1
    assert value(s, "driftwarden_drifted_features", model=MODEL) == 1
    # Validation of the production model on the labelled drop.
    accuracy = value(s, "driftwarden_validation_metric", model=MODEL, metric="accuracy")
    assert accuracy is not None and 0.5 < accuracy <= 1.0
    assert "f1" in {x["metric"] for x in series(s, "driftwarden_validation_metric")}
    assert value(s, "driftwarden_production_model_version", model=MODEL) == 1
    assert value(s, "driftwarden_checks_total", model=MODEL, kind="drift", outcome="drift") == 1
    assert value(s, "driftwarden_checks_total", model=MODEL, kind="drift", outcome="ok") == 0
    assert value(s, "driftwarden_checks_total", model=MODEL, kind="validation", outcome="ok") == 1
    assert value(s, "driftwarden_checks_total", model=MODEL, kind="registry", outcome="ok") == 1
    assert value(s, "driftwarden_check_duration_seconds_count", kind="drift") == 1
    assert value(s, "driftwarden_check_duration_seconds_count", kind="validation") == 1
    assert value(s, "driftwarden_check_duration_seconds_bucket", kind="drift", le="+Inf") == 1
    assert (value(s, "driftwarden_check_duration_seconds_sum", kind="drift") or 0) > 0
    assert value(s, "driftwarden_files_total", outcome="processed") == 1
    assert value(s, "driftwarden_files_total", outcome="quarantined") == 0
    last = value(s, "driftwarden_last_success_timestamp_seconds", model=MODEL, kind="drift")
    assert last is not None and abs(last - time.time()) < 300
    pending = value(s, "driftwarden_mlflow_pending_writes")
    assert pending is not None and 0 <= pending <= 2  # drift + validation of this file
    assert value(s, "driftwarden_alerts_total", model=MODEL, rule="dataset_drift") == 1

    s = after_clean
    assert value(s, "driftwarden_dataset_drift", model=MODEL) == 0
    assert value(s, "driftwarden_drifted_features", model=MODEL) == 0
    assert value(s, "driftwarden_checks_total", model=MODEL, kind="drift", outcome="ok") == 1
    assert value(s, "driftwarden_checks_total", model=MODEL, kind="drift", outcome="drift") == 1
    assert value(s, "driftwarden_check_duration_seconds_count", kind="drift") == 2
    assert value(s, "driftwarden_files_total", outcome="processed") == 2
    x1_clean = value(s, "driftwarden_feature_drift_p_value", model=MODEL, feature="x1", test="ks")
    assert x1_clean is not None and x1_clean > 1e-3

    s = after_bad
    assert value(s, "driftwarden_files_total", outcome="quarantined") == 1
    assert value(s, "driftwarden_files_total", outcome="processed") == 2
    # A bad file is not a check: the drift gauges still show the clean file's result.
    assert value(s, "driftwarden_dataset_drift", model=MODEL) == 0
    assert value(s, "driftwarden_check_duration_seconds_count", kind="drift") == 2
    assert (drop / "quarantine" / "bad.csv").exists()


@contextmanager
def hanging_server() -> Iterator[tuple[int, threading.Event]]:
    """A TCP server on 127.0.0.1 that accepts connections, reads, and never answers.

    Setting the yielded event (or leaving the block) closes every connection, so a client
    blocked on it gets a connection error at once.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    release = threading.Event()
    held: list[socket.socket] = []

    def hold() -> None:
        while not release.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
        for conn in held:
            conn.close()
        listener.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], release
    finally:
        release.set()
        thread.join(5)


def jobs_pending(running: InProcessDaemon) -> int:
    report = json.loads(running.get("/healthz")[1])
    return int(report["components"]["jobs:test-model"]["pending"])


@pytest.mark.slow
def test_healthz_turns_unhealthy_while_a_hanging_mlflow_wedges_the_job_loop(
    tmp_path: Path, start_daemon: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry poll (a job) blocks on an MLflow server that never answers; a dropped
    file waits behind it. After the health state's limit without progress, /healthz is 503
    naming the job loop; once the server drops the connections, the loop turns over, the
    file is checked and /healthz is 200 again. /readyz stays 200 throughout.

    The daemon's 60 s limit, and the registry poll's own deadline (300 s: a job within its
    deadline is not wedged), are shortened to 3 s so the test does not wait minutes
    (HealthState's own tests cover the limit with an injected clock).
    """
    limit = 3.0
    monkeypatch.setattr(assembly, "WEDGED_AFTER_SECONDS", limit)
    monkeypatch.setitem(job_deadlines.KIND_SECONDS, "registry_poll", limit)
    with hanging_server() as (mlflow_port, release):
        config = daemon_config(
            tmp_path,
            mlflow={
                "tracking_uri": f"http://127.0.0.1:{mlflow_port}",
                "http_request_timeout_seconds": 300.0,
                "http_request_max_retries": 0,
            },
            watch={"settle_seconds": 0.2},
            schedule={"registry_poll": {"enabled": True, "interval_seconds": 3600.0}},
        )
        running = start_daemon(config)
        try:
            assert running.get("/healthz")[0] == 200
            write_csv(tmp_path / "drop" / "waiting.csv", sample_frame(200, seed=5))
            deadline = time.monotonic() + 20
            while jobs_pending(running) == 0:  # the file job queued behind the hanging poll
                assert time.monotonic() < deadline, "the file job never queued"
                time.sleep(0.05)
            started = time.monotonic()
            assert running.get("/healthz")[0] == 200  # work waits, but not for long yet
            answer: dict[str, object] = {}
            deadline = started + 30
            while True:
                answer["status"], answer["body"] = running.get("/healthz")
                if answer["status"] == 503:
                    break
                assert time.monotonic() < deadline, "/healthz never turned 503"
                time.sleep(0.1)
            assert time.monotonic() - started >= limit * 0.5
            report = json.loads(str(answer["body"]))
            assert report["status"] == "unhealthy"
            assert report["components"]["jobs:test-model"]["state"] == "wedged"
            assert [p for p in report["problems"] if p.startswith("jobs:test-model: wedged")], (
                report
            )
            assert running.get("/readyz")[0] == 200
            assert value(scrape(running), "driftwarden_files_total", outcome="processed") == 0

            release.set()  # the server hangs up: the poll fails, the loop moves on
            running.checked("waiting.csv")
            deadline = time.monotonic() + 20
            while running.get("/healthz")[0] != 200:
                assert time.monotonic() < deadline, "/healthz never back to 200"
                time.sleep(0.1)
            samples = scrape(running)
            errors = value(
                samples, "driftwarden_checks_total", model=MODEL, kind="registry", outcome="error"
            )
            assert errors == 1
        finally:
            release.set()
