"""``driftwarden status``: what the ledger knows, read while the daemon may be writing.

Files by outcome, the last checks and their verdicts, the production model version, the
last retrain and the MLflow writes waiting in the outbox. Opens the ledger read-only, so it
never blocks or changes the running daemon.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from driftwarden.config import load_settings, resolve_config_path
from driftwarden.config.model import Settings
from driftwarden.daemon.ledger import Ledger
from driftwarden.daemon.state import state_paths
from driftwarden.errors import UsageError
from driftwarden.logs import setup_logging
from driftwarden.tracking.outbox import Outbox

LAST_CHECKS = 10


def collect_status(settings: Settings) -> dict[str, Any]:
    """The status document (also what ``--format json`` prints)."""
    paths = state_paths(settings)
    model = settings.model.name
    status: dict[str, Any] = {
        "state_directory": str(settings.state.directory),
        "model": model,
        "ledger": str(paths["ledger"]),
        "files": {},
        "last_checks": [],
        "production_model": None,
        "last_retrain": None,
        "outbox": {"pending": 0, "dead": 0, "oldest_age_seconds": None},
    }
    if paths["ledger"].exists():
        ledger = Ledger.open(paths["ledger"], readonly=True)
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
            retrain = ledger.last_retrain(model)
            if retrain is not None:
                status["last_retrain"] = {
                    "id": retrain["id"],
                    "status": retrain["status"],
                    "reason": retrain["reason"],
                    "trigger": retrain["trigger"],
                    "run_id": retrain["run_id"],
                    "candidate_version": retrain["candidate_version"],
                    "champion_version": retrain["champion_version"],
                    "started": _iso(retrain["started_at"]),
                    "finished": _iso(retrain["finished_at"]),
                }
        finally:
            ledger.close()
    if paths["outbox"].exists():
        outbox = Outbox(paths["outbox"])
        age = outbox.oldest_age_seconds()
        status["outbox"] = {
            "pending": outbox.pending(),
            "dead": outbox.dead(),
            "oldest_age_seconds": None if age is None else round(age, 1),
        }
    return status


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
    """A short human-readable report."""
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
    lines.append(
        "last retrain: "
        + (
            f"{retrain['status']} ({retrain['reason']}, {retrain['started']})"
            if retrain
            else "none"
        )
    )
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
    return "\n".join(lines)


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
