"""One dropped file, exactly once: refuse, claim, check, then commit (record, publish, move).

The ledger claim comes first (``FileClaim`` says what to do with the file); the checks'
outcomes then go through ``Commit``, which owns the crash-safe order, with keys derived
from the file's content hash. ``FileMoves`` moves files out of the drop directory and
notes where they went.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.admission import check_csv_complete, read_drop
from driftwarden.daemon.intake.files import DropDir, NameFilter
from driftwarden.daemon.intake.quarantine import move_into, quarantine, write_reason
from driftwarden.daemon.intake.reference import ReferenceHolder, admit
from driftwarden.daemon.jobs.checks import Checker
from driftwarden.daemon.jobs.commit import Commit, Outcome
from driftwarden.daemon.jobs.estimation import Estimator
from driftwarden.data.version import data_version, file_digest
from driftwarden.errors import InputFileError
from driftwarden.events import Publish
from driftwarden.events.types import (
    FileChecked,
    FileDuplicate,
    FileMoveFinished,
    FileQuarantined,
    FileRedo,
    FilesWaitForReference,
)
from driftwarden.observability.metrics import Metrics
from driftwarden.state import FileClaim, Ledger

# A file whose check crashed (not a bad file: a bug or an outside failure) this often is
# quarantined instead of being retried forever.
MAX_ATTEMPTS = 3


class FileMoves:
    """Moves handled files out of the drop directory and notes where they went.

    ``names`` and ``config`` are read per file: a reload may change the watch.
    """

    def __init__(
        self,
        model: str,
        ledger: Ledger,
        names: Callable[[], NameFilter],
        config: Callable[[], Settings],
        metrics: Metrics,
        publish: Publish,
    ) -> None:
        self.model = model
        self.ledger = ledger
        self.names = names
        self.config = config
        self.metrics = metrics
        self._publish = publish

    def _marker(self, path: Path) -> Path | None:
        names = self.names()
        return names.marker_for(path) if names.markers else None

    def processed(self, file_id: int, path: Path, drop: DropDir) -> None:
        if self.config().watch.on_success == "keep":
            self.ledger.mark_moved(file_id, str(path))
            return
        dest = move_into(path, drop.processed, extra=self._marker(path))
        self.ledger.mark_moved(file_id, str(dest))

    def quarantine(
        self,
        file_id: int,
        path: Path,
        drop: DropDir,
        reason: str,
        outcome: str = "quarantined",
        count: bool = True,
    ) -> None:
        if os.path.lexists(path):
            dest = quarantine(path, drop.quarantine, reason, extra=self._marker(path))
        else:  # vanished meanwhile; keep the record honest
            drop.quarantine.mkdir(parents=True, exist_ok=True)
            dest = drop.quarantine / path.name
            write_reason(dest, path, reason)
        self.ledger.mark_moved(file_id, str(dest))
        if count:
            self.metrics.observe_file(outcome)
        self._publish(FileQuarantined(str(path), str(dest), reason, outcome, self.model))

    def duplicate(self, claim: FileClaim, path: Path, drop: DropDir) -> None:
        """Same content as a file checked before: counted, moved along, not checked again."""
        assert claim.duplicate_of is not None
        self._publish(FileDuplicate(str(path), claim.duplicate_of, self.model))
        self.metrics.observe_file("duplicate")
        self.processed(claim.file_id, path, drop)

    def finish(self, claim: FileClaim, path: Path, drop: DropDir) -> None:
        """A file recorded before a restart but not moved: only the move is left to do."""
        self._publish(FileMoveFinished(str(path), self.model))
        if claim.status == "quarantined":
            self.quarantine(claim.file_id, path, drop, claim.reason or "quarantined", count=False)
        else:
            self.processed(claim.file_id, path, drop)


class FileProcessor:
    """Handles one model's file jobs (called on its worker thread only)."""

    def __init__(
        self,
        model: str,
        ledger: Ledger,
        reference: ReferenceHolder,
        checker: Checker,
        commit: Commit,
        moves: FileMoves,
        publish: Publish,
        estimator: Estimator | None = None,
    ) -> None:
        self.model = model
        self.ledger = ledger
        self.reference = reference
        self.checker = checker
        self.estimator = estimator
        self.commit = commit
        self.moves = moves
        self._publish = publish
        self._waiting_reported = False

    def handle(self, path: Path) -> None:
        drop = self.moves.names().root_of(path)
        if drop is None or not os.path.lexists(path):
            return  # moved already, or no longer watched after a reload
        refusal = self._refusal(path, drop)
        if refusal is not None:
            self._refuse(path, drop, refusal)
            return
        st = path.stat()
        if self.ledger.is_kept_unchanged(str(path), st.st_size, st.st_mtime):
            return
        if self.reference.get() is None:
            if not self._waiting_reported:
                self._publish(FilesWaitForReference(self.model, str(path)))
                self._waiting_reported = True
            return
        self._waiting_reported = False
        try:
            digest = file_digest(str(path))
        except FileNotFoundError:
            return  # moved away meanwhile
        except OSError as exc:  # unreadable: retrying cannot help, quarantine needs no read
            self._refuse(path, drop, f"cannot read: {exc.strerror or exc}")
            return
        claim = self.ledger.begin_file(
            str(path), str(drop.root), digest, st.st_size, st.st_mtime, model=self.model
        )
        self._claimed(claim, path, drop, digest)

    def _claimed(self, claim: FileClaim, path: Path, drop: DropDir, digest: str) -> None:
        """What the claim says to do with the file."""
        if claim.kind == "ignore":
            return
        if claim.kind == "finish_move":
            self.moves.finish(claim, path, drop)
            return
        if claim.kind == "duplicate":
            self.moves.duplicate(claim, path, drop)
            return
        if claim.kind == "redo":
            row = self.ledger.get_file(claim.file_id)
            attempts = int(row["attempts"]) if row else 1
            self._publish(FileRedo(str(path), attempts, self.model))
            if attempts > MAX_ATTEMPTS:
                reason = f"checking failed {attempts - 1} times; see the daemon log"
                self.ledger.finish_file(claim.file_id, "quarantined", reason=reason)
                self.moves.quarantine(claim.file_id, path, drop, reason)
                return
        self._check(claim.file_id, path, drop, digest)

    def _refuse(self, path: Path, drop: DropDir, reason: str) -> None:
        """Quarantine an entry that is not read at all, with its own ledger row."""
        claim = self.ledger.begin_file(
            str(path), str(drop.root), f"refused:{path}", 0, 0.0, model=self.model
        )
        if claim.kind in ("new", "redo"):
            self.ledger.finish_file(claim.file_id, "quarantined", reason=reason)
        self.moves.quarantine(claim.file_id, path, drop, reason, outcome="refused")

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
        settings = self.checker.config()
        tags = {"driftwarden.file": path.name, "driftwarden.file_sha256": digest}
        try:
            check_csv_complete(path)
            reference = self.reference.get()
            assert reference is not None, "checked before the claim"
            frame = read_drop(path, settings.watch, reference)
            frame = admit(frame, reference, str(path))
            labelled = settings.model.target in frame.columns
            drift = self.checker.drift(
                frame,
                scope="file",
                key=f"drift:file:{digest}",
                tags=tags,
                current_version=data_version(frame),
                source_file=(path, drop.processed),
            )
            validation = None
            if labelled:
                validation = self.checker.validation(
                    frame,
                    scope="file",
                    key=f"validation:file:{digest}",
                    tags=tags,
                    source=str(path),
                )
            estimation = None
            if self.estimator is not None:
                estimation = self.estimator.estimate(
                    frame, key=f"estimation:file:{digest}", tags=tags, source=str(path)
                )
        except InputFileError as exc:
            reason = str(exc)
            self.ledger.finish_file(file_id, "quarantined", reason=reason)
            self.moves.quarantine(file_id, path, drop, reason)
            return
        assert drift is not None, "reference checked before the claim"
        outcomes: list[Outcome] = [drift]
        outcomes += [o for o in (estimation, validation) if o is not None]
        checked = FileChecked(
            self.model,
            str(path),
            bool(drift.result.dataset_drift),
            tuple(drift.result.drifted_features),
            {k: float(v) for k, v in validation.result.metrics.items()} if validation else None,
        )
        self.commit.file(
            file_id,
            outcomes,
            has_target=labelled,
            checked=checked,
            move=lambda: self.moves.processed(file_id, path, drop),
        )
