"""The closed loop through a real daemon: a concept shift breaches validation, one retrain
is promoted, the registry watcher brings it into force, validation recovers; rollback too.

Everything is real: a sqlite MLflow store, the example project trained with `mlflow run`
(the champion by the same remediation code, the challenger by the daemon), the daemon as
a subprocess (`driftwarden run`) whose JSON log, /metrics endpoint and ledger are read.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from driftwarden.cli import main
from driftwarden.config.load import load_settings
from driftwarden.remediation.cycle import run_cycle
from driftwarden.tracking.client import configure_mlflow
from tests.remediation.fixtures import EXAMPLE_PROJECT, concept_frame, write_config
from tests.support.daemon_proc import DaemonProcess, daemon_config, write_csv
from tests.support.mlflow_server import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "loop-model"
MIN_ACCURACY = 0.75
ROWS = 400


def retrain_section(state: Path) -> dict[str, Any]:
    return {
        "enabled": True,
        "triggers": ["validation"],
        "project_uri": str(EXAMPLE_PROJECT),
        "parameters": {"num_trees": 30, "seed": 1},
        "experiment_name": "loop-retrain",
        "timeout_seconds": 300.0,
        "cooldown_seconds": 600.0,
        # The newest labelled drop only: the clean drop of the old concept stays out.
        "recent_files": 1,
        "reference_share": 0.1,
        "holdout_fraction": 0.3,
        "register_threshold": 0.6,
        "promotion": {"metric": "accuracy", "min_improvement": 0.05},
    }


def bootstrap_champion(tmp: Path, mlflow: dict[str, str]) -> str:
    """v1 under alias production: the example project trained on concept 'a' by `mlflow run`.

    Uses the remediation cycle with no champion (its first qualifying model is promoted),
    from its own state directory so that its cooldown does not hold the daemon's.
    """
    reference = tmp / "concept-a.csv"
    concept_frame(600, seed=0, concept="a").to_csv(reference, index=False)
    retrain = retrain_section(tmp) | {"experiment_name": "loop-bootstrap", "enabled": False}
    retrain.pop("promotion")
    path = write_config(
        tmp / "bootstrap.toml",
        {
            "mlflow": mlflow,
            "model": {"name": MODEL},
            "reference": {"source": "file", "path": str(reference)},
            "state": {"directory": str(tmp / "bootstrap-state")},
            "retrain": retrain,
        },
    )
    decision = run_cycle(load_settings(path), "bootstrap", labelled_paths=[])
    assert decision.outcome == "promoted", decision
    assert decision.run_id
    return decision.run_id


def scrape(daemon: DaemonProcess, port: int, name: str, **labels: str) -> float | None:
    """One sample's value from the daemon's /metrics (None when absent)."""
    status, text = daemon.get(port, "/metrics")
    assert status == 200
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            got = ",".join(sorted((match.group(2) or "").split(",")))
            if got == want:
                return float(match.group(3))
    return None


def in_force(version: str) -> Any:
    return lambda e: (
        e.get("msg") == "production model in force" and str(e.get("version")) == version
    )


def checked(name: str) -> Any:
    return lambda e: (
        str(e.get("msg", "")).startswith("file checked")
        and str(e.get("file", "")).endswith("/" + name)
    )


def ledger_rows(state: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{state / 'ledger.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql)]
    finally:
        conn.close()


def test_concept_shift_retrains_once_promotes_recovers_and_rollback_reaches_daemon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    mlflow = {
        "tracking_uri": f"sqlite:///{state / 'mlflow.db'}",
        "artifact_location": (state / "mlartifacts").as_uri(),
    }
    state.mkdir()
    v1_run = bootstrap_champion(tmp_path, mlflow)
    port = free_port()
    config = daemon_config(
        tmp_path,
        mlflow=mlflow,
        model={"name": MODEL, "target": "target"},
        reference={"source": "model"},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 2.0}},
        validation={"minimums": {"accuracy": MIN_ACCURACY}, "window_files": 1},
        retrain=retrain_section(state),
        metrics={"port": port},
    )
    drop = tmp_path / "drop"
    daemon = DaemonProcess(config).start()
    try:
        daemon.wait_for(in_force("1"), timeout=90, what="v1 in force")
        assert scrape(daemon, port, "driftwarden_production_model_version", model=MODEL) == 1.0

        # The champion is fine on its own world.
        write_csv(drop / "clean.csv", concept_frame(ROWS, seed=10, concept="a"))
        [clean] = daemon.wait_for(checked("clean.csv"), timeout=60, what="clean check")
        assert clean["drifted_features"] == "-"
        assert float(clean["validation"].split("accuracy=")[1].split(",")[0]) >= MIN_ACCURACY

        # Three labelled drops of a new concept in quick succession: three breaches.
        for i in range(3):
            write_csv(drop / f"shift-{i}.csv", concept_frame(ROWS, seed=20 + i, concept="b"))
        daemon.wait_for(
            lambda e: (
                str(e.get("msg", "")).startswith("file checked") and "shift-" in str(e.get("file"))
            ),
            timeout=60,
            count=3,
            what="three shifted drops checked",
        )
        [decision] = daemon.wait_for(
            lambda e: str(e.get("msg", "")).startswith("retrain cycle: promoted"),
            timeout=360,
            what="the retrain cycle's promotion",
        )
        daemon.wait_for(in_force("2"), timeout=60, what="v2 in force")
        daemon.wait_for(
            lambda e: (
                str(e.get("msg", "")).startswith("validation:")
                and "version 2" in str(e.get("reason"))
            ),
            timeout=60,
            what="the validation of v2",
        )
        assert scrape(daemon, port, "driftwarden_production_model_version", model=MODEL) == 2.0
        assert (
            scrape(daemon, port, "driftwarden_retrains_total", model=MODEL, outcome="promoted")
            == 1.0
        )
        for outcome in ("failed", "rejected"):
            assert (
                scrape(daemon, port, "driftwarden_retrains_total", model=MODEL, outcome=outcome)
                == 0.0
            )

        # Each of the three breaches left one decision: one cycle ran, the others were skipped.
        def decisions() -> float:
            return sum(
                scrape(daemon, port, "driftwarden_retrains_total", model=MODEL, outcome=o) or 0.0
                for o in ("promoted", "rejected", "failed", "skipped_cooldown", "skipped_running")
            )

        daemon.wait_until(lambda: decisions() == 3.0, timeout=30, what="three retrain decisions")

        # Fresh data of the new concept: the promoted model validates above the minimum.
        write_csv(drop / "fresh.csv", concept_frame(ROWS, seed=40, concept="b"))
        [fresh] = daemon.wait_for(checked("fresh.csv"), timeout=60, what="fresh check")
        accuracy = scrape(
            daemon, port, "driftwarden_validation_metric", model=MODEL, metric="accuracy"
        )
        assert accuracy is not None and accuracy >= MIN_ACCURACY, fresh

        # Status JSON (read-only ledger while the daemon runs).
        assert main(["status", "--config", str(config), "--format", "json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["production_model"]["version"] == "2"

        # Rollback moves the alias back; the daemon's registry poll notices.
        assert main(["rollback", "--config", str(config), "--reason", "loop test"]) == 0
        assert "v2 -> v1" in capsys.readouterr().out
        daemon.wait_for(
            lambda e: in_force("1")(e) and e.get("previous") == "2",
            timeout=60,
            what="v1 back in force after the rollback",
        )
        assert scrape(daemon, port, "driftwarden_production_model_version", model=MODEL) == 1.0
    finally:
        assert daemon.stop() == 0

    # The ledger: three breaches, exactly one retrain started, and it was promoted.
    breaches = ledger_rows(
        state, "SELECT * FROM checks WHERE kind = 'validation' AND outcome = 'breach'"
    )
    assert len([c for c in breaches if c["scope"] == "file"]) == 3
    retrains = ledger_rows(state, "SELECT * FROM retrains ORDER BY id")
    started = [r for r in retrains if not str(r["status"]).startswith("skipped")]
    assert [r["status"] for r in started] == ["promoted"], retrains
    assert started[0]["champion_version"] == "1" and started[0]["candidate_version"] == "2"
    client = configure_mlflow(load_settings(config))
    experiment = client.get_experiment_by_name("loop-retrain")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1, "three breaches started more than one training run"
    run = runs[0]
    assert run.data.tags["driftwarden.trigger"] == "validation"
    v2 = client.get_model_version(MODEL, "2")
    assert v2.run_id == run.info.run_id
    assert v2.tags["driftwarden.gate.decision"] == "promoted"
    assert float(v2.tags["driftwarden.gate.challenger_score"]) > float(
        v2.tags["driftwarden.gate.champion_score"]
    )
    assert "beats champion" in decision["msg"]

    # The reference followed the model: checks before the promotion used v1's training data,
    # the fresh drop's check v2's (the data versions the training runs logged).
    v1_data = client.get_run(v1_run).data.params["data_version"]
    v2_data = run.data.params["data_version"]
    assert v1_data != v2_data
    drift_checks = {
        json.loads(c["summary"]).get("driftwarden.file"): json.loads(c["summary"])
        for c in ledger_rows(state, "SELECT * FROM checks WHERE kind = 'drift'")
    }
    assert drift_checks["clean.csv"]["reference_version"] == v1_data
    assert drift_checks["fresh.csv"]["reference_version"] == v2_data
    # The concept shift is invisible to the feature drift tests (same feature distribution).
    assert drift_checks["shift-0.csv"]["dataset_drift"] is False
