"""A small registered model in a sqlite MLflow store, as a user's training would leave it."""

from __future__ import annotations

import importlib.metadata
import warnings
from pathlib import Path

import pandas as pd

from tests.support.mlflow_store import fresh_store


def register_model(
    state: Path,
    frame: pd.DataFrame,
    name: str,
    alias: str = "production",
    training_data: bool = False,
    test_data: pd.DataFrame | None = None,
) -> str:
    """Train a logistic regression on ``x1, x2 -> target``, log it (and, with
    ``training_data``, the frame under ``training_data/``), register it as ``name`` and point
    ``alias`` at it; returns the version. ``test_data`` is logged as the run's held-out split
    (``test_data/test_data.csv``, what performance estimation calibrates on). The store is ``state/mlflow.db``.
    """
    import mlflow
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    uri = f"sqlite:///{fresh_store(state / 'mlflow.db')}"
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
        with mlflow.start_run(experiment_id=experiment_id):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=infer_signature(features, model.predict(features)),
                registered_model_name=name,
                # Pinned, so MLflow does not infer them in a subprocess (seconds each time).
                pip_requirements=[f"scikit-learn=={importlib.metadata.version('scikit-learn')}"],
            )
            if training_data:
                data = state.parent / "training_data.csv"
                frame[["x1", "x2", "target"]].to_csv(data, index=False)
                mlflow.log_artifact(str(data), "training_data")
            if test_data is not None:
                held_out = state.parent / "test_data.csv"
                test_data[["x1", "x2", "target"]].to_csv(held_out, index=False)
                mlflow.log_artifact(str(held_out), "test_data")
        version = str(info.registered_model_version)
        client.set_registered_model_alias(name, alias, version)
    return version
