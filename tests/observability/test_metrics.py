"""The exporter's metric names, labels and values, read back through prometheus-client's parser."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from driftwarden import __version__
from driftwarden.alerts.rules import RULES
from driftwarden.observability.metrics import ALERT_RULES, CHECK_KINDS, CHECK_OUTCOMES, Metrics

# PRODUCT.md's list: sample names as exported (counters end in _total).
PRODUCT_SAMPLES = {
    "driftwarden_build_info",
    "driftwarden_feature_drift_statistic",
    "driftwarden_feature_drift_p_value",
    "driftwarden_dataset_drift",
    "driftwarden_drifted_features",
    "driftwarden_validation_metric",
    "driftwarden_production_model_version",
    "driftwarden_checks_total",
    "driftwarden_check_duration_seconds_bucket",
    "driftwarden_check_duration_seconds_count",
    "driftwarden_check_duration_seconds_sum",
    "driftwarden_files_total",
    "driftwarden_retrains_total",
    "driftwarden_alerts_total",
    "driftwarden_last_success_timestamp_seconds",
    "driftwarden_mlflow_pending_writes",
    "driftwarden_mlflow_dead_writes",
    "driftwarden_state_writable",
    "driftwarden_feature_drifted",
    "driftwarden_feature_drift_effect",
    "driftwarden_feature_drift_corrected_p_value",
    "driftwarden_features_left_out",
}

DRIFT_RESULT = {
    "dataset_drift": True,
    "drifted_features": ["age"],
    "features": [
        {
            "feature": "age",
            "test": "ks",
            "statistic": 0.31,
            "p_value": 1e-9,
            "p_value_corrected": 2e-9,
            "effect_size": 0.42,
            "drifted": True,
        },
        {
            "feature": "city",
            "test": "chi2",
            "statistic": 2.5,
            "p_value": 0.47,
            "p_value_corrected": 0.94,
            "effect_size": 0.03,
            "drifted": False,
        },
    ],
}


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every exported sample as {(name, labels): value}, via the real text parser."""
    text = generate_latest(metrics.registry).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, frozenset(labels.items()))]


def test_every_product_metric_is_exported_after_real_observations() -> None:
    m = Metrics(CollectorRegistry())
    m.initialise("iris")
    m.observe_drift_result("iris", DRIFT_RESULT)
    m.observe_validation("iris", {"accuracy": 0.93, "f1": 0.9}, version=4)
    m.observe_check("iris", "drift", "drift", duration_seconds=0.2, at=1_700_000_000.0)
    m.observe_file("processed")
    m.observe_retrain("iris", "promoted")
    m.alerts.labels(model="iris", rule="dataset_drift").inc()
    m.set_pending_writes(3)
    names = {name for name, _ in samples(m)}
    assert names - {n for n in names if n.endswith("_created")} == PRODUCT_SAMPLES


def test_values_and_labels_round_trip_through_the_parser() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_drift_result("iris", DRIFT_RESULT)
    m.observe_validation("iris", {"accuracy": 0.93}, version="4")
    m.observe_check("iris", "validation", "ok", duration_seconds=0.2, at=1_700_000_000.0)
    m.observe_check("iris", "validation", "ok", duration_seconds=3.0)
    m.set_pending_writes(2)

    assert value(m, "driftwarden_build_info", version=__version__) == 1
    assert (
        value(m, "driftwarden_feature_drift_statistic", model="iris", feature="age", test="ks")
        == 0.31
    )
    assert (
        value(m, "driftwarden_feature_drift_p_value", model="iris", feature="city", test="chi2")
        == 0.47
    )
    assert value(m, "driftwarden_dataset_drift", model="iris") == 1
    assert value(m, "driftwarden_drifted_features", model="iris") == 1
    assert value(m, "driftwarden_validation_metric", model="iris", metric="accuracy") == 0.93
    assert value(m, "driftwarden_production_model_version", model="iris") == 4
    assert value(m, "driftwarden_checks_total", model="iris", kind="validation", outcome="ok") == 2
    assert value(m, "driftwarden_check_duration_seconds_count", kind="validation") == 2
    assert value(m, "driftwarden_check_duration_seconds_sum", kind="validation") == pytest.approx(
        3.2
    )
    assert value(m, "driftwarden_check_duration_seconds_bucket", kind="validation", le="0.25") == 1
    assert value(m, "driftwarden_mlflow_pending_writes") == 2
    # the second check (no explicit time) moved the timestamp to "now"
    assert (
        value(m, "driftwarden_last_success_timestamp_seconds", model="iris", kind="validation")
        > 1_700_000_000
    )


def test_error_outcome_does_not_move_last_success() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_check("iris", "drift", "ok", at=100.0)
    m.observe_check("iris", "drift", "error", at=200.0)
    assert (
        value(m, "driftwarden_last_success_timestamp_seconds", model="iris", kind="drift") == 100.0
    )
    assert value(m, "driftwarden_checks_total", model="iris", kind="drift", outcome="error") == 1


def test_clean_result_resets_dataset_drift() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_drift_result("iris", DRIFT_RESULT)
    m.observe_drift_result("iris", {**DRIFT_RESULT, "dataset_drift": False, "drifted_features": []})
    assert value(m, "driftwarden_dataset_drift", model="iris") == 0
    assert value(m, "driftwarden_drifted_features", model="iris") == 0


def test_features_missing_from_a_new_result_lose_their_series() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_drift_result("iris", DRIFT_RESULT)
    m.observe_drift_result("iris", {**DRIFT_RESULT, "features": DRIFT_RESULT["features"][:1]})
    features = {
        dict(labels)["feature"]
        for name, labels in samples(m)
        if name == "driftwarden_feature_drift_p_value"
    }
    assert features == {"age"}


