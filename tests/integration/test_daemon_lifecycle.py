"""The daemon as a real process: signals, systemd notify, exit codes, its text log.

These run ``driftwarden run`` as a subprocess because the process is the point; they wait on
the events its JSON log carries (``event`` and fields), never on message text or sleeps.
The daemon's wiring is tested in process (tests/daemon/service, tests/integration/test_daemon_*).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftwarden.events import types as ev
from driftwarden.state.sqlite import SqliteLedger
from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.processes import notify_listener

pytestmark = pytest.mark.integration


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    with notify_listener(timeout=30) as pair:
        yield pair


def _recv_until(sock: socket.socket, field: str, timeout: float = 30.0) -> list[str]:
    """Datagrams received until one holds ``field``; all of them, in order."""
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = sock.recv(4096).decode()
        got.append(message)
        if field in message.split("\n"):
            return got
    raise AssertionError(f"no {field} within {timeout}s; got {got}")


def _processing(root: Path) -> bool:
    ledger = SqliteLedger.open(root / "state" / "ledger.db", readonly=True)
    try:
        return bool(ledger.processing())
    finally:
        ledger.close()


def test_sigterm_exits_zero_within_ten_seconds_while_busy(tmp_path: Path) -> None:
    config = daemon_config(tmp_path)
    daemon = DaemonProcess(config).start()
    for i in range(20):
        write_csv(tmp_path / "drop" / f"f{i}.csv", sample_frame(2000, seed=i))
    daemon.wait_event("file_checked")
    started = time.monotonic()
    assert daemon.stop(timeout=10) == 0
    assert time.monotonic() - started < 10
    events = [e.get("event") for e in daemon.events() if e.get("event")]
    assert "stop_requested" in events and events[-1] == "daemon_stopped"


def test_sighup_with_a_broken_config_keeps_the_old_one(tmp_path: Path) -> None:
    config = daemon_config(tmp_path)
    daemon = DaemonProcess(config).start()
    good_text = config.read_text()
    try:
        config.write_text(good_text.replace("[watch]", "[watch]\nsettle_secondz = 1"))
        daemon.send(signal.SIGHUP)
        [refused] = daemon.wait_event("reload_refused")
        assert "settle_secondz" in refused["reason"] and str(config) in refused["reason"]
        assert refused["level"] == "ERROR"
        # Still working with the old config.
        write_csv(tmp_path / "drop" / "after-bad-reload.csv", sample_frame(100, seed=1))
        daemon.wait_event("file_checked", file=str(tmp_path / "drop" / "after-bad-reload.csv"))
        # A valid change is applied, and the log line says what changed.
        config.write_text(good_text.replace('level = "INFO"', 'level = "DEBUG"'))
        daemon.send(signal.SIGHUP)
        [reloaded] = daemon.wait_event("config_reloaded")
        assert reloaded["changes"] == "logging.level: 'INFO' -> 'DEBUG'"
    finally:
        assert daemon.stop() == 0


def test_systemd_notify_ready_reload_stopping(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    config = daemon_config(tmp_path)
    daemon = DaemonProcess(config, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
    daemon.start(wait_ready=False)
    try:
        first = _recv_until(sock, "READY=1")
        assert any(m.startswith("READY=1") for m in first)
        # The worker loop turns over: watchdog pings arrive (every ~1 s for a 2 s watchdog).
        _recv_until(sock, "WATCHDOG=1", timeout=5)
        daemon.send(signal.SIGHUP)
        during = _recv_until(sock, "READY=1")
        reloading = [m for m in during if m.startswith("RELOADING=1")]
        assert reloading and "MONOTONIC_USEC=" in reloading[0]
        daemon.send(signal.SIGTERM)
        _recv_until(sock, "STOPPING=1")
        assert daemon.process is not None and daemon.process.wait(10) == 0
    finally:
        daemon.kill()


def test_status_command_reads_while_the_daemon_runs(
    tmp_path: Path, start_daemon: Callable[..., InProcessDaemon]
) -> None:
    """`driftwarden status` in another process reads the ledger the daemon is writing."""
    config = daemon_config(tmp_path)
    running = start_daemon(config)
    write_csv(tmp_path / "drop" / "s.csv", sample_frame(100, seed=2))
    (tmp_path / "drop" / "bad.csv").write_bytes(b"")
    running.checked("s.csv")
    running.wait(ev.FileQuarantined)
    cmd = [sys.executable, "-m", "driftwarden.cli", "status", "--config", str(config)]
    out = subprocess.run([*cmd, "--format", "json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["files"] == {"done": 1, "quarantined": 1}
    assert status["last_checks"][0]["file"] == "s.csv"
    assert status["last_checks"][0]["outcome"] in ("ok", "drift")
    assert status["outbox"]["pending"] >= 0
    text = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and "files: done 1, quarantined 1" in text.stdout


def test_text_logs_by_default_name_the_file(tmp_path: Path) -> None:
    config = daemon_config(tmp_path)
    log_path = tmp_path / "text.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "driftwarden.cli", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "event=daemon_ready" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        (tmp_path / "drop" / "e.csv").write_bytes(b"")
        while "event=file_quarantined" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    lines = [line for line in log_path.read_text().splitlines() if "event=file_quarantined" in line]
    assert lines and f"file={tmp_path / 'drop' / 'e.csv'}" in lines[0]
    assert " WARNING driftwarden.daemon.files: " in lines[0]  # level and logger, as text
    assert not lines[0].startswith("{")


def test_invalid_config_exits_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[watch]\nsettle_seconds = -1\n")
    out = subprocess.run(
        [sys.executable, "-m", "driftwarden.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "watch.settle_seconds" in out.stderr


def test_the_schedule_runs_window_drift_over_recent_drops(
    tmp_path: Path, start_daemon: Callable[..., InProcessDaemon]
) -> None:
    config = daemon_config(
        tmp_path, schedule={"drift": {"enabled": True, "interval_seconds": 1.5}, "window_files": 2}
    )
    running = start_daemon(config)
    for i in range(3):
        write_csv(tmp_path / "drop" / f"w{i}.csv", sample_frame(100, seed=i))
    running.wait(ev.FileChecked, count=3)
    [window] = running.wait(ev.WindowDriftChecked, lambda e: e.files == 2)
    assert window.model == "test-model"


def test_sigint_stops_cleanly(tmp_path: Path) -> None:
    config = daemon_config(tmp_path)
    daemon = DaemonProcess(config).start()
    try:
        daemon.send(signal.SIGINT)
        assert daemon.process is not None and daemon.process.wait(15) == 0
    finally:
        daemon.kill()
    [stop] = daemon.named("stop_requested")
    assert stop.get("signal") == "SIGINT"
    assert [e.get("event") for e in daemon.events() if e.get("event")][-1] == "daemon_stopped"


def test_a_second_sigterm_forces_the_exit(tmp_path: Path) -> None:
    config = daemon_config(tmp_path)
    daemon = DaemonProcess(config).start()
    try:
        # A large drop keeps the worker busy, so the clean stop has to wait for it.
        write_csv(tmp_path / "drop" / "big.csv", sample_frame(300_000, seed=3))
        daemon.wait_until(lambda: _processing(tmp_path), what="the big drop claimed")
        daemon.send(signal.SIGTERM)
        daemon.wait_event("stop_requested")
        daemon.send(signal.SIGTERM)
        assert daemon.process is not None
        returncode = daemon.process.wait(60)
    finally:
        daemon.kill()
    assert returncode == 128 + signal.SIGTERM
    # it did not wait for the big drop: no verdict, no clean stop
    assert not daemon.named("file_checked")
    assert not daemon.named("daemon_stopped")
    # stderr, written by the signal handler itself (the bus may be the thing that is stuck)
    assert "second stop signal, exiting now" in daemon.log_text()


def test_sighup_changing_watch_keeps_health_and_files_flowing(tmp_path: Path) -> None:
    config = daemon_config(tmp_path, logging={"level": "DEBUG"})  # DEBUG: rescans are logged
    daemon = DaemonProcess(config).start()
    try:
        text = config.read_text()
        assert "settle_seconds = 0.5" in text
        config.write_text(text.replace("settle_seconds = 0.5", "settle_seconds = 0.3"))
        daemon.send(signal.SIGHUP)
        [reloaded] = daemon.wait_event("config_reloaded")
        assert reloaded["changes"] == "watch.settle_seconds: 0.5 -> 0.3"
        write_csv(tmp_path / "drop" / "after-reload.csv", sample_frame(100, seed=8))
        daemon.wait_event("file_checked", file=str(tmp_path / "drop" / "after-reload.csv"))
        assert daemon.get("/healthz")[0] == 200
        timer_rescans = len([e for e in daemon.named("rescan_done") if e.get("reason") == "timer"])
        daemon.wait_event("rescan_done", reason="timer", count=timer_rescans + 1)
        assert daemon.get("/healthz")[0] == 200  # the new watch is the one /healthz looks at
    finally:
        assert daemon.stop() == 0


def test_an_uncreatable_watch_path_at_start_exits_2_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a regular file, not a directory")
    config = daemon_config(tmp_path, watch={"paths": [str(blocker / "drop")]})
    out = subprocess.run(
        [sys.executable, "-m", "driftwarden.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    errors = [line for line in out.stderr.splitlines() if "watch.paths[0]" in line]
    assert errors and f"{blocker}' is not a directory" in errors[0], out.stderr
    assert "Traceback" not in out.stderr
