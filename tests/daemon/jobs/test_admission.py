"""Hostile and broken drops through the real file job: quarantined up front, nothing queued.

Each test drops one file into the in-process daemon context (real ledger, outbox, metrics,
reference) and checks the whole outcome: the file lies in quarantine byte for byte, its
reason says what was wrong and where, the ledger says quarantined, and nothing was queued
for MLflow nor any HTML report written for it.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.daemon.intake.files import NameFilter
from driftwarden.data.version import file_digest
from driftwarden.state.paths import state_paths
from driftwarden.tracking.models import ProductionModel
from tests.support.daemon_proc import daemon_config, sample_frame, write_csv
from tests.support.inprocess import InProcessDaemon

_BUILT: list[InProcessDaemon] = []


@pytest.fixture(autouse=True)
def _stop_built() -> Iterator[None]:
    yield
    while _BUILT:
        _BUILT.pop().stop()


class Ctx:
    """The parts of a built (not started) daemon that these tests look at."""

    def __init__(self, daemon: InProcessDaemon) -> None:
        parts = daemon.parts
        self.ledger, self.outbox, self.metrics = parts.ledger, parts.outbox, parts.metrics
        self.reports_dir = state_paths(daemon.settings)["reports"]
        self._keeper = parts.keeper

    def handle(self, path: Path) -> None:
        """The file job, as the worker runs it."""
        self._keeper.files.handle(path)

    def set_model(self, model: ProductionModel) -> None:
        self._keeper.production.set(model)


def make_context(root: Path, **sections: dict[str, object]) -> tuple[Ctx, NameFilter]:
    daemon = InProcessDaemon(daemon_config(root, **sections))  # type: ignore[arg-type]
    _BUILT.append(daemon)
    names = daemon.parts.keeper.files.moves.names()  # the watch's filter, as the job reads it
    return Ctx(daemon), names


STILL_WRITTEN = 'watch.completion = "marker" waits for a marker file'


def _quarantined(ctx: Ctx, path: Path, digest: str) -> str:
    """Assert the whole quarantine outcome for ``path``; return its reason line."""
    drop = path.parent
    moved = drop / "quarantine" / path.name
    assert not os.path.lexists(path) and moved.exists()
    assert file_digest(str(moved)) == digest, "the quarantined file is not the dropped bytes"
    [row] = ctx.ledger.files()
    assert row["status"] == "quarantined" and row["moved"] == 1
    assert ctx.outbox.pending() == 0 and ctx.outbox.peek() == []
    assert ctx.ledger.checks() == []
    assert not ctx.reports_dir.exists() or list(ctx.reports_dir.iterdir()) == []
    value = ctx.metrics.registry.get_sample_value(
        "driftwarden_files_total", {"outcome": "quarantined"}
    )
    assert value == 1
    lines = (drop / "quarantine" / f"{path.name}.reason.txt").read_text().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["file", "quarantined", "reason"]
    assert lines[0] == f"file: {path}"
    return lines[2].removeprefix("reason: ")


def _drop(ctx: Ctx, names: NameFilter, path: Path) -> str:
    digest = file_digest(str(path))
    assert names.is_candidate(path)
    ctx.handle(path)
    return _quarantined(ctx, path, digest)


@pytest.fixture
def with_model(tmp_path: Path) -> tuple[Ctx, NameFilter]:
    """The context with a real scikit-learn model in production, so labelled drops validate.

    The model is fitted here rather than registered in MLflow: what matters is that its
    ``predict`` is scikit-learn's, which raises ``ValueError`` on inf and NaN.
    """
    from sklearn.linear_model import LogisticRegression

    ctx, names = make_context(tmp_path)
    reference = sample_frame(400, seed=1)
    model = LogisticRegression().fit(reference[["x1", "x2"]], reference["target"])
    ctx.set_model(
        ProductionModel("test-model", "1", None, "models:/test-model/1", model, ["x1", "x2"])
    )
    return ctx, names


def test_a_good_labelled_drop_is_validated_with_the_model(
    tmp_path: Path, with_model: tuple[Ctx, NameFilter]
) -> None:
    """The fixture is sound: a clean drop passes drift and validation."""
    ctx, _names = with_model
    path = write_csv(tmp_path / "drop" / "good.csv", sample_frame(200, seed=3))
    ctx.handle(path)
    assert sorted(c["kind"] for c in ctx.ledger.checks()) == ["drift", "validation"]
    assert ctx.outbox.pending() == 2


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_an_infinite_value_is_refused_before_any_check(
    tmp_path: Path, with_model: tuple[Ctx, NameFilter], value: float
) -> None:
    """Was: scikit-learn's ValueError in validation, after the drift run was queued."""
    ctx, names = with_model
    frame = sample_frame(200, seed=3)
    frame.loc[5, "x2"] = value
    reason = _drop(ctx, names, write_csv(tmp_path / "drop" / "inf.csv", frame))
    assert reason == (
        f"column 'x2': 1 infinite value(s), the first {value} in data row 6; "
        "expected finite numbers"
    )


