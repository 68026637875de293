"""``driftwarden status``: what the ledger knows, read while the daemon may be writing.

Per kept model (``--model NAME``: one of them): files by outcome, the last checks and their
verdicts, the production model version, the last retrain; then the MLflow writes waiting
in the outbox. Opens the ledger and the outbox
read-only, so it never blocks or changes the running daemon and needs no write access.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from driftwarden.config import load_settings, resolve_config_path
from driftwarden.config.model import Settings
from driftwarden.errors import DriftwardenError, UsageError
from driftwarden.logs import setup_logging
from driftwarden.redact import printable_lines
from driftwarden.state import Ledger, StateEngine, engine_for

LAST_CHECKS = 10


class StateFileError(DriftwardenError):
    """A ledger or outbox file that cannot be read (not a database, unreadable, locked)."""

    exit_code = 2

    def __init__(self, path: Path, exc: sqlite3.Error) -> None:
        super().__init__(f"{path}: cannot read the state database: {exc}")


def collect_status(settings: Settings, model: str | None = None) -> dict[str, Any]:
    """The status document (also what ``--format json`` prints).

    ``models`` holds one entry per kept model (``model``: only that one); when one model is
    shown, its entry's keys are also at the top level, as before several models were kept.
    """
    engine = engine_for(settings)
    where, exists = engine.describe(), engine.exists()
    names = list(settings.kept_models())
    if model is not None:
        if model not in names:
            raise UsageError(f"--model: {model!r} is not kept by this config; kept: {names}")
        names = [model]
    status: dict[str, Any] = {
        "state_directory": str(settings.state.directory),
        "ledger": where["ledger"],
        "models": [_empty_model(name) for name in names],
        "outbox": {"pending": 0, "dead": 0, "oldest_age_seconds": None},
    }
    if exists["ledger"]:
        try:
            _ledger_status(status["models"], engine, settings.several_models)
        except sqlite3.Error as exc:
            raise StateFileError(Path(where["ledger"]), exc) from None
    if exists["outbox"]:
        try:
            outbox = engine.outbox(readonly=True)
            created = outbox.oldest_pending_created_at()
            age = None if created is None else max(0.0, time.time() - created)
            status["outbox"] = {
                "pending": outbox.pending(),
                "dead": outbox.dead(),
                "oldest_age_seconds": None if age is None else round(age, 1),
            }
        except sqlite3.Error as exc:
            raise StateFileError(Path(where["outbox"]), exc) from None
    if len(status["models"]) == 1:
        status.update(status["models"][0])
    return status


def _empty_model(name: str) -> dict[str, Any]:
    return {
        "model": name,
        "files": {},
        "last_checks": [],
        "production_model": None,
        "last_retrain": None,
        "retrain_running_since": None,
    }


def _ledger_status(models: list[dict[str, Any]], engine: StateEngine, scoped: bool) -> None:
    """Each model's entry; ``scoped`` is False with a single ``[model]``, whose files and
    checks are every row (also rows an older ledger wrote without their model)."""
    ledger = engine.ledger(readonly=True)
    try:
        for entry in models:
            _model_status(entry, ledger, scoped)
    finally:
        ledger.close()


def _model_status(entry: dict[str, Any], ledger: Ledger, scoped: bool) -> None:
    model = entry["model"]
    rows = model if scoped else None
    entry["files"] = ledger.file_counts(rows)
    entry["last_checks"] = [_check(row) for row in ledger.checks(limit=LAST_CHECKS, model=rows)]
    version = ledger.last_model_version(model)
    if version is not None:
        entry["production_model"] = {
            "name": model,
            "version": version["version"],
            "run_id": version["run_id"],
            "via": version["source"],
            "since": _iso(version["last_seen"]),
        }
    running = ledger.retrain_running(model)
    if running is not None:
        entry["retrain_running_since"] = _iso(running["started_at"])
    # The last cycle that ran to an end; breaches skipped since then are only counted.
    retrain = ledger.last_retrain(model, finished_only=True)
    skipped = ledger.skipped_retrains_since(model, retrain["id"] if retrain else 0)
    if retrain is not None or skipped:
        entry["last_retrain"] = {
            "id": retrain["id"] if retrain else None,
            "status": retrain["status"] if retrain else None,
            "reason": retrain["reason"] if retrain else None,
            "trigger": retrain["trigger"] if retrain else None,
            "run_id": retrain["run_id"] if retrain else None,
            "candidate_version": retrain["candidate_version"] if retrain else None,
            "champion_version": retrain["champion_version"] if retrain else None,
            "started": _iso(retrain["started_at"]) if retrain else None,
            "finished": _iso(retrain["finished_at"]) if retrain else None,
            "skipped_since": skipped,
        }


def _iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _check(row: dict[str, Any]) -> dict[str, Any]:
    summary = row.get("summary") or {}
    verdict = row["outcome"]
    if row["kind"] == "drift" and summary.get("drifted_features"):
        verdict += f" ({', '.join(summary['drifted_features'][:5])})"
    if row["kind"] == "validation" and summary.get("metrics"):
        verdict += " (" + ", ".join(f"{k}={v:.3f}" for k, v in summary["metrics"].items()) + ")"
    return {
        "id": row["id"],
        "kind": row["kind"],
        "scope": row["scope"],
        "file": summary.get("driftwarden.file"),
        "outcome": row["outcome"],
        "verdict": verdict,
        "model_version": row["model_version"],
        "at": _iso(row["finished_at"]),
    }


def render_text(status: dict[str, Any]) -> str:
    """A short human-readable report, one block per model, control characters escaped."""
    lines = [f"state: {status['state_directory']}"]
    models = status["models"]
    for entry in models:
        block = _model_lines(entry)
        # One model reads as before; several are indented under their "model:" line.
        lines += [block[0], *(("  " + line) if len(models) > 1 else line for line in block[1:])]
    outbox = status["outbox"]
    lines.append(
        f"MLflow writes pending: {outbox['pending']}"
        + (f" (oldest {outbox['oldest_age_seconds']}s)" if outbox["oldest_age_seconds"] else "")
        + (f", dead {outbox['dead']}" if outbox["dead"] else "")
    )
    # File and column names come from uploaders: no newline or ESC of theirs reaches the terminal.
    return printable_lines(lines)


def _model_lines(entry: dict[str, Any]) -> list[str]:
    lines = [f"model: {entry['model']}"]
    production = entry["production_model"]
    lines.append(
        "production model: "
        + (
            f"version {production['version']} (since {production['since']})"
            if production
            else "none seen"
        )
    )
    files = entry["files"]
    lines.append(
        "files: "
        + (", ".join(f"{k} {v}" for k, v in sorted(files.items())) if files else "none yet")
    )
    retrain = entry["last_retrain"]
    text = "none"
    if retrain and retrain["status"]:
        text = f"{retrain['status']} ({retrain['reason']}, {retrain['started']})"
    if retrain and retrain["skipped_since"]:
        text += f"; {retrain['skipped_since']} breach(es) skipped since (cooldown or running)"
    lines.append("last retrain: " + text)
    if entry["retrain_running_since"]:
        lines.append(f"retrain running since {entry['retrain_running_since']}")
    lines.append("last checks:" if entry["last_checks"] else "last checks: none")
    for check in entry["last_checks"]:
        where = check["file"] or check["scope"]
        lines.append(f"  {check['at']}  {check['kind']:<10} {where:<30} {check['verdict']}")
    return lines


def status_command(args: argparse.Namespace) -> int:
    """Print the status as text or one JSON document on stdout."""
    config_path = resolve_config_path(args.config)
    if config_path is None:
        raise UsageError("status needs --config FILE (or DRIFTWARDEN_CONFIG)")
    settings = load_settings(config_path)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    status = collect_status(settings, getattr(args, "model", None))
    if args.format == "json":
        print(json.dumps(status, indent=2, sort_keys=True))
    else:
        print(render_text(status))
    return 0
