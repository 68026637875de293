"""A real read-only MLflow store for a while (issue 10.4): the write is parked as dead, and
written by the writer's retry of parked writes once the store is writable again, by the
same process (its pooled sqlite connections, opened read-only, are dropped after a failure).

The store is the default sqlite store on a tmpfs remounted read-only (root; the test skips
when mounting is refused), so MLflow itself refuses the write, as in the attack.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from driftwarden.config.load import load_settings
from driftwarden.config.model import Settings
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from driftwarden.observability.metrics import Metrics
from driftwarden.outbox.flusher import OutboxFlusher
from driftwarden.outbox.mlflow_calls import KEY_TAG, MlflowCalls
from driftwarden.outbox.queue import MAX_ATTEMPTS, Outbox
from driftwarden.outbox.writer import MlflowWriter
from driftwarden.state.sqlite import SqliteOutbox
from driftwarden.tracking.access import MlflowAccess
from tests.outbox.test_writer import _payload
from tests.support.mlflow_store import prepare_default_store
from tests.support.small_fs import small_tmpfs


def _remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True, timeout=30)


@pytest.mark.slow
def test_a_write_parked_while_the_store_was_read_only_is_written_once_it_is_writable(
    tmp_path: Path, writer_calls: Callable[[Settings], MlflowCalls]
) -> None:
    with small_tmpfs(tmp_path / "store", "64m") as store:
        config = tmp_path / "dw.toml"
        config.write_text(f'[state]\ndirectory = "{store}"\n')
        settings = load_settings(config, env={})
        prepare_default_store(settings)
        access = MlflowAccess(settings)
        calls = writer_calls(settings)  # one writer (thread or child) across the outage
        outbox = Outbox(SqliteOutbox(tmp_path / "outbox.db"), Recorder())
        outbox.enqueue("validation_run", _payload(), "v:1")
        _remount(store, "ro")
        try:
            events = Recorder()
            writer = MlflowWriter(calls, events, lambda key, run_id, experiment_id: None)
            for _ in range(MAX_ATTEMPTS):
                outbox.flush(writer)
            assert outbox.dead() == 1 and outbox.pending() == 0  # parked, as in the attack
        finally:
            _remount(store, "rw")
        # The outage ends; the writer's retry of parked writes (at its start, then every few
        # minutes) writes it, through the same MLflow access: a daemon that stayed up.
        metrics = Metrics(CollectorRegistry())
        restarted = Outbox(SqliteOutbox(tmp_path / "outbox.db"), Recorder())
        flusher = OutboxFlusher(
            restarted,
            MlflowWriter(calls, events, lambda key, run_id, experiment_id: None),
            metrics,
            events,
            on_turn=lambda: None,
        )
        flusher.flush_once()
        assert restarted.dead() == 0
        assert metrics.registry.get_sample_value("driftwarden_mlflow_dead_writes") == 0
        assert [e.outbox_key for e in events.of(ev.OutboxWritten)] == ["v:1"]
        client = access.client()
        experiment = client.get_experiment_by_name("dw-test")
        [run] = client.search_runs([experiment.experiment_id])
        assert run.data.tags[KEY_TAG] == "v:1"
