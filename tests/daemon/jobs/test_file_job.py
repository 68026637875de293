"""One file through claim, check, commit (queue, record, publish) and move, in a built daemon.

The daemon is built, not started: its file job is called directly (the subprocess tests
cover crashes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftwarden.daemon.jobs.file_job import MAX_ATTEMPTS
from driftwarden.data.version import file_digest
from driftwarden.events import types as ev
from tests.support.daemon_proc import sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon

Build = Callable[..., InProcessDaemon]


def _sample(metrics: object, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)  # type: ignore[attr-defined]
    return 0.0 if value is None else float(value)


def test_a_good_file_is_checked_recorded_queued_and_moved(
    tmp_path: Path, built: InProcessDaemon
) -> None:
    parts = built.parts
    path = write_csv(tmp_path / "drop" / "a.csv", sample_frame(200, seed=3))
    parts.keeper.files.handle(path)
    assert not path.exists() and (tmp_path / "drop" / "processed" / "a.csv").exists()
    [row] = parts.ledger.files()
    assert row["status"] == "done" and row["moved"] == 1 and row["has_target"] == 1
    [check] = parts.ledger.checks()
    assert check["kind"] == "drift" and check["outbox_key"] == f"drift:file:{row['digest']}"
    [item] = parts.outbox.peek()
    assert item.kind == "drift_run" and item.key == check["outbox_key"]
    assert item.payload["tags"]["driftwarden.file"] == "a.csv"
    assert Path(item.payload["html_path"]).read_text().lstrip().startswith("<")
    assert _sample(parts.metrics, "driftwarden_files_total", outcome="processed") == 1
    [checked] = built.events.of(ev.FileChecked)
    assert checked.file == str(path) and checked.model == "test-model"
    assert checked.validation is None  # no production model to validate
    assert (
        _sample(
            parts.metrics,
            "driftwarden_checks_total",
            model="test-model",
            kind="drift",
            outcome=check["outcome"],
        )
        == 1
    )


def test_a_claim_left_by_a_crash_is_redone_once(tmp_path: Path, built: InProcessDaemon) -> None:
    ctx = built.parts
    path = write_csv(tmp_path / "drop" / "a.csv", sample_frame(200, seed=3))
    st = path.stat()
    ctx.ledger.begin_file(
        str(path), str(tmp_path / "drop"), file_digest(str(path)), st.st_size, st.st_mtime
    )
    ctx.keeper.files.handle(path)  # the restart
    [row] = ctx.ledger.files()
    assert row["status"] == "done" and row["attempts"] == 2
    [redo] = built.events.of(ev.FileRedo)
    assert redo.attempt == 2
    assert len(ctx.ledger.checks()) == 1 and ctx.outbox.pending() == 1


def test_recorded_but_not_moved_is_only_moved(tmp_path: Path, built: InProcessDaemon) -> None:
    ctx = built.parts
    path = write_csv(tmp_path / "drop" / "a.csv", sample_frame(200, seed=3))
    st = path.stat()
    claim = ctx.ledger.begin_file(
        str(path), str(tmp_path / "drop"), file_digest(str(path)), st.st_size, st.st_mtime
    )
    ctx.ledger.finish_file(claim.file_id, "done")
    ctx.keeper.files.handle(path)
    assert (tmp_path / "drop" / "processed" / "a.csv").exists()
    assert [e.file for e in built.events.of(ev.FileMoveFinished)] == [str(path)]
    assert ctx.ledger.checks() == [] and ctx.outbox.pending() == 0


def test_a_file_whose_check_keeps_crashing_ends_in_quarantine(
    tmp_path: Path, built: InProcessDaemon
) -> None:
    ctx = built.parts
    path = write_csv(tmp_path / "drop" / "a.csv", sample_frame(200, seed=3))
    st = path.stat()
    digest = file_digest(str(path))
    for _ in range(MAX_ATTEMPTS):
        ctx.ledger.begin_file(str(path), str(tmp_path / "drop"), digest, st.st_size, st.st_mtime)
    ctx.keeper.files.handle(path)
    reason = (tmp_path / "drop" / "quarantine" / "a.csv.reason.txt").read_text()
    assert f"checking failed {MAX_ATTEMPTS} times" in reason


def test_keep_mode_leaves_the_file_and_ignores_it_afterwards(tmp_path: Path, build: Build) -> None:
    ctx = build(tmp_path, watch={"on_success": "keep"}).parts
    path = write_csv(tmp_path / "drop" / "a.csv", sample_frame(200, seed=3))
    processor = ctx.keeper.files
    processor.handle(path)
    processor.handle(path)
    assert path.exists() and len(ctx.ledger.checks()) == 1
    st = path.stat()
    assert ctx.ledger.is_kept_unchanged(str(path), st.st_size, st.st_mtime)


def test_symlinks_inside_are_read_and_leaving_ones_refused(tmp_path: Path, build: Build) -> None:
    ctx = build(tmp_path).parts
    drop = tmp_path / "drop"
    inside = write_csv(drop / "sub-data.txt", sample_frame(100, seed=5))
    (drop / "inside.csv").symlink_to(inside)
    outside = write_csv(tmp_path / "secret.csv", sample_frame(100, seed=6))
    (drop / "outside.csv").symlink_to(outside)
    processor = ctx.keeper.files
    processor.handle(drop / "inside.csv")
    processor.handle(drop / "outside.csv")
    assert ctx.ledger.file_counts() == {"done": 1, "quarantined": 1}
    assert os.path.islink(drop / "quarantine" / "outside.csv") and outside.exists()
    assert (
        "leaves the watched directory"
        in (drop / "quarantine" / "outside.csv.reason.txt").read_text()
    )
    assert _sample(ctx.metrics, "driftwarden_files_total", outcome="refused") == 1


def _assert_refused_unreadable(ctx: Any, drop: Path, name: str) -> None:
    assert ctx.ledger.file_counts() == {"quarantined": 1}
    [row] = ctx.ledger.files()
    assert row["reason"] == "cannot read: Permission denied"
    assert (drop / "quarantine" / name).exists() and not (drop / name).exists()
    reason = (drop / "quarantine" / f"{name}.reason.txt").read_text()
    assert "cannot read: Permission denied" in reason
    assert _sample(ctx.metrics, "driftwarden_files_total", outcome="refused") == 1


def test_a_file_the_daemon_cannot_read_is_quarantined_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: Build
) -> None:
    """A fake fault: these tests run as root, for whom no mode bits make a file unreadable, so
    hashing the file raises the PermissionError a non-root daemon gets (the chmod test below
    covers the real one where it can run)."""
    import driftwarden.daemon.jobs.file_job as file_job

    def denied(path: str) -> str:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(file_job, "file_digest", denied)
    ctx = build(tmp_path).parts
    path = write_csv(tmp_path / "drop" / "locked.csv", sample_frame(50, seed=3))
    processor = ctx.keeper.files
    processor.handle(path)
    processor.handle(path)  # the rescan finds nothing left to retry
    _assert_refused_unreadable(ctx, tmp_path / "drop", "locked.csv")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_file_with_mode_000_is_quarantined(tmp_path: Path, build: Build) -> None:
    ctx = build(tmp_path).parts
    path = write_csv(tmp_path / "drop" / "locked.csv", sample_frame(50, seed=3))
    path.chmod(0)
    ctx.keeper.files.handle(path)
    _assert_refused_unreadable(ctx, tmp_path / "drop", "locked.csv")


def test_the_commit_queues_records_and_publishes_before_the_move(
    tmp_path: Path, built: InProcessDaemon
) -> None:
    """What a subscriber sees when the check is announced: the MLflow write queued, the check
    recorded with the file, the file not moved yet (a crash now only finishes the move)."""
    parts = built.parts
    path = write_csv(tmp_path / "drop" / "a.csv", sample_frame(200, seed=3))
    seen: dict[str, object] = {}

    def at_announce(event: ev.Event) -> None:
        [row] = parts.ledger.files()
        seen.update(
            queued=[i.kind for i in parts.outbox.peek()],
            status=row["status"],
            checks=len(parts.ledger.checks(file_id=row["id"])),
            moved=row["moved"],
            in_drop=path.exists(),
            processed_counted=_sample(
                parts.metrics, "driftwarden_files_total", outcome="processed"
            ),
        )

    built.daemon.bus.subscribe(at_announce, ev.FileChecked)
    parts.keeper.files.handle(path)
    assert seen == {
        "queued": ["drift_run"],
        "status": "done",
        "checks": 1,
        "moved": 0,
        "in_drop": True,
        "processed_counted": 0.0,
    }
    assert not path.exists()  # moved after
