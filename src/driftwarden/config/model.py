"""The typed config model: the only home of defaults.

Every section of the TOML file is one pydantic model on the ``Section`` base: unknown keys
are errors (a misspelled key is never a silently ignored setting) and types are strict
(``alpha = "0.01"`` or ``recursive = 1`` is an error, never silently converted).

Declaring a key: plain ``int``, ``float``, ``bool`` and ``str`` are strict by the base;
a path is ``ConfigPath`` (a TOML string becomes a ``Path``); a duration is ``Seconds``
(> 0) or ``SecondsOrZero`` (>= 0), both bounded so that timers cannot overflow. Floats are
finite everywhere (TOML's ``inf`` and ``nan`` are refused).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    Strict,
    field_validator,
    model_validator,
)

from driftwarden.config.metrics import (
    CLASSIFICATION_METRICS,
    LOWER_IS_BETTER,
    REGRESSION_METRICS,
    Direction,
    metric_direction,
    task_metrics,
)


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, types are strict, floats finite.

    Strict: a string is never a number or a boolean and an int never a boolean (an int
    where a float belongs is fine). Values are checked on assignment too, so the loader's
    environment overrides and path resolution go through the same rules.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        frozen=False,
        strict=True,
        allow_inf_nan=False,
    )


# A filesystem path: TOML has no path type, so a string is accepted (and only a string).
ConfigPath = Annotated[Path, Strict(False)]
# Longest duration any timer accepts: ten years. Larger values overflow APScheduler's
# datetime arithmetic (1e308 s) or threading's timeout limit, and mean nothing here.
MAX_SECONDS = 10 * 365 * 24 * 3600.0
Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS)]
SecondsOrZero = Annotated[float, Field(ge=0, le=MAX_SECONDS)]
ValidationMetric = Literal["accuracy", "f1", "precision", "recall", "mae", "rmse", "r2"]
RetrainTrigger = Literal["drift", "validation", "estimated"]
SinkName = Literal["log", "webhook", "alertmanager"]
StateSource = Literal["file", "systemd", "config-dir", "working-dir"]


def _default_validation_metrics() -> list[ValidationMetric]:
    return ["accuracy", "f1"]


def _default_triggers() -> list[RetrainTrigger]:
    return ["drift", "validation", "estimated"]


def _default_sinks() -> list[SinkName]:
    return ["log"]


class MlflowConfig(Section):
    """Where MLflow lives and how hard to try reaching it.

    ``tracking_uri`` defaults to a sqlite file in the state directory so that nothing has
    to be running. MLflow's own environment variables override these keys.
    """

    tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; default: sqlite:///<state.directory>/mlflow.db"
    )
    registry_uri: str | None = Field(
        None, description="Model registry URI; default: the tracking URI"
    )
    experiment_name: str = Field("driftwarden", description="Experiment that checks are logged to")
    artifact_location: str | None = Field(
        None,
        description="Artifact root for experiments driftwarden creates; default: <state.directory>/mlartifacts for a sqlite store",
    )
    http_request_max_retries: int = Field(
        1, ge=0, le=10, description="MLflow's HTTP retries per call (the outbox retries later)"
    )
    http_request_timeout_seconds: Seconds = Field(5.0, description="MLflow's HTTP timeout per call")
    username: str | None = Field(None, description="From MLFLOW_TRACKING_USERNAME only")
    password: SecretStr | None = Field(None, description="From MLFLOW_TRACKING_PASSWORD only")
    token: SecretStr | None = Field(None, description="From MLFLOW_TRACKING_TOKEN only")
    writer: Literal["process", "thread"] = Field(
        "process",
        description="Where the daemon logs its checks to MLflow: 'process', a child process started at the first write and stopped after a minute without one (checks never wait for MLflow's CPU, and its memory is not held at rest); 'thread', inside the daemon",
    )


class ModelConfig(Section):
    """The registered model that driftwarden keeps honest."""

    name: str = Field("driftwarden-model", min_length=1, description="Registered model name")
    alias: str = Field(
        "production", min_length=1, description="Alias that marks the production version"
    )
    stage: Literal["Staging", "Production"] | None = Field(
        None, description="Also follow/transition this legacy stage (deprecated in MLflow)"
    )
    target: str = Field("target", min_length=1, description="Label column in labelled data")
    task: Literal["classification", "regression"] = Field(
        "classification", description="What the model predicts"
    )


class ReferenceConfig(Section):
    """What new data is compared against."""

    source: Literal["model", "file"] = Field(
        "model",
        description="'model': the training data logged with the production model's run; 'file': path",
    )
    path: ConfigPath | None = Field(None, description="Reference CSV/Parquet when source = 'file'")
    artifact_path: str = Field(
        "training_data",
        description="Artifact folder of the model's run that holds its training data",
    )

    @model_validator(mode="after")
    def _path_when_file(self) -> ReferenceConfig:
        if self.source == "file" and self.path is None:
            raise ValueError("reference.path is required when reference.source = 'file'")
        return self


class WatchConfig(Section):
    """Drop directories and how a file counts as complete."""

    paths: list[ConfigPath] = Field(default_factory=list, description="Directories to watch")
    patterns: list[str] = Field(
        default_factory=lambda: [
            "*.csv",
            "*.parquet",
            "*.csv.gz",
            "*.csv.bz2",
            "*.csv.xz",
            "*.csv.zst",
        ],
        description="File name patterns to process (CSV, Parquet, compressed CSV)",
    )
    recursive: bool = Field(False, description="Also watch subdirectories")
    completion: Literal["settle", "marker"] = Field(
        "settle",
        description="'settle': unchanged in size for settle_seconds (or renamed into place); 'marker': a marker file announces it",
    )
    settle_seconds: SecondsOrZero = Field(
        2.0, description="Quiet time before a written file counts as complete"
    )
    marker_suffix: str = Field(
        ".done", min_length=1, description="Marker name is <file><marker_suffix>"
    )
    on_success: Literal["move", "keep"] = Field(
        "move", description="Move processed files to processed_dir, or leave them in place"
    )
    processed_dir: ConfigPath | None = Field(None, description="Default: <watched path>/processed")
    quarantine_dir: ConfigPath | None = Field(
        None, description="Default: <watched path>/quarantine"
    )
    rescan_interval_seconds: Seconds = Field(
        60.0, description="Periodic rescan that catches events the OS dropped"
    )
    max_file_bytes: int = Field(
        2 * 1024**3,
        gt=0,
        description="Larger files are quarantined instead of read (compressed files: their size on disk)",
    )
    max_unpacked_bytes: int = Field(
        4 * 1024**3,
        gt=0,
        description="A compressed CSV that unpacks to more bytes (or a Parquet file with more uncompressed column data) is quarantined",
    )
    max_columns: int | None = Field(
        None,
        gt=0,
        description="A drop with more columns is quarantined from its header alone; default: 10 × the reference's columns, at least 1000",
    )


class JobSchedule(Section):
    """When one scheduled job runs: a cron expression or an interval."""

    enabled: bool = Field(True, description="Run this job at all")
    cron: str | None = Field(None, description="Crontab expression (5 fields), e.g. '*/15 * * * *'")
    interval_seconds: Seconds | None = Field(None, description="Run every N seconds")

    @field_validator("cron")
    @classmethod
    def _valid_crontab(cls, value: str | None) -> str | None:
        """The same parse the scheduler does, so ``config check`` rejects what ``run`` would."""
        if value is None:
            return value
        if len(value.split()) != 5:
            raise ValueError("must have 5 fields (minute hour day month weekday)")
        import datetime as dt

        from apscheduler.triggers.cron import CronTrigger  # here: keeps `--help` fast

        try:
            CronTrigger.from_crontab(value, timezone=dt.UTC)
        except ValueError as exc:
            raise ValueError(f"not a valid crontab expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> JobSchedule:
        if self.cron is not None and self.interval_seconds is not None:
            raise ValueError("set either cron or interval_seconds, not both")
        return self


def _interval(seconds: float) -> JobSchedule:
    return JobSchedule(interval_seconds=seconds)


class ScheduleConfig(Section):
    """Scheduled work besides file events."""

    drift: JobSchedule = Field(
        default_factory=lambda: _interval(3600.0), description="Drift over a rolling window"
    )
    validation: JobSchedule = Field(
        default_factory=lambda: _interval(3600.0), description="Validation on recent labelled data"
    )
    registry_poll: JobSchedule = Field(
        default_factory=lambda: _interval(30.0), description="Registry polling for alias moves"
    )
    window_files: int = Field(10, ge=1, description="How many recent drops form the rolling window")
    misfire_grace_seconds: Seconds = Field(300.0, description="A run this late still runs (once)")


class MmdConfig(Section):
    """The multivariate MMD detector (needs the torch extra)."""

    enabled: bool = Field(False, description="Run MMD over all numeric columns")
    max_samples: int = Field(
        2000, ge=10, description="Subsample each side to at most this many rows"
    )
    permutations: int = Field(
        500, ge=10, description="Permutations for the p-value (the smallest p is 1/(n+1))"
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="'auto': CUDA when available"
    )
    seed: int = Field(0, ge=0, description="Seed for subsampling and permutations (reproducible)")


class DriftConfig(Section):
    """Drift tests, multiple-testing control and the dataset-level rule.

    The defaults are tuned by benchmarks/detection_quality.py: on clean batches of real
    data they raise a dataset-level alarm on at most 1% of batches.
    """

    numeric_test: Literal["ks", "ad", "cvm"] = Field(
        "ks",
        description="Test for numeric columns: 'ks' (Kolmogorov-Smirnov), 'ad' (Anderson-Darling), 'cvm' (Cramer-von Mises)",
    )
    categorical_test: Literal["chi2"] = Field("chi2", description="Test for categorical columns")
    alpha: float = Field(0.007, gt=0, lt=1, description="Significance level after correction")
    correction: Literal["none", "bonferroni", "holm", "bh"] = Field(
        "bh", description="Multiple-testing correction across features"
    )
    numeric_effect: Literal["wasserstein", "psi"] = Field(
        "wasserstein",
        description="Effect size that the floor applies to for numeric columns ('wasserstein': W1 / reference sd)",
    )
    categorical_effect: Literal["jensen_shannon", "psi"] = Field(
        "jensen_shannon",
        description="Effect size that the floor applies to for categorical columns",
    )
    effect_size_floor: float = Field(
        0.05,
        ge=0,
        description="A numeric feature drifts only if its effect size is at least this (0.05: a twentieth of a standard deviation)",
    )
    categorical_effect_size_floor: float = Field(
        0.02,
        ge=0,
        description="A categorical feature drifts only if its effect size is at least this",
    )
    dataset_drift_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Dataset drift when at least one feature drifted and the drifted share reaches this (0: any feature)",
    )
    dataset_rule: Literal["features", "cauchy", "harmonic_mean"] = Field(
        "harmonic_mean",
        description="'features': dataset drift only through drifted features; 'cauchy' / 'harmonic_mean': also when all columns' p-values combined (valid under dependence) fall below alpha",
    )
    alpha_reference_rows: int | None = Field(
        None,
        ge=1,
        description="Batches larger than this are held to alpha * sqrt(alpha_reference_rows / rows) (default: alpha at every size)",
    )
    effect_floor_min_rows: int = Field(
        0,
        ge=0,
        description="The effect-size floors apply to batches of at least this many rows (0: always)",
    )
    columns: list[str] | None = Field(
        None, description="Only these columns (default: all but target)"
    )
    exclude_columns: list[str] = Field(default_factory=list, description="Never test these")
    categorical_columns: list[str] | None = Field(
        None, description="Force these as categorical (default: non-numeric columns)"
    )
    max_categories: int = Field(50, ge=2, description="Rarer categories are pooled into one bin")
    null_rate_tolerance: float = Field(
        0.1, ge=0, le=1, description="Schema finding when a column's null rate moves more than this"
    )
    mmd: MmdConfig = Field(default_factory=MmdConfig)

    @model_validator(mode="after")
    def _mmd_can_reach_alpha(self) -> DriftConfig:
        if self.mmd.enabled and 1.0 / (self.mmd.permutations + 1) >= self.alpha:
            raise ValueError(
                f"drift.mmd.permutations = {self.mmd.permutations} cannot give a p-value below "
                f"alpha = {self.alpha}; use at least {math.ceil(1 / self.alpha)}"
            )
        return self


class ValidationConfig(Section):
    """Production-model validation on labelled data.

    A classifier always gets ``accuracy`` and a regressor always ``mae``, ``rmse`` and
    ``r2``; ``metrics`` adds F1, precision and recall for classifiers. Higher-is-better
    metrics have minimums, error metrics (``mae``, ``rmse``) maximums.
    """

    metrics: list[ValidationMetric] = Field(
        default_factory=_default_validation_metrics,
        description="Metrics to compute and export (a regressor always gets mae, rmse and r2)",
    )
    minimums: dict[str, float] = Field(
        default_factory=lambda: {"accuracy": 0.8},
        description="Breach when a metric is below its minimum (accuracy, f1, precision, "
        "recall, r2); the default applies to classifiers only",
    )
    maximums: dict[str, float] = Field(
        default_factory=dict,
        description="Breach when an error metric (mae, rmse) is above its maximum",
    )
    f1_average: Literal["macro", "weighted", "micro", "binary"] = Field(
        "macro", description="Averaging for F1/precision/recall"
    )
    window_files: int = Field(
        5, ge=1, description="Recent labelled drops used by scheduled validation"
    )

    @model_validator(mode="after")
    def _limits_are_metrics(self) -> ValidationConfig:
        if "minimums" not in self.model_fields_set and not set(self.metrics) & set(
            CLASSIFICATION_METRICS
        ):
            self.minimums = {}  # the accuracy default is for classifiers
        allowed = set(self.metrics) | set(REGRESSION_METRICS)
        unknown = sorted((set(self.minimums) | set(self.maximums)) - allowed)
        if unknown:
            raise ValueError(
                f"minimums/maximums name metrics not in validation.metrics: {unknown}; "
                f"allowed: {sorted(allowed)}"
            )
        for name in self.minimums:
            if name in LOWER_IS_BETTER:
                raise ValueError(
                    f"minimums.{name}: {name} is an error metric (lower is better); "
                    f"set validation.maximums.{name} instead"
                )
        for name in self.maximums:
            if name not in LOWER_IS_BETTER:
                raise ValueError(
                    f"maximums.{name}: {name} is higher-is-better; "
                    f"set validation.minimums.{name} instead"
                )
        return self

    def breaches(self, metrics: dict[str, float]) -> dict[str, tuple[float, float]]:
        """Metrics past their limit: name -> (value, limit); names not computed are skipped."""
        out = {
            name: (metrics[name], limit)
            for name, limit in self.minimums.items()
            if name in metrics and metrics[name] < limit
        }
        out.update(
            (name, (metrics[name], limit))
            for name, limit in self.maximums.items()
            if name in metrics and metrics[name] > limit
        )
        return out


class EstimationConfig(Section):
    """Label-free performance estimation from the model's outputs.

    Classifiers: confidence-based (CBPE, calibrated on the labelled evaluation set);
    regressors: a loss model (DLE). The ``iw-`` methods weight the evaluation set towards
    each batch (a domain classifier) before calibrating or fitting the loss model, so the
    estimate holds under covariate shift; ``auto`` picks them.
    """

    enabled: bool = Field(True, description="Estimate the performance of every drop")
    reference: str = Field(
        "model",
        min_length=1,
        description="Labelled evaluation data the model did not train on: 'model' (the "
        "held-out split logged with the production model's run) or a CSV/Parquet path",
    )
    artifact_path: str = Field(
        "test_data",
        min_length=1,
        description="Artifact folder of the model's run that holds its held-out split",
    )
    method: Literal["auto", "cbpe", "iw-cbpe", "dle", "iw-dle"] = Field(
        "auto",
        description="'auto': iw-cbpe for classifiers, iw-dle for regressors; 'cbpe'/'dle': "
        "the plain methods without importance weighting",
    )
    prediction_column: str = Field(
        "prediction",
        min_length=1,
        description="Column with the predicted class or value, when a drop carries the outputs",
    )
    proba_prefix: str = Field(
        "proba_",
        min_length=1,
        description="Class probability columns are named <proba_prefix><class>",
    )
    interval_level: float = Field(
        0.95, gt=0.5, lt=1, description="Coverage of the interval around each estimate"
    )
    min_reference_rows: int = Field(
        100, ge=10, description="Fewest labelled evaluation rows an estimate is made from"
    )
    seed: int = Field(0, ge=0, description="Seed for folds and interval draws (reproducible)")

    @property
    def reference_path(self) -> Path | None:
        """The evaluation file, or None for ``reference = "model"``."""
        return None if self.reference == "model" else Path(self.reference)

    def unsuited(self, task: str) -> str | None:
        """Why ``method`` cannot estimate a model of ``task`` (None: it can)."""
        method = self.method
        suits = {"cbpe": "classification", "iw-cbpe": "classification"}.get(method, "regression")
        if method == "auto" or suits == task:
            return None
        return (
            f"{method!r} estimates {suits} models, but model.task = {task!r}; "
            f"use 'auto' or one for {task}"
        )

    def method_for(self, task: str) -> str:
        """The estimator to use for a model of ``task`` (resolves ``auto``)."""
        if self.method != "auto":
            return self.method
        return "iw-dle" if task == "regression" else "iw-cbpe"


class PromotionConfig(Section):
    """The champion/challenger gate."""

    metric: ValidationMetric = Field(
        "accuracy",
        description="Holdout metric that decides (regression: rmse unless set); "
        "error metrics (mae, rmse) are better when lower",
    )
    min_improvement: float = Field(
        0.0, ge=0, description="Challenger must beat the champion by more than this"
    )

    @property
    def direction(self) -> Direction:
        """``lower`` for error metrics: the challenger must have the smaller error."""
        return metric_direction(self.metric)


class RetrainConfig(Section):
    """Remediation: retrain through an MLflow project, register, gate, promote."""

    enabled: bool = Field(False, description="Retrain automatically on a breach")
    triggers: list[RetrainTrigger] = Field(
        default_factory=_default_triggers,
        description="Breaches that start a retrain: dataset drift, measured validation, "
        "or the estimated performance (no labels) surely past its limit",
    )
    project_uri: str | None = Field(None, description="MLflow project: a local path or a git URI")
    entry_point: str = Field("main", description="MLproject entry point")
    parameters: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Extra -P parameters for the run"
    )
    data_parameter: str = Field("data_path", description="Parameter that receives the training CSV")
    experiment_name: str = Field("driftwarden-retrain", description="Experiment of retrain runs")
    env_manager: Literal["local", "virtualenv", "uv", "conda"] = Field(
        "local", description="How `mlflow run` builds the project's environment"
    )
    cooldown_seconds: SecondsOrZero = Field(3600.0, description="Minimum time between two retrains")
    timeout_seconds: Seconds = Field(1800.0, description="A run still going after this is killed")
    recent_files: int = Field(5, ge=1, description="Recent labelled drops added to the reference")
    holdout_fraction: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="Share of the newest labelled rows kept out of training for the gate",
    )
    max_rows: int = Field(200_000, ge=100, description="Cap on the assembled training set")
    reference_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Largest share of the training set taken from the reference data when labelled rows exist (0: labelled drops only)",
    )
    register_metric: str = Field("test_score", description="Run metric the registration rule reads")
    register_threshold: float = Field(
        0.8,
        description="A run qualifies when register_metric is better than this "
        "(> for higher-is-better, < for lower-is-better)",
    )
    register_direction: Literal["auto", "higher", "lower"] = Field(
        "auto",
        description="Which way register_metric is better; 'auto': lower for error-like names "
        "(mae, rmse, mse, loss, error), else higher",
    )
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)

    @property
    def register_better(self) -> Direction:
        """The resolved direction of ``register_metric``."""
        if self.register_direction == "auto":
            return metric_direction(self.register_metric)
        return self.register_direction

    @model_validator(mode="after")
    def _project_when_enabled(self) -> RetrainConfig:
        if self.enabled and not self.project_uri:
            raise ValueError("retrain.project_uri is required when retrain.enabled = true")
        return self


def _url_without_credentials(url: str, instead: str) -> str:
    """Refuse ``user:password@`` in a sink URL: the file must hold no secret, and urllib
    would take the user info for part of the host name, so the alert would never arrive."""
    from urllib.parse import urlsplit

    try:
        has_userinfo = "@" in urlsplit(url).netloc
    except ValueError:
        return url  # not a URL at all: the request fails with the reason
    if has_userinfo:
        raise ValueError(f"must not contain user info (user:password@); use {instead}")
    return url


class WebhookConfig(Section):
    """A JSON webhook sink."""

    url: str = Field(..., description="Where alerts are POSTed")
    timeout_seconds: Seconds = Field(5.0, description="Timeout per request")
    retries: int = Field(3, ge=0, le=20, description="Retries with backoff per alert")
    secret_env: str | None = Field(
        None, description="Environment variable holding the HMAC-SHA256 secret (never the secret)"
    )

    @field_validator("url")
    @classmethod
    def _no_credentials_in_url(cls, value: str) -> str:
        return _url_without_credentials(
            value, "a token in the URL's path or query, or secret_env to sign the body"
        )


class AlertmanagerConfig(Section):
    """An Alertmanager sink (API v2), with HTTP basic auth when it sits behind one."""

    url: str = Field(..., description="Alertmanager base URL, e.g. http://127.0.0.1:9093")
    timeout_seconds: Seconds = Field(5.0, description="Timeout per request")
    retries: int = Field(3, ge=0, le=20, description="Retries with backoff per alert")
    username: str | None = Field(None, description="HTTP basic auth user (with password_env)")
    password_env: str | None = Field(
        None,
        description="Environment variable holding the basic auth password (never the password)",
    )

    @field_validator("url")
    @classmethod
    def _no_credentials_in_url(cls, value: str) -> str:
        return _url_without_credentials(value, "alerts.alertmanager.username and password_env")

    @model_validator(mode="after")
    def _user_and_password_together(self) -> AlertmanagerConfig:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("set both username and password_env for basic auth, or neither")
        return self


class AlertsConfig(Section):
    """Alert rules and where alerts go."""

    sinks: list[SinkName] = Field(default_factory=_default_sinks, description="Sinks by name")
    webhook: WebhookConfig | None = None
    alertmanager: AlertmanagerConfig | None = None
    drift_consecutive: int = Field(
        1, ge=1, description="Dataset drift for N consecutive checks fires"
    )
    repeat_interval_seconds: Seconds = Field(3600.0, description="Re-send while firing")
    stale_after_seconds: Seconds = Field(
        7200.0, description="Fire when no check succeeded for this long"
    )
    pending_writes_max_age_seconds: Seconds = Field(
        900.0, description="Fire when MLflow writes wait longer than this"
    )

    @model_validator(mode="after")
    def _sink_settings(self) -> AlertsConfig:
        for name in ("webhook", "alertmanager"):
            if name in self.sinks and getattr(self, name) is None:
                raise ValueError(
                    f"sink {name!r} is listed in alerts.sinks but [alerts.{name}] is missing"
                )
        return self


class MetricsConfig(Section):
    """The Prometheus exporter and health endpoints."""

    enabled: bool = Field(True, description="Serve /metrics, /healthz and /readyz")
    address: str = Field(
        "127.0.0.1", description="Listen address (loopback unless you say otherwise)"
    )
    port: int = Field(
        9108, ge=0, le=65535, description="Port for /metrics, /healthz, /readyz (0: any free)"
    )
    max_features: int = Field(
        200,
        ge=1,
        description="Per-feature series kept per model: the drifted features first, then the"
        " smallest p-values; the rest are counted in driftwarden_features_left_out",
    )


class HooksConfig(Section):
    """MLflow registry webhooks: ``POST /hooks/mlflow`` on the metrics port, and ``hooks install``.

    A webhook only makes the daemon react sooner to an alias move or a new version;
    registry polling stays on. The HMAC secret comes from the environment, never the file.
    """

    enabled: bool = Field(
        False,
        description="Accept MLflow webhooks on POST /hooks/mlflow (served on the metrics port)",
    )
    secret_env: str = Field(
        "DRIFTWARDEN_HOOKS_SECRET",
        description="Environment variable holding the webhook's HMAC secret (never the secret itself)",
    )
    public_url: str | None = Field(
        None,
        description="URL the MLflow server posts to; default: http://<metrics.address>:<metrics.port>/hooks/mlflow "
        "(required when metrics.address is a wildcard such as 0.0.0.0)",
    )
    replay_window_seconds: Seconds = Field(
        300.0,
        description="A delivery whose X-MLflow-Timestamp is further than this from now is refused",
    )
    webhook_name: str = Field(
        "driftwarden",
        min_length=1,
        description="Name of the webhook that `driftwarden hooks install` creates or updates",
    )

    @field_validator("secret_env")
    @classmethod
    def _variable_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("must be an environment variable name (letters, digits, _)")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value


# Schemes of a PostgreSQL state URL (libpq accepts both).
STATE_URL_SCHEMES = ("postgresql", "postgres")


class StateConfig(Section):
    """Where the ledger, outbox and default MLflow store live, and how instances share models.

    Without ``url`` the state is two sqlite files in ``directory`` (embedded, one instance).
    With ``url`` it is a PostgreSQL database that several instances share: each model is
    owned by one live instance at a time through a lease. The password comes from the
    environment (``PGPASSWORD``, or the variable ``password_env`` names), never the file.
    """

    directory: ConfigPath = Field(
        Path("driftwarden-state"),
        description="State directory (relative paths are beside the config file); default: "
        "$STATE_DIRECTORY under systemd, else driftwarden-state beside the config file, "
        "or in the working directory without one",
    )
    url: str | None = Field(
        None,
        description="PostgreSQL database shared by several instances, "
        "postgresql://USER@HOST:PORT/DB (no password here); default: sqlite files in directory",
    )
    password_env: str | None = Field(
        None,
        description="Environment variable holding the database password; default: libpq's "
        "own PGPASSWORD (or ~/.pgpass)",
    )
    lease_seconds: Seconds = Field(
        30.0,
        ge=2,
        le=3600,
        description="A model's lease: renewed by its owner every third of this; a dead "
        "instance's models are taken over when it runs out",
    )
    instance_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="This instance's name in leases and driftwarden_model_owner; default: "
        "$DRIFTWARDEN_INSTANCE_ID (the template unit sets %H/%i), else HOST/PID",
    )

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        return check_state_url(value)

    @field_validator("password_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("must be an environment variable name (letters, digits, _)")
        return value


def check_state_url(url: str) -> str:
    """A PostgreSQL URL without secrets, checked by parsing only (nothing is contacted)."""
    if any(ch.isspace() for ch in url):
        raise ValueError("must not contain whitespace")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    if parts.scheme not in STATE_URL_SCHEMES:
        raise ValueError(
            f"scheme {parts.scheme or '(none)'!r} is not supported; expected "
            "postgresql://USER@HOST:PORT/DATABASE (leave url unset for the sqlite files)"
        )
    if parts.password is not None:
        raise ValueError(
            "must not contain a password; put it in PGPASSWORD or the variable state.password_env names"
        )
    if re.search(r"(?:^|&)password=", parts.query, re.IGNORECASE):
        raise ValueError(
            "must not carry password=; put it in PGPASSWORD or the variable state.password_env names"
        )
    if port == 0:
        raise ValueError("port 0 is not a database port")
    if not parts.path.strip("/"):
        raise ValueError("names no database; expected postgresql://USER@HOST:PORT/DATABASE")
    return url


class LoggingConfig(Section):
    """Log output."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level")
    format: Literal["text", "json"] = Field("text", description="'json': one JSON object per line")


