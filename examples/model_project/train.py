"""Train a RandomForest on a labelled CSV/Parquet file and log what driftwarden needs to MLflow.

Run through MLflow (``mlflow run examples/model_project --env-manager local
[-P data_path=/abs/file.csv] [-P num_trees=N] [-P seed=S]``) or directly
(``python train.py --data-path FILE``). The run gets:

- ``test_score``: accuracy on a held-out split (``test_size``, stratified when possible);
- the model under the run's ``model`` name, with signature and input example;
- ``data_version``: driftwarden's content hash of the whole training frame;
- environment params (python, scikit-learn, mlflow, torch versions, CUDA availability);
- the training frame (features + ``target``) as a dataset input *and* as the artifact
  ``training_data/training_data.csv``, which driftwarden downloads as its drift reference;
- the held-out split (features + ``target``, the rows ``test_score`` was measured on) as
  the artifact ``test_data/test_data.csv``: the labelled evaluation set that driftwarden's
  performance estimation calibrates on (``estimation.reference = "model"``);
- ``log_records_<level>`` counts and, if anything warned, ``logs/warnings.log``.

Features must be numeric; the label column is ``target`` unless ``--target`` says otherwise.
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
import pandas as pd
import sklearn
from mlflow.entities import Dataset, DatasetInput, InputTag
from mlflow.models import ModelSignature, infer_signature
from mlflow.tracking import MlflowClient
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.errors import InputFileError
from driftwarden.seeding import seed_everything
from driftwarden.tracking.logging_handler import log_records_to_run

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / "data" / "breast_cancer.csv"
MODEL_NAME = "model"  # the model's name in the run: runs:/<run_id>/model
TRAINING_DATA_DIR = "training_data"
TRAINING_DATA_FILE = "training_data.csv"
TEST_DATA_DIR = "test_data"
TEST_DATA_FILE = "test_data.csv"
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]

log = logging.getLogger("driftwarden.example.train")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train the driftwarden example model.")
    parser.add_argument("--data-path", default=str(DEFAULT_DATA), help="labelled CSV or Parquet")
    parser.add_argument("--num-trees", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--target", default="target", help="label column")
    parser.add_argument(
        "--experiment-name",
        default=None,
        help="experiment for a run started here (default: $MLFLOW_EXPERIMENT_NAME or MLflow's)",
    )
    args = parser.parse_args(argv)
    if args.num_trees < 1:
        parser.error(f"--num-trees must be at least 1, got {args.num_trees}")
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
    """Read the file and check it has the label and only numeric features."""
    frame = read_frame(path)
    if target not in frame.columns:
        raise InputFileError(
            path, f"label column missing; columns are {list(frame.columns)}", field=target
        )
    features = frame.drop(columns=[target])
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise InputFileError(
            path,
            f"features must be numeric; non-numeric columns: {non_numeric}",
            field=non_numeric[0],
        )
    if frame[target].isna().any():
        raise InputFileError(path, f"{int(frame[target].isna().sum())} rows have no label", target)
    return frame


def environment_params() -> dict[str, str]:
    """Versions and hardware that decide whether a run can be reproduced."""
    try:
        torch_version = importlib.metadata.version("torch")
        import torch

        cuda = str(torch.cuda.is_available()).lower()
    except importlib.metadata.PackageNotFoundError:
        torch_version, cuda = "not installed", "false"
    return {
        "python_version": platform.python_version(),
        "sklearn_version": sklearn.__version__,
        "mlflow_version": mlflow.__version__,
        "pandas_version": pd.__version__,
        "torch_version": torch_version,
        "cuda_available": cuda,
    }


def split(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Held-out split, stratified by label when every class has at least two rows."""
    x = frame.drop(columns=[target])
    y = frame[target]
    stratify = y if y.value_counts().min() >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=stratify
    )
    return x_train, x_test, y_train, y_test


