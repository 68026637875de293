"""A real `mlflow server` on 127.0.0.1 for integration tests; stoppable and restartable on its port.

Webhooks are enabled on every server started here (MLFLOW.md): http:// and loopback URLs
are allowed, the secret encryption key is fixed (deliveries survive a restart) and the
server re-reads its webhook list every second instead of every minute.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.mlflow_store import fresh_store

# A Fernet key is the URL-safe base64 of 32 bytes; fixed so that a restarted server can
# still decrypt the secrets of webhooks registered before the restart.
WEBHOOK_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"driftwarden-tests-webhook-key-32").decode()
WEBHOOK_ENV = {
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": WEBHOOK_ENCRYPTION_KEY,
    # The server caches "which webhooks want this event" for 60 s by default; a test that
    # registers a webhook and then moves an alias would wait that long.
    "MLFLOW_WEBHOOK_CACHE_TTL": "1",
    "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_WEBHOOK_REQUEST_TIMEOUT": "5",
}


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    """`mlflow server` with a local artifact root under ``root``.

    The backend store is a sqlite file under ``root`` unless ``backend_store_uri`` names
    another (``postgresql+psycopg://...``, its password given in ``env`` as ``PGPASSWORD``).
    Started with one worker and job execution off (about 7 s, ~550 MB; see MLFLOW.md).
    """

    def __init__(
        self,
        root: Path,
        port: int | None = None,
        backend_store_uri: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.port = port or free_port()
        self.backend_store_uri = backend_store_uri or f"sqlite:///{root / 'server.db'}"
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "mlflow-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.backend_store_uri == f"sqlite:///{self.root / 'server.db'}":
            fresh_store(self.root / "server.db")  # pre-migrated: the server starts sooner
        mlflow_bin = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
        env = {
            **os.environ,
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            **WEBHOOK_ENV,
            **self.extra_env,
        }
        cmd = [
            mlflow_bin,
            "server",
            "--backend-store-uri",
            self.backend_store_uri,
            "--artifacts-destination",
            str(self.root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited early; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"mlflow server did not answer /health within {timeout}s; see {self.log_path}"
        )

    def stop(self) -> None:
        """Stop the server and every process it started (it runs in its own session)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.process = None
