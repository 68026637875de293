"""The registry watcher in a real daemon: a moved alias brings the new model and its reference into force."""

from __future__ import annotations

import signal
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from driftwarden.state.sqlite.ledger import Ledger
from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "test-model"


def _register(state: Path, frame: pd.DataFrame, alias: str = "production") -> str:
    """Train, log (model + training data under training_data/), register, point the alias."""
    import mlflow
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    uri = f"sqlite:///{state / 'mlflow.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.set_tracking_uri(uri)
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name("train")
        experiment_id = (
            experiment.experiment_id
            if experiment
            else client.create_experiment("train", (state / "mlartifacts" / "train").as_uri())
        )
        features = frame[["x1", "x2"]]
        model = LogisticRegression().fit(features, frame["target"])
        data = state.parent / "training_data.csv"
        frame[["x1", "x2", "target"]].to_csv(data, index=False)
        with mlflow.start_run(experiment_id=experiment_id):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(features, model.predict(features)),
                registered_model_name=MODEL,
            )
            mlflow.log_artifact(str(data), "training_data")
        version = str(info.registered_model_version)
        client.set_registered_model_alias(MODEL, alias, version)
    return version


def _in_force(version: str) -> Any:
    return lambda e: (
        e.get("msg") == "production model in force" and str(e.get("version")) == version
    )


def test_alias_moves_bring_model_and_reference_into_force(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    first = sample_frame(300, seed=1)
    assert _register(state, first) == "1"
    config = daemon_config(
        tmp_path,
        reference={"source": "model"},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 1.0}},
    )
    daemon = DaemonProcess(config).start()
    drop = tmp_path / "drop"
    try:
        daemon.wait_for(_in_force("1"), timeout=90, what="version 1 in force")
        write_csv(drop / "labelled-1.csv", sample_frame(200, seed=2))
        [checked] = daemon.wait_for(
            lambda e: str(e.get("msg", "")).startswith("file checked"), timeout=60, what="check"
        )
        assert "accuracy=" in checked["validation"]
        # Someone moves the alias (a new version trained on shifted data).
        assert _register(state, sample_frame(300, seed=3, shift=1.0)) == "2"
        daemon.wait_for(_in_force("2"), timeout=60, what="version 2 in force")
        daemon.wait_for(
            lambda e: (
                e.get("msg", "").startswith("validation:") and "version 2" in str(e.get("reason"))
            ),
            timeout=60,
            what="validation after the model change",
        )
        # The reference is now version 2's training data: a shifted drop no longer drifts in x1.
        write_csv(drop / "shifted.csv", sample_frame(300, seed=4, shift=1.0))
        daemon.wait_for(
            lambda e: e.get("file", "").endswith("shifted.csv") and "checked" in e.get("msg", ""),
            timeout=60,
            what="check of the shifted drop",
        )
        # SIGUSR1 asks for a poll at once (nothing moved: no new version).
        daemon.send(signal.SIGUSR1)
    finally:
        assert daemon.stop() == 0
    ledger = Ledger.open(state / "ledger.db", readonly=True)
    try:
        assert ledger.last_model_version(MODEL)["version"] == "2"  # type: ignore[index]
        checks = ledger.checks()
        validation = [c for c in checks if c["kind"] == "validation" and c["scope"] == "scheduled"]
        assert validation and validation[0]["model_version"] == "2"
        shifted = [
            c
            for c in checks
            if c["summary"].get("driftwarden.file") == "shifted.csv" and c["kind"] == "drift"
        ]
        assert shifted and "x1" not in shifted[0]["summary"]["drifted_features"]
        assert shifted[0]["model_version"] == "2"
    finally:
        ledger.close()
