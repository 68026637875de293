"""Temporary sqlite MLflow stores for tests, and the example project's train module.

A new sqlite store runs MLflow's migrations (3-4 s); one database is migrated per test
process (``tests.support.mlflow_store``) and every store starts as a copy of it.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from mlflow.tracking import MlflowClient

from driftwarden.config import load_settings
from driftwarden.config.model import Settings
from driftwarden.tracking.client import configure_mlflow, ensure_experiment

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "examples" / "model_project"
EXAMPLE_CSV = PROJECT / "data" / "breast_cancer.csv"
TRAIN_EXPERIMENT = "train"
CHECK_EXPERIMENT = "checks"


@dataclass
class Store:
    """A config file and the MLflow store it points at (a sqlite file in its state directory)."""

    root: Path
    config: Path
    settings: Settings
    client: MlflowClient
    train_experiment_id: str

    def activate(self) -> MlflowClient:
        """Make this store the process-wide MLflow store again (another test may have moved it)."""
        self.client = configure_mlflow(self.settings)
        return self.client


def make_store(root: Path, template: Path | None, extra_toml: str = "") -> Store:
    """Write ``root/driftwarden.toml`` (state in ``root/state``) and open its store."""
    state = root / "state"
    state.mkdir(parents=True, exist_ok=True)
    if template is not None:
        shutil.copyfile(template, state / "mlflow.db")
    config = root / "driftwarden.toml"
    config.write_text(
        "[state]\n"
        f'directory = "{state}"\n\n'
        "[mlflow]\n"
        f'experiment_name = "{CHECK_EXPERIMENT}"\n'
        "http_request_max_retries = 0\n\n"
        "[model]\n"
        'name = "bc-model"\n' + extra_toml
    )
    # env={}: configure_mlflow exports MLFLOW_TRACKING_URI, which would override the file.
    settings = load_settings(config, env={})
    client = configure_mlflow(settings)
    experiment_id = ensure_experiment(client, TRAIN_EXPERIMENT, settings.mlflow.artifact_location)
    return Store(root, config, settings, client, experiment_id)


def load_train_module(project: Path = PROJECT) -> ModuleType:
    """``<project>/train.py`` (the classifier example by default) imported as a module (it is
    a script, not a package)."""
    name = f"driftwarden_example_train_{project.name}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, project / "train.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def train_in_process(store: Store, *args: str, project: Path = PROJECT) -> str:
    """Run the example's ``main`` in this process against ``store``; returns the run id."""
    store.activate()
    train = load_train_module(project)
    run_id: str = train.main(["--experiment-name", TRAIN_EXPERIMENT, *args])
    return run_id
