"""Metric directions, regression limits, the [estimation] section and the task rules in the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwarden.config import load_settings
from driftwarden.config.metrics import is_better, metric_direction
from driftwarden.config.model import EstimationConfig, RetrainConfig, Settings, ValidationConfig
from driftwarden.errors import ConfigError


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("mae", "lower"),
        ("rmse", "lower"),
        ("test_rmse", "lower"),
        ("val_loss", "lower"),
        ("mean_squared_error", "lower"),
        ("validation-MAE", "lower"),
        ("accuracy", "higher"),
        ("r2", "higher"),
        ("test_score", "higher"),
        ("f1", "higher"),
        ("terror_index", "higher"),  # a word, not a word part
    ],
)
def test_direction_from_the_metric_name(name: str, direction: str) -> None:
    assert metric_direction(name) == direction


def test_better_is_strict_in_either_direction() -> None:
    assert is_better(0.9, 0.8, "higher") and not is_better(0.8, 0.8, "higher")
    assert is_better(40.0, 50.0, "lower") and not is_better(50.0, 50.0, "lower")


def test_error_metrics_take_maximums_and_the_others_minimums() -> None:
    cfg = ValidationConfig(maximums={"mae": 40.0, "rmse": 55.0}, minimums={"r2": 0.3})
    assert cfg.breaches({"mae": 41.0, "rmse": 50.0, "r2": 0.2}) == {
        "mae": (41.0, 40.0),
        "r2": (0.2, 0.3),
    }
    with pytest.raises(ValueError, match=r"minimums\.mae: mae is an error metric"):
        ValidationConfig(minimums={"mae": 10.0})
    with pytest.raises(ValueError, match=r"maximums\.accuracy: accuracy is higher-is-better"):
        ValidationConfig(maximums={"accuracy": 0.5})
    with pytest.raises(ValueError, match=r"not in validation.metrics: \['precision'\]"):
        ValidationConfig(minimums={"precision": 0.5})


def test_defaults_for_classification_are_unchanged() -> None:
    settings = Settings()
    assert settings.validation.metrics == ["accuracy", "f1"]
    assert settings.validation.minimums == {"accuracy": 0.8}
    assert settings.validation.maximums == {}
    assert settings.retrain.promotion.metric == "accuracy"
    assert settings.retrain.promotion.direction == "higher"
    assert settings.retrain.register_better == "higher"


def test_a_regressor_gets_its_own_defaults() -> None:
    settings = Settings.model_validate({"model": {"task": "regression"}})
    assert settings.validation.minimums == {}
    assert settings.retrain.promotion.metric == "rmse"
    assert settings.retrain.promotion.direction == "lower"
    assert settings.estimation.method_for("regression") in {"dle", "iw-dle"}


def _load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "dw.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, env={})


def test_metrics_the_task_cannot_compute_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"validation.minimums: \['accuracy'\] cannot be computed"
    ):
        _load(tmp_path, '[model]\ntask = "regression"\n[validation.minimums]\naccuracy = 0.9\n')
    with pytest.raises(ConfigError, match=r"validation.maximums: \['mae'\] cannot be computed"):
        _load(tmp_path, "[validation.maximums]\nmae = 3.0\n")
    with pytest.raises(
        ConfigError, match=r"retrain\.promotion\.metric: 'accuracy' cannot be computed"
    ):
        _load(tmp_path, '[model]\ntask = "regression"\n[retrain.promotion]\nmetric = "accuracy"\n')
    with pytest.raises(ConfigError, match=r"estimation\.method: 'dle' estimates regression models"):
        _load(tmp_path, '[estimation]\nmethod = "dle"\n')


def test_a_regression_config_loads(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        '[model]\ntask = "regression"\n'
        '[validation]\nmetrics = ["mae", "rmse", "r2"]\n'
        "[validation.maximums]\nmae = 50.0\n"
        '[retrain]\nregister_metric = "test_rmse"\nregister_threshold = 70.0\n'
        '[retrain.promotion]\nmetric = "mae"\n'
        '[estimation]\nmethod = "dle"\nreference = "data/eval.csv"\n',
    )
    assert settings.validation.maximums == {"mae": 50.0}
    assert settings.retrain.register_better == "lower"
    assert settings.retrain.promotion.direction == "lower"
    assert settings.estimation.reference_path == (tmp_path / "data" / "eval.csv").resolve()


def test_register_direction_can_be_said_explicitly() -> None:
    assert (
        RetrainConfig(register_metric="score", register_direction="lower").register_better
        == "lower"
    )
    assert RetrainConfig(register_metric="test_mae").register_better == "lower"
    assert (
        RetrainConfig(register_metric="test_mae", register_direction="higher").register_better
        == "higher"
    )


def test_estimation_reference_is_the_model_or_a_file() -> None:
    assert EstimationConfig().reference_path is None
    assert EstimationConfig(reference="eval.csv").reference_path == Path("eval.csv")
    with pytest.raises(ValueError):
        EstimationConfig(interval_level=0.4)
    with pytest.raises(ValueError):
        EstimationConfig(min_reference_rows=5)
