"""``driftwarden status``: what the ledger knows, read while the daemon may be writing.

Files by outcome, the last checks and their verdicts, the production model version, the
last retrain and the MLflow writes waiting in the outbox. Opens the ledger and the outbox
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
from driftwarden.state import StateEngine, engine_for, is_shared

LAST_CHECKS = 10


class StateFileError(DriftwardenError):
    """A ledger or outbox file that cannot be read (not a database, unreadable, locked)."""

    exit_code = 2

    def __init__(self, path: Path, exc: sqlite3.Error) -> None:
        super().__init__(f"{path}: cannot read the state database: {exc}")


def collect_status(settings: Settings) -> dict[str, Any]:
    """The status document (also what ``--format json`` prints)."""
    engine = engine_for(settings)
    where, exists = engine.describe(), engine.exists()
    model = settings.model.name
    status: dict[str, Any] = {
        "state_directory": str(settings.state.directory),
        "model": model,
        "ledger": where["ledger"],
        "files": {},
        "last_checks": [],
        "production_model": None,
        "last_retrain": None,
        "retrain_running_since": None,
        "outbox": {"pending": 0, "dead": 0, "oldest_age_seconds": None},
    }
    if exists["ledger"] and is_shared(settings):
        status["owners"] = _owners(engine)
    if exists["ledger"]:
        try:
            _ledger_status(status, engine, model)
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
    return status


def _ledger_status(status: dict[str, Any], engine: StateEngine, model: str) -> None:
    ledger = engine.ledger(readonly=True)
    try:
        status["files"] = ledger.file_counts()
        status["last_checks"] = [_check(row) for row in ledger.checks(limit=LAST_CHECKS)]
        version = ledger.last_model_version(model)
        if version is not None:
            status["production_model"] = {
                "name": model,
                "version": version["version"],
                "run_id": version["run_id"],
                "via": version["source"],
                "since": _iso(version["last_seen"]),
            }
        running = ledger.retrain_running(model)
        if running is not None:
            status["retrain_running_since"] = _iso(running["started_at"])
        # The last cycle that ran to an end; breaches skipped since then are only counted.
        retrain = ledger.last_retrain(model, finished_only=True)
        skipped = ledger.skipped_retrains_since(model, retrain["id"] if retrain else 0)
        if retrain is not None or skipped:
            status["last_retrain"] = {
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
    finally:
        ledger.close()


def _owners(engine: StateEngine) -> dict[str, Any]:
    """Who owns which model on a shared state (``live``: the lease has not run out)."""
    leases = engine.leases(readonly=True)
    try:
        models = {
            le.model: {"instance": le.owner, "epoch": le.epoch, "live": le.remaining > 0}
            for le in leases.leases()
        }
        instances = sorted(leases.instances())
    finally:
        leases.close()
    return {"models": models, "instances": instances}


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
    """A short human-readable report, control characters escaped."""
    lines = [f"state: {status['state_directory']}", f"model: {status['model']}"]
    production = status["production_model"]
    lines.append(
        "production model: "
        + (
            f"version {production['version']} (since {production['since']})"
            if production
            else "none seen"
        )
    )
    files = status["files"]
    lines.append(
        "files: "
        + (", ".join(f"{k} {v}" for k, v in sorted(files.items())) if files else "none yet")
    )
    retrain = status["last_retrain"]
    text = "none"
    if retrain and retrain["status"]:
        text = f"{retrain['status']} ({retrain['reason']}, {retrain['started']})"
    if retrain and retrain["skipped_since"]:
        text += f"; {retrain['skipped_since']} breach(es) skipped since (cooldown or running)"
    lines.append("last retrain: " + text)
    if status["retrain_running_since"]:
        lines.append(f"retrain running since {status['retrain_running_since']}")
    owners = status.get("owners")
    if owners is not None:
        lines.append("live instances: " + (", ".join(owners["instances"]) or "none"))
        for name, lease in sorted(owners["models"].items()):
            held = "" if lease["live"] else " (lease ran out)"
            lines.append(f"owner of {name}: {lease['instance']}{held}")
    outbox = status["outbox"]
    lines.append(
        f"MLflow writes pending: {outbox['pending']}"
        + (f" (oldest {outbox['oldest_age_seconds']}s)" if outbox["oldest_age_seconds"] else "")
        + (f", dead {outbox['dead']}" if outbox["dead"] else "")
    )
    lines.append("last checks:" if status["last_checks"] else "last checks: none")
    for check in status["last_checks"]:
        where = check["file"] or check["scope"]
        lines.append(f"  {check['at']}  {check['kind']:<10} {where:<30} {check['verdict']}")
    # File and column names come from uploaders: no newline or ESC of theirs reaches the terminal.
    return printable_lines(lines)


def status_command(args: argparse.Namespace) -> int:
    """Print the status as text or one JSON document on stdout."""
    config_path = resolve_config_path(args.config)
    if config_path is None:
        raise UsageError("status needs --config FILE (or DRIFTWARDEN_CONFIG)")
    settings = load_settings(config_path)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    status = collect_status(settings)
    if args.format == "json":
        print(json.dumps(status, indent=2, sort_keys=True))
    else:
        print(render_text(status))
    return 0
