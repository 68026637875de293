"""SIGHUP reloads on a daemon started in process (real endpoint, watch, worker; no signals).

The subprocess tests in tests/integration/test_daemon_lifecycle.py send the real SIGHUP;
these call ``Daemon.reload`` directly to look at what it swapped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftwarden.config import load_settings
from driftwarden.config.model import Settings
from driftwarden.config.models import PER_MODEL
from driftwarden.daemon.service.reload import GLOBAL, LIVE, MODEL, RESTART, SECTIONS, changes
from driftwarden.events import types as ev
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon, write_on_a_thread

Start = Callable[..., InProcessDaemon]


def _start(root: Path, start_daemon: Start, **sections: dict[str, Any]) -> InProcessDaemon:
    return start_daemon(daemon_config(root, **sections), loop=False)


def _rewrite(root: Path, **sections: dict[str, Any]) -> None:
    write_on_a_thread(daemon_config(root, **sections))  # the writer the daemon was built with


def test_every_config_section_has_a_way_to_take_effect() -> None:
    assert set(SECTIONS) == set(Settings.model_fields)
    assert {s for s, how in SECTIONS.items() if how == RESTART} == {"mlflow", "state", "metrics"}
    assert {s for s, how in SECTIONS.items() if how == LIVE} == {
        "validation",
        "retrain",
        "hooks",
        "estimation",
    }
    # Every section a model has its own of is compared model by model.
    assert set(MODEL) == set(PER_MODEL) and not set(MODEL) & set(GLOBAL)


def test_changes_name_old_and_new_values_with_secrets_redacted(tmp_path: Path) -> None:
    old = load_settings(daemon_config(tmp_path), env={})
    new = load_settings(
        daemon_config(
            tmp_path,
            watch={"settle_seconds": 0.2},
            mlflow={"tracking_uri": "https://user:hunter2@mlflow.example/?token=abc"},
        ),
        env={},
    )
    found = changes(old, new)
    assert found["watch"] == ("watch.settle_seconds: 0.5 -> 0.2",)
    [uri] = [line for line in found["mlflow"] if line.startswith("mlflow.tracking_uri:")]
    assert uri.endswith("-> 'https://user:***@mlflow.example/?***'")
    assert not [line for line in found["mlflow"] if "hunter2" in line or "abc" in line]
    assert set(found) == {"watch", "mlflow"}


def test_a_watch_change_keeps_healthz_200(tmp_path: Path, start_daemon: Start) -> None:
    running = _start(tmp_path, start_daemon)
    intake = running.parts.intake
    old = intake.watch("test-model")
    _rewrite(tmp_path, watch={"settle_seconds": 0.2})
    running.daemon.reload()
    assert intake.watch("test-model") is not old
    assert intake.watch("test-model").is_alive() and not old.is_alive()
    assert running.daemon.settings.watch.settle_seconds == 0.2
    assert running.get("/healthz")[0] == 200
    [reloaded] = running.events.of(ev.ConfigReloaded)
    assert reloaded.changes == ("watch.settle_seconds: 0.5 -> 0.2",)
    [rescan] = [e for e in running.events.of(ev.RescanDone) if e.reason == "watch changed"]
    assert rescan.noted == 0


def test_an_uncreatable_watch_path_is_refused_and_the_old_watch_kept(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = _start(tmp_path, start_daemon)
    old_watcher, old_settings = running.parts.intake.watch("test-model"), running.daemon.settings
    (tmp_path / "a-file").write_text("not a directory")
    _rewrite(tmp_path, watch={"paths": [str(tmp_path / "a-file" / "drop")]})
    running.daemon.reload()
    assert running.parts.intake.watch("test-model") is old_watcher and old_watcher.is_alive()
    assert running.daemon.settings is old_settings
    [refused] = running.events.of(ev.ReloadRefused)
    # Refused by the check `run` makes too (and `config check`, config/runnable.py), before
    # any watch was armed.
    assert f"watch.paths[0]: cannot create '{tmp_path / 'a-file' / 'drop'}'" in refused.reason
    assert f"'{tmp_path / 'a-file'}' is not a directory" in refused.reason
    assert running.events.of(ev.ConfigReloaded) == []
    assert running.get("/healthz")[0] == 200
    # Files still flow through the old watch.
    path = write_csv(tmp_path / "drop" / "still-watched.csv", sample_frame(100, seed=9))
    old_watcher.tracker.note(path, renamed=True)  # what the watch reports for a rename
    running.daemon.tick(time.monotonic())
    running.checked("still-watched.csv")


def test_a_refused_reload_discards_what_it_prepared(tmp_path: Path, start_daemon: Start) -> None:
    """A new watch armed for the reload is closed again when another section is refused."""
    running = _start(tmp_path, start_daemon)
    old_watcher = running.parts.intake.watch("test-model")
    _rewrite(
        tmp_path,
        watch={"settle_seconds": 0.2},
        alerts={
            "sinks": ["webhook"],
            "webhook": {"url": "http://127.0.0.1:9", "secret_env": "NO_SUCH_SECRET_VAR"},
        },
    )
    running.daemon.reload()
    [refused] = running.events.of(ev.ReloadRefused)
    assert "NO_SUCH_SECRET_VAR" in refused.reason
    assert running.parts.intake.watch("test-model") is old_watcher
    assert running.daemon.settings.watch.settle_seconds == 0.5


def test_a_model_change_gives_the_model_a_new_keeper(tmp_path: Path, start_daemon: Start) -> None:
    """Its own keys (name, alias, target, ...) apply at once: the old keeper stops, a keeper
    built for the new settings starts (its files go on flowing)."""
    running = _start(tmp_path, start_daemon)
    old = running.parts.keeper
    _rewrite(tmp_path, model={"name": "other-model", "target": "label"})
    running.daemon.reload()
    assert running.daemon.settings.model.name == "other-model"
    assert running.parts.keepers.models == ["other-model"]
    assert not old.worker.is_alive() and not old.retrain.is_alive()
    [stopped] = running.events.of(ev.KeeperStopped)
    assert (stopped.model, stopped.finished) == ("test-model", True)
    [reloaded] = running.events.of(ev.ConfigReloaded)
    assert "model.name: 'test-model' -> 'other-model'" in reloaded.changes
    assert "model.target: 'target' -> 'label'" in reloaded.changes
    assert running.events.of(ev.RestartNeeded) == []
    path = write_csv(tmp_path / "drop" / "after.csv", sample_frame(100, seed=3))
    running.parts.intake.watch("other-model").tracker.note(path, renamed=True)
    running.daemon.tick(time.monotonic())
    assert running.checked("after.csv").model == "other-model"


def test_an_alerts_change_keeps_the_generator_url(tmp_path: Path, start_daemon: Start) -> None:
    alertmanager = {"url": "http://127.0.0.1:9"}
    running = _start(
        tmp_path, start_daemon, alerts={"sinks": ["alertmanager"], "alertmanager": alertmanager}
    )
    outlet = running.parts.outlet
    expected = running.url + "/metrics"
    assert outlet.dispatcher.sinks[0].generator_url == expected  # type: ignore[attr-defined]
    before = outlet.dispatcher
    _rewrite(tmp_path, alerts={"sinks": ["alertmanager", "log"], "alertmanager": alertmanager})
    running.daemon.reload()
    assert outlet.dispatcher is not before and not before.is_alive() and outlet.is_alive()
    assert type(outlet.dispatcher.sinks[0]).__name__ == "AlertmanagerSink"
    assert outlet.dispatcher.sinks[0].generator_url == expected  # type: ignore[attr-defined]


def test_a_drift_change_re_prepares_a_reference_from_the_model(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = _start(
        tmp_path, start_daemon, reference={"source": "model"}, drift={"exclude_columns": []}
    )
    holder = running.parts.keeper.reference
    # What the registry watcher puts in force for a production model's training data.
    frame = sample_frame(300, seed=4)
    local = tmp_path / "v1" / "train.csv"
    local.parent.mkdir()
    frame.to_csv(local, index=False)
    assert holder.store is not None
    holder.set(holder.store.model_reference(running.daemon.settings, local, "1", "run-1"))
    assert set(holder.get().tested) == {"x1", "x2", "cat"}  # type: ignore[union-attr]
    _rewrite(tmp_path, reference={"source": "model"}, drift={"exclude_columns": ["cat"]})
    running.daemon.reload()
    reference = holder.get()
    assert reference is not None and reference.source == "model version 1"
    assert set(reference.tested) == {"x1", "x2"}
    assert reference.file == local and reference.stored is not None
    # Stored again under the same key, for the new settings: a restart loads it as it is.
    [_, again] = running.events.of(ev.ReferenceLoaded)
    assert (again.key, again.how) == ("model:test-model:1", "prepared")


def test_a_switch_to_the_model_reference_asks_for_a_poll(
    tmp_path: Path, start_daemon: Start
) -> None:
    running = _start(tmp_path, start_daemon)
    registry = running.parts.keeper.registry
    registry.version = "3"  # as if a version were in force
    _rewrite(tmp_path, reference={"source": "model"})
    running.daemon.reload()
    assert registry.version is None  # loaded again at the poll, with its training data
    [polled] = running.wait(ev.NoProductionModel, timeout=60)  # the poll ran (no model here)
    assert polled.model == "test-model"