def test_a_column_without_any_value_is_refused_before_any_check(
    tmp_path: Path, with_model: tuple[Ctx, NameFilter]
) -> None:
    ctx, names = with_model
    frame = sample_frame(200, seed=3).assign(x1=np.nan)
    reason = _drop(ctx, names, write_csv(tmp_path / "drop" / "nan.csv", frame))
    assert reason == (
        "column 'x1': every value is missing in all 200 rows; expected values as in the reference"
    )


def test_a_label_column_without_any_label_is_refused_before_any_check(
    tmp_path: Path, with_model: tuple[Ctx, NameFilter]
) -> None:
    """Was: quarantined by validation ("no row has a label") after the drift run was queued."""
    ctx, names = with_model
    frame = sample_frame(200, seed=3).assign(target=np.nan)
    reason = _drop(ctx, names, write_csv(tmp_path / "drop" / "nolabel.csv", frame))
    assert reason.startswith("column 'target': the label column has no label in any row")


def test_a_parquet_drop_with_nested_columns_is_refused(tmp_path: Path) -> None:
    """Was: ``TypeError: unhashable type: 'dict'`` in data_version, retried 3 times."""
    ctx, names = make_context(tmp_path)
    frame = sample_frame(50, seed=3)
    frame["meta"] = [{"source": "app", "n": i} for i in range(50)]
    path = tmp_path / "drop" / "nested.parquet"
    frame.to_parquet(path, index=False)
    reason = _drop(ctx, names, path)
    assert reason.startswith("column 'meta': holds nested values of type 'struct<")


def test_a_100000_column_drop_is_refused_from_its_header(tmp_path: Path) -> None:
    """Issue 10.2: a 1 MB header kept the worker busy for minutes (``/healthz`` 503)."""
    ctx, names = make_context(tmp_path)
    header = ",".join(["x1", "x2", "cat", "target"] + [f"c{i}" for i in range(99_996)])
    path = tmp_path / "drop" / "wide.csv"
    path.write_text(header + "\n" + ",".join(["1"] * 100_000) + "\n")
    reason = _drop(ctx, names, path)
    assert reason == "100000 columns, more than the limit of 1000; not read"


def test_the_column_limit_is_configurable(tmp_path: Path) -> None:
    ctx, names = make_context(tmp_path, watch={"max_columns": 5})
    frame = sample_frame(50, seed=3).assign(a=1, b=2)
    reason = _drop(ctx, names, write_csv(tmp_path / "drop" / "six.csv", frame))
    assert reason == "6 columns, more than the limit of 5; not read"


@pytest.mark.parametrize(("sep", "word"), [(";", "semicolon"), ("\t", "tab")])
def test_another_delimiter_is_named_with_the_header_found(
    tmp_path: Path, sep: str, word: str
) -> None:
    ctx, names = make_context(tmp_path)
    path = tmp_path / "drop" / "semi.csv"
    sample_frame(50, seed=3).to_csv(path, sep=sep, index=False)
    reason = _drop(ctx, names, path)
    found = repr(sep.join(["x1", "x2", "cat", "target"]))
    assert reason == (
        f"missing column(s): the header [{found}] looks {word}-separated; expected a "
        "comma-separated CSV with the reference columns ['x1', 'x2', 'cat']"
    )


def test_missing_columns_name_the_header_found_and_each_column_once(tmp_path: Path) -> None:
    """Was: "missing column(s) [all]; expected the reference columns [all]" (each twice)."""
    ctx, names = make_context(tmp_path)
    frame = sample_frame(50, seed=3).rename(columns={"x2": "X2"})
    reason = _drop(ctx, names, write_csv(tmp_path / "drop" / "typo.csv", frame))
    assert reason == (
        "column 'x2': missing column(s) ['x2'] (1 of the 3 reference columns); "
        "the header has ['x1', 'X2', 'cat', 'target']"
    )
    reason_file = (tmp_path / "drop" / "quarantine" / "typo.csv.reason.txt").read_text()
    assert reason_file.count(str(tmp_path / "drop" / "typo.csv")) == 1


