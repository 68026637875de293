"""``[models.<name>]``: several models in one file, each with its effective sections.

The single ``[model]`` table stays valid and means one model; a model's tables override the
top-level sections key by key; an error names the model's key; no two models share a drop
directory; ``config check`` prints each model's effective settings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftwarden.config import load_settings
from driftwarden.config.models import one_model
from driftwarden.errors import ConfigError, UsageError
from tests.config.test_load import config_check

DRIFTWARDEN = Path(sys.executable).parent / "driftwarden"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "driftwarden.toml"
    path.write_text(text, encoding="utf-8")
    return path


TWO_MODELS = """
[drift]
alpha = 0.05
[drift.mmd]
enabled = true
permutations = 200
[validation.minimums]
accuracy = 0.8

[models.churn]
target = "churned"
[models.churn.watch]
paths = ["drops/churn"]
[models.churn.drift]
alpha = 0.01
[models.churn.drift.mmd]
permutations = 500

[models.fraud]
name = "team.fraud"
alias = "champion"
task = "regression"
[models.fraud.watch]
paths = ["drops/fraud"]
[models.fraud.validation.minimums]
r2 = 0.5
"""


def test_a_single_model_table_means_one_model(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[model]\nname = "only"\n'), env={})
    kept = settings.kept_models()
    assert list(kept) == ["only"] and kept["only"] is settings
    assert not settings.several_models


def test_each_model_has_its_sections_merged_key_by_key(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, TWO_MODELS), env={})
    kept = settings.kept_models()
    assert list(kept) == ["churn", "team.fraud"]
    churn, fraud = kept["churn"], kept["team.fraud"]
    assert (churn.model.name, churn.model.target, churn.model.alias) == (
        "churn",
        "churned",
        "production",
    )
    assert (fraud.model.name, fraud.model.alias, fraud.model.task) == (
        "team.fraud",
        "champion",
        "regression",
    )
    # Overridden keys are the model's, the others the top-level section's, nested ones too.
    assert churn.drift.alpha == 0.01 and fraud.drift.alpha == 0.05
    assert churn.drift.mmd.permutations == 500 and churn.drift.mmd.enabled
    assert fraud.drift.mmd.permutations == 200
    # A table-valued key is replaced whole.
    assert churn.validation.minimums == {"accuracy": 0.8}
    assert fraud.validation.minimums == {"r2": 0.5}
    # Task defaults follow each model's own task: the regressor's gate compares RMSE.
    assert churn.retrain.promotion.metric == "accuracy"
    assert fraud.retrain.promotion.metric == "rmse"
    # Paths are relative to the config file.
    assert churn.watch.paths == [tmp_path / "drops" / "churn"]
    assert fraud.watch.paths == [tmp_path / "drops" / "fraud"]
    # The shared sections are the file's.
    assert churn.state == settings.state and fraud.alerts == settings.alerts


def test_an_override_is_checked_as_its_section_and_named_by_the_models_key(
    tmp_path: Path,
) -> None:
    text = TWO_MODELS.replace("alpha = 0.01", 'alpha = "0.01"')
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={})
    assert "models.churn.drift.alpha" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, TWO_MODELS + "[models.churn.reference]\nsauce = 1\n"), env={})
    assert "models.churn.reference.sauce" in str(info.value)


def test_model_and_models_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[model\] and \[models.<name>\]"):
        load_settings(write(tmp_path, '[model]\nname = "x"\n' + TWO_MODELS), env={})


def test_two_tables_keeping_one_registered_model_are_refused(tmp_path: Path) -> None:
    text = TWO_MODELS + '[models.again]\nname = "churn"\n[models.again.watch]\npaths = ["d"]\n'
    with pytest.raises(ConfigError, match=r"models.again.name: registered model 'churn'"):
        load_settings(write(tmp_path, text), env={})


@pytest.mark.parametrize(
    ("fraud_paths", "why"),
    [
        ('["drops/churn"]', "is also a drop directory of [models.churn]"),
        ('["drops/churn/processed"]', "is where [models.churn] puts the processed files"),
    ],
)
def test_a_drop_directory_belongs_to_one_model(tmp_path: Path, fraud_paths: str, why: str) -> None:
    text = TWO_MODELS.replace('paths = ["drops/fraud"]', f"paths = {fraud_paths}")
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={})
    assert f"models.fraud.watch.paths[0]: {str(tmp_path / fraud_paths[2:-2])!r} {why}" in str(
        info.value
    )


def test_config_check_prints_each_models_effective_settings(tmp_path: Path) -> None:
    config = write(tmp_path, TWO_MODELS)
    proc = config_check(config, tmp_path, None, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    models = json.loads(proc.stdout)["models"]
    assert "model" not in json.loads(proc.stdout)  # [model] is not in force
    assert list(models) == ["churn", "fraud"]
    assert models["churn"]["name"] == "churn" and models["fraud"]["name"] == "team.fraud"
    assert models["churn"]["drift"]["alpha"] == 0.01 and models["fraud"]["drift"]["alpha"] == 0.05
    assert models["churn"]["drift"]["mmd"]["permutations"] == 500
    assert models["fraud"]["validation"]["minimums"] == {"r2": 0.5}
    assert models["churn"]["watch"]["paths"] == [str(tmp_path / "drops" / "churn")]
    text = config_check(config, tmp_path)
    assert text.returncode == 0, text.stderr
    assert "[models.churn.drift]" in text.stdout and "alpha = 0.01" in text.stdout
    assert 'name = "team.fraud"' in text.stdout


def test_config_check_names_the_model_whose_reference_is_missing(tmp_path: Path) -> None:
    text = TWO_MODELS + '[models.fraud.reference]\nsource = "file"\npath = "nowhere.csv"\n'
    proc = config_check(write(tmp_path, text), tmp_path)
    assert proc.returncode == 2
    assert "models.fraud.reference.path" in proc.stderr, proc.stderr


def test_commands_acting_on_one_model_take_it_by_name(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, TWO_MODELS), env={})
    assert one_model(settings, "team.fraud").model.alias == "champion"
    with pytest.raises(UsageError, match=r"--model: this config keeps 2 models"):
        one_model(settings, None)
    with pytest.raises(UsageError, match=r"--model: 'fraud' is not kept by this config"):
        one_model(settings, "fraud")  # the table's name is not the registered one here
    single = load_settings(write(tmp_path, '[model]\nname = "only"\n'), env={})
    assert one_model(single, None) is single


@pytest.mark.parametrize("command", ["retrain", "rollback"])
def test_retrain_and_rollback_refuse_to_guess_the_model(tmp_path: Path, command: str) -> None:
    config = write(tmp_path, TWO_MODELS)
    proc = subprocess.run(
        [str(DRIFTWARDEN), command, "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "--model: this config keeps 2 models; name one of ['churn', 'team.fraud']" in proc.stderr


ESTIMATION = """
[estimation]
interval_level = 0.9
min_reference_rows = 50