# A table that overrides a top-level section key by key (``[models.<name>.drift]``): its
# keys are checked against that section when the model's settings are resolved.
SectionOverride = dict[str, Any]


def _override(section: str) -> Any:
    return Field(
        default_factory=dict,
        description=f"Keys of [{section}] for this model; the others come from [{section}]",
    )


def fit_to_task(
    validation: ValidationConfig, promotion: PromotionConfig, task: str, chosen: set[str]
) -> str | None:
    """Give a model's validation limits and promotion metric its task's defaults, or say why
    they cannot be computed for it (None when they fit).

    ``chosen`` names the keys someone set (``validation.minimums``,
    ``retrain.promotion.metric``); the others take the task's default: a regressor gets no
    accuracy minimum and the gate compares RMSE. One place for ``[model]`` and for each
    ``[models.<name>]`` table, whose task may differ from the others'.
    """
    fitting = set(task_metrics(task))
    if task == "regression" and "validation.minimums" not in chosen:
        validation.minimums = {}
    for key in ("minimums", "maximums"):
        wrong = sorted(set(getattr(validation, key)) - fitting)
        if wrong:
            return (
                f"validation.{key}: {wrong} cannot be computed for model.task = {task!r}; "
                f"its metrics are {sorted(fitting)}"
            )
    if task == "regression" and "retrain.promotion.metric" not in chosen:
        promotion.metric = "rmse"
    if promotion.metric not in fitting:
        return (
            f"retrain.promotion.metric: {promotion.metric!r} cannot be computed for "
            f"model.task = {task!r}; use one of {sorted(fitting)}"
        )
    return None


