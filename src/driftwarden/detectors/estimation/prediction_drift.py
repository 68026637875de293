"""Prediction drift: did the model's outputs move, compared with its outputs on the evaluation set?

The outputs summarise the features the model cares about, so their distribution moving is
an early sign that performance may move too. They are tested with the same KS and
chi-square tests as the features, corrected among themselves only: prediction drift is
reported beside feature drift, never mixed into the feature-level correction.

Tests: classifiers' predicted class (chi-square) and each class probability (KS; with two
classes only the positive one, the other is its complement); regressors' predicted value (KS).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftwarden.config.model import DriftConfig
from driftwarden.detectors.base import FeatureResult, _clean
from driftwarden.detectors.correction import correct
from driftwarden.detectors.drift import chi2_feature, numeric_feature
from driftwarden.detectors.estimation.outputs import ClassifierOutputs, Outputs
from driftwarden.detectors.prepared import CategoricalColumn, NumericColumn, prepare_column


@dataclass
class PredictionDriftResult:
    """The output tests and one verdict.

    Attributes:
        tests: one result per output (``prediction``, ``proba_<class>``), corrected among
            themselves with the drift section's correction.
        p_value: the smallest corrected p-value (the one number to export and alert on).
        drifted: any output drifted (corrected p below alpha and effect above the floor).
    """

    tests: list[FeatureResult]
    p_value: float | None
    drifted: bool
    alpha: float = 0.0
    correction: str = "none"
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _clean(asdict(self))
        return data


def _series(outputs: Outputs) -> dict[str, pd.Series]:
    """Each output as a named column: predicted class/value, class probabilities."""
    if isinstance(outputs, ClassifierOutputs):
        classes = np.asarray(outputs.classes, dtype=object)
        out = {"prediction": pd.Series(classes[outputs.predicted], name="prediction")}
        shown = outputs.classes[1:] if len(outputs.classes) == 2 else outputs.classes
        for key in shown:
            j = outputs.classes.index(key)
            out[f"proba_{key}"] = pd.Series(outputs.proba[:, j], name=f"proba_{key}")
        return out
    return {"prediction": pd.Series(outputs.predicted, name="prediction")}


class PredictionDriftReference:
    """The evaluation set's outputs, prepared once; ``check`` tests a batch's outputs."""

    def __init__(self, outputs: Outputs, cfg: DriftConfig) -> None:
        self.cfg = cfg
        self._columns: dict[str, NumericColumn | CategoricalColumn] = {}
        classifier = isinstance(outputs, ClassifierOutputs)
        for name, series in _series(outputs).items():
            numeric = not (classifier and name == "prediction")
            self._columns[name] = prepare_column(series, numeric)

    def check(self, outputs: Outputs) -> PredictionDriftResult:
        """Test the batch's outputs against the evaluation set's."""
        cfg = self.cfg
        tests: list[FeatureResult] = []
        for name, series in _series(outputs).items():
            column = self._columns.get(name)
            if column is None:
                tests.append(
                    FeatureResult(name, "ks", "numeric", error="not in the evaluation outputs")
                )
            elif isinstance(column, NumericColumn):
                tests.append(numeric_feature(column, series, cfg))
            else:
                tests.append(chi2_feature(column, series, cfg))
        tested = [t for t in tests if t.error is None and t.p_value is not None]
        corrected = correct([t.p_value for t in tested if t.p_value is not None], cfg.correction)
        for test, p in zip(tested, corrected, strict=True):
            test.p_value_corrected = float(p)
            floor = (
                cfg.effect_size_floor
                if test.kind == "numeric"
                else cfg.categorical_effect_size_floor
            )
            big_enough = test.effect_size is not None and test.effect_size >= floor
            test.drifted = bool(p < cfg.alpha and big_enough)
        p_value = float(min(corrected)) if len(corrected) else None
        return PredictionDriftResult(
            tests, p_value, any(t.drifted for t in tests), cfg.alpha, cfg.correction
        )


def prediction_drift(
    reference: Outputs, current: Outputs, cfg: DriftConfig
) -> PredictionDriftResult:
    """One-shot ``PredictionDriftReference(reference, cfg).check(current)``."""
    return PredictionDriftReference(reference, cfg).check(current)
