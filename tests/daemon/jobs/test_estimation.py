"""The daemon's estimation job without MLflow: the evaluation set and the drops carry the
model's outputs as columns (``proba_<class>``), so the estimate, its outcome and the
reasons for no estimate are checked directly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.config import load_settings
from driftwarden.daemon.jobs.estimation import Estimator, EvaluationSets
from driftwarden.daemon.jobs.registry_watch import ModelHolder
from driftwarden.errors import InputFileError
from driftwarden.events import EventBus, Recorder
from driftwarden.events import types as ev
from driftwarden.tracking.access import MlflowAccess
from tests.support.daemon_proc import daemon_config


def scored(n: int, seed: int, spread: float = 3.0) -> pd.DataFrame:
    """Rows with calibrated probabilities: ``spread`` small puts them near 0.5 (harder)."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0, 1, n)
    p1 = 1 / (1 + np.exp(-spread * x1))
    return pd.DataFrame(
        {
            "x1": x1.round(4),
            "proba_0": (1 - p1).round(6),
            "proba_1": p1.round(6),
            "target": (rng.uniform(size=n) < p1).astype(int),
        }
    )


def build(tmp_path: Path, evaluation: pd.DataFrame) -> tuple[Estimator, Recorder]:
    path = tmp_path / "evaluation.csv"
    evaluation.to_csv(path, index=False)
    config = daemon_config(
        tmp_path,
        estimation={"reference": str(path), "method": "cbpe"},
        validation={"minimums": {"accuracy": 0.8}},
    )
    settings = load_settings(config, env={})
    events, bus = Recorder(), EventBus()
    bus.subscribe(events)
    sets = EvaluationSets("m", MlflowAccess(settings), tmp_path / "eval", bus.publish)
    return Estimator("m", lambda: settings, ModelHolder(), sets), events


def test_a_harder_drop_is_estimated_below_the_minimum_as_a_breach(tmp_path: Path) -> None:
    estimator, events = build(tmp_path, scored(600, seed=1))
    easy = estimator.estimate(scored(400, 2).drop(columns="target"), key="k1", tags={}, source="a")
    hard = estimator.estimate(
        scored(400, 3, spread=0.7).drop(columns="target"), key="k2", tags={}, source="b"
    )
    assert easy is not None and hard is not None
    assert easy.breached == {} and easy.record.outcome == "ok"
    assert set(hard.breached) == {"accuracy"} and hard.record.outcome == "breach"
    assert hard.result.interval["accuracy"][1] < 0.8
    assert hard.record.kind == "estimation" and hard.write.kind == "estimation_run"
    assert hard.write.key == "k2" and hard.write.payload["result"]["realized"] is None
    assert not events.of(ev.EstimationUnavailable)


def test_a_labelled_drop_reports_estimate_minus_realized(tmp_path: Path) -> None:
    estimator, _ = build(tmp_path, scored(600, seed=1))
    drop = scored(400, seed=4)
    outcome = estimator.estimate(drop, key="k", tags={}, source="c")
    assert outcome is not None and outcome.result.realized is not None
    realized = float((drop[["proba_0", "proba_1"]].to_numpy().argmax(1) == drop["target"]).mean())
    assert outcome.result.realized["accuracy"] == pytest.approx(realized)
    errors = outcome.result.errors()
    assert errors["accuracy"] == pytest.approx(outcome.result.estimated["accuracy"] - realized)
    assert outcome.event("m").errors == errors


def test_labels_the_estimate_cannot_compare_leave_the_estimate_without_realized(
    tmp_path: Path,
) -> None:
    estimator, _ = build(tmp_path, scored(600, seed=1))
    drop = scored(200, seed=5)
    drop.loc[0, "target"] = 7  # a class the evaluation set never saw
    outcome = estimator.estimate(drop, key="k", tags={}, source="d")
    assert outcome is not None and outcome.result.realized is None


def test_a_drop_with_probabilities_for_other_classes_is_an_input_error(tmp_path: Path) -> None:
    estimator, _ = build(tmp_path, scored(600, seed=1))
    drop = scored(200, seed=6).rename(columns={"proba_1": "proba_2"})
    with pytest.raises(InputFileError, match="classes"):
        estimator.estimate(drop.drop(columns="target"), key="k", tags={}, source="e")


def test_too_few_evaluation_rows_means_no_estimate_and_one_event(tmp_path: Path) -> None:
    estimator, events = build(tmp_path, scored(50, seed=1))
    for i in range(2):
        drop = scored(100, seed=10 + i).drop(columns="target")
        assert estimator.estimate(drop, key=f"k{i}", tags={}, source="f") is None
    [why] = events.of(ev.EstimationUnavailable)
    assert "min_reference_rows" in why.why and why.version is None


def test_a_drop_without_outputs_and_no_model_in_force_is_not_estimated(tmp_path: Path) -> None:
    estimator, events = build(tmp_path, scored(600, seed=1))
    drop = scored(100, seed=7)[["x1"]]
    assert estimator.estimate(drop, key="k", tags={}, source="g") is None
    [why] = events.of(ev.EstimationUnavailable)
    assert "no production model" in why.why
