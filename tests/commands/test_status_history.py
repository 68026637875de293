"""`driftwarden status` history: --model, --limit, --since, per-feature numbers in JSON, firing
alerts, MLflow runs and reports, and a table that fits 100 columns."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from driftwarden.cli import main
from driftwarden.commands.status_checks import parse_since
from driftwarden.errors import UsageError
from driftwarden.state import CheckRecord
from driftwarden.state.paths import report_file
from driftwarden.state.sqlite import SqliteLedger

NOW = time.time()


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "dw.toml"
    path.write_text(
        f'[model]\nname = "m"\n[state]\ndirectory = "{tmp_path / "state"}"\n{extra}',
        encoding="utf-8",
    )
    return path


def _ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger.open(tmp_path / "state" / "ledger.db")


def feature(name: str, p: float, drifted: bool) -> dict[str, Any]:
    return {
        "feature": name,
        "test": "ks",
        "p_value": p,
        "p_value_corrected": min(1.0, p * 6),
        "effect_size": 0.5 if drifted else 0.01,
        "drifted": drifted,
    }


def drift_check(
    names: list[str],
    drifted: int,
    *,
    model: str = "m",
    at: float = NOW,
    file: str = "batch.csv",
    key: str = "drift:file:abc",
) -> CheckRecord:
    return CheckRecord(
        kind="drift",
        scope="file",
        model=model,
        outcome="drift" if drifted else "ok",
        model_version="3",
        summary={
            "dataset_drift": bool(drifted),
            "drifted_features": names[:drifted],
            "n_current": 500,
            "driftwarden.file": file,
        },
        outbox_key=key,
        started_at=at - 1,
        finished_at=at,
        features=tuple(feature(n, 1e-6 * (i + 1), i < drifted) for i, n in enumerate(names)),
    )


def status_json(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["status", "--config", str(config), "--format", "json", *args]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def status_text(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["status", "--config", str(config), *args]) == 0
    return capsys.readouterr().out


def test_a_drift_in_six_columns_names_all_six_or_says_how_many_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    ledger = _ledger(tmp_path)
    ledger.record_check(drift_check([f"x{i}" for i in range(1, 7)], 6, key="a"))
    wide = [f"a_rather_long_column_name_{i:02d}" for i in range(30)]
    ledger.record_check(drift_check(wide, 30, key="b", at=NOW + 1))
    ledger.close()
    text = status_text(config, capsys)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100, text
    drifted = [line for line in lines if "drifted:" in line]
    assert drifted[1].endswith("drifted: x1, x2, x3, x4, x5, x6"), text
    shown = drifted[0].split("drifted: ", 1)[1]
    assert shown.endswith(" more")
    names, more = shown.rsplit(" +", 1)
    assert len(names.split(", ")) + int(more.split()[0]) == 30, text


def test_json_verdicts_are_booleans_and_numbers_with_per_feature_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    ledger = _ledger(tmp_path)
    ledger.record_check(drift_check(["age", "city", "income"], 1))
    ledger.record_check(
        CheckRecord(
            kind="validation",
            scope="file",
            model="m",
            outcome="breach",
            model_version="3",
            summary={"metrics": {"accuracy": 0.71, "f1": 0.66}, "breached": {"accuracy": 0.71}},
            outbox_key="validation:file:abc:v3",
            finished_at=NOW + 1,
        )
    )
    ledger.close()
    validation, drift = status_json(config, capsys)["last_checks"]
    assert validation["passed"] is False
    assert validation["metrics"] == {"accuracy": 0.71, "f1": 0.66}
    assert validation["breached"] == {"accuracy": 0.71}
    assert drift["dataset_drift"] is True and drift["drifted_count"] == 1
    assert drift["finished_at"] == pytest.approx(NOW) and drift["rows"] == 500
    assert drift["features"][0] == {
        "feature": "age",
        "test": "ks",
        "p_value": 1e-6,
        "p_value_corrected": 6e-6,
        "effect_size": 0.5,
        "drifted": True,
    }
    assert [f["drifted"] for f in drift["features"]] == [True, False, False]
    assert drift["features_left_out"] == 0


def test_model_limit_and_since_select_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    ledger = _ledger(tmp_path)
    day = 86400.0
    for i, age_days in enumerate([30, 6, 3, 1, 0.01]):
        ledger.record_check(drift_check(["x"], 0, at=NOW - age_days * day, key=f"m{i}"))
    ledger.record_check(drift_check(["x"], 1, model="other", at=NOW, key="o"))
    ledger.close()

    document = status_json(config, capsys)
    assert [c["id"] for c in document["last_checks"]] == [5, 4, 3, 2, 1]  # model m only
    assert document["more_checks"] is False

    document = status_json(config, capsys, "--since", "7d", "--limit", "2")
    assert [c["id"] for c in document["last_checks"]] == [5, 4]
    assert document["more_checks"] is True and document["query"]["limit"] == 2
    text = status_text(config, capsys, "--since", "7d", "--limit", "2")
    assert "2 shown; more with --limit 4" in text

    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - 2 * day))
    document = status_json(config, capsys, "--since", since)
    assert [c["id"] for c in document["last_checks"]] == [5, 4]
    assert document["query"]["since"] == since

    document = status_json(config, capsys, "--model", "other")
    assert [c["model"] for c in document["last_checks"]] == ["other"]
    # A model the ledger knows is no typo, even when --since leaves none of its checks.
    document = status_json(config, capsys, "--model", "other", "--since", "2030-01-01")
    assert document["last_checks"] == [] and document["model_in_ledger"] is True


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--since", "yesterday"], "--since"),
        (["--since", "7 days"], "--since"),
        (["--limit", "0"], "--limit"),
        (["--model", "my-modle"], "--model"),
    ],
)
def test_bad_history_flags_are_one_line_and_exit_2(
    args: list[str], flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    _ledger(tmp_path).close()
    assert main(["status", "--config", str(config), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert flag in line and args[1] in line


def test_since_reads_dates_date_times_and_ages() -> None:
    now = 1_800_000_000.0
    assert parse_since("2h", now) == now - 7200
    assert parse_since("7d", now) == now - 7 * 86400
    assert parse_since("30m", now) == now - 1800
    assert parse_since("2026-01-31", now) == 1_769_817_600.0  # midnight UTC
    assert parse_since("2026-01-31T12:00Z", now) == 1_769_860_800.0
    assert parse_since("2026-01-31T13:00+01:00", now) == 1_769_860_800.0
    with pytest.raises(UsageError, match="ISO 8601"):
        parse_since("last tuesday", now)


def test_firing_alerts_are_listed_and_resolved_ones_are_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    ledger = _ledger(tmp_path)
    ledger.record_alert("m", "dataset_drift", "firing", "warning", "Dataset drift on m")
    ledger.record_alert("m", "stale", "firing", "warning", "No check for 2 h")
    ledger.record_alert("m", "stale", "resolved", "warning", "checks again")
    labels = {"metric": "accuracy"}
    ledger.record_alert("m", "validation_below_minimum", "firing", "critical", "acc 0.7", labels)
    ledger.close()
    alerts = status_json(config, capsys)["firing_alerts"]
    assert [(a["rule"], a["key"]) for a in alerts] == [
        ("dataset_drift", None),
        ("validation_below_minimum", "accuracy"),
    ]
    assert alerts[0]["summary"] == "Dataset drift on m" and alerts[0]["since"]
    text = status_text(config, capsys)
    assert "alerts firing: 2" in text and "validation_below_minimum (accuracy) since" in text


def test_the_mlflow_run_and_report_once_the_outbox_wrote_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, '[mlflow]\ntracking_uri = "https://mlflow.example:8443/base/"\n')
    ledger = _ledger(tmp_path)
    ledger.record_check(drift_check(["x"], 1, key="drift:file:written"))
    ledger.record_check(drift_check(["x"], 1, key="drift:file:waiting", at=NOW + 1))
    ledger.record_check_run("drift:file:written", "a1b2c3", "12")
    ledger.close()
    waiting = report_file(tmp_path / "state" / "reports", "drift:file:waiting")
    waiting.parent.mkdir(parents=True)
    waiting.write_text("<!DOCTYPE html>", encoding="utf-8")

    pending, written = status_json(config, capsys)["last_checks"]
    assert pending["mlflow_run"] is None
    assert pending["report"] == {"file": str(waiting), "artifact_uri": None}
    assert written["mlflow_run"] == {
        "run_id": "a1b2c3",
        "experiment_id": "12",
        "url": "https://mlflow.example:8443/base/#/experiments/12/runs/a1b2c3",
    }
    assert written["report"] == {"file": None, "artifact_uri": "runs:/a1b2c3/drift/report.html"}
    text = status_text(config, capsys)
    assert "run https://mlflow.example:8443/base/#/experiments/12/runs/a1b2c3" in text
    assert "report runs:/a1b2c3/drift/report.html" in text
    assert f"report {waiting} (not in MLflow yet)" in text


def test_a_run_link_never_shows_the_tracking_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://ops:hunter2@127.0.0.1:5000")
    config = _config(tmp_path)
    ledger = _ledger(tmp_path)
    ledger.record_check(drift_check(["x"], 1))
    ledger.record_check_run("drift:file:abc", "r1", "1")
    ledger.close()
    assert main(["status", "--config", str(config), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "ops" not in out
    assert json.loads(out)["last_checks"][0]["mlflow_run"]["url"] == (
        "http://127.0.0.1:5000/#/experiments/1/runs/r1"
    )
