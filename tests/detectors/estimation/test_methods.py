"""``fit_estimator``: methods by name and clear errors about the evaluation set."""

from __future__ import annotations

import numpy as np
import pytest

from driftwarden.config.model import EstimationConfig
from driftwarden.detectors.estimation import (
    DEFAULT_METHOD,
    METHODS,
    ClassifierOutputs,
    classifier_outputs,
    fit_estimator,
    regressor_outputs,
)
from driftwarden.errors import InputFileError, UsageError


def _outputs(n: int, classes: list[str]) -> tuple[ClassifierOutputs, np.ndarray]:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(len(classes)), size=n)
    labels = np.array(classes)[rng.integers(0, len(classes), size=n)]
    return classifier_outputs(proba, classes), labels


def test_too_few_rows_says_how_many_are_needed() -> None:
    outputs, labels = _outputs(40, ["a", "b"])
    with pytest.raises(InputFileError, match=r"has 40 labelled rows; .* at least 100") as info:
        fit_estimator("cbpe", outputs, labels, source="eval.csv", target="label")
    assert info.value.path == "eval.csv"
    assert info.value.field == "label"


def test_a_class_the_evaluation_set_never_saw_is_named() -> None:
    outputs, _ = _outputs(150, ["a", "b", "c"])
    labels = np.array(["a", "b"] * 75)
    with pytest.raises(InputFileError, match=r"no row of class\(es\) \['c'\]"):
        fit_estimator("cbpe", outputs, labels, source="eval.csv")


def test_labels_the_model_has_no_class_for_are_named() -> None:
    outputs, labels = _outputs(150, ["a", "b"])
    labels[3] = "z"
    with pytest.raises(InputFileError, match=r"\['z'\] are not among the model's classes"):
        fit_estimator("cbpe", outputs, labels, source="eval.csv")


def test_methods_must_fit_the_outputs() -> None:
    outputs, labels = _outputs(150, ["a", "b"])
    with pytest.raises(UsageError, match="'dle' is for regression models"):
        fit_estimator("dle", outputs, labels)
    with pytest.raises(UsageError, match="'cbpe' is for classification models"):
        fit_estimator("cbpe", regressor_outputs(np.zeros(150)), np.zeros(150))
    with pytest.raises(UsageError, match=r"unknown estimation method 'nannyml'; expected one of"):
        fit_estimator("nannyml", outputs, labels)


def test_regression_labels_must_be_numbers() -> None:
    labels = np.array(["1.5"] * 149 + ["n/a"], dtype=object)
    with pytest.raises(InputFileError, match="1 label"):
        fit_estimator("dle", regressor_outputs(np.zeros(150)), labels, source="eval.csv")


def test_a_batch_with_other_classes_is_refused() -> None:
    outputs, labels = _outputs(150, ["a", "b"])
    estimator = fit_estimator("cbpe", outputs, labels)
    other, _ = _outputs(20, ["a", "c"])
    with pytest.raises(InputFileError, match=r"classes \['a', 'c'\], but the evaluation set"):
        estimator.estimate(other, source="cur.csv")


def test_auto_resolves_per_task_and_every_method_is_registered() -> None:
    cfg = EstimationConfig()
    assert cfg.method_for("classification") == DEFAULT_METHOD["classification"]
    assert cfg.method_for("regression") == DEFAULT_METHOD["regression"]
    assert EstimationConfig(method="cbpe").method_for("classification") == "cbpe"
    assert set(METHODS) == {"cbpe", "iw-cbpe", "dle", "iw-dle"}
