"""``driftwarden status``: what the ledger knows, read while the daemon may be writing.

Per kept model (``--model NAME``: one of them, or a model only the ledger still knows): files
by outcome, the checks (``--limit``, ``--since``; ``status_checks``) with their verdicts,
MLflow runs and reports, the alerts firing, the production model version, the last retrain;
then who owns which model on a shared state and the MLflow writes waiting in the outbox.
Opens the ledger and the outbox read-only, so it never blocks or changes the running daemon
and needs no write access.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from driftwarden.commands.status_checks import (
    DEFAULT_LIMIT,
    HistoryQuery,
    Links,
    check_document,
    check_lines,
    iso,
    parse_limit,
    parse_since,
)
from driftwarden.config import load_settings, resolve_config_path
from driftwarden.config.model import Settings
from driftwarden.errors import DriftwardenError, UsageError
from driftwarden.logs import setup_logging
from driftwarden.redact import printable_lines
from driftwarden.state import Ledger, StateEngine, engine_for, is_shared
from driftwarden.state.paths import state_paths

LAST_CHECKS = DEFAULT_LIMIT


class StateFileError(DriftwardenError):
    """A ledger or outbox file that cannot be read (not a database, unreadable, locked)."""

    exit_code = 2

    def __init__(self, path: Path, exc: sqlite3.Error) -> None:
        super().__init__(f"{path}: cannot read the state database: {exc}")


def collect_status(settings: Settings, query: HistoryQuery | None = None) -> dict[str, Any]:
    """The status document (also what ``--format json`` prints).

    ``models`` holds one entry per kept model (``query.model``: only that one); when one
    model is shown, its entry's keys are also at the top level, as before several models
    were kept. ``query`` also chooses which checks are shown (``--limit``, ``--since``).
    """
    engine = engine_for(settings)
    where, exists = engine.describe(), engine.exists()
    kept = list(settings.kept_models())
    query = query or HistoryQuery(kept[0] if len(kept) == 1 else None)
    names = kept if query.model is None else [query.model]
    status: dict[str, Any] = {
        "state_directory": str(settings.state.directory),
        "ledger": where["ledger"],
        "query": query.to_dict(),
        "models": [_empty_model(name) for name in names],
        "outbox": {"pending": 0, "dead": 0, "oldest_age_seconds": None},
    }
    if exists["ledger"] and is_shared(settings):
        status["owners"] = _owners(engine)
    if exists["ledger"]:
        try:
            _ledger_status(status["models"], engine, settings, query)
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
        "more_checks": False,
        "model_in_ledger": False,
        "firing_alerts": [],
        "production_model": None,
        "last_retrain": None,
        "retrain_running_since": None,
    }


def _ledger_status(
    models: list[dict[str, Any]], engine: StateEngine, settings: Settings, query: HistoryQuery
) -> None:
    """Each model's entry. With a single ``[model]`` its files are every row (also rows an
    older ledger wrote without their model)."""
    ledger = engine.ledger(readonly=True)
    try:
        for entry in models:
            _model_status(entry, ledger, settings, query)
    finally:
        ledger.close()


def _model_status(
    entry: dict[str, Any], ledger: Ledger, settings: Settings, query: HistoryQuery
) -> None:
    model = entry["model"]
    entry["files"] = ledger.file_counts(model if settings.several_models else None)
    entry["last_checks"], entry["more_checks"] = _checks(ledger, settings, query, model)
    # Known to the ledger even when --since leaves none of its checks in the answer.
    entry["model_in_ledger"] = bool(entry["last_checks"] or ledger.checks(model=model, limit=1))
    entry["firing_alerts"] = _firing_alerts(ledger, model)
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
    return iso(ts)


def _checks(
    ledger: Ledger, settings: Settings, query: HistoryQuery, model: str
) -> tuple[list[dict[str, Any]], bool]:
    """The model's checks the query asks for, newest first, and whether there are more."""
    rows = ledger.checks(limit=query.limit + 1, model=model, since=query.since)
    links = Links(settings.tracking_uri, state_paths(settings)["reports"])
    return [check_document(row, links) for row in rows[: query.limit]], len(rows) > query.limit


