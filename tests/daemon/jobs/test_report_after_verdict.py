"""A file's verdict does not wait for its HTML report, and the report is never lost: the
MLflow run gets it when it is written after the verdict, and after a crash that came
before it was written (rendered again from the checked file at the next start)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from driftwarden.daemon.jobs.reports import Draft, ReportDesk
from driftwarden.events import Event
from driftwarden.events import types as ev
from driftwarden.tracking.access import MlflowAccess
from driftwarden.tracking.run_links import PENDING_RUN, REPORT_ARTIFACT
from tests.support.daemon_proc import sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon
from tests.support.mlflow_store import prepare_default_store


def _logged_page(daemon: InProcessDaemon, run_id: str, into: Path) -> str:
    client = MlflowAccess(daemon.settings).client()
    local = client.download_artifacts(run_id, REPORT_ARTIFACT, str(into))
    return Path(local).read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_verdict_is_out_before_the_report_and_the_run_still_gets_it(
    tmp_path: Path, build: Callable[..., InProcessDaemon]
) -> None:
    daemon = build(tmp_path)
    seen: list[tuple[bool, bool]] = []

    def on_checked(event: Event) -> None:  # published with the verdict, on the worker thread
        if isinstance(event, ev.FileChecked):
            [item] = daemon.parts.outbox.peek()
            page = Path(item.payload["html_path"])
            [row] = daemon.parts.ledger.files()
            seen.append((page.exists(), row["status"] == "done"))

    daemon.daemon.bus.subscribe(on_checked)
    path = write_csv(tmp_path / "drop" / "b1.csv", sample_frame(300, seed=5, shift=1.5))
    daemon.parts.keeper.files.handle(path)

    assert seen == [(False, True)]  # the verdict is recorded and out; no report yet
    [item] = daemon.parts.outbox.peek()
    assert Path(item.payload["html_path"]).is_file()  # written once the verdict was out
    prepare_default_store(daemon.settings)
    daemon.parts.flusher.flush_once()
    [written] = daemon.events.of(ev.OutboxWritten)
    page = _logged_page(daemon, written.run_id, tmp_path / "download")
    assert "<dt>Data checked</dt><dd>b1.csv</dd>" in page
    assert f"<dd>runs:/{written.run_id}</dd>" in page and PENDING_RUN not in page


@pytest.mark.slow
@pytest.mark.parametrize("moved", [True, False], ids=["after-the-move", "before-the-move"])
def test_a_crash_between_verdict_and_report_loses_nothing(
    tmp_path: Path,
    build: Callable[..., InProcessDaemon],
    monkeypatch: pytest.MonkeyPatch,
    moved: bool,
) -> None:
    """The process dying between two statements cannot be caused in process: the report's
    delivery is replaced by nothing (and, before the move, the move too), which is what a
    kill -9 right after the ledger recorded the verdict leaves behind."""
    first = build(tmp_path)
    monkeypatch.setattr(
        ReportDesk, "hand_over", lambda desk, draft, defer: desk.release(draft.path)
    )
    if not moved:
        monkeypatch.setattr(first.parts.keeper.files.moves, "processed", lambda *a: None)
    path = write_csv(tmp_path / "drop" / "b1.csv", sample_frame(300, seed=5, shift=1.5))
    first.parts.keeper.files.handle(path)
    [item] = first.parts.outbox.peek()
    assert not Path(item.payload["html_path"]).exists()
    assert [f["status"] for f in first.parts.ledger.files()] == ["done"]
    assert path.exists() is not moved
    first.stop()
    monkeypatch.undo()

    second = build(tmp_path)  # the next start, on the same state
    prepare_default_store(second.settings)
    second.parts.flusher.flush_once()
    [written] = second.events.of(ev.OutboxWritten)
    page = _logged_page(second, written.run_id, tmp_path / "download")
    assert "<dt>Data checked</dt><dd>b1.csv</dd>" in page
    assert "x1" in page and f"<dd>runs:/{written.run_id}</dd>" in page
    assert not Path(item.payload["html_path"]).exists()  # handed over to MLflow


@pytest.mark.slow
def test_a_report_whose_file_is_gone_leaves_the_run_without_a_page(
    tmp_path: Path,
    build: Callable[..., InProcessDaemon],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = build(tmp_path)
    monkeypatch.setattr(
        ReportDesk, "hand_over", lambda desk, draft, defer: desk.release(draft.path)
    )
    path = write_csv(tmp_path / "drop" / "b1.csv", sample_frame(300, seed=5, shift=1.5))
    first.parts.keeper.files.handle(path)
    first.stop()
    monkeypatch.undo()
    os.unlink(tmp_path / "drop" / "processed" / "b1.csv")  # removed by someone meanwhile

    second = build(tmp_path)
    prepare_default_store(second.settings)
    second.parts.flusher.flush_once()
    [written] = second.events.of(ev.OutboxWritten)  # the run is written all the same
    assert second.parts.outbox.pending() == 0
    assert written.kind == "drift_run"


@pytest.mark.slow
def test_a_burst_of_files_is_recorded_exactly_once(
    tmp_path: Path, build: Callable[..., InProcessDaemon]
) -> None:
    count = 40
    daemon = build(tmp_path)
    drop = tmp_path / "drop"
    for i in range(count):  # staged under hidden names, then renamed in all at once
        frame = sample_frame(50, seed=100 + i, target=False)
        write_csv(drop / f".b{i:03d}.csv.tmp", frame, atomic=False)
    daemon.start()
    for i in range(count):
        os.replace(drop / f".b{i:03d}.csv.tmp", drop / f"b{i:03d}.csv")
    daemon.wait(ev.FileChecked, count=count, timeout=120)
    worker = daemon.parts.keeper.worker
    worker.close()  # the last job ends with its move
    assert worker.join(30)

    rows = daemon.parts.ledger.files()
    names = sorted(Path(r["path"]).name for r in rows)
    assert names == [f"b{i:03d}.csv" for i in range(count)]
    assert {(r["status"], r["moved"]) for r in rows} == {("done", 1)}
    assert sorted(p.name for p in (drop / "processed").iterdir()) == names
    assert len(daemon.parts.ledger.checks()) == count  # one drift check each


def test_a_held_report_is_rendered_by_the_writer_and_memory_stays_bounded(tmp_path: Path) -> None:
    desk = ReportDesk(held_bytes=100)
    small, big = tmp_path / "small.html", tmp_path / "big.html"
    desk.expect(small)
    desk.hand_over(Draft(small, lambda: "small page", 60), defer=True)  # more files wait
    assert not small.exists() and desk.waiting() == 1
    desk.expect(big)
    desk.hand_over(Draft(big, lambda: "big page", 60), defer=True)  # past the bound
    assert big.read_text(encoding="utf-8") == "big page"  # rendered at once instead
    assert desk.page({"html_path": str(small)}) == "small page"  # the writer renders it
    assert small.read_text(encoding="utf-8") == "small page" and desk.waiting() == 0
    done = tmp_path / "done.html"
    desk.expect(done)
    desk.hand_over(Draft(done, lambda: "no wait", 1), defer=False)  # nothing else waits
    assert done.read_text(encoding="utf-8") == "no wait"


def test_held_reports_are_written_once_the_burst_has_drained(tmp_path: Path) -> None:
    """A worker with nothing left to do renders the put-off pages, MLflow or not; the writer
    asking for one meanwhile waits for that render instead of missing it."""
    desk = ReportDesk()
    first, second = tmp_path / "first.html", tmp_path / "second.html"
    rendering, finish = threading.Event(), threading.Event()

    def slow_render() -> str:
        rendering.set()
        finish.wait(30)
        return "first page"

    for path, render in ((first, slow_render), (second, lambda: "second page")):
        desk.expect(path)
        desk.hand_over(Draft(path, render, 1), defer=True)
    assert desk.waiting() == 2 and not first.exists()
    idle = threading.Thread(target=desk.deliver_held)  # what the idle worker calls
    idle.start()
    assert rendering.wait(30)  # the idle worker holds the first page, half rendered
    pages: list[str] = []
    writer = threading.Thread(target=lambda: pages.append(desk.page({"html_path": str(first)})))
    writer.start()
    finish.set()
    idle.join(30)
    writer.join(30)
    assert pages == ["first page"]  # waited for the render, did not log the run without it
    assert second.read_text(encoding="utf-8") == "second page" and desk.waiting() == 0
