"""Prepared references kept on disk, so a restart is ready without preparing again.

One directory per key (a model version, a reference file) in the store's directory:
each array of each prepared column is an ``.npy`` file, memory-mapped when loaded (a
10M-row reference loads in milliseconds and its sorted values are read from the page
cache only where a test looks), and ``manifest.json`` holds everything else (schema
profile, findings, category counts, scalar fields) with the format version, the
fingerprint of what the preparation depended on and a sha256 digest of its own content.

The store knows nothing about what a prepared column holds: it writes every field of
the column dataclasses, arrays as ``.npy`` and the rest as JSON, so a field added to
``NumericColumn`` is stored without a change here (and a store written before the field
existed is stale, and rebuilt).

Writes are atomic: a temporary directory, every file fsynced, then one rename. Loads are
checked: a missing, stale (other format, fingerprint or fields) or corrupt store (bad
JSON, wrong digest, truncated or altered arrays) reads as "not there", with the reason
logged, so the caller prepares again; a load never raises.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import mmap
import os
import re
import shutil
import threading
import uuid
import weakref
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from driftwarden.detectors.base import SchemaFinding
from driftwarden.detectors.columns_pool import map_columns
from driftwarden.detectors.prepared import (
    CategoricalColumn,
    NumericColumn,
    PreparedColumn,
    PreparedReference,
)
from driftwarden.detectors.schema import ColumnProfile

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MMAP_MIN_BYTES = 1 << 20  # smaller arrays are read into memory (fewer maps, same numbers)
_CRC_CHUNK = 1 << 24
_KINDS: dict[str, type[NumericColumn] | type[CategoricalColumn]] = {
    "numeric": NumericColumn,
    "categorical": CategoricalColumn,
}
Verify = Literal["full", "quick"]
# Every region mapped by this process, while an array uses it (see release_mapped_pages).
_MAPPED: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()


class StoreCorrupt(Exception):
    """A stored prepared reference that cannot be trusted (the message says why)."""


@dataclass(frozen=True)
class StoreRead:
    """The outcome of reading one key: the reference, or why there is none."""

    reference: PreparedReference | None
    problem: str | None  # None when loaded; "missing", "stale: ...", "corrupt: ..."


def kind_fields() -> dict[str, list[str]]:
    """The fields of each prepared column dataclass today (a store with others is stale)."""
    return {kind: [f.name for f in dataclasses.fields(cls)] for kind, cls in _KINDS.items()}


class PreparedStore:
    """The prepared references under one directory (e.g. ``<state>/prepared``)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        """The directory that holds ``key`` (a readable prefix and a hash of the key)."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", key)[:64].lstrip(".") or "_"
        return self.directory / f"{safe}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    def load(
        self, key: str, fingerprint: Mapping[str, Any], verify: Verify = "full"
    ) -> PreparedReference | None:
        """The stored reference for ``key``, or None (missing, stale or corrupt: logged)."""
        return self.read(key, fingerprint, verify).reference

    def read(self, key: str, fingerprint: Mapping[str, Any], verify: Verify = "full") -> StoreRead:
        """Load ``key`` if it is there, made with this ``fingerprint`` and intact.

        Args:
            key: what the reference is for (e.g. ``"model:churn:7"``).
            fingerprint: JSON-able facts the preparation depended on (settings, source);
                a store made with other facts is stale.
            verify: ``"full"`` checks every array's CRC-32 (reads all of it, ~1 GB/s a
                core); ``"quick"`` checks the manifest's digest, each array's header,
                dtype, shape and size, and leaves the arrays unread until used.
        """
        directory = self.path(key)
        if not (directory / MANIFEST).is_file():
            return StoreRead(None, "missing")
        try:
            reference = _load(directory, key, _as_json(fingerprint), verify)
        except StoreCorrupt as exc:
            log.warning(
                "prepared reference not used, preparing again",
                extra={"key": key, "store": str(directory), "reason": str(exc)},
            )
            return StoreRead(None, str(exc))
        return StoreRead(reference, None)

    def save(self, key: str, reference: PreparedReference, fingerprint: Mapping[str, Any]) -> None:
        """Store an in-memory prepared reference under ``key`` (atomically)."""
        with self.writer(key, fingerprint) as writer:
            for name in reference.tested:
                writer.add(reference.column(name))
            writer.commit(reference)

    def writer(self, key: str, fingerprint: Mapping[str, Any]) -> StoreWriter:
        """A writer that takes columns one at a time (for references bigger than memory)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        return StoreWriter(self, key, _as_json(fingerprint))

    def keys(self) -> list[str]:
        """The keys stored (from their manifests; unreadable ones are skipped)."""
        out = []
        for manifest in sorted(self.directory.glob(f"*/{MANIFEST}")):
            try:
                out.append(str(json.loads(manifest.read_text())["body"]["key"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return out

    def remove(self, key: str) -> None:
        """Delete ``key`` (arrays still mapped by this process stay readable until unmapped)."""
        with self._lock:
            shutil.rmtree(self.path(key), ignore_errors=True)

    def prune(self, keep: Collection[str]) -> list[str]:
        """Delete every stored key not in ``keep``; returns the keys deleted."""
        dropped = [key for key in self.keys() if key not in set(keep)]
        for key in dropped:
            self.remove(key)
        return dropped

    def _commit(self, staging: Path, key: str) -> None:
        """Swap the finished staging directory in for ``key`` (two renames, then cleanup)."""
        final = self.path(key)
        with self._lock:
            old = None
            if final.exists():
                old = final.with_name(f".old-{final.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
                os.rename(final, old)
            os.rename(staging, final)
            _fsync_dir(self.directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _remove_leftovers(self) -> None:
        """Staging and replaced directories left by a process that died mid-write."""
        for path in self.directory.glob(".*-*"):
            if not path.name.startswith((".tmp-", ".old-")):
                continue
            try:
                pid = int(path.name.rsplit("-", 2)[-2])
            except ValueError:
                continue
            if pid != os.getpid() and not _alive(pid):
                shutil.rmtree(path, ignore_errors=True)


class StoreWriter:
    """Writes one prepared reference into a staging directory; ``commit`` publishes it.

    Used as a context manager: leaving the block without ``commit`` removes the staging
    directory, so a failed preparation leaves nothing behind.
    """

    def __init__(self, store: PreparedStore, key: str, fingerprint: dict[str, Any]) -> None:
        self._store = store
        self._key = key
        self._fingerprint = fingerprint
        final = store.path(key)
        self._staging = final.with_name(f".tmp-{final.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        self._staging.mkdir()
        self._columns: list[dict[str, Any]] = []
        self._done = False

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.abort()

    def add(self, column: PreparedColumn) -> None:
        """Write one prepared column's arrays now; the caller may drop it afterwards."""
        kind = "numeric" if isinstance(column, NumericColumn) else "categorical"
        values: dict[str, Any] = {}
        arrays: dict[str, dict[str, Any]] = {}
        for field in dataclasses.fields(column):
            value = getattr(column, field.name)
            if isinstance(value, np.ndarray):
                name = f"c{len(self._columns):05d}.{field.name}.npy"
                arrays[field.name] = self._write_array(name, value)
            else:
                values[field.name] = _json_value(value)
        self._columns.append({"kind": kind, "values": values, "arrays": arrays})

    def commit(self, reference: PreparedReference) -> None:
        """Write the manifest (the reference's profile, findings, MMD rows) and publish."""
        mmd = None
        if reference.mmd_rows is not None:
            rows = reference.mmd_rows
            matrix = np.ascontiguousarray(rows.to_numpy(dtype=np.float64, na_value=np.nan))
            mmd = {
                "columns": [str(c) for c in rows.columns],
                "values": self._write_array("mmd.values.npy", matrix),
            }
        body = {
            "key": self._key,
            "fingerprint": self._fingerprint,
            "fields": kind_fields(),
            "reference": {
                "columns": reference.columns,
                "tested": reference.tested,
                "profiles": {n: dataclasses.asdict(p) for n, p in reference.profiles.items()},
                "findings": [_json_value(dataclasses.asdict(f)) for f in reference.findings],
                "n_rows": reference.n_rows,
                "target": reference.target,
                "data_version": reference.data_version,
            },
            "prepared": self._columns,
            "mmd": mmd,
        }
        manifest = {"format": FORMAT_VERSION, "digest": _digest(body), "body": body}
        with open(self._staging / MANIFEST, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(self._staging)
        self._store._commit(self._staging, self._key)
        self._done = True

    def abort(self) -> None:
        """Drop what was written."""
        shutil.rmtree(self._staging, ignore_errors=True)
        self._done = True

    def _write_array(self, name: str, array: np.ndarray) -> dict[str, Any]:
        array = np.ascontiguousarray(array)
        with open(self._staging / name, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
            handle.flush()
            os.fsync(handle.fileno())
        return {
            "file": name,
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "crc32": _crc32(array),
        }


def _load(
    directory: Path, key: str, fingerprint: dict[str, Any], verify: Verify
) -> PreparedReference:
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        body = manifest["body"]
        if manifest.get("format") != FORMAT_VERSION:
            raise StoreCorrupt(f"stale: format {manifest.get('format')}, expected {FORMAT_VERSION}")
        if manifest.get("digest") != _digest(body):
            raise StoreCorrupt("corrupt: the manifest does not match its digest")
        if body["key"] != key:
            raise StoreCorrupt(f"corrupt: the manifest is for key {body['key']!r}")
        if body["fingerprint"] != fingerprint:
            raise StoreCorrupt("stale: prepared with other settings or another source")
        if body["fields"] != kind_fields():
            raise StoreCorrupt("stale: prepared columns have other fields in this version")
        entries = body["prepared"]
        arrays = [
            (i, field, spec) for i, e in enumerate(entries) for field, spec in e["arrays"].items()
        ]
        opened = map_columns(
            lambda item: _open_array(directory, item[2], verify),
            arrays,
            values=sum(int(np.prod(s["shape"])) for _, _, s in arrays) if verify == "full" else 0,
        )
        by_entry: dict[int, dict[str, np.ndarray]] = {}
        for (i, field, _), array in zip(arrays, opened, strict=True):
            by_entry.setdefault(i, {})[field] = array
        prepared: dict[str, PreparedColumn] = {}
        for i, entry in enumerate(entries):
            cls = _KINDS[entry["kind"]]
            fields: dict[str, Any] = {**entry["values"], **by_entry.get(i, {})}
            column = cls(**fields)
            prepared[column.name] = column
        meta = body["reference"]
        mmd_rows = None
        if body["mmd"] is not None:
            values = _open_array(directory, body["mmd"]["values"], verify)
            mmd_rows = pd.DataFrame(np.array(values), columns=body["mmd"]["columns"])
        reference = PreparedReference(
            list(meta["columns"]),
            list(meta["tested"]),
            # In tested order (JSON keys are sorted): schema findings follow this order.
            {n: ColumnProfile(**meta["profiles"][n]) for n in meta["tested"]},
            [SchemaFinding(**f) for f in meta["findings"]],
            int(meta["n_rows"]),
            meta["target"],
            meta["data_version"],
            prepared,
            mmd_rows=mmd_rows,
        )
    except StoreCorrupt:
        raise
    except Exception as exc:  # anything unexpected in a file we wrote means: do not trust it
        raise StoreCorrupt(f"corrupt: {type(exc).__name__}: {exc}") from None
    missing = [n for n in reference.tested if n not in prepared]
    if missing:
        raise StoreCorrupt(f"corrupt: no prepared column for {missing[:5]}")
    return reference


def _open_array(directory: Path, spec: dict[str, Any], verify: Verify) -> np.ndarray:
    """One stored array, memory-mapped when large, checked against its manifest entry."""
    path = directory / str(spec["file"])
    if path.parent != directory:
        raise StoreCorrupt(f"corrupt: array file name {spec['file']!r}")
    size = path.stat().st_size
    mapped = size >= MMAP_MIN_BYTES
    try:
        if mapped:
            array, offset = _map_npy(path, size)
        else:
            array, offset = np.load(path, allow_pickle=False), 0
    except StoreCorrupt:
        raise
    except Exception as exc:
        raise StoreCorrupt(f"corrupt: {path.name}: {exc}") from None
    if array.dtype.str != spec["dtype"] or list(array.shape) != list(spec["shape"]):
        raise StoreCorrupt(
            f"corrupt: {path.name} holds {array.dtype.str}{list(array.shape)}, "
            f"expected {spec['dtype']}{spec['shape']}"
        )
    if verify == "full":
        # A mapped array is checked by reading the file, not through the map: the pages
        # then sit in the page cache without counting in this process's RSS.
        crc = _file_crc32(path, offset) if mapped else _crc32(array)
        if crc != spec["crc32"]:
            raise StoreCorrupt(f"corrupt: {path.name} does not match its CRC-32")
    return array


def _map_npy(path: Path, size: int) -> tuple[np.ndarray, int]:
    """A read-only array over the ``.npy`` file's data, mapped for random access.

    Tests binary-search a sorted reference at a few hundred points; ``MADV_RANDOM`` stops
    the kernel reading ahead around each of them when the file is not in the page cache
    (after a reboot). The header is checked here, and the file's size against it, before
    anything is mapped.
    """
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise StoreCorrupt(f"corrupt: {path.name}: .npy format {version}")
        offset = handle.tell()
        if dtype.hasobject:
            raise StoreCorrupt(f"corrupt: {path.name} holds Python objects")
        expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if size != expected:
            raise StoreCorrupt(f"corrupt: {path.name} is {size} bytes, expected {expected}")
        region = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mmap, "MADV_RANDOM"):
        region.madvise(mmap.MADV_RANDOM)
    _MAPPED.add(region)
    array = np.ndarray(shape, dtype, buffer=region, offset=offset, order="F" if fortran else "C")
    return array, offset


def release_mapped_pages() -> None:
    """Drop the pages of every mapped store array from this process's RSS.

    A check touches the sorted reference where its values fall, and each touched page of
    a mapped file counts in the RSS until unmapped: a 10M-row reference would count 2 GB
    after one check. The pages stay in the page cache (the next check finds them there);
    only the daemon's resident set forgets them. Called when the daemon goes idle.
    """
    if not hasattr(mmap, "MADV_DONTNEED"):
        return
    for region in list(_MAPPED):
        try:
            region.madvise(mmap.MADV_DONTNEED)
        except (ValueError, OSError):  # closed meanwhile
            continue


def _crc32(array: np.ndarray) -> int:
    """CRC-32 of the array's bytes, in chunks (zlib releases the GIL on each)."""
    flat = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    crc = 0
    for start in range(0, flat.size, _CRC_CHUNK):
        crc = zlib.crc32(flat[start : start + _CRC_CHUNK].data, crc)
    return crc


def _file_crc32(path: Path, offset: int) -> int:
    """CRC-32 of a file from ``offset`` to its end, read in chunks into one buffer."""
    buffer = bytearray(_CRC_CHUNK)
    view = memoryview(buffer)
    crc = 0
    with open(path, "rb", buffering=0) as handle:
        handle.seek(offset)
        while count := handle.readinto(buffer):
            crc = zlib.crc32(view[:count], crc)
    return crc


def _digest(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _as_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """The fingerprint as it reads back from JSON (tuples become lists)."""
    result: dict[str, Any] = json.loads(json.dumps(_json_value(dict(value)), sort_keys=True))
    return result


def _json_value(value: Any) -> Any:
    """A field value as JSON: numpy scalars as Python numbers, containers recursively."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} field as JSON")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
