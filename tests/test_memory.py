"""Memory handed back when the daemon goes idle: touched pages of mapped references too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.model import DriftConfig
from driftwarden.data.prepared_store import PreparedStore
from driftwarden.detectors import PreparedReference
from driftwarden.detectors.prepared import NumericColumn
from driftwarden.memory import IdleRelease, release_memory


def _rss_file_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    raise AssertionError("no RssFile in /proc/self/status")


def test_touched_pages_of_a_mapped_reference_leave_the_rss(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=1_000_000) for i in range(4)})
    prepared = PreparedReference.from_frame(frame, DriftConfig(), data_version="v")
    store = PreparedStore(tmp_path)
    store.save("k", prepared, {"source": "test"})
    del prepared, frame
    loaded = store.load("k", {"source": "test"}, verify="quick")
    assert loaded is not None
    columns = [loaded.column(n) for n in loaded.tested]
    arrays = [c.sorted for c in columns if isinstance(c, NumericColumn)]
    assert len(arrays) == 4 and all(not a.flags.owndata for a in arrays)  # mapped
    before = _rss_file_kib()
    total = sum(float(a.sum()) for a in arrays)  # touches every page: 32 MB of maps
    touched = _rss_file_kib()
    assert touched - before > 24_000
    release_memory()
    assert touched - _rss_file_kib() > 24_000
    assert sum(float(a.sum()) for a in arrays) == total  # read back from the file, unchanged


def test_idle_releases_once_after_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import driftwarden.memory as memory

    calls: list[int] = []
    monkeypatch.setattr(memory, "release_memory", lambda: calls.append(1))
    release = IdleRelease()
    release.idle()
    assert calls == []  # nothing done: nothing to give back
    release.worked()
    release.idle()
    release.idle()
    assert calls == [1]
