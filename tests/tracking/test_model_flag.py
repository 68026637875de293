"""`validate` and `register` with ``--model NAME``: a config keeping several models names the
one whose settings (alias, target, thresholds) the command uses; it never guesses.

The store is the tracking tests' sqlite store with two real training runs; the config
below keeps three ``[models.<name>]`` tables pointing at it.
"""

from __future__ import annotations

from pathlib import Path

import mlflow.entities
import pandas as pd
import pytest

from driftwarden.cli import main
from driftwarden.tracking.registry import get_version_by_alias, register_run, set_alias
from tests.tracking.conftest import Trained
from tests.tracking.stores import CHECK_EXPERIMENT, EXAMPLE_CSV, TRAIN_EXPERIMENT

MODELS = """
[state]
directory = "{state}"

[mlflow]
experiment_name = "{experiment}"
http_request_max_retries = 0

[models.bc]
name = "flag-bc"
alias = "champion"
[models.bc.watch]
paths = ["drops/bc"]

[models.other]
name = "flag-other"
target = "label"
[models.other.watch]
paths = ["drops/other"]
[models.other.retrain]
register_threshold = 0.999

[models.fresh]
name = "flag-fresh"
alias = "blue"
[models.fresh.watch]
paths = ["drops/fresh"]
"""
KEPT = "['flag-bc', 'flag-other', 'flag-fresh']"


@pytest.fixture(scope="module")
def config(trained: Trained) -> Path:
    path = trained.store.root / "models.toml"
    state = trained.store.root / "state"
    path.write_text(MODELS.format(state=state, experiment=CHECK_EXPERIMENT), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def champion(trained: Trained) -> str:
    """The best trained run registered as flag-bc@champion (flag-bc's alias, not production)."""
    client = trained.store.activate()
    version = register_run(client, trained.best_run_id, "flag-bc")
    set_alias(client, "flag-bc", "champion", version.version)
    return version.version


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    path = tmp_path / "batch.csv"
    pd.read_csv(EXAMPLE_CSV).sample(200, random_state=0).to_csv(path, index=False)
    return path


def _latest_validation(trained: Trained) -> mlflow.entities.Run:
    client = trained.store.activate()
    experiment = client.get_experiment_by_name(CHECK_EXPERIMENT)
    [run, *_] = client.search_runs(
        [experiment.experiment_id],
        "tags.`driftwarden.kind` = 'validation'",
        order_by=["attributes.start_time DESC"],
    )
    return run


def test_validate_uses_the_named_models_alias_and_target(
    trained: Trained, config: Path, champion: str, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["validate", "--config", str(config), "--data", str(batch)]
    assert main([*argv, "--model", "flag-bc"]) == 0
    assert f"validated flag-bc v{champion} (models:/flag-bc@champion)" in capsys.readouterr().out
    run = _latest_validation(trained)
    assert run.data.tags["driftwarden.model_uri"] == f"models:/flag-bc/{champion}"
    assert run.data.tags["driftwarden.model"] == "flag-bc"
    assert run.data.tags["driftwarden.model_version"] == champion
    # flag-other's label column is "label": the batch has none (refused before MLflow).
    assert main([*argv, "--model", "flag-other"]) == 2
    err = capsys.readouterr().err
    assert "label column missing" in err and "'label'" in err


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ((), f"--model: this config keeps 3 models; name one of {KEPT}"),
        (("--model", "bc"), f"--model: 'bc' is not kept by this config; kept: {KEPT}"),
    ],
)
def test_validate_and_register_refuse_to_guess_the_model(
    config: Path,
    batch: Path,
    extra: tuple[str, ...],
    said: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", "--config", str(config), "--data", str(batch), *extra]) == 2
    assert said in capsys.readouterr().err
    argv = ["register", "--config", str(config), "--experiment", TRAIN_EXPERIMENT, *extra]
    assert main(argv) == 2
    assert said in capsys.readouterr().err


def test_register_uses_the_named_models_name_alias_and_threshold(
    trained: Trained, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["register", "--config", str(config), "--experiment", TRAIN_EXPERIMENT]
    # flag-other's register_threshold (0.999) is its own: nothing qualifies.
    assert main([*argv, "--model", "flag-other"]) == 1
    assert "metrics.test_score > 0.999" in capsys.readouterr().err
    assert main([*argv, "--model", "flag-fresh"]) == 0
    client = trained.store.activate()
    version = get_version_by_alias(client, "flag-fresh", "blue")
    assert version is not None and version.run_id == trained.best_run_id
    assert client.search_model_versions("name='flag-other'") == []


def test_with_a_single_model_the_flag_is_optional_and_checked(
    trained: Trained, batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single = str(trained.store.config)  # [model] name = "bc-model"
    assert main(["validate", "--config", single, "--data", str(batch), "--model", "nope"]) == 2
    assert "--model: 'nope' is not kept by this config; kept: ['bc-model']" in (
        capsys.readouterr().err
    )
    argv = ["register", "--config", single, "--experiment", TRAIN_EXPERIMENT]
    assert main([*argv, "--model", "nope"]) == 2
    assert main([*argv, "--model", "bc-model", "--model-name", "flag-single"]) == 0
    assert main([*argv, "--model-name", "flag-single"]) == 0  # the flag left out