def _firing_alerts(ledger: Ledger, model: str) -> list[dict[str, Any]]:
    """Alerts whose last notification was 'firing' (from the ledger's alert rows)."""
    return [
        {
            "rule": alert["rule"],
            "key": alert["key"] or None,
            "summary": alert["summary"],
            "since": _iso(alert["started_at"]),
            "last_sent": _iso(alert["last_sent"]),
        }
        for alert in ledger.firing_alerts(model)
    ]


def render_text(status: dict[str, Any]) -> str:
    """A short human-readable report, one block per model, control characters escaped."""
    lines = [f"state: {status['state_directory']}"]
    models = status["models"]
    for entry in models:
        block = _model_lines(entry, status["query"])
        # One model reads as before; several are indented under their "model:" line.
        lines += [block[0], *(("  " + line) if len(models) > 1 else line for line in block[1:])]
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
    # File and column names come from uploaders: no newline or ESC of theirs reaches the terminal.
    return printable_lines(lines)


def _model_lines(entry: dict[str, Any], query: dict[str, Any]) -> list[str]:
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
    lines.extend(_alert_lines(entry["firing_alerts"]))
    lines.extend(_check_section(entry, query))
    return lines


def _alert_lines(alerts: list[dict[str, Any]]) -> list[str]:
    if not alerts:
        return ["alerts firing: none"]
    lines = [f"alerts firing: {len(alerts)}"]
    for alert in alerts:
        rule = alert["rule"] + (f" ({alert['key']})" if alert["key"] else "")
        lines.append(f"  {rule} since {alert['since']}: {alert['summary']}")
    return lines


def _check_section(entry: dict[str, Any], query: dict[str, Any]) -> list[str]:
    """The checks the query selected, with a header that says which and whether more exist."""
    since = f" since {query['since']}" if query["since"] else ""
    if not entry["last_checks"]:
        return [f"checks{since}: none"]
    shown = len(entry["last_checks"])
    more = f"; more with --limit {query['limit'] * 2}" if entry["more_checks"] else ""
    lines = [f"checks{since}, newest first ({shown} shown{more}):"]
    for check in entry["last_checks"]:
        lines.extend(check_lines(check))
    return lines


def history_query(args: argparse.Namespace, settings: Settings, now: float) -> HistoryQuery:
    """``--model``, ``--limit`` and ``--since`` checked; a bad value is a UsageError (exit 2)."""
    kept = list(settings.kept_models())
    model = getattr(args, "model", None) or (kept[0] if len(kept) == 1 else None)
    limit = getattr(args, "limit", None)
    limit = parse_limit(DEFAULT_LIMIT if limit is None else limit)
    since_text = getattr(args, "since", None)
    since = parse_since(since_text, now) if since_text else None
    return HistoryQuery(model, limit, since)


def _refuse_unknown_model(settings: Settings, status: dict[str, Any]) -> None:
    """A ``--model`` that is neither kept nor in the ledger is a typo, not an empty history."""
    model = status["query"]["model"]
    kept = list(settings.kept_models())
    if model is None or model in kept or status["models"][0]["model_in_ledger"]:
        return
    raise UsageError(
        f"--model {model!r}: no such model in {status['ledger']} or the config"
        f" (kept: {', '.join(kept)})"
    )


def status_command(args: argparse.Namespace) -> int:
    """Print the status as text or one JSON document on stdout."""
    config_path = resolve_config_path(args.config)
    if config_path is None:
        raise UsageError("status needs --config FILE (or DRIFTWARDEN_CONFIG)")
    settings = load_settings(config_path)
    setup_logging(
        args.log_level or settings.logging.level, args.log_format or settings.logging.format
    )
    status = collect_status(settings, history_query(args, settings, time.time()))
    _refuse_unknown_model(settings, status)
    if args.format == "json":
        print(json.dumps(status, indent=2, sort_keys=True))
    else:
        print(render_text(status))
    return 0
