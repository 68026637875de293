"""A full state disk while files flow (issue 10.3): the daemon stays up, says so, takes no
file, and once there is room again checks every file that came meanwhile exactly once.

The fault is real: the state directory is a 16 MiB tmpfs (mounted as root; the test skips
when mounting is refused) filled to the last byte with a ballast file. The daemon is the
real in-process one, with its default MLflow store (sqlite) in the same state directory,
so MLflow's writes fail on the full disk too.

Two ways the daemon notices: the free-space check (the default), and, with that check
switched off, the write errors themselves (sqlite's "database or disk is full" and "disk
I/O error").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftwarden.events import types as ev
from driftwarden.state import availability
from tests.integration.test_daemon_metrics import scrape, value
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.small_fs import fill, small_tmpfs

Start = Callable[..., InProcessDaemon]
MODEL = "test-model"


@pytest.fixture
def state_fs(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "state", "16m") as mounted:
        yield mounted


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def alert_events(running: InProcessDaemon, status: str) -> list[ev.AlertNotified]:
    return [
        e
        for e in running.events.of(ev.AlertNotified)
        if e.rule == "state_not_writable" and e.status == status
    ]


@pytest.mark.slow
@pytest.mark.parametrize("noticed_by", ["free space", "write errors"])
def test_a_full_state_disk_pauses_intake_and_loses_nothing(
    tmp_path: Path,
    state_fs: Path,
    start_daemon: Start,
    monkeypatch: pytest.MonkeyPatch,
    noticed_by: str,
) -> None:
    if noticed_by == "write errors":
        monkeypatch.setattr(availability, "MIN_FREE_BYTES", 0)  # only failed writes tell
    config = daemon_config(tmp_path, watch={"settle_seconds": 0.2})
    running = start_daemon(config)
    drop = tmp_path / "drop"
    processed = drop / "processed"

    write_csv(drop / "before.csv", sample_frame(200, seed=2))
    running.checked("before.csv")
    running.wait(ev.OutboxWritten)
    wait_until("the first file moved", lambda: (processed / "before.csv").exists())

    ballast = fill(state_fs)
    late = ["late-1.csv", "late-2.csv", "late-3.csv"]
    for i, name in enumerate(late):
        write_csv(drop / name, sample_frame(200, seed=10 + i))
    [down] = running.wait(ev.StateNotWritable, timeout=30)
    assert down.reason

    # Outage: the daemon is up and says so; the files wait, untouched and unclaimed.
    running.daemon.request("alert_tick", "test")
    wait_until("the state alert", lambda: bool(alert_events(running, "firing")))
    time.sleep(2.5)  # a rescan (every 2 s) and settling come and go meanwhile
    for name in late:
        assert (drop / name).is_file(), f"{name} left the drop directory while the disk was full"
        assert not (processed / name).exists()
    assert not (drop / "quarantine").exists()
    claimed = {Path(row["path"]).name for row in running.parts.ledger.files()}
    if noticed_by == "free space":
        assert claimed == {"before.csv"}  # paused before anything was claimed
    assert not running.events.of(ev.FileChecked)[1:], "a file was checked on a full disk"
    status, body = running.get("/healthz")
    health = json.loads(body)
    assert status == 200 and health["status"] == "degraded"
    assert health["degraded"][0].startswith("state: not writable")
    status, body = running.get("/readyz")
    assert status == 503 and json.loads(body)["problems"][0].startswith("state: not writable")
    samples = scrape(running)
    assert value(samples, "driftwarden_state_writable") == 0
    assert value(samples, "driftwarden_files_total", outcome="processed") == 1
    assert value(samples, "driftwarden_alerts_total", model=MODEL, rule="state_not_writable") == 1
    assert running.error is None and running.parts.keeper.worker.is_alive()

    # Room again: the daemon resumes by itself and checks each waiting file once.
    ballast.unlink()
    running.wait(ev.StateWritableAgain, timeout=30)
    for name in late:
        running.checked(name, timeout=60)
        wait_until(f"{name} moved", lambda name=name: (processed / name).exists())
    wait_until("every move noted", lambda: all(r["moved"] for r in running.parts.ledger.files()))
    rows = running.parts.ledger.files()
    names = sorted(Path(row["path"]).name for row in rows)
    assert names == sorted(["before.csv", *late])  # one row per file: none twice
    assert {row["status"] for row in rows} == {"done"}
    checks = running.parts.ledger.checks()
    assert len(checks) == 4 and len({c["outbox_key"] for c in checks}) == 4
    assert [e.file for e in running.events.of(ev.FileChecked)].count(str(drop / late[0])) == 1
    wait_until("every MLflow write done", lambda: running.parts.outbox.pending() == 0)
    assert running.parts.outbox.dead() == 0
    samples = scrape(running)
    assert value(samples, "driftwarden_state_writable") == 1
    assert value(samples, "driftwarden_files_total", outcome="processed") == 4
    status, body = running.get("/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert running.get("/readyz")[0] == 200
    running.daemon.request("alert_tick", "test")
    wait_until("the state alert resolved", lambda: bool(alert_events(running, "resolved")))
