"""No secret in any output: the daemon and the commands run with a secret in every place one
can go, and every byte they leave behind is searched for each one.

Secrets: MLflow's password and token, a tracking URI with ``user:password@`` (pointing at a
closed port on 127.0.0.1, so that every MLflow call fails and its error is shown, logged and
stored), a webhook URL with a secret path and a ``?token=``, the webhook's signing secret, the
Alertmanager basic auth password, and an Alertmanager URL with credentials (refused by
``config check``). Outputs: stdout and stderr of every command, the daemon's log, its
``/metrics`` and ``/healthz`` answers, and every file under the test's directory (state
databases and their WAL files byte for byte, the quarantine reason file, the HTML report)
except the config files the test wrote.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv
from tests.support.mlflow_server import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

URI_PASSWORD = "UriPass9f3a"
ENV_PASSWORD = "EnvPass7c1e"
ENV_TOKEN = "EnvToken5b2d"
HOOK_PATH_SECRET = "PathSecret4e8a"
HOOK_QUERY_SECRET = "QuerySecret1d6c"
HOOK_SIGNING_SECRET = "SignSecret8a0f"
AM_PASSWORD = "AmPass2c7b"
AM_URL_PASSWORD = "AmUrlPass6e1f"
SECRETS = (
    URI_PASSWORD,
    ENV_PASSWORD,
    ENV_TOKEN,
    HOOK_PATH_SECRET,
    HOOK_QUERY_SECRET,
    HOOK_SIGNING_SECRET,
    AM_PASSWORD,
    AM_URL_PASSWORD,
    base64.b64encode(f"dw:{AM_PASSWORD}".encode()).decode(),  # the Authorization header
)


def _leaks(where: str, data: bytes) -> list[str]:
    return [f"{where}: {secret}" for secret in SECRETS if secret.encode() in data]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "driftwarden.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        timeout=180,
    )


def _outbox_errors(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT last_error FROM outbox WHERE last_error IS NOT NULL")
        return [str(row[0]) for row in rows]
    finally:
        conn.close()


def test_no_secret_reaches_any_output(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there: every call fails with its URL in the error
    env = dict(
        os.environ,
        MLFLOW_TRACKING_URI=f"http://dwuser:{URI_PASSWORD}@127.0.0.1:{closed}",
        MLFLOW_TRACKING_PASSWORD=ENV_PASSWORD,
        MLFLOW_TRACKING_TOKEN=ENV_TOKEN,
        DW_TEST_HOOK_SECRET=HOOK_SIGNING_SECRET,
        DW_TEST_AM_PASSWORD=AM_PASSWORD,
    )
    config = daemon_config(
        tmp_path,
        mlflow={"http_request_max_retries": 0, "http_request_timeout_seconds": 1.0},
        schedule={"registry_poll": {"enabled": True, "interval_seconds": 1.0}},
        alerts={
            "sinks": ["log", "webhook", "alertmanager"],
            "webhook": {
                "url": f"http://127.0.0.1:{closed}/hooks/{HOOK_PATH_SECRET}?token={HOOK_QUERY_SECRET}",
                "retries": 0,
                "secret_env": "DW_TEST_HOOK_SECRET",
            },
            "alertmanager": {
                "url": f"http://127.0.0.1:{closed}",
                "retries": 0,
                "username": "dw",
                "password_env": "DW_TEST_AM_PASSWORD",
            },
        },
    )
    inputs = {config}
    bad_am = tmp_path / "alertmanager-in-url.toml"
    bad_am.write_text(
        config.read_text()
        .replace('username = "dw"\n', "")
        .replace('password_env = "DW_TEST_AM_PASSWORD"\n', "")
        .replace(
            f'"http://127.0.0.1:{closed}"\n', f'"http://dw:{AM_URL_PASSWORD}@127.0.0.1:{closed}"\n'
        )
    )
    assert AM_URL_PASSWORD in bad_am.read_text()
    inputs.add(bad_am)
    outputs: dict[str, bytes] = {}

    drop = tmp_path / "drop"
    daemon = DaemonProcess(config, log_path=tmp_path / "daemon.log", env=env).start()
    try:
        write_csv(drop / "drifted.csv", sample_frame(400, seed=5, shift=3.0))
        (drop / "garbage.csv").write_bytes(b"\x00\x01not a table\xff\n")
        for sink in ("webhook", "alertmanager"):
            daemon.wait_for(
                lambda e, s=sink: (
                    e.get("event") == "alert_delivery_failed" and e.get("sink") == s  # type: ignore[misc]
                ),
                timeout=90,
                what=f"a failed {sink} delivery",
            )
        daemon.wait_for(
            # a failed job has no event of its own: its log record carries the job kind
            lambda e: e.get("job") == "registry_poll" and e.get("level") == "WARNING",
            timeout=60,
            what="a failed registry poll",
        )
        daemon.wait_for(
            lambda e: e.get("event") == "file_quarantined",
            timeout=60,
            what="the garbage file quarantined",
        )
        outbox = tmp_path / "state" / "outbox.db"
        daemon.wait_until(lambda: bool(_outbox_errors(outbox)), 60, "an outbox error stored")
        assert any("unreachable" in e for e in _outbox_errors(outbox))
        for endpoint in ("/metrics", "/healthz", "/readyz"):
            outputs[f"GET {endpoint}"] = daemon.get(endpoint)[1].encode()
    finally:
        assert daemon.stop() == 0

    reference, labelled = tmp_path / "reference.csv", tmp_path / "labelled.csv"
    sample_frame(200, seed=9).to_csv(labelled, index=False)
    commands = {
        "config check": (["config", "check", "--config", str(config)], 0),
        "config check (credentials in the Alertmanager URL)": (
            ["config", "check", "--config", str(bad_am)],
            2,
        ),
        "check --log-to-mlflow": (
            [
                "check",
                str(reference),
                str(drop / "processed" / "drifted.csv"),
                "--config",
                str(config),
                "--log-to-mlflow",
            ],
            3,
        ),
        "register": (["register", "--config", str(config)], 3),
        "validate": (["validate", "--data", str(labelled), "--config", str(config)], 3),
        "status": (["status", "--config", str(config)], 0),
        "status --format json": (["status", "--config", str(config), "--format", "json"], 0),
    }
    exit_codes = {}
    for name, (args, _) in commands.items():
        done = _run(args, env, tmp_path)
        outputs[f"{name}: stdout"] = done.stdout
        outputs[f"{name}: stderr"] = done.stderr
        exit_codes[name] = done.returncode

    files = [p for p in tmp_path.rglob("*") if p.is_file() and p not in inputs]
    names = {p.relative_to(tmp_path).as_posix() for p in files}
    for expected_file in ("daemon.log", "state/ledger.db", "state/outbox.db"):
        assert expected_file in names, sorted(names)
    assert any(n.endswith(".reason.txt") for n in names), sorted(names)
    assert any(n.endswith(".html") for n in names), sorted(names)

    leaks = [leak for name, data in outputs.items() for leak in _leaks(name, data)]
    for path in files:
        leaks += _leaks(str(path.relative_to(tmp_path)), path.read_bytes())
    assert not leaks, "secrets found in outputs:\n" + "\n".join(leaks)

    # The commands failed the way they should (so their errors were shown): MLflow
    # unreachable is exit 3, the URL with credentials is refused, saying why.
    assert exit_codes == {name: code for name, (_, code) in commands.items()}, outputs
    assert b"user info" in outputs["config check (credentials in the Alertmanager URL): stderr"]
    assert b"dwuser:***@" in outputs["check --log-to-mlflow: stderr"]
