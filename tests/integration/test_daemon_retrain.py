"""The closed loop through a real daemon: a concept shift breaches validation, one retrain
is promoted, the registry watcher brings it into force, validation recovers; rollback too.

Everything is real: a sqlite MLflow store, the example project trained with `mlflow run`
(the session's champion by the same remediation code, the challenger by the daemon), the
daemon in process (the same parts as `driftwarden run`) whose events, /metrics endpoint and
ledger are read, and the `status` and `rollback` commands.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftwarden.cli import main
from driftwarden.config.load import load_settings
from driftwarden.events import types as ev
from driftwarden.tracking.client import configure_mlflow
from tests.remediation.fixtures import concept_frame
from tests.support.champion import TRAINING, ChampionStore, register_champion
from tests.support.daemon_proc import daemon_config, write_csv
from tests.support.inprocess import InProcessDaemon

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("champion")]

MODEL = "loop-model"
MIN_ACCURACY = 0.75
ROWS = 400


def retrain_section() -> dict[str, Any]:
    return {
        **TRAINING,
        "enabled": True,
        "triggers": ["validation"],
        "experiment_name": "loop-retrain",
        "cooldown_seconds": 600.0,
        # The newest labelled drop only: the clean drop of the old concept stays out.
        "recent_files": 1,
        "reference_share": 0.1,
        "promotion": {"metric": "accuracy", "min_improvement": 0.05},
    }


def scrape(running: InProcessDaemon, name: str, **labels: str) -> float | None:
    """One sample's value from the daemon's /metrics (None when absent)."""
    status, text = running.get("/metrics")
    assert status == 200
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            got = ",".join(sorted((match.group(2) or "").split(",")))
            if got == want:
                return float(match.group(3))
    return None


def ledger_rows(state: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{state / 'ledger.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql)]
    finally:
        conn.close()


def test_concept_shift_retrains_once_promotes_recovers_and_rollback_reaches_daemon(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    champion: ChampionStore,
    start_daemon: Callable[..., InProcessDaemon],
) -> None:
    state = tmp_path / "state"
    config = daemon_config(
        tmp_path,
        mlflow=champion.mlflow,
        model={"name": MODEL, "target": "target"},
        reference={"source": "model"},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 2.0}},
        validation={"minimums": {"accuracy": MIN_ACCURACY}, "window_files": 1},
        retrain=retrain_section(),
    )
    register_champion(champion, load_settings(config, env={}))
    drop = tmp_path / "drop"
    running = start_daemon(config)
    running.wait(ev.ModelInForce, lambda e: e.version == "1", timeout=90)
    assert scrape(running, "driftwarden_production_model_version", model=MODEL) == 1.0

    # The champion is fine on its own world.
    write_csv(drop / "clean.csv", concept_frame(ROWS, seed=10, concept="a"))
    clean = running.checked("clean.csv", timeout=60)
    assert clean.drifted_features == ()
    assert clean.validation is not None and clean.validation["accuracy"] >= MIN_ACCURACY

    # Three labelled drops of a new concept in quick succession: three breaches.
    for i in range(3):
        write_csv(drop / f"shift-{i}.csv", concept_frame(ROWS, seed=20 + i, concept="b"))
    running.wait(ev.FileChecked, lambda e: "shift-" in e.file, timeout=60, count=3)
    [decision] = running.wait(ev.RetrainDecided, lambda e: e.outcome == "promoted", timeout=360)
    running.wait(ev.ModelInForce, lambda e: e.version == "2", timeout=60)
    running.wait(ev.ValidationChecked, lambda e: "version 2" in e.reason, timeout=60)
    assert scrape(running, "driftwarden_production_model_version", model=MODEL) == 2.0
    assert scrape(running, "driftwarden_retrains_total", model=MODEL, outcome="promoted") == 1.0
    for outcome in ("failed", "rejected"):
        assert scrape(running, "driftwarden_retrains_total", model=MODEL, outcome=outcome) == 0.0

    # Each of the three breaches left one decision: one cycle ran, the others were skipped.
    def decisions() -> float:
        return sum(
            scrape(running, "driftwarden_retrains_total", model=MODEL, outcome=o) or 0.0
            for o in ("promoted", "rejected", "failed", "skipped_cooldown", "skipped_running")
        )

    deadline = time.monotonic() + 30
    while decisions() < 3.0:
        assert time.monotonic() < deadline, "three breaches did not leave three decisions"
        time.sleep(0.1)
    assert decisions() == 3.0
    joined = running.events.of(ev.RetrainJoined)
    assert len(running.events.of(ev.RetrainDecided)) + len(joined) == 3

    # Fresh data of the new concept: the promoted model validates above the minimum.
    write_csv(drop / "fresh.csv", concept_frame(ROWS, seed=40, concept="b"))
    fresh = running.checked("fresh.csv", timeout=60)
    assert fresh.validation is not None and fresh.validation["accuracy"] >= MIN_ACCURACY

    # Status JSON (another reader of the ledger while the daemon runs).
    assert main(["status", "--config", str(config), "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["production_model"]["version"] == "2"

    # Rollback moves the alias back; the daemon's registry poll notices.
    assert main(["rollback", "--config", str(config), "--reason", "loop test"]) == 0
    assert "v2 -> v1" in capsys.readouterr().out
    running.wait(ev.ModelInForce, lambda e: e.version == "1" and e.previous == "2", timeout=60)
    assert scrape(running, "driftwarden_production_model_version", model=MODEL) == 1.0
    running.stop()

    # The ledger: three breaches, exactly one retrain started, and it was promoted.
    breaches = ledger_rows(
        state, "SELECT * FROM checks WHERE kind = 'validation' AND outcome = 'breach'"
    )
    assert len([c for c in breaches if c["scope"] == "file"]) == 3
    retrains = ledger_rows(state, "SELECT * FROM retrains ORDER BY id")
    assert len(retrains) == 3
    started = [r for r in retrains if not str(r["status"]).startswith("skipped")]
    assert [r["status"] for r in started] == ["promoted"], retrains
    assert started[0]["champion_version"] == "1" and started[0]["candidate_version"] == "2"
    client = configure_mlflow(load_settings(config, env={}))
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
    assert "beats champion" in decision.summary

    # The reference followed the model: checks before the promotion used v1's training data,
    # the fresh drop's check v2's (the data versions the training runs logged).
    v1_data = client.get_run(champion.run_id).data.params["data_version"]
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
