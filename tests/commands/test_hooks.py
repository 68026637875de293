"""`driftwarden hooks install`: the refusals that need no server, and the webhook URL.

Each CLI case runs the real console script, as an operator would. The installs against a
real `mlflow server` are in tests/integration/test_hooks_install.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftwarden.config import load_settings
from driftwarden.errors import ConfigError
from driftwarden.tracking.webhook_install import registry_server_uri, webhook_url
from tests.support.mlflow_server import free_port

DRIFTWARDEN = Path(sys.executable).parent / "driftwarden"
SECRET_ENV = {"DRIFTWARDEN_HOOKS_SECRET": "s3cret-for-hooks-tests"}


def install(
    tmp_path: Path, toml: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "driftwarden.toml"
    config.write_text(toml + f'\n[state]\ndirectory = "{tmp_path / "state"}"\n', encoding="utf-8")
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DRIFTWARDEN_"))
    }
    full_env.update(env or {})
    return subprocess.run(
        [str(DRIFTWARDEN), "hooks", "install", "--config", str(config)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=tmp_path,
        timeout=120,
    )


def test_a_local_store_is_refused_naming_the_key(tmp_path: Path) -> None:
    """Webhooks fire only through `mlflow server`; the default sqlite store never sends one."""
    proc = install(tmp_path, "[hooks]\nenabled = true\n", SECRET_ENV)
    assert proc.returncode == 2, proc.stderr
    assert "mlflow.tracking_uri (or MLFLOW_TRACKING_URI)" in proc.stderr
    assert "sqlite store" in proc.stderr and "mlflow server" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "state" / "mlflow.db").exists()


def test_a_registry_uri_is_what_counts(tmp_path: Path) -> None:
    toml = (
        '[mlflow]\ntracking_uri = "http://127.0.0.1:1"\n'
        f'registry_uri = "sqlite:///{tmp_path}/r.db"\n[hooks]\nenabled = true\n'
    )
    proc = install(tmp_path, toml, SECRET_ENV)
    assert proc.returncode == 2
    assert "mlflow.registry_uri (or MLFLOW_REGISTRY_URI)" in proc.stderr


def test_disabled_hooks_are_refused(tmp_path: Path) -> None:
    proc = install(tmp_path, '[mlflow]\ntracking_uri = "http://127.0.0.1:1"\n', SECRET_ENV)
    assert proc.returncode == 2
    assert "hooks.enabled" in proc.stderr


def test_a_missing_secret_is_refused_naming_the_variable(tmp_path: Path) -> None:
    toml = '[mlflow]\ntracking_uri = "http://127.0.0.1:1"\n[hooks]\nenabled = true\n'
    proc = install(tmp_path, toml)
    assert proc.returncode == 2
    assert "hooks.secret_env" in proc.stderr and "DRIFTWARDEN_HOOKS_SECRET" in proc.stderr


def test_an_unreachable_server_is_exit_3(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    toml = (
        f'[mlflow]\ntracking_uri = "http://127.0.0.1:{port}"\nhttp_request_max_retries = 0\n'
        "http_request_timeout_seconds = 2\n[hooks]\nenabled = true\n"
    )
    proc = install(tmp_path, toml, SECRET_ENV)
    assert proc.returncode == 3, proc.stderr
    assert "unreachable" in proc.stderr and "Traceback" not in proc.stderr
    assert SECRET_ENV["DRIFTWARDEN_HOOKS_SECRET"] not in proc.stdout + proc.stderr


def settings_from(tmp_path: Path, toml: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.toml"
    path.write_text(toml, encoding="utf-8")
    return load_settings(path, env={})


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("", "http://127.0.0.1:9108/hooks/mlflow"),
        ('[metrics]\naddress = "10.1.2.3"\nport = 9200\n', "http://10.1.2.3:9200/hooks/mlflow"),
        ('[metrics]\naddress = "::1"\n', "http://[::1]:9108/hooks/mlflow"),
        ('[metrics]\naddress = "dw-1.internal"\n', "http://dw-1.internal:9108/hooks/mlflow"),
        (
            '[metrics]\naddress = "0.0.0.0"\n[hooks]\npublic_url = "https://dw.example.com/hooks/mlflow"\n',
            "https://dw.example.com/hooks/mlflow",
        ),
    ],
)
def test_webhook_url(tmp_path: Path, toml: str, expected: str) -> None:
    assert webhook_url(settings_from(tmp_path, toml)) == expected


@pytest.mark.parametrize(
    "toml",
    [
        '[metrics]\naddress = "0.0.0.0"\n',
        '[metrics]\naddress = "::"\n',
        "[metrics]\nport = 0\n",
        "[metrics]\nenabled = false\n",
    ],
)
def test_webhook_url_needs_public_url_when_the_bind_names_no_reachable_place(
    tmp_path: Path, toml: str
) -> None:
    with pytest.raises(ConfigError, match=r"^hooks\.public_url: required"):
        webhook_url(settings_from(tmp_path, toml))


def test_registry_server_uri_redacts_credentials(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, '[mlflow]\ntracking_uri = "postgresql://u:pw-9@db/mlflow"\n')
    with pytest.raises(ConfigError) as info:
        registry_server_uri(settings)
    assert "pw-9" not in str(info.value) and "postgresql store" in str(info.value)
