"""A reference frame with every column kind a Parquet reference brings (for the data tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def mixed_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Floats (with NaN, inf), ints (with and without nulls), nullable Int64, bools (with and
    without nulls), strings (with nulls), a categorical, timestamps and a label column."""
    rng = np.random.default_rng(seed)

    def holes(values: np.ndarray, share: float) -> np.ndarray:
        out = values.astype(object)
        out[rng.random(rows) < share] = None
        return out

    gaps = rng.normal(size=rows)
    gaps[rng.random(rows) < 0.1] = np.nan
    gaps[rng.random(rows) < 0.01] = np.inf
    late_nulls = rng.integers(0, 9, rows).astype(float)
    late_nulls[rows - 3 :] = np.nan  # nulls only in the last row group: the dtype is the column's
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "gaps": gaps,
            "ints": rng.integers(-5, 5, rows),
            "late_nulls": pd.array(late_nulls).astype("float64"),
            "nullable": pd.array(holes(rng.integers(0, 4, rows), 0.1), dtype="Int64"),
            "flag": rng.random(rows) < 0.3,
            "flag_holes": pd.array(holes(rng.random(rows) < 0.5, 0.05), dtype="boolean"),
            "text": pd.array(holes(rng.choice(["a", "b", "c"], rows), 0.05), dtype="str"),
            "cat": pd.Categorical(rng.choice(["u", "v", "w"], rows)),
            "whole": rng.integers(0, 3, rows).astype(float),
            "when": pd.date_range("2024-01-01", periods=rows, freq="min"),
            "label": rng.integers(0, 2, rows),
        }
    )
