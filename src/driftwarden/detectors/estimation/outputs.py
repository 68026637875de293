"""A model's outputs on a frame, checked once: predicted class and class probabilities, or values.

Every estimator and the prediction-drift test take these records, whether the outputs came
from the model itself (``tracking.models.predict_outputs``) or from columns of the file
(``outputs_from_frame``). Class labels are compared by their text (``label_key``), so a
label ``1`` read as an integer, ``1.0`` read as a float and a column ``proba_1`` all name
the same class.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from driftwarden.errors import InputFileError

# Probabilities may be off by float rounding; rows are renormalised within this tolerance.
_PROBA_TOLERANCE = 1e-3
Source = str | os.PathLike[str] | None


def label_key(value: Any) -> str:
    """The text a class label is matched by: ``1``, ``1.0``, ``np.int64(1)`` and ``"1"`` -> ``"1"``."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer():
        return str(int(float(value)))
    return str(value)


def sorted_classes(keys: Iterable[str]) -> list[str]:
    """Class keys in numeric order when all are numbers (2 before 10), else by text."""
    values = list(dict.fromkeys(keys))
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


@dataclass(frozen=True)
class ClassifierOutputs:
    """Class probabilities and the predicted class of each row.

    Attributes:
        classes: the class keys (``label_key``), in the column order of ``proba``.
        proba: (rows, classes) probabilities; each row sums to 1.
        predicted: (rows,) index into ``classes`` of the predicted class.
    """

    classes: tuple[str, ...]
    proba: np.ndarray
    predicted: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.proba.shape[0])

    def positive_index(self) -> int:
        """The class F1 counts as positive for ``binary`` averaging: the largest label."""
        return self.classes.index(sorted_classes(self.classes)[-1])


@dataclass(frozen=True)
class RegressorOutputs:
    """The predicted value of each row."""

    predicted: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.predicted.shape[0])


Outputs = ClassifierOutputs | RegressorOutputs


