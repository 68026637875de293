"""One dropped file, exactly once: refuse, claim, check, record, move.

Order matters for crash safety. The ledger claim comes first; checks queue their MLflow
writes under keys derived from the file's content hash (idempotent); the outcome and the
checks are recorded in one transaction; only then is the file moved and the move noted.
A crash before the record redoes the check (the outbox ignores the repeated key); a crash
after it only finishes the move.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from driftwarden.daemon.intake.admission import check_csv_complete
from driftwarden.daemon.intake.files import DropDir, NameFilter
from driftwarden.daemon.intake.quarantine import move_into, quarantine, write_reason
from driftwarden.daemon.intake.reference import admit
from driftwarden.daemon.jobs.checks import (
    publish_drift,
    publish_validation,
    run_drift,
    run_validation,
)
from driftwarden.daemon.jobs.context import DaemonContext
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version, file_digest
from driftwarden.errors import InputFileError
from driftwarden.state.sqlite.ledger import CheckRecord, FileClaim

log = logging.getLogger(__name__)

# A file whose check crashed (not a bad file: a bug or an outside failure) this often is
# quarantined instead of being retried forever.
MAX_ATTEMPTS = 3


class FileProcessor:
    """Handles file jobs for one daemon (called on the worker thread only)."""

    def __init__(self, ctx: DaemonContext, names: NameFilter) -> None:
        self.ctx = ctx
        self.names = names
        self._waiting_logged = False

    def handle(self, path: Path) -> None:
        ctx = self.ctx
        drop = self.names.root_of(path)
        if drop is None or not os.path.lexists(path):
            return  # moved already, or no longer watched after a reload
        extra = {"file": str(path)}
        refusal = self._refusal(path, drop)
        if refusal is not None:
            self._refuse(path, drop, refusal)
            return
        st = path.stat()
        if ctx.ledger.is_kept_unchanged(str(path), st.st_size, st.st_mtime):
            return
        if ctx.reference.get() is None:
            if not self._waiting_logged:
                log.info("no reference yet (no production model?): files wait", extra=extra)
                self._waiting_logged = True
            return
        self._waiting_logged = False
        try:
            digest = file_digest(str(path))
        except FileNotFoundError:
            return  # moved away meanwhile
        except OSError as exc:  # unreadable: retrying cannot help, quarantine needs no read
            self._refuse(path, drop, f"cannot read: {exc.strerror or exc}")
            return
        claim = ctx.ledger.begin_file(str(path), str(drop.root), digest, st.st_size, st.st_mtime)
        if claim.kind == "ignore":
            return
        if claim.kind == "finish_move":
            self._finish_move(claim, path, drop)
            return
        if claim.kind == "duplicate":
            log.info("duplicate of file #%s: not checked again", claim.duplicate_of, extra=extra)
            ctx.metrics.observe_file("duplicate")
            self._move_processed(claim.file_id, path, drop)
            return
        if claim.kind == "redo":
            row = ctx.ledger.get_file(claim.file_id)
            attempts = int(row["attempts"]) if row else 1
            log.info("redoing a file left half-processed", extra={**extra, "attempt": attempts})
            if attempts > MAX_ATTEMPTS:
                reason = f"checking failed {attempts - 1} times; see the daemon log"
                ctx.ledger.finish_file(claim.file_id, "quarantined", reason=reason)
                self._quarantine(claim.file_id, path, drop, reason)
                return
        self._check(claim.file_id, path, drop, digest)

    def _refuse(self, path: Path, drop: DropDir, reason: str) -> None:
        """Quarantine an entry that is not read at all, with its own ledger row."""
        ctx = self.ctx
        claim = ctx.ledger.begin_file(str(path), str(drop.root), f"refused:{path}", 0, 0.0)
        if claim.kind in ("new", "redo"):
            ctx.ledger.finish_file(claim.file_id, "quarantined", reason=reason)
        self._quarantine(claim.file_id, path, drop, reason, outcome="refused")

    def _refusal(self, path: Path, drop: DropDir) -> str | None:
        """Why this entry is not read at all (a symlink leaving the directory, not a file, unreadable)."""
        try:
            lst = os.lstat(path)
        except OSError as exc:
            return f"cannot stat: {exc.strerror}"
        if stat.S_ISLNK(lst.st_mode):
            target = Path(os.path.realpath(path))
            root = Path(os.path.realpath(drop.root))
            if root != target and root not in target.parents:
                return f"symlink to {target} leaves the watched directory {drop.root}; refused"
        try:
            st = path.stat()
        except OSError as exc:
            return f"broken symlink or unreadable entry: {exc.strerror}"
        if stat.S_ISDIR(st.st_mode):
            return "is a directory, expected a data file"
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file (fifo, socket or device); expected a data file"
        try:
            with open(path, "rb"):
                pass
        except FileNotFoundError:
            return None  # moved away meanwhile; the caller finds it gone
        except OSError as exc:
            return f"cannot read: {exc.strerror or exc}"
        return None

    def _check(self, file_id: int, path: Path, drop: DropDir, digest: str) -> None:
        ctx = self.ctx
        settings = ctx.settings
        reference = ctx.reference.get()
        assert reference is not None
        extra = {"file": str(path)}
        tags = {"driftwarden.file": path.name, "driftwarden.file_sha256": digest}
        try:
            check_csv_complete(path)
            frame = read_frame(path, max_bytes=settings.watch.max_file_bytes)
            frame = admit(frame, reference, str(path))
            labelled = settings.model.target in frame.columns
            drift = run_drift(
                ctx,
                frame,
                scope="file",
                key=f"drift:file:{digest}",
                tags=tags,
                current_version=data_version(frame),
            )
            validation = None
            if labelled:
                validation = run_validation(
                    ctx,
                    frame,
                    scope="file",
                    key=f"validation:file:{digest}",
                    tags=tags,
                    source=str(path),
                )
        except InputFileError as exc:
            reason = str(exc)
            ctx.ledger.finish_file(file_id, "quarantined", reason=reason)
            self._quarantine(file_id, path, drop, reason)
            return
        assert drift is not None, "reference checked before the claim"
        records: list[CheckRecord] = [drift.record]
        if validation is not None:
            records.append(validation.record)
        result = {
            **drift.record.summary,
            **({"validation": validation.record.summary["metrics"]} if validation else {}),
        }
        ctx.ledger.finish_file(file_id, "done", result=result, has_target=labelled, checks=records)
        log.info(
            "file checked: %s",
            "dataset drift" if drift.result.dataset_drift else "no drift",
            extra={
                **extra,
                "drifted_features": ",".join(drift.result.drifted_features) or "-",
                **(
                    {
                        "validation": ",".join(
                            f"{k}={v:.4g}" for k, v in validation.result.metrics.items()
                        )
                    }
                    if validation
                    else {}
                ),
            },
        )
        publish_drift(ctx, drift)
        if validation is not None:
            publish_validation(ctx, validation)
        ctx.metrics.observe_file("processed")
        self._move_processed(file_id, path, drop)

    def _finish_move(self, claim: FileClaim, path: Path, drop: DropDir) -> None:
        log.info("finishing the move of a file handled before a restart", extra={"file": str(path)})
        if claim.status == "quarantined":
            self._quarantine(claim.file_id, path, drop, claim.reason or "quarantined", count=False)
        else:
            self._move_processed(claim.file_id, path, drop)

    def _move_processed(self, file_id: int, path: Path, drop: DropDir) -> None:
        if self.ctx.settings.watch.on_success == "keep":
            self.ctx.ledger.mark_moved(file_id, str(path))
            return
        marker = self.names.marker_for(path) if self.names.markers else None
        dest = move_into(path, drop.processed, extra=marker)
        self.ctx.ledger.mark_moved(file_id, str(dest))

    def _quarantine(
        self,
        file_id: int,
        path: Path,
        drop: DropDir,
        reason: str,
        outcome: str = "quarantined",
        count: bool = True,
    ) -> None:
        marker = self.names.marker_for(path) if self.names.markers else None
        if os.path.lexists(path):
            dest = quarantine(path, drop.quarantine, reason, extra=marker)
        else:  # vanished meanwhile; keep the record honest
            drop.quarantine.mkdir(parents=True, exist_ok=True)
            dest = drop.quarantine / path.name
            write_reason(dest, path, reason)
        self.ctx.ledger.mark_moved(file_id, str(dest))
        if count:
            self.ctx.metrics.observe_file(outcome)
        log.warning("file quarantined: %s", reason, extra={"file": str(path), "to": str(dest)})
