"""The daemon's prepared references on disk: a restart maps them, a bad entry is prepared again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from driftwarden.config import load_settings
from driftwarden.daemon.intake.reference_store import ReferenceStore, file_key, model_key
from driftwarden.data.prepared_store import MANIFEST, PreparedStore
from driftwarden.detectors.prepared import NumericColumn
from driftwarden.events import Recorder
from driftwarden.events import types as ev
from tests.support.daemon_proc import daemon_config, sample_frame
from tests.support.inprocess import InProcessDaemon

Start = Callable[..., InProcessDaemon]
KEY = file_key("test-model")


def _loaded(daemon: InProcessDaemon) -> ev.ReferenceLoaded:
    [loaded] = daemon.events.of(ev.ReferenceLoaded)
    return loaded


def _restart(first: InProcessDaemon, start_daemon: Start) -> InProcessDaemon:
    first.stop()
    return start_daemon(first.config, loop=False)


def _entry(root: Path) -> Path:
    return PreparedStore(root / "state" / "prepared").path(KEY)


def test_a_restart_is_ready_with_the_stored_preparation(
    tmp_path: Path, start_daemon: Start
) -> None:
    first = start_daemon(daemon_config(tmp_path), loop=False)
    made = _loaded(first)
    assert (made.key, made.how, made.rows) == (KEY, "prepared", 400)
    manifest = _entry(tmp_path) / MANIFEST
    written = manifest.stat().st_mtime_ns
    prepared = first.parts.keeper.reference.get().prepared

    again = _restart(first, start_daemon)
    assert again.get("/readyz")[0] == 200
    assert (_loaded(again).key, _loaded(again).how) == (KEY, "stored")
    assert manifest.stat().st_mtime_ns == written  # read, not written again
    stored = again.parts.keeper.reference.get().prepared
    assert stored.tested == prepared.tested and stored.data_version == prepared.data_version
    for name in prepared.tested:
        before, after = prepared.column(name), stored.column(name)
        if isinstance(before, NumericColumn):
            assert isinstance(after, NumericColumn)
            np.testing.assert_array_equal(before.sorted, after.sorted)


def test_a_changed_reference_file_is_prepared_again(tmp_path: Path, start_daemon: Start) -> None:
    first = start_daemon(daemon_config(tmp_path), loop=False)
    version = first.parts.keeper.reference.get().version
    sample_frame(300, seed=9).to_csv(tmp_path / "reference.csv", index=False)
    again = _restart(first, start_daemon)
    assert (_loaded(again).how, _loaded(again).rows) == ("prepared", 300)
    assert again.parts.keeper.reference.get().version != version


def _truncate_an_array(entry: Path) -> None:
    array = next(entry.glob("*.npy"))
    with open(array, "r+b") as handle:
        handle.truncate(array.stat().st_size - 8)


def _garble_the_manifest(entry: Path) -> None:
    manifest = entry / MANIFEST
    manifest.write_text(manifest.read_text().replace('"n_rows": 400', '"n_rows": 401'))


def _cut_the_manifest(entry: Path) -> None:
    manifest = entry / MANIFEST
    manifest.write_bytes(manifest.read_bytes()[:100])


def _drop_an_array(entry: Path) -> None:
    next(entry.glob("*.npy")).unlink()


def test_a_damaged_store_entry_is_prepared_again_never_a_crash(
    tmp_path: Path, start_daemon: Start
) -> None:
    daemon = start_daemon(daemon_config(tmp_path), loop=False)
    good = daemon.parts.keeper.reference.get().prepared
    for damage in (_truncate_an_array, _garble_the_manifest, _cut_the_manifest, _drop_an_array):
        damage(_entry(tmp_path))
        daemon = _restart(daemon, start_daemon)
        assert _loaded(daemon).how == "prepared", damage.__name__
        assert daemon.get("/readyz")[0] == 200, damage.__name__
        rebuilt = daemon.parts.keeper.reference.get().prepared
        assert rebuilt.data_version == good.data_version and rebuilt.n_rows == 400
    # The rebuilt entry is whole: the next start uses it.
    daemon = _restart(daemon, start_daemon)
    assert _loaded(daemon).how == "stored"


def test_a_new_model_version_is_prepared_and_the_old_one_deleted(tmp_path: Path) -> None:
    settings = load_settings(daemon_config(tmp_path, reference={"source": "model"}), env={})
    recorder = Recorder()
    store = PreparedStore(tmp_path / "prepared")
    references = ReferenceStore(store, "test-model", recorder)
    other = ReferenceStore(store, "other-model", recorder)
    train = tmp_path / "train.csv"
    sample_frame(300, seed=2).to_csv(train, index=False)
    other.model_reference(settings, train, "4", "run-o4")
    v1 = references.model_reference(settings, train, "1", "run-1")
    assert references.model_reference(settings, train, "1", "run-1").version == v1.version
    sample_frame(350, seed=3).to_csv(train, index=False)
    v2 = references.model_reference(settings, train, "2", "run-2")
    assert v2.n_rows == 350 and v2.version != v1.version
    assert [(e.key, e.how) for e in recorder.of(ev.ReferenceLoaded)] == [
        (model_key("other-model", "4"), "prepared"),
        (model_key("test-model", "1"), "prepared"),
        (model_key("test-model", "1"), "stored"),
        (model_key("test-model", "2"), "prepared"),
    ]
    # Version 1 is gone, the other model's entry is its own.
    assert sorted(store.keys()) == [model_key("other-model", "4"), model_key("test-model", "2")]


def test_an_unwritable_store_still_gives_the_reference(tmp_path: Path) -> None:
    """A store that cannot be written: prepared in memory, the daemon goes on. (A file
    where the directory should be stands in for a full disk: the tests run as root.)"""
    settings = load_settings(daemon_config(tmp_path), env={})
    recorder = Recorder()
    blocked = tmp_path / "prepared"
    blocked.write_text("not a directory")
    references = ReferenceStore(PreparedStore(blocked), "test-model", recorder)
    reference = references.file_reference(settings, tmp_path / "reference.csv")
    assert reference.n_rows == 400 and blocked.read_text() == "not a directory"
    assert [e.how for e in recorder.of(ev.ReferenceLoaded)] == ["prepared"]
