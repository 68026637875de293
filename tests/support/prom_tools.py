"""Real Prometheus, Alertmanager and promtool for tests, on 127.0.0.1 and a free port.

Binaries are found on PATH first (``make test`` puts Debian's unpacked packages there),
then under ``<repo>/.tools/root/usr/bin``. A test that needs one calls :func:`require_tool`:
it skips when the binary is missing, except under ``CI`` where a missing tool fails.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar

import pytest

from tests.support.mlflow_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO_ROOT / ".tools" / "root" / "usr" / "bin"
# Debian installs Alertmanager as prometheus-alertmanager; upstream calls it alertmanager.
TOOL_NAMES = {"alertmanager": ("prometheus-alertmanager", "alertmanager")}

T = TypeVar("T")


def find_tool(name: str) -> str | None:
    """Path of ``name`` (promtool, prometheus, alertmanager, amtool), or None."""
    candidates = TOOL_NAMES.get(name, (name,))
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    for candidate in candidates:
        local = TOOLS_BIN / candidate
        if local.is_file() and os.access(local, os.X_OK):
            return str(local)
    return None


def require_tool(name: str) -> str:
    """The tool's path; skip the test if it is missing, fail instead when ``CI`` is set."""
    path = find_tool(name)
    if path is None:
        message = f"{name} not found on PATH or in {TOOLS_BIN} (run `make tools`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def http_json(
    url: str, data: Any = None, timeout: float = 5.0, headers: dict[str, str] | None = None
) -> Any:
    """GET (or POST ``data`` as JSON) and decode the JSON answer."""
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(
        url,
        data=body,
        headers={**({"Content-Type": "application/json"} if body else {}), **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read()
    return json.loads(text) if text else None


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll ``probe`` until it returns something truthy; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


class _Server:
    """A server binary run in its own session with a temp dir, logging to ``root/<name>.log``."""

    name = "server"
    ready_path = "/-/ready"

    def __init__(self, root: Path, binary: str, port: int | None = None) -> None:
        self.root = root
        self.binary = binary
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / f"{self.name}.log"
        self.headers: dict[str, str] = {}  # sent with every request the test makes

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def start(self, timeout: float = 30.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            try:
                probe = urllib.request.Request(self.url + self.ready_path, headers=self.headers)
                with urllib.request.urlopen(probe, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PrometheusServer(_Server):
    """Prometheus scraping ``targets`` every second, optionally loading rule files."""

    name = "prometheus"

    def __init__(
        self,
        root: Path,
        targets: list[str],
        rule_files: list[Path] | None = None,
        job: str = "driftwarden",
        binary: str | None = None,
    ) -> None:
        super().__init__(root, binary or require_tool("prometheus"))
        self.targets = targets
        self.rule_files = rule_files or []
        self.job = job

    def write_config(self) -> Path:
        # YAML is a superset of JSON: no YAML writer needed.
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": [
                {"job_name": self.job, "static_configs": [{"targets": self.targets}]}
            ],
        }
        path = self.root / "prometheus.yml"
        path.write_text(json.dumps(config, indent=2))
        return path

    def command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.write_config()}",
            f"--storage.tsdb.path={self.root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
            "--log.level=warn",
        ]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; returns ``data.result`` (raises on a PromQL error)."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            answer = http_json(url)
        except urllib.error.HTTPError as exc:
            raise ValueError(f"query {expr!r} failed: {exc.read().decode()}") from exc
        if answer.get("status") != "success":
            raise ValueError(f"query {expr!r} failed: {answer}")
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def api(self, path: str) -> Any:
        return http_json(f"{self.url}/api/v1/{path}")["data"]


# Debian's Alertmanager reads its default notification template from this compiled-in
# directory; a package that is only unpacked (make tools) has it under .tools/root instead.
DEBIAN_AM_SHARE = b"/usr/share/prometheus/alertmanager"


def runnable_alertmanager(binary: str, workdir: Path) -> tuple[str, Path | None]:
    """A binary that finds its templates: ``binary`` itself when Debian's path exists (or it
    is not Debian's build), else a copy whose compiled-in path is rewritten, byte for byte
    and at the same length, to a symlink to the unpacked share directory. Returns the
    binary and the symlink to remove afterwards (None when nothing was made).
    """
    if Path(DEBIAN_AM_SHARE.decode(), "default.tmpl").exists():
        return binary, None
    unpacked = Path(binary).resolve().parents[1] / "share" / "prometheus" / "alertmanager"
    data = Path(binary).read_bytes()
    if DEBIAN_AM_SHARE not in data or not (unpacked / "default.tmpl").exists():
        return binary, None
    base = tempfile.gettempdir().rstrip("/") + "/dw-am-"
    room = len(DEBIAN_AM_SHARE) - len(base.encode())
    if room < 8:
        pytest.skip(f"temp dir {base!r} too long to relocate Alertmanager's templates")
    while True:
        link = Path(base + secrets.token_hex(room)[:room])
        try:
            link.symlink_to(unpacked, target_is_directory=True)
            break
        except FileExistsError:
            continue
    patched = workdir / "prometheus-alertmanager"
    patched.write_bytes(data.replace(DEBIAN_AM_SHARE, str(link).encode()))
    patched.chmod(0o755)
    return str(patched), link


class AlertmanagerServer(_Server):
    """Alertmanager with clustering off; ``receiver_url`` (optional) gets its webhooks."""

    name = "alertmanager"

    def __init__(
        self,
        root: Path,
        receiver_url: str | None = None,
        binary: str | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(root, binary or require_tool("alertmanager"))
        self.receiver_url = receiver_url
        self.basic_auth = basic_auth  # (user, password): every endpoint then demands it
        if basic_auth is not None:
            token = base64.b64encode(":".join(basic_auth).encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self._original_binary = self.binary
        self._template_link: Path | None = None

    def start(self, timeout: float = 30.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.binary, self._template_link = runnable_alertmanager(self._original_binary, self.root)
        super().start(timeout)

    def stop(self) -> None:
        super().stop()
        if self._template_link is not None:
            self._template_link.unlink(missing_ok=True)
            self._template_link = None

    def write_config(self) -> Path:
        receiver: dict[str, Any] = {"name": "default"}
        if self.receiver_url:
            receiver["webhook_configs"] = [{"url": self.receiver_url, "send_resolved": True}]
        config = {
            "route": {
                "receiver": "default",
                "group_by": ["alertname", "model"],
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [receiver],
        }
        path = self.root / "alertmanager.yml"
        path.write_text(json.dumps(config, indent=2))
        return path

    def write_web_config(self) -> Path | None:
        """Alertmanager's own basic auth (``--web.config.file``, a bcrypt hash per user)."""
        if self.basic_auth is None:
            return None
        import bcrypt

        user, password = self.basic_auth
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        path = self.root / "web.yml"
        path.write_text(json.dumps({"basic_auth_users": {user: hashed}}))
        return path

    def command(self) -> list[str]:
        web_config = self.write_web_config()
        return [
            self.binary,
            f"--config.file={self.write_config()}",
            f"--storage.path={self.root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
            *([f"--web.config.file={web_config}"] if web_config else []),
        ]

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts`` (resolved alerts are not listed)."""
        query = "?" + urllib.parse.urlencode(filters) if filters else ""
        result: list[dict[str, Any]] = http_json(
            f"{self.url}/api/v2/alerts{query}", headers=self.headers
        )
        return result
