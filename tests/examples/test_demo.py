"""`driftwarden demo --once`: the interim pipeline on a sqlite store in a work directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from driftwarden.cli import main
from driftwarden.demo import CHECK_EXPERIMENT, MODEL_NAME, TRAIN_EXPERIMENT


@pytest.mark.slow
def test_demo_trains_registers_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workdir = tmp_path / "demo"

    assert main(["demo", "--once", "--workdir", str(workdir)]) == 0

    out = capsys.readouterr().out
    for step in ("[1/4]", "[2/4]", "[3/4]", "[4/4]", "mlflow ui --backend-store-uri"):
        assert step in out
    assert str(workdir) in out
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir / 'state' / 'mlflow.db'}")
    version = client.get_model_version_by_alias(MODEL_NAME, "production")
    train = client.get_experiment_by_name(TRAIN_EXPERIMENT)
    checks = client.get_experiment_by_name(CHECK_EXPERIMENT)
    assert train is not None and checks is not None
    (train_run,) = client.search_runs([train.experiment_id])
    assert version.run_id == train_run.info.run_id
    assert train_run.data.params["data_path"] == str(workdir / "data" / "train.csv")
    (validation,) = client.search_runs([checks.experiment_id])
    assert validation.data.params["n_rows"] == "171"  # the held-out 30%, never trained on
    assert validation.data.metrics["validation_accuracy"] > 0.8
    assert (workdir / "driftwarden.toml").is_file()