def test_a_headerless_fragment_says_it_was_probably_still_being_written(tmp_path: Path) -> None:
    """The rest of an upload that paused for longer than settle_seconds, written as a new file."""
    ctx, names = make_context(tmp_path)
    text = sample_frame(100, seed=3).to_csv(index=False)
    tail = text[len(text) // 2 :]
    path = tmp_path / "drop" / "upload.csv"
    path.write_text(tail[tail.index("\n") + 1 :])
    reason = _drop(ctx, names, path)
    assert reason.startswith("missing column(s): the first line [")
    assert "looks like data, not a header with the reference columns" in reason
    assert "probably still being written" in reason and STILL_WRITTEN in reason


def test_a_cut_last_row_points_at_marker_completion(tmp_path: Path) -> None:
    ctx, names = make_context(tmp_path)
    text = sample_frame(100, seed=3).to_csv(index=False)
    path = tmp_path / "drop" / "cut.csv"
    path.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 4])
    reason = _drop(ctx, names, path)
    assert reason.startswith("truncated: the last row has 1 of 4 fields and no line end; ")
    assert STILL_WRITTEN in reason


def test_a_gzip_drop_is_read_and_checked(tmp_path: Path) -> None:
    ctx, names = make_context(tmp_path)
    path = tmp_path / "drop" / "batch.csv.gz"
    path.write_bytes(gzip.compress(sample_frame(200, seed=3).to_csv(index=False).encode()))
    assert names.is_candidate(path)
    ctx.handle(path)
    [row] = ctx.ledger.files()
    assert row["status"] == "done"
    assert (tmp_path / "drop" / "processed" / "batch.csv.gz").exists()
    [item] = ctx.outbox.peek()
    assert item.payload["result"]["n_current"] == 200


def test_a_gzip_bomb_is_refused(tmp_path: Path) -> None:
    ctx, names = make_context(tmp_path, watch={"max_unpacked_bytes": 100_000})
    rows = sample_frame(20, seed=3).to_csv(index=False).splitlines(keepends=True)[1:]
    body = "".join(rows) * 2000  # about 1 MB of rows
    path = tmp_path / "drop" / "bomb.csv.gz"
    path.write_bytes(gzip.compress(("x1,x2,cat,target\n" + body).encode()))
    assert path.stat().st_size < 100_000
    reason = _drop(ctx, names, path)
    assert reason == "unpacks to more than 100000 bytes; refused as a possible decompression bomb"


def test_a_hostile_reference_is_quoted_bounded_and_escaped(tmp_path: Path) -> None:
    """Issue 10.9: reasons quoted the reference's header whole (a secret's first line)."""
    names = [f"secret-{i}-" + "s" * 60 + "\nforged: yes\x1b[2J" for i in range(30)]
    reference = pd.DataFrame({n: np.arange(50.0) for n in names})
    reference.to_csv(tmp_path / "reference.csv", index=False)
    ctx, flt = make_context(tmp_path, model={"target": "label"})
    path = write_csv(tmp_path / "drop" / "other.csv", pd.DataFrame({"a": [1.5, 2.5]}))
    reason = _drop(ctx, flt, path)
    assert reason.startswith("missing column(s): none of the reference columns [")
    assert reason.endswith(", +10 more] is in the header ['a']")
    assert "\x1b" not in reason and "forged" not in reason
    assert reason.count("secret-") == 20
    assert max(len(name) for name in re.findall(r"'([^']*)'", reason)) == 40


def test_a_reference_that_leads_to_a_non_data_file_is_a_config_error(tmp_path: Path) -> None:
    """Issue 10.9: ``reference.path`` a ``.csv`` link to ``/etc/shadow`` (here a stand-in)."""
    from driftwarden.config import load_settings
    from driftwarden.daemon.intake.reference import load_file_reference
    from driftwarden.errors import ConfigError

    shadow = tmp_path / "shadow"
    shadow.write_text("root:$y$j9T$secrethash:19700:0:99999:7:::\ndaemon:*:19700::::::\n")
    link = tmp_path / "reference.csv"
    link.symlink_to(shadow)
    settings = load_settings(daemon_config(tmp_path), env={})
    with pytest.raises(ConfigError) as info:
        load_file_reference(settings)
    message = str(info.value)
    assert message.startswith(f"reference.path: {link}: leads to {shadow}, which is not named")
    assert "secrethash" not in message
    link.unlink()
    os.mkfifo(link)
    with pytest.raises(ConfigError, match=r"reference\.csv: is a FIFO, not a regular file"):
        load_file_reference(settings)