class ModelTable(Section):
    """One of several models the daemon keeps: ``[model]``'s keys, and tables that override
    the top-level ``reference``, ``watch``, ``drift``, ``validation``, ``estimation`` and
    ``retrain`` key by key (nested tables such as ``drift.mmd`` too; a table-valued key such as
    ``validation.minimums`` is replaced whole). Use either ``[model]`` or ``[models.<name>]``
    tables, not both; no two models share a drop directory.

    The table's name is the registered model name unless ``name`` says otherwise (quote
    names with dots: ``[models."team.churn"]``).
    """

    name: str | None = Field(
        None, min_length=1, description="Registered model name; default: the table's name"
    )
    alias: str = Field(
        "production", min_length=1, description="Alias that marks the production version"
    )
    stage: Literal["Staging", "Production"] | None = Field(
        None, description="Also follow/transition this legacy stage (deprecated in MLflow)"
    )
    target: str = Field("target", min_length=1, description="Label column in labelled data")
    task: Literal["classification", "regression"] = Field(
        "classification", description="What the model predicts"
    )
    # One line per overridable section (config.models.OVERRIDES is derived from these).
    reference: SectionOverride = _override("reference")
    watch: SectionOverride = _override("watch")
    drift: SectionOverride = _override("drift")
    validation: SectionOverride = _override("validation")
    estimation: SectionOverride = _override("estimation")
    retrain: SectionOverride = _override("retrain")


