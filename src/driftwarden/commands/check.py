"""`driftwarden check REFERENCE CURRENT`: one drift check, as a table or one JSON document."""

from __future__ import annotations

import argparse
import json
import logging

import pandas as pd

from driftwarden.config import Settings, load_settings
from driftwarden.data.read import read_frame
from driftwarden.data.version_stream import frame_version
from driftwarden.detectors import DriftResult, PreparedReference, check_drift
from driftwarden.detectors.report import format_number
from driftwarden.detectors.schema import admit_frame
from driftwarden.logs import setup_logging

log = logging.getLogger("driftwarden.check")


def _num(value: float | None, digits: int = 4) -> str:
    return format_number(value, digits, missing="-")


def render_table(result: DriftResult, reference: str, current: str) -> str:
    """Human-readable summary: verdict, one row per feature (drifted first), schema findings."""
    verdict = "DRIFT" if result.dataset_drift else "no drift"
    lines = [
        f"{verdict}: {len(result.drifted_features)} of {len(result.features)} features drifted "
        f"(share {result.drifted_share:.1%}; alpha {result.alpha} after {result.correction})",
        f"reference {reference}: {result.n_reference} rows, version {result.reference_version}",
        f"current   {current}: {result.n_current} rows, version {result.current_version}",
        "",
    ]
    rows = [["feature", "test", "statistic", "p-value", "p (corr.)", "effect", "drifted", "note"]]
    for f in result.features:
        rows.append(
            [
                f.feature,
                f.test,
                _num(f.statistic),
                _num(f.p_value),
                _num(f.p_value_corrected),
                _num(f.effect_size),
                "DRIFT" if f.drifted else "no",
                f.error or (f.method or ""),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    for m in result.multivariate:
        lines.append(
            f"\n{m.test}: statistic {_num(m.statistic)}, p {_num(m.p_value)}, "
            f"{'DRIFT' if m.drifted else 'no drift'}" + (f" ({m.error})" if m.error else "")
        )
    if result.schema:
        lines.append("\nschema and data quality:")
        for s in result.schema:
            lines.append(f"  {s.severity}: {s.column}: {s.message}")
    return "\n".join(lines)


def _log_to_mlflow(
    settings: Settings,
    result: DriftResult,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    args: argparse.Namespace,
) -> str:
    from driftwarden.detectors.report import render_html
    from driftwarden.tracking.client import configure_mlflow, ensure_experiment
    from driftwarden.tracking.drift_run import log_drift_run

    client = configure_mlflow(settings)
    experiment_id = ensure_experiment(
        client, settings.mlflow.experiment_name, settings.mlflow.artifact_location
    )
    html = render_html(result, reference, current)
    tags = {
        "driftwarden.reference_file": str(args.reference),
        "driftwarden.current_file": str(args.current),
        "driftwarden.trigger": "cli",
    }
    return log_drift_run(client, experiment_id, result, html, tags)


def check_command(args: argparse.Namespace) -> int:
    """Run one check; exit 1 with ``--fail-on-drift`` when the dataset drifted.

    Unreadable files, and a current batch that lacks a tested column or has text in a
    column numeric in the reference, raise InputFileError (exit 2) naming the file and
    the column (the daemon quarantines the same files); MLflow down raises
    MlflowUnavailable (3).
    """
    settings = load_settings(args.config)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    limit = settings.watch.max_file_bytes
    reference = read_frame(args.reference, max_bytes=limit)
    current = read_frame(args.current, max_bytes=limit)
    target = settings.model.target if settings.model.target in reference.columns else None
    # frame_version: data_version's number, with the columns hashed on every core.
    prepared = PreparedReference.one_shot(
        reference, settings.drift, target, frame_version(reference)
    )
    numeric = {name for name in prepared.tested if prepared.profiles[name].numeric}
    current = admit_frame(current, prepared.tested, numeric, str(args.current))
    result = check_drift(prepared, current, settings.drift, current_version=frame_version(current))
    log.info(
        "drift check done",
        extra={"dataset_drift": result.dataset_drift, "drifted": len(result.drifted_features)},
    )
    run_id = None
    if args.log_to_mlflow:
        run_id = _log_to_mlflow(settings, result, reference, current, args)
        log.info("logged to MLflow", extra={"run_id": run_id})
    if args.format == "json":
        document = result.to_dict()
        if run_id is not None:
            document["mlflow_run_id"] = run_id
        print(json.dumps(document, allow_nan=False))
    else:
        print(render_table(result, args.reference, args.current))
        if run_id is not None:
            print(f"\nMLflow run: {run_id}")
    return 1 if args.fail_on_drift and result.dataset_drift else 0
