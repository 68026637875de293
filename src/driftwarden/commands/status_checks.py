"""``driftwarden status``'s history: which checks (``--model``, ``--limit``, ``--since``), each
as numbers for scripts (``--format json``) and as a few lines for people (at most 100 columns).

A check's JSON says what was checked (file or window), when (ISO and Unix time), the verdict
as booleans and numbers, and per feature the numbers to plot drift over time (p-value,
corrected p-value, effect, drifted), then its MLflow run and report once the outbox wrote them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from driftwarden.errors import UsageError
from driftwarden.redact import escape_controls
from driftwarden.state.paths import report_file
from driftwarden.tracking.run_links import report_uri, run_url

DEFAULT_LIMIT = 10
WIDTH = 100  # the table fits a 100-column terminal
WHERE_WIDTH = 28  # the file or window column
INDENT = " " * 21  # continuation lines start under the kind column
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
SINCE_HELP = (
    "an ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00Z; UTC unless it names an"
    " offset) or an age such as 30m, 2h, 7d"
)


@dataclass(frozen=True)
class HistoryQuery:
    """Which checks ``status`` shows: one model's (None: each kept model's), newest first, at
    most ``limit`` per model."""

    model: str | None
    limit: int = DEFAULT_LIMIT
    since: float | None = None  # Unix time; checks finished at or after it

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "limit": self.limit, "since": iso(self.since)}


@dataclass(frozen=True)
class Links:
    """What turns a check row into places to look: the tracking URI and the reports folder."""

    tracking_uri: str
    reports_dir: Path


def iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_since(text: str, now: float) -> float:
    """``--since`` as Unix time: an ISO 8601 date/date-time (UTC when naive) or an age."""
    age = _AGE.match(text)
    if age:
        return now - float(age.group(1)) * _UNIT_SECONDS[age.group(2)]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since {text!r}: not a time; use {SINCE_HELP}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def parse_limit(value: int) -> int:
    if value < 1:
        raise UsageError(f"--limit {value}: must be 1 or more")
    return value


def check_document(row: dict[str, Any], links: Links) -> dict[str, Any]:
    """One ledger check as JSON: numbers and booleans, no prose."""
    summary = row.get("summary") or {}
    window = summary.get("driftwarden.window_files")
    document: dict[str, Any] = {
        "id": row["id"],
        "kind": row["kind"],
        "scope": row["scope"],
        "model": row["model"],
        "model_version": row["model_version"],
        "at": iso(row["finished_at"]),
        "finished_at": row["finished_at"],
        "file": summary.get("driftwarden.file"),
        "window_files": [n for n in window.split(",") if n] if window else None,
        "outcome": row["outcome"],
        "mlflow_run": _run(row, links),
    }
    if row["kind"] == "drift":
        document.update(_drift(row, summary, links))
    elif row["kind"] == "validation":
        document.update(_validation(row, summary))
    return document


def _run(row: dict[str, Any], links: Links) -> dict[str, Any] | None:
    run_id = row.get("run_id")
    if not run_id:
        return None
    return {
        "run_id": run_id,
        "experiment_id": row.get("experiment_id"),
        "url": run_url(links.tracking_uri, row.get("experiment_id"), run_id),
    }


def _drift(row: dict[str, Any], summary: dict[str, Any], links: Links) -> dict[str, Any]:
    drifted = list(summary.get("drifted_features") or [])
    waiting = report_file(links.reports_dir, row["outbox_key"]) if row["outbox_key"] else None
    return {
        "dataset_drift": bool(summary.get("dataset_drift", row["outcome"] == "drift")),
        "drifted_count": len(drifted),
        "drifted_features": drifted,
        "rows": summary.get("n_current"),
        "schema_findings": summary.get("schema_findings"),
        "features": [_feature(f) for f in row.get("features") or []],
        "features_left_out": int(row.get("features_left_out") or 0),
        "report": {
            # The HTML file waits in the state directory until the outbox logs it to MLflow.
            "file": str(waiting) if waiting is not None and waiting.is_file() else None,
            "artifact_uri": report_uri(row["run_id"]) if row.get("run_id") else None,
        },
    }


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "feature": row.get("feature"),
        "test": row.get("test"),
        "p_value": row.get("p_value"),
        "p_value_corrected": row.get("p_value_corrected"),
        "effect_size": row.get("effect_size"),
        "drifted": bool(row.get("drifted")),
    }


def _validation(row: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    breached = {k: float(v) for k, v in (summary.get("breached") or {}).items()}
    return {
        "passed": row["outcome"] == "ok",
        "metrics": {k: float(v) for k, v in (summary.get("metrics") or {}).items()},
        "breached": breached,
        "rows": summary.get("n_rows"),
    }


# ---- text -------------------------------------------------------------------------------


def check_lines(check: dict[str, Any]) -> list[str]:
    """A check in one line, then its drifted features, run and report below, in ``WIDTH``."""
    head = f"  {_minute(check['finished_at'])}  {check['kind']:<10} "
    # Escaped before fitting, so an uploader's control characters cannot stretch the line.
    where = escape_controls(_where(check))
    verdict, names = _verdict(check)
    if len(where) <= WHERE_WIDTH:
        lines = [f"{head}{where:<{WHERE_WIDTH}} {verdict}"]
    else:  # a long name is shown whole, and the verdict goes below it
        lines = [head + where, INDENT + verdict]
    if names:
        lines.append(_fit(INDENT + "drifted:", [escape_controls(n) for n in names]))
    run = check["mlflow_run"]
    if run:
        lines.append(f"{INDENT}run {run['url'] or run['run_id']}")
    report = check.get("report") or {}
    if report.get("artifact_uri"):
        lines.append(f"{INDENT}report {report['artifact_uri']}")
    elif report.get("file"):
        lines.append(f"{INDENT}report {report['file']} (not in MLflow yet)")
    return lines


def _minute(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(ts))


def _where(check: dict[str, Any]) -> str:
    if check["file"]:
        return str(check["file"])
    if check["window_files"]:
        return f"{check['scope']} of {len(check['window_files'])} drops"
    return str(check["scope"])


def _verdict(check: dict[str, Any]) -> tuple[str, list[str]]:
    """The verdict in a few words, and the drifted features' names to list below it."""
    if check["kind"] == "drift":
        count = check["drifted_count"]
        if check["dataset_drift"]:
            return f"DRIFT in {count} feature(s)", check["drifted_features"]
        if count:
            return f"no dataset drift; {count} feature(s) drifted", check["drifted_features"]
        return "no drift", []
    if check["kind"] == "validation":
        head = "ok" if check["passed"] else "BREACH"
        return " ".join([head, *(f"{k}={v:.3f}" for k, v in check["metrics"].items())]), []
    return str(check["outcome"]), []


def _fit(prefix: str, items: list[str]) -> str:
    """``prefix`` and the items that fit in ``WIDTH`` columns, then "+N more" for the rest."""
    line, shown = prefix, 0
    for i, item in enumerate(items):
        rest = len(items) - i - 1
        candidate = line + (" " if i == 0 else ", ") + item
        if shown and len(candidate) + len(f" +{rest} more" if rest else "") > WIDTH:
            break
        line, shown = candidate, shown + 1
    left = len(items) - shown
    return line + (f" +{left} more" if left else "")
