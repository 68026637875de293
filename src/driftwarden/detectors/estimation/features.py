"""Features as a float matrix for the domain classifier and the loss model.

Numeric columns stay numbers (NaN allowed: the tree models route missing values);
other columns become the index of their value among the evaluation set's categories
(unseen values and nulls: NaN). Fitted on the evaluation set once, applied to every batch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftwarden.detectors.base import category_counts

# Categories beyond this many (the rarest) share one code.
MAX_CATEGORIES = 250


class FeatureEncoder:
    """Column order and category codes learned from the evaluation set."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.columns = [str(c) for c in frame.columns]
        self._codes: dict[str, dict[str, float]] = {}
        for column in self.columns:
            series = frame[column]
            if _numeric(series):
                continue
            counts, _ = category_counts(series)
            ranked = sorted(counts, key=lambda k: (-counts[k], k))
            codes = {name: float(i) for i, name in enumerate(ranked[:MAX_CATEGORIES])}
            rare = float(MAX_CATEGORIES)
            codes.update({name: rare for name in ranked[MAX_CATEGORIES:]})
            self._codes[column] = codes

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows, columns) floats; a column the frame lacks is all NaN."""
        out = np.full((len(frame), len(self.columns)), np.nan)
        for j, column in enumerate(self.columns):
            if column not in frame.columns:
                continue
            series = frame[column]
            if column in self._codes:
                keys = series.map(lambda v: None if pd.isna(v) else _key(v))
                out[:, j] = keys.map(self._codes[column]).to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
            else:
                values = pd.to_numeric(series, errors="coerce")
                out[:, j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
        out[~np.isfinite(out)] = np.nan
        return out


def _numeric(series: pd.Series) -> bool:
    return bool(
        pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    )


def _key(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
