"""Every drop's performance, estimated without labels: the evaluation set, prepared once per
model version, and the estimate of one drop as an outcome for ``commit.Commit``.

The model's outputs on a drop come from the drop's own columns when it carries them
(``estimation.prediction_column``, ``<proba_prefix><class>``), else the production model
predicts it. The labelled evaluation set is the held-out split logged with the production
model's run (``estimation.reference = "model"``) or a file; it is read, predicted and fitted
once per model version and settings. When it cannot be prepared (no split logged, too few
rows, a model without class probabilities) the drops are still checked for drift and an
``EstimationUnavailable`` event says why, once; a drop the estimate cannot read (missing
columns, other classes) raises ``InputFileError`` like a validation would.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftwarden.config.model import Settings
from driftwarden.daemon.jobs.checks import OutboxWrite
from driftwarden.daemon.jobs.registry_watch import ModelHolder
from driftwarden.errors import InputFileError, MlflowUnavailable, UsageError
from driftwarden.events import Publish
from driftwarden.events.types import EstimationUnavailable, PerformanceEstimated
from driftwarden.redact import redact
from driftwarden.state import CheckRecord
from driftwarden.tracking.access import MlflowAccess

if TYPE_CHECKING:
    from driftwarden.detectors.estimation import (
        EstimationResult,
        Outputs,
        PerformanceEstimator,
        PredictionDriftReference,
        PredictionDriftResult,
    )
    from driftwarden.tracking.models import ProductionModel


@dataclass(frozen=True)
class EstimationOutcome:
    """One drop's estimate, what the ledger records and what MLflow is to get."""

    result: EstimationResult
    prediction_drift: PredictionDriftResult | None
    record: CheckRecord
    write: OutboxWrite
    duration: float
    breached: dict[str, tuple[float, float]]
    minimums: dict[str, float] = field(default_factory=dict)
    maximums: dict[str, float] = field(default_factory=dict)
    file: str = ""

    def event(self, model: str) -> PerformanceEstimated:
        result = self.result
        return PerformanceEstimated(
            model=model,
            file=self.file,
            version=self.record.model_version,
            method=result.method,
            estimated=dict(result.estimated),
            interval={k: (float(lo), float(hi)) for k, (lo, hi) in result.interval.items()},
            breached=tuple(sorted(self.breached)),
            errors=result.errors() if result.realized is not None else None,
            prediction_drift=bool(self.prediction_drift and self.prediction_drift.drifted),
        )


@dataclass(frozen=True)
class EvaluationSet:
    """The labelled evaluation set, fitted: the estimator and the outputs' drift reference."""

    estimator: PerformanceEstimator
    drift: PredictionDriftReference
    features: list[str]
    source: str


class Unavailable(Exception):
    """The evaluation set cannot be prepared; ``cache``: False when it may work next time."""

    def __init__(self, why: str, cache: bool = True) -> None:
        super().__init__(why)
        self.why = why
        self.cache = cache


def _carries_outputs(frame: pd.DataFrame, settings: Settings) -> bool:
    from driftwarden.detectors.estimation import output_columns

    cfg = settings.estimation
    columns = output_columns(frame, cfg.prediction_column, cfg.proba_prefix)
    if settings.model.task == "regression":
        return cfg.prediction_column in columns
    return any(c != cfg.prediction_column for c in columns)


def model_outputs(
    frame: pd.DataFrame, settings: Settings, model: ProductionModel | None, source: str
) -> Outputs:
    """The outputs for ``frame``: its own output columns, else the model's predictions.

    Raises:
        InputFileError: the columns are malformed, or the frame lacks the model's columns.
        Unavailable: no output columns and no production model in force.
    """
    from driftwarden.detectors.estimation import outputs_from_frame

    cfg, task = settings.estimation, settings.model.task
    if _carries_outputs(frame, settings):
        return outputs_from_frame(frame, task, cfg.prediction_column, cfg.proba_prefix, source)
    if model is None:
        raise Unavailable(
            "no production model in force and the data carries no output columns "
            f"({cfg.prediction_column}, {cfg.proba_prefix}<class>)",
            cache=False,
        )
    from driftwarden.tracking.models import predict_outputs

    features = frame.drop(columns=[settings.model.target], errors="ignore")
    return predict_outputs(model, features, task, source)


