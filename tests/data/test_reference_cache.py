"""load_or_prepare: the daemon's one call for "the prepared reference of model version V"."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from driftwarden.config.model import DriftConfig
from driftwarden.data.prepared_store import MANIFEST, PreparedStore
from driftwarden.data.read import read_frame
from driftwarden.data.reference_cache import file_source, load_or_prepare
from driftwarden.data.version import data_version
from driftwarden.detectors import PreparedReference, check_drift
from driftwarden.errors import InputFileError
from tests.data.frames import mixed_frame
from tests.data.test_prepare_stream import assert_same_reference


class Fetch:
    """Hands out the reference file and counts how often it was asked for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.calls = 0

    def __call__(self) -> Path:
        self.calls += 1
        return self.path


def _expected(path: Path, cfg: DriftConfig, target: str | None = None) -> PreparedReference:
    frame = read_frame(path)
    return PreparedReference.from_frame(frame, cfg, target, data_version(frame))


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_prepared_once_then_loaded_without_fetching(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"training{suffix}"
    frame = mixed_frame(3000)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, row_group_size=400)
    store, cfg, fetch = PreparedStore(tmp_path / "prepared"), DriftConfig(), Fetch(path)
    first = load_or_prepare(store, "model:churn:7", "run:r1", fetch, cfg, "label")
    second = load_or_prepare(store, "model:churn:7", "run:r1", fetch, cfg, "label")
    assert fetch.calls == 1
    expected = _expected(path, cfg, "label")
    assert_same_reference(first, expected)
    assert_same_reference(second, expected)
    current = mixed_frame(800, seed=3)
    assert (
        check_drift(second, current, cfg).to_dict() == check_drift(expected, current, cfg).to_dict()
    )


def test_another_source_or_other_settings_prepare_again(tmp_path: Path) -> None:
    path = tmp_path / "training.parquet"
    mixed_frame(1000).to_parquet(path)
    store, fetch = PreparedStore(tmp_path / "prepared"), Fetch(path)
    load_or_prepare(store, "model:m:1", file_source(path), fetch, DriftConfig())
    mixed_frame(1200, seed=1).to_parquet(path)  # the file changed: size and mtime differ
    again = load_or_prepare(store, "model:m:1", file_source(path), fetch, DriftConfig())
    assert fetch.calls == 2 and again.n_rows == 1200
    excluded = DriftConfig(exclude_columns=["x"])
    changed = load_or_prepare(store, "model:m:1", file_source(path), fetch, excluded)
    assert fetch.calls == 3 and "x" not in changed.tested
    assert store.keys() == ["model:m:1"]


def test_a_corrupt_store_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "training.parquet"
    mixed_frame(1000).to_parquet(path)
    store, fetch = PreparedStore(tmp_path / "prepared"), Fetch(path)
    load_or_prepare(store, "k", "s", fetch, DriftConfig())
    (store.path("k") / MANIFEST).write_text("garbage")
    with caplog.at_level(logging.WARNING):
        rebuilt = load_or_prepare(store, "k", "s", fetch, DriftConfig())
    assert fetch.calls == 2
    assert_same_reference(rebuilt, _expected(path, DriftConfig()))
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.__dict__["key"] == "k" and warning.__dict__["reason"]  # why it was not used
    assert load_or_prepare(store, "k", "s", fetch, DriftConfig()) is not None and fetch.calls == 2


def test_an_unwritable_store_still_gives_the_reference(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "training.parquet"
    mixed_frame(1000).to_parquet(path)
    blocked = tmp_path / "prepared"
    blocked.write_text("a file where the store's directory should be")
    with caplog.at_level(logging.WARNING):
        prepared = load_or_prepare(PreparedStore(blocked), "k", "s", Fetch(path), DriftConfig())
    assert_same_reference(prepared, _expected(path, DriftConfig()))
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.__dict__["key"] == "k" and warning.__dict__["store"] == str(blocked)
    assert warning.__dict__["error"]  # why it could not be stored


def test_a_bad_reference_file_is_an_input_file_error_and_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "training.parquet"
    path.write_bytes(b"not parquet")
    store = PreparedStore(tmp_path / "prepared")
    with pytest.raises(InputFileError, match="unreadable parquet"):
        load_or_prepare(store, "k", "s", Fetch(path), DriftConfig())
    assert store.keys() == [] and list(store.directory.iterdir()) == []
