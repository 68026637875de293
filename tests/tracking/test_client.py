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


def test_a_second_load_in_one_process_follows_the_file_not_our_own_env(tmp_path: Path) -> None:
    """configure_mlflow (and MLflow itself) put the URI into os.environ; a reload must not
    mistake that for the user's override (a SIGHUP reload would otherwise stick to it)."""
    first = tmp_path / "a.toml"
    first.write_text('[state]\ndirectory = "a"\n')
    configure_mlflow(load_settings(first))
    second = tmp_path / "b.toml"
    second.write_text('[state]\ndirectory = "b"\n')
    assert load_settings(second).tracking_uri == f"sqlite:///{tmp_path / 'b' / 'mlflow.db'}"


def test_a_users_env_override_still_wins_after_configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path / 'user.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    config = tmp_path / "c.toml"
    config.write_text('[mlflow]\ntracking_uri = "sqlite:////nowhere/x.db"\n')
    configure_mlflow(load_settings(config))
    assert load_settings(config).tracking_uri == uri


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_a_proxy_answering_a_transient_status_counts_as_unreachable(
    status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stub HTTP server (a fake: a reverse proxy whose MLflow is down) answers ``status``."""
    from mlflow.exceptions import MlflowException

    from driftwarden.tracking.client import is_connection_error
    from tests.support.http_stub import status_server

    with status_server(status) as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        settings = load_settings(None)
        settings.mlflow.http_request_max_retries = 0
        client = configure_mlflow(settings)
        with pytest.raises(MlflowUnavailable, match="unreachable"):
            ensure_experiment(client, "behind-a-proxy")
        with pytest.raises(MlflowException) as raw:
            client.get_experiment_by_name("behind-a-proxy")
    assert is_connection_error(raw.value)


def test_a_4xx_answer_is_an_ordinary_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stub HTTP server refusing the request as MLflow does for a bad one (400, JSON body)."""
    from mlflow.exceptions import MlflowException

    from tests.support.http_stub import status_server

    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad name"}
    with status_server(400, body) as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        settings = load_settings(None)
        settings.mlflow.http_request_max_retries = 0
        client = configure_mlflow(settings)
        with pytest.raises(MlflowException) as raised:
            ensure_experiment(client, "bad")
    assert not isinstance(raised.value, MlflowUnavailable)
    assert "bad name" in str(raised.value)


def test_unavailable_message_hides_the_uri_password_even_where_it_is_cut_short() -> None:
    import requests
    from mlflow.exceptions import MlflowException

    from driftwarden.tracking.client import unavailable_or_raise

    user = "u" * 270  # the message keeps 300 characters: the password straddles the cut
    exc = MlflowException(f"API request to http://{user}:LongPass-77@127.0.0.1:1/api failed")
    exc.__cause__ = requests.exceptions.ConnectionError("Connection refused")
    mapped = unavailable_or_raise(exc)
    assert isinstance(mapped, MlflowUnavailable)
    assert "Long" not in str(mapped) and f"{user}:***" in str(mapped)
