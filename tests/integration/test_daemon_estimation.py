"""Every drop's performance estimated in the running daemon, before any label arrives.

A real in-process daemon with a model registered in its own sqlite MLflow store, its
held-out split logged beside it (``estimation.reference = "model"``). Unlabelled drops
whose rows crowd the decision boundary lower the model's accuracy: the daemon estimates it,
exports ``driftwarden_estimated_performance`` with its bounds and fires
``DriftwardenEstimatedPerformanceBelowMinimum`` with no label in sight. A later labelled
drop exports the estimate's error and logs estimated and realized values to MLflow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwarden.events import types as ev
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.models import register_model

pytestmark = pytest.mark.integration

MODEL = "test-model"
Start = Callable[..., InProcessDaemon]


def near_boundary(n: int, seed: int, labelled: bool) -> pd.DataFrame:
    """Rows whose x1 (the feature that decides the label) crowds around 0: a harder batch."""
    frame = sample_frame(n, seed=seed, target=False)
    rng = np.random.default_rng(seed + 100)
    frame["x1"] = rng.normal(0.0, 0.15, n).round(4)
    if labelled:
        frame["target"] = (frame["x1"] + rng.normal(0, 0.5, n) > 0).astype(int)
    return frame


def scrape(running: InProcessDaemon) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, text = running.get("/metrics")
    assert status == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def gauge(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str) -> float:
    return samples[(name, frozenset({"model": MODEL, "metric": "accuracy"}.items()))]


def start(tmp_path: Path, start_daemon: Start, **sections: dict[str, object]) -> InProcessDaemon:
    config = daemon_config(
        tmp_path,
        watch={"settle_seconds": 0.2},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 3600.0}},
        validation={"minimums": {"accuracy": 0.8}},
        **sections,
    )
    running = start_daemon(config)
    running.wait(ev.ModelInForce, timeout=90)
    return running


@pytest.mark.slow
def test_unlabelled_drops_are_estimated_and_alerted_before_labels_then_compared(
    tmp_path: Path, start_daemon: Start
) -> None:
    state = tmp_path / "state"
    held_out = sample_frame(400, seed=7)
    register_model(state, sample_frame(400, seed=1), MODEL, test_data=held_out)
    # Only the estimate may ask for a retrain here (the project is not one: the cycle fails).
    (tmp_path / "no_project").mkdir()
    retrain = {"enabled": True, "project_uri": str(tmp_path / "no_project")}
    running = start(tmp_path, start_daemon, retrain={**retrain, "triggers": ["estimated"]})
    drop = tmp_path / "drop"

    # A clean unlabelled drop: estimated near the evaluation set's accuracy, no alert.
    write_csv(drop / "clean.csv", sample_frame(500, seed=3, target=False))
    [clean] = running.wait(ev.PerformanceEstimated, lambda e: e.file.endswith("clean.csv"))
    assert clean.breached == ()
    assert clean.errors is None  # no labels
    low, high = clean.interval["accuracy"]
    assert high > 0.8 and low < clean.estimated["accuracy"] < high

    # Unlabelled drops crowding the boundary: estimated below the minimum, alert fires.
    write_csv(drop / "hard.csv", near_boundary(600, seed=4, labelled=False))
    [hard] = running.wait(ev.PerformanceEstimated, lambda e: e.file.endswith("hard.csv"))
    assert hard.breached == ("accuracy",)
    assert hard.interval["accuracy"][1] < 0.8
    [fired] = running.wait(
        ev.AlertNotified,
        lambda e: (
            e.alertname == "DriftwardenEstimatedPerformanceBelowMinimum" and e.status == "firing"
        ),
    )
    assert fired.model == MODEL
    [requested] = running.wait(ev.RetrainRequested)
    assert requested.trigger == "estimated"
    samples = scrape(running)
    assert gauge(samples, "driftwarden_estimated_performance") == pytest.approx(
        hard.estimated["accuracy"]
    )
    assert gauge(samples, "driftwarden_estimated_performance_upper") == pytest.approx(
        hard.interval["accuracy"][1]
    )
    assert gauge(samples, "driftwarden_estimated_performance_lower") == pytest.approx(
        hard.interval["accuracy"][0]
    )
    assert not running.events.of(ev.ValidationChecked)
    assert all(e.validation is None for e in running.events.of(ev.FileChecked))

    # The labels come: the estimate is compared with the truth, and the error exported.
    labelled = near_boundary(600, seed=5, labelled=True)
    write_csv(drop / "labelled.csv", labelled)
    [checked] = running.wait(ev.PerformanceEstimated, lambda e: e.file.endswith("labelled.csv"))
    assert checked.errors is not None
    realized = float(running.checked("labelled.csv").validation["accuracy"])  # type: ignore[index]
    assert checked.errors["accuracy"] == pytest.approx(
        checked.estimated["accuracy"] - realized, abs=1e-9
    )
    assert abs(checked.errors["accuracy"]) < 0.1
    assert gauge(scrape(running), "driftwarden_estimation_error") == pytest.approx(
        checked.errors["accuracy"]
    )

    # Estimated vs realized reach MLflow through the outbox.
    running.wait(ev.OutboxWritten, lambda e: e.kind == "estimation_run", count=3, timeout=90)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(running.settings.mlflow.tracking_uri)
    experiment = client.get_experiment_by_name(running.settings.mlflow.experiment_name)
    runs = client.search_runs(
        [experiment.experiment_id],
        "tags.`driftwarden.kind` = 'estimation' and tags.`driftwarden.file` = 'labelled.csv'",
    )
    [run] = runs
    metrics = run.data.metrics
    assert metrics["realized_accuracy"] == pytest.approx(realized)
    assert metrics["estimated_accuracy"] == pytest.approx(checked.estimated["accuracy"])
    assert metrics["estimation_error_accuracy"] == pytest.approx(checked.errors["accuracy"])


@pytest.mark.slow
def test_a_drop_the_estimate_cannot_read_is_quarantined_with_its_reason(
    tmp_path: Path, start_daemon: Start
) -> None:
    state = tmp_path / "state"
    register_model(state, sample_frame(400, seed=1), MODEL, test_data=sample_frame(400, seed=7))
    running = start(tmp_path, start_daemon)
    drop = tmp_path / "drop"
    # Probabilities for one class only: the evaluation set has two.
    bad = sample_frame(200, seed=3, target=False)
    bad["proba_1"] = 1.0
    write_csv(drop / "bad.csv", bad)
    [quarantined] = running.wait(ev.FileQuarantined, lambda e: e.file.endswith("bad.csv"))
    assert "proba_" in quarantined.reason or "classes" in quarantined.reason
    # The daemon carries on: the next drop is estimated.
    write_csv(drop / "next.csv", sample_frame(300, seed=4, target=False))
    running.wait(ev.PerformanceEstimated, lambda e: e.file.endswith("next.csv"))


@pytest.mark.slow
def test_a_model_without_a_held_out_split_is_checked_without_an_estimate(
    tmp_path: Path, start_daemon: Start
) -> None:
    register_model(tmp_path / "state", sample_frame(400, seed=1), MODEL)
    running = start(tmp_path, start_daemon)
    write_csv(tmp_path / "drop" / "a.csv", sample_frame(300, seed=3, target=False))
    write_csv(tmp_path / "drop" / "b.csv", sample_frame(300, seed=4, target=False))
    running.checked("a.csv")
    running.checked("b.csv")
    [why] = running.events.of(ev.EstimationUnavailable)  # once, not per drop
    assert why.model == MODEL and why.version == "1"
    assert "test_data" in why.why
    assert not running.events.of(ev.PerformanceEstimated)
