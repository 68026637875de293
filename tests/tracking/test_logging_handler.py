"""The MLflow logging handler: per-level counts and the WARNING+ artifact, one run, batched."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import mlflow
import pytest

from driftwarden.errors import UsageError
from driftwarden.tracking.logging_handler import MlflowLogHandler, log_records_to_run
from tests.tracking.stores import Store

log = logging.getLogger("driftwarden.test.handler")


@pytest.fixture
def quiet_logger() -> logging.Logger:
    """A logger at DEBUG that does not propagate to the test's other handlers."""
    logger = logging.getLogger("driftwarden.test.isolated")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger


def test_counts_per_level_and_attaches_warnings(store: Store, quiet_logger: logging.Logger) -> None:
    mlflow.set_experiment(experiment_id=store.train_experiment_id)
    with mlflow.start_run() as run, log_records_to_run(logger=quiet_logger) as handler:
        quiet_logger.debug("d")
        for i in range(3):
            quiet_logger.info("info %d", i)
        quiet_logger.warning("disk at %d%%", 91)
        try:
            raise ValueError("boom")
        except ValueError:
            quiet_logger.exception("failed to parse")
        assert handler.counts()["info"] == 3

    data = store.client.get_run(run.info.run_id).data
    assert data.metrics == {
        "log_records_debug": 1.0,
        "log_records_info": 3.0,
        "log_records_warning": 1.0,
        "log_records_error": 1.0,
        "log_records_critical": 0.0,
    }
    text = Path(store.client.download_artifacts(run.info.run_id, "logs/warnings.log")).read_text()
    assert "WARNING driftwarden.test.isolated" in text and "disk at 91%" in text
    assert "ValueError: boom" in text  # the traceback comes along
    assert "info 0" not in text  # below WARNING is counted, not kept
    assert not any(isinstance(h, MlflowLogHandler) for h in quiet_logger.handlers)  # detached


def test_no_artifact_when_nothing_warned_and_no_extra_runs(
    store: Store, quiet_logger: logging.Logger
) -> None:
    with (
        mlflow.start_run(experiment_id=store.train_experiment_id) as run,
        log_records_to_run(logger=quiet_logger),
    ):
        for _ in range(500):
            quiet_logger.info("many records, still one run")

    client = store.client
    assert client.list_artifacts(run.info.run_id) == []
    assert client.get_run(run.info.run_id).data.metrics["log_records_info"] == 500.0
    runs = client.search_runs([store.train_experiment_id])
    assert [r.info.run_id for r in runs] == [run.info.run_id]
    # One value per metric: written in one batch at the end, not per record.
    assert len(client.get_metric_history(run.info.run_id, "log_records_info")) == 1


def test_records_from_other_threads_are_counted(store: Store, quiet_logger: logging.Logger) -> None:
    with (
        mlflow.start_run(experiment_id=store.train_experiment_id) as run,
        log_records_to_run(logger=quiet_logger),
    ):
        workers = [
            threading.Thread(target=lambda: [quiet_logger.warning("w") for _ in range(50)])
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    metrics = store.client.get_run(run.info.run_id).data.metrics
    assert metrics["log_records_warning"] == 200.0


def test_max_lines_bounds_the_artifact(store: Store, quiet_logger: logging.Logger) -> None:
    run = store.client.create_run(store.train_experiment_id)
    handler = MlflowLogHandler(run.info.run_id, store.client, max_lines=2)
    quiet_logger.addHandler(handler)
    try:
        for i in range(5):
            quiet_logger.error("e%d", i)
    finally:
        quiet_logger.removeHandler(handler)
    handler.write_to_run()
    handler.write_to_run()  # second call writes nothing more

    text = Path(store.client.download_artifacts(run.info.run_id, "logs/warnings.log")).read_text()
    assert "e0" in text and "e1" in text and "e2" not in text
    assert "3 more records left out" in text
    history = store.client.get_metric_history(run.info.run_id, "log_records_error")
    assert [m.value for m in history] == [5.0]


def test_body_exception_wins_and_counts_are_still_written(
    store: Store, quiet_logger: logging.Logger
) -> None:
    run = store.client.create_run(store.train_experiment_id)
    with (
        pytest.raises(RuntimeError, match="body failed"),
        log_records_to_run(run.info.run_id, client=store.client, logger=quiet_logger),
    ):
        quiet_logger.error("before the failure")
        raise RuntimeError("body failed")

    assert store.client.get_run(run.info.run_id).data.metrics["log_records_error"] == 1.0


def test_needs_a_run(quiet_logger: logging.Logger) -> None:
    assert mlflow.active_run() is None
    with (
        pytest.raises(UsageError, match="active MLflow run"),
        log_records_to_run(logger=quiet_logger),
    ):
        pass
