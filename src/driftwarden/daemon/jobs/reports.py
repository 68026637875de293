"""The HTML drift report of a file check, rendered after its verdict, read by the outbox writer.

A file's verdict (ledger, metrics, alert rules) does not wait for its report: ``Commit``
says the report is coming (``expect``) before it queues the MLflow write, and once the
verdict is out renders it (``hand_over``), or, while more files wait in the model's queue,
leaves it to the outbox writer, which renders it when it gets to the write, or to the
first worker with nothing left to do: a burst of files drains without rendering a page
per file in between. Held renders keep their frame
in memory, up to ``HELD_BYTES``; past that the worker renders the page itself.

The writer asks ``page`` for the text: it renders a held page, waits for one being rendered,
reads one already written, and rebuilds one that a crash or a stop left unwritten from the
checked file itself (still in the drop directory or already in the processed one,
recognised by its sha256) against the model's reference, when that reference is still the
one the check used. A file that cannot be found again gets its run without the page (logged
as a warning).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.reference import Reference, ReferenceHolder
from driftwarden.state.availability import state_file_writes

log = logging.getLogger(__name__)

# The longest the writer waits for a report being rendered in this process.
RENDER_WAIT_SECONDS = 120.0
# The most frame bytes held for renders the writer has not done yet.
HELD_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Draft:
    """A report to write: where, how to render it, and the bytes its frame holds meanwhile."""

    path: Path
    render: Callable[[], str]
    nbytes: int = 0


@dataclass(frozen=True)
class ModelSource:
    """What rebuilding one model's report needs: its reference and settings in force."""

    reference: ReferenceHolder
    config: Callable[[], Settings]


