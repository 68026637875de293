"""The example model project: its data export, MLproject, and what a training run logs."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
import pytest
import yaml

from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.errors import InputFileError
from driftwarden.tracking.client import mlflow_env
from driftwarden.tracking.models import download_test_split, download_training_data
from tests.tracking.stores import (
    EXAMPLE_CSV,
    PROJECT,
    TRAIN_EXPERIMENT,
    Store,
    load_train_module,
    make_store,
    train_in_process,
)

# One worker runs the module, so its module-scoped trained store is built once.
pytestmark = pytest.mark.xdist_group("model_project")


def test_export_reproduces_the_committed_csv(tmp_path: Path) -> None:
    out = tmp_path / "bc.csv"
    subprocess.run(
        [sys.executable, str(PROJECT / "export_data.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == EXAMPLE_CSV.read_bytes()
    frame = pd.read_csv(out)
    assert frame.shape == (569, 31)
    assert frame.columns[-1] == "target"
    assert all(c.isidentifier() for c in frame.columns)
    assert set(frame["target"]) == {0, 1}


def test_mlproject_declares_main_with_its_parameters() -> None:
    spec = yaml.safe_load((PROJECT / "MLproject").read_text())
    main = spec["entry_points"]["main"]
    assert set(main["parameters"]) >= {"data_path", "num_trees", "seed"}
    assert main["parameters"]["num_trees"]["type"] == "int"
    assert (PROJECT / main["parameters"]["data_path"]["default"]).resolve() == EXAMPLE_CSV


@dataclass
class Trained:
    store: Store
    run_id: str


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, store_template: Path) -> Trained:
    store = make_store(tmp_path_factory.mktemp("example"), store_template)
    return Trained(store, train_in_process(store, "--num-trees", "10", "--seed", "3"))


def test_training_logs_score_params_and_environment(trained: Trained) -> None:
    run = trained.store.activate().get_run(trained.run_id)

    assert run.info.status == "FINISHED"
    assert run.data.metrics["test_score"] > 0.7
    params = run.data.params
    assert params["num_trees"] == "10" and params["seed"] == "3"
    assert params["data_version"] == data_version(pd.read_csv(EXAMPLE_CSV))
    for key in ("python_version", "sklearn_version", "torch_version", "cuda_available"):
        assert params[key]
    assert params["cuda_available"] in {"true", "false"}
    assert run.data.metrics["log_records_info"] >= 2  # the handler counted train.py's lines


def test_training_logs_a_loadable_model_with_signature(trained: Trained) -> None:
    trained.store.activate()
    model = mlflow.pyfunc.load_model(f"runs:/{trained.run_id}/model")

    schema = model.metadata.get_input_schema()
    assert schema is not None
    frame = pd.read_csv(EXAMPLE_CSV)
    assert schema.input_names() == [c for c in frame.columns if c != "target"]
    predictions = model.predict(frame.drop(columns=["target"]).head(10))
    assert len(predictions) == 10
    assert model.metadata.saved_input_example_info is not None


def test_training_data_is_logged_as_artifact_and_dataset(trained: Trained, tmp_path: Path) -> None:
    client = trained.store.activate()
    run = client.get_run(trained.run_id)

    path = download_training_data(client, trained.run_id, "training_data", tmp_path)

    assert path.relative_to(tmp_path).as_posix() == "training_data/training_data.csv"
    assert read_frame(path).equals(pd.read_csv(EXAMPLE_CSV))
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.digest == run.data.params["data_version"]
    assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == "training"


def test_the_held_out_split_is_logged_beside_the_training_data(
    trained: Trained, tmp_path: Path
) -> None:
    client = trained.store.activate()
    run = client.get_run(trained.run_id)

    path = download_test_split(client, trained.run_id, "test_data", tmp_path)

    assert path.relative_to(tmp_path).as_posix() == "test_data/test_data.csv"
    split = read_frame(path)
    everything = pd.read_csv(EXAMPLE_CSV)
    assert len(split) == math.ceil(0.25 * len(everything))  # test_size 0.25, as sklearn rounds
    assert list(split.columns) == list(everything.columns)
    assert len(split.merge(everything, how="inner")) == len(split)  # rows of the data
    # test_score was measured on exactly these rows
    model = mlflow.pyfunc.load_model(f"runs:/{trained.run_id}/model")
    accuracy = (model.predict(split.drop(columns=["target"])) == split["target"]).mean()
    assert accuracy == pytest.approx(run.data.metrics["test_score"])


def test_same_data_and_seed_give_the_same_score(trained: Trained) -> None:
    again = train_in_process(trained.store, "--num-trees", "10", "--seed", "3")
    client = trained.store.client
    first, second = client.get_run(trained.run_id), client.get_run(again)
    assert first.data.metrics["test_score"] == second.data.metrics["test_score"]
    assert first.data.params["data_version"] == second.data.params["data_version"]


def test_training_rejects_data_without_a_label(trained: Trained, tmp_path: Path) -> None:
    bad = tmp_path / "nolabel.csv"
    pd.read_csv(EXAMPLE_CSV).drop(columns=["target"]).to_csv(bad, index=False)
    trained.store.activate()

    with pytest.raises(InputFileError, match="label column missing") as info:
        load_train_module().main(["--data-path", str(bad), "--experiment-name", TRAIN_EXPERIMENT])

    assert info.value.field == "target"


# ---- through `mlflow run`, with a data file of concept-shifted labels ----------------------

# mlflow.set_experiment() in this process exports MLFLOW_EXPERIMENT_ID; a child must not see it.
CHILD_UNSET = {"MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"}


@pytest.fixture(scope="module")
def shifted_run(
    tmp_path_factory: pytest.TempPathFactory, store_template: Path
) -> tuple[Store, str, Path]:
    """`mlflow run` of the project on the example data with every label flipped."""
    root = tmp_path_factory.mktemp("mlflow-run")
    store = make_store(root, store_template)
    shifted = root / "shifted.csv"
    frame = pd.read_csv(EXAMPLE_CSV)
    frame["target"] = 1 - frame["target"]
    frame.to_csv(shifted, index=False)
    bin_dir = Path(sys.executable).parent
    inherited = {k: v for k, v in os.environ.items() if k not in CHILD_UNSET}
    env = {
        **inherited,
        **mlflow_env(store.settings),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(bin_dir / "mlflow"),
        "run",
        str(PROJECT),
        "--env-manager",
        "local",
        "--experiment-name",
        TRAIN_EXPERIMENT,
        "-P",
        f"data_path={shifted}",
        "-P",
        "num_trees=10",
    ]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = store.activate().search_runs([store.train_experiment_id])
    assert len(runs) == 1
    return store, runs[0].info.run_id, shifted


def test_mlflow_run_with_a_data_path_trains_on_that_file(
    shifted_run: tuple[Store, str, Path],
) -> None:
    store, run_id, shifted = shifted_run
    run = store.activate().get_run(run_id)

    assert run.info.status == "FINISHED"
    assert run.data.params["data_path"] == str(shifted)
    assert run.data.params["data_version"] == data_version(pd.read_csv(shifted))
    assert run.data.params["data_version"] != data_version(pd.read_csv(EXAMPLE_CSV))
    assert run.data.metrics["test_score"] > 0.7
    # The model learned the flipped labels.
    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    frame = pd.read_csv(shifted)
    agree = (model.predict(frame.drop(columns=["target"])) == frame["target"]).mean()
    assert agree > 0.9
