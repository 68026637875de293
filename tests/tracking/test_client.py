"""Client setup: an unreachable server is recognised by exception class, quickly."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwarden.config import load_settings
from driftwarden.errors import MlflowUnavailable
from driftwarden.tracking.client import configure_mlflow, ensure_experiment
from tests.support.mlflow_server import free_port


def test_unreachable_server_maps_to_mlflow_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    settings = load_settings(None)
    settings.mlflow.http_request_max_retries = 0
    client = configure_mlflow(settings)
    with pytest.raises(MlflowUnavailable, match="unreachable"):
        ensure_experiment(client, "nowhere")


def test_sqlite_default_store_is_created_in_the_state_dir(tmp_path: Path) -> None:
    config = tmp_path / "dw.toml"
    config.write_text('[state]\ndirectory = "state"\n')
    settings = load_settings(config)
    client = configure_mlflow(settings)
    experiment_id = ensure_experiment(client, "checks", settings.mlflow.artifact_location)
    assert ensure_experiment(client, "checks") == experiment_id
    assert (tmp_path / "state" / "mlflow.db").exists()
    assert client.get_experiment(experiment_id).artifact_location.startswith(
        (tmp_path / "state" / "mlartifacts").as_uri()
    )
