"""A Parquet reference prepared column by column equals the in-memory preparation, bit for bit."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.model import DriftConfig
from driftwarden.data.prepare_stream import prepare_parquet
from driftwarden.data.read import read_frame
from driftwarden.data.version import data_version
from driftwarden.detectors import PreparedReference, check_drift
from driftwarden.detectors.prepared import PreparedColumn
from tests.data.frames import mixed_frame


def assert_same_column(a: PreparedColumn, b: PreparedColumn) -> None:
    assert type(a) is type(b)
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray) and x.dtype == y.dtype, field.name
            assert np.array_equal(x, y), (a.name, field.name)
        else:
            assert x == y, (a.name, field.name)


def assert_same_reference(a: PreparedReference, b: PreparedReference) -> None:
    for attr in ("columns", "tested", "profiles", "findings", "n_rows", "target", "data_version"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert list(a.profiles) == list(b.profiles)  # schema findings come out in this order
    for name in a.tested:
        assert_same_column(a.column(name), b.column(name))


def in_memory(path: Path, cfg: DriftConfig, target: str | None) -> PreparedReference:
    frame = read_frame(path)
    target = target if target in frame.columns else None
    return PreparedReference.from_frame(frame, cfg, target, data_version(frame))


CONFIGS: list[dict[str, Any]] = [
    {},
    {"categorical_columns": ["whole", "gaps", "ints"]},
    {"columns": ["x", "text", "absent", "when"], "exclude_columns": ["text"]},
]


@pytest.mark.parametrize("settings", CONFIGS)
@pytest.mark.parametrize("batch_rows", [37, 1 << 20])
def test_streamed_preparation_equals_from_frame(
    tmp_path: Path, settings: dict[str, Any], batch_rows: int
) -> None:
    path = tmp_path / "reference.parquet"
    frame = mixed_frame(2000, seed=len(settings))
    frame.to_parquet(path, row_group_size=300)
    cfg = DriftConfig(**settings)
    streamed = prepare_parquet(path, cfg, target="label", batch_rows=batch_rows)
    expected = in_memory(path, cfg, "label")
    assert_same_reference(streamed, expected)
    current = mixed_frame(700, seed=9)
    current["x"] = current["x"] + 0.3
    assert (
        check_drift(streamed, current, cfg).to_dict()
        == check_drift(expected, current, cfg).to_dict()
    )


def test_the_mmd_sample_holds_the_same_rows(tmp_path: Path) -> None:
    path = tmp_path / "reference.parquet"
    mixed_frame(3000, seed=4).to_parquet(path, row_group_size=250)
    cfg = DriftConfig(mmd={"enabled": True, "max_samples": 200, "seed": 3})
    streamed = prepare_parquet(path, cfg, batch_rows=111)
    expected = in_memory(path, cfg, None)
    names = [n for n in expected.tested if expected.profiles[n].numeric]
    assert np.array_equal(streamed.mmd_sample(names), expected.mmd_sample(names), equal_nan=True)


def test_a_sink_that_writes_columns_away_keeps_none(tmp_path: Path) -> None:
    path = tmp_path / "reference.parquet"
    mixed_frame(500).to_parquet(path, row_group_size=100)
    seen: list[str] = []

    def sink(column: PreparedColumn) -> None:
        seen.append(column.name)

    outline = prepare_parquet(path, DriftConfig(), sink=sink)
    assert seen == outline.tested and outline.prepared_columns == {}


def test_without_the_version_nothing_untested_is_read(tmp_path: Path) -> None:
    path = tmp_path / "reference.parquet"
    mixed_frame(500).to_parquet(path, row_group_size=100)
    cfg = DriftConfig(columns=["x"])
    streamed = prepare_parquet(path, cfg, with_version=False)
    assert streamed.data_version is None and streamed.tested == ["x"]
    assert_same_column(streamed.column("x"), in_memory(path, cfg, None).column("x"))


def test_a_reference_bigger_than_one_batch_of_each_kind_sorts_as_a_whole(tmp_path: Path) -> None:
    """Numeric values from many row groups end up in one sorted array with the fence."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"v": rng.normal(size=150_000), "n": rng.integers(0, 50, 150_000)})
    path = tmp_path / "reference.parquet"
    frame.to_parquet(path, row_group_size=20_000)
    streamed = prepare_parquet(path, DriftConfig(), batch_rows=7_000)
    column = streamed.column("v")
    assert column.fence is not None  # type: ignore[union-attr]
    assert_same_reference(streamed, in_memory(path, DriftConfig(), None))
