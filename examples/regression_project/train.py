"""Train a RandomForestRegressor on a labelled CSV/Parquet file and log what driftwarden needs.

Run through MLflow (``mlflow run examples/regression_project --env-manager local
[-P data_path=/abs/file.csv] [-P max_depth=N] [-P seed=S]``) or directly
(``python train.py --data-path FILE``). The run gets:

- ``test_mae``, ``test_rmse`` and ``test_r2`` on a held-out split (``test_size``), and
  ``test_score`` (= R², scikit-learn's ``score``); ``train_rmse``;
- the model under the run's ``model`` name, with signature and input example;
- ``data_version``: driftwarden's content hash of the whole training frame;
- the training frame (features + ``target``) as a dataset input and as the artifact
  ``training_data/training_data.csv`` (driftwarden's drift reference), and the held-out
  split as ``test_data/test_data.csv`` (driftwarden's labelled evaluation set for
  performance estimation: rows the model never trained on);
- ``log_records_<level>`` counts and, if anything warned, ``logs/warnings.log``.

Register the best run by an error metric, lower is better:
``driftwarden register --metric test_rmse --threshold 70`` (the direction follows from the
name; ``--direction lower`` says it explicitly).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import sklearn
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param
from mlflow.models import ModelSignature, infer_signature
from mlflow.tracking import MlflowClient
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import train_test_split

from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.errors import InputFileError
from driftwarden.seeding import seed_everything
from driftwarden.tracking.logging_handler import log_records_to_run

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "data" / "diabetes.csv"
MODEL_NAME = "model"  # runs:/<run_id>/model
TRAINING_DATA_DIR, TRAINING_DATA_FILE = "training_data", "training_data.csv"
TEST_DATA_DIR, TEST_DATA_FILE = "test_data", "test_data.csv"
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]

log = logging.getLogger("driftwarden.example.regression")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the driftwarden regression example.")
    parser.add_argument("--data-path", default=str(DEFAULT_DATA), help="labelled CSV or Parquet")
    parser.add_argument("--num-trees", type=int, default=100)
    parser.add_argument("--max-depth", type=int, default=0, help="0: unlimited")
    parser.add_argument("--min-samples-leaf", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--target", default="target", help="label column (numeric)")
    parser.add_argument(
        "--experiment-name",
        default=None,
        help="experiment for a run started here (default: $MLFLOW_EXPERIMENT_NAME or MLflow's)",
    )
    args = parser.parse_args(argv)
    if args.num_trees < 1 or args.min_samples_leaf < 1 or args.max_depth < 0:
        parser.error("--num-trees and --min-samples-leaf must be >= 1, --max-depth >= 0")
    if not 0 < args.test_size < 1:
        parser.error(f"--test-size must be between 0 and 1, got {args.test_size}")
    return args


def resolve_data_path(value: str) -> Path:
    """Absolute path of the data file; a relative path is tried from the cwd, then from here."""
    path = Path(value).expanduser()
    if path.is_absolute() or path.exists():
        return path.resolve()
    return (HERE / path).resolve()


def load_training_frame(path: Path, target: str) -> pd.DataFrame:
    """Read the file and check it has a numeric label and only numeric features."""
    frame = read_frame(path)
    if target not in frame.columns:
        raise InputFileError(
            path, f"label column missing; columns are {list(frame.columns)}", field=target
        )
    non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise InputFileError(
            path,
            f"features and label must be numeric; non-numeric columns: {non_numeric}",
            field=non_numeric[0],
        )
    if frame[target].isna().any():
        raise InputFileError(path, f"{int(frame[target].isna().sum())} rows have no label", target)
    return frame


def environment_params() -> dict[str, str]:
    """Versions that decide whether a run can be reproduced."""
    return {
        "python_version": platform.python_version(),
        "sklearn_version": sklearn.__version__,
        "mlflow_version": mlflow.__version__,
        "pandas_version": pd.__version__,
    }


def quiet_infer_signature(inputs: pd.DataFrame, outputs: object = None) -> ModelSignature:
    """``infer_signature`` without MLflow's hint that integer columns cannot hold NaN."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ii]nteger column", category=UserWarning)
        return infer_signature(inputs, outputs)


