"""The training-set rule: holdout = newest labelled rows, never trained on; caps; columns; file choice."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.config.model import RetrainConfig, Settings, WatchConfig
from driftwarden.errors import InputFileError
from driftwarden.remediation import dataset


def frame(n: int, start: int = 0, target: bool = True) -> pd.DataFrame:
    """Rows with a unique id in column ``a`` so tests can tell rows apart."""
    data = {"a": np.arange(start, start + n), "b": np.arange(start, start + n) * 0.5}
    if target:
        data["target"] = np.arange(start, start + n) % 2
    return pd.DataFrame(data)


def test_holdout_is_the_newest_labelled_rows_and_never_in_training() -> None:
    cfg = RetrainConfig(holdout_fraction=0.3, reference_share=1.0)
    drops = [(Path("old.csv"), frame(10, 100)), (Path("new.csv"), frame(10, 200))]
    result = dataset.assemble(frame(50), drops, "target", cfg)
    n_holdout = math.ceil(0.3 * 20)
    assert list(result.holdout["a"]) == list(range(210 - n_holdout, 210))
    assert not set(result.holdout["a"]) & set(result.train["a"])
    assert len(result.train) == 50 + 20 - n_holdout
    assert result.labelled_train_rows == 20 - n_holdout


def test_reference_rows_equal_to_a_holdout_row_are_removed() -> None:
    cfg = RetrainConfig(holdout_fraction=0.5, reference_share=1.0)
    drop = frame(10, 100)
    reference = pd.concat([frame(20), drop.iloc[5:]], ignore_index=True)  # champion trained on them
    result = dataset.assemble(reference, [(Path("d.csv"), drop)], "target", cfg)
    assert set(result.holdout["a"]) == set(range(105, 110))
    assert not set(result.holdout["a"]) & set(result.train["a"])
    assert result.reference_rows == 20


def test_reference_share_caps_reference_rows() -> None:
    cfg = RetrainConfig(holdout_fraction=0.2, reference_share=0.25)
    result = dataset.assemble(frame(1000), [(Path("d.csv"), frame(100, 5000))], "target", cfg)
    labelled = 80
    assert result.labelled_train_rows == labelled
    assert result.reference_rows == math.floor(0.25 / 0.75 * labelled)
    share = result.reference_rows / len(result.train)
    assert share <= 0.25


def test_reference_alone_when_there_are_no_labelled_rows() -> None:
    cfg = RetrainConfig(reference_share=0.0)
    result = dataset.assemble(frame(120), [], "target", cfg)
    assert len(result.train) == 120
    assert len(result.holdout) == 0


def test_max_rows_keeps_newest_labelled_rows_and_samples_reference_reproducibly() -> None:
    cfg = RetrainConfig(holdout_fraction=0.1, max_rows=100, reference_share=0.5)
    drops = [(Path("d.csv"), frame(300, 1000))]
    first = dataset.assemble(frame(500), drops, "target", cfg)
    second = dataset.assemble(frame(500), drops, "target", cfg)
    assert len(first.train) == 100
    labelled = first.train[first.train["a"] >= 1000]["a"]
    assert list(labelled) == list(range(1170, 1270))  # the newest 100 outside the 30-row holdout
    pd.testing.assert_frame_equal(first.train, second.train)


def test_max_rows_leaves_room_for_reference_when_labelled_rows_are_few() -> None:
    cfg = RetrainConfig(holdout_fraction=0.5, max_rows=100, reference_share=0.9)
    result = dataset.assemble(frame(500), [(Path("d.csv"), frame(20, 1000))], "target", cfg)
    assert len(result.train) == 100
    assert result.reference_rows == 90


def test_drop_without_a_reference_column_is_skipped_and_extra_columns_dropped() -> None:
    cfg = RetrainConfig(reference_share=1.0)
    lacking = frame(10, 100).drop(columns=["b"])
    extra = frame(10, 200).assign(z=1)
    result = dataset.assemble(
        frame(30), [(Path("lacking.csv"), lacking), (Path("extra.csv"), extra)], "target", cfg
    )
    assert "lacking.csv" in result.skipped_files
    assert "'b'" in result.skipped_files["lacking.csv"]
    assert list(result.train.columns) == ["a", "b", "target"]
    assert result.labelled_files == [Path("extra.csv")]


def test_reference_without_target_is_an_error_naming_the_column() -> None:
    with pytest.raises(InputFileError, match="target"):
        dataset.assemble(frame(10, target=False), [], "target", RetrainConfig())


def test_read_labelled_takes_newest_files_holding_the_target(tmp_path: Path) -> None:
    paths = []
    for i in range(4):
        path = tmp_path / f"drop{i}.csv"
        frame(5, i * 10).to_csv(path, index=False)
        os.utime(path, (1000 + i, 1000 + i))
        paths.append(path)
    unlabelled = tmp_path / "unlabelled.csv"
    frame(5, 99, target=False).to_csv(unlabelled, index=False)
    os.utime(unlabelled, (2000, 2000))
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"")
    os.utime(broken, (3000, 3000))
    chosen, skipped = dataset.read_labelled([*paths, unlabelled, broken], "target", recent=2)
    assert [p.name for p, _ in chosen] == ["drop2.csv", "drop3.csv"]  # oldest first
    assert set(skipped) == {str(unlabelled), str(broken)}


def test_rows_without_label_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,target\n1,2,0\n3,4,\n5,6,1\n")
    chosen, _ = dataset.read_labelled([path], "target", recent=5)
    assert list(chosen[0][1]["a"]) == [1, 5]


def test_labelled_candidates_look_in_processed_folders(tmp_path: Path) -> None:
    watched = tmp_path / "drops"
    processed = watched / "processed"
    processed.mkdir(parents=True)
    (watched / "pending.csv").write_text("a,target\n1,0\n")
    for i, name in enumerate(["x.csv", "y.parquet", "notes.txt"]):
        (processed / name).write_text("a,target\n1,0\n")
        os.utime(processed / name, (1000 + i, 1000 + i))
    settings = Settings(watch=WatchConfig(paths=[watched]))
    assert [p.name for p in dataset.labelled_candidates(settings)] == ["y.parquet", "x.csv"]
    settings.watch.on_success = "keep"
    assert "pending.csv" in [p.name for p in dataset.labelled_candidates(settings)]


def test_write_puts_both_csvs_in_the_directory(tmp_path: Path) -> None:
    result = dataset.assemble(
        frame(30), [(Path("d.csv"), frame(10, 100))], "target", RetrainConfig()
    )
    dataset.write(result, tmp_path / "cycle")
    assert result.train_path is not None and result.holdout_path is not None
    pd.testing.assert_frame_equal(pd.read_csv(result.train_path), result.train, check_dtype=False)
    assert len(pd.read_csv(result.holdout_path)) == len(result.holdout)
