"""`driftwarden demo`: the whole loop, live, on a sqlite store in a temporary work directory.

The main test runs the real command in a subprocess (as `make demo` does) and checks what
it prints and what it left in the store. Without ``--once`` the same story runs and the
daemon then keeps running until Ctrl-C: that difference is tested in process, with a story
that ends at once and a real SIGINT to the daemon's handlers. The others check its
refusals in process.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
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
    # After --once the endpoint is gone: its samples are shown, and no URL that would be dead.
    assert re.search(r"metrics: +read before the daemon stopped", out), out
    closing = out.split("Where to look:", 1)[1]
    assert not re.search(r"http://127\.0\.0\.1:\d+/metrics", closing), closing
    assert 'driftwarden_production_model_version{model="driftwarden-demo"} 2.0' in out
    store = f"sqlite:///{workdir / 'state' / 'mlflow.db'}"
    assert f"ui --backend-store-uri {store}" in out
    report = Path(re.search(r"drift report: (\S+)", out).group(1))  # type: ignore[union-attr]
    assert report.is_file() and report.read_text().lstrip().lower().startswith("<!doctype html")
    assert report.is_relative_to(workdir / "state")
    # The printed status command runs as shown, without the venv on PATH.
    status = re.search(r"status: +(.+)", out).group(1)  # type: ignore[union-attr]
    shown = subprocess.run(
        shlex.split(status),
        cwd=tmp_path,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0 and "drifted.csv" in shown.stdout, shown.stdout + shown.stderr

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


def test_without_once_the_daemon_keeps_running_until_ctrl_c(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from driftwarden.config import load_settings
    from driftwarden.daemon.service.daemon import Daemon
    from driftwarden.demo.command import Story
    from driftwarden.demo.narrator import EventFeed
    from driftwarden.demo.workdir import DemoPaths
    from driftwarden.events import EventBus, Recorder
    from driftwarden.events import types as ev
    from tests.support.daemon_proc import daemon_config

    class StoryToldAtOnce(Story):
        def story(self) -> int:  # the loop itself is the subprocess test's
            return 0

    config = daemon_config(tmp_path)
    settings = load_settings(config, env={})
    paths = DemoPaths(tmp_path / "demo")
    events, bus = Recorder(), EventBus()
    bus.subscribe(events)
    daemon = Daemon.build(settings, config, bus=bus)
    outcome: dict[str, object] = {"code": 1}
    story = StoryToldAtOnce(settings, paths, daemon, EventFeed(), None, once=False, started=0.0)

    def started(daemon: Daemon) -> None:
        def tell_then_ctrl_c() -> None:
            story.run(outcome)
            assert not daemon.flags.stop_signal  # still running after the story
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C

        threading.Thread(target=tell_then_ctrl_c, daemon=True).start()

    assert daemon.run(on_started=started) == 0
    assert outcome == {"code": 0, "done": True}
    assert daemon.flags.stop_signal == signal.SIGINT
    assert "The daemon keeps running: drop CSV files into" in capsys.readouterr().out
    assert [e.signal for e in events.of(ev.StopRequested)] == ["SIGINT"]
    assert isinstance(events.events[-1], ev.DaemonStopped)


def test_with_once_the_story_stops_the_daemon(tmp_path: Path) -> None:
    from driftwarden.config import load_settings
    from driftwarden.daemon.service.daemon import Daemon
    from driftwarden.demo.command import Story
    from driftwarden.demo.narrator import EventFeed
    from driftwarden.demo.workdir import DemoPaths
    from tests.support.daemon_proc import daemon_config

    config = daemon_config(tmp_path)
    settings = load_settings(config, env={})
    daemon = Daemon.build(settings, config)
    try:
        story = Story(settings, DemoPaths(tmp_path / "demo"), daemon, EventFeed(), None, True, 0.0)
        story.story = lambda: 0  # type: ignore[method-assign]
        outcome: dict[str, object] = {"code": 1}
        story.run(outcome)
        assert outcome == {"code": 0, "done": True}
        assert daemon.flags.stop_signal == signal.SIGTERM
    finally:
        daemon.stop()
        daemon.parts.ledger.close()
        daemon.flags.close()


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
