"""Category counts accumulated batch by batch, equal to counting the whole column at once.

A reference too big for memory is read in batches; its category counts must still be
exactly ``category_counts`` of the whole column. Counting each batch and adding works for
every dtype but one: ``category_counts`` names the values of a float column ``"1"``,
``"2"`` when every value in the column is a whole number and ``"1.0"``, ``"2.5"``
otherwise, a choice that depends on the whole column. Float batches are therefore
counted by value and named once at the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftwarden.detectors.base import category_counts


class CategoryTally:
    """``category_counts`` of a column given in batches (all of one dtype)."""

    def __init__(self) -> None:
        self._named: dict[str, int] = {}
        self._by_value: dict[float, int] = {}  # float batches, named in ``result``
        self._n_null = 0

    def add(self, batch: pd.Series) -> None:
        """Count one batch."""
        if pd.api.types.is_float_dtype(batch.dtype):
            counts = batch.value_counts(dropna=True, sort=False)
            self._n_null += int(len(batch) - int(counts.sum()))
            for value, count in zip(counts.index, counts.to_numpy(), strict=True):
                self._by_value[value] = self._by_value.get(value, 0) + int(count)
            return
        counts_named, n_null = category_counts(batch)
        self._n_null += n_null
        for name, count in counts_named.items():
            self._named[name] = self._named.get(name, 0) + count

    def result(self) -> tuple[dict[str, int], int]:
        """Counts per category and the number of nulls, as ``category_counts`` would give."""
        out = dict(self._named)
        names = _float_names(list(self._by_value))
        for name, count in zip(names, self._by_value.values(), strict=True):
            out[name] = out.get(name, 0) + count
        return out, self._n_null


def _float_names(values: list[float]) -> list[str]:
    """Distinct float values named as ``category_counts`` names them: as integers when all are."""
    series = pd.Series(values, dtype=np.float64)
    if len(series) and bool((series == np.floor(series)).all()) and bool(np.isfinite(series).all()):
        series = series.astype("Int64")
    return [str(value) for value in series]
