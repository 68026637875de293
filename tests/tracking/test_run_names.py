"""MLflow run names say which file (or window) and what came out, bounded and printable."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from driftwarden.detectors.base import DriftResult
from driftwarden.detectors.validation import ValidationResult
from driftwarden.tracking.run_names import (
    MAX_NAME,
    drift_run_name,
    subject,
    validation_run_name,
)
from tests.support.hypothesis_profiles import examples


def _drift(drift: bool) -> DriftResult:
    return DriftResult(features=[], dataset_drift=drift, drifted_features=["x"] if drift else [])


def _validation(metrics: dict[str, float], version: str | None = "3") -> ValidationResult:
    return ValidationResult(
        metrics=metrics, report="", report_dict={}, n_rows=10, model_version=version
    )


@pytest.mark.parametrize(
    ("tags", "drift", "name"),
    [
        ({"driftwarden.file": "batch_0042.csv"}, False, "drift · batch_0042.csv · no drift"),
        ({"driftwarden.file": "batch_0042.csv"}, True, "drift · batch_0042.csv · drift"),
        (
            {"driftwarden.current_file": "/data/in/new_batch.parquet"},
            True,
            "drift · new_batch.parquet · drift",
        ),
        (
            {"driftwarden.window_files": "a.csv,b.csv,c.csv"},
            False,
            "drift · window of 3 files · no drift",
        ),
        ({"driftwarden.window_files": "a.csv"}, False, "drift · a.csv · no drift"),
        ({"driftwarden.scope": "window"}, False, "drift · window · no drift"),
        ({}, True, "drift · data · drift"),
    ],
)
def test_drift_run_names(tags: dict[str, str], drift: bool, name: str) -> None:
    assert drift_run_name(_drift(drift), tags) == name


def test_validation_run_names() -> None:
    tags = {"driftwarden.model": "churn", "driftwarden.data_path": "labelled/batch_7.csv"}
    assert validation_run_name(_validation({"accuracy": 0.93125, "f1": 0.9}), tags) == (
        "validation · batch_7.csv · churn v3 · accuracy 0.931"
    )
    regressor = _validation({"mae": 1.25}, version=None)
    window = {"driftwarden.model": "price", "driftwarden.window_files": "a.csv,b.csv"}
    assert validation_run_name(regressor, window) == (
        "validation · window of 2 files · price v? · mae 1.250"
    )


def test_a_hostile_file_name_cannot_break_a_line_or_a_terminal() -> None:
    name = drift_run_name(_drift(True), {"driftwarden.file": "evil\n\x1b[2Jname.csv"})
    assert name == "drift · evil??[2Jname.csv · drift"


def test_a_long_file_name_keeps_its_ends() -> None:
    long = "a" * 200 + "_batch_0042.csv"
    part = subject({"driftwarden.file": long})
    assert len(part) == 64 and part.startswith("aaaa") and part.endswith("_batch_0042.csv")
    assert "…" in part


@settings(max_examples=examples(200), deadline=None)
@given(st.text(max_size=400), st.booleans())
@example("\x1b", False)  # an ESC in the model name too
def test_names_are_bounded_and_printable(file_name: str, drift: bool) -> None:
    for name in (
        drift_run_name(_drift(drift), {"driftwarden.file": file_name}),
        validation_run_name(
            _validation({"accuracy": 0.5}),
            {"driftwarden.file": file_name, "driftwarden.model": file_name},
        ),
    ):
        assert len(name) <= MAX_NAME
        assert name.isprintable()


def test_the_daemon_file_tag_wins_over_the_cli_tags() -> None:
    tags = {"driftwarden.file": "drop.csv", "driftwarden.current_file": str(Path("/x/other.csv"))}
    assert subject(tags) == "drop.csv"