def test_result_object_with_to_dict_is_accepted() -> None:
    class Result:
        def to_dict(self) -> dict[str, object]:
            return DRIFT_RESULT

    m = Metrics(CollectorRegistry())
    m.observe_drift_result("iris", Result())
    assert (
        value(m, "driftwarden_feature_drift_statistic", model="iris", feature="city", test="chi2")
        == 2.5
    )


def test_multivariate_rows_are_exported_under_a_dataset_feature() -> None:
    m = Metrics(CollectorRegistry())
    result = {
        **DRIFT_RESULT,
        "multivariate": [{"test": "mmd", "statistic": 0.02, "p_value": 0.001}],
    }
    m.observe_drift_result("iris", result)
    assert (
        value(
            m,
            "driftwarden_feature_drift_statistic",
            model="iris",
            feature="__dataset__",
            test="mmd",
        )
        == 0.02
    )


def test_initialise_creates_zero_counters_for_every_fixed_label() -> None:
    m = Metrics(CollectorRegistry())
    m.initialise("iris")
    got = samples(m)
    for kind in CHECK_KINDS:
        for outcome in CHECK_OUTCOMES:
            key = (
                "driftwarden_checks_total",
                frozenset({"model": "iris", "kind": kind, "outcome": outcome}.items()),
            )
            assert got[key] == 0
    for rule in ALERT_RULES:
        assert (
            got[("driftwarden_alerts_total", frozenset({"model": "iris", "rule": rule}.items()))]
            == 0
        )


def test_unknown_label_values_are_refused() -> None:
    m = Metrics(CollectorRegistry())
    with pytest.raises(ValueError, match="kind='bogus'"):
        m.observe_check("iris", "bogus", "ok")
    with pytest.raises(ValueError, match="outcome='lost'"):
        m.observe_file("lost")
    with pytest.raises(ValueError, match="outcome"):
        m.observe_retrain("iris", "exploded")


def test_alert_rule_names_match_the_metric_label_set() -> None:
    assert set(RULES) == set(ALERT_RULES)


PER_FEATURE = (
    "driftwarden_feature_drift_statistic",
    "driftwarden_feature_drift_p_value",
    "driftwarden_feature_drifted",
    "driftwarden_feature_drift_effect",
    "driftwarden_feature_drift_corrected_p_value",
)


def features_of(metrics: Metrics, name: str, model: str = "iris") -> set[str]:
    return {
        dict(labels)["feature"]
        for sample, labels in samples(metrics)
        if sample == name and dict(labels)["model"] == model
    }


def wide_result(n: int, drifted: tuple[int, ...]) -> dict[str, object]:
    """``n`` features f000.. with p-values growing with the index; ``drifted`` are flagged."""
    return {
        "dataset_drift": bool(drifted),
        "drifted_features": [f"f{i:03d}" for i in drifted],
        "features": [
            {
                "feature": f"f{i:03d}",
                "test": "ks",
                "statistic": 0.5 - i / (4 * n),
                "p_value": (i + 1) / (2 * n),
                "p_value_corrected": min(1.0, (i + 1) / n),
                "effect_size": 0.1,
                "drifted": i in drifted,
            }
            for i in range(n)
        ],
    }


def test_drifted_effect_and_corrected_p_per_feature() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_drift_result("iris", DRIFT_RESULT)
    assert value(m, "driftwarden_feature_drifted", model="iris", feature="age") == 1
    assert value(m, "driftwarden_feature_drifted", model="iris", feature="city") == 0
    assert value(m, "driftwarden_feature_drift_effect", model="iris", feature="age") == 0.42
    assert (
        value(m, "driftwarden_feature_drift_corrected_p_value", model="iris", feature="city")
        == 0.94
    )
    assert value(m, "driftwarden_features_left_out", model="iris") == 0


def test_the_cap_keeps_the_drifted_then_the_smallest_p_values_in_every_series() -> None:
    m = Metrics(CollectorRegistry(), max_features=3)
    m.observe_drift_result("iris", wide_result(10, drifted=(7,)))
    expected = {"f007", "f000", "f001"}  # the drifted one, then the two smallest p-values
    for name in PER_FEATURE:
        assert features_of(m, name) == expected, name
    assert value(m, "driftwarden_features_left_out", model="iris") == 7
    # Another check moves the choice: the series of features pushed out are removed.
    m.observe_drift_result("iris", wide_result(10, drifted=(4, 5)))
    for name in PER_FEATURE:
        assert features_of(m, name) == {"f004", "f005", "f000"}, name


def test_thousands_of_columns_export_at_most_the_cap() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_drift_result("iris", wide_result(3000, drifted=()))
    for name in PER_FEATURE:
        assert len(features_of(m, name)) == 200, name
    assert value(m, "driftwarden_features_left_out", model="iris") == 2800


def test_a_feature_gone_from_the_reference_loses_every_series() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_drift_result("iris", DRIFT_RESULT)
    m.observe_drift_result("iris", {**DRIFT_RESULT, "features": DRIFT_RESULT["features"][:1]})
    for name in PER_FEATURE:
        assert features_of(m, name) == {"age"}, name


def test_a_model_that_goes_away_loses_its_series_and_leaves_the_others() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_drift_result("iris", DRIFT_RESULT)
    m.observe_drift_result("wine", DRIFT_RESULT)
    m.forget_model("iris")
    for name in PER_FEATURE:
        assert features_of(m, name, "iris") == set(), name
        assert features_of(m, name, "wine") == {"age", "city"}, name
    remaining = {dict(labels).get("model") for _, labels in samples(m)}
    assert "iris" not in remaining
