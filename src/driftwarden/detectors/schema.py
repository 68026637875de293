"""Schema and data-quality checks that run before any test: columns, types, null rates."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from driftwarden.detectors.base import SchemaFinding, null_count
from driftwarden.errors import InputFileError


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


def frame_findings(
    reference_columns: list[str], current: pd.DataFrame, ignored: set[str]
) -> list[SchemaFinding]:
    """Columns missing from the batch, then columns the reference does not have."""
    present = set(current.columns)
    findings = [
        SchemaFinding(column, "missing_column", "error", "column missing from the current batch")
        for column in reference_columns
        if column not in present and column not in ignored
    ]
    known = set(reference_columns) | ignored
    findings += [
        SchemaFinding(str(column), "extra_column", "warning", "column not in the reference")
        for column in current.columns
        if column not in known
    ]
    return findings


def column_findings(
    column: str,
    profile: ColumnProfile,
    series: pd.Series,
    rows: int,
    null_rate_tolerance: float,
) -> list[SchemaFinding]:
    """A type change and a null-rate move of one column present in the batch.

    Per column, so that ``check_drift`` runs it beside the column's test on a worker thread.
    """
    findings: list[SchemaFinding] = []
    rate = null_count(series) / rows if rows else 0.0
    family = dtype_family(series.dtype)
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
    if rows and rate == 1.0:
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


def admit_frame(
    frame: pd.DataFrame, tested: Sequence[str], numeric: Collection[str], path: str
) -> pd.DataFrame:
    """Reject a batch whose columns cannot be tested; raise InputFileError naming the column.

    Every tested reference column must be present; a column numeric in the reference must
    parse as numbers (text such as ``"abc"`` is an error, blanks are missing values).
    Returns the frame with such columns converted to numbers. The ``check`` command and
    the daemon's admission of a drop share this rule, so both refuse the same files.

    Args:
        frame: the batch.
        tested: the reference columns under test (``PreparedReference.tested``).
        numeric: those of them that are numeric in the reference.
        path: the file (or a description of the batch) named in the error.
    """
    missing = [c for c in tested if c not in frame.columns]
    if missing:
        raise InputFileError(
            path,
            f"missing column(s) {missing}; expected the reference columns {list(tested)}",
            field=missing[0],
        )
    converted: dict[str, Any] = {}
    for column in [c for c in tested if c in numeric]:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        bad = values[numbers.isna() & values.notna() & (values.astype(str).str.strip() != "")]
        if len(bad):
            raise InputFileError(
                path,
                f"non-numeric value {str(bad.iloc[0])[:50]!r} in {len(bad)} row(s); "
                "expected numbers as in the reference",
                field=column,
            )
        converted[column] = numbers
    return frame.assign(**converted) if converted else frame
