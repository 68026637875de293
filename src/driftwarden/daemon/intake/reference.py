"""The reference that drops are compared against, and the admission check of a drop against it.

The reference is either ``reference.path`` or the training data logged with the production
model's run (downloaded through ``tracking.models.download_training_data`` when the registry
watcher sees a new version). It is prepared once (``PreparedReference``) and reused; a switch
replaces the whole ``Reference`` object at once, so a job sees the old one or the new one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from driftwarden.config.model import Settings
from driftwarden.data.read import data_file_problem, read_frame
from driftwarden.data.values import refuse_empty, refuse_infinite
from driftwarden.data.version import data_version
from driftwarden.errors import ConfigError, InputFileError
from driftwarden.events import Publish
from driftwarden.events.types import ReferenceInForce

if TYPE_CHECKING:
    from driftwarden.daemon.intake.reference_store import ReferenceStore
    from driftwarden.detectors import PreparedReference


@dataclass(frozen=True)
class Reference:
    """A prepared reference and where it came from (the frame itself is not kept: a
    stored preparation is memory-mapped, whatever the reference's size)."""

    prepared: PreparedReference
    version: str
    source: str
    numeric: frozenset[str]
    tested: tuple[str, ...]
    target: str | None = None  # model.target: its column is labels, not a feature
    file: Path | None = None  # the local file prepared (prepared again on a [drift] change)
    stored: tuple[str, str] | None = None  # (key, source) in the prepared store

    @property
    def columns(self) -> list[str]:
        """Every column of the reference file, tested or not."""
        return self.prepared.columns

    @property
    def n_rows(self) -> int:
        return self.prepared.n_rows

    @property
    def empty(self) -> frozenset[str]:
        """Tested columns without a single value in the reference."""
        profiles = self.prepared.profiles
        return frozenset(n for n in self.tested if profiles[n].null_rate >= 1.0)

    @classmethod
    def from_prepared(
        cls,
        prepared: PreparedReference,
        settings: Settings,
        source: str,
        file: Path | None = None,
        stored: tuple[str, str] | None = None,
    ) -> Reference:
        # The detector's own choice of tested columns and kinds, so admission agrees with it.
        tested = list(prepared.tested)
        numeric = frozenset(name for name in tested if prepared.profiles[name].numeric)
        version = prepared.data_version
        assert version is not None, "every reference is prepared with its data version"
        target = settings.model.target
        return cls(prepared, version, source, numeric, tuple(tested), target, file, stored)

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, settings: Settings, source: str, file: Path | None = None
    ) -> Reference:
        """Prepared in memory (and not stored): for a frame already read."""
        from driftwarden.detectors import PreparedReference

        version = data_version(frame)
        target = settings.model.target if settings.model.target in frame.columns else None
        prepared = PreparedReference.from_frame(
            frame, settings.drift, target=target, data_version=version
        )
        return cls.from_prepared(prepared, settings, source, file)


def load_file_reference(settings: Settings, store: ReferenceStore | None = None) -> Reference:
    """Read ``reference.path``; a bad file is a ConfigError naming the key and the problem.

    The path must lead to a regular file named as a data file: quarantine reasons quote the
    reference's column names, so a link to ``/etc/shadow`` must never be read as one. With
    a ``store``, a preparation stored by an earlier start is used (and a new one stored).
    """
    path = settings.reference.path
    assert path is not None, "validated by ReferenceConfig"
    problem = data_file_problem(path)
    if problem is not None:
        raise ConfigError(f"reference.path: {path}: {problem}")
    if store is not None:
        try:
            return store.file_reference(settings, path)
        except InputFileError as exc:
            raise ConfigError(f"reference.path: {exc}") from None
    try:
        frame = read_frame(path, max_unpacked_bytes=settings.watch.max_unpacked_bytes)
    except InputFileError as exc:
        raise ConfigError(f"reference.path: {exc}") from None
    return Reference.from_frame(frame, settings, source=str(path))


def load_model_reference(settings: Settings, local_file: Path, model_version: str) -> Reference:
    """Prepare the training data downloaded for ``model_version`` (in memory, not stored)."""
    frame = read_frame(local_file)
    return Reference.from_frame(frame, settings, f"model version {model_version}", local_file)


def admit(frame: pd.DataFrame, reference: Reference, path: str) -> pd.DataFrame:
    """Check a drop against the reference before any check runs or anything is queued.

    The column rule is ``driftwarden check``'s (``admit_frame``: every tested column
    present, numbers where the reference has numbers), with a reason that says which header
    was found. Then the values the model could not take: ±inf anywhere, a reference
    column with no value at all, a label column without a single label.
    """
    from driftwarden.daemon.intake.admission import header_problem
    from driftwarden.detectors.schema import admit_frame

    problem = header_problem([str(c) for c in frame.columns], reference.tested)
    if problem is not None:
        reason, field = problem
        raise InputFileError(path, reason, field=field)
    frame = admit_frame(frame, reference.tested, reference.numeric, path)
    target = reference.target
    if target is not None and target in frame.columns and bool(frame[target].isna().all()):
        raise InputFileError(
            path,
            "the label column has no label in any row; leave the column out of a drop "
            "without labels",
            field=target,
        )
    refuse_empty(frame, _expected_filled(frame, reference), path)
    refuse_infinite(frame, path)
    return frame


def _expected_filled(frame: pd.DataFrame, reference: Reference) -> list[str]:
    """Tested columns in ``frame`` other than the label, unless empty in the reference too."""
    return [
        c
        for c in reference.tested
        if c != reference.target
        and c in frame.columns
        and not (c in reference.empty and frame[c].isna().all())
    ]


class ReferenceHolder:
    """One model's current reference, swapped whole; None until the first one is loaded.

    ``store`` keeps the model's prepared references on disk (None: prepared in memory).
    """

    def __init__(self, model: str, publish: Publish, store: ReferenceStore | None = None) -> None:
        self.model = model
        self.store = store
        self._publish = publish
        self._lock = threading.Lock()
        self._current: Reference | None = None

    def get(self) -> Reference | None:
        with self._lock:
            return self._current

    def set(self, reference: Reference) -> None:
        with self._lock:
            old, self._current = self._current, reference
        if old is None or old.version != reference.version:
            self._publish(
                ReferenceInForce(self.model, reference.source, reference.version, reference.n_rows)
            )
