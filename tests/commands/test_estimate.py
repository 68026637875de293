"""`driftwarden estimate`: the JSON contract, outputs from columns or a model, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import accuracy_score, f1_score

from driftwarden.cli import main
from driftwarden.detectors.estimation import DEFAULT_METHOD
from driftwarden.tracking.models import download_test_split
from tests.tracking.conftest import Trained, trained
from tests.tracking.stores import EXAMPLE_CSV

# One worker runs the module, so its module-scoped trained store is built once.
pytestmark = pytest.mark.xdist_group("estimate_trained")

__all__ = ["trained"]  # the tracking tests' module-scoped fixture

JSON_KEYS = ["method", "task", "rows", "estimated", "interval", "reference", "realized"]


@dataclass
class Files:
    reference: Path
    current: Path
    current_frame: pd.DataFrame


def _with_outputs(model: RandomForestClassifier, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    features = frame.drop(columns=["target"])
    out["prediction"] = model.predict(features)
    for j, label in enumerate(model.classes_):
        out[f"proba_{label}"] = model.predict_proba(features)[:, j]
    return out


@pytest.fixture(scope="module")
def classified(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """The breast-cancer data with a forest's outputs as columns; large tumours in CURRENT."""
    root = tmp_path_factory.mktemp("estimate")
    data = pd.read_csv(EXAMPLE_CSV).sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, evaluation, pool = data.iloc[:200], data.iloc[200:400], data.iloc[400:]
    model = RandomForestClassifier(30, random_state=0, n_jobs=1)
    model.fit(train.drop(columns=["target"]), train["target"])
    reference = root / "reference.csv"
    current = root / "current.csv"
    _with_outputs(model, evaluation).to_csv(reference, index=False)
    shifted = _with_outputs(model, pool[pool["mean_radius"] > pool["mean_radius"].median()])
    shifted.to_csv(current, index=False)
    return Files(reference, current, shifted)


def _estimate(*args: str) -> int:
    return main(["estimate", *args])