def feature_columns(
    frame: pd.DataFrame, settings: Settings, model: ProductionModel | None
) -> list[str]:
    """The evaluation set's feature columns (the model's inputs where it declares them)."""
    from driftwarden.detectors.estimation import output_columns

    cfg = settings.estimation
    drop = {settings.model.target, *output_columns(frame, cfg.prediction_column, cfg.proba_prefix)}
    columns = [str(c) for c in frame.columns if c not in drop]
    if model is not None and model.input_columns is not None:
        inputs = set(model.input_columns)
        columns = [c for c in columns if c in inputs]
    return columns


class EvaluationSets:
    """The evaluation set in force for one model, prepared again when the version or the
    ``[estimation]`` settings change (a failure is remembered too: one event, no retry
    per drop, except when MLflow was unreachable)."""

    def __init__(
        self,
        model: str,
        mlflow: MlflowAccess,
        directory: Path,
        publish: Publish,
    ) -> None:
        self.model = model
        self.mlflow = mlflow
        self.directory = directory
        self._publish = publish
        self._key: tuple[Any, ...] | None = None
        self._prepared: EvaluationSet | Unavailable | None = None
        self._reported: tuple[tuple[Any, ...], str] | None = None

    def get(self, settings: Settings, model: ProductionModel | None) -> EvaluationSet | None:
        """The prepared set, or None (after publishing why, once per version and reason)."""
        version = model.version if model is not None else None
        key = (
            version,
            settings.estimation.model_dump_json(),
            settings.model.task,
            settings.model.target,
            settings.validation.f1_average,
        )
        if key != self._key or self._prepared is None:
            try:
                self._prepared = self._prepare(settings, model)
            except Unavailable as exc:
                self._prepared = exc if exc.cache else None
                self.report(key, version, exc.why)
                self._key = key
                return None
            self._key = key
        if isinstance(self._prepared, Unavailable):
            return None
        return self._prepared

    def report(self, key: tuple[Any, ...], version: str | None, why: str) -> None:
        if self._reported == (key, why):
            return
        self._reported = (key, why)
        self._publish(EstimationUnavailable(self.model, version, why))

    def _prepare(self, settings: Settings, model: ProductionModel | None) -> EvaluationSet:
        try:
            frame, source = self._read(settings, model)
            return self._fit(frame, source, settings, model)
        except Unavailable:
            raise  # before the catch-all below: it imports mlflow (seconds, on the worker)
        except MlflowUnavailable as exc:
            raise Unavailable(f"MLflow unreachable: {exc}", cache=False) from None
        except (InputFileError, UsageError, OSError, ValueError) as exc:
            raise Unavailable(str(exc)) from None
        except Exception as exc:  # MLflow's own refusal: the run or its split is gone
            from mlflow.exceptions import MlflowException

            if not isinstance(exc, MlflowException):
                raise
            raise Unavailable(redact(str(exc).splitlines()[0][:300] if str(exc) else "")) from None

    def _read(self, settings: Settings, model: ProductionModel | None) -> tuple[pd.DataFrame, str]:
        from driftwarden.data.read import read_frame

        cfg = settings.estimation
        path = cfg.reference_path
        if path is not None:
            return read_frame(path, max_bytes=settings.watch.max_file_bytes), str(path)
        if model is None or not model.run_id:
            raise Unavailable(
                "estimation.reference is 'model' and no production model is in force", cache=False
            )
        from driftwarden.tracking.models import download_test_split

        dst = self.directory / f"v{model.version}"
        local = download_test_split(self.mlflow.client(), model.run_id, cfg.artifact_path, dst)
        return read_frame(local), f"held-out split of {model.label} ({local.name})"

    def _fit(
        self, frame: pd.DataFrame, source: str, settings: Settings, model: ProductionModel | None
    ) -> EvaluationSet:
        from driftwarden.detectors.estimation import PredictionDriftReference, fit_estimator

        target, cfg = settings.model.target, settings.estimation
        if target not in frame.columns:
            raise InputFileError(source, "the evaluation set has no label column", field=target)
        labelled = frame[frame[target].notna()].reset_index(drop=True)
        outputs = model_outputs(labelled, settings, model, source)
        features = feature_columns(labelled, settings, model)
        estimator = fit_estimator(
            cfg.method_for(settings.model.task),
            outputs,
            labelled[target].to_numpy(),
            labelled[features],
            average=settings.validation.f1_average,
            level=cfg.interval_level,
            seed=cfg.seed,
            min_rows=cfg.min_reference_rows,
            source=source,
            target=target,
        )
        drift = PredictionDriftReference(outputs, settings.drift)
        return EvaluationSet(estimator, drift, features, source)


