"""Model outputs read from columns or arrays: class matching and errors that name the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwarden.detectors.estimation.outputs import (
    ClassifierOutputs,
    RegressorOutputs,
    classifier_outputs,
    label_indices,
    label_key,
    output_columns,
    outputs_from_frame,
    sorted_classes,
)
from driftwarden.errors import InputFileError


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (1, "1"),
        (1.0, "1"),
        (np.int64(3), "3"),
        ("1", "1"),
        (2.5, "2.5"),
        ("yes", "yes"),
        (True, "True"),
    ],
)
def test_labels_match_by_their_text(value: object, key: str) -> None:
    assert label_key(value) == key


def test_numeric_classes_sort_as_numbers() -> None:
    assert sorted_classes(["10", "2", "1"]) == ["1", "2", "10"]
    assert sorted_classes(["b", "a"]) == ["a", "b"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0],
            "prediction": [0, 1, 1],
            "proba_0": [0.9, 0.2, 0.4],
            "proba_1": [0.1, 0.8, 0.6],
            "target": [0, 1, 0],
        }
    )


def test_columns_give_probabilities_and_predicted_indices() -> None:
    outputs = outputs_from_frame(_frame(), "classification", source="f.csv")
    assert isinstance(outputs, ClassifierOutputs)
    assert outputs.classes == ("0", "1")
    assert outputs.predicted.tolist() == [0, 1, 1]
    assert outputs.proba[:, 1].tolist() == [0.1, 0.8, 0.6]
    assert output_columns(_frame(), "prediction", "proba_") == ["prediction", "proba_0", "proba_1"]


def test_without_a_prediction_column_the_most_probable_class_is_predicted() -> None:
    outputs = outputs_from_frame(_frame().drop(columns="prediction"), "classification")
    assert isinstance(outputs, ClassifierOutputs)
    assert outputs.predicted.tolist() == [0, 1, 1]


def test_prefix_and_prediction_column_are_configurable() -> None:
    frame = _frame().rename(columns={"prediction": "pred", "proba_0": "p:0", "proba_1": "p:1"})
    outputs = outputs_from_frame(frame, "classification", "pred", "p:")
    assert isinstance(outputs, ClassifierOutputs)
    assert outputs.classes == ("0", "1")


def test_missing_probability_columns_name_the_file_and_the_pattern() -> None:
    with pytest.raises(InputFileError, match="one column per class named proba_<class>") as info:
        outputs_from_frame(
            _frame().drop(columns=["proba_0", "proba_1"]), "classification", source="cur.csv"
        )
    assert info.value.path == "cur.csv"
    assert info.value.field == "proba_<class>"


def test_a_single_probability_column_is_not_enough() -> None:
    with pytest.raises(InputFileError, match="at least two"):
        outputs_from_frame(_frame().drop(columns=["proba_0"]), "classification", source="f.csv")


def test_values_that_are_not_probabilities_name_the_column_and_row() -> None:
    frame = _frame()
    frame.loc[2, "proba_1"] = 1.7
    with pytest.raises(InputFileError, match=r"not probabilities .*row 2") as info:
        outputs_from_frame(frame, "classification", source="f.csv")
    assert info.value.field == "proba_1"
    frame.loc[2, "proba_1"] = np.nan
    with pytest.raises(InputFileError, match="not probabilities"):
        outputs_from_frame(frame, "classification", source="f.csv")


def test_rows_must_sum_to_one() -> None:
    frame = _frame()
    frame.loc[1, "proba_0"] = 0.5
    with pytest.raises(InputFileError, match=r"row 1 sums to 1.3000"):
        outputs_from_frame(frame, "classification", source="f.csv")


def test_a_predicted_class_without_a_probability_column_is_an_error() -> None:
    frame = _frame()
    frame.loc[0, "prediction"] = 7
    with pytest.raises(InputFileError, match=r"\['7'\] have no probability column") as info:
        outputs_from_frame(frame, "classification", source="f.csv")
    assert info.value.field == "prediction"


def test_text_probabilities_are_an_error() -> None:
    frame = _frame()
    frame["proba_1"] = ["a", "b", "c"]
    with pytest.raises(InputFileError, match="must be numbers") as info:
        outputs_from_frame(frame, "classification", source="f.csv")
    assert info.value.field == "proba_1"


def test_regression_needs_the_prediction_column_with_numbers() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "prediction": [3.5, 4.0]})
    outputs = outputs_from_frame(frame, "regression")
    assert isinstance(outputs, RegressorOutputs)
    assert outputs.predicted.tolist() == [3.5, 4.0]
    with pytest.raises(InputFileError, match="expected the column 'yhat'") as info:
        outputs_from_frame(frame, "regression", prediction_column="yhat", source="f.csv")
    assert info.value.field == "yhat"
    frame["prediction"] = ["3.5", "n/a"]
    with pytest.raises(InputFileError, match=r"not numbers .*row 1"):
        outputs_from_frame(frame, "regression", source="f.csv")


def test_labels_outside_the_classes_are_named() -> None:
    assert label_indices([1, 0.0, "1"], ("0", "1"), "f.csv", "target").tolist() == [1, 0, 1]
    with pytest.raises(InputFileError, match=r"label\(s\) \['2'\] are not among") as info:
        label_indices([0, 2], ("0", "1"), "f.csv", "target")
    assert info.value.field == "target"


def test_arrays_are_renormalised_within_rounding() -> None:
    outputs = classifier_outputs(np.array([[0.3333, 0.3333, 0.3333]]), ["a", "b", "c"])
    assert outputs.proba.sum() == pytest.approx(1.0)
    assert outputs.positive_index() == 2
