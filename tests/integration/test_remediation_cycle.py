"""Remediation end to end: real `mlflow run` subprocesses on a sqlite store, real registry, real gate.

Runs the example project (examples/model_project) for the training that should work, and a
test-only project (tests/remediation/projects/faults) for the faults that cannot be caused
otherwise: a run that crashes, a run that hangs past its timeout, and a challenger trained
on shuffled labels. Each `mlflow run` takes several seconds, so the champion is trained
once per session (the ``champion`` fixture) and registered under a fresh model name for
each test.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from driftwarden.cli import main
from driftwarden.config.load import load_settings
from driftwarden.config.model import Settings
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.remediation.cycle import run_cycle
from driftwarden.remediation.decision import Decision
from driftwarden.remediation.gate import score_version
from driftwarden.remediation.promote import PREVIOUS_VERSION_TAG, move_alias
from driftwarden.state import open_ledger
from driftwarden.tracking.registry import get_version_by_alias, get_version_by_stage
from tests.remediation.fixtures import FAULTS_PROJECT, concept_frame, write_config, write_drops
from tests.support.champion import TRAINING, ChampionStore, register_champion
from tests.support.processes import alive
from tests.support.prom_tools import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("champion")]


def config(
    store: ChampionStore, tmp: Path, name: str, retrain: dict[str, Any], **sections: dict[str, Any]
) -> Path:
    """A config file for one test: shared store, own state dir, own model name."""
    base_retrain: dict[str, Any] = {**TRAINING, "experiment_name": f"retrain-{name}"}
    base_retrain.update(retrain)
    data: dict[str, dict[str, Any]] = {
        "mlflow": store.mlflow,
        "model": {"name": name},
        "reference": {"source": "model"},
        "watch": {"paths": [str(tmp / "drops")]},
        "state": {"directory": str(tmp / "state")},
        "retrain": base_retrain,
    }
    for key, values in sections.items():
        data.setdefault(key, {}).update(values)
    return write_config(tmp / "driftwarden.toml", data)


@pytest.fixture
def store(champion: ChampionStore) -> ChampionStore:
    return champion


def with_champion(store: ChampionStore, path: Path) -> tuple[Settings, Any]:
    """Settings from ``path`` and a client; the session's champion run is v1 under the alias."""
    settings = load_settings(path)
    return settings, register_champion(store, settings)


def alias_version(client: Any, settings: Settings) -> str:
    found = get_version_by_alias(client, settings.model.name, settings.model.alias)
    assert found is not None
    return str(found.version)


