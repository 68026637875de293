"""`driftwarden register` end to end through the CLI on a sqlite store with real trained runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwarden.cli import main
from driftwarden.tracking.registry import (
    find_best_run,
    get_version_by_alias,
    get_version_by_stage,
)
from tests.support.mlflow_server import free_port
from tests.tracking.conftest import Trained
from tests.tracking.stores import TRAIN_EXPERIMENT, Store, make_store
from tests.tracking.test_registry import _run_with

# One worker runs the module, so its module-scoped trained store is built once.
pytestmark = pytest.mark.xdist_group("register_command_trained")


def _register(trained: Trained, *extra: str) -> int:
    return main(
        [
            "register",
            "--config",
            str(trained.store.config),
            "--experiment",
            TRAIN_EXPERIMENT,
            *extra,
        ]
    )


def test_register_picks_the_best_run_and_sets_the_alias(
    trained: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _register(trained, "--model-name", "cli-best")

    assert code == 0
    client = trained.store.activate()
    version = get_version_by_alias(client, "cli-best", "production")
    assert version is not None
    assert version.run_id == trained.best_run_id
    out = capsys.readouterr().out
    assert f"registered run {trained.best_run_id}" in out
    assert "alias 'production' -> version 1 (was unset)" in out


def test_register_twice_creates_no_second_version(
    trained: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _register(trained, "--model-name", "cli-idem") == 0
    assert _register(trained, "--model-name", "cli-idem") == 0

    client = trained.store.activate()
    assert len(client.search_model_versions("name='cli-idem'")) == 1
    assert "no new version created" in capsys.readouterr().out


def test_register_honours_metric_threshold_alias_and_stage(trained: Trained) -> None:
    code = _register(
        trained,
        "--model-name",
        "cli-stage",
        "--metric",
        "train_score",
        "--threshold",
        "0.5",
        "--alias",
        "champion",
        "--stage",
        "Production",
    )

    assert code == 0
    client = trained.store.activate()
    by_alias = get_version_by_alias(client, "cli-stage", "champion")
    by_stage = get_version_by_stage(client, "cli-stage", "Production")
    assert by_alias is not None and by_stage is not None
    assert by_alias.version == by_stage.version


def test_register_uses_the_config_for_model_name_and_threshold(trained: Trained) -> None:
    assert _register(trained) == 0  # model.name = "bc-model" in the test config
    client = trained.store.activate()
    assert get_version_by_alias(client, "bc-model", "production") is not None


def test_nothing_qualifies_is_exit_1_naming_what_was_searched_and_the_best_found(
    trained: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _register(trained, "--model-name", "cli-none", "--threshold", "0.999")

    assert code == 1
    err = capsys.readouterr().err
    assert f"experiment '{TRAIN_EXPERIMENT}'" in err
    assert "metrics.test_score > 0.999" in err
    best = trained.scores[trained.best_run_id]
    assert f"the best is test_score={best:.4f} (run {trained.best_run_id})" in err
    client = trained.store.activate()
    assert client.search_model_versions("name='cli-none'") == []


def test_an_error_metric_is_searched_lowest_first(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = store.client.create_experiment("errors")
    _run_with(store, exp, test_rmse=60.0)
    lowest = _run_with(store, exp, test_rmse=55.0)
    _run_with(store, exp, test_rmse=70.0)
    _run_with(store, exp, "FAILED", test_rmse=40.0)  # not finished: never a candidate

    assert find_best_run(store.client, "errors", "test_rmse", 58.0, "lower").info.run_id == lowest
    assert find_best_run(store.client, "errors", "test_rmse", 50.0, "lower") is None
    assert find_best_run(store.client, "errors", "test_rmse", None, "lower").info.run_id == lowest
    highest = find_best_run(store.client, "errors", "test_rmse", 58.0, "higher")
    assert highest is not None and highest.data.metrics["test_rmse"] == 70.0

    argv = ["register", "--config", str(store.config), "--experiment", "errors"]
    assert main([*argv, "--metric", "test_rmse", "--threshold", "50"]) == 1
    err = capsys.readouterr().err
    assert "metrics.test_rmse < 50.0" in err  # the direction follows from the name
    assert f"the best is test_rmse=55.0000 (run {lowest})" in err

    assert main([*argv, "--metric", "test_rmse", "--threshold", "80", "--direction", "higher"]) == 1
    assert "metrics.test_rmse > 80.0" in capsys.readouterr().err

    assert main([*argv, "--metric", "val_loss", "--threshold", "1"]) == 1
    assert "no finished run has the metric 'val_loss'" in capsys.readouterr().err


def test_unknown_experiment_is_exit_2_and_names_close_ones(
    trained: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["register", "--config", str(trained.store.config), "--experiment", "trian"])

    assert code == 2
    err = capsys.readouterr().err
    assert "experiment 'trian' does not exist" in err
    assert f"did you mean '{TRAIN_EXPERIMENT}'" in err

    code = main(["register", "--config", str(trained.store.config), "--experiment", "zzzz-none"])
    assert code == 2
    assert "experiments: " in capsys.readouterr().err


def test_experiment_defaults_to_mlflow_experiment_name(
    trained: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", TRAIN_EXPERIMENT)
    code = main(["register", "--config", str(trained.store.config), "--model-name", "cli-env"])
    assert code == 0


def test_unreachable_server_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A real refused connection: nothing listens on this port.
    config = tmp_path / "dw.toml"
    config.write_text(
        f'[mlflow]\ntracking_uri = "http://127.0.0.1:{free_port()}"\n'
        "http_request_max_retries = 0\nhttp_request_timeout_seconds = 2\n"
        f'[state]\ndirectory = "{tmp_path}/state"\n'
    )

    code = main(["register", "--config", str(config), "--experiment", "x"])

    assert code == 3
    assert "unreachable" in capsys.readouterr().err


def test_bad_config_is_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[model]\nnmae = 'x'\n")
    assert main(["register", "--config", str(config)]) == 2


def test_empty_store_is_exit_1(tmp_path: Path, store_template: Path) -> None:
    store: Store = make_store(tmp_path, store_template)
    assert main(["register", "--config", str(store.config), "--experiment", "train"]) == 1
