"""SIGHUP reloads on a daemon started in process (real endpoint, watch, worker; no signals).

The subprocess tests in tests/integration/test_daemon_lifecycle.py send the real SIGHUP;
these call ``Daemon.reload`` directly to look at what it swapped.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftwarden.config import load_settings
from driftwarden.daemon.intake.reference import Reference
from driftwarden.daemon.service.daemon import Daemon
from tests.support.daemon_proc import daemon_config, sample_frame


@pytest.fixture
def started() -> Iterator[list[Daemon]]:
    daemons: list[Daemon] = []
    yield daemons
    for daemon in daemons:
        daemon.stop()


def _start(root: Path, started: list[Daemon], **sections: dict[str, Any]) -> Daemon:
    config = daemon_config(root, **sections)
    daemon = Daemon(load_settings(config, env={}), config)
    started.append(daemon)
    daemon.start()
    return daemon


def _rewrite(root: Path, **sections: dict[str, Any]) -> None:
    port = load_settings(root / "driftwarden.toml", env={}).metrics.port
    daemon_config(root, metrics={"port": port}, **sections)


def _health(daemon: Daemon) -> int:
    assert daemon.server is not None
    try:
        with urllib.request.urlopen(daemon.server.url + "/healthz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_watch_change_keeps_healthz_200(tmp_path: Path, started: list[Daemon]) -> None:
    daemon = _start(tmp_path, started)
    old = daemon.watcher
    _rewrite(tmp_path, watch={"settle_seconds": 0.2})
    daemon.reload()
    assert daemon.watcher is not old and daemon.watcher is not None
    assert daemon.watcher.is_alive() and old is not None and not old.is_alive()
    assert daemon.tracker is daemon.watcher.tracker
    assert daemon.settings.watch.settle_seconds == 0.2
    assert _health(daemon) == 200


def test_an_uncreatable_watch_path_is_refused_and_the_old_watch_kept(
    tmp_path: Path, started: list[Daemon], caplog: pytest.LogCaptureFixture
) -> None:
    daemon = _start(tmp_path, started)
    old_watcher, old_settings = daemon.watcher, daemon.settings
    (tmp_path / "a-file").write_text("not a directory")
    _rewrite(tmp_path, watch={"paths": [str(tmp_path / "a-file" / "drop")]})
    daemon.reload()
    assert daemon.watcher is old_watcher and old_watcher is not None and old_watcher.is_alive()
    assert daemon.settings is old_settings
    [refused] = [r for r in caplog.records if r.getMessage().startswith("config reload refused")]
    assert f"watch.paths: cannot create/watch {tmp_path / 'a-file' / 'drop'}" in refused.message
    assert _health(daemon) == 200


def test_a_model_change_waits_for_a_restart(
    tmp_path: Path, started: list[Daemon], caplog: pytest.LogCaptureFixture
) -> None:
    daemon = _start(tmp_path, started)
    _rewrite(tmp_path, model={"name": "other-model", "target": "label"})
    daemon.reload()
    assert daemon.settings.model.name == "test-model"
    assert daemon.settings.model.target == "target"
    assert "[model] changed: takes effect after a restart" in caplog.messages


def test_an_alerts_change_keeps_the_generator_url(tmp_path: Path, started: list[Daemon]) -> None:
    alertmanager = {"url": "http://127.0.0.1:9"}
    daemon = _start(
        tmp_path, started, alerts={"sinks": ["alertmanager"], "alertmanager": alertmanager}
    )
    assert daemon.server is not None and daemon.dispatcher is not None
    expected = daemon.server.url + "/metrics"
    assert daemon.dispatcher.sinks[0].generator_url == expected  # type: ignore[attr-defined]
    _rewrite(tmp_path, alerts={"sinks": ["alertmanager", "log"], "alertmanager": alertmanager})
    daemon.reload()
    assert type(daemon.dispatcher.sinks[0]).__name__ == "AlertmanagerSink"
    assert daemon.dispatcher.sinks[0].generator_url == expected  # type: ignore[attr-defined]


def test_a_drift_change_re_prepares_a_reference_from_the_model(
    tmp_path: Path, started: list[Daemon]
) -> None:
    daemon = _start(tmp_path, started, reference={"source": "model"}, drift={"exclude_columns": []})
    ctx = daemon._context()
    # What the registry watcher puts in force for a production model's training data.
    frame = sample_frame(300, seed=4)
    ctx.reference.set(Reference.from_frame(frame, daemon.settings, source="model version 1"))
    assert set(ctx.reference.get().tested) == {"x1", "x2", "cat"}  # type: ignore[union-attr]
    _rewrite(tmp_path, reference={"source": "model"}, drift={"exclude_columns": ["cat"]})
    daemon.reload()
    reference = ctx.reference.get()
    assert reference is not None and reference.source == "model version 1"
    assert set(reference.tested) == {"x1", "x2"}
    assert reference.frame is frame
