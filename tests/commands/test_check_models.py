"""`driftwarden check --model NAME`: a config keeping several models names the one whose
settings (target, drift) the check uses; with a single ``[model]`` the flag may be left out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.cli import main

# x-only tests x alone (its drift.columns); team.y's label column is x, so only y is tested.
MODELS = """
[models.x-only]
[models.x-only.watch]
paths = ["drops/x"]
[models.x-only.drift]
columns = ["x"]

[models.y-only]
name = "team.y"
target = "x"
[models.y-only.watch]
paths = ["drops/y"]
"""


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000)})
    moved = pd.DataFrame({"x": rng.normal(size=800) + 1.0, "y": rng.normal(size=800)})
    paths = {
        "ref": tmp_path / "ref.csv",
        "moved": tmp_path / "moved.csv",
        "models": tmp_path / "models.toml",
        "single": tmp_path / "single.toml",
    }
    ref.to_csv(paths["ref"], index=False)
    moved.to_csv(paths["moved"], index=False)
    paths["models"].write_text(MODELS, encoding="utf-8")
    paths["single"].write_text('[model]\nname = "only"\n[drift]\ncolumns = ["y"]\n')
    return paths


def _check(files: dict[str, Path], config: str, *extra: str) -> int:
    return main(
        [
            "check",
            str(files["ref"]),
            str(files["moved"]),
            "--config",
            str(files[config]),
            "--format",
            "json",
            "--fail-on-drift",
            *extra,
        ]
    )


def test_check_uses_the_named_models_drift_settings(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(files, "models", "--model", "x-only") == 1
    x_only = json.loads(capsys.readouterr().out)
    assert _check(files, "models", "--model", "team.y") == 0
    y_only = json.loads(capsys.readouterr().out)
    assert [f["feature"] for f in x_only["features"]] == ["x"] and x_only["dataset_drift"]
    assert [f["feature"] for f in y_only["features"]] == ["y"] and not y_only["dataset_drift"]


def test_check_refuses_to_guess_among_several_models(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(files, "models") == 2
    err = capsys.readouterr().err
    assert "--model: this config keeps 2 models; name one of ['x-only', 'team.y']" in err
    assert _check(files, "models", "--model", "y-only") == 2  # the table's, not the model's name
    err = capsys.readouterr().err
    assert "--model: 'y-only' is not kept by this config; kept: ['x-only', 'team.y']" in err


def test_with_a_single_model_the_flag_is_optional_and_checked(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(files, "single") == 0  # only y is tested: no drift
    assert _check(files, "single", "--model", "only") == 0
    capsys.readouterr()
    assert _check(files, "single", "--model", "other") == 2
    assert "--model: 'other' is not kept by this config; kept: ['only']" in capsys.readouterr().err