def log_frame(
    client: MlflowClient, run_id: str, frame: pd.DataFrame, folder: str, name: str
) -> None:
    """One frame as a CSV artifact ``folder/name``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        frame.to_csv(path, index=False, lineterminator="\n")
        client.log_artifact(run_id, str(path), folder)


def log_dataset(
    client: MlflowClient, run_id: str, frame: pd.DataFrame, source: Path, version: str, target: str
) -> None:
    """The training frame as a dataset input, digest = driftwarden's ``data_version``."""
    schema = quiet_infer_signature(frame).inputs
    dataset = Dataset(
        name=source.stem,
        digest=version,
        source_type="local",
        source=json.dumps({"uri": str(source)}),
        schema=json.dumps({"mlflow_colspec": schema.to_dict()}),
        profile=json.dumps({"num_rows": len(frame), "num_elements": int(frame.size)}),
    )
    tags = [InputTag("mlflow.data.context", "training"), InputTag("target", target)]
    client.log_inputs(run_id, datasets=[DatasetInput(dataset, tags)])


def pip_requirements() -> list[str]:
    """Pinned requirements, so log_model need not infer them in a subprocess (slow)."""
    pins = []
    for name in ["mlflow", "scikit-learn", "numpy", "pandas", "scipy", "skops"]:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins


def errors_of(truth: pd.Series, predicted: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R² of predictions."""
    return {
        "mae": float(mean_absolute_error(truth, predicted)),
        "rmse": float(root_mean_squared_error(truth, predicted)),
        "r2": float(r2_score(truth, predicted)),
    }


def train(args: argparse.Namespace, client: MlflowClient, run_id: str) -> dict[str, float]:
    """Fit, score and log everything to ``run_id``; returns the held-out errors."""
    data_path = resolve_data_path(args.data_path)
    frame = load_training_frame(data_path, args.target)
    version = data_version(frame)
    seeded = seed_everything(args.seed)
    log.info("training on %s (%d rows, data_version %s)", data_path, len(frame), version)
    existing = client.get_run(run_id).data.params  # `mlflow run` logged the -P ones already
    params: dict[str, object] = {
        "data_path": str(data_path),
        "num_trees": args.num_trees,
        "max_depth": args.max_depth,
        "min_samples_leaf": args.min_samples_leaf,
        "seed": args.seed,
        "test_size": args.test_size,
        "data_version": version,
        "target": args.target,
        "n_rows": len(frame),
        "n_features": frame.shape[1] - 1,
        "seeded": ",".join(seeded),
        **environment_params(),
    }
    new = [Param(k, str(v)) for k, v in params.items() if k not in existing]
    client.log_batch(run_id, params=new)

    x = frame.drop(columns=[args.target])
    y = frame[args.target]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=args.test_size, random_state=args.seed
    )
    model = RandomForestRegressor(
        n_estimators=args.num_trees,
        max_depth=args.max_depth or None,
        min_samples_leaf=args.min_samples_leaf,
        random_state=args.seed,
        n_jobs=1,
    )
    model.fit(x_train, y_train)
    test = errors_of(y_test, model.predict(x_test))
    train_errors = errors_of(y_train, model.predict(x_train))
    now = int(time.time() * 1000)
    metrics = {
        "test_mae": test["mae"],
        "test_rmse": test["rmse"],
        "test_r2": test["r2"],
        "test_score": test["r2"],
        "train_rmse": train_errors["rmse"],
    }
    client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])

    signature = quiet_infer_signature(x_train, model.predict(x_train.head(50)))
    mlflow.sklearn.log_model(
        model,
        name=MODEL_NAME,
        signature=signature,
        input_example=x_train.head(5),
        pip_requirements=pip_requirements(),
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )
    log_frame(client, run_id, frame, TRAINING_DATA_DIR, TRAINING_DATA_FILE)
    log_dataset(client, run_id, frame, data_path, version, args.target)
    log_frame(client, run_id, frame.loc[x_test.index], TEST_DATA_DIR, TEST_DATA_FILE)
    log.info("test_rmse=%.3f test_mae=%.3f run_id=%s", test["rmse"], test["mae"], run_id)
    return test


def main(argv: list[str] | None = None) -> str:
    """Train once; returns the run id. Resumes the run that ``mlflow run`` created, if any."""
    args = parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    if "MLFLOW_RUN_ID" not in os.environ:
        name = args.experiment_name or os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if name:
            mlflow.set_experiment(name)
    client = MlflowClient()
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        with log_records_to_run(run_id, client=client):
            train(args, client, run_id)
    return run_id


if __name__ == "__main__":
    try:
        print(main())
    except InputFileError as exc:
        print(f"train.py: {exc}", file=sys.stderr)
        sys.exit(2)
