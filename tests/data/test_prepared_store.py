"""The prepared store: round trips bit for bit, rebuilds what is stale or corrupt, never raises."""

from __future__ import annotations

import dataclasses
import json
import mmap
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from driftwarden.config.model import DriftConfig
from driftwarden.data import prepared_store
from driftwarden.data.prepared_store import MANIFEST, PreparedStore
from driftwarden.detectors import PreparedReference, check_drift
from driftwarden.detectors.prepared import NumericColumn
from tests.data.frames import mixed_frame
from tests.data.test_prepare_stream import assert_same_reference

FINGERPRINT = {"source": "run:abc", "settings": [1, 2]}


@pytest.fixture
def reference() -> PreparedReference:
    cfg = DriftConfig(mmd={"enabled": True, "max_samples": 50})
    return PreparedReference.from_frame(mixed_frame(70_000), cfg, "label", "v1")


@pytest.fixture
def store(tmp_path: Path) -> PreparedStore:
    return PreparedStore(tmp_path / "prepared")


def _files(store: PreparedStore, key: str) -> list[Path]:
    return sorted(p for p in store.path(key).iterdir() if p.suffix == ".npy")


def test_round_trip_is_identical_and_big_arrays_are_memory_mapped(
    store: PreparedStore, reference: PreparedReference, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepared_store, "MMAP_MIN_BYTES", 1 << 16)  # 70,000 rows: 560 kB
    store.save("model:m:1", reference, FINGERPRINT)
    for verify in ("full", "quick"):
        loaded = store.load("model:m:1", FINGERPRINT, verify=verify)  # type: ignore[arg-type]
        assert loaded is not None
        assert_same_reference(loaded, reference)
        column = loaded.column("x")
        assert isinstance(column, NumericColumn)
        assert isinstance(column.sorted.base, mmap.mmap)  # read from the page cache on use
        assert type(column.sorted) is np.ndarray and not column.sorted.flags.writeable
        assert not isinstance(column.edges.base, mmap.mmap)  # small: read into memory
        names = [n for n in reference.tested if reference.profiles[n].numeric]
        assert np.array_equal(loaded.mmd_sample(names), reference.mmd_sample(names), equal_nan=True)
        current = mixed_frame(5000, seed=2)
        cfg = DriftConfig()
        assert (
            check_drift(loaded, current, cfg).to_dict()
            == check_drift(reference, current, cfg).to_dict()
        )
    assert store.keys() == ["model:m:1"]


