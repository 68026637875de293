"""`driftwarden check` with a combining dataset rule: the table says what fired and why."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwarden.cli import main


def _spread_shift(tmp_path: Path) -> tuple[Path, Path]:
    """Four of 12 columns moved by 0.15-0.2 sd (seed 23: no column passes BH alone)."""
    rng = np.random.default_rng(23)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=4000) for i in range(12)})
    shifts = [0.2, 0.15, 0.15, 0.15] + [0.0] * 8
    cur = pd.DataFrame({f"x{i}": rng.normal(s, size=400) for i, s in enumerate(shifts)})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    return tmp_path / "ref.csv", tmp_path / "cur.csv"


def test_table_names_the_likely_source_when_only_the_combination_fires(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref, cur = _spread_shift(tmp_path)
    config = tmp_path / "driftwarden.toml"
    config.write_text('[drift]\nnumeric_test = "ks"\ndataset_rule = "cauchy"\nalpha = 0.005\n')
    assert main(["check", str(ref), str(cur), "--config", str(config), "--fail-on-drift"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("DRIFT: 0 of 12 features drifted")
    assert lines[1].startswith("all columns combined (cauchy): p ")
    assert "likely source: x" in lines[1]
    assert main(["check", str(ref), str(cur), "--config", str(config), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dataset_drift_reason"] == "combined"
    assert data["likely_sources"] and set(data["likely_sources"]) <= {"x0", "x1", "x2", "x3"}
