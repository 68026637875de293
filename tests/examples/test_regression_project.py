"""The regression example end to end outside the daemon, with real `mlflow run`.

Two runs of the project on the same 300 rows of the diabetes data, a weak one (stumps) and
a strong one; the other 142 rows play the production data neither model saw. The strong one
goes through `mlflow run`; the weak one, only there to be beaten, runs the project's
``train.py`` in process (the same code without `mlflow run`'s two process starts). Then:
register by an error metric (lowest wins), validate a regressor (MAE/RMSE/R², a maximum),
gate a challenger (lower error wins) and estimate the error of unlabelled data from the
model's held-out split. These are the pieces the daemon's regression loop is made of.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from driftwarden.cli import main
from driftwarden.config import load_settings
from driftwarden.data.read import read_frame
from driftwarden.remediation.gate import run_gate
from driftwarden.tracking.client import mlflow_env
from driftwarden.tracking.models import download_test_split
from driftwarden.tracking.registry import get_version_by_alias, register_run, set_alias
from tests.tracking.stores import REPO, TRAIN_EXPERIMENT, Store, make_store, train_in_process

# One worker runs the module, so its module-scoped trained store is built once.
pytestmark = pytest.mark.xdist_group("regression_project")

PROJECT = REPO / "examples" / "regression_project"
DIABETES_CSV = PROJECT / "data" / "diabetes.csv"
HISTORY_ROWS = 300
TEST_SIZE = 0.4
CHILD_UNSET = {"MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"}


def test_export_reproduces_the_committed_csv(tmp_path: Path) -> None:
    out = tmp_path / "diabetes.csv"
    subprocess.run(
        [sys.executable, str(PROJECT / "export_data.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == DIABETES_CSV.read_bytes()
    frame = pd.read_csv(out)
    assert frame.shape == (442, 11)
    assert frame.columns[-1] == "target"
    assert all(pd.api.types.is_float_dtype(frame[c]) for c in frame.columns)


def test_mlproject_declares_main_with_its_parameters() -> None:
    spec = yaml.safe_load((PROJECT / "MLproject").read_text())
    params = spec["entry_points"]["main"]["parameters"]
    assert set(params) >= {"data_path", "num_trees", "max_depth", "seed", "test_size"}
    assert (PROJECT / params["data_path"]["default"]).resolve() == DIABETES_CSV


@dataclass
class Trained:
    store: Store
    weak: str  # run ids
    strong: str
    production: pd.DataFrame  # rows neither model trained on, with their target


def _mlflow_run(store: Store, cwd: Path, *params: str) -> None:
    bin_dir = Path(sys.executable).parent
    inherited = {k: v for k, v in os.environ.items() if k not in CHILD_UNSET}
    env = {
        **inherited,
        **mlflow_env(store.settings),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    argv = [str(bin_dir / "mlflow"), "run", str(PROJECT), "--env-manager", "local"]
    argv += ["--experiment-name", TRAIN_EXPERIMENT]
    for param in params:
        argv += ["-P", param]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, store_template: Path) -> Trained:
    root = tmp_path_factory.mktemp("regression")
    store = make_store(root, store_template, 'task = "regression"\n')
    data = pd.read_csv(DIABETES_CSV)
    history = root / "history.csv"
    data.iloc[:HISTORY_ROWS].to_csv(history, index=False)
    common = [f"data_path={history}", f"test_size={TEST_SIZE}", "seed=5"]
    weak = ["--data-path", str(history), "--test-size", str(TEST_SIZE), "--seed", "5"]
    train_in_process(store, *weak, "--num-trees", "5", "--max-depth", "1", project=PROJECT)
    _mlflow_run(store, root, *common, "num_trees=40")
    client = store.activate()
    runs = client.search_runs([store.train_experiment_id])
    assert len(runs) == 2
    by_depth = {r.data.params["max_depth"]: r.info.run_id for r in runs}
    return Trained(store, by_depth["1"], by_depth["0"], data.iloc[HISTORY_ROWS:])


def test_a_run_logs_errors_the_model_and_its_held_out_split(
    trained: Trained, tmp_path: Path
) -> None:
    client = trained.store.activate()
    run = client.get_run(trained.strong)
    metrics = run.data.metrics
    assert run.info.status == "FINISHED"
    assert metrics["test_score"] == metrics["test_r2"]
    assert metrics["test_rmse"] < client.get_run(trained.weak).data.metrics["test_rmse"]

    split = read_frame(download_test_split(client, trained.strong, "test_data", tmp_path))

    assert len(split) == math.ceil(TEST_SIZE * HISTORY_ROWS)
    model = mlflow.pyfunc.load_model(f"runs:/{trained.strong}/model")
    predicted = model.predict(split.drop(columns=["target"]))
    assert mean_absolute_error(split["target"], predicted) == pytest.approx(metrics["test_mae"])
    assert root_mean_squared_error(split["target"], predicted) == pytest.approx(
        metrics["test_rmse"]
    )


def test_register_by_an_error_metric_takes_the_lowest(
    trained: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["register", "--config", str(trained.store.config), "--experiment", TRAIN_EXPERIMENT]
    argv += ["--model-name", "diabetes", "--metric", "test_rmse", "--threshold", "200"]

    assert main(argv) == 0

    version = get_version_by_alias(trained.store.activate(), "diabetes", "production")
    assert version is not None and version.run_id == trained.strong
    assert "lowest in experiment" in capsys.readouterr().out


def _config_with(trained: Trained, tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "regression.toml"
    path.write_text(trained.store.config.read_text() + extra, encoding="utf-8")
    return path


def test_validate_a_regressor_with_a_maximum(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "production.csv"
    trained.production.to_csv(data, index=False)
    uri = f"runs:/{trained.strong}/model"
    argv = ["validate", "--config", str(trained.store.config), "--data", str(data)]

    assert main([*argv, "--model-uri", uri, "--max-mae", "1000"]) == 0
    out = capsys.readouterr().out
    model = mlflow.pyfunc.load_model(uri)
    mae = mean_absolute_error(
        trained.production["target"], model.predict(trained.production.drop(columns="target"))
    )
    assert f"mae={mae:.4f}" in out and "rmse=" in out and "r2=" in out
    assert "average=" not in out

    assert main([*argv, "--model-uri", uri, "--max-mae", "1"]) == 1
    assert f"mae {mae:.4f} is above --max-mae 1" in capsys.readouterr().err

    strict = _config_with(trained, tmp_path, "[validation.maximums]\nrmse = 2.0\n")
    argv = ["validate", "--config", str(strict), "--data", str(data), "--model-uri", uri]
    assert main(argv) == 1
    assert "is above validation.maximums.rmse 2" in capsys.readouterr().err

    client = trained.store.activate()
    experiment = client.get_experiment_by_name(trained.store.settings.mlflow.experiment_name)
    assert experiment is not None
    (last, *_) = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"]
    )
    assert last.data.metrics["validation_mae"] == pytest.approx(mae)
    assert {"validation_rmse", "validation_r2"} <= set(last.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(last.info.run_id, "validation")}
    assert "validation/regression_report.txt" in artifacts


def test_the_gate_promotes_the_lower_error_only(trained: Trained, tmp_path: Path) -> None:
    client = trained.store.activate()
    settings = load_settings(trained.store.config, env={})
    assert settings.retrain.promotion.metric == "rmse"  # a regressor's default
    name = settings.model.name
    weak = register_run(client, trained.weak, name).version
    strong = register_run(client, trained.strong, name).version
    set_alias(client, name, "production", weak)
    holdout = trained.production.reset_index(drop=True)

    better = run_gate(client, settings, weak, strong, holdout)
    worse = run_gate(client, settings, strong, weak, holdout)

    assert better.promote and better.direction == "lower" and better.metric == "rmse"
    assert better.challenger_score is not None and better.champion_score is not None
    assert better.challenger_score < better.champion_score
    assert "is lower than champion" in better.reason
    assert not worse.promote
    assert "is not lower than champion" in worse.reason


def test_estimate_the_error_of_unlabelled_data_from_the_model(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = trained.store.activate()
    reference = download_test_split(client, trained.strong, "test_data", tmp_path)
    current = tmp_path / "production.csv"
    trained.production.to_csv(current, index=False)
    uri = f"runs:/{trained.strong}/model"
    argv = ["estimate", str(reference), str(current), "--model-uri", uri]
    argv += ["--config", str(trained.store.config), "--format", "json"]

    assert main(argv) == 0

    document = json.loads(capsys.readouterr().out)
    assert list(document) == [
        "method", "task", "rows", "estimated", "interval", "reference", "realized"
    ]  # fmt: skip
    assert document["task"] == "regression" and document["rows"] == len(trained.production)
    model = mlflow.pyfunc.load_model(uri)
    predicted = model.predict(trained.production.drop(columns="target"))
    realized = mean_absolute_error(trained.production["target"], predicted)
    assert document["realized"]["mae"] == pytest.approx(realized)
    assert document["reference"]["mae"] == pytest.approx(
        client.get_run(trained.strong).data.metrics["test_mae"]
    )
    low, high = document["interval"]["mae"]
    assert low < document["estimated"]["mae"] < high
    assert abs(document["estimated"]["mae"] - realized) < 0.25 * realized
    assert np.isfinite(document["estimated"]["rmse"])