class ReportDesk:
    """Reports promised by checks, rendered after their verdicts, read by the outbox writer."""

    def __init__(self, held_bytes: int = HELD_BYTES) -> None:
        self.held_bytes = held_bytes
        self._lock = threading.Lock()
        self._coming: dict[Path, threading.Event] = {}
        self._held: dict[Path, Draft] = {}
        self._models: dict[str, ModelSource] = {}

    # ---- the worker's side ------------------------------------------------------------

    def expect(self, path: Path) -> None:
        """A report for ``path`` is coming (before its write is queued: the writer waits)."""
        with self._lock:
            self._coming.setdefault(path, threading.Event())

    def hand_over(self, draft: Draft, defer: bool) -> None:
        """The verdict is out: render the page now, or with ``defer`` (more files wait) leave
        it to the writer, unless the renders held already hold ``held_bytes``."""
        with self._lock:
            held = sum(d.nbytes for d in self._held.values())
            if defer and held + draft.nbytes <= self.held_bytes:
                self._held[draft.path] = draft
                event = self._coming.pop(draft.path, None)
            else:
                event = None
        if event is None:
            self.deliver(draft)
        else:
            event.set()

    def deliver(self, draft: Draft) -> None:
        """Render and write the report (atomically); the writer waiting for it goes on.

        A failure (a full state disk, a bug in rendering) is logged, never raised: the
        verdict is out already, and the writer rebuilds the page from the file.
        """
        try:
            write_report(draft.path, draft.render())
        except Exception as exc:
            log.warning("could not write a drift report: %s", exc, extra={"path": str(draft.path)})
        finally:
            self.release(draft.path)

    def deliver_held(self) -> None:
        """Render the pages put off while files waited (a worker with nothing left to do):
        the report is on disk soon after a burst even while MLflow is away."""
        while True:
            with self._lock:
                if not self._held:
                    return
                draft = self._held.pop(next(iter(self._held)))
                self._coming[draft.path] = threading.Event()  # the writer waits for it
            self.deliver(draft)

    def release(self, path: Path) -> None:
        """No report for ``path`` is coming from this process any more."""
        with self._lock:
            event = self._coming.pop(path, None)
        if event is not None:
            event.set()

    def waiting(self) -> int:
        """Reports expected or held, not written yet."""
        with self._lock:
            return len(self._coming) + len(self._held)

    def register(self, model: str, source: ModelSource) -> None:
        with self._lock:
            self._models[model] = source

    # ---- the writer's side ------------------------------------------------------------

    def page(self, payload: dict[str, Any], wait: float = RENDER_WAIT_SECONDS) -> str:
        """The report text of a queued drift write ("" when there is none to be had)."""
        raw = payload.get("html_path")
        if not raw:
            return ""
        path = Path(raw)
        self._settle(path, time.monotonic() + wait)
        text = _read(path)
        if text is None:
            text = self.rebuild(payload)
        if text is None:
            text = _read(path)  # a redo of the file may have written it meanwhile
        if text is None:
            log.warning(
                "drift report lost: the checked file is gone or its reference changed; "
                "its MLflow run is logged without the page",
                extra={"path": str(path)},
            )
            return ""
        return text

    def _settle(self, path: Path, until: float) -> None:
        """Render ``path``'s page if it is held; wait while it is being rendered elsewhere.

        Both are looked at under one lock, so a page moving from held to rendering (a
        worker gone idle) is never missed between the two.
        """
        while True:
            with self._lock:
                draft = self._held.pop(path, None)
                event = self._coming.get(path) if draft is None else None
            if draft is not None:
                self.deliver(draft)
                return
            if event is None or not event.wait(max(0.0, until - time.monotonic())):
                return

    def rebuild(self, payload: dict[str, Any]) -> str | None:
        """The report rendered again from the checked file (after a crash), or None."""
        source = payload.get("report_source")
        model = payload.get("tags", {}).get("driftwarden.model")
        with self._lock:
            holder = self._models.get(str(model))
        if not isinstance(source, dict) or holder is None:
            return None
        reference = holder.reference.get()
        if reference is None:
            return None
        from driftwarden.detectors import DriftResult

        result = DriftResult.from_dict(payload["result"])
        if result.reference_version != reference.prepared.data_version:
            return None
        digest = payload.get("tags", {}).get("driftwarden.file_sha256")
        frame = _checked_frame(source, str(digest), holder.config(), reference)
        if frame is None:
            return None
        text = render_report(result, reference, frame, source)
        write_report(Path(payload["html_path"]), text)
        return text


def render_report(result: Any, reference: Reference, frame: Any, source: dict[str, Any]) -> str:
    """The check's HTML page (the daemon's one rendering call).

    The MLflow run does not exist yet: the page says so, and the outbox writer puts the
    run's link in its place when it logs the page (``tracking.run_links``).
    """
    from driftwarden.detectors.report import render_html
    from driftwarden.tracking.run_links import PENDING_RUN

    return render_html(
        result,
        reference.prepared,  # already sorted: several times faster than the frame
        frame,
        model_name=source["model"],
        model_version=source.get("model_version"),
        source=source["source"],
        reference_source=reference.source,
        checked_at=source["checked_at"],
        run_url=PENDING_RUN,
    )


def write_report(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temp name, then a rename): a crash midway
    leaves no half page for the writer to log. A full state disk raises StateUnavailable."""
    with state_file_writes(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _checked_frame(
    source: dict[str, Any], digest: str, settings: Settings, reference: Reference
) -> Any:
    """The checked file read again, from where it was or where it was moved (same sha256)."""
    from driftwarden.daemon.intake.admission import read_drop
    from driftwarden.daemon.intake.reference import admit
    from driftwarden.data.version import file_digest
    from driftwarden.errors import InputFileError

    file = Path(source["file"])
    for candidate in (file, Path(source["moved_dir"]) / file.name):
        try:
            if file_digest(str(candidate)) != digest:
                continue
            frame = read_drop(candidate, settings.watch, reference)
            return admit(frame, reference, str(candidate))
        except (OSError, InputFileError):
            continue
    return None