class Estimator:
    """Estimates one model's performance on each drop (on its worker thread only).

    Args:
        model: the registered name.
        config: the settings in force (read per drop).
        production: the production model in force (predicts drops without output columns).
        sets: the evaluation set in force.
    """

    def __init__(
        self,
        model: str,
        config: Callable[[], Settings],
        production: ModelHolder,
        sets: EvaluationSets,
    ) -> None:
        self.model = model
        self.config = config
        self.production = production
        self.sets = sets

    def estimate(
        self, frame: pd.DataFrame, *, key: str, tags: dict[str, str], source: str
    ) -> EstimationOutcome | None:
        """The drop's estimate; None when estimation is off or has no evaluation set.

        Raises:
            InputFileError: the drop cannot be estimated (the model's columns missing,
                malformed output columns, classes the evaluation set does not have).
        """
        settings = self.config()
        if not settings.estimation.enabled:
            return None
        model = self.production.get()
        prepared = self.sets.get(settings, model)
        if prepared is None:
            return None
        started, t0 = time.time(), time.monotonic()
        try:
            outputs = model_outputs(frame, settings, model, source)
        except Unavailable as exc:
            self.sets.report(("drop",), model.version if model else None, exc.why)
            return None
        features, labels = frame.reindex(columns=prepared.features), _labels(frame, settings)
        try:
            result = prepared.estimator.estimate(outputs, features, labels, source)
        except InputFileError:
            if labels is None:
                raise
            # Labels the estimate cannot compare (a class it never saw): estimate without
            # them; validation judges the labels themselves.
            result = prepared.estimator.estimate(outputs, features, None, source)
        drift = prepared.drift.check(outputs)
        version = model.version if model is not None else None
        return self._outcome(settings, result, drift, key, tags, version, started, t0, source)

    def _outcome(
        self,
        settings: Settings,
        result: EstimationResult,
        drift: PredictionDriftResult,
        key: str,
        tags: dict[str, str],
        version: str | None,
        started: float,
        t0: float,
        source: str,
    ) -> EstimationOutcome:
        key = f"{key}:v{version}" if version else key
        minimums = dict(settings.validation.minimums)
        maximums = dict(settings.validation.maximums)
        breached = result.breaches(minimums, maximums)
        run_tags = {
            "driftwarden.kind": "estimation",
            "driftwarden.scope": "file",
            "driftwarden.model": self.model,
            "driftwarden.outbox_key": key,
            **({"driftwarden.model_version": version} if version else {}),
            **tags,
        }
        record = CheckRecord(
            kind="estimation",
            scope="file",
            model=self.model,
            outcome="breach" if breached else "ok",
            model_version=version,
            summary=_summary(result, drift, breached, tags),
            outbox_key=key,
            started_at=started,
            finished_at=time.time(),
        )
        payload = {
            "experiment": settings.mlflow.experiment_name,
            "result": result.to_dict(),
            "prediction_drift": {"p_value": drift.p_value, "drifted": bool(drift.drifted)},
            "tags": run_tags,
        }
        write = OutboxWrite("estimation_run", payload, key)
        duration = time.monotonic() - t0
        return EstimationOutcome(
            result, drift, record, write, duration, breached, minimums, maximums, source
        )


def _summary(
    result: EstimationResult,
    drift: PredictionDriftResult,
    breached: dict[str, tuple[float, float]],
    tags: dict[str, str],
) -> dict[str, Any]:
    """What the ledger keeps of an estimate (JSON-safe)."""
    document = result.to_dict()
    return {
        "method": result.method,
        "estimated": document["estimated"],
        "interval": document["interval"],
        "errors": {k: v for k, v in result.errors().items() if math.isfinite(v)},
        "breached": sorted(breached),
        "prediction_drift": bool(drift.drifted),
        **{k: v for k, v in tags.items() if k == "driftwarden.file"},
    }


def _labels(frame: pd.DataFrame, settings: Settings) -> Any:
    """The drop's labels when every row has one (then the realized value is reported)."""
    target = settings.model.target
    if target not in frame.columns or bool(frame[target].isna().any()):
        return None
    return frame[target].to_numpy()
