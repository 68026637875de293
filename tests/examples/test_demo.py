"""`driftwarden demo`: the whole loop, live, on a sqlite store in a temporary work directory.

The main test runs the real command in a subprocess (as `make demo` does) and checks what
it prints and what it left in the store; the others check its refusals in-process.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

import driftwarden
from driftwarden.cli import main
from driftwarden.demo import MODEL_NAME, RETRAIN_EXPERIMENT


def demo_argv(workdir: Path, once: bool = True) -> list[str]:
    argv = [sys.executable, "-m", "driftwarden.cli", "demo", "--workdir", str(workdir)]
    return [*argv, "--once"] if once else argv


@pytest.mark.slow
@pytest.mark.integration
def test_demo_once_shows_drift_retrain_promotion_and_where_to_look(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"

    done = subprocess.run(
        demo_argv(workdir), capture_output=True, text=True, timeout=600, check=False
    )

    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    # The clean batch passes; the drifted one shows drift with statistics and effect sizes.
    assert re.search(r"checked clean\.csv: no drift", out), out
    assert re.search(r"checked drifted\.csv: DATASET DRIFT in \d+ columns", out), out
    assert re.search(r"mean_radius +ks statistic 0\.\d+ +p \S+ .*effect: .*wasserstein", out), out
    assert "ALERT DriftwardenDatasetDrift firing" in out
    assert "ALERT DriftwardenValidationBelowMinimum firing" in out
    # The retrain, the gate's decision, the promotion and the new model's validation.
    assert "retrain requested by a validation breach" in out
    assert re.search(r"gate decision: promoted: .*champion v1, challenger v2", out), out
    assert "production model in force: driftwarden-demo v2" in out
    assert re.search(r"validation \(production model is now version 2\): ok", out), out
    assert re.search(r"checked fresh\.csv: no drift", out), out
    # Where to look.
    assert re.search(r"metrics: +http://127\.0\.0\.1:\d+/metrics", out), out
    assert 'driftwarden_production_model_version{model="driftwarden-demo"} 2.0' in out
    store = f"sqlite:///{workdir / 'state' / 'mlflow.db'}"
    assert f"ui --backend-store-uri {store}" in out
    report = Path(re.search(r"drift report: (\S+)", out).group(1))  # type: ignore[union-attr]
    assert report.is_file() and report.read_text().lstrip().lower().startswith("<!doctype html")
    assert report.is_relative_to(workdir / "state")

    # What the store says matches what was printed.
    client = MlflowClient(tracking_uri=store)
    production = client.get_model_version_by_alias(MODEL_NAME, "production")
    assert str(production.version) == "2"
    assert production.tags["driftwarden.gate.decision"] == "promoted"
    experiment = client.get_experiment_by_name(RETRAIN_EXPERIMENT)
    assert experiment is not None
    assert len(client.search_runs([experiment.experiment_id])) == 1
    assert sorted(p.name for p in (workdir / "drops" / "processed").iterdir()) == [
        "clean.csv",
        "drifted.csv",
        "fresh.csv",
    ]


@pytest.mark.slow
@pytest.mark.integration
def test_demo_without_once_keeps_the_daemon_running_until_ctrl_c(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    log = tmp_path / "out.txt"
    with log.open("w") as handle:
        process = subprocess.Popen(demo_argv(workdir, once=False), stdout=handle, stderr=handle)
    try:
        deadline = time.monotonic() + 400
        while "The daemon keeps running" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(2.0)
        assert process.poll() is None, "the daemon stopped without Ctrl-C"
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    out = log.read_text()
    assert code == 0, out
    assert "production model in force: driftwarden-demo v2" in out
    assert '"msg": "daemon stopped"' in (workdir / "daemon.log").read_text()


def test_demo_needs_the_example_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = tmp_path / "site-packages" / "driftwarden" / "__init__.py"
    monkeypatch.setattr(driftwarden, "__file__", str(installed))

    assert main(["demo", "--once", "--workdir", str(tmp_path / "demo")]) == 2

    err = capsys.readouterr().err
    assert "example project not found" in err and "source checkout" in err
    assert not (tmp_path / "demo").exists()


def test_demo_refuses_a_workdir_with_a_previous_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "driftwarden.toml").write_text("# a previous demo\n")

    assert main(["demo", "--once", "--workdir", str(tmp_path)]) == 2

    assert "previous demo" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["driftwarden.toml"]
