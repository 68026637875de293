"""``driftwarden demo``: the pipeline on an embedded MLflow (sqlite) in a work directory.

Interim version, until the daemon exists: write a config, train the example project with
``mlflow run``, register the best run, validate the production model on a held-out
labelled batch, and print what happened and where to look. Each step is one small
function so that the full loop (drift, alerts, retraining) can be added step by step.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from driftwarden.config import load_settings
from driftwarden.config.model import Settings
from driftwarden.errors import RecoverableError, UsageError
from driftwarden.logs import setup_logging

MODEL_NAME = "driftwarden-demo"
TRAIN_EXPERIMENT = "driftwarden-demo-train"
CHECK_EXPERIMENT = "driftwarden-demo-checks"
HOLDOUT_FRACTION = 0.3
# Variables that tie an MLflow child process to this process's run or experiment.
_CHILD_UNSET = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME")


@dataclass
class DemoPaths:
    """Everything the demo writes lives under ``workdir``."""

    workdir: Path

    @property
    def config(self) -> Path:
        return self.workdir / "driftwarden.toml"

    @property
    def state(self) -> Path:
        return self.workdir / "state"

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    @property
    def train_csv(self) -> Path:
        return self.data / "train.csv"

    @property
    def labelled_batch(self) -> Path:
        return self.data / "labelled_batch.csv"

    @property
    def train_log(self) -> Path:
        return self.workdir / "train.log"


def example_project() -> Path:
    """The example MLflow project of this source checkout."""
    project = Path(__file__).resolve().parents[2] / "examples" / "model_project"
    if not (project / "MLproject").is_file():
        raise UsageError(
            f"{project}: example project not found; the demo runs from a source checkout "
            "(git clone, then `make demo`)"
        )
    return project


def prepare_workdir(workdir: str | None) -> DemoPaths:
    """Use ``workdir`` (created if missing) or a new temporary directory, kept afterwards."""
    path = (
        Path(workdir).expanduser().resolve()
        if workdir
        else Path(tempfile.mkdtemp(prefix="driftwarden-demo-"))
    )
    paths = DemoPaths(path)
    paths.data.mkdir(parents=True, exist_ok=True)
    paths.state.mkdir(parents=True, exist_ok=True)
    return paths


def write_config(paths: DemoPaths, project: Path) -> Settings:
    """A config whose MLflow store is a sqlite file in the work directory."""
    paths.config.write_text(
        "# Written by `driftwarden demo`.\n"
        "[state]\n"
        'directory = "state"\n\n'
        "[mlflow]\n"
        f'experiment_name = "{CHECK_EXPERIMENT}"\n\n'
        "[model]\n"
        f'name = "{MODEL_NAME}"\n'
        'alias = "production"\n'
        'target = "target"\n\n'
        "[retrain]\n"
        f'project_uri = "{project}"\n'
        f'experiment_name = "{TRAIN_EXPERIMENT}"\n'
    )
    # env={}: the demo's store is the one in its work directory, whatever the shell says.
    return load_settings(paths.config, env={})


def split_example_data(paths: DemoPaths, project: Path, seed: int = 0) -> tuple[int, int]:
    """Training rows and a held-out labelled batch the model never sees; returns both sizes."""
    import pandas as pd

    frame = pd.read_csv(project / "data" / "breast_cancer.csv")
    batch = frame.sample(frac=HOLDOUT_FRACTION, random_state=seed)
    train = frame.drop(index=batch.index)
    train.to_csv(paths.train_csv, index=False)
    batch.to_csv(paths.labelled_batch, index=False)
    return len(train), len(batch)


def child_env(settings: Settings) -> dict[str, str]:
    """Environment for ``mlflow run``: this store, and this venv's python first on PATH."""
    from driftwarden.tracking.client import mlflow_env

    env = {k: v for k, v in os.environ.items() if k not in _CHILD_UNSET}
    env.update(mlflow_env(settings))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def mlflow_run_command(project: Path, experiment: str, params: dict[str, object]) -> list[str]:
    mlflow_bin = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    command = [mlflow_bin, "run", str(project), "--env-manager", "local"]
    command += ["--experiment-name", experiment]
    for key, value in params.items():
        command += ["-P", f"{key}={value}"]
    return command


