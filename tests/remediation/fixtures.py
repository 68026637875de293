"""Shared helpers for the remediation tests: concept data, config files, project paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_PROJECT = REPO / "examples" / "model_project"
FAULTS_PROJECT = Path(__file__).resolve().parent / "projects" / "faults"
FEATURES = ["x0", "x1", "x2", "x3"]


def concept_frame(n: int, seed: int, concept: str) -> pd.DataFrame:
    """Gaussian features; concept 'a': target = x0 + x1 > 0, concept 'b': target = x0 - x1 > 0.

    The two concepts agree on half the space and disagree on the other half, so a model
    of concept 'a' scores about 0.5 on concept 'b' data with the same feature distribution:
    a pure concept shift, invisible to a drift test on the features.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    frame = pd.DataFrame(x, columns=FEATURES)
    sign = 1.0 if concept == "a" else -1.0
    frame["target"] = (frame["x0"] + sign * frame["x1"] > 0).astype("int64")
    return frame


def write_drops(folder: Path, count: int, rows: int, seed: int, concept: str) -> list[Path]:
    """``count`` labelled CSV drops with increasing modification times."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"drop-{seed}-{i}.csv"
        concept_frame(rows, seed + i, concept).to_csv(path, index=False)
        stamp = 1_700_000_000 + i
        import os

        os.utime(path, (stamp, stamp))
        paths.append(path)
    return paths


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """A TOML config file from ``{section: {key: value}}``; dotted section names nest."""
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
