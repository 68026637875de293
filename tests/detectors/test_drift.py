"""check_drift end to end: defined results for bad columns, correction and floor, real data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp
from sklearn.datasets import load_breast_cancer, load_wine

from driftwarden.config.model import DriftConfig
from driftwarden.detectors import DriftResult, PreparedReference, check_drift, check_frames
from driftwarden.detectors.prepared import prepare_column
from tests.support.hypothesis_profiles import examples


def _check(ref: pd.DataFrame, cur: pd.DataFrame, **cfg: object) -> DriftResult:
    config = DriftConfig(**cfg)  # type: ignore[arg-type]
    return check_drift(PreparedReference.from_frame(ref, config), cur, config)


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 1.0, 1.0, np.nan]),
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(values, min_size=1, max_size=40), st.lists(values, min_size=1, max_size=40))
def test_nan_inf_are_dropped_counted_and_the_rest_matches_scipy(
    ref: list[float], cur: list[float]
) -> None:
    """Any column (NaN, inf, constant, empty after dropping) gives a result, never an exception."""
    result = _check(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), numeric_test="ks")
    (feature,) = result.features
    r, c = np.array(ref), np.array(cur)
    r_fin, c_fin = r[np.isfinite(r)], c[np.isfinite(c)]
    assert feature.n_dropped == c.size - c_fin.size
    assert feature.details["reference_dropped"] == r.size - r_fin.size
    if r_fin.size == 0 or c_fin.size == 0:
        assert feature.error is not None and "no finite values" in feature.error
        assert not feature.drifted and feature.p_value is None
    else:
        assert feature.error is None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # scipy's exact→asymp fallback
            expected = ks_2samp(r_fin, c_fin)
        assert feature.statistic == expected.statistic
        assert feature.p_value == pytest.approx(expected.pvalue, abs=1e-10)
        assert feature.effect_size is not None and np.isfinite(feature.effect_size)
    DriftResult.from_dict(result.to_dict())  # JSON-safe and round-trips
    result.to_json()


def test_constant_columns_are_not_drift() -> None:
    result = _check(pd.DataFrame({"c": [5.0] * 50}), pd.DataFrame({"c": [5.0] * 20}))
    assert result.features[0].statistic == 0.0
    assert result.features[0].p_value == 1.0
    assert not result.dataset_drift


def test_known_drift_and_no_drift() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=4000) for i in range(10)})
    clean = pd.DataFrame({f"x{i}": rng.normal(size=2000) for i in range(10)})
    moved = clean.copy()
    moved["x3"] = moved["x3"] + 0.5
    assert not _check(ref, clean).dataset_drift
    result = _check(ref, moved)
    assert result.dataset_drift
    assert result.drifted_features == ["x3"]
    assert result.features[0].feature == "x3"  # drifted first


def test_correction_decides_a_borderline_feature() -> None:
    """One p-value of ~0.003 among 20 features: drift without correction, not after Bonferroni."""
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=3000) for i in range(20)})
    cur = pd.DataFrame({f"x{i}": rng.normal(size=3000) for i in range(20)})
    cur["x0"] = cur["x0"] + 0.12
    loose = _check(
        ref, cur, numeric_test="ks", correction="none", alpha=0.01, effect_size_floor=0.0
    )
    strict = _check(
        ref, cur, numeric_test="ks", correction="bonferroni", alpha=0.01, effect_size_floor=0.0
    )
    raw = next(f for f in loose.features if f.feature == "x0")
    assert 0.0001 < raw.p_value < 0.01 / 1.5  # the setup really is borderline
    assert "x0" in loose.drifted_features
    assert "x0" not in strict.drifted_features
    corrected = next(f for f in strict.features if f.feature == "x0")
    assert corrected.p_value_corrected == pytest.approx(min(1.0, raw.p_value * 20))


def test_effect_size_floor_ignores_significant_but_tiny_shifts() -> None:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=400_000)})
    cur = pd.DataFrame({"x": rng.normal(0.02, size=400_000)})  # 0.02 sd: nobody cares
    floored = _check(ref, cur, effect_size_floor=0.05)
    unfloored = _check(ref, cur, effect_size_floor=0.0)
    assert floored.features[0].p_value < 1e-10
    assert not floored.dataset_drift
    assert unfloored.dataset_drift


def test_dataset_share_rule() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=2000) for i in range(4)})
    cur = pd.DataFrame({f"x{i}": rng.normal(size=2000) for i in range(4)})
    cur["x0"] += 1.0
    # The share applies to drifted features; a combining rule can fire without any.
    assert _check(ref, cur, dataset_rule="features", dataset_drift_share=0.0).dataset_drift
    assert _check(ref, cur, dataset_rule="features", dataset_drift_share=0.25).dataset_drift
    result = _check(ref, cur, dataset_rule="features", dataset_drift_share=0.5)
    assert result.drifted_features == ["x0"] and not result.dataset_drift


def test_schema_findings_are_in_the_same_result() -> None:
    ref = pd.DataFrame({"a": [1.0, 2.0, 3.0] * 20, "b": ["x", "y", "z"] * 20, "gone": 1.0})
    cur = pd.DataFrame({"a": ["1", "oops", "3"] * 10, "b": [None, None, "x"] * 10, "new": 2})
    result = _check(ref, cur)
    kinds = {(f.column, f.kind, f.severity) for f in result.schema}
    assert ("gone", "missing_column", "error") in kinds
    assert ("new", "extra_column", "warning") in kinds
    assert ("a", "dtype_changed", "error") in kinds
    assert ("b", "null_rate_changed", "warning") in kinds
    a = next(f for f in result.features if f.feature == "a")
    assert a.n_dropped == 10  # "oops" could not be read as a number
    assert {f.feature for f in result.features} == {"a", "b"}


def test_categorical_column_with_new_category() -> None:
    ref = pd.DataFrame({"c": ["a", "b"] * 500})
    cur = pd.DataFrame({"c": ["a", "b", "new"] * 200})
    result = _check(ref, cur)
    (feature,) = result.features
    assert feature.test == "chi2" and feature.drifted
    assert feature.details["new_categories"] == ["new"]


def test_target_and_excluded_columns_are_not_tested() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=100), "y": rng.normal(size=100), "t": 0})
    config = DriftConfig(exclude_columns=["y"])
    prepared = PreparedReference.from_frame(ref, config, target="t")
    result = check_drift(prepared, ref, config)
    assert [f.feature for f in result.features] == ["x"]
    assert result.schema == []


def test_one_shot_equals_prepared() -> None:
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    cur = pd.DataFrame({"x": rng.normal(0.1, size=800), "c": rng.choice(["a", "b"], 800)})
    config = DriftConfig()
    assert check_frames(ref, cur, config).to_dict() == _check(ref, cur).to_dict()


def test_real_data_covariate_shift_is_found_and_named() -> None:
    """breast_cancer split on 'mean radius': the current batch holds only large tumours."""
    frame = load_breast_cancer(as_frame=True).frame
    rng = np.random.default_rng(0)
    order = rng.permutation(len(frame))
    reference, rest = frame.iloc[order[:300]], frame.iloc[order[300:]]
    shifted = rest[rest["mean radius"] > rest["mean radius"].median()]
    config = DriftConfig()
    prepared = PreparedReference.from_frame(reference, config, target="target")
    result = check_drift(prepared, shifted, config)
    assert result.dataset_drift
    assert "mean radius" in result.drifted_features
    assert "mean perimeter" in result.drifted_features  # moves with the radius


def test_real_data_clean_split_is_quiet() -> None:
    frame = load_wine(as_frame=True).frame
    rng = np.random.default_rng(1)
    order = rng.permutation(len(frame))
    config = DriftConfig()
    prepared = PreparedReference.from_frame(frame.iloc[order[:89]], config, target="target")
    result = check_drift(prepared, frame.iloc[order[89:]], config)
    assert not result.dataset_drift
    assert len(result.features) == 13


def test_datetime_columns_are_reported_not_tested() -> None:
    stamps = pd.date_range("2026-01-01", periods=50, freq="h")
    ref = pd.DataFrame({"when": stamps, "x": np.arange(50.0)})
    cur = pd.DataFrame({"when": stamps + pd.Timedelta(days=30), "x": np.arange(50.0)})
    result = _check(ref, cur)
    assert [f.feature for f in result.features] == ["x"]
    assert [(f.column, f.kind) for f in result.schema] == [("when", "untested_column")]


def test_duplicate_current_columns_are_a_finding_not_a_crash() -> None:
    ref = pd.DataFrame({"x": np.arange(30.0)})
    cur = pd.concat([pd.DataFrame({"x": np.arange(30.0)})] * 2, axis=1)
    result = _check(ref, cur)
    assert [(f.column, f.kind) for f in result.schema] == [("x", "duplicate_column")]
    assert result.features[0].error is None


def test_a_corrected_p_of_zero_ranks_first() -> None:
    """The strongest drift (p underflows to 0.0) is listed before weaker drift, not last."""
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"far": rng.normal(size=20_000), "near": rng.normal(size=20_000)})
    cur = pd.DataFrame(
        {"far": rng.normal(100.0, size=20_000), "near": rng.normal(0.15, size=20_000)}
    )
    result = check_frames(ref, cur, DriftConfig(numeric_test="ks"))
    by_name = {f.feature: f for f in result.features}
    assert by_name["far"].p_value_corrected == 0.0
    assert 0.0 < (by_name["near"].p_value_corrected or 0.0) < 0.005
    assert by_name["far"].drifted and by_name["near"].drifted
    assert [f.feature for f in result.features] == ["far", "near"]
    assert result.drifted_features == ["far", "near"]


# Every numeric dtype a caller may hand in, with and without a missing value. pandas gives
# out a column's own writable storage for some (a nullable Float64 column under pandas 3, a
# plain float64 Series under pandas 2): the check sorted that storage in place until it told
# its own copies from the caller's.
@pytest.mark.parametrize(
    "dtype", ["float64", "Float64", "float64[pyarrow]", "float32", "int64", "Int64", "object"]
)
@pytest.mark.parametrize("missing", [False, True])
def test_a_check_leaves_the_callers_frames_and_series_as_they_were(
    dtype: str, missing: bool
) -> None:
    rng = np.random.default_rng(5)
    whole = "int" in dtype.lower()

    def column(n: int, shift: float) -> pd.Series:
        values = rng.normal(shift, 1.0, n) * (100 if whole else 1)
        series = pd.Series(values.round() if whole else values, name="x", dtype="object")
        if missing and dtype not in ("float32", "int64"):  # those hold no missing value
            series.iloc[3] = None
        return series.astype(dtype)

    reference, current = column(3000, 0.0), column(500, 0.3)
    ref_frame, cur_frame = reference.to_frame(), current.to_frame()
    given = (reference, current, ref_frame["x"], cur_frame["x"])
    kept = [series.copy(deep=True) for series in given]
    result = check_frames(ref_frame, cur_frame, DriftConfig())
    prepared = PreparedReference.from_frame(reference.to_frame(), DriftConfig())
    check_drift(prepared, cur_frame, DriftConfig())
    prepare_column(reference, True)
    prepare_column(current, True)
    for before, after in zip(kept, given, strict=True):
        pd.testing.assert_series_equal(after, before)
    [feature] = result.features  # and the check saw the values as given
    if dtype == "object":  # text to the check: counted, not sorted
        assert feature.kind == "categorical"
    else:
        assert feature.statistic == ks_2samp(_finite(kept[0]), _finite(kept[1])).statistic


def _finite(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
    return values[np.isfinite(values)]
