"""The real daemon's /metrics after real checks, parsed with prometheus-client's parser, and
its /healthz going unhealthy when the job loop is wedged by a hanging MLflow server.

Everything is real: ``driftwarden run`` as a subprocess, files renamed into the drop
directory, a model registered in the daemon's own sqlite MLflow store (so labelled drops
are validated), and, for the wedge, a TCP server that accepts MLflow's requests and never
answers (what a hung tracking server or a stuck load balancer looks like).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwarden import __version__
from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv

pytestmark = pytest.mark.integration

MODEL = "test-model"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(daemon: DaemonProcess, port: int) -> Samples:
    """``/metrics`` parsed: (sample name, labels) -> value."""
    status, text = daemon.get(port, "/metrics")
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


def wait_files(daemon: DaemonProcess, port: int, outcome: str, count: float) -> Samples:
    """Scrape until ``driftwarden_files_total{outcome}`` reaches ``count`` (the last step of a file job)."""
    found: dict[str, Samples] = {}

    def reached() -> bool:
        found["s"] = scrape(daemon, port)
        return (value(found["s"], "driftwarden_files_total", outcome=outcome) or 0) >= count

    daemon.wait_until(reached, timeout=60, what=f"files_total{{outcome={outcome}}} >= {count}")
    return found["s"]


def metrics_port(config: Path) -> int:
    text = config.read_text()
    section = text.split("[metrics]", 1)[1]
    return int(section.split("port =", 1)[1].split()[0])


def register_model(state: Path, frame: pd.DataFrame) -> str:
    """Train a small classifier, log and register it, point the ``production`` alias at it."""
    import mlflow
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    uri = f"sqlite:///{state / 'mlflow.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(uri)
        experiment_id = client.create_experiment(
            "train", (state / "mlartifacts" / "train").as_uri()
        )
        features = frame[["x1", "x2"]]
        model = LogisticRegression().fit(features, frame["target"])
        with mlflow.start_run(experiment_id=experiment_id):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(features, model.predict(features)),
                registered_model_name=MODEL,
            )
        version = str(info.registered_model_version)
        client.set_registered_model_alias(MODEL, "production", version)
    return version


@pytest.mark.slow
def test_metrics_after_real_checks_have_contract_names_labels_and_values(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    assert register_model(state, sample_frame(400, seed=1)) == "1"
    config = daemon_config(
        tmp_path,
        watch={"settle_seconds": 0.2},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 3600.0}},
        validation={"minimums": {"accuracy": 0.5}},
    )
    port = metrics_port(config)
    drop = tmp_path / "drop"
    daemon = DaemonProcess(config).start()
    try:
        daemon.wait_for(
            lambda e: e.get("msg") == "production model in force", timeout=90, what="model 1"
        )
        # A drifted, labelled drop with two columns the reference does not have.
        drifted = sample_frame(500, seed=2, shift=1.0)
        drifted["surprise"] = 1.5
        drifted["free_text"] = "hello"
        write_csv(drop / "drifted.csv", drifted)
        after_drift = wait_files(daemon, port, "processed", 1)

        write_csv(drop / "clean.csv", sample_frame(500, seed=3))
        after_clean = wait_files(daemon, port, "processed", 2)

        bad = sample_frame(50, seed=4)
        bad["x1"] = "not-a-number"
        write_csv(drop / "bad.csv", bad)
        after_bad = wait_files(daemon, port, "quarantined", 1)

        # The two checks' MLflow writes (drift + validation each) leave the outbox.
        def flushed() -> bool:
            pending = value(scrape(daemon, port), "driftwarden_mlflow_pending_writes")
            return pending == 0

        daemon.wait_until(flushed, timeout=90, what="driftwarden_mlflow_pending_writes 0")
    finally:
        assert daemon.stop() == 0

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


@pytest.mark.slow
def test_healthz_turns_unhealthy_while_a_hanging_mlflow_wedges_the_job_loop(
    tmp_path: Path,
) -> None:
    """The registry poll (a job) blocks on an MLflow server that never answers; a dropped
    file waits behind it. After the health state's 60 s without progress, /healthz is 503
    naming the job loop; once the server drops the connections, the loop turns over, the
    file is checked and /healthz is 200 again. /readyz stays 200 throughout.
    """
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
        port = metrics_port(config)
        daemon = DaemonProcess(config).start()
        try:
            assert daemon.get(port, "/healthz")[0] == 200
            write_csv(tmp_path / "drop" / "waiting.csv", sample_frame(200, seed=5))
            daemon.wait_until(
                lambda: jobs_pending(daemon, port) > 0,
                timeout=20,
                what="the file job queued behind the hanging poll",
            )
            started = time.monotonic()
            answer: dict[str, object] = {}

            def unhealthy() -> bool:
                answer["status"], answer["body"] = daemon.get(port, "/healthz")
                return answer["status"] == 503

            daemon.wait_until(unhealthy, timeout=90, what="/healthz 503")
            waited = time.monotonic() - started
            report = json.loads(str(answer["body"]))
            assert report["status"] == "unhealthy"
            assert report["components"]["jobs"]["state"] == "wedged"
            assert [p for p in report["problems"] if p.startswith("jobs: wedged")], report
            assert waited > 45  # not before the 60 s limit (minus the queueing time above)
            assert daemon.get(port, "/readyz")[0] == 200
            samples = scrape(daemon, port)
            assert value(samples, "driftwarden_files_total", outcome="processed") == 0

            release.set()  # the server hangs up: the poll fails, the loop moves on
            wait_files(daemon, port, "processed", 1)
            daemon.wait_until(
                lambda: daemon.get(port, "/healthz")[0] == 200, timeout=20, what="/healthz 200"
            )
            samples = scrape(daemon, port)
            errors = value(
                samples, "driftwarden_checks_total", model=MODEL, kind="registry", outcome="error"
            )
            assert errors == 1
        finally:
            release.set()
            assert daemon.stop() == 0


def jobs_pending(daemon: DaemonProcess, port: int) -> int:
    report = json.loads(daemon.get(port, "/healthz")[1])
    return int(report["components"]["jobs"]["pending"])
