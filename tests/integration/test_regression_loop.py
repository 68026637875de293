"""A regression model's whole loop through a real daemon: a shifted drop's error is estimated
past its maximum (and measured, once its labels are there), a retrain runs the regression
example project with `mlflow run`, the gate (lower RMSE wins) promotes the challenger, and the
registry watcher brings it into force.

Everything is real: a sqlite MLflow store, `examples/regression_project` (the champion
trained by its ``train.py`` in process, the challenger by the daemon's retrain with
`mlflow run`), the daemon in process with its events and /metrics.

The data: ``target = 3 x1 + noise``, the noise small where ``x2 < 0.5`` and large above,
so the champion's held-out split shows where its errors are large. The shifted drops come
from ``x2 > 0.5`` (a covariate shift into the noisy region: the loss model sees it without
labels) and there the new world adds 25 to the target (a concept shift the labels reveal,
and which a model retrained on the new drop learns).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.load import load_settings
from driftwarden.events import types as ev
from tests.remediation.fixtures import write_config
from tests.support.daemon_proc import daemon_config, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_store import fresh_store
from tests.tracking.stores import load_train_module

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "examples" / "regression_project"
MODEL = "regression-loop"
MAX_MAE = 5.5


def world(n: int, seed: int, shifted: bool, labelled: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x2 = rng.normal(1.5, 0.4, n) if shifted else rng.normal(0.0, 1.0, n)
    frame = pd.DataFrame(
        {
            "x1": rng.uniform(0, 10, n).round(4),
            "x2": x2.round(4),
            "x3": rng.normal(0, 1, n).round(4),
        }
    )
    if labelled:
        noisy = frame["x2"].to_numpy() > 0.5
        noise = rng.normal(0, np.where(noisy, 15.0, 1.0))
        concept = np.where(noisy, 25.0, 0.0) if shifted else 0.0
        frame["target"] = (3 * frame["x1"] + noise + concept).round(4)
    return frame


def retrain_section() -> dict[str, Any]:
    return {
        "project_uri": str(PROJECT),
        "parameters": {"num_trees": 30, "seed": 1},
        "timeout_seconds": 300.0,
        "cooldown_seconds": 600.0,
        "register_threshold": -10.0,
        "holdout_fraction": 0.3,
        "recent_files": 1,
        "reference_share": 0.1,
        "experiment_name": "regression-retrain",
        "promotion": {"metric": "rmse", "min_improvement": 0.0},
    }


def bootstrap(root: Path) -> dict[str, str]:
    """The champion: the project's ``train.py`` run in process on the old world (the settings a
    retrain uses), registered as version 1 under the alias. Returns the ``[mlflow]`` section of
    its store. (A first remediation cycle promoting a model when there is no champion yet is
    tested with the classifier's session champion, tests/support/champion.py.)"""
    from driftwarden.remediation.promote import move_alias
    from driftwarden.tracking.client import configure_mlflow, ensure_experiment
    from driftwarden.tracking.registry import register_run

    root.mkdir(parents=True, exist_ok=True)
    reference = root / "old_world.csv"
    world(1000, seed=0, shifted=False).to_csv(reference, index=False)
    mlflow = {
        "tracking_uri": f"sqlite:///{fresh_store(root / 'mlflow.db')}",
        "artifact_location": (root / "artifacts").as_uri(),
    }
    config = write_config(
        root / "bootstrap.toml",
        {
            "mlflow": mlflow,
            "model": {"name": MODEL, "task": "regression"},
            "reference": {"source": "file", "path": str(reference)},
            "state": {"directory": str(root / "bootstrap-state")},
        },
    )
    settings = load_settings(config, env={})
    client = configure_mlflow(settings)
    ensure_experiment(client, "bootstrap", mlflow["artifact_location"])
    argv = ["--data-path", str(reference), "--experiment-name", "bootstrap"]
    for name, value in retrain_section()["parameters"].items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    run_id = load_train_module(PROJECT).main(argv)
    assert str(register_run(client, run_id, MODEL).version) == "1"
    move_alias(client, settings, "1", None, by="test setup")
    return mlflow


def test_shifted_drop_breaches_estimated_and_measured_error_retrains_and_promotes(
    tmp_path: Path, start_daemon: Callable[..., InProcessDaemon]
) -> None:
    mlflow = bootstrap(tmp_path / "store")
    config = daemon_config(
        tmp_path,
        mlflow=mlflow,
        model={"name": MODEL, "target": "target", "task": "regression"},
        reference={"source": "model"},
        watch={"settle_seconds": 0.2},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 2.0}},
        validation={"maximums": {"mae": MAX_MAE}},
        retrain={**retrain_section(), "enabled": True, "triggers": ["estimated", "validation"]},
    )
    drop = tmp_path / "drop"
    running = start_daemon(config)
    running.wait(ev.ModelInForce, lambda e: e.version == "1", timeout=120)

    # The old world, unlabelled: estimated within the maximum.
    write_csv(drop / "clean.csv", world(400, seed=10, shifted=False, labelled=False))
    [clean] = running.wait(
        ev.PerformanceEstimated, lambda e: e.file.endswith("clean.csv"), timeout=120
    )
    assert clean.method == "iw-dle" and clean.breached == ()

    # The shifted drop: its error estimated past the maximum (labels unused), then measured.
    write_csv(drop / "shifted.csv", world(400, seed=20, shifted=True))
    [estimated] = running.wait(
        ev.PerformanceEstimated, lambda e: e.file.endswith("shifted.csv"), timeout=120
    )
    assert "mae" in estimated.breached
    assert estimated.interval["mae"][0] > MAX_MAE
    shifted = running.checked("shifted.csv", timeout=60)
    assert shifted.validation is not None and shifted.validation["mae"] > MAX_MAE
    assert estimated.errors is not None  # the labels came with it: estimate vs realized
    running.wait(
        ev.AlertNotified,
        lambda e: (
            e.alertname == "DriftwardenEstimatedPerformanceBelowMinimum" and e.status == "firing"
        ),
    )
    running.wait(
        ev.AlertNotified,
        lambda e: e.alertname == "DriftwardenValidationBelowMinimum" and e.status == "firing",
    )

    # One retrain (the validation breach joins the estimated one), promoted by the gate.
    [requested] = running.wait(ev.RetrainRequested, timeout=60)
    assert requested.trigger == "estimated"
    [decision] = running.wait(ev.RetrainDecided, timeout=420)
    assert decision.outcome == "promoted", decision
    running.wait(ev.ModelInForce, lambda e: e.version == "2", timeout=120)

    # The new world, fresh labels: the promoted model's error is far below the champion's.
    write_csv(drop / "fresh.csv", world(400, seed=40, shifted=True))
    fresh = running.checked("fresh.csv", timeout=120)
    assert fresh.validation is not None
    assert fresh.validation["mae"] < 0.7 * shifted.validation["mae"]
