"""The ledger's check history: per-feature numbers, filters by model and time, the MLflow run
noted by outbox key, and ledgers written before these existed (schema v2)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

from driftwarden.state import CheckRecord
from driftwarden.state.records import decode_features, encode_features
from driftwarden.state.sqlite import SqliteLedger
from driftwarden.state.sqlite.schema import SCHEMA_VERSION, V1, V2

FEATURES = (
    {
        "feature": "income",
        "test": "ks",
        "p_value": 1e-12,
        "p_value_corrected": 3e-12,
        "effect_size": 0.8,
        "drifted": True,
        "statistic": 0.4,  # not kept: the history keeps what plots drift over time
    },
    {
        "feature": "city",
        "test": "chi2",
        "p_value": math.nan,  # no number in JSON: kept as null
        "p_value_corrected": None,
        "effect_size": None,
        "drifted": False,
    },
)


def drift(model: str = "m", at: float = 1000.0, key: str = "k1") -> CheckRecord:
    return CheckRecord(
        kind="drift",
        scope="file",
        model=model,
        outcome="drift",
        outbox_key=key,
        started_at=at - 1,
        finished_at=at,
        features=FEATURES,
        features_left_out=5,
    )


def test_per_feature_numbers_come_back_with_the_check(tmp_path: Path) -> None:
    ledger = SqliteLedger.open(tmp_path / "ledger.db")
    ledger.record_check(drift())
    [row] = ledger.checks()
    assert row["features"] == [
        {
            "feature": "income",
            "test": "ks",
            "p_value": 1e-12,
            "p_value_corrected": 3e-12,
            "effect_size": 0.8,
            "drifted": True,
        },
        {
            "feature": "city",
            "test": "chi2",
            "p_value": None,
            "p_value_corrected": None,
            "effect_size": None,
            "drifted": False,
        },
    ]
    assert row["features_left_out"] == 5
    assert row["run_id"] is None


def test_the_stored_text_is_compact_field_names_once(tmp_path: Path) -> None:
    text = encode_features(FEATURES * 100, 0)
    assert text is not None and text.count('"income"') == 100 and text.count("p_value") == 2
    assert decode_features(text)[0][0]["effect_size"] == 0.8
    assert encode_features((), 0) is None and decode_features(None) == ([], 0)


def test_checks_narrow_by_model_and_time(tmp_path: Path) -> None:
    ledger = SqliteLedger.open(tmp_path / "ledger.db")
    ledger.record_check(drift("m", 1000.0, "a"))
    ledger.record_check(drift("other", 2000.0, "b"))
    ledger.record_check(drift("m", 3000.0, "c"))
    assert [r["outbox_key"] for r in ledger.checks(model="m")] == ["c", "a"]
    assert [r["outbox_key"] for r in ledger.checks(since=2000.0)] == ["c", "b"]
    assert [r["outbox_key"] for r in ledger.checks(model="m", since=1500.0, limit=5)] == ["c"]
    assert [r["outbox_key"] for r in ledger.checks(limit=1)] == ["c"]


def test_a_run_noted_before_the_check_is_recorded_still_joins_it(tmp_path: Path) -> None:
    """The writer thread may log the run between the outbox insert and the ledger record."""
    ledger = SqliteLedger.open(tmp_path / "ledger.db")
    ledger.record_check_run("k1", "run-1", "7")
    ledger.record_check(drift(key="k1"))
    ledger.record_check_run("k1", "run-1", "7")  # a replay notes it again: still one row
    [row] = ledger.checks()
    assert (row["run_id"], row["experiment_id"]) == ("run-1", "7")


def _v2_file(path: Path) -> None:
    """A ledger as a driftwarden before v3 left it, with one check."""
    conn = sqlite3.connect(path, isolation_level=None)
    for script in (V1, V2):
        for statement in [s for s in script.split(";") if s.strip()]:
            conn.execute(statement)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '2')")
    conn.execute(
        "INSERT INTO checks (kind, scope, model, outcome, summary, outbox_key, started_at,"
        " finished_at) VALUES ('drift', 'file', 'm', 'ok', '{}', 'old', 1.0, 2.0)"
    )
    conn.close()


def test_a_v2_ledger_reads_read_only_without_history(tmp_path: Path) -> None:
    """``status`` never migrates: an older daemon's ledger reads as checks without numbers."""
    _v2_file(tmp_path / "ledger.db")
    reader = SqliteLedger.open(tmp_path / "ledger.db", readonly=True)
    [row] = reader.checks(model="m", since=1.0)
    assert row["outbox_key"] == "old" and row["features"] == [] and row["run_id"] is None
    reader.close()


def test_a_v2_ledger_is_migrated_and_its_old_checks_keep_reading(tmp_path: Path) -> None:
    _v2_file(tmp_path / "ledger.db")
    ledger = SqliteLedger.open(tmp_path / "ledger.db")
    assert ledger.schema == SCHEMA_VERSION
    ledger.record_check(drift(key="new"))
    ledger.record_check_run("old", "run-old", "1")
    rows = {r["outbox_key"]: r for r in ledger.checks()}
    assert rows["old"]["features"] == [] and rows["old"]["run_id"] == "run-old"
    assert rows["new"]["features_left_out"] == 5
