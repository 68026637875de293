"""Where a check's MLflow run and its report can be found, from ids alone (no mlflow import).

The daemon renders a drift report before its run exists (the outbox writes the run later,
maybe hours later while MLflow is down). The page is rendered saying so
(``PENDING_RUN``); the outbox writer, once it has created the run, puts the run's link in
its place before it logs the page (``fill_run_link``). ``driftwarden status`` builds the
same links from the run id the writer recorded in the ledger.
"""

from __future__ import annotations

import html
from urllib.parse import quote, urlsplit, urlunsplit

# The report's path inside a drift run's artifacts.
REPORT_ARTIFACT = "drift/report.html"
# What the report says in place of the run link until the outbox has written the run.
PENDING_RUN = "not in MLflow yet (waiting in the outbox)"


def run_url(tracking_uri: str, experiment_id: str | None, run_id: str) -> str | None:
    """The run's page in the MLflow UI of an http(s) tracking server; None for other stores.

    Credentials in the URI (``user:password@``) are left out: the link is shown to people.
    """
    parts = urlsplit(tracking_uri)
    if parts.scheme not in ("http", "https") or not experiment_id:
        return None
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return f"{base}/#/experiments/{quote(experiment_id, safe='')}/runs/{quote(run_id, safe='')}"


def run_reference(tracking_uri: str, experiment_id: str | None, run_id: str) -> str:
    """The UI link where there is one, else the ``runs:/`` URI MLflow's tools accept."""
    return run_url(tracking_uri, experiment_id, run_id) or f"runs:/{run_id}"


def report_uri(run_id: str) -> str:
    """The report's artifact URI (``mlflow artifacts download --artifact-uri ...`` takes it)."""
    return f"runs:/{run_id}/{REPORT_ARTIFACT}"


def fill_run_link(page: str, link: str) -> str:
    """``page`` with its pending-run note replaced by ``link`` (an <a> when it is http(s)).

    A page without the note (rendered elsewhere, or already filled) comes back unchanged.
    """
    text = html.escape(link)
    if link.lower().startswith(("http://", "https://")):
        text = f'<a href="{html.escape(link, quote=True)}">{text}</a>'
    return page.replace(f"<dd>{html.escape(PENDING_RUN)}</dd>", f"<dd>{text}</dd>", 1)
