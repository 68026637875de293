"""`driftwarden validate` through the CLI: metrics, report, tags, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score

from driftwarden.cli import main
from driftwarden.tracking.registry import register_run, set_alias
from tests.tracking.conftest import Trained
from tests.tracking.stores import CHECK_EXPERIMENT, EXAMPLE_CSV

# One worker runs the module, so its module-scoped trained store is built once.
pytestmark = pytest.mark.xdist_group("validate_trained")

MODEL = "bc-model"  # model.name in the test config


@pytest.fixture(scope="module")
def production(trained: Trained) -> Trained:
    """The best trained run registered as bc-model@production."""
    client = trained.store.activate()
    version = register_run(client, trained.best_run_id, MODEL)
    set_alias(client, MODEL, "production", version.version)
    return trained


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """A labelled batch: 200 rows of the example data."""
    path = tmp_path / "batch.csv"
    pd.read_csv(EXAMPLE_CSV).sample(200, random_state=0).to_csv(path, index=False)
    return path


def _validate(trained: Trained, *args: str) -> int:
    return main(["validate", "--config", str(trained.store.config), *args])


def _validation_runs(trained: Trained) -> list[mlflow.entities.Run]:
    client = trained.store.activate()
    experiment = client.get_experiment_by_name(CHECK_EXPERIMENT)
    if experiment is None:  # created by the first validation
        return []
    return client.search_runs(
        [experiment.experiment_id],
        "tags.`driftwarden.kind` = 'validation'",
        order_by=["attributes.start_time DESC"],
    )


def test_validate_logs_metrics_report_and_tags(
    production: Trained, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(_validation_runs(production))

    assert _validate(production, "--data", str(batch)) == 0

    runs = _validation_runs(production)
    assert len(runs) == before + 1
    run = runs[0]
    # Oracle: score the same model on the same rows independently.
    frame = pd.read_csv(batch)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@production")
    pred = model.predict(frame.drop(columns=["target"]))
    assert run.data.metrics["validation_accuracy"] == pytest.approx(
        accuracy_score(frame["target"], pred)
    )
    assert run.data.metrics["validation_f1"] == pytest.approx(
        f1_score(frame["target"], pred, average="macro")
    )
    assert run.data.tags["driftwarden.model"] == MODEL
    assert run.data.tags["driftwarden.model_version"] == "1"
    assert run.data.params["n_rows"] == "200"
    client = production.store.client
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "validation")}
    assert artifacts == {"validation/classification_report.txt", "validation/result.json"}
    report = Path(
        client.download_artifacts(run.info.run_id, "validation/classification_report.txt")
    )
    assert "precision" in report.read_text() and "macro avg" in report.read_text()
    out = capsys.readouterr().out
    assert f"{MODEL} v1" in out and "accuracy=" in out


def test_min_accuracy_gives_exit_1_below_and_0_above(
    production: Trained, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _validate(production, "--data", str(batch), "--min-accuracy", "0.5") == 0
    before = len(_validation_runs(production))

    assert _validate(production, "--data", str(batch), "--min-accuracy", "1.01") == 1

    assert "below --min-accuracy 1.01" in capsys.readouterr().err
    assert len(_validation_runs(production)) == before + 1  # the failing run is still logged


def test_missing_target_is_exit_2_naming_file_and_column(
    production: Trained, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.read_csv(batch).drop(columns=["target"]).to_csv(batch, index=False)

    assert _validate(production, "--data", str(batch)) == 2

    err = capsys.readouterr().err
    assert str(batch) in err and "'target'" in err and "label column missing" in err


def test_missing_feature_column_is_exit_2_naming_it(
    production: Trained, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.read_csv(batch).drop(columns=["mean_radius"]).to_csv(batch, index=False)

    assert _validate(production, "--data", str(batch)) == 2

    err = capsys.readouterr().err
    assert str(batch) in err and "mean_radius" in err


def test_wrong_type_for_the_signature_is_exit_2(
    production: Trained, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(batch)
    frame["mean_texture"] = "abc"  # not "n/a": pandas reads that as NaN
    frame.to_csv(batch, index=False)

    assert _validate(production, "--data", str(batch)) == 2

    err = capsys.readouterr().err
    assert str(batch) in err and "signature" in err and "mean_texture" in err


def test_target_flag_parquet_and_run_uri(production: Trained, tmp_path: Path, batch: Path) -> None:
    parquet = tmp_path / "batch.parquet"
    pd.read_csv(batch).rename(columns={"target": "label"}).to_parquet(parquet)
    uri = f"runs:/{production.run_ids[0]}/model"

    code = _validate(production, "--data", str(parquet), "--target", "label", "--model-uri", uri)

    assert code == 0
    run = _validation_runs(production)[0]
    assert run.data.tags["driftwarden.model_uri"] == uri
    assert run.data.tags["driftwarden.model_version"] == ""


def test_unlabelled_rows_are_left_out(production: Trained, batch: Path) -> None:
    frame = pd.read_csv(batch)
    frame.loc[:49, "target"] = None
    frame.to_csv(batch, index=False)

    assert _validate(production, "--data", str(batch)) == 0

    run = _validation_runs(production)[0]
    assert run.data.params["n_rows"] == "150"
    assert run.data.params["n_unlabelled"] == "50"


def test_no_production_alias_is_exit_2_with_advice(
    production: Trained, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _validate(production, "--data", str(batch), "--model-uri", "models:/bc-model@nope")

    assert code == 2
    assert "driftwarden register" in capsys.readouterr().err


def test_config_metrics_and_average_are_honoured(
    production: Trained, batch: Path, tmp_path: Path
) -> None:
    config = tmp_path / "dw.toml"
    config.write_text(
        production.store.config.read_text()
        + '\n[validation]\nmetrics = ["accuracy", "f1", "precision", "recall"]\n'
        'f1_average = "weighted"\n'
    )

    assert main(["validate", "--config", str(config), "--data", str(batch)]) == 0

    run = _validation_runs(production)[0]
    assert {"validation_precision", "validation_recall"} <= set(run.data.metrics)
    assert run.data.params["average"] == "weighted"
    client = production.store.client
    result = json.loads(
        Path(client.download_artifacts(run.info.run_id, "validation/result.json")).read_text()
    )
    assert result["metrics"]["f1"] == pytest.approx(run.data.metrics["validation_f1"])
