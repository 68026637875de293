"""`driftwarden check REFERENCE CURRENT`: one drift check, as a table or one JSON document.

``--report FILE`` writes the HTML report there; ``--log-to-mlflow`` logs the check as one
run (with the report as an artifact). Either way the command says where things went: the
report's path on stderr in table mode, and fields of the document in JSON mode (stdout
carries that one document and nothing else).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from driftwarden.commands.model_commands import model_settings
from driftwarden.config import Settings
from driftwarden.data.read import read_frame
from driftwarden.data.version_stream import frame_version
from driftwarden.detectors import DriftResult, PreparedReference, check_drift
from driftwarden.detectors.report import format_number, render_html
from driftwarden.detectors.schema import admit_frame
from driftwarden.errors import UsageError
from driftwarden.redact import escape_controls

log = logging.getLogger("driftwarden.check")


def _num(value: float | None, digits: int = 4) -> str:
    return format_number(value, digits, missing="-")


def render_table(result: DriftResult, reference: str, current: str) -> str:
    """Human-readable summary: verdict, one row per feature (drifted first), schema findings.

    Names come from the data (hostile input): each is escaped so it cannot add a line or
    drive the terminal.
    """
    verdict = "DRIFT" if result.dataset_drift else "no drift"
    lines = [
        f"{verdict}: {len(result.drifted_features)} of {len(result.features)} features drifted "
        f"(share {result.drifted_share:.1%}; alpha {result.alpha} after {result.correction})",
        f"reference {escape_controls(reference)}: {result.n_reference} rows, version {result.reference_version}",
        f"current   {escape_controls(current)}: {result.n_current} rows, version {result.current_version}",
        "",
    ]
    if result.dataset_p_value is not None:  # a combining dataset rule
        combined = f"all columns combined ({result.dataset_rule}): p {_num(result.dataset_p_value)}"
        if result.dataset_drift_reason == "combined":
            sources = ", ".join(result.likely_sources)
            combined += f"; no column is significant alone, likely source: {sources}"
        lines.insert(1, combined)
    rows = [["feature", "test", "statistic", "p-value", "p (corr.)", "effect", "drifted", "note"]]
    for f in result.features:
        rows.append(
            [
                escape_controls(f.feature),
                f.test,
                _num(f.statistic),
                _num(f.p_value),
                _num(f.p_value_corrected),
                _num(f.effect_size),
                "DRIFT" if f.drifted else "no",
                escape_controls(f.error or (f.method or "")),
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
            lines.append(f"  {s.severity}: {escape_controls(f'{s.column}: {s.message}')}")
    return "\n".join(lines)


@dataclass(frozen=True)
class LoggedRun:
    """Where ``--log-to-mlflow`` put the check."""

    run_id: str
    experiment: str
    report_uri: str


def _log_to_mlflow(
    settings: Settings, result: DriftResult, html: str, args: argparse.Namespace
) -> LoggedRun:
    from driftwarden.tracking.client import configure_mlflow, ensure_experiment
    from driftwarden.tracking.drift_run import REPORT_ARTIFACT, log_drift_run

    client = configure_mlflow(settings)
    experiment = settings.mlflow.experiment_name
    experiment_id = ensure_experiment(client, experiment, settings.mlflow.artifact_location)
    tags = {
        "driftwarden.reference_file": str(args.reference),
        "driftwarden.current_file": str(args.current),
        "driftwarden.trigger": "cli",
    }
    run_id = log_drift_run(client, experiment_id, result, html, tags)
    artifact_root = str(client.get_run(run_id).info.artifact_uri).rstrip("/")
    return LoggedRun(run_id, experiment, f"{artifact_root}/{REPORT_ARTIFACT}")


def write_report(path: Path, html: str) -> Path:
    """Write ``html`` to ``path`` whole or not at all; returns the absolute path.

    Raises UsageError (exit 2) naming the path when it cannot be written.
    """
    target = path.expanduser().absolute()
    if target.is_dir():
        raise UsageError(f"--report {path}: is a directory; name the HTML file to write")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise UsageError(f"--report {path}: cannot write there: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"--report {path}: cannot write there: {exc.strerror or exc}") from None
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_command(args: argparse.Namespace) -> int:
    """Run one check; exit 1 with ``--fail-on-drift`` when the dataset drifted.

    Unreadable files, and a current batch that lacks a tested column or has text in a
    column numeric in the reference, raise InputFileError (exit 2) naming the file and
    the column (the daemon quarantines the same files); MLflow down raises
    MlflowUnavailable (3); an unwritable ``--report`` path and ``--log-to-mlflow`` without
    a store (no ``--config``, no ``MLFLOW_TRACKING_URI``) raise UsageError (2), as does a
    config keeping several models without ``--model`` naming one of them.
    """
    settings = model_settings(args, needs_store=args.log_to_mlflow)  # refused before the work
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
    report_path: Path | None = None
    logged: LoggedRun | None = None
    if args.report or args.log_to_mlflow:
        html = render_html(result, reference, current)
        if args.report:
            report_path = write_report(Path(args.report), html)
        if args.log_to_mlflow:
            logged = _log_to_mlflow(settings, result, html, args)
            log.info("logged to MLflow", extra={"run_id": logged.run_id})
    if args.format == "json":
        document = result.to_dict()
        if report_path is not None:
            document["report"] = str(report_path)
        if logged is not None:
            document["mlflow_run_id"] = logged.run_id
            document["mlflow_experiment"] = logged.experiment
            document["mlflow_report_uri"] = logged.report_uri
        print(json.dumps(document, allow_nan=False))
    else:
        print(render_table(result, args.reference, args.current))
        if logged is not None:
            print(f"\nMLflow run: {logged.run_id} (experiment {logged.experiment!r})")
            print(f"MLflow report: {logged.report_uri}")
        if report_path is not None:
            print(f"HTML report: {report_path}", file=sys.stderr)
    return 1 if args.fail_on_drift and result.dataset_drift else 0
