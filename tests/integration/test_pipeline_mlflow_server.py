"""The CI/CD pipeline against a real `mlflow server`: mlflow run -> register -> validate.

Every step is the command a user or the CI workflow runs, as a subprocess, once (the
commands' other outcomes, run in process, are in tests/tracking: registering twice adds no
version, validation below ``--min-accuracy`` exits 1).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.support.mlflow_server import MlflowServer
from tests.tracking.stores import EXAMPLE_CSV, PROJECT

# One worker runs every module on the session's `mlflow server`s (sqlite and PostgreSQL),
# so each server starts once (each start costs seconds of CPU).
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("mlflow_servers")]

BIN = Path(sys.executable).parent
EXPERIMENT = "integration-train"
MODEL = "integration-model"


def _env(server: MlflowServer) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"}
    }
    env.update(
        MLFLOW_TRACKING_URI=server.url,
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="1",
        MLFLOW_HTTP_REQUEST_TIMEOUT="30",
    )
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_train_register_validate_against_mlflow_server(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    env = _env(mlflow_server)
    config = tmp_path / "driftwarden.toml"
    config.write_text(
        f'[state]\ndirectory = "{tmp_path / "state"}"\n'
        f'[mlflow]\ntracking_uri = "{mlflow_server.url}"\nexperiment_name = "integration-checks"\n'
        f'[model]\nname = "{MODEL}"\n'
    )
    batch = tmp_path / "batch.csv"
    pd.read_csv(EXAMPLE_CSV).sample(150, random_state=1).to_csv(batch, index=False)

    trained = _run(
        [
            str(BIN / "mlflow"),
            "run",
            str(PROJECT),
            "--env-manager",
            "local",
            "--experiment-name",
            EXPERIMENT,
            "-P",
            "num_trees=10",
        ],
        env,
        tmp_path,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]

    driftwarden = [str(BIN / "driftwarden")]
    register = [*driftwarden, "register", "--config", str(config), "--experiment", EXPERIMENT]
    first = _run(register, env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"as '{MODEL}' version 1" in first.stdout

    validate = [*driftwarden, "validate", "--config", str(config), "--data", str(batch)]
    ok = _run([*validate, "--min-accuracy", "0.8"], env, tmp_path)
    assert ok.returncode == 0, ok.stderr

    client = MlflowClient(tracking_uri=mlflow_server.url)
    assert len(client.search_model_versions(f"name='{MODEL}'")) == 1
    version = client.get_model_version_by_alias(MODEL, "production")
    (train_run,) = client.search_runs(
        [client.get_experiment_by_name(EXPERIMENT).experiment_id]  # type: ignore[union-attr]
    )
    assert version.run_id == train_run.info.run_id
    assert train_run.data.metrics["test_score"] > 0.7
    # the training data, and the held-out split that performance estimation calibrates on
    artifacts = {a.path for a in client.list_artifacts(train_run.info.run_id)}
    assert artifacts == {"training_data", "test_data"}
    checks = client.get_experiment_by_name("integration-checks")
    assert checks is not None
    runs = client.search_runs([checks.experiment_id])
    assert len(runs) == 1
    for run in runs:
        assert run.data.tags["driftwarden.model"] == MODEL
        assert run.data.tags["driftwarden.model_version"] == "1"
        assert {"validation_accuracy", "validation_f1"} <= set(run.data.metrics)
        report = client.download_artifacts(
            run.info.run_id, "validation/classification_report.txt", str(tmp_path)
        )
        assert "macro avg" in Path(report).read_text()
