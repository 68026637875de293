"""The demo's work directory: example data split into batches, the config, the first model.

Everything the demo writes lives under one directory: the sqlite MLflow store and artifact
root (``state/``), the drop directory the daemon watches (``drops/``), the batches before
they are dropped (``data/``), the config and the logs. Nothing outside it is touched.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import driftwarden
from driftwarden.config import load_settings
from driftwarden.config.model import Settings
from driftwarden.errors import RecoverableError, UsageError

MODEL_NAME = "driftwarden-demo"
TRAIN_EXPERIMENT = "driftwarden-demo-train"
CHECK_EXPERIMENT = "driftwarden-demo-checks"
RETRAIN_EXPERIMENT = "driftwarden-demo-retrain"
# Shares of the example data: training, a clean batch, a drifted batch, a fresh batch.
SPLIT = {"train": 0.45, "clean": 0.15, "drifted": 0.25, "fresh": 0.15}
# Size columns a "recalibrated scanner" reads 25% larger in the drifted and fresh batches.
SHIFTED_COLUMNS = (
    "mean_radius",
    "mean_perimeter",
    "mean_area",
    "worst_radius",
    "worst_perimeter",
    "worst_area",
)
SHIFT_FACTOR = 1.25
NUM_TREES = 50
SEED = 42
# Variables that tie an MLflow child process to this process's run or experiment.
_CHILD_UNSET = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME")


@dataclass
class DemoPaths:
    """Where the demo's files go under ``workdir``."""

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
    def drops(self) -> Path:
        return self.workdir / "drops"

    @property
    def train_csv(self) -> Path:
        return self.data / "train.csv"

    def batch(self, name: str) -> Path:
        return self.data / f"{name}.csv"

    @property
    def train_log(self) -> Path:
        return self.workdir / "train.log"

    @property
    def daemon_log(self) -> Path:
        return self.workdir / "daemon.log"


def example_project() -> Path:
    """The example MLflow project of this source checkout; UsageError (exit 2) when absent."""
    project = Path(driftwarden.__file__).resolve().parents[2] / "examples" / "model_project"
    if not (project / "MLproject").is_file():
        raise UsageError(
            f"{project}: example project not found; driftwarden seems installed without its "
            "source tree, and the demo trains the example project of a source checkout "
            "(git clone the repository, then `make demo`)"
        )
    return project


def prepare_workdir(workdir: str | None) -> DemoPaths:
    """Use ``workdir`` (created if missing, must be empty of a previous demo) or a new temp dir."""
    path = (
        Path(workdir).expanduser().resolve()
        if workdir
        else Path(tempfile.mkdtemp(prefix="driftwarden-demo-"))
    )
    paths = DemoPaths(path)
    if (paths.state / "mlflow.db").exists() or paths.config.exists():
        raise UsageError(
            f"{path}: holds a previous demo (driftwarden.toml, state/); "
            "pass a new or empty --workdir"
        )
    for folder in (paths.data, paths.state, paths.drops):
        folder.mkdir(parents=True, exist_ok=True)
    return paths


def split_example_data(paths: DemoPaths, project: Path) -> dict[str, int]:
    """Write the training rows and the three batches; returns rows per part.

    The clean batch comes from the same world as the training rows. The drifted and the
    fresh batch come from a changed world: the size columns read 25% larger (covariate
    shift) and the labels are coded the other way round (concept shift: the same features
    now mean the opposite label), so the champion is wrong on them and a retrain is needed.
    """
    frame = pd.read_csv(project / "data" / "breast_cancer.csv")
    frame = frame.sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    sizes: dict[str, int] = {}
    start = 0
    names = list(SPLIT)
    for i, name in enumerate(names):
        stop = len(frame) if i == len(names) - 1 else start + round(SPLIT[name] * len(frame))
        part = frame.iloc[start:stop].copy()
        start = stop
        if name in ("drifted", "fresh"):
            for column in SHIFTED_COLUMNS:
                part[column] = (part[column] * SHIFT_FACTOR).round(4)
            part["target"] = 1 - part["target"]
        target = paths.train_csv if name == "train" else paths.batch(name)
        part.to_csv(target, index=False)
        sizes[name] = len(part)
    return sizes


