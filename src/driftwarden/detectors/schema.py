"""Schema and data-quality checks that run before any test: columns, types, null rates."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from driftwarden.detectors.base import SchemaFinding, null_count


@dataclass(frozen=True)
class ColumnProfile:
    """What the reference says one column looks like."""

    dtype: str
    numeric: bool
    null_rate: float


def dtype_family(series: pd.Series | object) -> str:
    """Coarse type family of a series or dtype: int, float, bool, datetime, category or string."""
    dtype = getattr(series, "dtype", series)
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    return "string"


def check_schema(
    reference_columns: list[str],
    profiles: dict[str, ColumnProfile],
    current: pd.DataFrame,
    null_rate_tolerance: float,
    ignored: set[str],
) -> list[SchemaFinding]:
    """Missing/extra columns, type changes and null-rate moves of the current batch.

    Args:
        reference_columns: every column of the reference, in order.
        profiles: the reference profile of each tested column.
        current: the batch being checked.
        null_rate_tolerance: a null rate moving by more than this is reported.
        ignored: columns never reported as extra (e.g. the target).
    """
    findings: list[SchemaFinding] = []
    present = set(current.columns)
    dtypes = current.dtypes
    for column in reference_columns:
        if column not in present and column not in ignored:
            findings.append(
                SchemaFinding(
                    column, "missing_column", "error", "column missing from the current batch"
                )
            )
    known = set(reference_columns) | ignored
    for column in current.columns:
        if column not in known:
            findings.append(
                SchemaFinding(str(column), "extra_column", "warning", "column not in the reference")
            )
    for column, profile in profiles.items():
        if column not in present:
            continue
        rate = null_count(current[column]) / len(current) if len(current) else 0.0
        family = dtype_family(dtypes[column])
        numeric_now = family in ("int", "float")
        if family != profile.dtype and not (profile.numeric and numeric_now):
            lost_numbers = profile.numeric and not numeric_now and rate < 1.0
            findings.append(
                SchemaFinding(
                    column,
                    "dtype_changed",
                    "error" if lost_numbers else "warning",
                    f"type changed from {profile.dtype} to {family}"
                    + ("; non-numeric values are dropped from the test" if lost_numbers else ""),
                    profile.dtype,
                    family,
                )
            )
        if len(current) and rate == 1.0:
            findings.append(
                SchemaFinding(
                    column, "empty_column", "error", "every value is null", profile.null_rate, rate
                )
            )
        elif abs(rate - profile.null_rate) > null_rate_tolerance:
            findings.append(
                SchemaFinding(
                    column,
                    "null_rate_changed",
                    "warning",
                    f"null rate moved from {profile.null_rate:.3f} to {rate:.3f}",
                    profile.null_rate,
                    rate,
                )
            )
    return findings
