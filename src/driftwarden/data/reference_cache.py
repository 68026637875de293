"""The prepared reference for a model version (or a reference file): from the store, or made.

What the daemon calls when it needs the reference for model version V, at start or
when the registry moves: a stored preparation made from the same source with the same
settings is memory-mapped (milliseconds, whatever the size); otherwise the reference is
prepared, a Parquet file streamed column by column, a CSV read whole, stored, and
returned.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftwarden.config.model import DriftConfig
from driftwarden.data.parquet_columns import PARQUET_SUFFIXES
from driftwarden.data.prepare_stream import prepare_parquet
from driftwarden.data.prepared_store import FORMAT_VERSION, PreparedStore, Verify
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.detectors.effect import EXACT_WASSERSTEIN_MAX, PSI_BINS, QUANTILE_POINTS
from driftwarden.detectors.ks import FENCE_FROM, FENCE_STEP
from driftwarden.detectors.prepared import PreparedReference

log = logging.getLogger(__name__)


def reference_fingerprint(cfg: DriftConfig, target: str | None, source: str) -> dict[str, Any]:
    """What a preparation depends on: the source, the settings that choose and shape the
    columns, and the preparation's own constants (a change to any makes a store stale)."""
    mmd = cfg.mmd
    return {
        "format": FORMAT_VERSION,
        "source": source,
        "target": target,
        "columns": cfg.columns,
        "exclude_columns": sorted(cfg.exclude_columns),
        "categorical_columns": cfg.categorical_columns,
        "mmd": {"max_samples": mmd.max_samples, "seed": mmd.seed} if mmd.enabled else None,
        "constants": {
            "fence_step": FENCE_STEP,
            "fence_from": FENCE_FROM,
            "quantile_points": QUANTILE_POINTS,
            "exact_wasserstein_max": EXACT_WASSERSTEIN_MAX,
            "psi_bins": PSI_BINS,
        },
    }


def file_source(path: str | os.PathLike[str]) -> str:
    """A reference file's identity without reading it: its path, size and modification time."""
    p = Path(path).resolve()
    stat = p.stat()
    return f"file:{p}:{stat.st_size}:{stat.st_mtime_ns}"


def load_or_prepare(
    store: PreparedStore,
    key: str,
    source: str,
    fetch: Callable[[], Path],
    cfg: DriftConfig,
    target: str | None = None,
    *,
    verify: Verify = "full",
    max_bytes: int | None = None,
) -> PreparedReference:
    """The prepared reference for ``key``: loaded from ``store``, or prepared and stored.

    Args:
        store: the store (``PreparedStore(<state directory>/prepared)``).
        key: what the reference is for, e.g. ``"model:churn:7"`` or ``"file:reference"``.
        source: the identity of the data, e.g. the model version's run id, or
            ``file_source(path)``; a stored preparation of another source is stale.
        fetch: returns the local reference file (downloads it); called only when the
            store has no usable preparation.
        cfg: the ``[drift]`` settings.
        target: ``model.target`` (ignored when the reference lacks that column).
        verify: how a stored preparation is checked before use (``PreparedStore.read``).
        max_bytes: refuse a bigger reference file.

    Raises:
        InputFileError: the fetched file cannot be read as a reference.
    """
    fingerprint = reference_fingerprint(cfg, target, source)
    started = time.perf_counter()
    found = store.read(key, fingerprint, verify)
    if found.reference is not None:
        log.info(
            "prepared reference loaded",
            extra={"key": key, "seconds": round(time.perf_counter() - started, 3)},
        )
        return found.reference
    path = Path(fetch())
    started = time.perf_counter()
    try:
        prepared = _prepare_into(store, key, fingerprint, path, cfg, target, max_bytes)
    except OSError as exc:  # the store cannot be written (disk full, permissions)
        log.warning(
            "prepared reference not stored; kept in memory",
            extra={"key": key, "store": str(store.directory), "error": str(exc)},
        )
        prepared = _prepare_in_memory(path, cfg, target, max_bytes)
    log.info(
        "reference prepared",
        extra={
            "key": key,
            "rows": prepared.n_rows,
            "seconds": round(time.perf_counter() - started, 3),
            "previous": found.problem,
        },
    )
    return prepared


def _prepare_into(
    store: PreparedStore,
    key: str,
    fingerprint: dict[str, Any],
    path: Path,
    cfg: DriftConfig,
    target: str | None,
    max_bytes: int | None,
) -> PreparedReference:
    if path.suffix.lower() not in PARQUET_SUFFIXES:
        prepared = _prepare_in_memory(path, cfg, target, max_bytes)
        store.save(key, prepared, fingerprint)
        return prepared
    with store.writer(key, fingerprint) as writer:
        # Each column is written as soon as it is prepared and let go: the result holds
        # the profile and findings only, and the columns come back memory-mapped.
        outline = prepare_parquet(path, cfg, target, sink=writer.add, max_bytes=max_bytes)
        writer.commit(outline)
    loaded = store.read(key, fingerprint, verify="quick")
    if loaded.reference is None:  # written a moment ago: only a failing disk gets here
        raise OSError(f"the prepared reference just written cannot be read: {loaded.problem}")
    return loaded.reference


def _prepare_in_memory(
    path: Path, cfg: DriftConfig, target: str | None, max_bytes: int | None
) -> PreparedReference:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return prepare_parquet(path, cfg, target, max_bytes=max_bytes)
    frame = read_frame(path, max_bytes=max_bytes)
    target = target if target in frame.columns else None
    return PreparedReference.from_frame(frame, cfg, target, data_version(frame))
