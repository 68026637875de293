"""One daemon, several ``[models.<name>]``: each model's files go to its own keeper, and a
reload adds or removes a model without a restart and without losing a file.

The daemon runs in process with its real parts (watch, workers, ledger, endpoint); the main
loop is turned by hand (``tick``) so that a reload never races it, as SIGHUP's does not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from driftwarden.commands.status import collect_status, render_text
from driftwarden.commands.status_checks import HistoryQuery
from driftwarden.config import load_settings
from driftwarden.config.model import DriftConfig
from driftwarden.daemon.service.reload import changes
from driftwarden.events import types as ev
from tests.support.daemon_proc import models_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon

Start = Callable[..., InProcessDaemon]
TWO: dict[str, dict[str, Any]] = {"alpha": {"drift": {"alpha": 0.001}}, "beta": {}}
BETA_ALPHA = DriftConfig().alpha  # beta's drift.alpha: the default


def drop(running: InProcessDaemon, root: Path, model: str, name: str, seed: int = 3) -> Path:
    """A complete file renamed into ``model``'s drop directory, as its watch reports it."""
    (root / f"drop-{model}").mkdir(exist_ok=True)
    path = write_csv(root / f"drop-{model}" / name, sample_frame(100, seed=seed))
    if model in running.parts.intake.models:
        running.parts.intake.watch(model).tracker.note(path, renamed=True)
    return path


