"""A file the production model refuses to predict on (issue 10.5): quarantined at once with
a reason naming the column, and nothing of it reaches MLflow.

Before: sklearn's ``ValueError: Input X contains NaN`` escaped the validation, the job was
retried three times with tracebacks and the file quarantined as "checking failed 3 times;
see the daemon log". The model is a real logistic regression registered in a real sqlite
MLflow store; the daemon is the real in-process one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from driftwarden.events import types as ev
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.models import register_model

pytestmark = pytest.mark.integration

MODEL = "test-model"
Start = Callable[..., InProcessDaemon]


@pytest.mark.slow
def test_missing_feature_values_quarantine_the_file_naming_the_column_and_write_nothing(
    tmp_path: Path, start_daemon: Start
) -> None:
    state = tmp_path / "state"
    assert register_model(state, sample_frame(400, seed=1), MODEL) == "1"
    config = daemon_config(
        tmp_path,
        watch={"settle_seconds": 0.2},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 3600.0}},
    )
    running = start_daemon(config)
    running.wait(ev.ModelInForce, timeout=90)
    holes = sample_frame(300, seed=5)
    holes.loc[holes.index[::7], "x2"] = np.nan  # some rows only: the column is not empty
    drop = tmp_path / "drop"
    write_csv(drop / "holes.csv", holes)

    [quarantined] = running.wait(ev.FileQuarantined, timeout=90)
    assert Path(quarantined.file).name == "holes.csv"
    assert "column 'x2'" in quarantined.reason or 'column "x2"' in quarantined.reason
    assert "missing values" in quarantined.reason and "checking failed" not in quarantined.reason
    reason_file = drop / "quarantine" / "holes.csv.reason.txt"
    assert "x2" in reason_file.read_text()
    assert not running.events.of(ev.FileRedo), "retried instead of refused"
    assert not running.events.of(ev.FileChecked)
    # Nothing of the file is kept for MLflow: no queued write, no check, no orphan report.
    assert running.parts.outbox.pending() == 0 and running.parts.outbox.peek() == []
    assert not running.events.of(ev.OutboxWritten)
    assert running.parts.ledger.checks() == []
    reports = state / "reports"
    assert not reports.exists() or not any(reports.rglob("*.html"))
    [row] = running.parts.ledger.files()
    assert row["status"] == "quarantined"
