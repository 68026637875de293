"""One drift check or validation, computed, and what it leaves behind (not yet written anywhere).

A ``Checker`` returns an outcome: the result, the ledger record and the MLflow write, under
a key that identifies the check (so a redo after a crash queues nothing twice). Nothing is
stored here: ``commit.Commit`` puts outcomes in the outbox, the ledger and the metrics, in
the order that makes a crash harmless.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.reference import ReferenceHolder
from driftwarden.daemon.jobs.registry_watch import ModelHolder
from driftwarden.daemon.jobs.reports import Draft, render_report
from driftwarden.state import CheckRecord
from driftwarden.state.paths import report_file

if TYPE_CHECKING:
    from driftwarden.detectors import DriftResult
    from driftwarden.detectors.validation import ValidationResult


@dataclass(frozen=True)
class OutboxWrite:
    """An MLflow write to queue: the outbox kind, its payload and its idempotency key.

    ``report`` is a file the write reads (the HTML drift report): a window check's is written
    before the write is queued, a file check's rendered after its verdict (``reports``); the
    writer deletes it once it is in MLflow.
    """

    kind: str
    payload: dict[str, Any]
    key: str
    report: Draft | None = None


@dataclass(frozen=True)
class DriftOutcome:
    result: DriftResult
    record: CheckRecord
    write: OutboxWrite
    duration: float


@dataclass(frozen=True)
class ValidationOutcome:
    result: ValidationResult
    record: CheckRecord
    write: OutboxWrite
    duration: float
    breached: dict[str, float]
    minimums: Mapping[str, float] = field(default_factory=dict)
    maximums: Mapping[str, float] = field(default_factory=dict)


# Tags that say what was checked; the ledger keeps them in the check's summary.
SOURCE_TAGS = ("driftwarden.file", "driftwarden.window_files")
# A window's drops the report names before "+N more" (a window may hold hundreds).
SOURCE_NAMES = 5


def _file_tag(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if k in SOURCE_TAGS}


def _source(scope: str, tags: Mapping[str, str]) -> str:
    """What was checked, for the report: the file's name, or the window's drops."""
    if tags.get("driftwarden.file"):
        return tags["driftwarden.file"]
    names = [n for n in tags.get("driftwarden.window_files", "").split(",") if n]
    if not names:
        return scope
    more = f" +{len(names) - SOURCE_NAMES} more" if len(names) > SOURCE_NAMES else ""
    return f"{scope} of {len(names)} drops: {', '.join(names[:SOURCE_NAMES])}{more}"


def _feature_record(
    document: Mapping[str, Any], cap: int
) -> tuple[tuple[dict[str, Any], ...], int]:
    """The per-feature numbers the ledger keeps (the same cap and order as the metrics), from
    the result's ``to_dict()`` (built once per check: it walks every feature's numbers)."""
    from driftwarden.observability.feature_cap import select_features

    rows = document["features"]
    kept, left_out = select_features(rows, cap)
    return tuple(dict(row) for row in kept), left_out


class Checker:
    """Drift against the model's reference and validation of its production model.

    Args:
        model: the model's registered name (on every record, tag and metric).
        config: the settings in force (read per check, so a reload applies to the next one).
        reference: the reference in force; no drift check without one.
        production: the production model in force; no validation without one.
        reports_dir: where the HTML report is to wait for the outbox writer.
    """

    def __init__(
        self,
        model: str,
        config: Callable[[], Settings],
        reference: ReferenceHolder,
        production: ModelHolder,
        reports_dir: Path,
    ) -> None:
        self.model = model
        self.config = config
        self.reference = reference
        self.production = production
        self.reports_dir = reports_dir

    def _tags(
        self, kind: str, scope: str, key: str, version: str | None, tags: dict[str, str]
    ) -> dict[str, str]:
        """The run's tags: what was checked, for which model version, under which outbox key."""
        return {
            "driftwarden.kind": kind,
            "driftwarden.scope": scope,
            "driftwarden.model": self.model,
            "driftwarden.outbox_key": key,
            **({"driftwarden.model_version": version} if version else {}),
            **tags,
        }

    def _record(
        self,
        kind: str,
        scope: str,
        outcome: str,
        version: str | None,
        summary: dict[str, Any],
        key: str,
        started: float,
        features: tuple[tuple[dict[str, Any], ...], int] = ((), 0),
    ) -> CheckRecord:
        return CheckRecord(
            kind=kind,
            scope=scope,
            model=self.model,
            outcome=outcome,
            model_version=version,
            summary=summary,
            outbox_key=key,
            started_at=started,
            finished_at=time.time(),
            features=features[0],
            features_left_out=features[1],
        )

    def drift(
        self,
        frame: pd.DataFrame,
        *,
        scope: str,
        key: str,
        tags: dict[str, str],
        current_version: str,
        source_file: tuple[Path, Path] | None = None,
    ) -> DriftOutcome | None:
        """Drift of ``frame`` against the current reference; None when no reference is loaded yet.

        ``source_file``: the checked file and the directory it is moved to, kept in the
        write so that a report a crash left unwritten can be rendered again from the file.
        """
        from driftwarden.detectors import check_drift

        reference = self.reference.get()
        if reference is None:
            return None
        settings = self.config()
        started, t0 = time.time(), time.monotonic()
        result = check_drift(
            reference.prepared, frame, settings.drift, current_version=current_version
        )
        model = self.production.get()
        version = str(model.version) if model is not None else None
        html_path = report_file(self.reports_dir, key)
        context = {
            "model": self.model,
            "model_version": version,
            "source": _source(scope, tags),
            "checked_at": started,
        }
        render = functools.partial(render_report, result, reference, frame, context)
        document = result.to_dict()
        payload = {
            "experiment": settings.mlflow.experiment_name,
            "result": document,
            "html_path": str(html_path),
            "tags": self._tags("drift", scope, key, version, tags),
        }
        if source_file is not None:
            payload["report_source"] = {
                **context,
                "file": str(source_file[0]),
                "moved_dir": str(source_file[1]),
            }
        summary = {
            "dataset_drift": bool(result.dataset_drift),
            "drifted_features": list(result.drifted_features),
            "n_current": result.n_current,
            "reference_version": result.reference_version,
            "current_version": result.current_version,
            "schema_findings": len(result.schema),
            **_file_tag(tags),
        }
        outcome = "drift" if result.dataset_drift else "ok"
        features = _feature_record(document, settings.metrics.max_features)
        record = self._record("drift", scope, outcome, version, summary, key, started, features)
        duration = time.monotonic() - t0
        held = frame.shape[0] * frame.shape[1] * 8  # about (memory_usage is slow on strings)
        write = OutboxWrite("drift_run", payload, key, report=Draft(html_path, render, held))
        return DriftOutcome(result, record, write, duration)

    def validation(
        self,
        frame: pd.DataFrame,
        *,
        scope: str,
        key: str,
        tags: dict[str, str],
        source: str | None = None,
    ) -> ValidationOutcome | None:
        """Validate the production model on ``frame``; None when no model is loaded yet."""
        production = self.production.get()
        if production is None:
            return None  # before the import: it loads mlflow (seconds)
        from driftwarden.tracking.validate import validate_frame

        settings = self.config()
        started, t0 = time.time(), time.monotonic()
        result = validate_frame(
            production,
            frame,
            settings.model.target,
            settings.validation,
            source=source,
            task=settings.model.task,
        )
        version = str(production.version)
        key = f"{key}:v{version}"
        payload = {
            "experiment": settings.mlflow.experiment_name,
            "result": result.to_dict(),
            "tags": self._tags("validation", scope, key, version, tags),
        }
        minimums = dict(settings.validation.minimums)
        maximums = dict(settings.validation.maximums)
        breached = {
            name: float(result.metrics[name])
            for name, minimum in minimums.items()
            if name in result.metrics and float(result.metrics[name]) < minimum
        }
        breached.update(  # error metrics (mae, rmse): above their maximum
            (name, float(result.metrics[name]))
            for name, maximum in maximums.items()
            if name in result.metrics and float(result.metrics[name]) > maximum
        )
        summary = {
            "metrics": {k: float(v) for k, v in result.metrics.items()},
            "n_rows": result.n_rows,
            "breached": breached,
            **_file_tag(tags),
        }
        outcome = "breach" if breached else "ok"
        record = self._record("validation", scope, outcome, version, summary, key, started)
        write = OutboxWrite("validation_run", payload, key)
        return ValidationOutcome(
            result, record, write, time.monotonic() - t0, breached, minimums, maximums
        )