[models.churn.estimation]
reference = "eval/churn.csv"
method = "cbpe"

[models.fraud.estimation]
enabled = false
"""


def test_a_models_estimation_overrides_the_top_level_key_by_key(tmp_path: Path) -> None:
    kept = load_settings(write(tmp_path, TWO_MODELS + ESTIMATION), env={}).kept_models()
    churn, fraud = kept["churn"].estimation, kept["team.fraud"].estimation
    assert (churn.method, churn.enabled, churn.interval_level) == ("cbpe", True, 0.9)
    assert churn.reference_path == tmp_path / "eval" / "churn.csv"  # relative to the file
    assert (fraud.enabled, fraud.method, fraud.reference) == (False, "auto", "model")
    assert fraud.min_reference_rows == churn.min_reference_rows == 50


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("interval_level = 1.5", "models.churn.estimation.interval_level"),
        ('seed = "7"', "models.churn.estimation.seed"),
        ("sauce = 1", "models.churn.estimation.sauce"),
    ],
)
def test_a_models_estimation_is_checked_and_named_by_its_key(
    tmp_path: Path, override: str, key: str
) -> None:
    text = TWO_MODELS + f"[models.churn.estimation]\n{override}\n"
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={})
    assert key in str(info.value)


def test_a_models_estimation_method_must_suit_its_task(tmp_path: Path) -> None:
    # fraud is a regressor: a classifier's estimator is refused for it, named by its key ...
    text = TWO_MODELS + '[models.fraud.estimation]\nmethod = "cbpe"\n'
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={})
    assert "models.fraud.estimation.method: 'cbpe' estimates classification models" in str(
        info.value
    )
    # ... also when it inherits the method from [estimation], while churn may use it.
    text = TWO_MODELS + '[estimation]\nmethod = "cbpe"\n'
    with pytest.raises(ConfigError, match=r"models\.fraud\.estimation\.method"):
        load_settings(write(tmp_path, text), env={})
    # A regressor's method at the top, the classifier overriding it: both models suit.
    text = TWO_MODELS + '[estimation]\nmethod = "dle"\n[models.churn.estimation]\nmethod = "auto"\n'
    kept = load_settings(write(tmp_path, text), env={}).kept_models()
    assert kept["team.fraud"].estimation.method == "dle"
    assert kept["churn"].estimation.method_for("classification") == "iw-cbpe"


def test_config_check_prints_each_models_effective_estimation(tmp_path: Path) -> None:
    config = write(tmp_path, TWO_MODELS + ESTIMATION)
    proc = config_check(config, tmp_path, None, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    models = json.loads(proc.stdout)["models"]
    assert models["churn"]["estimation"]["method"] == "cbpe"
    assert models["churn"]["estimation"]["reference"] == str(tmp_path / "eval" / "churn.csv")
    assert models["fraud"]["estimation"]["enabled"] is False
    assert models["fraud"]["estimation"]["interval_level"] == 0.9
    text = config_check(config, tmp_path)
    assert text.returncode == 0, text.stderr
    assert "[models.fraud.estimation]" in text.stdout and "enabled = false" in text.stdout


def test_each_models_validation_and_gate_follow_its_own_task(tmp_path: Path) -> None:
    """A regressor kept beside classifiers gets no accuracy minimum and an RMSE gate, and a
    top-level error-metric limit is not refused for the classifiers' default task."""
    text = """
[validation.maximums]
rmse = 3.0

[models.price]
task = "regression"
[models.price.watch]
paths = ["drops/price"]
"""
    price = load_settings(write(tmp_path, text), env={}).kept_models()["price"]
    assert price.validation.minimums == {} and price.validation.maximums == {"rmse": 3.0}
    assert price.retrain.promotion.metric == "rmse"


@pytest.mark.parametrize(
    ("override", "key", "metric"),
    [
        ("[models.price.validation.minimums]\nf1 = 0.5", "validation.minimums", "f1"),
        (
            '[models.price.retrain.promotion]\nmetric = "accuracy"',
            "retrain.promotion.metric",
            "accuracy",
        ),
    ],
)
def test_a_limit_a_models_task_cannot_compute_is_refused_by_the_models_key(
    tmp_path: Path, override: str, key: str, metric: str
) -> None:
    text = f"""
[models.price]
task = "regression"
[models.price.watch]
paths = ["drops/price"]
{override}
"""
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env={})
    message = str(caught.value)
    assert f"models.price.{key}" in message and metric in message
    assert "'regression'" in message