def quiet_infer_signature(inputs: pd.DataFrame, outputs: object = None) -> ModelSignature:
    """``infer_signature`` without MLflow's hint that integer columns cannot hold NaN."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ii]nteger column", category=UserWarning)
        return infer_signature(inputs, outputs)


def log_training_data(
    client: MlflowClient, run_id: str, frame: pd.DataFrame, source: Path, version: str, target: str
) -> None:
    """The whole frame as ``training_data/training_data.csv`` and as a dataset input.

    The dataset entity is built by hand: ``mlflow.data.from_pandas`` hashes only the first
    10,000 rows and infers the schema slowly on large frames; ``data_version`` hashes all.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / TRAINING_DATA_FILE
        frame.to_csv(path, index=False, lineterminator="\n")
        client.log_artifact(run_id, str(path), TRAINING_DATA_DIR)
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


def log_test_split(client: MlflowClient, run_id: str, frame: pd.DataFrame) -> None:
    """The held-out rows (features + label) as ``test_data/test_data.csv``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / TEST_DATA_FILE
        frame.to_csv(path, index=False, lineterminator="\n")
        client.log_artifact(run_id, str(path), TEST_DATA_DIR)


def log_missing_params(client: MlflowClient, run_id: str, params: dict[str, object]) -> None:
    """Log params the run does not have yet (``mlflow run`` already logged the -P ones)."""
    existing = client.get_run(run_id).data.params
    for key, value in params.items():
        if key not in existing:
            client.log_param(run_id, key, value)


def pip_requirements() -> list[str]:
    """Pinned requirements, so log_model need not infer them in a subprocess (slow)."""
    names = ["mlflow", "scikit-learn", "numpy", "pandas", "scipy", "skops"]
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pins


def train(args: argparse.Namespace, client: MlflowClient, run_id: str) -> float:
    """Fit, score and log everything to ``run_id``; returns the held-out accuracy."""
    data_path = resolve_data_path(args.data_path)
    frame = load_training_frame(data_path, args.target)
    version = data_version(frame)
    seeded = seed_everything(args.seed)
    log.info("training on %s (%d rows, data_version %s)", data_path, len(frame), version)
    log_missing_params(
        client,
        run_id,
        {
            "data_path": str(data_path),
            "num_trees": args.num_trees,
            "seed": args.seed,
            "test_size": args.test_size,
        },
    )
    params: dict[str, object] = {
        "data_version": version,
        "target": args.target,
        "n_rows": len(frame),
        "n_features": frame.shape[1] - 1,
        "seeded": ",".join(seeded),
        **environment_params(),
    }
    client.log_batch(run_id, params=[mlflow.entities.Param(k, str(v)) for k, v in params.items()])

    x_train, x_test, y_train, y_test = split(frame, args.target, args.test_size, args.seed)
    if y_train.nunique() < 2:
        log.warning("the training split has a single class; the model will predict only it")
    model = RandomForestClassifier(n_estimators=args.num_trees, random_state=args.seed, n_jobs=1)
    model.fit(x_train, y_train)
    test_score = float(accuracy_score(y_test, model.predict(x_test)))
    train_score = float(accuracy_score(y_train, model.predict(x_train)))
    client.log_batch(
        run_id,
        metrics=[
            mlflow.entities.Metric("test_score", test_score, _now_ms(), 0),
            mlflow.entities.Metric("train_score", train_score, _now_ms(), 0),
        ],
    )

    signature = quiet_infer_signature(x_train, model.predict(x_train.head(50)))
    mlflow.sklearn.log_model(
        model,
        name=MODEL_NAME,
        signature=signature,
        input_example=x_train.head(5),
        pip_requirements=pip_requirements(),
        # skops (MLflow 3's default format) refuses tree internals unless trusted; this
        # run created the file itself, so it trusts it.
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )
    log_training_data(client, run_id, frame, data_path, version, args.target)
    log_test_split(client, run_id, frame.loc[x_test.index])
    log.info("test_score=%.4f train_score=%.4f run_id=%s", test_score, train_score, run_id)
    return test_score


def _now_ms() -> int:
    return int(time.time() * 1000)


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
        # Counts every record that reaches the root logger during training (ours, MLflow's,
        # scikit-learn's) and attaches the warnings, written once when training is done.
        with log_records_to_run(run_id, client=client):
            train(args, client, run_id)
    return run_id


if __name__ == "__main__":
    try:
        print(main())
    except InputFileError as exc:
        print(f"train.py: {exc}", file=sys.stderr)
        sys.exit(2)
