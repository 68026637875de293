"""Which features of a drift result keep per-feature numbers when there are too many.

A file with thousands of columns must not flood Prometheus (one series per feature and
gauge) nor the ledger (one record per feature and check). Both keep at most
``metrics.max_features`` features per check, chosen by what an on-call person looks at
first: the drifted features, then the ones closest to drifting (smallest corrected
p-value, then smallest raw p-value), then by name so the choice is stable. Features whose
test failed (no p-value) come last. The number left out is reported, never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_MAX_FEATURES = 200


def _p(value: Any) -> float:
    """A p-value for sorting: missing or NaN sorts after every real one."""
    if isinstance(value, int | float) and not math.isnan(value):
        return float(value)
    return math.inf


def priority(row: Mapping[str, Any]) -> tuple[bool, float, float, str]:
    """Sort key: drifted first, then smallest corrected p, then smallest p, then the name."""
    return (
        not row.get("drifted"),
        _p(row.get("p_value_corrected")),
        _p(row.get("p_value")),
        str(row.get("feature")),
    )


def select_features(
    rows: Sequence[Mapping[str, Any]], cap: int
) -> tuple[list[Mapping[str, Any]], int]:
    """The rows to keep (in priority order) and how many were left out.

    Args:
        rows: per-feature rows of a drift result (``DriftResult.to_dict()["features"]``).
        cap: at most this many rows are kept (at least 1).

    Returns:
        ``(kept, left_out)`` with ``len(kept) + left_out == len(rows)``.
    """
    ordered = sorted(rows, key=priority)
    kept = ordered[: max(1, cap)]
    return kept, len(ordered) - len(kept)