def test_concept_shift_retrain_promotes_a_better_model_and_rollback_restores(
    store: ChampionStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(store, tmp_path, "concept", {"promotion": {"min_improvement": 0.02}})
    settings, client = with_champion(store, path)
    drops = write_drops(tmp_path / "drops" / "processed", 3, 200, seed=100, concept="b")
    fresh = concept_frame(400, seed=999, concept="b")
    before = score_version(client, settings, "1", fresh)
    assert before < 0.7  # the concept shift breaks the champion

    decision = run_cycle(
        settings, "validation accuracy 0.52 < 0.8", trigger="validation",
        detail={"accuracy": 0.52}, labelled_paths=drops,
    )  # fmt: skip

    assert decision.outcome == "promoted", decision.reason
    assert decision.champion_version == "1" and decision.challenger_version == "2"
    assert decision.holdout_rows == 180 and decision.training_rows is not None
    data = decision.detail["data"]
    assert data["labelled_train_rows"] == 420
    assert data["reference_rows"] == 140  # the champion's logged training data, capped at 25%
    assert decision.champion_score is not None and decision.challenger_score is not None
    assert decision.challenger_score > decision.champion_score + 0.2
    assert alias_version(client, settings) == "2"
    v2 = client.get_model_version(settings.model.name, "2")
    assert v2.tags[PREVIOUS_VERSION_TAG] == "1"
    assert v2.tags["driftwarden.gate.decision"] == "promoted"
    assert float(v2.tags["driftwarden.gate.challenger_score"]) == pytest.approx(
        decision.challenger_score, abs=1e-6
    )
    v1 = client.get_model_version(settings.model.name, "1")
    assert float(v1.tags["driftwarden.gate.champion_score"]) == pytest.approx(
        decision.champion_score, abs=1e-6
    )
    run = client.get_run(decision.run_id)
    assert run.data.tags["driftwarden.trigger"] == "validation"
    assert run.data.tags["driftwarden.reason"] == "validation accuracy 0.52 < 0.8"
    assert run.data.tags["driftwarden.cycle_id"] == decision.cycle_id
    assert run.data.params["data_path"].endswith("training.csv")
    # Validation recovers on fresh data of the new concept.
    assert score_version(client, settings, "2", fresh) >= 0.8

    assert main(["rollback", "--config", str(path), "--reason", "test says so"]) == 0
    assert "v2 -> v1" in capsys.readouterr().out
    assert alias_version(client, settings) == "1"
    v1 = client.get_model_version(settings.model.name, "1")
    assert v1.tags["driftwarden.rollback_reason"] == "test says so"
    assert (
        client.get_model_version(settings.model.name, "2").tags["driftwarden.rolled_back_to"] == "1"
    )


def test_challenger_on_shuffled_labels_is_rejected_and_champion_stays(
    store: ChampionStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # register_threshold 0 lets the shuffled model through registration, so the gate decides.
    path = config(
        store, tmp_path, "shuffled",
        {"project_uri": str(FAULTS_PROJECT), "entry_point": "shuffled", "parameters": {"seed": 3},
         "register_threshold": 0.0},
    )  # fmt: skip
    settings, client = with_champion(store, path)
    write_drops(tmp_path / "drops" / "processed", 3, 200, seed=200, concept="a")

    code = main(["retrain", "--config", str(path), "--reason", "manual test"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("rejected:"), out
    assert alias_version(client, settings) == "1"
    v2 = client.get_model_version(settings.model.name, "2")
    assert v2.tags["driftwarden.gate.decision"] == "rejected"
    assert float(v2.tags["driftwarden.gate.challenger_score"]) < float(
        v2.tags["driftwarden.gate.champion_score"]
    )
    ledger = open_ledger(settings, readonly=True)
    try:
        last = ledger.last_retrain(settings.model.name)
        assert last is not None and last["status"] == "rejected" and last["trigger"] == "manual"
        assert last["candidate_version"] == "2" and last["champion_version"] == "1"
    finally:
        ledger.close()


def test_failing_run_leaves_champion_and_fails(store: ChampionStore, tmp_path: Path) -> None:
    path = config(
        store,
        tmp_path,
        "failing",
        {"project_uri": str(FAULTS_PROJECT), "entry_point": "fail", "parameters": {}},
    )
    settings, client = with_champion(store, path)
    drops = write_drops(tmp_path / "drops" / "processed", 2, 100, seed=300, concept="b")

    events = Recorder()
    decision = run_cycle(settings, "drift", trigger="drift", labelled_paths=drops, publish=events)

    [training] = events.of(ev.TrainingStarted)
    assert training.cycle_id == decision.cycle_id and " run " in training.command
    ledger = open_ledger(settings, readonly=True)
    try:  # the row written when training started, closed with the decision
        [row] = [r for r in [ledger.last_retrain(settings.model.name)] if r is not None]
        assert row["status"] == "failed" and row["champion_version"] == "1"
        assert ledger.last_training_activity(settings.model.name) is not None
    finally:
        ledger.close()
    assert decision.outcome == "failed"
    assert "exited with code" in decision.reason
    assert alias_version(client, settings) == "1"
    assert decision.run_id is not None
    run = client.get_run(decision.run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["driftwarden.trigger"] == "drift"
    assert decision.log_path and "failing on purpose" in Path(decision.log_path).read_text()


def test_run_past_its_timeout_is_killed_with_its_process_group(
    store: ChampionStore, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pids"
    path = config(
        store, tmp_path, "timeout",
        {"project_uri": str(FAULTS_PROJECT), "entry_point": "sleep",
         "parameters": {"pid_file": str(pid_file)}, "timeout_seconds": 25.0},
    )  # fmt: skip
    settings, client = with_champion(store, path)
    drops = write_drops(tmp_path / "drops" / "processed", 2, 100, seed=400, concept="b")

    decision = run_cycle(settings, "drift", trigger="drift", labelled_paths=drops)

    assert decision.outcome == "failed"
    assert "timeout" in decision.reason
    assert alias_version(client, settings) == "1"
    assert pid_file.exists(), "the project did not start within the timeout"
    for pid in (int(p) for p in pid_file.read_text().split()):
        wait_for(lambda pid=pid: not alive(pid), 10.0, f"process {pid} of the run to die")
    assert decision.run_id is not None
    assert client.get_run(decision.run_id).info.status == "KILLED"


def test_three_requests_at_once_start_one_run_and_cooldown_holds(
    store: ChampionStore, tmp_path: Path
) -> None:
    path = config(
        store, tmp_path, "single",
        {"project_uri": str(FAULTS_PROJECT), "entry_point": "fail", "parameters": {},
         "cooldown_seconds": 3600.0},
    )  # fmt: skip
    settings, client = with_champion(store, path)
    drops = write_drops(tmp_path / "drops" / "processed", 2, 100, seed=500, concept="b")
    barrier = threading.Barrier(3)
    decisions: list[Decision] = []

    def request() -> None:
        barrier.wait()
        decisions.append(run_cycle(settings, "breach", trigger="drift", labelled_paths=drops))

    threads = [threading.Thread(target=request) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)

    assert sorted(d.outcome for d in decisions) == ["failed", "skipped_running", "skipped_running"]
    experiment = client.get_experiment_by_name("retrain-single")
    assert len(client.search_runs([experiment.experiment_id])) == 1

    later = run_cycle(settings, "another breach", trigger="drift", labelled_paths=drops)
    assert later.outcome == "skipped_cooldown"
    assert later.cooldown_left_seconds is not None and later.cooldown_left_seconds > 3000
    assert len(client.search_runs([experiment.experiment_id])) == 1


def test_rollback_walks_back_the_promotion_history(
    store: ChampionStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # With model.stage set, every alias move also transitions the legacy stage.
    path = config(store, tmp_path, "rollback", {}, model={"stage": "Production"})
    settings, client = with_champion(store, path)
    name = settings.model.name
    v1 = client.get_model_version(name, "1")
    for previous in ("1", "2"):  # v2 and v3 of the same model files, promoted in turn
        mv = client.create_model_version(name, v1.source, run_id=v1.run_id)
        move_alias(client, settings, str(mv.version), previous, by="test")
    assert alias_version(client, settings) == "3"

    assert get_version_by_stage(client, name, "Production").version == "3"
    assert main(["rollback", "--config", str(path)]) == 0
    assert alias_version(client, settings) == "2"
    assert get_version_by_stage(client, name, "Production").version == "2"
    assert main(["rollback", "--config", str(path)]) == 0  # one step further, not back to 3
    assert alias_version(client, settings) == "1"
    assert main(["rollback", "--config", str(path)]) == 2  # v1 has no predecessor
    assert "no previous production version" in capsys.readouterr().err
    assert main(["rollback", "--config", str(path), "--to-version", "3"]) == 0
    assert alias_version(client, settings) == "3"
    assert main(["rollback", "--config", str(path), "--to-version", "99"]) == 2
    assert client.get_model_version(name, "3").tags["driftwarden.rollback_from"] == "1"