def turn(running: InProcessDaemon, until: Callable[[], bool], timeout: float = 30.0) -> None:
    """Tick the main loop until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out turning the main loop"
        running.daemon.tick(time.monotonic())
        time.sleep(0.05)


def checked(running: InProcessDaemon, name: str) -> list[ev.FileChecked]:
    return [e for e in running.events.of(ev.FileChecked) if Path(e.file).name == name]


def check_of(running: InProcessDaemon, name: str) -> ev.FileChecked:
    turn(running, lambda: bool(checked(running, name)))
    [found] = checked(running, name)
    return found


def metric_models(running: InProcessDaemon, metric: str) -> set[str]:
    """The ``model`` label values of ``metric``'s samples on /metrics."""
    status, text = running.get("/metrics")
    assert status == 200
    return {
        sample.labels["model"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == metric and "model" in sample.labels
    }


def test_each_model_checks_its_own_files_with_its_own_settings(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(models_config(tmp_path, TWO), loop=False)
    keepers = running.parts.keepers
    assert keepers.models == ["alpha", "beta"]
    assert keepers["alpha"].config().drift.alpha == 0.001
    assert keepers["beta"].config().drift.alpha == running.settings.drift.alpha
    assert keepers["alpha"].worker is not keepers["beta"].worker  # one worker per model
    drop(running, tmp_path, "alpha", "a1.csv")
    drop(running, tmp_path, "beta", "b1.csv")
    drop(running, tmp_path, "beta", "b2.csv", seed=4)
    assert check_of(running, "a1.csv").model == "alpha"
    assert check_of(running, "b1.csv").model == "beta"
    assert check_of(running, "b2.csv").model == "beta"
    assert not (tmp_path / "drop-alpha" / "a1.csv").exists()  # moved to processed/

    # Per-model metric labels under PRODUCT.md's names; per-model parts on /healthz.
    assert metric_models(running, "driftwarden_checks_total") == {"alpha", "beta"}
    assert metric_models(running, "driftwarden_dataset_drift") == {"alpha", "beta"}
    status, health = running.get("/healthz")
    assert status == 200
    for part in ("jobs", "retrain", "watcher"):
        assert f'"{part}:alpha"' in health and f'"{part}:beta"' in health

    # status: one block per model, --model for one of them.
    settings = load_settings(running.config, env={})
    document = collect_status(settings)
    files = {m["model"]: m["files"] for m in document["models"]}
    assert files == {"alpha": {"done": 1}, "beta": {"done": 2}}
    assert [c["file"] for c in document["models"][0]["last_checks"]] == ["a1.csv"]
    text = render_text(document)
    assert "model: alpha\n  production model: none seen\n  files: done 1\n" in text
    assert "model: beta\n" in text and "  files: done 2\n" in text
    only = collect_status(settings, HistoryQuery("beta"))
    assert [m["model"] for m in only["models"]] == ["beta"] and only["files"] == {"done": 2}


def test_a_reload_adds_a_model_and_keeps_the_files_in_flight(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(models_config(tmp_path, {"alpha": {}}), loop=False)
    alpha = running.parts.keepers["alpha"]
    waiting = drop(running, tmp_path, "beta", "b-before.csv")  # nobody keeps beta yet
    noted = drop(running, tmp_path, "alpha", "a-noted.csv")  # noted, not yet queued
    turn(running, lambda: True)
    assert waiting.exists() and checked(running, "b-before.csv") == []

    models_config(tmp_path, {"alpha": {}, "beta": {"drift": {"alpha": 0.01}}})
    running.daemon.reload()
    assert running.events.of(ev.ReloadRefused) == []
    [reloaded] = running.events.of(ev.ConfigReloaded)
    assert "models.beta: added" in reloaded.changes
    [started] = [e for e in running.events.of(ev.KeeperStarted) if e.model == "beta"]
    assert started.reason == "config reloaded"
    assert running.parts.keepers.models == ["alpha", "beta"]
    assert running.parts.keepers["alpha"] is alpha and alpha.worker.is_alive()  # untouched
    assert running.parts.keepers["beta"].config().drift.alpha == 0.01
    # beta's waiting file is found by its first scan; alpha's noted file is still checked.
    assert check_of(running, "b-before.csv").model == "beta"
    assert check_of(running, noted.name).model == "alpha"
    assert running.get("/healthz")[0] == 200
    assert metric_models(running, "driftwarden_checks_total") == {"alpha", "beta"}


def test_a_reload_removes_a_model_and_leaves_its_files_for_whoever_keeps_it_next(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(models_config(tmp_path, TWO), loop=False)
    beta = running.parts.keepers["beta"]
    assert check_of(running, drop(running, tmp_path, "beta", "b1.csv").name).model == "beta"

    models_config(tmp_path, {"alpha": TWO["alpha"]})
    running.daemon.reload()
    [reloaded] = running.events.of(ev.ConfigReloaded)
    assert "models.beta: removed" in reloaded.changes
    [stopped] = running.events.of(ev.KeeperStopped)
    assert (stopped.model, stopped.reason, stopped.finished) == ("beta", "config reloaded", True)
    assert running.parts.keepers.models == ["alpha"]
    assert not beta.worker.is_alive() and not beta.retrain.is_alive()
    assert "beta" not in running.parts.intake.models
    status, health = running.get("/healthz")
    assert status == 200 and "beta" not in health
    assert metric_models(running, "driftwarden_checks_total") == {"alpha"}

    # A file dropped for beta now is left alone; alpha goes on.
    left = drop(running, tmp_path, "beta", "b2.csv", seed=5)
    assert check_of(running, drop(running, tmp_path, "alpha", "a1.csv").name).model == "alpha"
    running.parts.intake.scan("test")
    turn(running, lambda: True)
    assert left.exists() and checked(running, "b2.csv") == []

    # Kept again: the file that waited is checked, the one checked before is not redone.
    models_config(tmp_path, TWO)
    running.daemon.reload()
    assert check_of(running, "b2.csv").model == "beta"
    assert len(checked(running, "b1.csv")) == 1


def test_changes_are_named_by_the_models_keys(tmp_path: Path) -> None:
    old = load_settings(models_config(tmp_path, TWO), env={})
    changed = {"alpha": TWO["alpha"], "beta": {"drift": {"alpha": 0.02}, "alias": "champion"}}
    new = load_settings(models_config(tmp_path, changed), env={})
    found = changes(old, new)
    assert found == {
        "models.beta.drift": (f"models.beta.drift.alpha: {BETA_ALPHA} -> 0.02",),
        "models.beta": ("models.beta.alias: 'production' -> 'champion'",),
    }
    gone = load_settings(models_config(tmp_path, {"alpha": TWO["alpha"]}), env={})
    assert changes(old, gone) == {"models.beta": ("models.beta: removed",)}


def test_a_models_own_section_change_applies_to_that_model_only(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = start_daemon(models_config(tmp_path, TWO), loop=False)
    alpha, beta = running.parts.keepers["alpha"], running.parts.keepers["beta"]
    models_config(tmp_path, {"alpha": TWO["alpha"], "beta": {"drift": {"alpha": 0.02}}})
    running.daemon.reload()
    [reloaded] = running.events.of(ev.ConfigReloaded)
    assert reloaded.changes == (f"models.beta.drift.alpha: {BETA_ALPHA} -> 0.02",)
    # Read per use: the same keepers see the new value, alpha keeps its own.
    assert running.parts.keepers["beta"] is beta and beta.config().drift.alpha == 0.02
    assert running.parts.keepers["alpha"] is alpha and alpha.config().drift.alpha == 0.001
    assert running.events.of(ev.KeeperStopped) == []
    assert check_of(running, drop(running, tmp_path, "beta", "b1.csv").name).model == "beta"
