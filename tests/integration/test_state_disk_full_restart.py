"""``driftwarden run`` on a full state disk (issue 10.3): no crash loop, no traceback.

Before the fix the restart died at ``PRAGMA journal_mode = WAL`` with a raw traceback and
exit 1, which ``Restart=on-failure`` turns into a crash loop. Now ``run`` says why in one
event, serves ``/healthz`` (200 "degraded") and ``/readyz`` (503) while it waits, starts by
itself once there is room, and a stop signal meanwhile exits 0. The process is the point
here (exit codes, a restart), so the daemon is a subprocess; the disk is a real 16 MiB
tmpfs filled with a ballast file (the test skips when mounting is refused).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon_proc import DaemonProcess, daemon_config, sample_frame, write_csv
from tests.support.small_fs import fill, small_tmpfs


@pytest.fixture
def state_fs(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "state", "16m") as mounted:
        yield mounted


def _started_once(tmp_path: Path) -> Path:
    """A config whose state was created by one clean run (as before a restart)."""
    config = daemon_config(tmp_path, watch={"settle_seconds": 0.2})
    first = DaemonProcess(config, log_path=tmp_path / "first.log").start()
    assert first.stop() == 0
    return config


def _waiting(config: Path, log: Path) -> tuple[DaemonProcess, dict[str, object]]:
    daemon = DaemonProcess(config, log_path=log).start(wait_ready=False)
    [waiting] = daemon.wait_event("state_wait_at_start", timeout=60)
    daemon.metrics_url = str(waiting["metrics_url"])
    return daemon, waiting


@pytest.mark.slow
def test_a_restart_on_a_full_disk_waits_and_starts_once_there_is_room(
    tmp_path: Path, state_fs: Path
) -> None:
    config = _started_once(tmp_path)
    ballast = fill(state_fs)
    daemon, waiting = _waiting(config, tmp_path / "second.log")
    try:
        assert "disk" in str(waiting["reason"]) or "full" in str(waiting["reason"])
        status, body = daemon.get("/healthz")
        assert status == 200 and json.loads(body)["status"] == "degraded"
        assert daemon.get("/readyz")[0] == 503
        time.sleep(3.0)  # several tries come and go; the process stays up
        assert daemon.process is not None and daemon.process.poll() is None
        assert "Traceback" not in daemon.log_text()
        write_csv(tmp_path / "drop" / "waited.csv", sample_frame(200, seed=3))
        ballast.unlink()
        daemon.wait_event("daemon_ready", timeout=60)
        [checked] = daemon.wait_event("file_checked", timeout=60)
        assert Path(str(checked["file"])).name == "waited.csv"
    finally:
        code = daemon.stop()
    assert code == 0


@pytest.mark.slow
def test_a_stop_signal_while_waiting_for_the_state_exits_0(tmp_path: Path, state_fs: Path) -> None:
    config = _started_once(tmp_path)
    fill(state_fs)
    daemon, _ = _waiting(config, tmp_path / "second.log")
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.log_text()
