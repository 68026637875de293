"""Loading models, predicting with schema checks, and downloading the logged training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.detectors.estimation import ClassifierOutputs, RegressorOutputs
from driftwarden.errors import InputFileError, UsageError
from driftwarden.tracking.models import (
    download_test_split,
    download_training_data,
    load_model_uri,
    load_model_version,
    predict,
    predict_outputs,
)
from driftwarden.tracking.registry import register_run, set_alias
from tests.tracking.conftest import Trained
from tests.tracking.stores import EXAMPLE_CSV

# One worker runs the module, so its module-scoped trained store is built once.
pytestmark = pytest.mark.xdist_group("models_trained")


def test_training_data_download_is_the_training_frame(trained: Trained, tmp_path: Path) -> None:
    client = trained.store.activate()
    run_id = trained.run_ids[0]

    path = download_training_data(client, run_id, "training_data", tmp_path / "ref")

    assert path.name == "training_data.csv"
    frame = read_frame(path)
    assert list(frame.columns) == list(pd.read_csv(EXAMPLE_CSV).columns)
    assert "target" in frame.columns
    assert data_version(frame) == client.get_run(run_id).data.params["data_version"]


def test_missing_training_data_is_an_input_file_error(trained: Trained, tmp_path: Path) -> None:
    client = trained.store.activate()
    with pytest.raises(InputFileError, match="no training data"):
        download_training_data(client, trained.run_ids[0], "no_such_folder", tmp_path)


def test_load_by_alias_and_version_know_name_version_and_columns(trained: Trained) -> None:
    client = trained.store.activate()
    version = register_run(client, trained.run_ids[1], "models-model")
    set_alias(client, "models-model", "production", version.version)

    by_alias = load_model_uri(client, "models:/models-model@production")
    by_version = load_model_version(client, "models-model", version.version)

    for loaded in (by_alias, by_version):
        assert (loaded.name, loaded.version, loaded.run_id) == (
            "models-model",
            version.version,
            trained.run_ids[1],
        )
        assert loaded.input_columns is not None and "mean_radius" in loaded.input_columns
        assert "target" not in loaded.input_columns
    with pytest.raises(UsageError, match="no version 99"):
        load_model_version(client, "models-model", 99)


def test_predict_ignores_extra_columns_and_accepts_integers(trained: Trained) -> None:
    client = trained.store.activate()
    model = load_model_uri(client, f"runs:/{trained.run_ids[0]}/model")
    frame = pd.read_csv(EXAMPLE_CSV).head(20)
    frame["extra"] = "ignored"
    frame["mean_area"] = frame["mean_area"].round().astype("int64")

    predictions = predict(model, frame)

    assert predictions.shape == (20,)
    assert set(predictions) <= {0, 1}


def test_predict_names_missing_columns(trained: Trained) -> None:
    client = trained.store.activate()
    model = load_model_uri(client, f"runs:/{trained.run_ids[0]}/model")
    frame = pd.read_csv(EXAMPLE_CSV).head(5).drop(columns=["worst_area", "mean_radius"])

    with pytest.raises(InputFileError) as info:
        predict(model, frame, source="batch.csv")

    assert info.value.path == "batch.csv"
    assert info.value.field == "mean_radius"
    assert "worst_area" in str(info.value)


def test_outputs_carry_the_forests_class_probabilities(trained: Trained) -> None:
    client = trained.store.activate()
    model = load_model_uri(client, f"runs:/{trained.run_ids[0]}/model")
    frame = pd.read_csv(EXAMPLE_CSV).head(40)
    features = frame.drop(columns=["target"])

    outputs = predict_outputs(model, frame, "classification", source="batch.csv")

    assert isinstance(outputs, ClassifierOutputs)
    assert outputs.classes == ("0", "1")
    forest = model.model.get_raw_model()
    assert outputs.proba == pytest.approx(forest.predict_proba(features))
    predicted = np.array(outputs.classes)[outputs.predicted].astype(int)
    assert predicted.tolist() == predict(model, frame).tolist()


def test_outputs_of_a_model_without_probabilities_are_a_usage_error(trained: Trained) -> None:
    client = trained.store.activate()
    model = load_model_uri(client, f"runs:/{trained.run_ids[0]}/model")
    frame = pd.read_csv(EXAMPLE_CSV).head(5)
    # A regressor's view of the same model: its predictions, as values
    values = predict_outputs(model, frame, "regression")
    assert isinstance(values, RegressorOutputs) and values.rows == 5
    model.model = _NoProbabilities(model.model)  # a flavour without predict_proba
    with pytest.raises(UsageError, match="gives no class probabilities"):
        predict_outputs(model, frame, "classification")


class _NoProbabilities:
    """A pyfunc model whose flavour offers no raw model (as e.g. a custom python model).

    A fake, because every flavour this project's examples log has probabilities.
    """

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def predict(self, data: pd.DataFrame) -> object:
        return self._inner.predict(data)  # type: ignore[attr-defined]

    def get_raw_model(self) -> object:
        raise NotImplementedError


def test_the_held_out_split_download_names_what_is_missing(
    trained: Trained, tmp_path: Path
) -> None:
    client = trained.store.activate()
    path = download_test_split(client, trained.run_ids[0], "test_data", tmp_path)
    assert path.name == "test_data.csv"
    with pytest.raises(InputFileError, match="no held-out split there"):
        download_test_split(client, trained.run_ids[0], "elsewhere", tmp_path)