def write_config(paths: DemoPaths, project: Path) -> Settings:
    """The daemon's config: sqlite store here, reference from the model, retrain on breach."""
    paths.config.write_text(
        f"""# Written by `driftwarden demo`: the whole loop on an embedded MLflow (sqlite).
[state]
directory = "state"

[mlflow]
experiment_name = "{CHECK_EXPERIMENT}"

[model]
name = "{MODEL_NAME}"
alias = "production"
target = "target"

[reference]
source = "model"            # the training data logged with the production model's run

[watch]
paths = ["drops"]
settle_seconds = 0.5
rescan_interval_seconds = 5.0

[schedule]
drift = {{ enabled = false }}        # the demo drives checks with dropped files
validation = {{ enabled = false }}
registry_poll = {{ interval_seconds = 5.0 }}

[validation]
metrics = ["accuracy", "f1"]
minimums = {{ accuracy = 0.8 }}
window_files = 1                    # validate a new model on the newest labelled drop

[retrain]
enabled = true
triggers = ["validation"]           # drift alone alerts; a model that is wrong retrains
project_uri = "{project}"
parameters = {{ num_trees = {NUM_TREES}, seed = {SEED} }}
experiment_name = "{RETRAIN_EXPERIMENT}"
cooldown_seconds = 600.0
timeout_seconds = 300.0
recent_files = 1                    # train on the newest labelled drop ...
reference_share = 0.0               # ... only: the old labels no longer hold
register_threshold = 0.7
promotion = {{ metric = "accuracy", min_improvement = 0.05 }}

[alerts]
sinks = ["log"]

[metrics]
address = "127.0.0.1"
port = 0                            # any free port; the demo prints it

[logging]
level = "INFO"
format = "json"
"""
    )
    # env={}: the demo's store is the one in its work directory, whatever the shell says.
    return load_settings(paths.config, env={})


def child_env(settings: Settings) -> dict[str, str]:
    """Environment for ``mlflow run``: this store, and this venv's python first on PATH."""
    from driftwarden.tracking.client import mlflow_env

    env = {k: v for k, v in os.environ.items() if k not in _CHILD_UNSET}
    env.update(mlflow_env(settings))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def train_first_model(settings: Settings, paths: DemoPaths, project: Path) -> tuple[str, str]:
    """``mlflow run`` the example project on the training rows; returns (run id, command)."""
    from driftwarden.remediation.runner import mlflow_executable
    from driftwarden.tracking.client import configure_mlflow, ensure_experiment

    client = configure_mlflow(settings)
    ensure_experiment(client, TRAIN_EXPERIMENT, settings.mlflow.artifact_location)
    command = [mlflow_executable(), "run", str(project), "--env-manager", "local"]
    command += ["--experiment-name", TRAIN_EXPERIMENT]
    for key, value in {"data_path": paths.train_csv, "num_trees": NUM_TREES, "seed": SEED}.items():
        command += ["-P", f"{key}={value}"]
    with paths.train_log.open("w") as log:
        done = subprocess.run(
            command,
            cwd=paths.workdir,
            env=child_env(settings),
            stdin=subprocess.DEVNULL,
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
    return match.group(1), shlex.join(command)


def register_first_model(settings: Settings) -> list[str]:
    """Register the best training run and point the ``production`` alias at it."""
    from driftwarden.tracking.client import configure_mlflow
    from driftwarden.tracking.register import register_best

    return register_best(
        configure_mlflow(settings),
        experiment=TRAIN_EXPERIMENT,
        metric=settings.retrain.register_metric,
        threshold=settings.retrain.register_threshold,
        model_name=settings.model.name,
        alias=settings.model.alias,
    )
