"""Every Prometheus metric driftwarden exports, declared once, on an injected registry.

Names and labels are a contract with dashboards and rules (PRODUCT.md); change them only
with the shipped rules and dashboard. Label values stay bounded: ``feature`` comes from the
reference schema and is capped per model (``metrics.max_features``: the drifted features
first, then the smallest p-values; ``feature_cap``), ``kind``/``outcome``/``rule``/``test``
from fixed sets in the code.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from driftwarden import __version__
from driftwarden.observability.feature_cap import DEFAULT_MAX_FEATURES, select_features

# Fixed label values, so that callers cannot create unbounded series by accident.
CHECK_KINDS = ("drift", "validation", "schema", "registry", "estimation")
CHECK_OUTCOMES = ("ok", "drift", "breach", "error")
FILE_OUTCOMES = ("processed", "quarantined", "duplicate", "ignored", "refused")
RETRAIN_OUTCOMES = ("promoted", "rejected", "failed", "skipped_cooldown", "skipped_running")
# The ``rule`` label of driftwarden_alerts_total: the rules in driftwarden.alerts.rules.
ALERT_RULES = (
    "dataset_drift",
    "validation_below_minimum",
    "stale",
    "retrain_failed",
    "mlflow_pending_writes",
    "mlflow_dead_writes",
    "state_not_writable",
    "estimated_performance_below_minimum",
)


class Metrics:
    """The metric objects; build one per process (tests build one per test on a fresh registry)."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        max_features: int = DEFAULT_MAX_FEATURES,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.max_features = max_features
        self._lock = threading.Lock()
        # (feature, test) pairs exported per model, to drop series of vanished features.
        self._feature_series: dict[str, set[tuple[str, str]]] = {}
        # features with the {model, feature} series (drifted, effect, corrected p) per model.
        self._feature_names: dict[str, set[str]] = {}
        r = self.registry
        # gauge (info): constant 1, labelled with the running version.
        self.build_info = Gauge(
            "driftwarden_build_info", "driftwarden build information", ["version"], registry=r
        )
        self.build_info.labels(version=__version__).set(1)
        # gauge: last test statistic per feature (KS D, AD, CvM, chi-square statistic, MMD^2).
        self.feature_drift_statistic = Gauge(
            "driftwarden_feature_drift_statistic",
            "Drift test statistic of the last check, per feature",
            ["model", "feature", "test"],
            registry=r,
        )
        # gauge: last uncorrected p-value per feature.
        self.feature_drift_p_value = Gauge(
            "driftwarden_feature_drift_p_value",
            "Drift test p-value of the last check, per feature",
            ["model", "feature", "test"],
            registry=r,
        )
        # gauge: 1 when the feature was flagged as drifted by the last check, else 0.
        self.feature_drifted = Gauge(
            "driftwarden_feature_drifted",
            "1 if the last check flagged the feature as drifted",
            ["model", "feature"],
            registry=r,
        )
        # gauge: the effect size that was compared with the floor (the measure per feature
        # kind is drift.numeric_effect / drift.categorical_effect).
        self.feature_drift_effect = Gauge(
            "driftwarden_feature_drift_effect",
            "Effect size of the last check, per feature",
            ["model", "feature"],
            registry=r,
        )
        # gauge: p-value after the multiple-testing correction (the one compared with alpha).
        self.feature_drift_corrected_p_value = Gauge(
            "driftwarden_feature_drift_corrected_p_value",
            "Corrected p-value of the last check, per feature",
            ["model", "feature"],
            registry=r,
        )
        # gauge: features of the last check left out of the per-feature series by the cap.
        self.features_left_out = Gauge(
            "driftwarden_features_left_out",
            "Features of the last check without per-feature series (metrics.max_features)",
            ["model"],
            registry=r,
        )
        # gauge: 1 when the last drift check found dataset-level drift, else 0.
        self.dataset_drift = Gauge(
            "driftwarden_dataset_drift",
            "1 if the last check found dataset drift",
            ["model"],
            registry=r,
        )
        # gauge: number of features flagged as drifted by the last check.
        self.drifted_features = Gauge(
            "driftwarden_drifted_features",
            "Features drifted in the last check",
            ["model"],
            registry=r,
        )
        # gauge: last validation metric of the production model (accuracy, f1, ...).
        self.validation_metric = Gauge(
            "driftwarden_validation_metric",
            "Last validation metric of the production model",
            ["model", "metric"],
            registry=r,
        )
        # gauge: registry version that the production alias points at.
        self.production_model_version = Gauge(
            "driftwarden_production_model_version",
            "Registered model version in production",
            ["model"],
            registry=r,
        )
        # counter: checks by kind and outcome.
        self.checks = Counter(
            "driftwarden_checks", "Checks run", ["model", "kind", "outcome"], registry=r
        )
        # histogram: wall time of one check, seconds.
        self.check_duration = Histogram(
            "driftwarden_check_duration_seconds",
            "Duration of one check",
            ["kind"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        # counter: dropped files by outcome.
        self.files = Counter("driftwarden_files", "Dropped files handled", ["outcome"], registry=r)
        # counter: retrain cycles by outcome.
        self.retrains = Counter(
            "driftwarden_retrains", "Retrain cycles", ["model", "outcome"], registry=r
        )
        # counter: alert notifications fired, by rule.
        self.alerts = Counter("driftwarden_alerts", "Alerts fired", ["model", "rule"], registry=r)
        # gauge: unix time of the last successful check of each kind.
        self.last_success_timestamp = Gauge(
            "driftwarden_last_success_timestamp_seconds",
            "Unix time of the last successful check",
            ["model", "kind"],
            registry=r,
        )
        # gauge: MLflow writes waiting in the durable outbox.
        self.mlflow_pending_writes = Gauge(
            "driftwarden_mlflow_pending_writes", "MLflow writes waiting in the outbox", registry=r
        )
        # gauge: MLflow writes parked as dead (failed for good; `driftwarden outbox retry`).
        self.mlflow_dead_writes = Gauge(
            "driftwarden_mlflow_dead_writes",
            "MLflow writes parked after failing for good",
            registry=r,
        )
        # gauge: 1 while the state (ledger, outbox) can be written, 0 while it cannot (a full
        # disk): no file is taken then, and files wait in the drop directories.
        self.state_writable = Gauge(
            "driftwarden_state_writable",
            "1 if the daemon's state can be written, 0 if not (files wait)",
            registry=r,
        )

        # gauge: 1 on the instance that owns the model's lease (no series elsewhere).
        self.model_owner = Gauge(
            "driftwarden_model_owner",
            "1 when this instance owns the model (holds its lease)",
            ["model", "instance"],
            registry=r,
        )
        # gauges: label-free performance estimate of the production model on the last drop,
        # with the interval's bounds (metric: accuracy, f1, ... or mae, rmse).
        self.estimated_performance = Gauge(
            "driftwarden_estimated_performance",
            "Estimated performance of the production model on the last drop (no labels used)",
            ["model", "metric"],
            registry=r,
        )
        self.estimated_performance_lower = Gauge(
            "driftwarden_estimated_performance_lower",
            "Lower bound of the estimated performance's interval",
            ["model", "metric"],
            registry=r,
        )
        self.estimated_performance_upper = Gauge(
            "driftwarden_estimated_performance_upper",
            "Upper bound of the estimated performance's interval",
            ["model", "metric"],
            registry=r,
        )
        # gauge: estimate minus realized, on the last drop that came with labels.
        self.estimation_error = Gauge(
            "driftwarden_estimation_error",
            "Estimated minus realized performance on the last labelled drop",
            ["model", "metric"],
            registry=r,
        )
        # gauge: corrected p-value of the model's outputs against the evaluation set's.
        self.prediction_drift_p_value = Gauge(
            "driftwarden_prediction_drift_p_value",
            "Smallest corrected p-value of the prediction drift tests on the last drop",
            ["model"],
            registry=r,
        )

    # -- helpers that keep label values bounded and series consistent ----------------------

    def set_model_owner(self, model: str, instance: str, owner: bool) -> None:
        """This instance took (1) or lost (series removed) ``model``'s lease."""
        if owner:
            self.model_owner.labels(model=model, instance=instance).set(1)
            return
        with contextlib.suppress(KeyError):
            self.model_owner.remove(model, instance)

    def initialise(self, model: str) -> None:
        """Create every fixed-label counter series at 0, so ``increase()`` sees the first event."""
        for kind in CHECK_KINDS:
            for outcome in CHECK_OUTCOMES:
                self.checks.labels(model=model, kind=kind, outcome=outcome)
        for outcome in FILE_OUTCOMES:
            self.files.labels(outcome=outcome)
        for outcome in RETRAIN_OUTCOMES:
            self.retrains.labels(model=model, outcome=outcome)
        for rule in ALERT_RULES:
            self.alerts.labels(model=model, rule=rule)
        self.dataset_drift.labels(model=model)
        self.drifted_features.labels(model=model)
        self.features_left_out.labels(model=model)
        self.mlflow_pending_writes.set(0)
        self.mlflow_dead_writes.set(0)
        self.state_writable.set(1)

    def observe_check(
        self,
        model: str,
        kind: str,
        outcome: str,
        duration_seconds: float | None = None,
        at: float | None = None,
    ) -> None:
        """Count one check; any outcome but ``error`` also moves the last-success timestamp."""
        _check_label("kind", kind, CHECK_KINDS)
        _check_label("outcome", outcome, CHECK_OUTCOMES)
        self.checks.labels(model=model, kind=kind, outcome=outcome).inc()
        if duration_seconds is not None:
            self.check_duration.labels(kind=kind).observe(duration_seconds)
        if outcome != "error":
            self.last_success_timestamp.labels(model=model, kind=kind).set(
                time.time() if at is None else at
            )

    def observe_file(self, outcome: str) -> None:
        _check_label("outcome", outcome, FILE_OUTCOMES)
        self.files.labels(outcome=outcome).inc()

    def observe_retrain(self, model: str, outcome: str) -> None:
        _check_label("outcome", outcome, RETRAIN_OUTCOMES)
        self.retrains.labels(model=model, outcome=outcome).inc()

    def observe_drift_result(self, model: str, result: Mapping[str, Any] | Any) -> None:
        """Set the drift gauges from a ``DriftResult`` (or its ``to_dict()``).

        At most ``max_features`` features get per-feature series (``select_features``: the
        drifted first, then the smallest p-values); the others are counted in
        ``driftwarden_features_left_out``. Series of features not kept this time (gone from
        the reference, or pushed out by the cap) are removed, so the feature label stays
        bounded. Multivariate rows (``__dataset__``) are not features: they are always kept,
        with a statistic and a p-value only.
        """
        data: Mapping[str, Any] = result if isinstance(result, Mapping) else result.to_dict()
        tested = [row for row in data.get("features") or [] if _tested(row)]
        kept, left_out = select_features(tested, self.max_features)
        rows: list[Mapping[str, Any]] = list(kept)
        for extra in data.get("multivariate") or []:
            if isinstance(extra, Mapping) and _tested(extra):
                rows.append({"feature": extra.get("feature") or "__dataset__", **extra})
        pairs = {(str(row.get("feature")), str(row.get("test"))) for row in rows}
        names = {str(row.get("feature")) for row in kept}
        with self._lock:
            stale_pairs = self._feature_series.get(model, set()) - pairs
            stale_names = self._feature_names.get(model, set()) - names
            self._feature_series[model], self._feature_names[model] = pairs, names
        self._remove_features(model, stale_pairs, stale_names)
        for row in rows:
            self._set_test_series(model, row)
        for row in kept:
            self._set_feature_series(model, row)
        self.features_left_out.labels(model=model).set(left_out)
        self.dataset_drift.labels(model=model).set(1 if data.get("dataset_drift") else 0)
        self.drifted_features.labels(model=model).set(len(data.get("drifted_features") or []))

    def _set_test_series(self, model: str, row: Mapping[str, Any]) -> None:
        """The {model, feature, test} series of one row: statistic and raw p-value."""
        feature, test = str(row.get("feature")), str(row.get("test"))
        for gauge, key in (
            (self.feature_drift_statistic, "statistic"),
            (self.feature_drift_p_value, "p_value"),
        ):
            if row.get(key) is not None:
                gauge.labels(model=model, feature=feature, test=test).set(float(row[key]))

    def _set_feature_series(self, model: str, row: Mapping[str, Any]) -> None:
        """The {model, feature} series of one feature: drifted, effect, corrected p-value."""
        feature = str(row.get("feature"))
        self.feature_drifted.labels(model=model, feature=feature).set(
            1 if row.get("drifted") else 0
        )
        for gauge, key in (
            (self.feature_drift_effect, "effect_size"),
            (self.feature_drift_corrected_p_value, "p_value_corrected"),
        ):
            if row.get(key) is not None:
                gauge.labels(model=model, feature=feature).set(float(row[key]))
            else:
                with contextlib.suppress(KeyError):
                    gauge.remove(model, feature)

    def _remove_features(self, model: str, pairs: set[tuple[str, str]], names: set[str]) -> None:
        for feature, test in pairs:
            for tested in (self.feature_drift_statistic, self.feature_drift_p_value):
                with contextlib.suppress(KeyError):
                    tested.remove(model, feature, test)
        for feature in names:
            for gauge in (
                self.feature_drifted,
                self.feature_drift_effect,
                self.feature_drift_corrected_p_value,
            ):
                with contextlib.suppress(KeyError):
                    gauge.remove(model, feature)

    def observe_validation(
        self, model: str, values: Mapping[str, float], version: int | str | None = None
    ) -> None:
        """Set the validation gauges (and the production version, when known)."""
        for name, value in values.items():
            self.validation_metric.labels(model=model, metric=name).set(float(value))
        if version is not None:
            self.production_model_version.labels(model=model).set(float(version))

    def observe_estimation(
        self,
        model: str,
        estimated: Mapping[str, float],
        interval: Mapping[str, tuple[float, float]],
        errors: Mapping[str, float],
        prediction_p_value: float | None,
    ) -> None:
        """Set the estimation gauges (``errors`` only when the drop had labels)."""
        for name, value in estimated.items():
            self.estimated_performance.labels(model=model, metric=name).set(float(value))
            low, high = interval.get(name, (float("nan"), float("nan")))
            self.estimated_performance_lower.labels(model=model, metric=name).set(float(low))
            self.estimated_performance_upper.labels(model=model, metric=name).set(float(high))
        for name, error in errors.items():
            self.estimation_error.labels(model=model, metric=name).set(float(error))
        if prediction_p_value is not None:
            self.prediction_drift_p_value.labels(model=model).set(float(prediction_p_value))

    def forget_model(self, model: str) -> None:
        """Remove every series labelled with ``model`` (the daemon no longer keeps it), so a
        removed model's last values are not exported as if they were current."""
        metrics = [
            self.feature_drift_statistic, self.feature_drift_p_value, self.feature_drifted,
            self.feature_drift_effect, self.feature_drift_corrected_p_value,
            self.features_left_out, self.dataset_drift, self.drifted_features,
            self.validation_metric, self.production_model_version, self.checks,
            self.retrains, self.alerts, self.last_success_timestamp,
            self.estimated_performance, self.estimated_performance_lower,
            self.estimated_performance_upper, self.estimation_error,
            self.prediction_drift_p_value,
        ]  # fmt: skip
        for metric in metrics:
            names = metric._labelnames
            kept = {
                tuple(sample.labels[n] for n in names)
                for family in metric.collect()
                for sample in family.samples
                if sample.labels.get("model") == model
            }
            for values in kept:
                with contextlib.suppress(KeyError):
                    metric.remove(*values)
        with self._lock:
            self._feature_series.pop(model, None)
            self._feature_names.pop(model, None)

    def set_production_version(self, model: str, version: int | str) -> None:
        self.production_model_version.labels(model=model).set(float(version))

    def set_pending_writes(self, pending: int) -> None:
        self.mlflow_pending_writes.set(pending)

    def set_dead_writes(self, dead: int) -> None:
        self.mlflow_dead_writes.set(dead)

    def set_state_writable(self, writable: bool) -> None:
        self.state_writable.set(1 if writable else 0)


def _tested(row: Mapping[str, Any]) -> bool:
    """A row with a number to export (a failed test has neither statistic nor p-value)."""
    return row.get("statistic") is not None or row.get("p_value") is not None


def _check_label(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"metric label {name}={value!r} is not one of {list(allowed)}")
