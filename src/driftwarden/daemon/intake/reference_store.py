"""The daemon's prepared references, kept on disk so that a restart does not prepare again.

The store is ``<state.directory>/prepared`` (a local directory whatever the state engine:
with PostgreSQL too, the state directory holds the daemon's local files). One entry per
model: ``file:<model>`` for ``reference.path`` (its identity is the file's path, size and
modification time, so an edited file is prepared again), ``model:<model>:<version>`` for a
production model's training data (its identity is the version's run). A model keeps one
entry: when a new one is in force, the model's other entries are deleted. An entry made
with other ``[drift]`` settings, or a partial or corrupt one, reads as missing and is
prepared again (``PreparedStore.read`` says why in the log); nothing in the store can stop
the daemon.

Entries are checked ``quick`` on load (the manifest's digest, each array's header, dtype
and size) so that a 10M-row reference loads in milliseconds; a full CRC of every array
would read gigabytes before the daemon is ready.
"""

from __future__ import annotations

import time
from pathlib import Path

from driftwarden.config.model import Settings
from driftwarden.daemon.intake.reference import Reference
from driftwarden.data.prepared_store import PreparedStore
from driftwarden.data.reference_cache import file_source, load_or_prepare, reference_fingerprint
from driftwarden.events import Publish
from driftwarden.events.types import ReferenceLoaded

STORE_DIR = "prepared"


def file_key(model: str) -> str:
    return f"file:{model}"


def model_key(model: str, version: str) -> str:
    return f"model:{model}:{version}"


class ReferenceStore:
    """One model's references: loaded from the store, or prepared and stored."""

    def __init__(self, store: PreparedStore, model: str, publish: Publish) -> None:
        self.store = store
        self.model = model
        self._publish = publish

    def file_reference(self, settings: Settings, path: Path) -> Reference:
        """``reference.path`` prepared (InputFileError when it cannot be read)."""
        key = file_key(self.model)
        return self._load(key, file_source(path), path, settings, str(path))

    def model_reference(
        self, settings: Settings, local_file: Path, version: str, run_id: str
    ) -> Reference:
        """The training data downloaded for ``version``, prepared."""
        key = model_key(self.model, version)
        return self._load(key, f"run:{run_id}", local_file, settings, f"model version {version}")

    def prepare_again(self, settings: Settings, current: Reference) -> Reference:
        """``current`` under new ``[drift]`` settings (stored again under its key)."""
        if current.stored is None or current.file is None:  # prepared in memory
            raise ValueError("this reference was not prepared from a file")
        key, source = current.stored
        return self._load(key, source, current.file, settings, current.source)

    def _load(self, key: str, source: str, path: Path, settings: Settings, shown: str) -> Reference:
        fetched: list[Path] = []

        def fetch() -> Path:
            fetched.append(path)
            return path

        started = time.perf_counter()
        cfg, target = settings.drift, settings.model.target
        prepared = load_or_prepare(self.store, key, source, fetch, cfg, target, verify="quick")
        if fetched:  # prepared now: use the stored copy (mapped), let the one in memory go
            fingerprint = reference_fingerprint(cfg, target, source)
            prepared = self.store.load(key, fingerprint, verify="quick") or prepared
        self._forget_others(key)
        self._publish(
            ReferenceLoaded(
                self.model, key, "prepared" if fetched else "stored", prepared.n_rows,
                round(time.perf_counter() - started, 3),
            )
        )  # fmt: skip
        return Reference.from_prepared(prepared, settings, shown, path, (key, source))

    def _forget_others(self, key: str) -> None:
        """The model's entries other than ``key`` (an earlier version, the other source)."""
        keys = self.store.keys()
        for stored in keys:
            if stored != key and (
                stored == file_key(self.model) or stored.startswith(f"model:{self.model}:")
            ):
                self.store.remove(stored)