def test_json_is_the_documented_object_with_the_realized_value(
    classified: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _estimate(str(classified.reference), str(classified.current), "--format", "json")

    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert list(document) == JSON_KEYS
    assert document["task"] == "classification"
    assert document["method"] == "iw-cbpe"
    assert document["rows"] == len(classified.current_frame)
    assert set(document["estimated"]) == {"accuracy", "precision", "recall", "f1"}
    truth, predicted = classified.current_frame["target"], classified.current_frame["prediction"]
    assert document["realized"]["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert document["realized"]["f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    for name, (low, high) in document["interval"].items():
        assert low <= document["estimated"][name] <= high
    assert abs(document["estimated"]["accuracy"] - document["realized"]["accuracy"]) < 0.08


def test_the_target_in_current_is_not_used_for_the_estimate(
    classified: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unlabelled = tmp_path / "unlabelled.csv"
    classified.current_frame.drop(columns=["target"]).to_csv(unlabelled, index=False)
    flipped = tmp_path / "flipped.csv"
    wrong = classified.current_frame.assign(target=1 - classified.current_frame["target"])
    wrong.to_csv(flipped, index=False)

    assert _estimate(str(classified.reference), str(unlabelled), "--format", "json") == 0
    without = json.loads(capsys.readouterr().out)
    assert _estimate(str(classified.reference), str(flipped), "--format", "json") == 0
    with_wrong = json.loads(capsys.readouterr().out)

    assert without["realized"] is None
    assert with_wrong["estimated"] == without["estimated"]
    assert with_wrong["realized"]["accuracy"] < 0.5


def test_the_table_shows_estimate_interval_reference_and_prediction_drift(
    classified: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _estimate(str(classified.reference), str(classified.current)) == 0
    out = capsys.readouterr().out
    assert "estimated performance (iw-cbpe, classification)" in out
    assert "95% interval" in out and "realized" in out
    assert "prediction drift:" in out and "proba_1: ks" in out


def test_column_names_and_task_are_configurable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(900, 2))
    y = 3 * x[:, 0] + rng.normal(size=900) * (0.1 + x[:, 1])
    model = RandomForestRegressor(20, min_samples_leaf=5, random_state=0).fit(x[:300], y[:300])
    frames = []
    for rows in (slice(300, 600), slice(600, 900)):
        frames.append(
            pd.DataFrame(
                {"a": x[rows, 0], "b": x[rows, 1], "y": y[rows], "yhat": model.predict(x[rows])}
            )
        )
    reference, current = tmp_path / "ref.parquet", tmp_path / "cur.csv"
    frames[0].to_parquet(reference)
    frames[1].drop(columns=["y"]).to_csv(current, index=False)
    config = tmp_path / "dw.toml"
    config.write_text("[estimation]\nmin_reference_rows = 50\n")

    argv = [str(reference), str(current), "--task", "regression", "--target", "y"]
    argv += ["--prediction-column", "yhat", "--format", "json", "--config", str(config)]
    code = _estimate(*argv)

    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["method"] == DEFAULT_METHOD["regression"]
    assert document["task"] == "regression"
    assert set(document["estimated"]) == {"mae", "rmse"}
    assert document["realized"] is None
    assert document["reference"]["mae"] == pytest.approx(
        np.mean(np.abs(frames[0]["y"] - frames[0]["yhat"]))
    )


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ("no proba in current", "current", "column 'proba_<class>': no class probabilities"),
        ("no target in reference", "reference", "column 'target': label column missing"),
        (
            "few rows",
            "reference",
            "has 40 labelled rows; performance estimation needs at least 100",
        ),
        ("unseen class", "reference", "has no row of class(es) ['0']"),
    ],
)
def test_bad_input_is_exit_2_naming_the_file_and_the_column(
    classified: Files,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: str,
    where: str,
    message: str,
) -> None:
    reference = pd.read_csv(classified.reference)
    current = classified.current_frame
    if change == "no proba in current":
        current = current.drop(columns=["proba_0", "proba_1"])
    elif change == "no target in reference":
        reference = reference.drop(columns=["target"])
    elif change == "few rows":
        reference = reference.head(40)
    else:
        reference = reference[reference["target"] == 1]
    paths = {"reference": tmp_path / "ref.csv", "current": tmp_path / "cur.csv"}
    reference.to_csv(paths["reference"], index=False)
    current.to_csv(paths["current"], index=False)

    code = _estimate(str(paths["reference"]), str(paths["current"]))

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"driftwarden estimate: {paths[where]}")
    assert message in err


def test_mlflow_is_not_imported_without_a_model_uri(classified: Files) -> None:
    code = (
        "import sys\n"
        "from driftwarden.cli import main\n"
        f"rc = main(['estimate', {str(classified.reference)!r}, {str(classified.current)!r}, "
        "'--format', 'json'])\n"
        "assert rc == 0, rc\n"
        "print('mlflow' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_with_a_model_uri_the_model_predicts_both_files(
    trained: Trained, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = trained.store.activate()
    run_id = trained.best_run_id
    reference = download_test_split(client, run_id, "test_data", tmp_path)
    current = tmp_path / "current.csv"
    data = pd.read_csv(EXAMPLE_CSV)
    data[data["mean_radius"] > 15].drop(columns=["target"]).to_csv(current, index=False)

    argv = [str(reference), str(current), "--model-uri", f"runs:/{run_id}/model"]
    code = _estimate(*argv, "--config", str(trained.store.config), "--format", "json")

    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["rows"] == int((data["mean_radius"] > 15).sum())
    assert document["reference"]["accuracy"] == pytest.approx(
        client.get_run(run_id).data.metrics["test_score"]
    )
    assert document["realized"] is None
    assert 0.5 < document["estimated"]["accuracy"] <= 1.0
