"""Running one drift check or validation and handing its result on.

``run_drift``/``run_validation`` compute the result and queue the MLflow write in the outbox
under a key that identifies the check (so a redo after a crash queues nothing twice); the
caller records the returned ``CheckRecord`` in the ledger; ``publish_*`` then moves the
metrics, evaluates the alert rules and tells remediation about a breach.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftwarden.daemon.jobs.context import DaemonContext
from driftwarden.state.sqlite.ledger import CheckRecord

if TYPE_CHECKING:
    from driftwarden.detectors import DriftResult
    from driftwarden.detectors.validation import ValidationResult

log = logging.getLogger(__name__)


@dataclass
class DriftOutcome:
    result: DriftResult
    record: CheckRecord
    duration: float


@dataclass
class ValidationOutcome:
    result: ValidationResult
    record: CheckRecord
    duration: float
    breached: dict[str, float]


def _safe_key(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)


def run_drift(
    ctx: DaemonContext,
    frame: pd.DataFrame,
    *,
    scope: str,
    key: str,
    tags: dict[str, str],
    current_version: str,
) -> DriftOutcome | None:
    """Drift of ``frame`` against the current reference; None when no reference is loaded yet."""
    from driftwarden.detectors import check_drift
    from driftwarden.detectors.report import render_html

    reference = ctx.reference.get()
    if reference is None:
        return None
    settings = ctx.settings
    started = time.time()
    t0 = time.monotonic()
    result = check_drift(reference.prepared, frame, settings.drift, current_version=current_version)
    html = render_html(result, reference.frame, frame)
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    html_path = ctx.reports_dir / f"{_safe_key(key)}.html"
    html_path.write_text(html, encoding="utf-8")
    model = ctx.model.get()
    version = str(model.version) if model is not None else None
    all_tags = {
        "driftwarden.kind": "drift",
        "driftwarden.scope": scope,
        "driftwarden.model": settings.model.name,
        "driftwarden.outbox_key": key,
        **({"driftwarden.model_version": version} if version else {}),
        **tags,
    }
    ctx.outbox.enqueue(
        "drift_run",
        {
            "experiment": settings.mlflow.experiment_name,
            "result": result.to_dict(),
            "html_path": str(html_path),
            "tags": all_tags,
        },
        key,
    )
    duration = time.monotonic() - t0
    summary = {
        "dataset_drift": bool(result.dataset_drift),
        "drifted_features": list(result.drifted_features),
        "n_current": result.n_current,
        "reference_version": result.reference_version,
        "current_version": result.current_version,
        "schema_findings": len(result.schema),
        **{k: v for k, v in tags.items() if k == "driftwarden.file"},
    }
    record = CheckRecord(
        kind="drift",
        scope=scope,
        model=settings.model.name,
        outcome="drift" if result.dataset_drift else "ok",
        model_version=version,
        summary=summary,
        outbox_key=key,
        started_at=started,
        finished_at=time.time(),
    )
    return DriftOutcome(result, record, duration)


def publish_drift(ctx: DaemonContext, outcome: DriftOutcome) -> None:
    """Metrics, alert rules and the remediation trigger after a recorded drift check."""
    model = ctx.model_name
    ctx.metrics.observe_drift_result(model, outcome.result)
    ctx.metrics.observe_check(model, "drift", outcome.record.outcome, outcome.duration)
    detail = {
        "drifted_features": list(outcome.result.drifted_features),
        "scope": outcome.record.scope,
        "outbox_key": outcome.record.outbox_key,
    }
    drifted = bool(outcome.result.dataset_drift)
    ctx.alert(lambda rules: rules.observe_drift(drifted, detail))
    if outcome.result.dataset_drift:
        ctx.breach("drift", detail)


def run_validation(
    ctx: DaemonContext,
    frame: pd.DataFrame,
    *,
    scope: str,
    key: str,
    tags: dict[str, str],
    source: str | None = None,
) -> ValidationOutcome | None:
    """Validate the production model on ``frame``; None when no model is loaded yet."""
    from driftwarden.tracking.validate import validate_frame

    production = ctx.model.get()
    if production is None:
        return None
    settings = ctx.settings
    started = time.time()
    t0 = time.monotonic()
    result = validate_frame(
        production, frame, settings.model.target, settings.validation, source=source
    )
    version = str(production.version)
    key = f"{key}:v{version}"
    all_tags = {
        "driftwarden.kind": "validation",
        "driftwarden.scope": scope,
        "driftwarden.model": settings.model.name,
        "driftwarden.model_version": version,
        "driftwarden.outbox_key": key,
        **tags,
    }
    ctx.outbox.enqueue(
        "validation_run",
        {
            "experiment": settings.mlflow.experiment_name,
            "result": result.to_dict(),
            "tags": all_tags,
        },
        key,
    )
    minimums = settings.validation.minimums
    breached = {
        name: float(result.metrics[name])
        for name, minimum in minimums.items()
        if name in result.metrics and float(result.metrics[name]) < minimum
    }
    record = CheckRecord(
        kind="validation",
        scope=scope,
        model=settings.model.name,
        outcome="breach" if breached else "ok",
        model_version=version,
        summary={
            "metrics": {k: float(v) for k, v in result.metrics.items()},
            "n_rows": result.n_rows,
            "breached": breached,
            **{k: v for k, v in tags.items() if k == "driftwarden.file"},
        },
        outbox_key=key,
        started_at=started,
        finished_at=time.time(),
    )
    return ValidationOutcome(result, record, time.monotonic() - t0, breached)


def publish_validation(ctx: DaemonContext, outcome: ValidationOutcome) -> None:
    """Metrics, alert rules and the remediation trigger after a recorded validation."""
    model = ctx.model_name
    metrics: dict[str, Any] = {k: float(v) for k, v in outcome.result.metrics.items()}
    ctx.metrics.observe_validation(model, metrics, outcome.record.model_version)
    ctx.metrics.observe_check(model, "validation", outcome.record.outcome, outcome.duration)
    minimums = ctx.settings.validation.minimums
    ctx.alert(lambda rules: rules.observe_validation(metrics, minimums))
    if outcome.breached:
        ctx.breach("validation", {"breached": outcome.breached, "scope": outcome.record.scope})