class Settings(Section):
    """The whole config file."""

    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    models: dict[str, ModelTable] = Field(
        default_factory=dict,
        description="Several models in one daemon, one [models.<name>] table each (instead of [model])",
    )
    reference: ReferenceConfig = Field(default_factory=ReferenceConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    estimation: EstimationConfig = Field(default_factory=EstimationConfig)
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    hooks: HooksConfig = Field(default_factory=HooksConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    # Set by the loader: who chose state.directory ("file": the key; "systemd":
    # $STATE_DIRECTORY; "config-dir": the default beside the config file; "working-dir":
    # no config file at all, so it is only a guess in the working directory).
    _state_source: StateSource = PrivateAttr("file")
    # Set by the loader (config.models.resolve_models): each [models.<name>] table's
    # effective per-model sections, by registered model name. Empty with a single [model].
    _per_model: dict[str, dict[str, Section]] = PrivateAttr(default_factory=dict)

    @field_validator("mlflow", mode="before")
    @classmethod
    def _no_secrets_in_file(cls, value: object) -> object:
        if isinstance(value, dict):
            for key in ("password", "token"):
                if value.get(key) not in (None, ""):
                    raise ValueError(
                        f"mlflow.{key} must not be set in the file; use MLFLOW_TRACKING_{key.upper()}"
                    )
        return value

    @field_validator("hooks", mode="before")
    @classmethod
    def _no_hook_secret_in_file(cls, value: object) -> object:
        # Checked before the unknown-key error, which would echo the value.
        if isinstance(value, dict) and "secret" in value:
            raise ValueError(
                "hooks.secret must not be set in the file; put the secret in the environment "
                "variable that hooks.secret_env names"
            )
        return value

    @field_validator("state", mode="before")
    @classmethod
    def _no_state_password_in_file(cls, value: object) -> object:
        # Checked before the unknown-key error, which would echo the value.
        if isinstance(value, dict) and "password" in value:
            raise ValueError(
                "state.password must not be set in the file; put it in PGPASSWORD or the "
                "environment variable that state.password_env names"
            )
        return value

    @property
    def several_models(self) -> bool:
        """True when the file names its models in ``[models.<name>]`` tables."""
        return bool(self.models)

    def kept_models(self) -> dict[str, Settings]:
        """Every model this config keeps, by registered name, each with its effective settings.

        A model's settings are this object with its own ``model``, ``reference``, ``watch``,
        ``drift``, ``validation``, ``estimation`` and ``retrain`` sections (the other sections are shared), so
        per-model code reads ``settings.drift`` and gets its model's. With a single ``[model]``
        table that is this object itself.
        """
        if not self.models:
            return {self.model.name: self}
        if not self._per_model:
            from driftwarden.config.models import resolve_models  # loads without the loader

            self._per_model = resolve_models(self, Path.cwd())
        return {
            name: self.model_copy(update={**parts, "models": {}})
            for name, parts in self._per_model.items()
        }

    @property
    def state_source(self) -> StateSource:
        """Who chose ``state.directory`` (the loader records it)."""
        return self._state_source

    @property
    def state_is_implicit(self) -> bool:
        """True when nobody chose the state directory (see ``load.require_explicit_store``)."""
        return self._state_source == "working-dir"

    @model_validator(mode="after")
    def _metrics_fit_the_task(self) -> Settings:
        """Validation limits, the promotion metric and the estimator must suit ``model.task``.

        Keys the file did not set take the task's default: a regressor gets no accuracy
        minimum and the gate compares RMSE.
        """
        # With [models.<name>] tables each model's own sections are checked against its task
        # (config.models); [model]'s default task is not in force then.
        if self.models:
            return self
        problem = fit_to_task(
            self.validation, self.retrain.promotion, self.model.task, self.chosen_task_keys()
        )
        if problem:
            raise ValueError(problem)
        unsuited = self.estimation.unsuited(self.model.task)
        if unsuited:
            raise ValueError(f"estimation.method: {unsuited}")
        return self

    def chosen_task_keys(self) -> set[str]:
        """The task-dependent keys the file set at the top level (see ``fit_to_task``)."""
        chosen = {f"validation.{key}" for key in self.validation.model_fields_set}
        if "metric" in self.retrain.promotion.model_fields_set:
            chosen.add("retrain.promotion.metric")
        return chosen

    @property
    def tracking_uri(self) -> str:
        """The effective tracking URI (the sqlite default is filled in by the loader)."""
        assert self.mlflow.tracking_uri is not None, "load_settings fills the tracking URI"
        return self.mlflow.tracking_uri
