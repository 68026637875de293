"""The writer notes each check's MLflow run in the ledger and puts the run's link in the report
it logs (the daemon renders the report before the run exists). Real sqlite MLflow store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftwarden.config.load import load_settings
from driftwarden.config.model import DriftConfig
from driftwarden.detectors import PreparedReference, check_drift
from driftwarden.detectors.report import render_html
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.outbox.mlflow_calls import KEY_TAG, InProcessCalls
from driftwarden.outbox.writer import MlflowWriter
from driftwarden.state import CheckRecord
from driftwarden.state.sqlite import SqliteLedger
from driftwarden.tracking.access import MlflowAccess
from driftwarden.tracking.run_links import PENDING_RUN, REPORT_ARTIFACT
from tests.support.daemon_proc import sample_frame
from tests.support.mlflow_store import prepare_default_store

KEY = "drift:file:abc"


def _drift_payload(tmp_path: Path) -> dict[str, Any]:
    reference, current = sample_frame(300, seed=1), sample_frame(300, seed=2, shift=1.0)
    prepared = PreparedReference.from_frame(reference, DriftConfig(), target="target")
    result = check_drift(prepared, current, DriftConfig())
    html_path = tmp_path / "state" / "reports" / "abc.html"
    html_path.parent.mkdir(parents=True)
    page = render_html(result, reference, current, model_name="m", run_url=PENDING_RUN)
    html_path.write_text(page, encoding="utf-8")
    return {
        "experiment": "dw-test",
        "result": result.to_dict(),
        "html_path": str(html_path),
        "tags": {KEY_TAG: KEY, "driftwarden.file": "b.csv"},
    }


def _settings(tmp_path: Path) -> Any:
    config = tmp_path / "dw.toml"
    config.write_text(f'[state]\ndirectory = "{tmp_path / "state"}"\n')
    settings = load_settings(config, env={})
    prepare_default_store(settings)
    return settings


def _report(access: MlflowAccess, run_id: str, tmp_path: Path) -> str:
    local = access.client().download_artifacts(run_id, REPORT_ARTIFACT, str(tmp_path))
    return Path(local).read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_drift_run_is_noted_in_the_ledger_and_its_report_links_the_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    access, events = MlflowAccess(settings), Recorder()
    ledger = SqliteLedger.open(tmp_path / "state" / "ledger.db")
    ledger.record_check(CheckRecord("drift", "file", "m", "drift", outbox_key=KEY))
    payload = _drift_payload(tmp_path)
    assert PENDING_RUN in Path(payload["html_path"]).read_text()

    MlflowWriter(InProcessCalls(access), events, ledger.record_check_run)("drift_run", payload, KEY)

    [written] = events.of(ev.OutboxWritten)
    [check] = ledger.checks()
    assert check["run_id"] == written.run_id
    assert check["experiment_id"] == access.experiment_id("dw-test")
    page = _report(access, written.run_id, tmp_path / "download")
    assert PENDING_RUN not in page
    assert f"<dt>MLflow run</dt><dd>runs:/{written.run_id}</dd>" in page
    assert not Path(payload["html_path"]).exists()  # handed over, then deleted


@pytest.mark.slow
def test_a_ledger_that_cannot_note_the_run_does_not_fail_the_write(tmp_path: Path) -> None:
    """The ledger is closed (a real fault, like a full disk): the run is still logged once."""
    settings = _settings(tmp_path)
    access, events = MlflowAccess(settings), Recorder()
    ledger = SqliteLedger.open(tmp_path / "state" / "ledger.db")
    ledger.close()
    writer = MlflowWriter(InProcessCalls(access), events, ledger.record_check_run)

    writer("drift_run", _drift_payload(tmp_path), KEY)  # no exception: the write is done

    [written] = events.of(ev.OutboxWritten)
    runs = access.client().search_runs([access.experiment_id("dw-test")])
    assert [r.info.run_id for r in runs] == [written.run_id]


def test_run_links_for_http_servers_and_other_stores() -> None:
    from driftwarden.tracking.run_links import fill_run_link, run_reference, run_url

    assert run_url("sqlite:////s/mlflow.db", "1", "r") is None
    assert run_reference("sqlite:////s/mlflow.db", "1", "r") == "runs:/r"
    assert run_url("http://u:p@[::1]:5000/mlflow/", "3", "r") == (
        "http://[::1]:5000/mlflow/#/experiments/3/runs/r"
    )
    page = f"<dl><dt>MLflow run</dt><dd>{PENDING_RUN}</dd></dl>"
    assert fill_run_link(page, 'https://x/#/experiments/1/runs/r"') == (
        '<dl><dt>MLflow run</dt><dd><a href="https://x/#/experiments/1/runs/r&quot;">'
        "https://x/#/experiments/1/runs/r&quot;</a></dd></dl>"
    )
    assert fill_run_link("<p>no note</p>", "runs:/r") == "<p>no note</p>"
