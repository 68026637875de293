"""Values a check cannot use: ±inf, and columns with no value at all.

The drift tests leave such values out, but the model does not: scikit-learn refuses an
input with inf or NaN with a ``ValueError`` deep inside validation, after the drift result
was already queued for MLflow. A drop is refused for them up front instead, with a reason
that names the column.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from driftwarden.data.quoting import quote_names
from driftwarden.errors import InputFileError


def refuse_infinite(frame: pd.DataFrame, path: str) -> None:
    """Raise InputFileError naming the first float column that holds +inf or -inf."""
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_float_dtype(series.dtype):
            continue
        values = series.to_numpy(dtype=float, na_value=np.nan)
        infinite = np.isinf(values)
        if infinite.any():
            row = int(np.argmax(infinite))
            raise InputFileError(
                path,
                f"{int(infinite.sum())} infinite value(s), the first {values[row]} in data row "
                f"{row + 1}; expected finite numbers",
                field=str(column),
            )


def refuse_empty(frame: pd.DataFrame, columns: Iterable[str], path: str) -> None:
    """Raise InputFileError when one of ``columns`` (those present) has no value in any row."""
    empty = [c for c in columns if c in frame.columns and bool(frame[c].isna().all())]
    if empty:
        others = f" (so are {quote_names(empty[1:])})" if len(empty) > 1 else ""
        raise InputFileError(
            path,
            f"every value is missing in all {len(frame)} rows{others}; expected values as in "
            "the reference",
            field=empty[0],
        )
