"""Dataset rules, likely sources and the size-dependent thresholds, end to end."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import DriftResult, PreparedReference, check_drift
from driftwarden.detectors.base import FeatureResult
from driftwarden.detectors.verdict import batch_alpha, decide, effect_floor


def _check(ref: pd.DataFrame, cur: pd.DataFrame, **cfg: object) -> DriftResult:
    config = DriftConfig(**cfg)  # type: ignore[arg-type]
    return check_drift(PreparedReference.from_frame(ref, config), cur, config)


def _spread_shift() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four of 12 columns moved by 0.15-0.2 sd: here (seed 23 of a search) no column passes
    Benjamini-Hochberg at 0.005 on its own, but the columns together do."""
    rng = np.random.default_rng(23)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=4000) for i in range(12)})
    shifts = [0.2, 0.15, 0.15, 0.15] + [0.0] * 8
    cur = pd.DataFrame({f"x{i}": rng.normal(s, size=400) for i, s in enumerate(shifts)})
    return ref, cur


@pytest.mark.parametrize("rule", ["cauchy", "harmonic_mean"])
def test_combined_rule_finds_a_spread_shift_and_names_its_sources(rule: str) -> None:
    ref, cur = _spread_shift()
    by_features = _check(ref, cur, numeric_test="ks", dataset_rule="features", alpha=0.005)
    combined = _check(ref, cur, numeric_test="ks", dataset_rule=rule, alpha=0.005)
    assert not by_features.dataset_drift and by_features.dataset_p_value is None
    assert combined.dataset_drift and not combined.drifted_features
    assert combined.dataset_drift_reason == "combined"
    assert combined.dataset_p_value is not None and combined.dataset_p_value < 0.005
    assert 1 <= len(combined.likely_sources) <= 10
    smallest = min(combined.features, key=lambda f: f.p_value or 1.0)
    assert combined.likely_sources[0] == smallest.feature
    assert set(combined.likely_sources) <= {"x0", "x1", "x2", "x3"}
    data = combined.to_dict()
    assert data["likely_sources"] == combined.likely_sources
    assert DriftResult.from_dict(data).to_dict() == data
    assert combined.to_mlflow_metrics()["dataset.p_value"] == combined.dataset_p_value


def test_one_strong_column_still_fires_as_a_feature() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=3000) for i in range(8)})
    cur = pd.DataFrame({f"x{i}": rng.normal(size=500) for i in range(8)})
    cur["x5"] += 1.0
    result = _check(ref, cur, dataset_rule="cauchy")
    assert result.dataset_drift_reason == "features"
    assert result.drifted_features == ["x5"] and result.likely_sources == []


def test_clean_batches_stay_quiet_with_a_combined_rule() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=3000) for i in range(10)})
    cur = pd.DataFrame({f"x{i}": rng.normal(size=500) for i in range(10)})
    result = _check(ref, cur, dataset_rule="harmonic_mean")
    assert not result.dataset_drift and result.dataset_drift_reason is None
    assert result.dataset_p_value is not None and result.dataset_p_value > 0.005


def test_effect_floor_gates_the_combined_rule() -> None:
    """Huge batches: every column moved by 0.01 sd is significant together, but trivial."""
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=200_000) for i in range(6)})
    cur = pd.DataFrame({f"x{i}": rng.normal(0.015, size=200_000) for i in range(6)})
    floored = _check(ref, cur, numeric_test="ks", dataset_rule="cauchy", effect_size_floor=0.05)
    unfloored = _check(ref, cur, numeric_test="ks", dataset_rule="cauchy", effect_size_floor=0.0)
    assert floored.dataset_p_value is not None and floored.dataset_p_value < 1e-6
    assert not floored.dataset_drift
    assert unfloored.dataset_drift


def test_size_dependent_alpha_and_floor_are_recorded_per_feature() -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    cur = pd.DataFrame({"x": rng.normal(size=4000), "c": rng.choice(["a", "b"], 4000)})
    result = _check(ref, cur, alpha=0.01, alpha_reference_rows=1000, effect_floor_min_rows=5000)
    for feature in result.features:
        assert feature.threshold == pytest.approx(0.01 * math.sqrt(1000 / 4000))
        assert feature.effect_floor == 0.0  # 4000 rows: below effect_floor_min_rows
    assert {f.effect_measure for f in result.features} == {"wasserstein", "jensen_shannon"}


def test_batch_alpha_and_effect_floor() -> None:
    cfg = DriftConfig(alpha=0.004, alpha_reference_rows=2500, effect_floor_min_rows=100)
    assert batch_alpha(cfg, 2500) == 0.004
    assert batch_alpha(cfg, 10_000) == pytest.approx(0.002)
    assert batch_alpha(DriftConfig(alpha=0.004), 10**9) == 0.004
    assert effect_floor(cfg, "numeric", 99) == 0.0
    assert effect_floor(cfg, "numeric", 100) == cfg.effect_size_floor
    assert effect_floor(cfg, "categorical", 100) == cfg.categorical_effect_size_floor


def test_decide_ignores_untested_columns() -> None:
    features = [
        FeatureResult("a", "ad", "numeric", p_value=1e-8, effect_size=1.0),
        FeatureResult("b", "ad", "numeric", error="no finite values"),
        FeatureResult("c", "chi2", "categorical", p_value=0.5, effect_size=0.0),
    ]
    verdict = decide(features, DriftConfig(dataset_rule="cauchy"), 100)
    assert verdict.columns[1] is None
    assert verdict.drifted == [0] and verdict.drifted_share == 0.5
    assert verdict.reason == "features"