def train(settings: Settings, paths: DemoPaths, project: Path) -> tuple[str, list[str]]:
    """``mlflow run`` the example on the training rows; returns the run id and the command."""
    from driftwarden.tracking.client import configure_mlflow, ensure_experiment

    client = configure_mlflow(settings)
    ensure_experiment(client, TRAIN_EXPERIMENT, settings.mlflow.artifact_location)
    command = mlflow_run_command(
        project, TRAIN_EXPERIMENT, {"data_path": paths.train_csv, "num_trees": 50, "seed": 42}
    )
    with paths.train_log.open("w") as log:
        done = subprocess.run(
            command,
            cwd=paths.workdir,
            env=child_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    output = paths.train_log.read_text()
    if done.returncode != 0:
        raise RecoverableError(
            f"`mlflow run` failed with exit code {done.returncode}; see {paths.train_log}:\n"
            + "\n".join(output.splitlines()[-15:])
        )
    match = re.search(r"Run \(ID '([0-9a-f]+)'\) succeeded", output)
    if match is None:
        raise RecoverableError(f"cannot find the run id in {paths.train_log}")
    return match.group(1), command


def register(settings: Settings) -> list[str]:
    """Register the best run of the training experiment and point ``production`` at it."""
    from driftwarden.tracking.client import configure_mlflow
    from driftwarden.tracking.register import register_best

    client = configure_mlflow(settings)
    return register_best(
        client,
        experiment=TRAIN_EXPERIMENT,
        metric=settings.retrain.register_metric,
        threshold=settings.retrain.register_threshold,
        model_name=settings.model.name,
        alias=settings.model.alias,
    )


def validate(settings: Settings, paths: DemoPaths) -> tuple[str, str]:
    """Validate models:/<name>@production on the held-out batch; returns (summary, run id)."""
    from driftwarden.data.read import read_frame
    from driftwarden.tracking.client import configure_mlflow, ensure_experiment
    from driftwarden.tracking.models import load_model_uri
    from driftwarden.tracking.validate import (
        default_model_uri,
        log_validation_run,
        validate_frame,
        validation_tags,
    )

    client = configure_mlflow(settings)
    uri = default_model_uri(settings)
    model = load_model_uri(client, uri)
    frame = read_frame(paths.labelled_batch)
    result = validate_frame(
        model, frame, settings.model.target, settings.validation, source=paths.labelled_batch
    )
    experiment_id = ensure_experiment(
        client, settings.mlflow.experiment_name, settings.mlflow.artifact_location
    )
    run_id = log_validation_run(
        client, experiment_id, result, validation_tags(model, paths.labelled_batch)
    )
    shown = " ".join(f"{k}={v:.4f}" for k, v in result.metrics.items())
    return f"{model.label} on {result.n_rows} held-out rows: {shown}", run_id


def ui_command(settings: Settings) -> str:
    """How to browse the demo's store."""
    mlflow_bin = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    artifacts = settings.mlflow.artifact_location or ""
    return shlex.join(
        [
            mlflow_bin,
            "ui",
            "--backend-store-uri",
            settings.tracking_uri,
            "--default-artifact-root",
            artifacts,
            "--host",
            "127.0.0.1",
            "--port",
            "5000",
        ]
    )


def demo_command(args: argparse.Namespace) -> int:
    """Run the pipeline once and print each step; 0 on success."""
    # Importing mlflow configures its loggers; do it before ours so our levels stick.
    import driftwarden.tracking.client  # noqa: F401

    setup_logging(args.log_level or "WARNING", args.log_format or "text")
    started = time.monotonic()
    project = example_project()
    paths = prepare_workdir(args.workdir)
    print("driftwarden demo: train -> register -> validate on an embedded MLflow (sqlite)")
    print(f"work directory: {paths.workdir}")
    settings = write_config(paths, project)
    print(f"[1/4] config {paths.config} (MLflow store {settings.tracking_uri})")
    n_train, n_batch = split_example_data(paths, project)
    print(
        f"      data: {n_train} training rows -> {paths.train_csv}, "
        f"{n_batch} held-out labelled rows -> {paths.labelled_batch}"
    )
    run_id, command = train(settings, paths, project)
    print(f"[2/4] trained with: {shlex.join(command)}")
    print(f"      run {run_id} in experiment {TRAIN_EXPERIMENT!r} (output: {paths.train_log})")
    print("[3/4] register:")
    for line in register(settings):
        print(f"      {line}")
    summary, validation_run = validate(settings, paths)
    print(f"[4/4] validated {summary}")
    print(f"      run {validation_run} in experiment {settings.mlflow.experiment_name!r}")
    if not args.once:
        print("(the interim demo runs once; the monitoring loop comes with the daemon)")
    print(f"done in {time.monotonic() - started:.0f} s. Look at it:")
    print(f"  {ui_command(settings)}")
    print(f"  driftwarden validate --config {paths.config} --data {paths.labelled_batch}")
    print(f"  driftwarden register --config {paths.config} --experiment {TRAIN_EXPERIMENT}")
    return 0