def classifier_outputs(
    proba: np.ndarray | pd.DataFrame,
    classes: Sequence[Any],
    prediction: Sequence[Any] | np.ndarray | None = None,
    source: Source = None,
    columns: Sequence[str] | None = None,
) -> ClassifierOutputs:
    """Check probabilities (finite, within [0, 1], rows summing to 1) and map the predictions.

    Args:
        proba: (rows, classes) probabilities in the order of ``classes``.
        classes: the class labels (any type; matched by ``label_key``).
        prediction: the predicted labels; None takes the most probable class.
        source: the file, for error messages.
        columns: the probability columns' names, for error messages.

    Raises:
        InputFileError: naming the file and the column that is wrong.
    """
    where = source if source is not None else "<data>"
    keys = tuple(label_key(c) for c in classes)
    names = list(columns) if columns is not None else [f"class {k}" for k in keys]
    if len(set(keys)) != len(keys):
        raise InputFileError(where, f"duplicate classes among the probability columns {names}")
    if len(keys) < 2:
        raise InputFileError(
            where,
            f"found probabilities for {len(keys)} class(es) ({names}); "
            "a classifier needs one probability column per class, at least two",
        )
    values = np.asarray(proba, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(keys):
        raise InputFileError(where, f"expected {len(keys)} probability columns, got {values.shape}")
    for j, name in enumerate(names):
        column = values[:, j]
        bad = ~np.isfinite(column) | (column < -_PROBA_TOLERANCE) | (column > 1 + _PROBA_TOLERANCE)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputFileError(
                where,
                f"{int(bad.sum())} value(s) are not probabilities in [0, 1] "
                f"(first at row {row}: {column[row]!r})",
                field=name,
            )
    values = np.clip(values, 0.0, 1.0)
    totals = values.sum(axis=1)
    off = np.abs(totals - 1.0) > 0.01
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise InputFileError(
            where,
            f"the probabilities of {int(off.sum())} row(s) do not sum to 1 "
            f"(row {row} sums to {totals[row]:.4f}); expected one column per class",
            field=names[0],
        )
    values = values / totals[:, None]
    if prediction is None:
        predicted = np.argmax(values, axis=1)
    else:
        predicted = _class_indices(prediction, keys, where, "prediction", values.shape[0])
    return ClassifierOutputs(keys, values, predicted.astype(np.int64))


def _class_indices(
    labels: Sequence[Any] | np.ndarray, keys: tuple[str, ...], where: object, field: str, rows: int
) -> np.ndarray:
    values = list(labels)
    if len(values) != rows:
        raise InputFileError(where, f"{len(values)} values for {rows} rows", field=field)
    index = {k: i for i, k in enumerate(keys)}
    unknown = sorted({label_key(v) for v in values} - set(index))
    if unknown:
        raise InputFileError(
            where,
            f"predicted class(es) {unknown[:10]} have no probability column; "
            f"the classes are {list(keys)}",
            field=field,
        )
    return np.fromiter((index[label_key(v)] for v in values), dtype=np.int64, count=rows)


def label_indices(
    labels: Sequence[Any] | np.ndarray, classes: tuple[str, ...], source: Source, field: str
) -> np.ndarray:
    """Labels as indices into ``classes``; a label the model has no class for is an error."""
    where = source if source is not None else "<data>"
    values = list(labels)
    index = {k: i for i, k in enumerate(classes)}
    unknown = sorted({label_key(v) for v in values} - set(index), key=str)
    if unknown:
        raise InputFileError(
            where,
            f"label(s) {unknown[:10]} are not among the model's classes {list(classes)}",
            field=field,
        )
    return np.fromiter((index[label_key(v)] for v in values), dtype=np.int64, count=len(values))


def regressor_outputs(
    prediction: Sequence[Any] | np.ndarray, source: Source = None, field: str = "prediction"
) -> RegressorOutputs:
    """Predicted values as finite floats; raises ``InputFileError`` naming the column otherwise."""
    where = source if source is not None else "<data>"
    values = pd.to_numeric(pd.Series(np.asarray(prediction).ravel()), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputFileError(
            where,
            f"{int(bad.sum())} predicted value(s) are missing or not numbers (first at row {row})",
            field=field,
        )
    return RegressorOutputs(values)


def proba_columns(frame: pd.DataFrame, prefix: str) -> list[str]:
    """The columns named ``<prefix><class>``, in file order."""
    return [
        str(c) for c in frame.columns if str(c).startswith(prefix) and len(str(c)) > len(prefix)
    ]


def outputs_from_frame(
    frame: pd.DataFrame,
    task: str,
    prediction_column: str = "prediction",
    proba_prefix: str = "proba_",
    source: Source = None,
) -> Outputs:
    """The model's outputs from columns of a file: ``prediction`` and ``proba_<class>``.

    Classifiers need one probability column per class (the prediction column is optional:
    without it the most probable class is the prediction); regressors need the prediction.

    Raises:
        InputFileError: naming the file and the missing or malformed column.
    """
    where = source if source is not None else "<data>"
    if task == "regression":
        if prediction_column not in frame.columns:
            raise InputFileError(
                where,
                f"no predictions: expected the column {prediction_column!r} "
                f"(--prediction-column, estimation.prediction_column) or --model-uri; "
                f"columns are {list(frame.columns)[:20]}",
                field=prediction_column,
            )
        return regressor_outputs(frame[prediction_column], where, prediction_column)
    columns = proba_columns(frame, proba_prefix)
    if not columns:
        raise InputFileError(
            where,
            f"no class probabilities: expected one column per class named {proba_prefix}<class> "
            f"(--proba-prefix, estimation.proba_prefix) or --model-uri; "
            f"columns are {list(frame.columns)[:20]}",
            field=f"{proba_prefix}<class>",
        )
    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(
            frame[column]
        ):
            raise InputFileError(where, "probabilities must be numbers", field=column)
    classes = [c[len(proba_prefix) :] for c in columns]
    prediction = None
    if prediction_column in frame.columns:
        prediction = frame[prediction_column].to_numpy()
        missing = pd.isna(frame[prediction_column])
        if missing.any():
            raise InputFileError(
                where,
                f"{int(missing.sum())} row(s) have no prediction",
                field=prediction_column,
            )
    return classifier_outputs(
        frame[columns].to_numpy(dtype=np.float64, na_value=np.nan),
        classes,
        prediction,
        where,
        columns,
    )


def output_columns(frame: pd.DataFrame, prediction_column: str, proba_prefix: str) -> list[str]:
    """Columns of ``frame`` that hold model outputs (not features)."""
    out = [prediction_column] if prediction_column in frame.columns else []
    return out + proba_columns(frame, proba_prefix)
