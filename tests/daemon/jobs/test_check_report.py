"""The daemon's drift report and check record: the report names the model, its version, the
file, the time and the run (filled in once the outbox wrote it); the ledger keeps capped
per-feature numbers; ``status`` follows the report from the state directory into MLflow."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftwarden.commands.status import collect_status
from driftwarden.events import types as ev
from driftwarden.tracking.access import MlflowAccess
from driftwarden.tracking.models import ProductionModel
from driftwarden.tracking.run_links import PENDING_RUN, REPORT_ARTIFACT
from tests.support.daemon_proc import sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_store import prepare_default_store


def in_force(version: str) -> ProductionModel:
    """What the registry watcher would hold; a drift check reads only its version."""
    return ProductionModel("test-model", version, "run-1", "models:/test-model/7", None, None)


@pytest.mark.slow
def test_the_report_has_its_context_and_status_follows_it_into_mlflow(
    tmp_path: Path, build: Callable[..., InProcessDaemon]
) -> None:
    # Four features (x1, x2, x3, cat), so a cap of 2 leaves two out.
    reference = sample_frame(400, seed=1)
    reference["x3"] = reference["x2"] * 2
    reference.to_csv(tmp_path / "reference.csv", index=False)  # daemon_config keeps it
    drop = sample_frame(300, seed=5, shift=1.5, target=False)
    drop["x3"] = drop["x2"] * 2
    daemon = build(tmp_path, metrics={"max_features": 2})
    parts = daemon.parts
    parts.keeper.production.set(in_force("7"))
    before = time.time()
    path = write_csv(tmp_path / "drop" / "batch-0042.csv", drop)
    parts.keeper.files.handle(path)

    [item] = parts.outbox.peek()
    page = Path(item.payload["html_path"]).read_text(encoding="utf-8")
    assert "test-model · version 7" in page
    assert "<dt>Data checked</dt><dd>batch-0042.csv</dd>" in page
    assert f"<dd>{PENDING_RUN}</dd>" in page
    assert "Checked at" in page and str(tmp_path / "reference.csv") in page
    shown_time = re.search(r"<dt>Checked at</dt><dd>([^<]+) UTC</dd>", page)
    assert shown_time is not None, page[:2000]
    checked = datetime.strptime(shown_time.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert int(before) <= checked.timestamp() <= time.time()

    [check] = parts.ledger.checks()
    assert len(check["features"]) == 2 and check["features_left_out"] == 2
    assert check["features"][0]["feature"] == "x1" and check["features"][0]["drifted"] is True

    status = collect_status(daemon.settings)
    [shown] = status["last_checks"]
    assert shown["report"] == {"file": item.payload["html_path"], "artifact_uri": None}
    assert shown["mlflow_run"] is None and shown["model_version"] == "7"

    prepare_default_store(daemon.settings)
    parts.flusher.flush_once()
    [written] = daemon.events.of(ev.OutboxWritten)
    [shown] = collect_status(daemon.settings)["last_checks"]
    assert shown["mlflow_run"]["run_id"] == written.run_id
    assert shown["report"] == {
        "file": None,  # handed over to MLflow
        "artifact_uri": f"runs:/{written.run_id}/{REPORT_ARTIFACT}",
    }
    client = MlflowAccess(parts.settings.get()).client()
    local = client.download_artifacts(written.run_id, REPORT_ARTIFACT, str(tmp_path))
    logged = Path(local).read_text(encoding="utf-8")
    assert f"<dd>runs:/{written.run_id}</dd>" in logged and PENDING_RUN not in logged


def test_a_window_report_names_its_drops_and_counts_past_five() -> None:
    from driftwarden.daemon.jobs.checks import _source

    assert _source("file", {"driftwarden.file": "b.csv"}) == "b.csv"
    assert _source("window", {"driftwarden.window_files": "a.csv,b.csv"}) == (
        "window of 2 drops: a.csv, b.csv"
    )
    many = ",".join(f"d{i}.csv" for i in range(12))
    assert _source("window", {"driftwarden.window_files": many}) == (
        "window of 12 drops: d0.csv, d1.csv, d2.csv, d3.csv, d4.csv +7 more"
    )
    assert _source("schedule", {}) == "schedule"