def test_a_field_added_to_a_column_dataclass_is_stored_without_changing_the_store(
    store: PreparedStore, reference: PreparedReference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another engineer adds fields to NumericColumn; the store persists them as they are."""

    @dataclasses.dataclass
    class Extended(NumericColumn):
        weights: np.ndarray | None = None
        label: str = ""
        knots: dict[str, float] = dataclasses.field(default_factory=dict)

    store.save("before", reference, FINGERPRINT)
    monkeypatch.setitem(prepared_store._KINDS, "numeric", Extended)
    assert store.read("before", FINGERPRINT).problem == (
        "stale: prepared columns have other fields in this version"
    )
    base = reference.column("x")
    assert isinstance(base, NumericColumn)
    extended = Extended(
        **{f.name: getattr(base, f.name) for f in dataclasses.fields(NumericColumn)},
        weights=np.arange(5.0),
        label="w",
        knots={"a": 0.5},
    )
    columns = {n: reference.column(n) for n in reference.tested} | {"x": extended}
    with store.writer("after", FINGERPRINT) as writer:
        for name in reference.tested:
            column = columns[name]
            if isinstance(column, NumericColumn) and not isinstance(column, Extended):
                column = Extended(**dataclasses.asdict(column))
            writer.add(column)
        writer.commit(reference)
    loaded = store.load("after", FINGERPRINT)
    assert loaded is not None
    x = loaded.column("x")
    assert isinstance(x, Extended) and x.label == "w" and x.knots == {"a": 0.5}
    assert x.weights is not None and np.array_equal(x.weights, np.arange(5.0))


def test_missing_and_stale_stores_read_as_not_there(
    store: PreparedStore, reference: PreparedReference
) -> None:
    assert store.read("model:m:1", FINGERPRINT).problem == "missing"
    store.save("model:m:1", reference, FINGERPRINT)
    other = {**FINGERPRINT, "source": "run:other"}
    assert store.read("model:m:1", other).problem == (
        "stale: prepared with other settings or another source"
    )
    manifest_path = store.path("model:m:1") / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = 0
    manifest_path.write_text(json.dumps(manifest))
    assert (store.read("model:m:1", FINGERPRINT).problem or "").startswith("stale: format 0")


def _corrupt_manifest_value(store: PreparedStore, key: str) -> None:
    path = store.path(key) / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["body"]["reference"]["n_rows"] += 1
    path.write_text(json.dumps(manifest))


def _truncate_biggest_array(store: PreparedStore, key: str) -> None:
    biggest = max(_files(store, key), key=lambda p: p.stat().st_size)
    os.truncate(biggest, biggest.stat().st_size // 2)


def _flip_a_byte(store: PreparedStore, key: str) -> None:
    biggest = max(_files(store, key), key=lambda p: p.stat().st_size)
    data = bytearray(biggest.read_bytes())
    data[-5] ^= 0x40
    biggest.write_bytes(bytes(data))


def _delete_an_array(store: PreparedStore, key: str) -> None:
    _files(store, key)[0].unlink()


def _garbage_manifest(store: PreparedStore, key: str) -> None:
    (store.path(key) / MANIFEST).write_text("{not json")


def _wrong_header(store: PreparedStore, key: str) -> None:
    path = _files(store, key)[0]
    np.save(path, np.zeros(3, dtype=np.int32))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_corrupt_manifest_value, "corrupt: the manifest does not match its digest"),
        (_truncate_biggest_array, "corrupt: "),
        (_flip_a_byte, "does not match its CRC-32"),
        (_delete_an_array, "corrupt: FileNotFoundError"),
        (_garbage_manifest, "corrupt: JSONDecodeError"),
        (_wrong_header, "expected <"),
    ],
)
@pytest.mark.parametrize("mmap_min", [1 << 12, prepared_store.MMAP_MIN_BYTES])
def test_corrupt_stores_are_reported_not_trusted_and_never_raise(
    store: PreparedStore,
    reference: PreparedReference,
    damage: object,
    expected: str,
    mmap_min: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prepared_store, "MMAP_MIN_BYTES", mmap_min)  # mapped or read arrays
    store.save("k", reference, FINGERPRINT)
    damage(store, "k")  # type: ignore[operator]
    read = store.read("k", FINGERPRINT, verify="full")
    assert read.reference is None
    assert read.problem is not None and expected in read.problem


def test_quick_verification_skips_only_the_content_check(
    store: PreparedStore, reference: PreparedReference
) -> None:
    store.save("k", reference, FINGERPRINT)
    _flip_a_byte(store, "k")
    assert store.read("k", FINGERPRINT, verify="quick").reference is not None
    _truncate_biggest_array(store, "k")
    assert store.read("k", FINGERPRINT, verify="quick").reference is None


def test_saving_again_replaces_the_old_store_atomically(
    store: PreparedStore, reference: PreparedReference
) -> None:
    store.save("k", reference, FINGERPRINT)
    first = store.load("k", FINGERPRINT)
    assert first is not None
    store.save("k", reference, {**FINGERPRINT, "source": "run:new"})
    assert store.load("k", {**FINGERPRINT, "source": "run:new"}) is not None
    assert [p.name for p in store.directory.iterdir()] == [store.path("k").name]
    # The first load's maps still read the replaced (now deleted) files.
    assert np.array_equal(first.column("x").sorted, reference.column("x").sorted)  # type: ignore[union-attr]


def test_an_aborted_write_leaves_nothing_and_the_old_store_stands(
    store: PreparedStore, reference: PreparedReference
) -> None:
    store.save("k", reference, FINGERPRINT)
    with pytest.raises(RuntimeError), store.writer("k", {"source": "new"}) as writer:
        writer.add(reference.column("x"))
        raise RuntimeError("preparation failed half way")
    assert [p.name for p in store.directory.iterdir()] == [store.path("k").name]
    assert store.load("k", FINGERPRINT) is not None


def test_leftovers_of_a_dead_writer_are_removed(
    store: PreparedStore, reference: PreparedReference
) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    store.directory.mkdir(parents=True)
    leftover = store.directory / f".tmp-{store.path('k').name}-{pid}-deadbeef"
    leftover.mkdir()
    (leftover / "c00000.sorted.npy").write_bytes(b"half")
    mine = store.directory / f".tmp-{store.path('j').name}-{os.getpid()}-live0001"
    mine.mkdir()
    store.save("k", reference, FINGERPRINT)
    assert not leftover.exists()
    assert mine.exists()  # this process may still be writing it


def test_remove_and_prune(store: PreparedStore, reference: PreparedReference) -> None:
    for key in ("model:m:1", "model:m:2", "model:m:3"):
        store.save(key, reference, FINGERPRINT)
    assert sorted(store.prune(keep={"model:m:3"})) == ["model:m:1", "model:m:2"]
    assert store.keys() == ["model:m:3"]
    store.remove("model:m:3")
    assert store.keys() == []


def test_keys_with_odd_characters_get_distinct_safe_directories(store: PreparedStore) -> None:
    a, b = store.path("model:a/b:1"), store.path("model:a_b:1")
    assert a != b and a.parent == b.parent == store.directory
    assert "/" not in a.name and not store.path("../../etc").name.startswith(".")
