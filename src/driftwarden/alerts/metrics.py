"""Every Prometheus metric driftwarden exports, declared once, on an injected registry.

Names and labels are a contract with dashboards and rules (PRODUCT.md); change them only
with the shipped rules and dashboard. Label values stay bounded: ``feature`` comes from the
reference schema, ``kind``/``outcome``/``rule``/``test`` from fixed sets in the code.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from driftwarden import __version__

# Fixed label values, so that callers cannot create unbounded series by accident.
CHECK_KINDS = ("drift", "validation", "schema", "registry")
CHECK_OUTCOMES = ("ok", "drift", "breach", "error")
FILE_OUTCOMES = ("processed", "quarantined", "duplicate", "ignored", "refused")
RETRAIN_OUTCOMES = ("promoted", "rejected", "failed", "skipped_cooldown", "skipped_running")


class Metrics:
    """The metric objects; build one per process (tests build one per test on a fresh registry)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        # gauge (info): constant 1, labelled with the running version.
        self.build_info = Gauge(
            "driftwarden_build_info", "driftwarden build information", ["version"], registry=r
        )
        self.build_info.labels(version=__version__).set(1)
        # gauge: last test statistic per feature (KS D, chi-square statistic, MMD^2).
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
